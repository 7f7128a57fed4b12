/**
 * Issue 16, kind 3: deploy is recoverable and never silently weakens protection. Against moto, through the real
 * toolkit wiring (as test/cli/deploy.test.ts): a small fixture app stands in for the bgmig template (moto cannot
 * create the real one), and carries an IAM role so the security diff is "broadening" like the real stack's.
 *
 * moto: CloudFormation fetches a TemplateURL only from host "localhost" (see deploy.test.ts), and cannot execute a
 * change set that updates a stack — so deploys that must complete use `direct`, and change-set deploys are used
 * where the point is what happens before execution (a declined approval).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ICloudAssemblySource, Toolkit } from '@aws-cdk/toolkit-lib';
import { CreateChangeSetCommand, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AwsClients } from '../../src/aws/clients.js';
import { type DeployOptions, renderDeploy, runDeploy } from '../../src/cli/commands/deploy.js';
import { type DiffCommandOptions, exitCodeOf as diffExitCode, renderDiff, runDiff } from '../../src/cli/commands/diff.js';
import type { ToolkitDeps } from '../../src/cli/toolkit-session.js';
import { emit } from '../../src/cli/verb.js';
import { findStack } from '../../src/deployed/stack.js';
import type { StackConfig } from '../../src/core/config.js';
import { ExitCode, isBgmigError } from '../../src/core/errors.js';
import { names } from '../../src/core/naming.js';
import { type Fixture, provisionFixture } from '../harness/aws-fixture.js';
import { runBgmig } from '../harness/cli.js';
import { MOTO_ACCOUNT, startMoto, type Moto } from '../harness/moto.js';
import { memoryIo } from './support/memory-io.js';

/** The verbs as register's default runF runs them: the action, then its result printed; resolves to the exit code. */
const deploy = async (o: DeployOptions, d: ToolkitDeps) => emit(d.io, await runDeploy(o, d), renderDeploy);
const diff = async (o: DiffCommandOptions, d: ToolkitDeps) => emit(d.io, await runDiff(o, d), renderDiff, diffExitCode);

const CERT = `arn:aws:acm:us-east-1:${MOTO_ACCOUNT}:certificate/0f1e2d3c-aaaa-bbbb-cccc-1234567890ab`;
let moto: Moto;
let endpoint: string;
const synthesized: StackConfig[] = [];
const fixtures: Record<string, Fixture> = {};

/** What moto can create: a topic, an IAM role (a broadening change), and the Environment output the real stack has. */
async function fixtureAssembly(toolkit: Toolkit, config: StackConfig, opts: { outdir: string }): Promise<ICloudAssemblySource> {
  synthesized.push(config);
  return toolkit.fromAssemblyBuilder(
    async () => {
      const { App, CfnOutput, Stack, aws_iam: iam, aws_sns: sns } = await import('aws-cdk-lib');
      const app = new App({ outdir: opts.outdir, analyticsReporting: false });
      const stack = new Stack(app, names(config.suffix).stack, { env: { account: MOTO_ACCOUNT, region: config.region } });
      new sns.CfnTopic(stack, 'AlarmTopic', { topicName: names(config.suffix).alarmTopic });
      new iam.CfnRole(stack, 'OperatorRole', {
        assumeRolePolicyDocument: {
          Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: 'ecs-tasks.amazonaws.com' } }],
          Version: '2012-10-17',
        },
      });
      // A stack the fixture provisioned carries its real outputs (listener, target groups…), which deploy reads back.
      for (const [k, v] of Object.entries(fixtures[config.suffix]?.outputs ?? {})) if (k !== 'Environment') new CfnOutput(stack, k, { value: v });
      new CfnOutput(stack, 'Environment', { value: config.environment });
      return app.synth();
    },
    { outdir: opts.outdir },
  );
}

const clients = () => new AwsClients({ region: 'us-east-1', endpointUrl: endpoint });

beforeAll(async () => {
  moto = await startMoto();
  endpoint = `http://localhost:${moto.port}`;
  process.env.AWS_ACCESS_KEY_ID = 'testing';
  process.env.AWS_SECRET_ACCESS_KEY = 'testing';
  process.env.CDK_VALIDATION = 'false';
  // The environment scenario updates a deployed stack: the fixture provisions it with the resources deploy reads.
  fixtures.env = await provisionFixture(moto, 'env');
  const boot = await runBgmig(['bootstrap'], { env: { ...moto.env, AWS_ENDPOINT_URL: endpoint } });
  expect(boot.code, boot.stderr).toBe(0);
});
afterAll(async () => {
  await moto?.stop();
});

