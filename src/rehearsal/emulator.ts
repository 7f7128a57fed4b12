/**
 * The AWS API emulator for the rehearsal: moto in server mode (`python3 -m moto.server`,
 * https://docs.getmoto.org/en/latest/docs/server_mode.html) on a free loopback port, in its own process group.
 * Any dummy credentials work against it; its default account is 123456789012.
 */
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { sleep } from '../core/sleep.js';
import { freePort } from './postgres.js';

const execFileAsync = promisify(execFile);

/** moto's default account id. */
export const EMULATOR_ACCOUNT = '123456789012';
export const EMULATOR_REGION = 'us-east-1';

export interface Emulator {
  endpoint: string;
  port: number;
  pid: number;
  /** `moto x.y.z`. */
  version: string;
  /** Environment for SDK clients and bgmig processes aimed at the emulator (dummy credentials, region). */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/** The installed moto version, or undefined when `python3 -m moto.server` cannot run here. */
export async function emulatorVersion(): Promise<string | undefined> {
  try {
    const { stdout } = await execFileAsync('python3', ['-c', 'import moto.server, moto; print(moto.__version__)'], { timeout: 15_000 });
    return stdout.trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Environment that points the AWS SDK at an emulator endpoint with dummy credentials. */
export function emulatorEnv(endpoint: string, region = EMULATOR_REGION): Record<string, string> {
  return { AWS_ENDPOINT_URL: endpoint, AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_REGION: region, AWS_DEFAULT_REGION: region };
}

/** Starts moto on a free port and waits (≤ 30 s) until it answers. Raises a plain Error with its stderr on failure. */
export async function startEmulator(version: string): Promise<Emulator> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const child = spawn('python3', ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], {
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, PYTHONUNBUFFERED: '1' },
    });
    child.unref();
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    const endpoint = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 30_000;
    let up = false;
    while (Date.now() < deadline && child.exitCode === null) {
      try {
        if ((await fetch(`${endpoint}/moto-api/data.json`)).ok) {
          up = true;
          break;
        }
      } catch {
        /* not listening yet */
      }
      await sleep(100);
    }
    if (!up) {
      child.kill('SIGKILL');
      if (attempt < 2) continue;
      throw new Error(`moto did not answer on ${endpoint}: ${stderr.trim().split('\n').slice(-3).join(' ')}`);
    }
    // Its log goes nowhere once it is up: a kept emulator must not block on a full pipe.
    child.stderr?.destroy();
    let stopping: Promise<void> | undefined;
    return {
      endpoint,
      port,
      pid: child.pid ?? 0,
      version: `moto ${version}`,
      env: emulatorEnv(endpoint),
      stop: () => {
        stopping ??= new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
          child.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          child.kill('SIGTERM');
        });
        return stopping;
      },
    };
  }
}
