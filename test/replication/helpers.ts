/**
 * Two throwaway logical-replication servers with the same application schema (green has one extra column, so
 * the reverse publication's column lists are exercised), an application role that is NOT a superuser, and
 * writers that behave like an application: connect to whichever side the switch hook last named, retry on errors,
 * and remember exactly which writes were acknowledged.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startPostgres, type PgServer } from '../harness/postgres.js';
import { runBgmig, type RunResult } from '../harness/cli.js';
import { expect } from 'vitest';

export const APP_USER = 'app_rw';
export const APP_PASSWORD = 'app-secret-Zq81xk';
export const DB = 'app';

export const SCHEMA = `
CREATE TABLE public.orders (id serial PRIMARY KEY, writer int NOT NULL, n int NOT NULL, note text);
CREATE TABLE public.events (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, writer int NOT NULL, n int NOT NULL);
CREATE SEQUENCE public.ticket_seq;
CREATE TABLE public.tickets (code bigint PRIMARY KEY DEFAULT nextval('public.ticket_seq'), writer int NOT NULL, n int NOT NULL);
CREATE TABLE public.seed (id int PRIMARY KEY, payload text NOT NULL);
`;

export interface Pair {
  blue: PgServer;
  green: PgServer;
  blueUrl: string;
  greenUrl: string;
  /** Every password in play (admin and application), for leak checks. */
  secrets: string[];
  dir: string;
  /** File the --on-switch hook writes BGMIG_ACTIVE into; writers read it at connect time, like DNS. */
  activeFile: string;
  onSwitch: string;
  env: Record<string, string>;
  stop(): Promise<void>;
}

async function prepare(server: PgServer, extra: string): Promise<void> {
  await server.sql(`CREATE ROLE ${APP_USER} LOGIN PASSWORD '${APP_PASSWORD}'`);
  await server.createDatabase(DB);
  await server.sql(
    `${SCHEMA}${extra}
    GRANT USAGE ON SCHEMA public TO ${APP_USER};
    GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${APP_USER};
    GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ${APP_USER};`,
    DB,
  );
}