describe('a deploy that does not happen leaves nothing that blocks the next one', () => {
  it('declined at the approval prompt (a person says no): no REVIEW_IN_PROGRESS stack is left, exit 3 says so', async () => {
    const m = memoryIo({ input: 'n\n' });
    (m.io.streams.stdin as { isTTY?: boolean }).isTTY = true; // a person at the terminal answers the prompt
    const err = await deploy(
      { suffix: 'dcl', stack: { certificateArn: CERT }, method: 'change-set', requireApproval: 'broadening', pollingIntervalMs: 200 },
      { io: m.io, aws: clients(), assembly: fixtureAssembly },
    ).catch((e: unknown) => e);
    expect(isBgmigError(err) && err.exitCode, String(err)).toBe(ExitCode.Refused);
    expect((err as Error).message).toMatch(/^Deployment not approved: nothing was deployed/);
    expect(m.stderr()).toContain('widens IAM or security-group permissions');
    expect(await findStack(clients(), 'dcl')).toBeUndefined();
  });

  it('no terminal to ask and no --yes: the same, nothing is left behind', async () => {
    const m = memoryIo();
    const err = await deploy(
      { suffix: 'dcl', stack: { certificateArn: CERT }, method: 'change-set', requireApproval: 'broadening', pollingIntervalMs: 200 },
      { io: m.io, aws: clients(), assembly: fixtureAssembly },
    ).catch((e: unknown) => e);
    expect(isBgmigError(err) && err.exitCode).toBe(ExitCode.Refused);
    expect((err as Error).message).toMatch(/there is no terminal to ask: re-run with --yes/);
    expect(await findStack(clients(), 'dcl')).toBeUndefined();
  });

  it('a REVIEW_IN_PROGRESS stack left by someone else: status and diff name the real state, deploy replaces it', async () => {
    const cfn = await clients().cloudformation();
    await cfn.send(
      new CreateChangeSetCommand({
        StackName: 'bgmig-rvw',
        ChangeSetName: 'cdk-deploy-change-set',
        ChangeSetType: 'CREATE',
        TemplateBody: JSON.stringify({ Resources: { T: { Type: 'AWS::SNS::Topic' } } }),
      }),
    );
    const status = await runBgmig(['--suffix', 'rvw', 'status'], { env: { ...moto.env, AWS_ENDPOINT_URL: endpoint } });
    expect(status.code).toBe(1);
    expect(status.stderr).toMatch(
      /^error: Stack bgmig-rvw has nothing deployed: it is REVIEW_IN_PROGRESS, an empty stack holding a change set that was never executed/m,
    );
    expect(status.stderr).not.toMatch(/older bgmig/);

    const d = memoryIo({ json: true });
    await diff({ suffix: 'rvw', stack: { certificateArn: CERT } }, { io: d.io, aws: clients(), assembly: fixtureAssembly });
    expect(JSON.parse(d.stdout())).toMatchObject({ stack: 'bgmig-rvw', exists: false });
    expect(d.stderr()).toMatch(/has nothing deployed: it is REVIEW_IN_PROGRESS/);
    // The new IAM role is a broadening change: its table is shown once, without approval wording or 'cdk bootstrap'.
    expect(d.stderr().match(/IAM Statement Changes/g) ?? []).toHaveLength(1);
    expect(d.stderr()).toContain('[+] AWS::IAM::Role OperatorRole'); // the diff itself is there
    expect(d.stderr()).toContain('`bgmig deploy` will ask for approval before applying them');
    expect(d.stderr()).not.toMatch(/Please confirm|Do you wish|cdk bootstrap/);

    const m = memoryIo({ json: true });
    const code = await deploy(
      { suffix: 'rvw', stack: { certificateArn: CERT }, method: 'direct', requireApproval: 'never', pollingIntervalMs: 200 },
      { io: m.io, aws: clients(), assembly: fixtureAssembly },
    );
    expect(code).toBe(0);
    expect(m.stderr()).toContain('Stack bgmig-rvw is REVIEW_IN_PROGRESS with nothing deployed: removing it before deploying.');
    expect((await findStack(clients(), 'rvw'))?.status).toBe('CREATE_COMPLETE');
  });
});

