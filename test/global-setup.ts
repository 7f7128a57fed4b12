/**
 * Once per test run, in vitest's main process: builds dist/ (subprocess tests exercise the real executable and the
 * shipped Lambda bundles), and at the end stops the emulators and servers the workers shared (test/harness/shared.ts).
 * It also sweeps what runs that were killed left behind.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stopSharedMotos } from './harness/moto.js';
import { stopSharedPostgres } from './harness/postgres.js';
import { isAlive, listRunDirs, runDirOf } from './harness/shared.js';

async function cleanRunDir(dir: string): Promise<void> {
  let workers: string[] = [];
  try {
    workers = readdirSync(dir)
      .filter((n) => n.startsWith('worker-'))
      .map((n) => path.join(dir, n));
  } catch {
    return;
  }
  await Promise.all([stopSharedMotos(workers), stopSharedPostgres(workers)]);
  rmSync(dir, { recursive: true, force: true });
}

export default async function setup(): Promise<() => Promise<void>> {
  await Promise.all(
    listRunDirs()
      .filter((r) => !isAlive(r.ownerPid))
      .map((r) => cleanRunDir(r.dir)),
  );
  if (process.env.BGMIG_TEST_BUILD !== '0') {
    const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
    execFileSync(process.execPath, [path.join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'inherit', env: { ...process.env, BGMIG_BUILD_QUIET: '1' } });
  }
  return () => cleanRunDir(runDirOf(process.pid));
}
