/**
 * `bgmig rotate-secret-manual` end to end: Secrets Manager stages, the CloudFormation outputs and the ECS services
 * live in moto (through the shared aws-fixture); the colour's database is a real PostgreSQL server that the direct
 * mode (--db-url / --blue-url / --green-url) changes with ALTER ROLE and proves with real logins.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RotateOptions, runRotate } from '../../src/cli/commands/rotate-secret-manual.js';
import { ExitCode } from '../../src/core/errors.js';
import type { Checkpoint, RotationReport, RotationSpec } from '../../src/rotation/rotate.js';
import { ROLL_PENDING_STAGE } from '../../src/rotation/secret-store.js';
import { scramVerifier } from '../../src/dbinit/app-role.js';
import { type Fixture, provisionFixture } from '../harness/aws-fixture.js';
import { BGMIG_BIN, REPO_ROOT, runBgmig } from '../harness/cli.js';
import { type Moto, startMoto } from '../harness/moto.js';
import { type PgServer, startPostgres } from '../harness/postgres.js';
import {
  APP_USER,
  CapturedIo,
  MASTER_USER,
  type SecretSnapshot,
  afterEachApply,
  allPasswords,
  canLogin,
  context,
  makeServiceStable,
  passwordAt,
  primaryDeploymentId,
  setSecret,
  snapshotSecret,
  versionWith,
} from './helpers.js';

let moto: Moto;
let blue: PgServer;
let green: PgServer;
let fx: Fixture;
const INITIAL_MASTER_PW = 'initial-master-Pw-4b1d7c';
const INITIAL_APP_PW = 'initial-app-Pw-93e0aa';
const WEAK_PW = 'weak-admin-Pw-5521';
const GREEN_INITIAL_PW = 'green-initial-Pw-77';

beforeAll(async () => {
  // Blue logs every statement: the server log must not see a password either.
  [moto, blue, green] = await Promise.all([startMoto(), startPostgres({ settings: { log_statement: 'all' } }), startPostgres()]);
  fx = await provisionFixture(moto, 'rot');
  // In-process runs build their SDK clients from the environment, like the executable does.
  Object.assign(process.env, fx.env);
  await blue.sql(`CREATE ROLE ${MASTER_USER} LOGIN CREATEROLE PASSWORD '${INITIAL_MASTER_PW}'`);
  for (const s of [blue, green]) await s.sql(`CREATE ROLE ${APP_USER} LOGIN PASSWORD '${INITIAL_APP_PW}'`);
  // A login that may not change other roles: the admin URL that makes "set" fail on one cluster only.
  await green.sql(`CREATE ROLE weak_admin LOGIN PASSWORD '${WEAK_PW}'`);
  await setSecret(fx, fx.secretArn.blue, { username: MASTER_USER, password: INITIAL_MASTER_PW, engine: 'postgres', host: blue.host, port: blue.port, dbname: 'postgres' });
  await setSecret(fx, fx.secretArn.app, { username: APP_USER, password: INITIAL_APP_PW, engine: 'postgres', dbname: 'postgres' });
  await makeServiceStable(fx, 'blue');
});

afterAll(async () => {
  if (blue) {
    const log = readFileSync(path.join(path.dirname(blue.dataDir), 'server.log'), 'utf8');
    expect(log).toContain('ALTER ROLE');
    // The test's own set-up statements carry the initial passwords in clear; every password bgmig generated or
    // restored must be absent (bgmig sends SCRAM verifiers).
    const setUp = new Set([INITIAL_MASTER_PW, INITIAL_APP_PW, WEAK_PW, GREEN_INITIAL_PW, blue.password, green.password]);
    const generated = [...seenPasswords].filter((p) => !setUp.has(p));
    if (generated.length > 0) expectNoSecret(log, generated);
  }
  await Promise.all([moto?.stop(), blue?.stop(), green?.stop()]);
});

/** Everything that must hold after a completed rotation of `secretId`, given the snapshot taken before it. */
async function expectRotated(secretId: string, before: SecretSnapshot, servers: PgServer[], user: string): Promise<{ newVersion: string; newPassword: string }> {
  const after = await snapshotSecret(fx, secretId);
  const oldVersion = versionWith(before, 'AWSCURRENT') ?? '';
  const newVersion = versionWith(after, 'AWSCURRENT') ?? '';
  // Exactly one new version, now AWSCURRENT; the old one AWSPREVIOUS; nothing pending; the roll marker gone.
  expect(Object.keys(after.values).length).toBe(Object.keys(before.values).length + 1);
  expect(before.values[newVersion]).toBeUndefined();
  expect(after.stages[newVersion]).toEqual(['AWSCURRENT']);
  expect(after.stages[oldVersion]).toEqual(['AWSPREVIOUS']);
  expect(versionWith(after, 'AWSPENDING')).toBeUndefined();
  expect(versionWith(after, ROLL_PENDING_STAGE)).toBeUndefined();
  const newPassword = await passwordAt(fx, secretId, newVersion, 'AWSCURRENT');
  const oldPassword = await passwordAt(fx, secretId, oldVersion, 'AWSPREVIOUS');
  expect(newPassword).not.toBe(oldPassword);
  expect(newPassword).toMatch(/^[A-Za-z0-9\-_.]{32}$/);
  for (const s of servers) {
    expect(await canLogin(s, user, newPassword)).toBe(true);
    expect(await canLogin(s, user, oldPassword)).toBe(false);
  }
  return { newVersion, newPassword };
}

