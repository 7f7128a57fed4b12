/** Runs the real bgmig executable (bin/bgmig.js over the built bundle) as a subprocess. */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { refuseInUnitLayer } from './shared.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BGMIG_BIN = path.join(REPO_ROOT, 'bin', 'bgmig.js');
/** Preload that turns BGMIG_FAILPOINT into the replication journal's checkpoint (see the file). */
const FAILPOINT_PRELOAD = pathToFileURL(path.join(REPO_ROOT, 'test', 'harness', 'failpoint.mjs')).href;

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  durationMs: number;
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  input?: string;
  timeoutMs?: number;
  cwd?: string;
}

/** Variables from the developer's shell that must not leak into a test run. */
const SCRUBBED = [
  'AWS_PROFILE',
  'AWS_ENDPOINT_URL',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'BGMIG_SUFFIX',
  'NO_COLOR',
  'FORCE_COLOR',
];

export function runBgmig(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  refuseInUnitLayer('bgmig run as a subprocess');
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !SCRUBBED.includes(k)) env[k] = v;
  // Keep test runs from touching a real account even if the emulator variables are missing.
  env.AWS_CONFIG_FILE = '/dev/null';
  env.AWS_SHARED_CREDENTIALS_FILE = '/dev/null';
  env.AWS_EC2_METADATA_DISABLED = 'true';
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const preload = env.BGMIG_FAILPOINT ? ['--import', FAILPOINT_PRELOAD] : [];
    const child = spawn(process.execPath, [...preload, BGMIG_BIN, ...args], { cwd: opts.cwd ?? REPO_ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr, durationMs: Date.now() - started });
    });
    if (opts.input !== undefined) child.stdin.end(opts.input);
    else child.stdin.end();
  });
}
