/**
 * The rehearsal's pooler: one PgBouncer (https://www.pgbouncer.org/config.html) in transaction mode in front of the
 * active database, which the sample application connects to instead of the database. `db cutover|rollback
 * --pooler` PAUSEs it, repoints its `[databases]` entry and RESUMEs it (src/pooler/). PgBouncer refuses to run as
 * root, so as root it runs as the same OS user as the servers.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, closeSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { sleep } from '../core/sleep.js';
import { freePort, type RunAs } from './postgres.js';

export const POOLER_ADMIN = 'pgb_admin';

export interface LocalPooler {
  host: '127.0.0.1';
  port: number;
  pid: number;
  ini: string;
  /** The admin console URL with its password, for `--pooler`. */
  adminUrl: string;
  /** Rewrites the application user's password in the auth file and RELOADs (what a pooler's roll does). */
  setAppPassword(password: string): Promise<void>;
  stop(): Promise<void>;
}

function authFile(users: Record<string, string>): string {
  // PgBouncer needs the plain password to log in to PostgreSQL with SCRAM on the client's behalf.
  return `${Object.entries(users)
    .map(([u, p]) => `"${u}" "${p.replace(/"/g, '""')}"`)
    .join('\n')}\n`;
}

async function adminCommand(port: number, password: string, sql: string): Promise<void> {
  const c = new pg.Client({ host: '127.0.0.1', port, user: POOLER_ADMIN, password, database: 'pgbouncer', connectionTimeoutMillis: 2_000 });
  c.on('error', () => undefined);
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end().catch(() => undefined);
  }
}

/**
 * Starts PgBouncer under `dir` with one entry `database` → `target`, admitting `appUser`; resolves once its admin
 * console answers (≤ 10 s). Raises a plain Error with the end of its log otherwise.
 */
export async function startPooler(
  bin: string,
  dir: string,
  database: string,
  target: { host: string; port: number },
  appUser: string,
  appPassword: string,
  runAs: RunAs | undefined,
): Promise<LocalPooler> {
  mkdirSync(dir, { recursive: true });
  const give = (p: string) => {
    if (runAs) chownSync(p, runAs.uid, runAs.gid);
  };
  give(dir);
  const adminPassword = randomBytes(12).toString('hex');
  const port = await freePort();
  const ini = path.join(dir, 'pgbouncer.ini');
  const auth = path.join(dir, 'users.txt');
  const logFile = path.join(dir, 'pgbouncer.log');
  writeFileSync(
    ini,
    [
      '[databases]',
      `${database} = host=${target.host} port=${target.port} dbname=${database}`,
      '',
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = scram-sha-256',
      `auth_file = ${auth}`,
      `admin_users = ${POOLER_ADMIN}`,
      'pool_mode = transaction',
      'default_pool_size = 20',
      'max_client_conn = 200',
      'query_wait_timeout = 30',
      '',
    ].join('\n'),
  );
  chmodSync(ini, 0o644);
  writeFileSync(auth, authFile({ [appUser]: appPassword, [POOLER_ADMIN]: adminPassword }), { mode: 0o600 });
  give(auth);
  const fd = openSync(logFile, 'a');
  const child = spawn(bin, [ini], { detached: true, stdio: ['ignore', fd, fd], ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}) });
  closeSync(fd);
  child.unref();
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await adminCommand(port, adminPassword, 'SHOW VERSION');
      break;
    } catch (e) {
      if (child.exitCode !== null || Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`PgBouncer did not start (${(e as Error).message}); see ${logFile}`);
      }
      await sleep(50);
    }
  }
  let stopping: Promise<void> | undefined;
  return {
    host: '127.0.0.1',
    port,
    pid: child.pid ?? 0,
    ini,
    adminUrl: `postgres://${POOLER_ADMIN}:${adminPassword}@127.0.0.1:${port}/pgbouncer`,
    setAppPassword: async (password) => {
      writeFileSync(auth, authFile({ [appUser]: password, [POOLER_ADMIN]: adminPassword }), { mode: 0o600 });
      give(auth);
      await adminCommand(port, adminPassword, 'RELOAD');
    },
    stop: () => {
      stopping ??= new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        // SIGINT: PgBouncer's "safe shutdown" waits for clients; SIGTERM exits at once (the rehearsal is over).
        child.kill('SIGTERM');
      });
      return stopping;
    },
  };
}