/** Every password a test saw, checked against the PostgreSQL statement log at the end. */
const seenPasswords = new Set<string>();

function expectNoSecret(text: string, secrets: string[]): void {
  expect(secrets.length).toBeGreaterThan(0);
  for (const s of secrets) seenPasswords.add(s);
  for (const s of secrets) expect(text.includes(s), 'a password appeared in the output').toBe(false);
}

async function inProcess(o: RotateOptions, io: CapturedIo, deps: Parameters<typeof runRotate>[2] = {}): Promise<RotationReport> {
  return runRotate(context(fx, io.io), o, deps);
}

const blueDirect = (): RotateOptions => ({ color: 'blue', dbUrl: blue.url() });

describe('rotate-secret-manual (direct mode, real executable)', () => {
  it('rotates the blue master secret end to end, and no password appears in any output (--verbose, then --json)', async () => {
    for (const format of [['--verbose'], ['--verbose', '--json']]) {
      const before = await snapshotSecret(fx, fx.secretArn.blue);
      const deploymentBefore = await primaryDeploymentId(fx, 'blue');
      const res = await runBgmig(['rotate-secret-manual', '--suffix', fx.suffix, '--color', 'blue', '--db-url', blue.url(), '--yes', ...format], { env: fx.env });
      expect(res.stderr + res.stdout).not.toMatch(/^error:/m);
      expect(res.code).toBe(0);
      const { newVersion } = await expectRotated(fx.secretArn.blue, before, [blue], MASTER_USER);
      expect(await primaryDeploymentId(fx, 'blue')).not.toBe(deploymentBefore);
      for (const n of [1, 2, 3, 4, 5]) expect(res.stdout + res.stderr).toMatch(new RegExp(`Step ${n}/5 `));
      if (format.includes('--json')) {
        const report = JSON.parse(res.stdout) as RotationReport;
        expect(report).toMatchObject({ outcome: 'rotated', currentVersionId: newVersion, dryRun: false });
        expect(report.pendingVersionId).toBeUndefined();
        expect(report.steps.map((s) => s.status)).toEqual(['done', 'done', 'done', 'done', 'done']);
      } else {
        expect(res.stdout).toContain(`Rotated secret-db-blue-rot: AWSCURRENT is version ${newVersion}`);
        expect(res.stderr).toContain('debug: ');
      }
      const all = await snapshotSecret(fx, fx.secretArn.blue);
      expectNoSecret(res.stdout + res.stderr, [...allPasswords(all), blue.password]);
    }
  });

  it('--dry-run prints the plan with its API calls and changes nothing (secret, database, service)', async () => {
    const before = await snapshotSecret(fx, fx.secretArn.blue);
    const deploymentBefore = await primaryDeploymentId(fx, 'blue');
    const current = await passwordAt(fx, fx.secretArn.blue, versionWith(before, 'AWSCURRENT') ?? '', 'AWSCURRENT');
    const res = await runBgmig(['rotate-secret-manual', '--suffix', fx.suffix, '--color', 'blue', '--db-url', blue.url(), '--dry-run', '--verbose'], { env: fx.env });
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('Dry run: nothing will be changed');
    expect(res.stdout).toContain('secretsmanager:GetRandomPassword');
    expect(res.stdout).toContain(`secretsmanager:PutSecretValue --secret-id secret-db-blue-rot`);
    expect(res.stdout).toContain('ALTER ROLE <user>');
    expect(res.stdout).toContain('ecs:UpdateService --cluster ecs-rot --service svc-blue-rot --force-new-deployment');
    expect(await snapshotSecret(fx, fx.secretArn.blue)).toEqual(before);
    expect(await primaryDeploymentId(fx, 'blue')).toBe(deploymentBefore);
    expect(await canLogin(blue, MASTER_USER, current)).toBe(true);
    expectNoSecret(res.stdout + res.stderr, [...allPasswords(before), blue.password]);
  });

  it('refuses without --yes when there is no terminal, before changing anything (exit 3)', async () => {
    const before = await snapshotSecret(fx, fx.secretArn.blue);
    const res = await runBgmig(['rotate-secret-manual', '--suffix', fx.suffix, '--color', 'blue', '--db-url', blue.url()], { env: fx.env });
    expect(res.code).toBe(ExitCode.Refused);
    expect(res.stderr).toContain('re-run with --yes');
    expect(await snapshotSecret(fx, fx.secretArn.blue)).toEqual(before);
  });
});

