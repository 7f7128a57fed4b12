/**
 * Throwaway PostgreSQL 15 servers for tests: a data directory in a temp dir, a free loopback port, password (SCRAM)
 * authentication over TCP. PostgreSQL refuses to run as root, so when the tests run as root the server binaries
 * run as the `postgres` OS user.
 *
 * Inside a vitest worker, `startPostgres(opts)` hands out one of the worker's shared servers started with the same
 * options (see shared.ts), wiped first: every subscription (detached from its slot), replication slot, database
 * other than the templates, role other than `postgres`, role and database setting and ALTER SYSTEM setting is
 * dropped, the `postgres` database is re-created empty and the superuser gets its password back. A file therefore
 * sees what a fresh server shows, at a fraction of the start-up cost. `stop()` from an afterAll hook releases the
 * server for the worker's next file; `stop()` from inside a test really stops it (a test taking a side down). New
 * servers are copied from one `initdb` per run instead of running initdb each time. Outside vitest (bench
 * scripts) every server is private and initdb'd, as before.
 */
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdtempSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { dropRecord, readRecords, refuseInUnitLayer, stopMeansRelease, type WorkerSlot, workerSlot, writeRecord } from './shared.js';
import { LOGICAL_PAIR_SETTINGS } from '../../src/rehearsal/postgres.js';

const execFileAsync = promisify(execFile);

export interface PgServerOptions {
  /** wal_level=logical with room for slots, senders and apply workers (for replication tests). */
  logical?: boolean;
  /** Extra server settings (-c name=value). */
  settings?: Record<string, string | number>;
}

export interface PgServer {
  host: string;
  port: number;
  dataDir: string;
  /** Superuser name and password (TCP connections require the password). */
  user: string;
  password: string;
  /** postgres://user:password@127.0.0.1:port/db */
  url(database?: string, user?: string, password?: string): string;
  /** A connected client as the superuser (caller ends it). */
  connect(database?: string): Promise<pg.Client>;
  /** Runs SQL as the superuser in a database (a fresh connection each time). */
  sql(text: string, database?: string): Promise<pg.QueryResult>;
  createDatabase(name: string): Promise<void>;
  stop(): Promise<void>;
}

const running = new Set<{ dataDir: string; root: string }>();
let exitHookInstalled = false;