export async function startPair(opts: { seedRows?: number } = {}): Promise<Pair> {
  // PostgreSQL's launcher starts apply workers at most once per wal_retrieve_retry_interval (5 s by default);
  // back-to-back switches in tests would wait for it, so it is shortened here (see the README).
  const settings = { wal_retrieve_retry_interval: '200ms' };
  const [blue, green] = await Promise.all([startPostgres({ logical: true, settings }), startPostgres({ logical: true, settings })]);
  await Promise.all([prepare(blue, ''), prepare(green, `ALTER TABLE public.orders ADD COLUMN extra text NOT NULL DEFAULT 'green-only';`)]);
  if (opts.seedRows) {
    await blue.sql(`INSERT INTO public.seed SELECT g, repeat('x', 80) || g FROM generate_series(1, ${opts.seedRows}) g`, DB);
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bgmig-repl-'));
  const activeFile = path.join(dir, 'active');
  writeFileSync(activeFile, 'blue');
  const blueUrl = blue.url(DB);
  const greenUrl = green.url(DB);
  return {
    blue,
    green,
    blueUrl,
    greenUrl,
    dir,
    activeFile,
    secrets: [blue.password, green.password, APP_PASSWORD],
    onSwitch: `printf %s "$BGMIG_ACTIVE" > ${activeFile}`,
    env: { BGMIG_BLUE_URL: blueUrl, BGMIG_GREEN_URL: greenUrl, NO_COLOR: '1' },
    stop: async () => {
      await Promise.all([blue.stop(), green.stop()]);
    },
  };
}

export function bgmig(pair: Pair, args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  return runBgmig(args, { env: { ...pair.env, ...env } });
}

/**
 * `db cutover` / `db rollback` through the pair's --on-switch recorder, --json and no prompt; the cutover skips the
 * schema gate (these tests are about replication, and the pair's schemas are the tests' own).
 */
export function switchArgs(pair: Pair, op: 'cutover' | 'rollback'): string[] {
  return ['db', op, '--yes', '--json', ...(op === 'cutover' ? ['--skip-validation'] : []), '--on-switch', pair.onSwitch];
}

export function activeOf(pair: Pair): 'blue' | 'green' {
  return readFileSync(pair.activeFile, 'utf8').trim() === 'green' ? 'green' : 'blue';
}

export function appUrl(server: PgServer): string {
  return server.url(DB, APP_USER, APP_PASSWORD);
}

export interface Ack {
  writer: number;
  n: number;
  orderId: number;
  eventId: number;
  ticket: number;
}

export interface Writers<A = Ack> {
  acks: A[];
  errors: Map<string, number>;
  stop(): Promise<void>;
}

/**
 * N writer loops as the application role, each on its own connection to whichever side is active now (reconnecting
 * after any error, which is counted by SQLSTATE, or "conn"). `write` runs one whole transaction and returns its
 * acknowledgement only after COMMIT succeeded — the acknowledged writes that must never be lost.
 */
export function startWriterLoops<A>(pair: Pair, count: number, write: (client: pg.Client, writer: number, n: number) => Promise<A>): Writers<A> {
  const acks: A[] = [];
  const errors = new Map<string, number>();
  let running = true;
  const loops = Array.from({ length: count }, async (_, writer) => {
    let client: pg.Client | null = null;
    let n = 0;
    while (running) {
      try {
        if (!client) {
          const side = activeOf(pair) === 'green' ? pair.green : pair.blue;
          client = new pg.Client({ connectionString: appUrl(side), connectionTimeoutMillis: 2000 });
          client.on('error', () => undefined);
          await client.connect();
        }
        n++;
        acks.push(await write(client, writer, n));
      } catch (err) {
        const code = (err as { code?: string }).code ?? 'conn';
        errors.set(code, (errors.get(code) ?? 0) + 1);
        await client?.end().catch(() => undefined);
        client = null;
        await new Promise((r) => setTimeout(r, 3));
      }
    }
    await client?.end().catch(() => undefined);
  });
  return {
    acks,
    errors,
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}

/** N writers; each transaction inserts one row into orders, events and tickets and acknowledges their keys. */
export function startWriters(pair: Pair, count: number): Writers {
  return startWriterLoops(pair, count, async (client, writer, n) => {
    await client.query('BEGIN');
    const o = await client.query<{ id: number }>('INSERT INTO public.orders (writer, n, note) VALUES ($1, $2, $3) RETURNING id', [writer, n, `w${writer}`]);
    const e = await client.query<{ id: string }>('INSERT INTO public.events (writer, n) VALUES ($1, $2) RETURNING id', [writer, n]);
    const t = await client.query<{ code: string }>('INSERT INTO public.tickets (writer, n) VALUES ($1, $2) RETURNING code', [writer, n]);
    await client.query('COMMIT');
    return { writer, n, orderId: o.rows[0].id, eventId: Number(e.rows[0].id), ticket: Number(t.rows[0].code) };
  });
}

/** Can the application role write on this server right now? (A probe transaction that is rolled back.) */
export async function appCanWrite(server: PgServer): Promise<boolean> {
  const c = new pg.Client({ connectionString: appUrl(server), connectionTimeoutMillis: 2000 });
  c.on('error', () => undefined);
  try {
    await c.connect();
    await c.query('BEGIN');
    await c.query(`INSERT INTO public.seed (id, payload) VALUES (-1, 'probe')`);
    await c.query('ROLLBACK');
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** Probes both sides every few ms; records a violation whenever both accept application writes at once. */
export function startWritableProbe(pair: Pair): { probes: () => number; violations: () => number; stop(): Promise<void> } {
  let running = true;
  let probes = 0;
  let violations = 0;
  const loop = (async () => {
    while (running) {
      const [b, g] = await Promise.all([appCanWrite(pair.blue), appCanWrite(pair.green)]);
      probes++;
      if (b && g) violations++;
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  return {
    probes: () => probes,
    violations: () => violations,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

const TABLES: Record<string, string> = {
  orders: 'SELECT id, writer, n, note FROM public.orders ORDER BY id',
  events: 'SELECT id, writer, n FROM public.events ORDER BY id',
  tickets: 'SELECT code, writer, n FROM public.tickets ORDER BY code',
  seed: 'SELECT id, payload FROM public.seed ORDER BY id',
};

export async function dump(server: PgServer): Promise<Record<string, string>> {
  const c = await server.connect(DB);
  try {
    const out: Record<string, string> = {};
    for (const [t, q] of Object.entries(TABLES)) out[t] = JSON.stringify((await c.query(q)).rows);
    return out;
  } finally {
    await c.end();
  }
}

/** Waits until both sides hold the same rows (replication converging after the writers stopped). */
export async function waitConverged(pair: Pair, timeoutMs = 20_000): Promise<Record<string, string>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [b, g] = await Promise.all([dump(pair.blue), dump(pair.green)]);
    if (JSON.stringify(b) === JSON.stringify(g)) return b;
    if (Date.now() > deadline) {
      const diff = Object.keys(b).filter((k) => b[k] !== g[k]);
      throw new Error(`blue and green did not converge within ${timeoutMs} ms (tables differing: ${diff.join(', ')})`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function rowsOf(server: PgServer, sql: string): Promise<Array<Record<string, unknown>>> {
  return (await server.sql(sql, DB)).rows as Array<Record<string, unknown>>;
}

/** bgmig's replication objects left on a server. */
export async function replicationObjects(server: PgServer): Promise<string[]> {
  const r = await server.sql(
    `
    SELECT 'pub ' || pubname AS o FROM pg_publication
    UNION ALL SELECT 'sub ' || subname FROM pg_subscription
    UNION ALL SELECT 'slot ' || slot_name FROM pg_replication_slots ORDER BY 1`,
    DB,
  );
  return r.rows.map((x: { o: string }) => x.o);
}

export function parseJson<T>(r: RunResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`stdout is not JSON (exit ${r.code}): ${r.stdout.slice(0, 400)}\nstderr: ${r.stderr.slice(0, 1500)}`);
  }
}

/**
 * A result that is also a failure, under --json (docs/operating.md, "The --json contract"): stdout is exactly one
 * error document with the machine `code`, and the result rides in `error.details.report`.
 */
export function failureReport<T>(r: RunResult, code: string): T {
  const doc = parseJson<{ error: { exitCode: number; kind: string; code: string; details: { report: T } } }>(r);
  expect(Object.keys(doc)).toEqual(['error']);
  expect(doc.error).toMatchObject({ exitCode: r.code, code });
  return doc.error.details.report;
}
