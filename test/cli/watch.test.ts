/**
 * Issue 16, kind 4: one --watch contract for `status` and `db sync status` (src/cli/watch.ts): the real executable
 * watched against moto while an alarm clears, and `db sync status --watch` speaking the same contract. The pure
 * decision and loop: watch.unit.test.ts.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WatchLine } from '../../src/cli/watch.js';
import { type Fixture, provisionFixture } from '../harness/aws-fixture.js';
import { BGMIG_BIN, REPO_ROOT, runBgmig } from '../harness/cli.js';
import { startMoto, type Moto } from '../harness/moto.js';
import { startPostgres } from '../harness/postgres.js';

const KEYS = ['at', 'error', 'exitCode', 'result', 'round', 'verdict'];

describe('the executable against moto', () => {
  let moto: Moto;
  let f: Fixture;
  beforeAll(async () => {
    moto = await startMoto();
    f = await provisionFixture(moto, 'wch');
  });
  afterAll(async () => {
    await moto?.stop();
  });

  it('status --watch --until healthy --json follows an alarm clearing and exits 0; --timeout exits 3 while it fires', async () => {
    await f.setAlarm('green', 'cpu', 'ALARM');
    const args = ['--suffix', 'wch', '--json', 'status', '--no-replication', '--watch', '--interval', '1', '--until', 'healthy'];
    // Clear the alarm once the first (degraded) line is out, whatever the machine's load.
    const child = spawn(process.execPath, [BGMIG_BIN, ...args, '--timeout', '90s'], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...f.env, AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let cleared = false;
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (!cleared && out.includes('\n')) {
        cleared = true;
        void f.setAlarm('green', 'cpu', 'OK');
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(code, err).toBe(0);
    const lines = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as WatchLine);
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines[0]).toMatchObject({ verdict: 'degraded', exitCode: 3, result: { degraded: ['alarm-green-cpu-wch is in ALARM'] } });
    expect(lines.at(-1)).toMatchObject({ verdict: 'healthy', exitCode: 0 });
    for (const l of lines) expect(Object.keys(l).sort()).toEqual(KEYS);

    await f.setAlarm('green', 'cpu', 'ALARM');
    const t = await runBgmig([...args, '--timeout', '2s'], { env: f.env, timeoutMs: 60_000 });
    expect(t.code).toBe(3);
    expect(t.stderr).toMatch(/still degraded after --timeout 2\.0 s \(waited for healthy\)/);
    await f.setAlarm('green', 'cpu', 'OK');
  });

  it('db sync status takes the same watch options and checks them the same way', async () => {
    const r = await runBgmig(['db', 'sync', 'status', '--suffix', 'wch', '--watch', '--until', 'green'], { env: f.env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--until must be healthy or degraded, got "green"/);
    const help = await runBgmig(['db', 'sync', 'status', '--help']);
    for (const o of ['--watch', '--interval <seconds>', '--until <verdict>', '--timeout <duration>']) expect(help.stdout).toContain(o);
  });

  it('human status names the reason of a section it could not read, not an internal key', async () => {
    // A report that is not a report: the validation section cannot be read, and says why.
    await f.putReport({ verdict: 'maybe' } as unknown as Parameters<Fixture['putReport']>[0]);
    try {
      const r = await runBgmig(['--suffix', 'wch', 'status', '--no-replication', '--no-color'], { env: f.env });
      expect(r.code).toBe(3);
      expect(r.stdout).toMatch(/^Validation\s+unavailable: s3:\/\/\S+ is not a validation report: re-run `bgmig validate`\./m);
      expect(r.stdout).toMatch(/DEGRADED: could not read the validation report/);
      expect(r.stdout).not.toMatch(/could not read validation\b/);
    } finally {
      await f.restore();
    }
  });
});

describe('db sync status --watch against real PostgreSQL (direct mode)', () => {
  it('speaks the same contract: one JSON line per round with every key, --until stops it with that verdict', async () => {
    const [blue, green] = await Promise.all([startPostgres({ logical: true }), startPostgres({ logical: true })]);
    try {
      const env = { BGMIG_BLUE_URL: blue.url(), BGMIG_GREEN_URL: green.url() };
      const once = await runBgmig(['--json', 'db', 'sync', 'status'], { env });
      const verdict = once.code === 0 ? 'healthy' : 'degraded';
      const r = await runBgmig(['--json', 'db', 'sync', 'status', '--watch', '--interval', '1', '--until', verdict, '--timeout', '30s'], {
        env,
        timeoutMs: 60_000,
      });
      expect(r.code, r.stderr).toBe(once.code);
      const lines = r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as WatchLine);
      expect(lines).toHaveLength(1);
      expect(Object.keys(lines[0] ?? {}).sort()).toEqual(KEYS);
      expect(lines[0]).toMatchObject({ round: 1, verdict, exitCode: once.code, error: null });
      // The result is the same report `db sync status --json` prints.
      expect(Object.keys((lines[0]?.result ?? {}) as object).sort()).toEqual(Object.keys(JSON.parse(once.stdout) as object).sort());
      expect(r.stdout + r.stderr).not.toContain(blue.password);
    } finally {
      await Promise.all([blue.stop(), green.stop()]);
    }
  });
});
