import * as client from 'openid-client';

import type { OidcConfig } from '../../config/index.js';
import { coerceError, EtlError } from '../../errors/index.js';
import type { Role } from './tokens.js';

/**
 * The issuer, through openid-client: discovery (read at first use, and again after a failure),
 * the authorisation-code flow with PKCE, state and nonce for the dashboard, and the role a user's
 * claims give. Any OpenID Connect issuer works; Microsoft Entra ID is the one schools use.
 */

/** What a sign-in must carry from /auth/login to /auth/callback (sealed in a short-lived cookie). */
export interface PendingSignIn {
  readonly state: string;
  readonly nonce: string;
  readonly verifier: string;
}

/** Who signed in: the name the ledger records and the role. */
export interface SignedIn {
  readonly sub: string;
  readonly name: string;
  readonly role: Role;
}

export interface OidcClient {
  /** The issuer's metadata and this client, discovered once (a failed discovery is tried again next time). */
  configuration(): Promise<client.Configuration>;
  /** The issuer's JWKS address, for bearer JWTs. */
  jwksUri(): Promise<URL>;
  /** The issuer's identifier, as its discovery document gives it. */
  issuer(): Promise<string>;
  /** The issuer's sign-in page to send a browser to, and what the callback must check. */
  startSignIn(redirectUri: string): Promise<{ url: URL; pending: PendingSignIn }>;
  /** Exchanges the callback's code (PKCE, state, nonce and the ID token checked) for who signed in. */
  finishSignIn(callbackUrl: URL, pending: PendingSignIn): Promise<SignedIn>;
}

/** The name recorded for a user: `oidc:<preferred_username>` (Entra ID: the UPN), else `oidc:<sub>`. */
export function userNameOf(claims: Readonly<Record<string, unknown>>): string {
  const name = [claims.preferred_username, claims.upn, claims.sub].find((c) => typeof c === 'string' && c !== '');
  return `oidc:${String(name ?? 'unknown')}`;
}

/** admin when a `groups` or `roles` claim names one of ETL_OIDC_ADMIN_GROUPS / ETL_OIDC_ADMIN_ROLES; else viewer. */
export function roleOf(claims: Readonly<Record<string, unknown>>, oidc: OidcConfig): Role {
  const list = (claim: unknown): string[] => (Array.isArray(claim) ? claim.filter((x) => typeof x === 'string') : []);
  const groups = list(claims.groups);
  const roles = list(claims.roles);
  const admin = groups.some((g) => oidc.adminGroups.includes(g)) || roles.some((r) => oidc.adminRoles.includes(r));
  return admin ? 'admin' : 'viewer';
}

export function createOidcClient(oidc: OidcConfig): OidcClient {
  let discovered: Promise<client.Configuration> | undefined;
  const configuration = (): Promise<client.Configuration> =>
    (discovered ??= client
      .discovery(
        new URL(oidc.issuer),
        oidc.clientId,
        oidc.clientSecret ?? undefined,
        oidc.clientSecret === null ? client.None() : undefined,
        // http:// is accepted for an issuer on loopback only (loadConfig refuses any other), for tests.
        { execute: oidc.issuer.startsWith('http:') ? [client.allowInsecureRequests] : [], timeout: 10 },
      )
      .catch((err: unknown) => {
        discovered = undefined;
        throw new EtlError(
          'ETL_OIDC_UNAVAILABLE',
          `the OpenID Connect issuer ${oidc.issuer} could not be discovered: ${coerceError(err).message}`,
          { cause: err },
        );
      }));

  const metadata = async (): Promise<client.ServerMetadata> => (await configuration()).serverMetadata();

  return {
    configuration,
    issuer: async () => (await metadata()).issuer,
    jwksUri: async () => {
      const uri = (await metadata()).jwks_uri;
      if (!uri) throw new EtlError('ETL_OIDC_UNAVAILABLE', `the issuer ${oidc.issuer} names no jwks_uri`);
      return new URL(uri);
    },
    startSignIn: async (redirectUri) => {
      const config = await configuration();
      const pending = {
        state: client.randomState(),
        nonce: client.randomNonce(),
        verifier: client.randomPKCECodeVerifier(),
      };
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri,
        scope: 'openid profile',
        response_type: 'code',
        state: pending.state,
        nonce: pending.nonce,
        code_challenge: await client.calculatePKCECodeChallenge(pending.verifier),
        code_challenge_method: 'S256',
      });
      return { url, pending };
    },
    finishSignIn: async (callbackUrl, pending) => {
      const config = await configuration();
      try {
        const tokens = await client.authorizationCodeGrant(config, callbackUrl, {
          pkceCodeVerifier: pending.verifier,
          expectedState: pending.state,
          expectedNonce: pending.nonce,
          idTokenExpected: true,
        });
        const claims = (tokens.claims() ?? {}) as Record<string, unknown>;
        return { sub: String(claims.sub), name: userNameOf(claims), role: roleOf(claims, oidc) };
      } catch (err) {
        // openid-client's messages name the check that failed (state, nonce, the issuer's error), never a token.
        throw new EtlError('ETL_OIDC_SIGNIN_FAILED', `sign-in failed: ${coerceError(err).message}`, { cause: err });
      }
    },
  };
}
