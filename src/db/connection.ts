/**
 * One way to reach PostgreSQL for every part of bgmig (validator, replication, rotation), from the CLI and from
 * the Lambdas: a parsed target (from a URL or an RDS secret), a connection with connect/statement/lock timeouts,
 * and database errors turned into one sentence that never contains a password.
 */
import type pg from 'pg';
import { BgmigError, badInput, messageOf, failure } from '../core/errors.js';
import { scrub } from '../core/redact.js';

export interface DbTarget {
  host: string;
  port: number;
  database: string;
  user: string;
  password: string;
  /** false: plain TCP (local tests); otherwise TLS verifying the server certificate against `ca` (or the system store). */
  ssl: false | { ca?: string | undefined; servername?: string | undefined };
}

export interface ConnectOptions {
  connectTimeoutMs?: number;
  /** Every statement on this connection is bounded (statement_timeout). */
  statementTimeoutMs?: number;
  /** Every lock wait on this connection is bounded (lock_timeout), so no step can hang behind a lock. */
  lockTimeoutMs?: number;
  /**
   * Client-side bound on each query (pg's query_timeout), for what statement_timeout cannot see: a query that never
   * reaches PostgreSQL because a pooler in between holds it (PgBouncer PAUSE) or a server that stopped answering.
   * Off by default, because sessions may raise their statement_timeout for a longer step.
   */
  queryTimeoutMs?: number;
  /** Start each session read-only (validator). */
  readOnly?: boolean;
  applicationName?: string;
}

export const DEFAULT_TIMEOUTS = { connectTimeoutMs: 10_000, statementTimeoutMs: 30_000, lockTimeoutMs: 5_000 } as const;

