/**
 * The engine's admin sessions: one connection per side through the shared connection module (every statement
 * bounded by statement_timeout and lock_timeout), able to write on a fenced database, plus the small SQL helpers
 * every step uses. Errors become one scrubbed sentence naming the side.
 */
import type pg from 'pg';
import type { Color } from '../core/naming.js';
import { connect, describeDbError, describeTarget, type DbTarget } from '../db/connection.js';
import { scrub } from '../core/redact.js';
import { quoteIdent, quoteLiteral } from '../db/sql.js';
import { explainSqlState } from './explain.js';

/** Every bgmig admin session carries this application_name, so the fence never terminates bgmig itself. */
export const APP_NAME = 'bgmig';

export interface Session {
  color: Color;
  target: DbTarget;
  client: pg.Client;
  /** Runs one statement; a failure becomes a BgmigError naming the side and what was being done. */
  q<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, params?: unknown[], doing?: string): Promise<pg.QueryResult<R>>;
  /** Tightens (or restores) this session's statement and lock timeouts, e.g. to what is left of the pause budget. */
  bound(ms: number): Promise<void>;
  close(): Promise<void>;
}

export const DEFAULT_STATEMENT_MS = 30_000;
export const DEFAULT_LOCK_MS = 5_000;

/**
 * `secrets`: other passwords that may show up in this session's errors — CREATE SUBSCRIPTION carries the other
 * side's password in its conninfo, and a failing statement must not echo it.
 */
export async function openSession(color: Color, target: DbTarget, secrets: string[] = []): Promise<Session> {
  const client = await connect(target, {
    statementTimeoutMs: DEFAULT_STATEMENT_MS,
    lockTimeoutMs: DEFAULT_LOCK_MS,
    applicationName: `${APP_NAME}-${color}`,
  });
  const s: Session = {
    color,
    target,
    client,
    async q<R extends pg.QueryResultRow>(text: string, params?: unknown[], doing?: string) {
      try {
        return await client.query<R>(text, params as unknown[] | undefined);
      } catch (e) {
        const err = describeDbError(e, target, doing ?? `run a statement on ${color} (${describeTarget(target)})`);
        // A raw PostgreSQL error is never the whole message: its SQLSTATE says what it means and what to do.
        const code = (e as { code?: string } | null)?.code;
        const why = code && !/^(28|3D)/.test(code) ? explainSqlState(code, color) : null;
        // Name the side for the operator, and scrub the other side's password too (subscription conninfo).
        throw Object.assign(err, {
          message: scrub(`${color}: ${doing ? `could not ${doing}: ` : ''}${err.message.replace(/\.$/, '')}${why ? ` — ${why}.` : ''}`, [
            target.password,
            ...secrets,
          ]),
        });
      }
    },
    async bound(ms: number) {
      const v = Math.max(1, Math.round(ms));
      await s.q(`SET statement_timeout = ${v}; SET lock_timeout = ${Math.min(v, DEFAULT_LOCK_MS)}`);
    },
    async close() {
      await client.end().catch(() => undefined);
    },
  };
  // The fence sets default_transaction_read_only on the database; bgmig's own session must still write
  // (journal, marker, setval, subscriptions), so it opts out explicitly.
  await s.q('SET default_transaction_read_only = off');
  return s;
}

export interface Sessions {
  blue: Session;
  green: Session;
}

export async function openSessions(targets: { blue: DbTarget; green: DbTarget }): Promise<Sessions> {
  const secrets = [targets.blue.password, targets.green.password];
  const [b, g] = await Promise.allSettled([openSession('blue', targets.blue, secrets), openSession('green', targets.green, secrets)]);
  if (b.status === 'rejected' || g.status === 'rejected') {
    if (b.status === 'fulfilled') await b.value.close();
    if (g.status === 'fulfilled') await g.value.close();
    throw b.status === 'rejected' ? b.reason : (g as PromiseRejectedResult).reason;
  }
  return { blue: b.value, green: g.value };
}

export async function closeSessions(s: Sessions): Promise<void> {
  await Promise.all([s.blue.close(), s.green.close()]);
}

export function side(s: Sessions, c: Color): Session {
  return c === 'blue' ? s.blue : s.green;
}

/** Quoted `schema.table`. */
export function qualified(schema: string, name: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(name)}`;
}

/** A string literal for statements that cannot take parameters (DDL). */
export { quoteLiteral as literal, quoteIdent };

/** Milliseconds since `t0` (performance clock). */
export function since(t0: number): number {
  return Math.round((performance.now() - t0) * 10) / 10;
}