describe('rotate-secret-manual resumes after an interruption at every point', () => {
  const points: Checkpoint[] = ['create', 'set', 'test', 'finish:current-moved', 'finish', 'roll:deployed'];
  it.each(points)('killed after %s: the next run finishes with exactly one new password', async (point) => {
    const before = await snapshotSecret(fx, fx.secretArn.blue);
    const killed = new CapturedIo({ yes: true });
    const crash = new Error(`simulated kill after ${point}`);
    await expect(
      inProcess(blueDirect(), killed, {
        hooks: {
          checkpoint: (at) => {
            if (at === point) throw crash;
          },
        },
      }),
    ).rejects.toBe(crash);
    const mid = await snapshotSecret(fx, fx.secretArn.blue);
    const pendingOrNew = versionWith(mid, 'AWSPENDING') ?? versionWith(mid, 'AWSCURRENT');
    expect(Object.keys(mid.values).length).toBe(Object.keys(before.values).length + 1);

    // The dry run of the resumed state says where it will continue, and changes nothing either.
    const dry = new CapturedIo({ yes: false });
    const plan = await inProcess({ ...blueDirect(), dryRun: true }, dry);
    expect(plan.resumed).toBe(true);
    expect(dry.out).toContain('Resuming an earlier rotation at step');
    expect(await snapshotSecret(fx, fx.secretArn.blue)).toEqual(mid);

    const resumed = new CapturedIo({ yes: true, verbose: true });
    const report = await inProcess(blueDirect(), resumed);
    expect(report.resumed).toBe(true);
    const { newVersion } = await expectRotated(fx.secretArn.blue, before, [blue], MASTER_USER);
    // The version the interrupted run created is the one that became AWSCURRENT: no second password.
    expect(newVersion).toBe(pendingOrNew);
    expect(report.steps.find((s) => s.step === 'create')?.status).toBe('already-done');
    expectNoSecret(killed.all + dry.all + resumed.all, allPasswords(await snapshotSecret(fx, fx.secretArn.blue)));
  });
});

