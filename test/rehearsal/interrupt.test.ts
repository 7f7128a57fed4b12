/**
 * Ctrl-C in the middle of the cutover: the real executable gets SIGINT while `db cutover` runs, stops everything it
 * started and exits 130 — no PostgreSQL server, emulator or pooler process of that run left, its temp dir gone.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BGMIG_BIN, REPO_ROOT } from '../harness/cli.js';
import { processesMatching, runNeedles } from './helpers.js';

describe('bgmig rehearse interrupted', () => {
  it('SIGINT mid-cutover leaves no server, emulator or temp dir behind', { timeout: 240_000 }, async () => {
    const child = spawn(process.execPath, [BGMIG_BIN, 'rehearse'], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1' },
    });
    let out = '';
    let signalled = false;
    let workspace = '';
    let emulator: string | null = null;
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      workspace ||= /workspace: (\S+)/.exec(out)?.[1] ?? '';
      emulator ??= /moto \S+ at (http:\/\/\S+)/.exec(out)?.[1] ?? null;
      if (!signalled && out.includes('$ bgmig db cutover')) {
        signalled = true;
        child.kill('SIGINT');
      }
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 220_000);
    const code = await exited;
    clearTimeout(timer);
    expect(signalled, out).toBe(true);
    expect(code, out).toBe(130);
    expect(out).toContain('Interrupted: stopping everything the rehearsal started');
    expect(out).toContain('Cleaned up: no server, emulator or temp dir left.');
    // The cutover had started and had not printed its result when the signal came.
    expect(out).not.toContain('Cutover blue → green completed');
    expect(workspace).not.toBe('');
    expect(existsSync(workspace)).toBe(false);
    expect(processesMatching(runNeedles(workspace, emulator))).toEqual([]);
  });
});