function asPostgresUser(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function pgUid(): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  return { uid, gid };
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

async function run(bin: string, args: string[]): Promise<string> {
  if (asPostgresUser()) {
    const cmd = [bin, ...args].map(shellQuote).join(' ');
    const { stdout } = await execFileAsync('su', ['postgres', '-s', '/bin/bash', '-c', cmd], { maxBuffer: 10 * 1024 * 1024 });
    return stdout;
  }
  const { stdout } = await execFileAsync(bin, args, { maxBuffer: 10 * 1024 * 1024 });
  return stdout;
}

function runSync(bin: string, args: string[]): void {
  try {
    if (asPostgresUser()) execFileSync('su', ['postgres', '-s', '/bin/bash', '-c', [bin, ...args].map(shellQuote).join(' ')], { stdio: 'ignore' });
    else execFileSync(bin, args, { stdio: 'ignore' });
  } catch {
    /* best effort at exit */
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** A temp directory the server user owns (data dir, socket and log live in it). */
function makeRoot(parent = os.tmpdir()): string {
  const root = mkdtempSync(path.join(parent, 'bgmig-pg-'));
  chmodSync(root, 0o755);
  if (asPostgresUser()) {
    const { uid, gid } = pgUid();
    chownSync(root, uid, gid);
  }
  return root;
}

async function initdb(root: string, password: string): Promise<string> {
  const dataDir = path.join(root, 'data');
  const pwfile = path.join(root, 'pwfile');
  writeFileSync(pwfile, `${password}\n`);
  if (asPostgresUser()) {
    const { uid, gid } = pgUid();
    chownSync(pwfile, uid, gid);
  }
  await run('initdb', [
    '-D',
    dataDir,
    '-U',
    'postgres',
    '--auth-local=trust',
    '--auth-host=scram-sha-256',
    `--pwfile=${pwfile}`,
    '-E',
    'UTF8',
    '--locale=C',
    '--no-sync',
  ]);
  rmSync(pwfile, { force: true });
  return dataDir;
}

/**
 * One initdb per test run, copied for each new server (`cp -a` keeps the owner and the 0700 mode PostgreSQL
 * insists on). Two workers racing to make it both build one; the first rename wins.
 */
async function templateDataDir(slot: WorkerSlot): Promise<string> {
  const final = path.join(slot.runDir, 'pg-template');
  if (existsSync(path.join(final, 'data', 'PG_VERSION'))) return path.join(final, 'data');
  const mine = makeRoot(slot.runDir);
  await initdb(mine, randomBytes(12).toString('hex'));
  try {
    renameSync(mine, final);
  } catch {
    rmSync(mine, { recursive: true, force: true }); // another worker's template is in place
  }
  return path.join(final, 'data');
}

function settingsOf(opts: PgServerOptions): Record<string, string | number> {
  return {
    listen_addresses: '127.0.0.1',
    fsync: 'off',
    full_page_writes: 'off',
    max_connections: 200,
    ...(opts.logical ? LOGICAL_PAIR_SETTINGS : {}),
    ...opts.settings,
  };
}

/** Starts a server on a data dir; returns the port. Retries on another port when one is taken between probe and bind. */
async function startServer(root: string, dataDir: string, settings: Record<string, string | number>): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const o = [`-p ${port}`, `-k ${root}`, ...Object.entries(settings).map(([k, v]) => `-c ${k}=${v}`)].join(' ');
    try {
      await run('pg_ctl', ['-D', dataDir, '-o', o, '-l', path.join(root, 'server.log'), '-w', '-t', '30', 'start']);
      return port;
    } catch (e) {
      if (attempt < 3) continue;
      throw e;
    }
  }
}

async function stopServer(dataDir: string): Promise<void> {
  try {
    await run('pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', '-t', '30', 'stop']);
  } catch {
    await run('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
  }
}

/** A superuser session over the server's Unix socket (trust authentication: works whatever the password is now). */
async function socketClient(root: string, port: number, database = 'postgres'): Promise<pg.Client> {
  const c = new pg.Client({ host: root, port, user: 'postgres', database });
  c.on('error', () => undefined);
  await c.connect();
  return c;
}

function handle(dataDir: string, port: number, password: string, stop: () => Promise<void>): PgServer {
  const host = '127.0.0.1';
  const url = (database = 'postgres', user = 'postgres', pw = password) =>
    `postgres://${encodeURIComponent(user)}:${encodeURIComponent(pw)}@${host}:${port}/${encodeURIComponent(database)}`;
  const connect = async (database = 'postgres') => {
    const c = new pg.Client({ connectionString: url(database) });
    await c.connect();
    return c;
  };
  const sql = async (text: string, database = 'postgres') => {
    const c = await connect(database);
    try {
      return await c.query(text);
    } finally {
      await c.end();
    }
  };
  return {
    host,
    port,
    dataDir,
    user: 'postgres',
    password,
    url,
    connect,
    sql,
    createDatabase: async (name: string) => {
      await sql(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
    },
    stop,
  };
}

/** A private server: initdb'd for the caller, stopped and removed by `stop()` or when the process exits. */
export async function startPrivatePostgres(opts: PgServerOptions = {}): Promise<PgServer> {
  refuseInUnitLayer('PostgreSQL started');
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const s of running) {
        runSync('pg_ctl', ['-D', s.dataDir, '-m', 'immediate', '-w', 'stop']);
        rmSync(s.root, { recursive: true, force: true });
      }
    });
  }
  const root = makeRoot();
  const password = randomBytes(12).toString('hex');
  const dataDir = await initdb(root, password);
  const server = { dataDir, root };
  const port = await startServer(root, dataDir, settingsOf(opts));
  running.add(server);
  let stopped = false;
  return handle(dataDir, port, password, async () => {
    if (stopped) return;
    stopped = true;
    await stopServer(dataDir);
    running.delete(server);
    rmSync(root, { recursive: true, force: true });
  });
}

interface PgRecord {
  key: string;
  root: string;
  dataDir: string;
  port: number;
  password: string;
}

