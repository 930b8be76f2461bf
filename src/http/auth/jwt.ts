import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from 'jose';

import { coerceError, EtlError } from '../../errors/index.js';

/**
 * Bearer JWTs on the API, checked with jose against the issuer's keys (its JWKS): signature,
 * issuer, audience, expiry and not-before, with a little clock skew allowed. Only asymmetric
 * algorithms: a token signed with a shared secret (HS256) or none at all is refused, whatever its
 * header says.
 */

/** Algorithms an issuer signs with (Entra ID: RS256). */
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

/** Clock difference tolerated between this server and the issuer, in seconds. */
export const CLOCK_TOLERANCE_SECONDS = 60;

export interface JwtVerifierOptions {
  /** The `iss` a token must carry (the discovery document's issuer). */
  readonly issuer: string;
  /** The `aud` a token must carry (ETL_OIDC_AUDIENCE). */
  readonly audience: string;
  /** Where the issuer's keys are (the discovery document's jwks_uri), looked up at first use. */
  readonly jwksUri: () => Promise<URL>;
  /**
   * After fetching the keys, how long (ms) before a token with an unknown key id may fetch them
   * again (jose's cooldown), default 30 s: a rotated key is found then, and a flood of tokens with
   * made-up key ids cannot make this server hammer the issuer.
   */
  readonly cooldownMs?: number;
}

/** Why a token was refused, in words safe to answer with: never the token or its claims. */
function reasonOf(err: unknown): string | null {
  if (err instanceof errors.JWTExpired) return 'it has expired';
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'aud') return 'it is for another audience';
    if (err.claim === 'iss') return 'it is from another issuer';
    if (err.claim === 'nbf') return 'it is not valid yet';
    return `its ${err.claim} claim is not valid`;
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'its signature does not verify';
  if (err instanceof errors.JWKSNoMatchingKey) return "it is signed by a key the issuer's JWKS does not hold";
  if (err instanceof errors.JWKSMultipleMatchingKeys) return 'its key id matches several keys';
  if (err instanceof errors.JOSEAlgNotAllowed) return 'its signing algorithm is not allowed';
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid || err instanceof errors.JOSENotSupported)
    return 'it is not a well-formed signed JWT';
  return null;
}

/** A function that verifies a bearer JWT and gives its claims, or throws ETL_AUTH_TOKEN_INVALID saying why. */
export type JwtVerifier = (token: string) => Promise<JWTPayload>;

export function createJwtVerifier(options: JwtVerifierOptions): JwtVerifier {
  let keys: ReturnType<typeof createRemoteJWKSet> | undefined;
  return async (token) => {
    keys ??= createRemoteJWKSet(await options.jwksUri(), { cooldownDuration: options.cooldownMs ?? 30_000 });
    try {
      const { payload } = await jwtVerify(token, keys, {
        issuer: options.issuer,
        audience: options.audience,
        algorithms: ALGORITHMS,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ['exp', 'sub'],
      });
      return payload;
    } catch (err) {
      const reason = reasonOf(err);
      if (reason !== null) throw new EtlError('ETL_AUTH_TOKEN_INVALID', `the bearer token was refused: ${reason}`);
      // Not the token's fault: the keys could not be fetched or read.
      throw new EtlError('ETL_OIDC_UNAVAILABLE', `the issuer's keys could not be read: ${coerceError(err).message}`, {
        cause: err,
      });
    }
  };
}
