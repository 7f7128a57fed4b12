/**
 * PgBouncer's admin console: the virtual database `pgbouncer`, reached with an `admin_users` login, speaking the
 * simple query protocol only (no parameters). What bgmig uses of it (PgBouncer 1.18, https://www.pgbouncer.org/usage.html):
 *
 * - `SHOW DATABASES` — each [databases] entry with the host/port/database it points at, its pool_mode and `paused`;
 * - `SHOW CONFIG` — `conffile` (the ini file RELOAD re-reads) and `pool_mode`;
 * - `PAUSE db` — waits until every server connection of that entry is released (in transaction pooling: the
 *   running transactions finish) and then closes them; queries arriving meanwhile and afterwards wait. Measured
 *   here: after PAUSE returns, PostgreSQL shows no session of the pooler at all, so the fence has nothing of the
 *   pooler's to terminate. A PAUSE that cannot complete never answers (and one racing a RESUME can hang,
 *   pgbouncer#715), so it is always bounded: on timeout the console connection is dropped — the pause stays in
 *   effect (measured) — and the caller RESUMEs through a fresh connection;
 * - `RESUME db` — lets held queries run ("database … is not paused" when it was not: treated as done);
 * - `RELOAD` — re-reads the ini file; a [databases] entry whose host/port changed gets new server connections.
 *
 * Errors: every failure is a BgmigError naming the pooler (never its password).
 */
import type pg from 'pg';
import { messageOf, failure } from '../core/errors.js';
import { scrub } from '../core/redact.js';
import { sleep } from '../core/sleep.js';

/** One pooler's admin console (password from the URL or BGMIG_POOLER_PASSWORD; never printed). */
export interface PoolerRef {
  host: string;
  port: number;
  user: string;
  password: string;
  /** postgres://user@host:port/pgbouncer — how bgmig names (and journals) the pooler. */
  label: string;
}

/** A [databases] entry as SHOW DATABASES reports it. */
export interface PoolerEntry {
  name: string;
  host: string | null;
  port: number;
  database: string;
  poolMode: string | null;
  paused: boolean;
  disabled: boolean;
}

export const ADMIN_CONNECT_MS = 3_000;
const ADMIN_STATEMENT_MS = 5_000;

/** Builds the label (no password) for a pooler address. */
export function poolerLabel(user: string, host: string, port: number): string {
  return `postgres://${encodeURIComponent(user)}@${host.includes(':') ? `[${host}]` : host}:${port}/pgbouncer`;
}

export class PoolerAdmin {
  private constructor(
    readonly ref: PoolerRef,
    private readonly client: pg.Client,
  ) {}

  /** Opens the console (bounded by `timeoutMs`). Throws one sentence naming the pooler. */
  static async connect(ref: PoolerRef, timeoutMs = ADMIN_CONNECT_MS): Promise<PoolerAdmin> {
    const { default: pgm } = await import('pg');
    const client = new pgm.Client({
      host: ref.host,
      port: ref.port,
      user: ref.user,
      password: ref.password,
      database: 'pgbouncer',
      connectionTimeoutMillis: timeoutMs,
      query_timeout: ADMIN_STATEMENT_MS,
    });
    // A dropped console connection (ours, on a PAUSE timeout) must not crash the process.
    client.on('error', () => undefined);
    try {
      await client.connect();
    } catch (e) {
      await client.end().catch(() => undefined);
      throw failure(
        `Cannot reach the pooler's admin console ${ref.label} (${scrub(messageOf(e), [ref.password])}): check the address, that the user is in admin_users, and BGMIG_POOLER_PASSWORD.`,
      );
    }
    return new PoolerAdmin(ref, client);
  }

