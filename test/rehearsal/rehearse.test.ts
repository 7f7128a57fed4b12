/**
 * `bgmig rehearse` end to end, through the real executable: embedded PostgreSQL, the emulator, the sample
 * application, every command in order. It must PASS, lose nothing (checked row by row by the rehearsal itself, and
 * re-checked here from its JSON), write its HTML report, and leave no server, emulator or temp dir behind.
 */
import { execSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RehearsalResult } from '../../src/rehearsal/run.js';
import { runBgmig } from '../harness/cli.js';
import { processesMatching, runNeedles } from './helpers.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'bgmig-rehearse-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('bgmig rehearse', () => {
  it('runs the whole migration with 0 writes lost, exits 0 on PASS, writes the timeline and cleans up', { timeout: 300_000 }, async () => {
    const report = path.join(dir, 'rehearsal.html');
    const res = await runBgmig(['rehearse', '--json', '--report', report], { timeoutMs: 280_000 });
    const r = JSON.parse(res.stdout) as RehearsalResult;
    if (res.code !== 0) console.error(res.stderr);
    expect(r.verdict.line).toMatch(/^PASS/);
    expect(res.code).toBe(0);
    expect(r.durationMs).toBeLessThan(180_000);

    // Every command ran and held, in the operator's order.
    const names = r.steps.filter((s) => !s.name.startsWith('start ') && !s.name.startsWith('load ') && !s.name.startsWith('provision ')).map((s) => s.name);
    for (const expected of [
      'status',
      'validate',
      'db init',
      'db sync start',
      'db cutover',
      'promote (rollout)',
      'db rollback',
      'rotate-secret-manual',
      'db sync stop',
      'history',
    ]) {
      expect(names).toContain(expected);
    }
    expect(names.indexOf('db cutover')).toBeLessThan(names.indexOf('db rollback'));
    expect(r.steps.filter((s) => s.status === 'failed')).toEqual([]);

    // The application wrote throughout and lost nothing; both switches were felt and measured.
    expect(r.acknowledged).toBeGreaterThan(100);
    expect(r.lost).toBe(0);
    for (const op of ['db cutover', 'db rollback']) {
      const impact = r.steps.find((s) => s.name === op)?.impact;
      expect(impact?.writePauseMs).toBeGreaterThan(0);
      expect(impact?.writePauseMs).toBeLessThan(10_000);
      // Through PgBouncer the switch holds queries instead of failing them.
      if (r.environment.pooler) expect(impact?.errors).toBe(0);
    }
    // The green alarm set mid-bake was answered by the rollout itself, within a few of its 500 ms checks.
    expect(r.rollbackBy).toBe('rollout');
    expect(r.rollbackLatencyMs).toBeGreaterThan(0);
    expect(r.rollbackLatencyMs).toBeLessThan(10_000);

    // The human account went to stderr (stdout carried only the JSON), with each command's own output.
    expect(res.stderr).toContain('$ bgmig db cutover');
    expect(res.stderr).toContain('Cutover blue → green completed');
    expect(res.stderr).toContain('row check on blue (the active database)');

    const html = readFileSync(report, 'utf8');
    expect(html).toContain('<svg');
    expect(html).toContain(r.verdict.line.replace(/&/g, '&amp;'));
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);

    expect(existsSync(r.environment.workspace)).toBe(false);
    expect(processesMatching(runNeedles(r.environment.workspace, r.environment.emulatorEndpoint))).toEqual([]);
  });

  it('without the emulator runs the database half and says what it skipped; --keep leaves it to drive by hand', { timeout: 240_000 }, async () => {
    // A python3 that cannot start moto: what a machine without the emulator looks like to the rehearsal.
    const bin = path.join(dir, 'no-moto');
    mkdirSync(bin, { recursive: true });
    writeFileSync(path.join(bin, 'python3'), '#!/bin/sh\nexit 1\n');
    chmodSync(path.join(bin, 'python3'), 0o755);
    const res = await runBgmig(['rehearse', '--json', '--keep'], { timeoutMs: 220_000, env: { PATH: `${bin}:${process.env.PATH ?? ''}` } });
    const r = JSON.parse(res.stdout) as RehearsalResult;
    const killLine = /^ {2}(kill [\d ]+ && rm -rf \S+)$/m.exec(res.stderr)?.[1];
    try {
      expect(res.code, res.stderr).toBe(0);
      expect(r.environment.emulator).toBeNull();
      expect(res.stderr).toContain(
        'AWS emulator: not installed — traffic, alarms, secrets and the db record are skipped (pip install "moto[server]==5.2.1" to include them)',
      );
      const status = (name: string) => r.steps.find((s) => s.name === name)?.status;
      for (const held of ['validate', 'db init', 'db sync start', 'db cutover', 'db rollback']) expect(status(held)).toBe('held');
      for (const skipped of ['status', 'promote / alarm / rollback', 'rotate-secret-manual', 'history', 'db sync stop'])
        expect(status(skipped)).toBe('skipped');
      expect(r.lost).toBe(0);
      expect(r.acknowledged).toBeGreaterThan(100);
      expect(r.verdict.line).toMatch(/^PASS — \d+ step\(s\) held, \d+ skipped/);

      // --keep: still running, replication up, drivable with the ordinary commands through the env file it wrote.
      expect(r.environment.kept).toBe(true);
      const envFile = path.join(r.environment.workspace, 'env.sh');
      expect(res.stderr).toContain(`source ${envFile}`);
      const env = Object.fromEntries([...readFileSync(envFile, 'utf8').matchAll(/^export (\w+)='([^']*)'$/gm)].map((m) => [m[1], m[2]]));
      expect(Object.keys(env)).toEqual(expect.arrayContaining(['BGMIG_BLUE_URL', 'BGMIG_GREEN_URL']));
      const sync = await runBgmig(['db', 'sync', 'status'], { env: { BGMIG_BLUE_URL: env.BGMIG_BLUE_URL, BGMIG_GREEN_URL: env.BGMIG_GREEN_URL } });
      expect(sync.code, sync.stderr).toBe(0);
      expect(sync.stdout).toContain('active: blue   direction: blue → green');
      expect(killLine).toBeDefined();
    } finally {
      // The printed way to stop it is the way this test stops it.
      if (killLine) execSync(killLine, { stdio: 'ignore' });
    }
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(existsSync(r.environment.workspace)).toBe(false);
    expect(processesMatching(runNeedles(r.environment.workspace, null))).toEqual([]);
  });
});