describe('rotate-secret-manual killed for real', () => {
  it('SIGKILLed right after the set step, the next run finishes with exactly one new password', async () => {
    const before = await snapshotSecret(fx, fx.secretArn.blue);
    const env = { ...process.env, ...fx.env, AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null' };
    const child = spawn(process.execPath, [BGMIG_BIN, 'rotate-secret-manual', '--suffix', fx.suffix, '--color', 'blue', '--db-url', blue.url(), '--yes'], { cwd: REPO_ROOT, env });
    let out = '';
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('✓ set done')) child.kill('SIGKILL');
    });
    expect(await exited).toBe('SIGKILL');
    const mid = await snapshotSecret(fx, fx.secretArn.blue);
    const created = versionWith(mid, 'AWSPENDING');
    expect(created).toBeDefined();
    const again = await runBgmig(['rotate-secret-manual', '--suffix', fx.suffix, '--color', 'blue', '--db-url', blue.url(), '--yes'], { env: fx.env });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('Resuming an earlier rotation at step');
    const { newVersion } = await expectRotated(fx.secretArn.blue, before, [blue], MASTER_USER);
    expect(newVersion).toBe(created);
    expectNoSecret(out + again.stdout + again.stderr, allPasswords(await snapshotSecret(fx, fx.secretArn.blue)));
  });
});

describe('rotate-secret-manual keeps the database and AWSCURRENT in sync when it stops', () => {
  it('declining the test step after set offers the rollback; accepted, the database is back on AWSCURRENT (exit 3)', async () => {
    const before = await snapshotSecret(fx, fx.secretArn.blue);
    const currentId = versionWith(before, 'AWSCURRENT') ?? '';
    const current = await passwordAt(fx, fx.secretArn.blue, currentId, 'AWSCURRENT');
    const io = new CapturedIo({ yes: false, answers: ['y', 'y', 'n', 'y'] });
    const err = await inProcess(blueDirect(), io).catch((e: unknown) => e);
    expect((err as { exitCode?: number }).exitCode).toBe(ExitCode.Refused);
    expect((err as Error).message).toContain('Stopped before step 3 (test) and rolled back');
    expect(io.err).toContain('The database already has the pending password while AWSCURRENT still holds the old one');
    const after = await snapshotSecret(fx, fx.secretArn.blue);
    expect(versionWith(after, 'AWSCURRENT')).toBe(currentId);
    expect(versionWith(after, 'AWSPENDING')).toBeUndefined();
    expect(await canLogin(blue, MASTER_USER, current)).toBe(true);
  });

  it('works when the admin URL is the rotated master user itself, even once its password in the URL is stale', async () => {
    const before = await snapshotSecret(fx, fx.secretArn.blue);
    const currentId = versionWith(before, 'AWSCURRENT') ?? '';
    const current = await passwordAt(fx, fx.secretArn.blue, currentId, 'AWSCURRENT');
    const selfAdmin: RotateOptions = { color: 'blue', dbUrl: blue.url('postgres', MASTER_USER, current) };
    // Declined after set: the URL's password is no longer the role's, yet the rollback must get through.
    const io = new CapturedIo({ yes: false, answers: ['y', 'y', 'n', 'y'] });
    const err = await inProcess(selfAdmin, io).catch((e: unknown) => e);
    expect((err as Error).message).toContain('and rolled back');
    expect(await canLogin(blue, MASTER_USER, current)).toBe(true);
    // A full rotation, then another with the now stale URL.
    await inProcess(selfAdmin, new CapturedIo({ yes: true }));
    const middle = await snapshotSecret(fx, fx.secretArn.blue);
    await inProcess(selfAdmin, new CapturedIo({ yes: true }));
    await expectRotated(fx.secretArn.blue, middle, [blue], MASTER_USER);
    expect(Object.keys((await snapshotSecret(fx, fx.secretArn.blue)).values).length).toBe(Object.keys(before.values).length + 3);
  });

  it('refuses to start when the database already rejects the AWSCURRENT password (exit 3, nothing changed)', async () => {
    const before = await snapshotSecret(fx, fx.secretArn.blue);
    const current = await passwordAt(fx, fx.secretArn.blue, versionWith(before, 'AWSCURRENT') ?? '', 'AWSCURRENT');
    await blue.sql(`ALTER ROLE ${MASTER_USER} PASSWORD 'someone-else-changed-it'`);
    try {
      const res = await runBgmig(['rotate-secret-manual', '--suffix', fx.suffix, '--color', 'blue', '--db-url', blue.url(), '--yes'], { env: fx.env });
      expect(res.code).toBe(ExitCode.Refused);
      expect(res.stderr).toContain('does not accept the AWSCURRENT password');
      expect(await snapshotSecret(fx, fx.secretArn.blue)).toEqual(before);
    } finally {
      // A verifier, not the clear password: the statement log is checked for generated passwords at the end.
      await blue.sql(`ALTER ROLE ${MASTER_USER} PASSWORD '${scramVerifier(current)}'`);
    }
  });
});

