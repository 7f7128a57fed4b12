/**
 * deploy / diff / destroy / bootstrap through @aws-cdk/toolkit-lib against moto.
 *
 * moto's CloudFormation cannot create the real bgmig template (docs/testing.md, "What the emulator tests cover"), so the toolkit wiring is proven with a small
 * fixture app that moto can create: the stack `bgmig-{suffix}` with one SNS topic and the real stack's outputs
 * (the fixture's resource ids), plus outputs that expose what deploy synthesized (weights, active database, image).
 * Everything else is production code: bootstrap check, the toolkit (src/cli/cdk.ts createToolkit), the IoHost,
 * live-state preservation, read-back of the weights after deploying, outputs, diff, destroy.
 *
 * moto quirks handled here: its CloudFormation fetches a TemplateURL only when the URL's host is "localhost" (with
 * 127.0.0.1 it takes "127" for the bucket: NoSuchBucket), so the toolkit talks to moto through localhost; and it
 * cannot execute change-set updates of an existing stack ("Stack with id cdk-deploy-change-set does not exist"),
 * so these deploys use `--method direct` (UpdateStack).
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ICloudAssemblySource, Toolkit } from '@aws-cdk/toolkit-lib';
import { DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { ModifyDBClusterCommand } from '@aws-sdk/client-rds';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AwsClients } from '../../src/aws/clients.js';
import { type DeployOptions, renderDeploy, runDeploy } from '../../src/cli/commands/deploy.js';
import { type DestroyOptions, renderDestroy, runDestroy } from '../../src/cli/commands/destroy.js';
import { type DiffCommandOptions, exitCodeOf as diffExitCode, renderDiff, runDiff } from '../../src/cli/commands/diff.js';
import { prepareToolkitEnvironment, type ToolkitDeps } from '../../src/cli/toolkit-session.js';
import { emit } from '../../src/cli/verb.js';
import type { StackConfig } from '../../src/core/config.js';
import { isBgmigError } from '../../src/core/errors.js';
import { names } from '../../src/core/naming.js';
import { type Fixture, provisionFixture } from '../harness/aws-fixture.js';
import { runBgmig } from '../harness/cli.js';
import { MOTO_ACCOUNT, startMoto, type Moto } from '../harness/moto.js';
import { memoryIo } from './support/memory-io.js';

/** The verbs as register's default runF runs them: the action, then its result printed; resolves to the exit code. */
const deploy = async (o: DeployOptions, d: ToolkitDeps) => emit(d.io, await runDeploy(o, d), renderDeploy);
const diff = async (o: DiffCommandOptions, d: ToolkitDeps) => emit(d.io, await runDiff(o, d), renderDiff, diffExitCode);
const destroy = async (o: DestroyOptions, d: ToolkitDeps) => emit(d.io, await runDestroy(o, d), renderDestroy);

const S = 'dep';
const CERT = `arn:aws:acm:us-east-1:${MOTO_ACCOUNT}:certificate/0f1e2d3c-aaaa-bbbb-cccc-1234567890ab`;
let moto: Moto;
let f: Fixture;
let endpoint: string;
/** Configs the fixture app was synthesized with, in order. */
const synthesized: StackConfig[] = [];

/** The fixture app: what moto can create, carrying the real outputs plus what deploy synthesized. */
async function fixtureAssembly(toolkit: Toolkit, config: StackConfig, opts: { outdir: string }): Promise<ICloudAssemblySource> {
  synthesized.push(config);
  return toolkit.fromAssemblyBuilder(
    async () => {
      const { App, CfnOutput, Stack, aws_sns: sns } = await import('aws-cdk-lib');
      const app = new App({ outdir: opts.outdir, analyticsReporting: false });
      const stack = new Stack(app, names(config.suffix).stack, { env: { account: MOTO_ACCOUNT, region: config.region } });
      // L1 with the fixture's logical id, so an update keeps the resource moto created.
      new sns.CfnTopic(stack, 'AlarmTopic', { topicName: names(config.suffix).alarmTopic });
      for (const [k, v] of Object.entries(f.outputs)) new CfnOutput(stack, k, { value: v });
      new CfnOutput(stack, 'SynthesizedWeights', { value: `${config.weights.blue}/${config.weights.green}` });
      new CfnOutput(stack, 'SynthesizedActiveDatabase', { value: config.activeDatabase });
      new CfnOutput(stack, 'SynthesizedBlueImage', { value: config.blueImage });
      return app.synth();
    },
    { outdir: opts.outdir },
  );
}

function clients(): AwsClients {
  return new AwsClients({ region: 'us-east-1', endpointUrl: endpoint });
}

async function stackOutputs(): Promise<Record<string, string>> {
  const res = await f.clients.cloudformation.send(new DescribeStacksCommand({ StackName: names(S).stack }));
  return Object.fromEntries((res.Stacks?.[0]?.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? '']));
}

