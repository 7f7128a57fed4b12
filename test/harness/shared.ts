/**
 * Emulators and database servers shared by the test files that one vitest worker runs, one after the other.
 *
 * vitest runs each test file in a fresh child process (pool "forks", isolate on), at most `maxWorkers` at a time,
 * and tells each one its slot through VITEST_POOL_ID (1..maxWorkers; a slot runs one file at a time). Starting
 * moto and PostgreSQL per file cost 1–2 s each on two busy cores, for 15 emulators and ~35 servers per run. So a
 * file that asks for one gets its slot's instance instead, started on first use and left running for the next file
 * of the same slot; the harness resets it when it is handed out (moto: POST /moto-api/reset; PostgreSQL: every
 * subscription, slot, publication, database, role and setting a test made is dropped, see postgres.ts).
 *
 * The instances of a run are recorded in a run directory named after the vitest main process (the workers'
 * parent): `test/global-setup.ts` stops them when the run ends and sweeps the directories of runs that died. The
 * moto process also exits by itself when that main process is gone.
 *
 * Outside vitest (bench scripts) and with BGMIG_TEST_SHARED=0 every request starts a private instance, as before.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const RUN_DIR_PREFIX = 'bgmig-test-run-';

/** The directory for one vitest run's shared instances (`ownerPid` is the vitest main process). */
export function runDirOf(ownerPid: number): string {
  return path.join(os.tmpdir(), `${RUN_DIR_PREFIX}${ownerPid}`);
}

export interface WorkerSlot {
  /** The run directory (exists). */
  runDir: string;
  /** This worker's own sub-directory of it: one registry file per instance. */
  dir: string;
  /** The vitest main process; shared instances must not outlive it. */
  ownerPid: number;
  poolId: string;
}

let slot: WorkerSlot | null | undefined;

/** This worker's slot, or undefined when instances are not shared (outside vitest, or BGMIG_TEST_SHARED=0). */
export function workerSlot(): WorkerSlot | undefined {
  if (slot !== undefined) return slot ?? undefined;
  const poolId = process.env.VITEST_POOL_ID;
  if (!poolId || process.env.BGMIG_TEST_SHARED === '0' || !process.env.VITEST) {
    slot = null;
    return undefined;
  }
  const ownerPid = process.ppid;
  const runDir = runDirOf(ownerPid);
  const dir = path.join(runDir, `worker-${poolId}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(runDir, 'owner'), String(ownerPid));
  slot = { runDir, dir, ownerPid, poolId };
  return slot;
}

/** One shared instance as recorded on disk. */
export interface Entry<T> {
  file: string;
  data: T;
}

export function readRecords<T>(dir: string, prefix: string): Array<Entry<T>> {
  if (!existsSync(dir)) return [];
  const out: Array<Entry<T>> = [];
  for (const name of readdirSync(dir).sort()) {
    if (!name.startsWith(prefix) || !name.endsWith('.json')) continue;
    const file = path.join(dir, name);
    try {
      out.push({ file, data: JSON.parse(readFileSync(file, 'utf8')) as T });
    } catch {
      rmSync(file, { force: true }); // half-written by a worker that died: the instance is swept by pid/dir below
    }
  }
  return out;
}

export function writeRecord(file: string, data: unknown): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, JSON.stringify(data));
  renameSync(tmp, file); // atomic: a reader never sees half a record
}

export function dropRecord(file: string): void {
  rmSync(file, { force: true });
}

/**
 * Whether a `stop()` call is a release — the file is done with the instance: an afterAll hook, after every test of
 * its suite has run — rather than a test taking the instance down on purpose: a test body, an each-hook or a
 * beforeAll ("the emulator is unreachable", "a side is down"). Only a release may leave a shared instance running.
 *
 * vitest 4.1 keeps the task being run in its worker state (`__vitest_worker__.current`: the test during a test
 * and its each-hooks, the suite during its beforeAll/afterAll). Anything unrecognised counts as "really stop",
 * which is always correct, only slower.
 */
export function stopMeansRelease(): boolean {
  const current = (globalThis as { __vitest_worker__?: { current?: Task } }).__vitest_worker__?.current;
  if (!current || current.type === 'test') return false;
  return allRan(current);
}

interface Task {
  type: string;
  mode?: string;
  result?: { state?: string };
  tasks?: Task[];
}

function allRan(suite: Task): boolean {
  return (suite.tasks ?? []).every((t) =>
    t.type === 'test'
      ? t.mode === 'skip' || t.mode === 'todo' || (t.result?.state !== undefined && t.result.state !== 'run' && t.result.state !== 'queued')
      : allRan(t),
  );
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Run directories in the temp dir, with the vitest process that owns each. */
export function listRunDirs(): Array<{ dir: string; ownerPid: number }> {
  const tmp = os.tmpdir();
  return readdirSync(tmp)
    .filter((n) => n.startsWith(RUN_DIR_PREFIX))
    .map((n) => ({ dir: path.join(tmp, n), ownerPid: Number(n.slice(RUN_DIR_PREFIX.length)) }))
    .filter((r) => Number.isInteger(r.ownerPid) && r.ownerPid > 0);
}

/**
 * The unit layer (vitest project `unit`, files `*.unit.test.ts`) promises no server, emulator or subprocess; the
 * harness keeps that promise by refusing to start one there.
 */
export function refuseInUnitLayer(what: string): void {
  if (process.env.BGMIG_TEST_LAYER === 'unit') {
    throw new Error(
      `${what} in the unit layer: a *.unit.test.ts file runs without servers or subprocesses; name the file *.test.ts to put it in the system layer`,
    );
  }
}