/** Registry files of shared servers this process holds right now. */
const held = new Set<string>();
/** Registry files of shared servers this process has held (they need wiping before the next hand-out). */
const used = new Set<string>();
let detachedOnce: Promise<void> | undefined;

const quoteIdent = (s: string) => `"${s.replace(/"/g, '""')}"`;

/**
 * Drops every subscription on a server without touching its publisher (disable, detach the slot, drop), in
 * every database that has one. Done on all of a worker's idle servers first, so that no subscriber is left
 * retrying against a slot that the wipe of its publisher then drops.
 */
async function dropSubscriptions(rec: PgRecord): Promise<void> {
  const admin = await socketClient(rec.root, rec.port);
  let dbs: string[];
  try {
    const r = await admin.query<{ datname: string }>('SELECT DISTINCT d.datname FROM pg_subscription s JOIN pg_database d ON d.oid = s.subdbid');
    dbs = r.rows.map((x) => x.datname);
  } finally {
    await admin.end();
  }
  for (const db of dbs) {
    const c = await socketClient(rec.root, rec.port, db);
    try {
      const subs = await c.query<{ subname: string }>(
        'SELECT subname FROM pg_subscription WHERE subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())',
      );
      for (const { subname } of subs.rows) {
        const s = quoteIdent(subname);
        await c.query(`ALTER SUBSCRIPTION ${s} DISABLE`);
        await c.query(`ALTER SUBSCRIPTION ${s} SET (slot_name = NONE)`);
        await c.query(`DROP SUBSCRIPTION ${s}`);
      }
    } finally {
      await c.end();
    }
  }
}