describe('rotate-secret-manual when the database rejects the new password', () => {
  /** Another actor changes the role's password right after bgmig's set step: the test step's real login fails. */
  const interfering = (spec: RotationSpec): RotationSpec =>
    afterEachApply(spec, async () => {
      if (!applyCalls++) await blue.sql(`ALTER ROLE ${MASTER_USER} PASSWORD 'changed-behind-our-back'`);
    });
  let applyCalls = 0;

  it('stops at the test step, offers the rollback and, when accepted, leaves the database and AWSCURRENT in sync', async () => {
    applyCalls = 0;
    const before = await snapshotSecret(fx, fx.secretArn.blue);
    const currentId = versionWith(before, 'AWSCURRENT') ?? '';
    const current = await passwordAt(fx, fx.secretArn.blue, currentId, 'AWSCURRENT');
    // A person at a terminal: yes to create, set, test; yes to the rollback offer.
    const io = new CapturedIo({ yes: false, answers: ['y', 'y', 'y', 'y'] });
    const err = await inProcess(blueDirect(), io, { decorate: interfering }).catch((e: unknown) => e);
    expect((err as { exitCode?: number }).exitCode).toBe(ExitCode.Failure);
    expect((err as Error).message).toContain('rejected the pending password, so the rotation was rolled back');
    expect(io.all).toContain('Rollback: re-apply the AWSCURRENT password');
    expect(io.all).toContain('Roll back now? [y/N]');
    const after = await snapshotSecret(fx, fx.secretArn.blue);
    expect(versionWith(after, 'AWSCURRENT')).toBe(currentId);
    expect(versionWith(after, 'AWSPENDING')).toBeUndefined();
    expect(await canLogin(blue, MASTER_USER, current)).toBe(true);
    expectNoSecret(io.all + (err as Error).message, allPasswords(after));
  });

  it('when the rollback is declined, says how to fix it, and the next run retries with the same pending password', async () => {
    applyCalls = 0;
    const before = await snapshotSecret(fx, fx.secretArn.blue);
    const io = new CapturedIo({ yes: false, answers: ['y', 'y', 'y', 'n'] });
    const err = await inProcess(blueDirect(), io, { decorate: interfering }).catch((e: unknown) => e);
    expect((err as Error).message).toContain('the rollback was declined');
    expect((err as Error).message).toContain('re-run `bgmig rotate-secret-manual --suffix rot --color blue --db-url URL`');
    const mid = await snapshotSecret(fx, fx.secretArn.blue);
    const pending = versionWith(mid, 'AWSPENDING');
    expect(pending).toBeDefined();
    const report = await inProcess(blueDirect(), new CapturedIo({ yes: true }));
    expect(report.steps.map((s) => s.status)).toEqual(['already-done', 'done', 'done', 'done', 'done']);
    const { newVersion } = await expectRotated(fx.secretArn.blue, before, [blue], MASTER_USER);
    expect(newVersion).toBe(pending);
  });
});

