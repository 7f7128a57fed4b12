/**
 * status / promote / rollback end to end: the real bgmig executable against moto, with the resources provisioned by
 * the shared fixture (test/harness/aws-fixture.ts). One moto for the file; reset + re-provision per scenario.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ModifyDBClusterCommand } from '@aws-sdk/client-rds';
import { ChangeResourceRecordSetsCommand } from '@aws-sdk/client-route-53';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AwsClients } from '../../src/aws/clients.js';
import { runPromote } from '../../src/cli/commands/promote.js';
import { watchStatus } from '../../src/cli/commands/status.js';
import { isBgmigError } from '../../src/core/errors.js';
import { type Fixture, provisionFixture } from '../harness/aws-fixture.js';
import { makeReport } from '../harness/reports.js';
import { BGMIG_BIN, REPO_ROOT, runBgmig, type RunResult } from '../harness/cli.js';
import { startMoto, type Moto } from '../harness/moto.js';
import { memoryIo } from './support/memory-io.js';

const S = 'ops';
let moto: Moto;
let f: Fixture;

const bgmig = (args: string[], env: Record<string, string | undefined> = {}) => runBgmig(['--suffix', S, ...args], { env: { ...f.env, ...env } });

/** One sentence on stderr, no stack trace. */
function expectOneSentence(r: RunResult, pattern: RegExp): void {
  const errLines = r.stderr.split('\n').filter((l) => l.startsWith('error:'));
  expect(errLines, r.stderr).toHaveLength(1);
  expect(errLines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
}

beforeAll(async () => {
  moto = await startMoto();
  f = await provisionFixture(moto, S);
});
afterAll(async () => {
  await moto?.stop();
});
/** The provisioned state again, for scenarios that change it (one provisioning per file keeps the suite fast). */
async function fresh(): Promise<void> {
  await f.restore();
}

describe('status', () => {
  beforeEach(fresh);

  it('reports a healthy system with exit 0, and --json puts only the snapshot on stdout', async () => {
    await f.setWeights({ blue: 70, green: 30 });
    await f.putReport(makeReport('compatible', '2026-11-25T01:00:00.000Z'));
    const human = await bgmig(['status', '--no-replication', '--no-color']);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toContain('blue ██████████ 70 % │ green ████ 30 %');
    expect(human.stdout).toMatch(/green 2 healthy, 0 unhealthy, 0 draining/);
    expect(human.stdout).toContain('both colours use the blue database (aurora-blue-ops)');
    expect(human.stdout).toMatch(/Validation\s+compatible \(2026-11-25T01:00:00.000Z/);
    expect(human.stdout).toMatch(/Overall\s+healthy/);

    const json = await bgmig(['status', '--no-replication', '--json']);
    expect(json.code).toBe(0);
    const snap = JSON.parse(json.stdout);
    expect(snap.weights).toEqual({ blue: 70, green: 30 });
    expect(snap.targets.green.healthy).toBe(2);
    expect(snap.alarms.blue).toHaveLength(5);
    expect(snap.database.clusters.map((c: { identifier: string; status: string }) => [c.identifier, c.status])).toEqual([
      ['aurora-blue-ops', 'available'],
      ['aurora-green-ops', 'available'],
    ]);
    expect(snap.database.active.color).toBe('blue');
    expect(snap.validation.verdict).toBe('compatible');
    expect(snap.healthy).toBe(true);
  });

  it('exits 3 (degraded) when an alarm fires or a target does not serve, naming why', async () => {
    await f.setAlarm('blue', 'cpu', 'ALARM');
    const r = await bgmig(['status', '--no-replication', '--no-color']);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/Alarms\s+blue\s+ALARM alarm-blue-cpu-ops, OK ×4/);
    expect(r.stdout).toMatch(/DEGRADED: alarm-blue-cpu-ops is in ALARM/);

    await f.setAlarm('blue', 'cpu', 'OK');
    await f.setTargetHealth('green', 'not-serving');
    const j = await bgmig(['status', '--no-replication', '--json']);
    expect(j.code).toBe(3);
    expect(JSON.parse(j.stdout).degraded).toEqual(['1 unhealthy green target(s)']);
  });

  it('--watch prints one snapshot per interval without a terminal and stops on Ctrl-C (SIGINT)', async () => {
    const child = spawn(process.execPath, [BGMIG_BIN, '--suffix', S, 'status', '--no-replication', '--watch', '--interval', '1', '--no-color'], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...f.env, AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const closed = new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    let exited = false;
    void closed.then(() => (exited = true));
    const snapshots = () => (out.match(/^Overall/gm) ?? []).length;
    const waitFor = async (count: number) => {
      const deadline = Date.now() + 60_000;
      while (snapshots() < count && !exited && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(snapshots(), `stdout:\n${out}\nstderr:\n${err}`).toBeGreaterThanOrEqual(count);
    };
    try {
      await waitFor(2);
      // Change the world between snapshots: a later one must show it.
      await f.setWeights({ blue: 50, green: 50 });
      await waitFor(snapshots() + 2);
    } catch (e) {
      child.kill('SIGKILL');
      throw e;
    }
    child.kill('SIGINT');
    const code = await closed;
    expect(code).toBe(0);
    expect((out.match(/^Overall/gm) ?? []).length).toBeGreaterThanOrEqual(3);
    expect(out).toContain('blue ███████ 50 % │ green ███████ 50 %');
    expect(out).not.toContain('\x1b['); // no cursor movement when not on a terminal
  });

  it('--watch on a terminal redraws in place (cursor up + clear) instead of scrolling', async () => {
    const { io, stdout } = memoryIo();
    (io.streams.stdout as { isTTY?: boolean }).isTTY = true;
    const ci = process.env.CI;
    delete process.env.CI; // Io treats CI=true as "nobody at the terminal"
    try {
      const aws = new AwsClients({ region: 'us-east-1', endpointUrl: moto.endpoint });
      process.env.AWS_ACCESS_KEY_ID = 'testing';
      process.env.AWS_SECRET_ACCESS_KEY = 'testing';
      await f.setAlarm('green', 'memory', 'ALARM');
      const code = await watchStatus({ suffix: S, watch: true, intervalSeconds: 1, maxSnapshots: 2 }, { io, aws });
      expect(code).toBe(3);
    } finally {
      if (ci !== undefined) process.env.CI = ci;
    }
    const out = stdout();
    // ESC [ n A (cursor up n lines) then ESC [ 0 J (erase below): the terminal redraw.
    const frames = out.split(new RegExp(`${String.fromCharCode(27)}\\[\\d+A${String.fromCharCode(27)}\\[0J`));
    expect(frames).toHaveLength(2); // the second frame replaced the first
    const firstFrameLines = frames[0].split('\n').length - 1;
    expect(out).toContain(`\x1b[${firstFrameLines}A\x1b[0J`);
    expect(frames[1]).toMatch(/DEGRADED: alarm-green-memory-ops is in ALARM/);
  });

  it('--watch --json writes one JSON snapshot per line', async () => {
    const { io, stdout, stderr } = memoryIo({ json: true });
    process.env.AWS_ACCESS_KEY_ID = 'testing';
    process.env.AWS_SECRET_ACCESS_KEY = 'testing';
    const aws = new AwsClients({ region: 'us-east-1', endpointUrl: moto.endpoint });
    expect(await watchStatus({ suffix: S, watch: true, intervalSeconds: 1, maxSnapshots: 2, replication: false }, { io, aws })).toBe(0);
    const lines = stdout().trim().split('\n');
    expect(lines).toHaveLength(2);
    // The one --watch contract (src/cli/watch.ts): an envelope per line with the snapshot as its result.
    for (const l of lines)
      expect(JSON.parse(l)).toMatchObject({ verdict: 'healthy', exitCode: 0, error: null, result: { healthy: true, weights: { blue: 100, green: 0 } } });
    expect(stderr()).toBe('');
  });

  it('fails with exit 1 and how to deploy when the stack does not exist', async () => {
    const r = await runBgmig(['--suffix', 'nosuch', 'status'], { env: f.env });
    expect(r.code).toBe(1);
    expectOneSentence(r, /Stack bgmig-nosuch does not exist in us-east-1: deploy it first with `bgmig deploy --suffix nosuch`/);
  });
});

describe('promote', () => {
  beforeEach(fresh);

  it('moves traffic after every gate passes, verifies by read-back and says which database both colours use', async () => {
    await f.putReport(makeReport('compatible'));
    const r = await bgmig(['promote', '--weight', '30', '--no-color']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('✔ validation: compatible');
    expect(r.stdout).toContain('✔ green-health: 2 healthy, 0 unhealthy');
    expect(r.stdout).toContain('✔ green-alarms: 5 alarm(s), none in ALARM');
    expect(r.stdout).toContain('Promoted bgmig-ops: blue 100 / green 0 → blue 70 / green 30 (verified by read-back)');
    expect(r.stdout).toContain('Both colours use the blue database (aurora-blue-ops).');
    expect(await f.readWeights()).toEqual({ blue: 70, green: 30 });

    await f.setActiveDatabase('green');
    const j = await bgmig(['promote', '--weight', '100', '--json']);
    expect(j.code).toBe(0);
    const res = JSON.parse(j.stdout);
    expect(res.after).toEqual({ blue: 0, green: 100 });
    expect(res.activeDatabase).toMatchObject({ color: 'green', clusterIdentifier: 'aurora-green-ops' });
    expect(await f.readWeights()).toEqual({ blue: 0, green: 100 });
  });

  it('a db record that names neither cluster does not fail a verified promote, and makes status degraded', async () => {
    await f.putReport(makeReport('compatible'));
    await f.clients.route53.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: f.hostedZoneId,
        ChangeBatch: {
          Changes: [
            { Action: 'UPSERT', ResourceRecordSet: { Name: f.dbRecordName, Type: 'CNAME', TTL: 5, ResourceRecords: [{ Value: 'old-db.example.com' }] } },
          ],
        },
      }),
    );
    const r = await bgmig(['promote', '--weight', '20']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(
      `warning: traffic moved, but which database both colours use is unknown: The database record ${f.dbRecordName} points at old-db.example.com, which is neither cluster's writer endpoint`,
    );
    expect(await f.readWeights()).toEqual({ blue: 80, green: 20 });
    const s = await bgmig(['status', '--no-replication', '--json']);
    expect(s.code).toBe(3);
    expect(JSON.parse(s.stdout).degraded).toEqual(['could not read database.active']);
  });

  it('refuses (exit 3, names the gate) when the validation verdict is incompatible', async () => {
    await f.putReport(makeReport('incompatible'));
    const r = await bgmig(['promote', '--weight', '10']);
    expect(r.code).toBe(3);
    expectOneSentence(
      r,
      /Promote refused by the validation gate: .* is incompatible: 1 breaking difference\(s\), e\.g\. public\.orders\.total: column dropped on green — fix green's schema/,
    );
    expect(await f.readWeights()).toEqual({ blue: 100, green: 0 });
  });

  it('refuses when green has a target that does not serve, or no target at all', async () => {
    await f.putReport(makeReport('compatible'));
    await f.setTargetHealth('green', 'not-serving');
    const r = await bgmig(['promote', '--weight', '10']);
    expect(r.code).toBe(3);
    expectOneSentence(r, /refused by the green-health gate: green's target group has 0 healthy and 1 unhealthy target\(s\) \(i-[0-9a-f]+:80 unused/);
    await f.setTargetHealth('green', 'none');
    const r2 = await bgmig(['promote', '--weight', '10', '--json']);
    expect(r2.code).toBe(3);
    const err = JSON.parse(r2.stdout).error;
    expect(err.exitCode).toBe(3);
    expect(err.details.gates).toEqual([
      expect.objectContaining({ gate: 'validation', status: 'passed' }),
      expect.objectContaining({ gate: 'green-health', status: 'refused' }),
    ]);
    expect(await f.readWeights()).toEqual({ blue: 100, green: 0 });
  });

  it('refuses when a green alarm is in ALARM', async () => {
    await f.putReport(makeReport('compatible'));
    await f.setAlarm('green', '5xx', 'ALARM');
    const r = await bgmig(['promote', '--weight', '50']);
    expect(r.code).toBe(3);
    expectOneSentence(r, /refused by the green-alarms gate: 1 green alarm\(s\) in ALARM \(alarm-green-5xx-ops\)/);
    expect(await f.readWeights()).toEqual({ blue: 100, green: 0 });
  });

  it('runs validation when there is no report; a missing validator is one sentence with what to do', async () => {
    const r = await bgmig(['promote', '--weight', '50']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('No validation report yet: running schema validation now');
    expectOneSentence(r, /no validation report and the validator function lambda-schema-validator-ops is not deployed: redeploy/);
  });

  it('--skip-validation proceeds with a loud warning; --dry-run changes nothing', async () => {
    await f.putReport(makeReport('incompatible'));
    const dry = await bgmig(['promote', '--weight', '40', '--skip-validation', '--dry-run', '--no-color']);
    expect(dry.code).toBe(0);
    expect(dry.stderr).toMatch(/warning: --skip-validation: the schema gate is OFF/);
    expect(dry.stdout).toContain('Would set bgmig-ops: blue 100 / green 0 → blue 60 / green 40');
    expect(await f.readWeights()).toEqual({ blue: 100, green: 0 });
    const real = await bgmig(['promote', '--weight', '40', '--skip-validation']);
    expect(real.code).toBe(0);
    expect(real.stderr).toMatch(/schema gate is OFF/);
    expect(await f.readWeights()).toEqual({ blue: 60, green: 40 });
  });

  it('detects a concurrent change between its first read and its write, and does not overwrite it', async () => {
    await f.putReport(makeReport('compatible'));
    const aws = new AwsClients({ region: 'us-east-1', endpointUrl: moto.endpoint });
    process.env.AWS_ACCESS_KEY_ID = 'testing';
    process.env.AWS_SECRET_ACCESS_KEY = 'testing';
    // Another operator moves traffic right after promote's first read of the listener.
    const elbv2 = await aws.elbv2();
    let reads = 0;
    elbv2.middlewareStack.add(
      (next, context) => async (args) => {
        const out = await next(args);
        if (context.commandName === 'DescribeListenersCommand' && ++reads === 1) await f.setWeights({ blue: 50, green: 50 });
        return out;
      },
      { step: 'initialize', name: 'concurrentOperator' },
    );
    const { io, stdout } = memoryIo();
    const err = await runPromote({ suffix: S, weight: 20 }, { io, aws }).catch((e: unknown) => e);
    expect(isBgmigError(err) && err.exitCode).toBe(3);
    expect((err as Error).message).toBe(
      'Traffic changed while this command ran (it read blue 100 / green 0, the listener now has blue 50 / green 50): someone else is moving traffic — check with `bgmig status` and re-run if still wanted.',
    );
    expect(stdout()).toBe('');
    expect(await f.readWeights()).toEqual({ blue: 50, green: 50 });
  });

  it('rejects bad weights with exit 2 before touching AWS', async () => {
    for (const [w, msg] of [
      ['-1', '--weight must be a whole number from 0 to 100, got -1.'],
      ['101', '--weight must be a whole number from 0 to 100, got 101.'],
      ['12.5', '--weight must be a whole number from 0 to 100, got "12.5".'],
      ['abc', '--weight must be a whole number from 0 to 100, got "abc".'],
    ]) {
      // An unreachable endpoint proves nothing was called: a call would fail with exit 1.
      const r = await runBgmig(['--suffix', S, 'promote', '--weight', w], { env: { ...f.env, AWS_ENDPOINT_URL: 'http://127.0.0.1:9' } });
      expect(r.code, `${w}: ${r.stderr}`).toBe(2);
      expect(r.stderr.trim()).toBe(`error: ${msg}`);
    }
  });
});

describe('rollback', () => {
  beforeEach(fresh);

  it('sends all traffic to blue at once, verified, even when gates would refuse; a second run is a verified no-op', async () => {
    await f.setWeights({ blue: 20, green: 80 });
    await f.setAlarm('green', '5xx', 'ALARM');
    await f.setTargetHealth('blue', 'not-serving');
    const first = await bgmig(['rollback', '--no-color']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/✔ Rolled back bgmig-ops: blue 20 \/ green 80 → blue 100 \/ green 0 \(verified by read-back, \d+ ms\)/);
    expect(await f.readWeights()).toEqual({ blue: 100, green: 0 });
    const second = await bgmig(['rollback', '--json']);
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ before: { blue: 100, green: 0 }, after: { blue: 100, green: 0 }, changed: false });
  });

  it('loads neither aws-cdk-lib nor the toolkit nor anything else it does not need (module graph)', async () => {
    await f.setWeights({ blue: 0, green: 100 });
    const log = path.join(mkdtempSync(path.join(os.tmpdir(), 'bgmig-loads-')), 'loads.txt');
    const hook = path.join(path.dirname(fileURLToPath(import.meta.url)), 'support', 'record-loads.mjs');
    const r = await bgmig(['rollback'], { NODE_OPTIONS: `--import=${hook}`, BGMIG_LOAD_LOG: log });
    expect(r.code, r.stderr).toBe(0);
    const loaded = readFileSync(log, 'utf8');
    expect(loaded).toContain('@aws-sdk/client-elastic-load-balancing-v2');
    expect(loaded).not.toMatch(/aws-cdk-lib|@aws-cdk\/toolkit-lib|cdk-nag|\/ora\/|client-lambda|client-rds/);
    expect(await f.readWeights()).toEqual({ blue: 100, green: 0 });
  });
});

describe('every command: failures are one sentence', () => {
  beforeAll(fresh);

  it('bad suffix → exit 2', async () => {
    const r = await runBgmig(['--suffix', 'Bad_Suffix', 'rollback'], { env: f.env });
    expect(r.code).toBe(2);
    expectOneSentence(r, /Suffix "Bad_Suffix" is invalid/);
  });

  it('emulator down → exit 1 naming the endpoint', async () => {
    const r = await runBgmig(['--suffix', S, 'status'], { env: { ...f.env, AWS_ENDPOINT_URL: 'http://127.0.0.1:9' } });
    expect(r.code).toBe(1);
    expectOneSentence(r, /Cannot reach the AWS endpoint http:\/\/127\.0\.0\.1:9: check --endpoint-url \/ AWS_ENDPOINT_URL/);
  });

  it('missing credentials → exit 1 saying how to provide them', async () => {
    const r = await runBgmig(['--suffix', S, 'rollback'], { env: { ...f.env, AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined } });
    expect(r.code).toBe(1);
    expectOneSentence(r, /No AWS credentials found: set AWS_PROFILE or pass --profile/);
  });

  it('--verbose adds the stack trace that is otherwise hidden', async () => {
    const r = await runBgmig(['--suffix', S, 'rollback', '--verbose'], { env: { ...f.env, AWS_ENDPOINT_URL: 'http://127.0.0.1:9' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\n\s+at .+:\d+:\d+/);
  });

  it('destroy refuses without a terminal unless --yes, and explains deletion protection', async () => {
    const noTty = await bgmig(['destroy']);
    expect(noTty.code).toBe(3);
    expectOneSentence(noTty, /there is no terminal to ask: re-run with --yes/);
    await f.clients.rds.send(new ModifyDBClusterCommand({ DBClusterIdentifier: f.clusterIdentifier.green, DeletionProtection: true, ApplyImmediately: true }));
    const prot = await bgmig(['destroy', '--yes']);
    expect(prot.code).toBe(3);
    expectOneSentence(
      prot,
      /bgmig-ops is protected against deletion — cluster aurora-green-ops has deletion protection \(aws rds modify-db-cluster --db-cluster-identifier aurora-green-ops --no-deletion-protection\) — nothing was deleted/,
    );
  });

  it('deploy refuses the placeholder certificate with exit 2', async () => {
    const r = await bgmig(['deploy', '--yes']);
    expect(r.code).toBe(2);
    expectOneSentence(r, /Deploy needs a real ACM certificate for the HTTPS listeners: pass --certificate-arn/);
  });
});
