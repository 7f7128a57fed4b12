/**
 * `bgmig rotate-secret-manual` in AWS mode (no URL): moto holds the stack outputs, secrets, RDS clusters and ECS
 * services (the shared aws-fixture); two local PostgreSQL servers play the clusters. moto cannot run Lambda code, so
 * the rotation's Functions port routes each event to the REAL handler in-process — the validator's connection check
 * for a master secret, the cutover function's setAppPassword / checkAppLogin for --app — with the handlers reading
 * the same moto secrets. One test runs the production invoker against moto to pin down the failure an operator
 * sees when the function cannot run.
 */
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { CreateFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Chalk } from 'chalk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dnsRecordsOver, secretVersionsOver } from '../../src/aws/sdk.js';
import { type RotateDeps, type RotateOptions, renderRotate, runRotate } from '../../src/cli/commands/rotate-secret-manual.js';
import type { Functions, Invocation } from '../../src/aws/ports.js';
import { ExitCode } from '../../src/core/errors.js';
import { CutoverEnv, ValidatorEnv } from '../../src/core/lambda-env.js';
import type { Color } from '../../src/core/naming.js';
import { parseDbUrl } from '../../src/db/connection.js';
import { scramVerifier } from '../../src/dbinit/app-role.js';
import { type CutoverEvent, makeHandler as makeCutoverHandler } from '../../src/lambda/db-cutover.js';
import { makeHandler as makeValidatorHandler } from '../../src/lambda/schema-validator.js';
import type { RotationReport, RotationSpec } from '../../src/rotation/rotate.js';
import { SqlPasswordApplier } from '../../src/rotation/targets.js';
import { type Fixture, provisionFixture } from '../harness/aws-fixture.js';
import { type Captured, captureProcessOutput } from '../harness/capture.js';
import { runBgmig } from '../harness/cli.js';
import { type Moto, startMoto } from '../harness/moto.js';
import { type PgServer, startPostgres } from '../harness/postgres.js';
import {
  APP_USER,
  CapturedIo,
  afterEachApply,
  MASTER_USER,
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
let fx: Fixture;
let servers: Record<Color, PgServer>;
let logs: Captured;
const MASTER_PW: Record<Color, string> = { blue: 'blue-master-Initial-Pw-61a2', green: 'green-master-Initial-Pw-93c4' };
const INITIAL_APP_PW = 'app-Initial-Pw-57d8e9';
/** Every event the rotation sent to a function, to prove that no password ever travelled in one. */
const events: Array<{ functionName: string; event: unknown }> = [];
/** Every password the tests saw, checked against blue's statement log at the end. */
const seen = new Set<string>();

/** The invoker a test injects: the event goes through JSON (as over the wire) to the real handler in-process. */
function inProcessInvoker(): Functions {
  const validator = makeValidatorHandler({
    env: {
      [ValidatorEnv.BlueSecretArn]: fx.secretArn.blue,
      [ValidatorEnv.GreenSecretArn]: fx.secretArn.green,
      [ValidatorEnv.ArtifactsBucket]: fx.bucket,
      BGMIG_DB_SSL: 'disable',
    },
    secretVersions: secretVersionsOver(async () => fx.clients.secrets),
  });
  const cutover = makeCutoverHandler({
    env: {
      [CutoverEnv.BlueSecretArn]: fx.secretArn.blue,
      [CutoverEnv.GreenSecretArn]: fx.secretArn.green,
      [CutoverEnv.AppSecretArn]: fx.secretArn.app,
      [CutoverEnv.HostedZoneId]: fx.hostedZoneId,
      [CutoverEnv.DbRecordName]: fx.dbRecordName,
      [CutoverEnv.BlueClusterEndpoint]: fx.clusterEndpoint.blue,
      [CutoverEnv.GreenClusterEndpoint]: fx.clusterEndpoint.green,
      BGMIG_DB_SSL: 'disable',
    },
    secretVersions: secretVersionsOver(async () => fx.clients.secrets),
    dnsRecords: dnsRecordsOver(async () => fx.clients.route53),
  });
  return {
    async invoke(functionName: string, event: unknown): Promise<Invocation> {
      events.push({ functionName, event });
      // Through JSON, as over the wire: the handlers must cope with exactly what Lambda would hand them.
      const wire: unknown = JSON.parse(JSON.stringify(event));
      if (functionName === fx.outputs.ValidatorFunctionName) return { payload: JSON.stringify(await validator(wire)) };
      if (functionName === fx.outputs.CutoverFunctionName) return { payload: JSON.stringify(await cutover(wire as CutoverEvent)) };
      throw Object.assign(new Error(`Function not found: ${functionName}`), { name: 'ResourceNotFoundException' });
    },
  };
}

/**
 * moto's cluster has no database behind it: keep the real RDS applier (ModifyDBCluster + wait) and mirror the
 * password onto the local server that plays the cluster. `after` runs after each apply (another actor, in a test).
 */
function mirrorMaster(color: Color, after?: () => Promise<void>) {
  const local = new SqlPasswordApplier(parseDbUrl(servers[color].url(), 'test'), `local ${color}`);
  return (spec: RotationSpec): RotationSpec =>
    afterEachApply(spec, async (c) => {
      await local.apply(c);
      await after?.();
    });
}

async function rotate(o: Omit<RotateOptions, 'suffix'>, io: CapturedIo, deps: RotateDeps = {}): Promise<RotationReport> {
  return runRotate({ suffix: fx.suffix, ...o }, { ...context(fx, io.io), invoker: inProcessInvoker(), masterSettle: { attempts: 2, delayMs: 200 }, ...deps });
}

async function appLogin(color: Color, password: string): Promise<boolean> {
  return canLogin(servers[color], APP_USER, password, 'app');
}

function expectNoSecret(text: string, secrets: string[]): void {
  expect(secrets.length).toBeGreaterThan(0);
  for (const s of secrets) {
    seen.add(s);
    expect(text.includes(s), 'a password appeared').toBe(false);
  }
}

beforeAll(async () => {
  const [m, b, g] = await Promise.all([startMoto(), startPostgres({ settings: { log_statement: 'all' } }), startPostgres()]);
  moto = m;
  servers = { blue: b, green: g };
  fx = await provisionFixture(moto, 'rota');
  Object.assign(process.env, fx.env);
  for (const color of ['blue', 'green'] as const) {
    // Like Aurora's master user: may create roles and databases, not a superuser.
    await servers[color].sql(`CREATE ROLE ${MASTER_USER} LOGIN CREATEROLE CREATEDB PASSWORD '${scramVerifier(MASTER_PW[color])}'`);
    await setSecret(fx, fx.secretArn[color], {
      username: MASTER_USER,
      password: MASTER_PW[color],
      engine: 'postgres',
      host: servers[color].host,
      port: servers[color].port,
      dbname: 'postgres',
    });
    await makeServiceStable(fx, color);
  }
  await setSecret(fx, fx.secretArn.app, { username: APP_USER, password: INITIAL_APP_PW, engine: 'postgres', dbname: 'app' });
  // `bgmig db init` in AWS mode, through the same in-process cutover function: the application role on both.
  const init = await inProcessInvoker().invoke(fx.outputs.CutoverFunctionName, { operation: 'init', options: {} });
  expect(JSON.parse(init.payload)).toMatchObject({ ok: true });
  events.length = 0;
  logs = captureProcessOutput();
});

afterAll(async () => {
  logs?.restore();
  if (servers?.blue) {
    // Blue logs every statement: no password bgmig generated may appear there (it sends SCRAM verifiers).
    const log = readFileSync(path.join(path.dirname(servers.blue.dataDir), 'server.log'), 'utf8');
    const generated = [...seen].filter((pw) => pw !== MASTER_PW.blue && pw !== INITIAL_APP_PW && pw !== servers.blue.password);
    // Rotations ran, so passwords were generated: an empty list would make the check vacuous.
    expect(generated.length, 'passwords generated by the rotations').toBeGreaterThan(0);
    for (const pw of generated) expect(log.includes(pw), 'a password in the statement log').toBe(false);
  }
  await Promise.all([moto?.stop(), servers?.blue.stop(), servers?.green.stop()]);
});

describe('rotate-secret-manual --color in AWS mode: set through RDS, test through the validator function', () => {
  it("rotates the blue master secret; the test step is the validator's connection check on the named version", async () => {
    const before = await snapshotSecret(fx, fx.secretArn.blue);
    const oldId = versionWith(before, 'AWSCURRENT') ?? '';
    const io = new CapturedIo({ yes: true, verbose: true });
    const report = await rotate({ color: 'blue', waitTimeout: '5s' }, io, { decorate: mirrorMaster('blue') });
    expect(report.outcome).toBe('rotated');
    const after = await snapshotSecret(fx, fx.secretArn.blue);
    const newId = versionWith(after, 'AWSCURRENT') ?? '';
    expect(newId).not.toBe(oldId);
    expect(after.stages[oldId]).toEqual(['AWSPREVIOUS']);
    const newPw = await passwordAt(fx, fx.secretArn.blue, newId, 'AWSCURRENT');
    expect(await canLogin(servers.blue, MASTER_USER, newPw)).toBe(true);
    expect(await canLogin(servers.blue, MASTER_USER, MASTER_PW.blue)).toBe(false);

    // The preflight probed AWSCURRENT, the test step AWSPENDING of the new version — by reference only.
    const checks = events.filter((e) => e.functionName === fx.outputs.ValidatorFunctionName).map((e) => e.event);
    expect(checks).toContainEqual({ kind: 'connection-check', color: 'blue', versionId: oldId, versionStage: 'AWSCURRENT' });
    expect(checks).toContainEqual({ kind: 'connection-check', color: 'blue', versionId: newId, versionStage: 'AWSPENDING' });
    expect(events.every((e) => e.functionName === fx.outputs.ValidatorFunctionName)).toBe(true);
    expect(io.all).toContain(`lambda:Invoke ${fx.outputs.ValidatorFunctionName} {"kind":"connection-check","color":"blue"`);
    expect(io.all).toContain(`${fx.clusterIdentifier.blue}: login with the pending password succeeded.`);
    const secrets = allPasswords(after);
    expectNoSecret(io.all + JSON.stringify(events) + logs.text(), secrets);
    // Fix the in-memory initial password for the next tests.
    MASTER_PW.blue = newPw;
    events.length = 0;
  });

  it('a pending password the cluster rejects: the validator says so, the rotation offers the rollback and restores AWSCURRENT', async () => {
    const before = await snapshotSecret(fx, fx.secretArn.blue);
    const currentId = versionWith(before, 'AWSCURRENT') ?? '';
    const current = await passwordAt(fx, fx.secretArn.blue, currentId, 'AWSCURRENT');
    let applies = 0;
    // Someone changes the password right after bgmig's set step (only the first time: not the rollback's).
    const interfere = async () => {
      if (applies++ === 0) await servers.blue.sql(`ALTER ROLE ${MASTER_USER} PASSWORD '${scramVerifier('changed-behind-our-back')}'`);
    };
    const io = new CapturedIo({ yes: false, answers: ['y', 'y', 'y', 'y'] });
    const err = await rotate({ color: 'blue', waitTimeout: '5s' }, io, { decorate: mirrorMaster('blue', interfere) }).catch((e: unknown) => e);
    expect((err as { exitCode?: number }).exitCode).toBe(ExitCode.Failure);
    expect((err as Error).message).toContain('rejected the pending password, so the rotation was rolled back');
    expect(io.all).toMatch(
      /rejected the pending password \(Login with version [0-9a-f-]+ of the blue master secret failed — PostgreSQL rejected the credentials/,
    );
    const after = await snapshotSecret(fx, fx.secretArn.blue);
    expect(versionWith(after, 'AWSCURRENT')).toBe(currentId);
    expect(versionWith(after, 'AWSPENDING')).toBeUndefined();
    expect(await canLogin(servers.blue, MASTER_USER, current)).toBe(true);
    expectNoSecret(io.all + (err as Error).message + JSON.stringify(events) + logs.text(), allPasswords(after));
    events.length = 0;
  });
});

describe('rotate-secret-manual in AWS mode when the function cannot run at the test step', () => {
  it('stops with one sentence saying the database may hold the pending password; the next run resumes at finish', async () => {
    const before = await snapshotSecret(fx, fx.secretArn.blue);
    const good = inProcessInvoker();
    // The function answers the preflight, then crashes (as Lambda reports it) for the pending version's check.
    const flaky: Functions = {
      invoke: async (functionName, event) =>
        (event as { versionStage?: string }).versionStage === 'AWSPENDING'
          ? {
              payload: JSON.stringify({ errorType: 'Runtime.ExitError', errorMessage: 'RequestId: 1 Error: Runtime exited with error: signal: killed' }),
              functionError: 'Unhandled',
            }
          : good.invoke(functionName, event),
    };
    const err = await rotate({ color: 'blue', waitTimeout: '5s' }, new CapturedIo({ yes: true }), { invoker: flaky, decorate: mirrorMaster('blue') }).catch(
      (e: unknown) => e,
    );
    const msg = (err as Error).message;
    expect((err as { exitCode?: number }).exitCode).toBe(ExitCode.Failure);
    expect(msg.split('\n')).toHaveLength(1);
    expect(msg).toMatch(
      new RegExp(
        `^The validator function ${fx.outputs.ValidatorFunctionName} failed to run connection-check \\(Runtime\\.ExitError: RequestId: 1 Error: Runtime exited with error: signal: killed\\): see its CloudWatch logs \\(log-lambda-schema-validator-rota\\), then re-run the rotation \\(it resumes where it stopped\\); step 3 \\(test\\) could not run, and aurora-blue-rota may hold the pending password while AWSCURRENT has the old one: fix that and re-run`,
      ),
    );
    const mid = await snapshotSecret(fx, fx.secretArn.blue);
    const pendingId = versionWith(mid, 'AWSPENDING') ?? '';
    expect(versionWith(mid, 'AWSCURRENT')).toBe(versionWith(before, 'AWSCURRENT'));

    const io = new CapturedIo({ yes: true });
    const report = await rotate({ color: 'blue', waitTimeout: '5s' }, io, { decorate: mirrorMaster('blue') });
    expect(report.steps.map((x) => x.status)).toEqual(['already-done', 'already-done', 'already-done', 'done', 'done']);
    const after = await snapshotSecret(fx, fx.secretArn.blue);
    expect(versionWith(after, 'AWSCURRENT')).toBe(pendingId);
    MASTER_PW.blue = await passwordAt(fx, fx.secretArn.blue, pendingId, 'AWSCURRENT');
    expect(await canLogin(servers.blue, MASTER_USER, MASTER_PW.blue)).toBe(true);
    expectNoSecret(msg + io.all + JSON.stringify(events), allPasswords(after));
    events.length = 0;
  });
});

describe('rotate-secret-manual --app in AWS mode: set and test through the cutover function', () => {
  it('--dry-run shows the function calls and changes nothing', async () => {
    const before = await snapshotSecret(fx, fx.secretArn.app);
    const io = new CapturedIo({ yes: true });
    const report = await rotate({ app: true, dryRun: true }, io);
    expect(report.outcome).toBe('planned');
    // The plan is in the report, and renderRotate prints it.
    const plan = renderRotate(report, new Chalk({ level: 0 }));
    expect(plan).toContain(`lambda:Invoke ${fx.outputs.CutoverFunctionName} {"operation":"setAppPassword"`);
    expect(plan).toContain(`lambda:Invoke ${fx.outputs.CutoverFunctionName} {"operation":"checkAppLogin"`);
    expect(await snapshotSecret(fx, fx.secretArn.app)).toEqual(before);
    events.length = 0;
  });

  it('rotates the application secret on both clusters and rolls both services; no password in any event or output', async () => {
    const before = await snapshotSecret(fx, fx.secretArn.app);
    const oldId = versionWith(before, 'AWSCURRENT') ?? '';
    const deployments = [await primaryDeploymentId(fx, 'blue'), await primaryDeploymentId(fx, 'green')];
    const io = new CapturedIo({ yes: true, verbose: true });
    const report = await rotate({ app: true, waitTimeout: '5s' }, io);
    expect(report.outcome).toBe('rotated');
    expect(report.databases).toEqual([`${fx.clusterIdentifier.blue} and ${fx.clusterIdentifier.green}`]);
    const after = await snapshotSecret(fx, fx.secretArn.app);
    const newId = versionWith(after, 'AWSCURRENT') ?? '';
    expect(after.stages[oldId]).toEqual(['AWSPREVIOUS']);
    const newPw = await passwordAt(fx, fx.secretArn.app, newId, 'AWSCURRENT');
    for (const c of ['blue', 'green'] as const) {
      expect(await appLogin(c, newPw)).toBe(true);
      expect(await appLogin(c, INITIAL_APP_PW)).toBe(false);
    }
    expect(await primaryDeploymentId(fx, 'blue')).not.toBe(deployments[0]);
    expect(await primaryDeploymentId(fx, 'green')).not.toBe(deployments[1]);
    const ops = events.map((e) => e.event as { operation: string; options: Record<string, unknown> });
    expect(ops).toContainEqual({ operation: 'setAppPassword', options: { versionId: newId, versionStage: 'AWSPENDING' } });
    expect(ops).toContainEqual({ operation: 'checkAppLogin', options: { versionId: newId, versionStage: 'AWSPENDING' } });
    expect(ops).toContainEqual({ operation: 'checkAppLogin', options: { versionId: oldId, versionStage: 'AWSCURRENT' } });
    expect(events.every((e) => e.functionName === fx.outputs.CutoverFunctionName)).toBe(true);
    expectNoSecret(io.all + JSON.stringify(events) + logs.text(), [...allPasswords(after), MASTER_PW.green]);
    events.length = 0;
  });

  it('both or neither: green cannot take the change, so neither cluster does; a re-run completes with the same pending version', async () => {
    const before = await snapshotSecret(fx, fx.secretArn.app);
    const currentId = versionWith(before, 'AWSCURRENT') ?? '';
    const current = await passwordAt(fx, fx.secretArn.app, currentId, 'AWSCURRENT');
    // Another db init/rotation holds the lock that serialises them on green: green's change times out.
    const holder = await servers.green.connect('app');
    await holder.query('BEGIN');
    await holder.query("SELECT pg_advisory_xact_lock(hashtext('bgmig db init'))");
    let err: unknown;
    try {
      err = await rotate({ app: true, waitTimeout: '5s' }, new CapturedIo({ yes: true })).catch((e: unknown) => e);
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }
    expect((err as { exitCode?: number }).exitCode).toBe(ExitCode.Failure);
    expect((err as Error).message).toMatch(
      /^Version [0-9a-f-]+ of the application secret was not applied \(db init failed on green .*lock timeout.*\): fix the cause and re-run the rotation, which uses the same version\.$/,
    );
    expect((err as Error).message.split('\n')).toHaveLength(1);
    const mid = await snapshotSecret(fx, fx.secretArn.app);
    expect(versionWith(mid, 'AWSCURRENT')).toBe(currentId);
    const pendingId = versionWith(mid, 'AWSPENDING') ?? '';
    const pendingPw = await passwordAt(fx, fx.secretArn.app, pendingId, 'AWSPENDING');
    for (const c of ['blue', 'green'] as const) {
      expect(await appLogin(c, current)).toBe(true);
      expect(await appLogin(c, pendingPw)).toBe(false);
    }
    expectNoSecret((err as Error).message, allPasswords(mid));

    const report = await rotate({ app: true, waitTimeout: '5s' }, new CapturedIo({ yes: true }));
    expect(report.steps.map((s) => s.status)).toEqual(['already-done', 'done', 'done', 'done', 'done']);
    const after = await snapshotSecret(fx, fx.secretArn.app);
    expect(versionWith(after, 'AWSCURRENT')).toBe(pendingId);
    for (const c of ['blue', 'green'] as const) expect(await appLogin(c, pendingPw)).toBe(true);
    events.length = 0;
  });
});

describe('rotate-secret-manual in AWS mode with the production invoker (moto cannot run function code)', () => {
  function zipOf(files: Record<string, string>): Buffer {
    const py = `import io,zipfile,sys,json\nb=io.BytesIO()\nz=zipfile.ZipFile(b,'w')\nfor k,v in json.loads(sys.argv[1]).items(): z.writestr(k,v)\nz.close()\nsys.stdout.buffer.write(b.getvalue())`;
    return execFileSync('python3', ['-c', py, JSON.stringify(files)]);
  }

  it('a missing cutover function: one sentence saying to deploy, nothing changed', async () => {
    const before = await snapshotSecret(fx, fx.secretArn.app);
    const err = await runRotate({ suffix: fx.suffix, app: true }, context(fx, new CapturedIo({ yes: true }).io)).catch((e: unknown) => e);
    expect((err as { exitCode?: number }).exitCode).toBe(ExitCode.Failure);
    expect((err as Error).message).toBe(
      `The cutover function ${fx.outputs.CutoverFunctionName} does not exist: deploy the stack with this bgmig version (\`bgmig deploy\`).`,
    );
    expect(await snapshotSecret(fx, fx.secretArn.app)).toEqual(before);
  });

  it('a cutover function moto answers with "error running docker": one sentence naming its log group, nothing changed', async () => {
    const cfg = { region: 'us-east-1', endpoint: moto.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } };
    const role = await new IAMClient(cfg).send(new CreateRoleCommand({ RoleName: 'role-db-cutover-rota', AssumeRolePolicyDocument: '{}' }));
    await new LambdaClient(cfg).send(
      new CreateFunctionCommand({
        FunctionName: fx.outputs.CutoverFunctionName,
        Runtime: 'nodejs22.x',
        Role: role.Role?.Arn ?? '',
        Handler: 'index.handler',
        Code: { ZipFile: zipOf({ 'index.mjs': 'export const handler = async () => ({ ok: true });' }) },
      }),
    );
    const before = await snapshotSecret(fx, fx.secretArn.app);
    const err = await runRotate({ suffix: fx.suffix, app: true }, context(fx, new CapturedIo({ yes: true }).io)).catch((e: unknown) => e);
    const msg = (err as Error).message;
    expect((err as { exitCode?: number }).exitCode).toBe(ExitCode.Failure);
    expect(msg).toMatch(new RegExp(`^The cutover function ${fx.outputs.CutoverFunctionName} failed to run checkAppLogin \\(Handled: error running docker`));
    expect(msg).toMatch(/: see its CloudWatch logs \(log-lambda-db-cutover-rota\), then re-run the rotation \(it resumes where it stopped\)\.$/);
    expect(msg.split('\n')).toHaveLength(1);
    expect(await snapshotSecret(fx, fx.secretArn.app)).toEqual(before);
  });

  it('a validator function moto answers with "error running docker": one sentence, exit 1, nothing changed (in-process and the executable)', async () => {
    const cfg = { region: 'us-east-1', endpoint: moto.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } };
    const role = await new IAMClient(cfg).send(new CreateRoleCommand({ RoleName: 'role-schema-validator-rota', AssumeRolePolicyDocument: '{}' }));
    await new LambdaClient(cfg).send(
      new CreateFunctionCommand({
        FunctionName: fx.outputs.ValidatorFunctionName,
        Runtime: 'nodejs22.x',
        Role: role.Role?.Arn ?? '',
        Handler: 'index.handler',
        Code: { ZipFile: zipOf({ 'index.mjs': 'export const handler = async () => ({ ok: true });' }) },
      }),
    );
    const before = await snapshotSecret(fx, fx.secretArn.blue);
    const err = await runRotate({ suffix: fx.suffix, color: 'blue' }, context(fx, new CapturedIo({ yes: true }).io)).catch((e: unknown) => e);
    const msg = (err as Error).message;
    expect((err as { exitCode?: number }).exitCode).toBe(ExitCode.Failure);
    expect(msg).toMatch(
      new RegExp(`^The validator function ${fx.outputs.ValidatorFunctionName} failed to run connection-check \\(Handled: error running docker`),
    );
    expect(msg).toMatch(/: see its CloudWatch logs \(log-lambda-schema-validator-rota\), then re-run the rotation \(it resumes where it stopped\)\.$/);
    expect(msg.split('\n')).toHaveLength(1);
    expect(await snapshotSecret(fx, fx.secretArn.blue)).toEqual(before);

    const cli = await runBgmig(['rotate-secret-manual', '--suffix', fx.suffix, '--color', 'blue', '--yes'], { env: fx.env });
    expect(cli.code).toBe(ExitCode.Failure);
    const errorLines = cli.stderr.split('\n').filter((l) => l.startsWith('error:'));
    expect(errorLines).toEqual([`error: ${msg}`]);
    expect(cli.stderr).not.toMatch(/\n\s+at /);
    expect(await snapshotSecret(fx, fx.secretArn.blue)).toEqual(before);
  });
});