/** Parses an admin connection URL (postgres:// or postgresql://). sslmode=disable → plain TCP; otherwise TLS. */
export function parseDbUrl(url: string, option: string): DbTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw badInput(`${option} is not a valid connection URL: use postgres://USER:PASSWORD@HOST:PORT/DATABASE.`);
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') {
    throw badInput(`${option} must start with postgres:// or postgresql://, got "${u.protocol}//…".`);
  }
  if (!u.hostname) throw badInput(`${option} has no host: use postgres://USER:PASSWORD@HOST:PORT/DATABASE.`);
  const port = u.port ? Number(u.port) : 5432;
  const database = decodeURIComponent(u.pathname.replace(/^\//, '')) || 'postgres';
  const sslmode = u.searchParams.get('sslmode') ?? (isLoopback(u.hostname) ? 'disable' : 'verify-full');
  if (!['disable', 'require', 'verify-ca', 'verify-full'].includes(sslmode)) {
    throw badInput(`${option} has sslmode=${sslmode}; bgmig supports disable, require, verify-ca and verify-full.`);
  }
  return {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port,
    database,
    user: decodeURIComponent(u.username) || 'postgres',
    password: decodeURIComponent(u.password),
    // bgmig always verifies the certificate when TLS is on: "require" without verification would let a
    // man-in-the-middle read the admin password.
    ssl: sslmode === 'disable' ? false : {},
  };
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\./.test(host);
}

/** The RDS-managed secret JSON shape ({username, password, host, port, dbname}). */
export interface DbSecretValue {
  username: string;
  password: string;
  host?: string;
  port?: number | string;
  dbname?: string;
  engine?: string;
}

export function parseSecretValue(secretString: string, secretName: string): DbSecretValue {
  let v: unknown;
  try {
    v = JSON.parse(secretString);
  } catch {
    throw failure(`Secret ${secretName} is not JSON: it must hold {"username","password",…} as RDS writes it.`);
  }
  const o = v as Partial<DbSecretValue>;
  if (typeof o.username !== 'string' || typeof o.password !== 'string') {
    throw failure(`Secret ${secretName} has no username/password fields: it must hold {"username","password",…}.`);
  }
  return o as DbSecretValue;
}

/** A target from a DB secret; host/port/database may be overridden (e.g. the cluster endpoint from stack outputs). */
export function targetFromSecret(
  secret: DbSecretValue,
  overrides: { host?: string | undefined; port?: number | undefined; database?: string | undefined; ca?: string | undefined } = {},
): DbTarget {
  const host = overrides.host ?? secret.host;
  if (!host) throw failure('The database secret has no host and none was given: pass the cluster endpoint.');
  return {
    host,
    port: overrides.port ?? (secret.port !== undefined ? Number(secret.port) : 5432),
    database: overrides.database ?? secret.dbname ?? 'postgres',
    user: secret.username,
    password: secret.password,
    ssl: { ca: overrides.ca },
  };
}

/** user@host:port/database — safe to print. */
export function describeTarget(t: DbTarget): string {
  return `${t.user}@${t.host}:${t.port}/${t.database}`;
}

/** libpq-style conninfo (for CREATE SUBSCRIPTION … CONNECTION). Contains the password: never print it. */
export function conninfo(t: DbTarget): string {
  const q = (v: string) => `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  const parts = [`host=${q(t.host)}`, `port=${t.port}`, `dbname=${q(t.database)}`, `user=${q(t.user)}`, `password=${q(t.password)}`];
  parts.push(t.ssl === false ? 'sslmode=disable' : 'sslmode=verify-full');
  return parts.join(' ');
}

export function withDatabase(t: DbTarget, database: string): DbTarget {
  return { ...t, database };
}

/** Opens a connection with bounded connect, statement and lock waits. Errors become one scrubbed sentence. */
export async function connect(target: DbTarget, opts: ConnectOptions = {}): Promise<pg.Client> {
  const { default: pgmod } = await import('pg');
  const statementTimeout = opts.statementTimeoutMs ?? DEFAULT_TIMEOUTS.statementTimeoutMs;
  const lockTimeout = opts.lockTimeoutMs ?? DEFAULT_TIMEOUTS.lockTimeoutMs;
  const options = [`-c statement_timeout=${statementTimeout}`, `-c lock_timeout=${lockTimeout}`];
  if (opts.readOnly) options.push('-c default_transaction_read_only=on');
  const client = new pgmod.Client({
    host: target.host,
    port: target.port,
    database: target.database,
    user: target.user,
    password: target.password,
    ssl:
      target.ssl === false
        ? false
        : {
            rejectUnauthorized: true,
            ...(target.ssl.ca ? { ca: target.ssl.ca } : {}),
            ...(target.ssl.servername ? { servername: target.ssl.servername } : {}),
          },
    // Bounds the whole start-up (TCP, TLS, authentication, first ReadyForQuery): a server that accepts the
    // connection and never answers fails here, with "Timed out trying to connect".
    connectionTimeoutMillis: opts.connectTimeoutMs ?? DEFAULT_TIMEOUTS.connectTimeoutMs,
    // A peer that vanishes mid-session (no FIN, no RST) is noticed by TCP keepalive instead of waiting forever;
    // statements themselves are bounded server-side by statement_timeout and lock_timeout above.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    application_name: opts.applicationName ?? 'bgmig',
    ...(opts.queryTimeoutMs !== undefined ? { query_timeout: opts.queryTimeoutMs } : {}),
    options: options.join(' '),
  });
  // An idle connection dropped by the server emits 'error' on the client; without a listener that would crash
  // the process. Queries in flight still reject with the error.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (e) {
    await client.end().catch(() => undefined);
    throw describeDbError(e, target);
  }
  return client;
}

interface PgLikeError {
  code?: string;
  message?: string;
  errno?: string;
}

/** One sentence for a database failure, without the password, naming the target and what to do. */
export function describeDbError(e: unknown, target: DbTarget, doing = 'connect to'): BgmigError {
  if (e instanceof BgmigError) return e;
  const err = (e ?? {}) as PgLikeError;
  const where = describeTarget(target);
  const raw = scrub(messageOf(e), [target.password]);
  const code = err.code ?? '';
  let msg: string;
  if (code === '28P01' || code === '28000') msg = `PostgreSQL rejected the credentials for ${where}: check the password in the secret or URL.`;
  else if (code === '3D000') msg = `Database "${target.database}" does not exist on ${target.host}:${target.port}: check the database name.`;
  else if (code === 'ECONNREFUSED') msg = `Cannot ${doing} ${where}: connection refused — is the server running and the port right?`;
  else if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') msg = `Cannot ${doing} ${where}: host name "${target.host}" does not resolve.`;
  else if (code === 'ETIMEDOUT' || /timeout expired|Connection terminated due to connection timeout/i.test(raw))
    msg = `Timed out trying to ${doing} ${where}: check the network path (security groups, tunnel) and retry.`;
  else if (/Query read timeout/.test(raw))
    msg = `No answer from ${where} within the client-side query bound: a pooler may be holding the query (paused) or the server stopped answering — check it, then retry.`;
  else if (code === '57014') msg = `A statement on ${where} hit its statement timeout (${raw}).`;
  else if (code === '55P03') msg = `A statement on ${where} could not get a lock within its lock timeout (${raw}).`;
  else if (/self[- ]signed|certificate|SSL|TLS/i.test(raw)) msg = `TLS to ${where} failed (${raw}): pass the RDS CA bundle or check sslmode.`;
  else msg = `Database error on ${where}: ${raw}`;
  return failure(msg, e);
}

/** The outcome of a login probe: never a password, one sentence on failure. */
export type LoginCheck =
  | {
      ok: true;
      latencyMs: number;
      /**
       * PostgreSQL accepted the password but refused the session because the role has no CONNECT on the database
       * (bgmig's write fence revokes it on the passive side). Authentication runs before that privilege check, so
       * this still proves the password.
       */
      connectRevoked: boolean;
    }
  | { ok: false; rejected: boolean; error: string };

/** SQLSTATEs meaning "these credentials are not accepted" (as opposed to an unreachable server). */
export const REJECTED_LOGIN_CODES: ReadonlySet<string> = new Set(['28P01', '28000']);
/** insufficient_privilege at connect time: "permission denied for database" (CONNECT revoked), after authentication. */
const CONNECT_REVOKED_CODE = '42501';

/**
 * Proves a login: connect with `target`'s credentials (same TLS and timeouts as every other bgmig connection) and
 * run SELECT 1. Used by the rotation's test step, directly from the CLI and inside the Lambda functions.
 */
export async function checkLogin(target: DbTarget, opts: Pick<ConnectOptions, 'connectTimeoutMs' | 'applicationName'> = {}): Promise<LoginCheck> {
  const started = Date.now();
  let client: pg.Client | undefined;
  try {
    // A probe never waits longer than its statement bound plus a margin, even behind a paused pooler.
    client = await connect(target, {
      connectTimeoutMs: opts.connectTimeoutMs,
      statementTimeoutMs: 10_000,
      lockTimeoutMs: 1_000,
      queryTimeoutMs: 15_000,
      applicationName: opts.applicationName ?? 'bgmig-login-check',
    });
    await client.query('SELECT 1');
    return { ok: true, latencyMs: Date.now() - started, connectRevoked: false };
  } catch (e) {
    // connect() wraps driver errors in a one-sentence BgmigError whose cause is the driver's error (with the SQLSTATE).
    const driver: unknown = e instanceof BgmigError && e.cause !== undefined ? e.cause : e;
    const code = (driver as { code?: string } | undefined)?.code ?? '';
    if (code === CONNECT_REVOKED_CODE) return { ok: true, latencyMs: Date.now() - started, connectRevoked: true };
    const sentence = describeDbError(driver, target, 'log in to').message;
    return { ok: false, rejected: REJECTED_LOGIN_CODES.has(code), error: scrub(sentence, [target.password]) };
  } finally {
    await client?.end().catch(() => undefined);
  }
}