/** Makes a used shared server look freshly initdb'd to the next file (see the module comment). */
async function wipe(rec: PgRecord): Promise<void> {
  await dropSubscriptions(rec);
  const c = await socketClient(rec.root, rec.port, 'template1');
  try {
    await c.query('ALTER SYSTEM RESET ALL');
    await c.query('SELECT pg_reload_conf()');
    await c.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND backend_type IN ('client backend', 'walsender')`);
    for (let i = 0; ; i++) {
      const slots = await c.query<{ slot_name: string; active_pid: number | null }>('SELECT slot_name, active_pid FROM pg_replication_slots');
      if (slots.rows.length === 0) break;
      for (const s of slots.rows) {
        if (s.active_pid !== null) await c.query('SELECT pg_terminate_backend($1)', [s.active_pid]);
        else await c.query('SELECT pg_drop_replication_slot($1)', [s.slot_name]).catch(() => undefined);
      }
      if (i > 50) throw new Error(`replication slots still in use on ${rec.root}: ${slots.rows.map((s) => s.slot_name).join(', ')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const dbs = await c.query<{ datname: string; datistemplate: boolean }>(
      `SELECT datname, datistemplate FROM pg_database WHERE datname NOT IN ('template0', 'template1')`,
    );
    for (const d of dbs.rows) {
      if (d.datistemplate) await c.query(`ALTER DATABASE ${quoteIdent(d.datname)} IS_TEMPLATE false`);
      await c.query(`DROP DATABASE ${quoteIdent(d.datname)} WITH (FORCE)`);
    }
    await c.query('CREATE DATABASE postgres TEMPLATE template0');
    const roles = await c.query<{ rolname: string }>(`SELECT rolname FROM pg_roles WHERE rolname <> 'postgres' AND rolname !~ '^pg_'`);
    if (roles.rows.length > 0) {
      const list = roles.rows.map((r) => quoteIdent(r.rolname)).join(', ');
      await c.query(`DROP OWNED BY ${list}`);
      await c.query(`DROP ROLE ${list}`);
    }
    await c.query('ALTER DATABASE template1 RESET ALL');
    await c.query('ALTER ROLE postgres RESET ALL');
    await c.query(`ALTER ROLE postgres PASSWORD '${rec.password}'`);
  } finally {
    await c.end();
  }
}

async function alive(rec: PgRecord): Promise<boolean> {
  try {
    const c = await socketClient(rec.root, rec.port);
    await c.end();
    return true;
  } catch {
    return false;
  }
}

async function discard(file: string, rec: PgRecord): Promise<void> {
  dropRecord(file);
  await run('pg_ctl', ['-D', rec.dataDir, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
  rmSync(rec.root, { recursive: true, force: true });
}

/** Once per test file: forget dead servers and detach every subscription the previous file left behind. */
function detachAll(slot: WorkerSlot): Promise<void> {
  detachedOnce ??= (async () => {
    const recs = readRecords<PgRecord>(slot.dir, 'pg-');
    await Promise.all(
      recs.map(async (r) => {
        if (!(await alive(r.data))) {
          await discard(r.file, r.data);
          return;
        }
        used.add(r.file);
        await dropSubscriptions(r.data).catch(() => discard(r.file, r.data));
      }),
    );
  })();
  return detachedOnce;
}

async function newShared(slot: WorkerSlot, key: string, opts: PgServerOptions): Promise<{ file: string; rec: PgRecord }> {
  const template = await templateDataDir(slot);
  const root = makeRoot();
  const dataDir = path.join(root, 'data');
  // cp -a as root keeps the postgres owner; as the server user it copies its own files.
  await execFileAsync('cp', ['-a', template, dataDir]);
  const port = await startServer(root, dataDir, settingsOf(opts));
  const password = randomBytes(12).toString('hex');
  const c = await socketClient(root, port);
  try {
    await c.query(`ALTER ROLE postgres PASSWORD '${password}'`);
  } finally {
    await c.end();
  }
  const rec: PgRecord = { key, root, dataDir, port, password };
  const file = path.join(slot.dir, `pg-${port}.json`);
  writeRecord(file, rec);
  return { file, rec };
}

export async function startPostgres(opts: PgServerOptions = {}): Promise<PgServer> {
  refuseInUnitLayer('PostgreSQL started');
  const slot = workerSlot();
  if (!slot) return startPrivatePostgres(opts);
  await detachAll(slot);
  const key = JSON.stringify(Object.entries(settingsOf(opts)).sort(([a], [b]) => a.localeCompare(b)));
  // Chosen and marked held without an await in between: concurrent calls (a pair) never get the same server.
  const idle = readRecords<PgRecord>(slot.dir, 'pg-').find((r) => r.data.key === key && !held.has(r.file));
  let file: string;
  let rec: PgRecord;
  if (idle) {
    ({ file, data: rec } = idle);
    held.add(file);
    try {
      if (used.has(file)) {
        await wipe(rec);
        // The log starts empty, as a fresh server's would (tests read it for statements and leaked passwords).
        // pg_ctl opened it for appending, so the server keeps writing at the new end.
        truncateSync(path.join(rec.root, 'server.log'), 0);
      }
    } catch {
      held.delete(file);
      await discard(file, rec);
      return startPostgres(opts);
    }
  } else {
    ({ file, rec } = await newShared(slot, key, opts));
    held.add(file);
  }
  used.add(file);
  let done = false;
  return handle(rec.dataDir, rec.port, rec.password, async () => {
    if (done) return;
    done = true;
    held.delete(file);
    if (stopMeansRelease()) return;
    dropRecord(file);
    await stopServer(rec.dataDir);
    rmSync(rec.root, { recursive: true, force: true });
  });
}

/** Stops the shared servers recorded in a run's worker directories and removes their files (global teardown). */
export async function stopSharedPostgres(workerDirs: string[]): Promise<void> {
  const recs = workerDirs.flatMap((d) => readRecords<PgRecord>(d, 'pg-'));
  await Promise.all(
    recs.map(async (r) => {
      await run('pg_ctl', ['-D', r.data.dataDir, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
      rmSync(r.data.root, { recursive: true, force: true });
      dropRecord(r.file);
    }),
  );
}

/**
 * A real login attempt: true when accepted, false when PostgreSQL rejects the password (28P01). Anything else
 * (server down, database missing) throws, so a test asserting "the old password no longer works" cannot pass
 * because the server was unreachable.
 */
export async function canLogin(server: PgServer, user: string, password: string, database = 'postgres'): Promise<boolean> {
  const c = new pg.Client({ host: server.host, port: server.port, user, password, database });
  c.on('error', () => undefined);
  try {
    await c.connect();
    await c.query('SELECT 1');
    return true;
  } catch (e) {
    if ((e as { code?: string }).code === '28P01') return false;
    throw e;
  } finally {
    await c.end().catch(() => undefined);
  }
}
