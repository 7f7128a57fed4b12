/**
 * A real AWS API emulator for tests: moto 5.2.1 in server mode on a free loopback port, started per test file
 * and stopped afterwards. `reset()` clears all state between cases.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { freePort } from './postgres.js';

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

async function waitUp(endpoint: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`moto exited with code ${child.exitCode} before answering`);
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

export async function startMoto(): Promise<Moto> {
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
      await waitUp(endpoint, child, 30_000);
    } catch (e) {
      child.kill('SIGKILL');
      children.delete(child);
      if (attempt < 2) continue;
      throw new Error(`${(e as Error).message}\n${stderr}`);
    }
    return {
      endpoint,
      port,
      env: {
        AWS_ENDPOINT_URL: endpoint,
        AWS_ACCESS_KEY_ID: 'testing',
        AWS_SECRET_ACCESS_KEY: 'testing',
        AWS_REGION: 'us-east-1',
        AWS_DEFAULT_REGION: 'us-east-1',
      },
      reset: async () => {
        const res = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
        if (!res.ok) throw new Error(`moto reset failed: HTTP ${res.status}`);
      },
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