  private async run<R extends pg.QueryResultRow>(sql: string, doing: string, timeoutMs = ADMIN_STATEMENT_MS): Promise<R[]> {
    try {
      const r = await this.client.query<R>({ text: sql, query_timeout: timeoutMs } as pg.QueryConfig);
      return r.rows;
    } catch (e) {
      throw failure(`Pooler ${this.ref.label} could not ${doing}: ${scrub(messageOf(e), [this.ref.password])}`);
    }
  }

  async databases(): Promise<PoolerEntry[]> {
    const rows = await this.run<Record<string, string | number | null>>('SHOW DATABASES', 'list its databases (SHOW DATABASES)');
    return rows
      .filter((r) => r.name !== 'pgbouncer')
      .map((r) => ({
        name: String(r.name),
        host: r.host === null || r.host === '' ? null : String(r.host),
        port: Number(r.port),
        database: String(r.database ?? r.name),
        poolMode: r.pool_mode === null || r.pool_mode === '' ? null : String(r.pool_mode),
        paused: Number(r.paused) === 1,
        disabled: Number(r.disabled) === 1,
      }));
  }

  async config(): Promise<Record<string, string>> {
    const rows = await this.run<{ key: string; value: string | null }>('SHOW CONFIG', 'show its configuration (SHOW CONFIG)');
    return Object.fromEntries(rows.map((r) => [r.key, r.value ?? '']));
  }

  /**
   * PAUSE one entry, waiting at most `timeoutMs`. true when paused; false on timeout — the console connection is
   * then unusable (dropped on purpose) and the entry is still pausing: the caller must RESUME through a new one.
   */
  async pause(entry: string, timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((r) => {
      timer = setTimeout(() => r('timeout'), Math.max(1, timeoutMs));
    });
    // pg's own query_timeout must not end the PAUSE before our bound does.
    const paused = this.client.query({ text: `PAUSE ${quoteEntry(entry)}`, query_timeout: Math.max(1, timeoutMs) + 60_000 } as pg.QueryConfig).then(
      () => 'paused' as const,
      (e: unknown) => {
        const msg = messageOf(e);
        // Paused already (a run that died left it so): that is the state we want.
        if (/already/i.test(msg)) return 'paused' as const;
        throw failure(`Pooler ${this.ref.label} refused PAUSE ${entry}: ${scrub(msg, [this.ref.password])}`);
      },
    );
    try {
      const r = await Promise.race([paused, timedOut]);
      if (r === 'timeout') {
        paused.catch(() => undefined);
        this.drop();
        return false;
      }
      return true;
    } finally {
      clearTimeout(timer);
    }
  }

  /** RESUME one entry; "not paused" counts as done. */
  async resume(entry: string): Promise<void> {
    try {
      await this.client.query(`RESUME ${quoteEntry(entry)}`);
    } catch (e) {
      if (/not paused/i.test(messageOf(e))) return;
      throw failure(`Pooler ${this.ref.label} could not RESUME ${entry}: ${scrub(messageOf(e), [this.ref.password])}`);
    }
  }

  async reload(): Promise<void> {
    await this.run('RELOAD', 're-read its configuration (RELOAD)');
  }

  /** Lets the process exit while this connection is open (a console kept between PAUSE and RESUME). */
  unref(): void {
    (this.client as unknown as { connection?: { stream?: { unref?: () => void } } }).connection?.stream?.unref?.();
  }

  /** Drops the connection without a goodbye (a PAUSE that will never answer is pending on it). */
  drop(): void {
    const stream = (this.client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream;
    stream?.destroy();
    void this.client.end().catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => undefined);
  }
}

/** Entry names are identifiers on the console; quote anything that is not a plain one. */
export function quoteEntry(name: string): string {
  return /^[a-z_][a-z0-9_]*$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

/** Polls `check` until true or `deadline` (performance.now()); returns the last result. */
export async function waitFor(check: () => Promise<boolean>, deadline: number, everyMs = 20): Promise<boolean> {
  for (;;) {
    if (await check()) return true;
    if (performance.now() > deadline) return false;
    await sleep(everyMs);
  }
}
