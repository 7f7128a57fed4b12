/**
 * Throwaway PostgreSQL 15 servers for tests: a fresh data directory in a temp dir, a free loopback port,
 * password (SCRAM) authentication over TCP, stopped and removed afterwards. PostgreSQL refuses to run as root,
 * so when the tests run as root the server binaries run as the `postgres` OS user.
 */
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

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

export async function startPostgres(opts: PgServerOptions = {}): Promise<PgServer> {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const s of running) {
        runSync('pg_ctl', ['-D', s.dataDir, '-m', 'immediate', '-w', 'stop']);
        rmSync(s.root, { recursive: true, force: true });
      }
    });
  }
  const root = mkdtempSync(path.join(os.tmpdir(), 'bgmig-pg-'));
  chmodSync(root, 0o755);
  const dataDir = path.join(root, 'data');
  const password = randomBytes(12).toString('hex');
  const pwfile = path.join(root, 'pwfile');
  writeFileSync(pwfile, `${password}\n`);
  if (asPostgresUser()) {
    const { uid, gid } = pgUid();
    chownSync(root, uid, gid);
    chownSync(pwfile, uid, gid);
  }
  await run('initdb', ['-D', dataDir, '-U', 'postgres', '--auth-local=trust', '--auth-host=scram-sha-256', `--pwfile=${pwfile}`, '-E', 'UTF8', '--locale=C', '--no-sync']);

  const settings: Record<string, string | number> = {
    listen_addresses: '127.0.0.1',
    fsync: 'off',
    full_page_writes: 'off',
    max_connections: 200,
    ...(opts.logical
      ? { wal_level: 'logical', max_wal_senders: 20, max_replication_slots: 20, max_logical_replication_workers: 10, max_worker_processes: 20, max_sync_workers_per_subscription: 4 }
      : {}),
    ...opts.settings,
  };
  const server = { dataDir, root };
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const o = [`-p ${port}`, `-k ${root}`, ...Object.entries(settings).map(([k, v]) => `-c ${k}=${v}`)].join(' ');
    try {
      await run('pg_ctl', ['-D', dataDir, '-o', o, '-l', path.join(root, 'server.log'), '-w', '-t', '30', 'start']);
    } catch (e) {
      if (attempt < 3) continue; // port taken between probe and bind: try another
      throw e;
    }
    running.add(server);
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
    let stopped = false;
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
      stop: async () => {
        if (stopped) return;
        stopped = true;
        try {
          await run('pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', '-t', '30', 'stop']);
        } catch {
          await run('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
        }
        running.delete(server);
        rmSync(root, { recursive: true, force: true });
      },
    };
  }
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