beforeAll(async () => {
  moto = await startMoto();
  endpoint = `http://localhost:${moto.port}`;
  process.env.AWS_ACCESS_KEY_ID = 'testing';
  process.env.AWS_SECRET_ACCESS_KEY = 'testing';
  // The fixture app is not what is under test: skip CDK's WebAssembly template validator on its synth (~5 s each).
  process.env.CDK_VALIDATION = 'false';
  f = await provisionFixture(moto, S);
});
afterAll(async () => {
  await moto?.stop();
});

describe('deploy through the toolkit, on moto', () => {
  it('gives the toolkit the same identity as bgmig: --role-arn credentials (assumed, session-based) land in its environment', async () => {
    const saved = { ...process.env };
    try {
      const a = new AwsClients({ region: 'eu-west-1', endpointUrl: endpoint, roleArn: `arn:aws:iam::${MOTO_ACCOUNT}:role/${names(S).operatorRole}` });
      await prepareToolkitEnvironment(a);
      expect(process.env.AWS_REGION).toBe('eu-west-1');
      expect(process.env.AWS_ENDPOINT_URL).toBe(endpoint);
      expect(process.env.AWS_ACCESS_KEY_ID).not.toBe('testing');
      expect(process.env.AWS_SESSION_TOKEN).toBeTruthy();
    } finally {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
    }
  });

  it('refuses to deploy into an environment that is not bootstrapped, saying how (real executable)', async () => {
    const r = await runBgmig(['--suffix', S, 'deploy', '--certificate-arn', CERT, '--yes'], { env: { ...f.env, AWS_ENDPOINT_URL: endpoint } });
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n').filter((l) => l.startsWith('error:'))).toEqual([
      `error: aws://${MOTO_ACCOUNT}/us-east-1 is not bootstrapped for the CDK (no CDKToolkit stack): run \`bgmig bootstrap --region us-east-1\` once, then deploy again.`,
    ]);
  });

  it('bootstraps with the production toolkit wiring (real executable)', async () => {
    const r = await runBgmig(['--suffix', S, 'bootstrap'], { env: { ...f.env, AWS_ENDPOINT_URL: endpoint } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`✔ aws://${MOTO_ACCOUNT}/us-east-1 is bootstrapped (CDKToolkit)`);
    const again = await runBgmig(['--suffix', S, 'bootstrap', '--json'], { env: { ...f.env, AWS_ENDPOINT_URL: endpoint } });
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ environment: `aws://${MOTO_ACCOUNT}/us-east-1`, toolkitStack: 'CDKToolkit' });
  });

  it('deploys, writes outputs, and never moves traffic or the database: deploy → promote 30 → deploy keeps 70/30', async () => {
    const outputsFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'bgmig-outputs-')), 'outputs.json');
    const first = memoryIo({ json: true });
    const code = await deploy(
      { suffix: S, stack: { certificateArn: CERT }, method: 'direct', pollingIntervalMs: 200, outputsFile, requireApproval: 'never' },
      { io: first.io, aws: clients(), assembly: fixtureAssembly },
    );
    expect(code).toBe(0);
    const res1 = JSON.parse(first.stdout());
    expect(res1).toMatchObject({ stack: 'bgmig-dep', weights: { blue: 100, green: 0 }, activeDatabase: 'blue' });
    expect(res1.outputs.HttpsListenerArn).toBe(f.httpsListenerArn);
    expect(res1.outputs.SynthesizedWeights).toBe('100/0');
    expect(existsSync(outputsFile)).toBe(true);
    expect(JSON.parse(readFileSync(outputsFile, 'utf8'))['bgmig-dep'].GreenTargetGroupArn).toBe(f.targetGroupArn.green);
    // Progress rendered from the toolkit's stack-monitor messages, as plain lines (no terminal).
    expect(first.stderr()).toMatch(/bgmig-dep: CloudFormation finished/);

    // An operator shifts 30 % to green with the real executable; the active database moves to green (a cutover).
    const promote = await runBgmig(['--suffix', S, 'promote', '--weight', '30', '--skip-validation'], { env: f.env });
    expect(promote.code, promote.stderr).toBe(0);
    await f.setActiveDatabase('green');

    const second = memoryIo({ json: true });
    await deploy(
      {
        suffix: S,
        stack: { certificateArn: CERT, blueImage: 'public.ecr.aws/nginx/nginx:1.28' },
        method: 'direct',
        pollingIntervalMs: 200,
        requireApproval: 'never',
      },
      { io: second.io, aws: clients(), assembly: fixtureAssembly },
    );
    const res2 = JSON.parse(second.stdout());
    expect(res2).toMatchObject({ weights: { blue: 70, green: 30 }, activeDatabase: 'green' });
    expect(second.stderr()).toContain('Preserving live traffic (blue 70 / green 30) and the active database (green) in the template.');
    expect(synthesized.at(-1)).toMatchObject({ weights: { blue: 70, green: 30 }, activeDatabase: 'green' });
    expect(await f.readWeights()).toEqual({ blue: 70, green: 30 });
    expect(await f.readDbRecord()).toBe(f.clusterEndpoint.green);
    const outs = await stackOutputs();
    expect(outs.SynthesizedWeights).toBe('70/30');
    expect(outs.SynthesizedActiveDatabase).toBe('green');
    expect(outs.SynthesizedBlueImage).toBe('public.ecr.aws/nginx/nginx:1.28');
  });

  it('diff: no differences for the deployed config; --fail exits 1 when there are', async () => {
    const same = memoryIo({ json: true });
    const stack = { certificateArn: CERT, blueImage: 'public.ecr.aws/nginx/nginx:1.28' };
    expect(await diff({ suffix: S, stack, fail: true }, { io: same.io, aws: clients(), assembly: fixtureAssembly })).toBe(0);
    expect(JSON.parse(same.stdout())).toMatchObject({ stack: 'bgmig-dep', exists: true, differenceCount: 0 });

    const changed = memoryIo({ json: true });
    const code = await diff(
      { suffix: S, stack: { ...stack, blueImage: 'public.ecr.aws/nginx/nginx:1.29' }, fail: true },
      { io: changed.io, aws: clients(), assembly: fixtureAssembly },
    );
    expect(code).toBe(1);
    expect(JSON.parse(changed.stdout()).differenceCount).toBe(1);
    // --fail decides the exit code but is no key of the document.
    expect(Object.keys(JSON.parse(changed.stdout()))).toEqual(['stack', 'exists', 'differenceCount', 'securityChanges']);
    expect(changed.stderr()).toMatch(/SynthesizedBlueImage/);
  });

  it('a deploy not approved changes nothing and exits 3', async () => {
    const io = memoryIo({ json: true });
    const err = await deploy(
      {
        suffix: S,
        stack: { certificateArn: CERT, blueImage: 'public.ecr.aws/nginx/nginx:1.30' },
        method: 'direct',
        pollingIntervalMs: 200,
        requireApproval: 'any-change',
      },
      { io: io.io, aws: clients(), assembly: fixtureAssembly },
    ).catch((e: unknown) => e);
    // No terminal and no --yes: Io.confirm refuses, the toolkit is told "no".
    expect(isBgmigError(err) && err.exitCode).toBe(3);
    expect((await stackOutputs()).SynthesizedBlueImage).toBe('public.ecr.aws/nginx/nginx:1.28');
  });

  it('destroy asks the operator to type the suffix and deletes nothing on a mismatch', async () => {
    const typo = memoryIo({ input: 'dep-prod\n' });
    const err = await destroy({ suffix: S }, { io: typo.io, aws: clients(), assembly: fixtureAssembly }).catch((e: unknown) => e);
    expect(isBgmigError(err) && err.exitCode).toBe(3);
    expect((err as Error).message).toBe('Confirmation did not match (typed "dep-prod", expected "dep"): nothing was deleted.');
    expect(typo.stderr()).toContain('Type the suffix "dep" to confirm: ');
    expect((await stackOutputs()).HttpsListenerArn).toBe(f.httpsListenerArn);
  });

  it('destroy stops on deletion protection, then deletes the stack once it is off', async () => {
    await f.clients.rds.send(new ModifyDBClusterCommand({ DBClusterIdentifier: f.clusterIdentifier.blue, DeletionProtection: true, ApplyImmediately: true }));
    const refused = memoryIo({ yes: true });
    const err = await destroy({ suffix: S, pollingIntervalMs: 200 }, { io: refused.io, aws: clients(), assembly: fixtureAssembly }).catch((e: unknown) => e);
    expect(isBgmigError(err) && err.exitCode).toBe(3);
    expect((err as Error).message).toMatch(/^bgmig-dep is protected against deletion — cluster aurora-blue-dep has deletion protection/);

    await f.clients.rds.send(new ModifyDBClusterCommand({ DBClusterIdentifier: f.clusterIdentifier.blue, DeletionProtection: false, ApplyImmediately: true }));
    // Typing the suffix is the confirmation (no --yes needed).
    const ok = memoryIo({ json: true, input: 'dep\n' });
    expect(await destroy({ suffix: S, pollingIntervalMs: 200 }, { io: ok.io, aws: clients(), assembly: fixtureAssembly })).toBe(0);
    expect(JSON.parse(ok.stdout())).toMatchObject({ stack: 'bgmig-dep', destroyed: true });
    const gone = await runBgmig(['--suffix', S, 'status'], { env: f.env });
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('Stack bgmig-dep does not exist');
  });
});