describe('rotate-secret-manual roll step', () => {
  it('bounds the wait for an unstable service, keeps the marker, and a re-run finishes the roll only', async () => {
    // Green's service in moto never reaches its desired count until we say so.
    await blue.sql(`CREATE ROLE green_master LOGIN CREATEROLE PASSWORD '${GREEN_INITIAL_PW}'`);
    await setSecret(fx, fx.secretArn.green, { username: 'green_master', password: GREEN_INITIAL_PW, engine: 'postgres', dbname: 'postgres' });
    const before = await snapshotSecret(fx, fx.secretArn.green);
    const res = await runBgmig(['rotate-secret-manual', '--suffix', fx.suffix, '--color', 'green', '--db-url', blue.url(), '--yes', '--wait-timeout', '1s'], { env: fx.env });
    expect(res.code).toBe(ExitCode.Failure);
    expect(res.stderr).toContain('svc-green-rot did not become stable within 1.0 s');
    const mid = await snapshotSecret(fx, fx.secretArn.green);
    expect([...(mid.stages[versionWith(mid, 'AWSCURRENT') ?? ''] ?? [])].sort()).toEqual(['AWSCURRENT', ROLL_PENDING_STAGE]);
    await makeServiceStable(fx, 'green');
    const again = await runBgmig(['rotate-secret-manual', '--suffix', fx.suffix, '--color', 'green', '--db-url', blue.url(), '--yes'], { env: fx.env });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('Resuming an earlier rotation at step 5 (roll)');
    await expectRotated(fx.secretArn.green, before, [blue], 'green_master');
  });
});

describe('rotate-secret-manual --app (both clusters, both services)', () => {
  beforeAll(async () => {
    await makeServiceStable(fx, 'green');
  });

  it('rotates the application secret on both databases and rolls both services', async () => {
    const before = await snapshotSecret(fx, fx.secretArn.app);
    const deployments = [await primaryDeploymentId(fx, 'blue'), await primaryDeploymentId(fx, 'green')];
    const res = await runBgmig(['rotate-secret-manual', '--suffix', fx.suffix, '--app', '--blue-url', blue.url(), '--green-url', green.url(), '--yes', '--verbose'], { env: fx.env });
    expect(res.code).toBe(0);
    await expectRotated(fx.secretArn.app, before, [blue, green], APP_USER);
    expect(await primaryDeploymentId(fx, 'blue')).not.toBe(deployments[0]);
    expect(await primaryDeploymentId(fx, 'green')).not.toBe(deployments[1]);
    expectNoSecret(res.stdout + res.stderr, [...allPasswords(await snapshotSecret(fx, fx.secretArn.app)), blue.password, green.password]);
  });

  it('both or neither: when green refuses the change, blue gets the AWSCURRENT password back', async () => {
    const before = await snapshotSecret(fx, fx.secretArn.app);
    const currentId = versionWith(before, 'AWSCURRENT') ?? '';
    const current = await passwordAt(fx, fx.secretArn.app, currentId, 'AWSCURRENT');
    const weakGreen = green.url('postgres', 'weak_admin', WEAK_PW);
    const res = await runBgmig(['rotate-secret-manual', '--suffix', fx.suffix, '--app', '--blue-url', blue.url(), '--green-url', weakGreen, '--yes'], { env: fx.env });
    expect(res.code).toBe(ExitCode.Failure);
    expect(res.stderr).toContain('Setting the password on aurora-green-rot failed');
    expect(res.stderr).toContain('aurora-blue-rot got the AWSCURRENT password back');
    const after = await snapshotSecret(fx, fx.secretArn.app);
    expect(versionWith(after, 'AWSCURRENT')).toBe(currentId);
    for (const s of [blue, green]) expect(await canLogin(s, APP_USER, current)).toBe(true);
    const pending = versionWith(after, 'AWSPENDING') ?? '';
    const pendingPw = await passwordAt(fx, fx.secretArn.app, pending, 'AWSPENDING');
    for (const s of [blue, green]) expect(await canLogin(s, APP_USER, pendingPw)).toBe(false);
    expectNoSecret(res.stdout + res.stderr, [...allPasswords(after), WEAK_PW, blue.password]);

    // With a capable admin on green the same pending password completes the rotation.
    const ok = await runBgmig(['rotate-secret-manual', '--suffix', fx.suffix, '--app', '--blue-url', blue.url(), '--green-url', green.url(), '--yes'], { env: fx.env });
    if (ok.code !== 0) console.error(ok.stderr);
    expect(ok.code).toBe(0);
    const { newVersion } = await expectRotated(fx.secretArn.app, before, [blue, green], APP_USER);
    expect(newVersion).toBe(pending);
  });
});
