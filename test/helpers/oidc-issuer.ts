import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';

/**
 * A small OpenID Connect issuer on loopback, for the sign-in tests: discovery, a JWKS, an
 * authorize endpoint (a page that lists the test users, or approves one named by `login_hint`)
 * and a token endpoint that checks PKCE and returns an ID token signed with jose. Real HTTP, real
 * signatures: nothing of openid-client or jose is stood in for.
 */

export interface IssuerUser {
  readonly sub: string;
  readonly preferred_username: string;
  readonly groups?: readonly string[];
  readonly roles?: readonly string[];
}

interface SigningKey {
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly jwk: JWK;
}

export interface Issuer {
  /** The issuer identifier, `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly clientId: string;
  /** How many times the JWKS was fetched. */
  readonly jwksFetches: () => number;
  /** A JWT signed with the current key (or `key`): `sub`, `iss`, `aud` (the client id), `iat`, `exp` in an hour, then `claims`. */
  sign(claims?: JWTPayload, options?: { key?: SigningKey; kid?: string }): Promise<string>;
  /** A new key, published beside the old ones and used from now on. */
  rotate(): Promise<void>;
  /** A key this issuer never publishes. */
  foreignKey(): Promise<SigningKey>;
  close(): Promise<void>;
}

async function newKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = randomBytes(6).toString('hex');
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
}

function bodyOf(req: IncomingMessage): Promise<URLSearchParams> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(new URLSearchParams(Buffer.concat(chunks).toString('utf8'))));
  });
}

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export async function startIssuer(options: {
  clientId: string;
  users: Readonly<Record<string, IssuerUser>>;
  /** The port to listen on; default any free one. */
  port?: number;
}): Promise<Issuer> {
  const keys: SigningKey[] = [await newKey()];
  let fetches = 0;
  const codes = new Map<string, { user: IssuerUser; challenge: string; nonce: string; redirect: string }>();
  let url = '';

  const sign = async (claims: JWTPayload = {}, o: { key?: SigningKey; kid?: string } = {}): Promise<string> => {
    const key = o.key ?? keys[keys.length - 1];
    if (!key) throw new Error('no key');
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ iss: url, aud: options.clientId, sub: 'nobody', iat: now, exp: now + 3600, ...claims })
      .setProtectedHeader({ alg: 'RS256', kid: o.kid ?? key.kid, typ: 'JWT' })
      .sign(key.privateKey);
  };

  const server: Server = createServer((req, res) => {
    const at = new URL(req.url ?? '/', url);
    const json = (status: number, body: unknown): void =>
      void res
        .writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' })
        .end(JSON.stringify(body));
    void (async () => {
      if (at.pathname === '/.well-known/openid-configuration')
        return json(200, {
          issuer: url,
          authorization_endpoint: `${url}/authorize`,
          token_endpoint: `${url}/token`,
          jwks_uri: `${url}/jwks`,
          response_types_supported: ['code'],
          subject_types_supported: ['public'],
          id_token_signing_alg_values_supported: ['RS256'],
          code_challenge_methods_supported: ['S256'],
          token_endpoint_auth_methods_supported: ['none'],
        });
      if (at.pathname === '/jwks') {
        fetches += 1;
        return json(200, { keys: keys.map((k) => k.jwk) });
      }
      if (at.pathname === '/authorize') {
        const q = at.searchParams;
        const user = options.users[q.get('login_hint') ?? ''];
        if (q.get('client_id') !== options.clientId || q.get('code_challenge_method') !== 'S256')
          return json(400, { error: 'invalid_request' });
        if (!user) {
          // The sign-in page: one link per user, each this request again with login_hint.
          const links = Object.keys(options.users).map((name) => {
            const next = new URL(at);
            next.searchParams.set('login_hint', name);
            return `<li><a id="as-${escapeHtml(name)}" href="${escapeHtml(next.pathname + next.search)}">Sign in as ${escapeHtml(name)}</a></li>`;
          });
          return void res
            .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
            .end(`<!doctype html><title>Test issuer</title><ul>${links.join('')}</ul>`);
        }
        const code = randomBytes(16).toString('base64url');
        const redirect = q.get('redirect_uri') ?? '';
        codes.set(code, { user, challenge: q.get('code_challenge') ?? '', nonce: q.get('nonce') ?? '', redirect });
        const back = new URL(redirect);
        back.searchParams.set('code', code);
        back.searchParams.set('state', q.get('state') ?? '');
        return void res.writeHead(302, { location: back.href }).end();
      }
      if (at.pathname === '/token' && req.method === 'POST') {
        const form = await bodyOf(req);
        const grant = codes.get(form.get('code') ?? '');
        codes.delete(form.get('code') ?? '');
        const verifier = form.get('code_verifier') ?? '';
        const challenge = createHash('sha256').update(verifier).digest('base64url');
        if (!grant || grant.challenge !== challenge || grant.redirect !== form.get('redirect_uri'))
          return json(400, { error: 'invalid_grant' });
        const { sub, ...claims } = grant.user;
        const idToken = await sign({ sub, nonce: grant.nonce, ...claims });
        return json(200, {
          access_token: await sign({ sub, ...claims }),
          token_type: 'Bearer',
          expires_in: 3600,
          id_token: idToken,
        });
      }
      return json(404, { error: 'not_found' });
    })().catch((err: unknown) => json(500, { error: String(err) }));
  });
  await new Promise<void>((r) => server.listen(options.port ?? 0, '127.0.0.1', () => r()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    clientId: options.clientId,
    jwksFetches: () => fetches,
    sign,
    rotate: async () => void keys.push(await newKey()),
    foreignKey: newKey,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
