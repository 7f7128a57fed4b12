/**
 * Throwaway PgBouncer 1.18 instances for tests: an ini file and auth file in a temp dir, a free loopback port,
 * `pool_mode = transaction`, SCRAM towards PostgreSQL (plain passwords in the auth file, which PgBouncer needs to
 * log in to the server with SCRAM), started as a daemon and stopped (SIGTERM, then SIGKILL) afterwards. PgBouncer
 * refuses to run as root, so as root it runs as the `postgres` OS user and its files belong to it.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort } from '../harness/postgres.js';

export const PGBOUNCER = '/usr/sbin/pgbouncer';
export const ADMIN_USER = 'pgb_admin';
export const ADMIN_PASSWORD = 'pgb-admin-Pw-51c0';

export interface Bouncer {
  port: number;
  dir: string;
  ini: string;
  /** postgres://pgb_admin@127.0.0.1:PORT/pgbouncer (password in ADMIN_PASSWORD / BGMIG_POOLER_PASSWORD). */
  adminUrl: string;
  /** A client URL through the pooler. */
  url(database: string, user: string, password: string): string;
  /** Runs one console command as the admin. */
  admin<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string): Promise<R[]>;
  /** The entry as SHOW DATABASES reports it. */
  entry(name: string): Promise<{ host: string; port: number; paused: boolean } | undefined>;
  stop(): Promise<void>;
}

export interface BouncerOptions {
  /** [databases] entries: name → host/port/dbname. */
  databases: Record<string, { host: string; port: number; dbname: string }>;
  /** Users allowed through (name → password), besides the admin. */
  users: Record<string, string>;
  poolMode?: 'transaction' | 'session';
  /** query_wait_timeout in seconds (how long a held query may wait; default 120). */
  queryWaitTimeout?: number;
}

const asRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

function runAsPostgres(cmd: string): void {
  if (asRoot()) execFileSync('su', ['postgres', '-s', '/bin/bash', '-c', cmd], { stdio: 'pipe' });
  else execFileSync('/bin/bash', ['-c', cmd], { stdio: 'pipe' });
}

const running = new Set<string>();
let hooked = false;

export async function startPgBouncer(opts: BouncerOptions): Promise<Bouncer> {
  if (!hooked) {
    hooked = true;
    process.on('exit', () => {
      for (const pidfile of running) {
        try {
          process.kill(Number(readFileSync(pidfile, 'utf8').trim()), 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    });
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bgmig-pgb-'));
  chmodSync(dir, 0o755);
  const port = await freePort();
  const ini = path.join(dir, 'pgbouncer.ini');
  const auth = path.join(dir, 'users.txt');
  const pidfile = path.join(dir, 'pgbouncer.pid');
  const dbs = Object.entries(opts.databases).map(([n, d]) => `${n} = host=${d.host} port=${d.port} dbname=${d.dbname}`);
  writeFileSync(
    ini,
    [
      '[databases]',
      ...dbs,
      '',
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = scram-sha-256',
      `auth_file = ${auth}`,
      `admin_users = ${ADMIN_USER}`,
      `pool_mode = ${opts.poolMode ?? 'transaction'}`,
      'default_pool_size = 20',
      'max_client_conn = 200',
      `query_wait_timeout = ${opts.queryWaitTimeout ?? 120}`,
      `logfile = ${path.join(dir, 'pgbouncer.log')}`,
      `pidfile = ${pidfile}`,
      '',
    ].join('\n'),
  );
  writeFileSync(auth, [...Object.entries(opts.users), [ADMIN_USER, ADMIN_PASSWORD]].map(([u, p]) => `"${u}" "${p}"`).join('\n') + '\n');
  if (asRoot()) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    for (const f of [dir, ini, auth]) chownSync(f, uid, gid);
  }
  chmodSync(auth, 0o600);
  runAsPostgres(`${PGBOUNCER} -d ${ini}`);
  running.add(pidfile);
  const adminUrl = `postgres://${ADMIN_USER}@127.0.0.1:${port}/pgbouncer`;
  const admin = async <R extends pg.QueryResultRow>(sql: string): Promise<R[]> => {
    const c = new pg.Client({ host: '127.0.0.1', port, user: ADMIN_USER, password: ADMIN_PASSWORD, database: 'pgbouncer', connectionTimeoutMillis: 3000 });
    c.on('error', () => undefined);
    await c.connect();
    try {
      return (await c.query<R>(sql)).rows;
    } finally {
      await c.end().catch(() => undefined);
    }
  };
  // Up once the console answers.
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await admin('SHOW VERSION');
      break;
    } catch (e) {
      if (Date.now() > deadline)
        throw new Error(
          `pgbouncer did not start: ${String(e)}; log: ${existsSync(path.join(dir, 'pgbouncer.log')) ? readFileSync(path.join(dir, 'pgbouncer.log'), 'utf8').slice(-2000) : 'none'}`,
        );
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  let stopped = false;
  return {
    port,
    dir,
    ini,
    adminUrl,
    url: (database, user, password) =>
      `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}/${encodeURIComponent(database)}`,
    admin,
    entry: async (name) => {
      const rows = await admin<{ name: string; host: string; port: number; paused: number }>('SHOW DATABASES');
      const r = rows.find((x) => x.name === name);
      return r ? { host: r.host, port: Number(r.port), paused: Number(r.paused) === 1 } : undefined;
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      try {
        const pid = Number(readFileSync(pidfile, 'utf8').trim());
        process.kill(pid, 'SIGTERM');
        const until = Date.now() + 3_000;
        while (Date.now() < until) {
          try {
            process.kill(pid, 0);
          } catch {
            break;
          }
          await new Promise((r) => setTimeout(r, 20));
        }
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* exited */
        }
      } catch {
        /* never started */
      }
      running.delete(pidfile);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