describe('a deploy never silently weakens the environment of a deployed stack', () => {
  it('prod stays prod without --environment; --environment dev is refused (exit 3) unless --change-environment', async () => {
    const deployAs = (stack: Record<string, string>, extra: { explicitEnvironment?: boolean; changeEnvironment?: boolean } = {}) => {
      const m = memoryIo({ json: true });
      return {
        m,
        run: deploy(
          { suffix: 'env', stack: { certificateArn: CERT, ...stack }, method: 'direct', requireApproval: 'never', pollingIntervalMs: 200, ...extra },
          { io: m.io, aws: clients(), assembly: fixtureAssembly },
        ),
      };
    };
    const first = deployAs({ environment: 'prod' });
    expect(await first.run).toBe(0);
    expect(synthesized.at(-1)?.environment).toBe('prod');

    // The example from the issue: `deploy --suffix S` without --environment on a prod stack.
    const again = deployAs({ environment: 'dev' }, { explicitEnvironment: false });
    expect(await again.run).toBe(0);
    expect(synthesized.at(-1)?.environment).toBe('prod');
    expect(again.m.stderr()).toContain('Keeping environment prod as deployed (deletion protection on both databases stays on)');

    const weaker = deployAs({ environment: 'dev' });
    const err = await weaker.run.catch((e: unknown) => e);
    expect(isBgmigError(err) && err.exitCode).toBe(ExitCode.Refused);
    expect((err as Error).message).toBe(
      'bgmig-env is deployed as prod (deletion protection on both databases); --environment dev would turn that protection off: if that is what you mean, add --change-environment (nothing was deployed).',
    );
    expect(synthesized.at(-1)?.environment).toBe('prod'); // nothing was synthesized for the refused deploy

    const meant = deployAs({ environment: 'staging' }, { changeEnvironment: true });
    expect(await meant.run).toBe(0);
    expect(synthesized.at(-1)?.environment).toBe('staging');
    const out = await (await clients().cloudformation()).send(new DescribeStacksCommand({ StackName: 'bgmig-env' }));
    expect(out.Stacks?.[0]?.Outputs?.find((o) => o.OutputKey === 'Environment')?.OutputValue).toBe('staging');
  });
});

describe('settings file', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bgmig-settings-'));

  it('the executable: synth takes its settings from the file, and a bad value in it is exit 2 before synthesizing', async () => {
    writeFileSync(path.join(dir, 'bgmig.demo.json'), JSON.stringify({ environment: 'prod', testCidr: '10.0.0.0/33' }));
    const bad = await runBgmig(['--suffix', 'demo', 'synth', '--output', path.join(dir, 'out')], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stdout + bad.stderr).toContain('Using settings from bgmig.demo.json');
    expect(bad.stderr).toMatch(/error: --test-cidr must be an IPv4 CIDR like 203\.0\.113\.0\/24, got "10\.0\.0\.0\/33"/);
    const flagWins = await runBgmig(['--suffix', 'demo', 'synth', '--test-cidr', '10.1.0.0/16', '--output', path.join(dir, 'out'), '--json'], {
      cwd: dir,
      timeoutMs: 180_000,
    });
    expect(flagWins.code, flagWins.stderr).toBe(0);
    expect(JSON.parse(flagWins.stdout)).toMatchObject({ environment: 'prod' });
    // Off a terminal the synthesis says what it is doing and roughly how long it takes.
    expect(flagWins.stderr).toMatch(/Synthesizing bgmig-demo and running cdk-nag \(about 2–3 s\)…/);
  });
});

describe('toolkit messages worded for bgmig', () => {
  it('bootstrap --execution-policy is checked (exit 2) and its help advertises only options bgmig accepts', async () => {
    const r = await runBgmig(['bootstrap', '--execution-policy', 'AdministratorAccess']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--execution-policy must be an IAM managed-policy ARN/);
    // (Re-bootstrapping with a new policy updates CDKToolkit through a change set, which moto cannot execute.)
    const help = await runBgmig(['bootstrap', '--help']);
    expect(help.stdout).toContain('--execution-policy <arn>');
    expect(help.stdout).not.toContain('--cloudformation-execution-policies');
  });
});
