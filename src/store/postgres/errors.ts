import { EtlError } from '../../errors/index.js';

/**
 * Which PostgreSQL failures are worth retrying. A job that fails with one of these is retried with
 * backoff (the database restarted, the network blinked, a deadlock picked us as the victim); any
 * other database error is a bug or bad data and retrying would only fail the same way again.
 * Kept as small named tables, after graphile-worker, so the list is easy to review.
 */

/** SQLSTATE classes (first two characters) that are transient as a whole. */
const TRANSIENT_SQLSTATE_CLASSES: Readonly<Record<string, string>> = {
  '08': 'connection_exception',
  '53': 'insufficient_resources',
};

/** Single SQLSTATE codes that are transient. */
const TRANSIENT_SQLSTATES: Readonly<Record<string, string>> = {
  '40001': 'serialization_failure',
  '40P01': 'deadlock_detected',
  '55P03': 'lock_not_available',
  '57P01': 'admin_shutdown',
  '57P02': 'crash_shutdown',
  '57P03': 'cannot_connect_now',
};

/** Node socket and DNS errno codes: the server was unreachable, not wrong. */
const TRANSIENT_ERRNOS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by peer',
  ETIMEDOUT: 'connection timed out',
  EPIPE: 'broken pipe',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'temporary DNS failure',
};

/**
 * node-postgres reports a connection lost under it with these messages and no code: mid-query,
 * or at the next query when the connection died while idle. They are the commonest transient
 * failure there is (a server restart, a failover, a proxy timing out a connection).
 */
const TRANSIENT_MESSAGES: readonly string[] = [
  'Connection terminated unexpectedly',
  'Connection terminated due to connection timeout',
  'Client has encountered a connection error and is not queryable',
];

/** How deep to follow `cause` chains: an EtlError may wrap the driver's error. */
const MAX_CAUSE_DEPTH = 5;

function codeOf(err: object): string | null {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : null;
}

function isTransientOne(err: object): boolean {
  const code = codeOf(err);
  if (code !== null) {
    // Errno first: EPIPE is five capitals too and would pass for a SQLSTATE.
    if (code in TRANSIENT_ERRNOS) return true;
    if (/^[0-9A-Z]{5}$/.test(code))
      return code in TRANSIENT_SQLSTATES || code.slice(0, 2) in TRANSIENT_SQLSTATE_CLASSES;
  }
  const message = (err as { message?: unknown }).message;
  return typeof message === 'string' && TRANSIENT_MESSAGES.some((m) => message.includes(m));
}

/**
 * SQLSTATEs of a server that answered but refused us: the database named in the URL does not
 * exist (3D000), or the user or password was refused (class 28). Not transient (a person must
 * correct DATABASE_URL or the server), but the database being unavailable all the same.
 */
const REFUSED_SQLSTATES: ReadonlySet<string> = new Set(['3D000', '28000', '28P01']);

/** Whether `err` is PostgreSQL refusing the connection itself (unknown database, bad credentials). */
export function isRefusedPostgresError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && REFUSED_SQLSTATES.has(code);
}

/**
 * Whether `err` is a PostgreSQL or network failure that a later attempt may not meet: connection
 * exceptions, lack of resources, deadlock and serialization victims, server shutdown and lock
 * timeouts (by SQLSTATE), and unreachable hosts (by Node errno). Follows `cause` chains and the
 * `errors` of an AggregateError (Node reports a refused IPv4 and IPv6 attempt that way).
 */
export function isTransientPostgresError(err: unknown): boolean {
  const seen = new Set<object>();
  const visit = (e: unknown, depth: number): boolean => {
    if (e === null || typeof e !== 'object' || seen.has(e) || depth > MAX_CAUSE_DEPTH) return false;
    seen.add(e);
    if (isTransientOne(e)) return true;
    const nested = (e as { errors?: unknown }).errors;
    if (Array.isArray(nested) && nested.some((n) => visit(n, depth + 1))) return true;
    return visit((e as { cause?: unknown }).cause, depth + 1);
  };
  return visit(err, 0);
}

/** The first Node errno code (ECONNREFUSED, ENOTFOUND, …) in `err`, its causes and aggregated errors. */
function errnoOf(err: unknown): { code: string; address?: string; port?: number; hostname?: string } | null {
  const seen = new Set<object>();
  const visit = (e: unknown, depth: number): ReturnType<typeof errnoOf> => {
    if (e === null || typeof e !== 'object' || seen.has(e) || depth > MAX_CAUSE_DEPTH) return null;
    seen.add(e);
    const code = codeOf(e);
    if (code !== null && /^E[A-Z_]+$/.test(code)) return e as { code: string };
    for (const n of ((e as { errors?: unknown }).errors as unknown[] | undefined) ?? []) {
      const found = visit(n, depth + 1);
      if (found) return found;
    }
    return visit((e as { cause?: unknown }).cause, depth + 1);
  };
  return visit(err, 0);
}

const HUNG_UP =
  'the server closed the connection before it was ready (PostgreSQL restarting, or a proxy or firewall between)';

/**
 * Why a connection to PostgreSQL failed, in words a person can act on: nothing listening, no such
 * host, no answer in time, or what the server itself said (no such database, the role or password
 * refused, still starting up). Server messages name the database or role, never a password.
 */
export function connectionFailureInWords(err: unknown, connectTimeoutMs: number): string {
  const errno = errnoOf(err);
  if (errno !== null) {
    const where = errno.address ? ` at ${errno.address}${errno.port ? `:${errno.port}` : ''}` : '';
    if (errno.code === 'ECONNREFUSED') return `the connection was refused: nothing is listening${where}`;
    // Reset or closed while connecting: the same hang-up as a clean close, told the same way.
    if (errno.code === 'ECONNRESET' || errno.code === 'EPIPE') return HUNG_UP;
    if (errno.code === 'ENOTFOUND' || errno.code === 'EAI_AGAIN')
      return `the host ${errno.hostname ? `${errno.hostname} ` : ''}was not found`;
    return `${TRANSIENT_ERRNOS[errno.code] ?? errno.code}${where}`;
  }
  const message = (err as { message?: unknown } | null)?.message;
  const text = typeof message === 'string' && message !== '' ? message : 'the connection failed';
  if (/timeout/i.test(text)) return `no answer within ${connectTimeoutMs} ms (ETL_DB_CONNECT_TIMEOUT_MS)`;
  if (TRANSIENT_MESSAGES.some((m) => text.includes(m))) return HUNG_UP;
  const code = (err as { code?: unknown } | null)?.code;
  if (code === '57P03') return `${text}: PostgreSQL is starting up or shutting down; try again in a moment`;
  return text;
}

/**
 * A failure to open a connection as ETL_DB_UNAVAILABLE: where (the URL without user or password)
 * and why in words; the driver's error stays as the cause, so retrying still tells a refused
 * login (not retried) from a server that is down (retried).
 */
export function unavailable(err: unknown, where: string, connectTimeoutMs: number): EtlError {
  // A connection the server refused (no such database, a refused login) stays refused on retry.
  return new EtlError(
    'ETL_DB_UNAVAILABLE',
    `cannot connect to ${where}: ${connectionFailureInWords(err, connectTimeoutMs)}`,
    {
      cause: err,
      retry: !isRefusedPostgresError(err),
    },
  );
}
