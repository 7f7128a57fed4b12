/**
 * A real AWS API emulator for tests: moto 5.2.1 in server mode on a free loopback port.
 *
 * `startMoto()` inside a vitest worker hands out that worker's shared emulator (see shared.ts): started on first
 * use, reset before it is handed out, so a file sees an empty emulator exactly as if it had started its own.
 * `stop()` from an afterAll hook releases it (it keeps running for the worker's next file); `stop()` from inside
 * a test really stops it (a test making AWS unreachable) and the next file gets a new one. A second `startMoto()`
 * while the file still holds the shared one, and every call outside vitest, starts a private emulator.
 * `reset()` clears all state between cases.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import path from 'node:path';
import { freePort } from './postgres.js';
import { dropRecord, isAlive, readRecords, refuseInUnitLayer, stopMeansRelease, workerSlot, writeRecord } from './shared.js';

export interface Moto {
  endpoint: string;
  port: number;
  /** Environment for SDK clients and bgmig subprocesses pointed at this emulator. */
  env: Record<string, string>;
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export const MOTO_ACCOUNT = '123456789012';

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

/**
 * moto's server with a watchdog thread: it exits when the process named first on its command line is gone, so a
 * shared emulator never outlives the test run that started it, even when that run is killed.
 */
const WATCHED_MOTO = `import os, sys, threading, time
owner = int(sys.argv[1])
def watch():
    while True:
        time.sleep(1)
        try:
            os.kill(owner, 0)
        except ProcessLookupError:
            os._exit(0)
        except PermissionError:
            pass
threading.Thread(target=watch, daemon=True).start()
from moto.server import main
main(sys.argv[2:])
`;

async function waitUp(endpoint: string, exited: () => number | null, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    const code = exited();
    if (code !== null) throw new Error(`moto exited with code ${code} before answering`);
    try {
      const res = await fetch(`${endpoint}/moto-api/data.json`);
      if (res.ok) return;
    } catch (e) {
      lastErr = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`moto did not answer on ${endpoint} within ${timeoutMs} ms: ${String(lastErr)}`);
}

function envFor(endpoint: string): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: endpoint,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
  };
}

async function resetAt(endpoint: string): Promise<void> {
  const res = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
  if (!res.ok) throw new Error(`moto reset failed: HTTP ${res.status}`);
}

async function killPid(pid: number): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  for (let i = 0; i < 30 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  if (isAlive(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}

/** A private emulator: this file's own, stopped by `stop()` or when the test process exits. */
export async function startPrivateMoto(): Promise<Moto> {
  refuseInUnitLayer('moto started');
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const child = spawn('python3', ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, PYTHONUNBUFFERED: '1' },
    });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    children.add(child);
    const endpoint = `http://127.0.0.1:${port}`;
    try {
      await waitUp(endpoint, () => child.exitCode, 30_000);
    } catch (e) {
      child.kill('SIGKILL');
      children.delete(child);
      if (attempt < 2) continue;
      throw new Error(`${(e as Error).message}\n${stderr}`);
    }
    return {
      endpoint,
      port,
      env: envFor(endpoint),
      reset: () => resetAt(endpoint),
      stop: async () => {
        if (child.exitCode !== null) return;
        await new Promise<void>((resolve) => {
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
          setTimeout(() => child.kill('SIGKILL'), 3000).unref();
        });
        children.delete(child);
      },
    };
  }
}

interface MotoRecord {
  pid: number;
  port: number;
}

let sharedHeld = false;

/** Starts the worker's shared emulator, detached so it survives this test file's process. */
async function spawnShared(dir: string, ownerPid: number): Promise<MotoRecord> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const logFile = path.join(dir, `moto-${port}.log`);
    const log = openSync(logFile, 'a');
    const child = spawn('python3', ['-c', WATCHED_MOTO, String(ownerPid), '-H', '127.0.0.1', '-p', String(port)], {
      stdio: ['ignore', log, log],
      env: { ...process.env, PYTHONUNBUFFERED: '1' },
      detached: true,
    });
    closeSync(log);
    child.unref();
    const pid = child.pid ?? 0;
    try {
      await waitUp(`http://127.0.0.1:${port}`, () => child.exitCode, 30_000);
      return { pid, port };
    } catch (e) {
      await killPid(pid);
      if (attempt < 2) continue;
      throw e;
    }
  }
}

export async function startMoto(): Promise<Moto> {
  refuseInUnitLayer('moto started');
  const slot = workerSlot();
  if (!slot || sharedHeld) return startPrivateMoto();
  sharedHeld = true;
  try {
    const file = path.join(slot.dir, 'moto.json');
    let rec = readRecords<MotoRecord>(slot.dir, 'moto.').at(0)?.data;
    if (rec && isAlive(rec.pid)) {
      try {
        await resetAt(`http://127.0.0.1:${rec.port}`);
      } catch {
        await killPid(rec.pid);
        rec = undefined;
      }
    } else {
      rec = undefined;
    }
    if (!rec) {
      dropRecord(file);
      rec = await spawnShared(slot.dir, slot.ownerPid);
      writeRecord(file, rec);
    }
    const { pid, port } = rec;
    const endpoint = `http://127.0.0.1:${port}`;
    let done = false;
    return {
      endpoint,
      port,
      env: envFor(endpoint),
      reset: () => resetAt(endpoint),
      stop: async () => {
        if (done) return;
        done = true;
        sharedHeld = false;
        if (stopMeansRelease()) return;
        dropRecord(file);
        await killPid(pid);
      },
    };
  } catch (e) {
    sharedHeld = false;
    throw e;
  }
}

/** Stops the shared emulators recorded in a run directory's worker sub-directories (global teardown). */
export async function stopSharedMotos(workerDirs: string[]): Promise<void> {
  const recs = workerDirs.flatMap((d) => readRecords<MotoRecord>(d, 'moto.'));
  await Promise.all(
    recs.map(async (r) => {
      await killPid(r.data.pid);
      dropRecord(r.file);
    }),
  );
}
