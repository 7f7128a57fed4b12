/**
 * A bgmig environment on moto, for operation tests (status, promote, rollback, rotation, db cutover in AWS mode).
 *
 * The resources are provisioned by the product's own code, `provisionStack` in src/rehearsal/aws-stack.ts (the one
 * `bgmig rehearse` uses): moto's CloudFormation cannot create the real bgmig template (see docs/limits.md), so every
 * resource operations touch is created through its service API, named by `names(suffix)`, and a CloudFormation
 * stack `bgmig-{suffix}` carries their real ids under the OutputKeys the real stack emits. This file keeps the
 * test-only parts: the EC2 client, the non-serving target and `restore()` (reports: test/harness/reports.ts).
 *
 * What moto 5.2.1 cannot do, and how the fixture copes:
 * - Target health is not computed: a registered ip target is always "healthy". There is no way to make one
 *   "unhealthy". The closest real non-serving state moto reports is "unused" for a registered EC2 instance that is
 *   stopped: `setTargetHealth(color, 'not-serving')` does that. The literal "unhealthy" state is covered by
 *   aws-sdk-client-mock tests in addition.
 * - Lambda Invoke does not run code without Docker: the validator/cutover function names are in the outputs but the
 *   functions are not created (invoking them fails with ResourceNotFound, which is itself a tested path).
 * - No throttling or timeouts can be provoked (aws-sdk-client-mock tests cover those).
 */
import type { StateValue } from '@aws-sdk/client-cloudwatch';
import { DescribeImagesCommand, EC2Client, RunInstancesCommand, StopInstancesCommand } from '@aws-sdk/client-ec2';
import { RegisterTargetsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { ModifyDBClusterCommand } from '@aws-sdk/client-rds';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import type { Weights } from '../../src/core/config.js';
import { ALARM_KINDS, type AlarmKind, type Color, COLORS } from '../../src/core/naming.js';
import { RollbackGuardEnv } from '../../src/core/lambda-env.js';
import { ArtifactKeys } from '../../src/core/outputs.js';
import { type ProvisionedStack, provisionStack, type StackClients, stackClients } from '../../src/rehearsal/aws-stack.js';
import { MOTO_ACCOUNT, type Moto } from './moto.js';

export const FIXTURE_REGION = 'us-east-1';

/** Health a test can put a color's target group into (what moto can represent). */
export type FixtureTargetHealth = 'healthy' | 'none' | 'not-serving';

/** The rehearsal stack's clients, plus EC2 (tests look at the VPC the stack was provisioned into). */
export interface FixtureClients extends StackClients {
  ec2: EC2Client;
}

/**
 * The stack `provisionStack` (src/rehearsal/aws-stack.ts) provisions on the emulator, with what tests need beyond it:
 * the environment of a bgmig subprocess, a non-serving target, and a cheap restore between scenarios.
 */
export interface Fixture extends Omit<ProvisionedStack, 'clients' | 'setTargetHealth'> {
  clients: FixtureClients;
  /** Environment for a bgmig subprocess aimed at this fixture (endpoint, dummy credentials, region). */
  env: Record<string, string>;
  /** Replaces a color's registered targets: two healthy ip targets, none, or one non-serving target (see header). */
  setTargetHealth(color: Color, health: FixtureTargetHealth): Promise<void>;
  /**
   * Puts everything operations change back to the provisioned state (weights 100/0, alarms OK, two healthy targets
   * per color, db record on blue, no validation report, no deletion protection) — much cheaper than
   * reset() + provisionFixture() between scenarios that share one environment.
   */
  restore(): Promise<void>;
}

export function fixtureClients(moto: Moto, region = FIXTURE_REGION): FixtureClients {
  return {
    ...stackClients(moto.endpoint, region),
    ec2: new EC2Client({ region, endpoint: moto.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } }),
  };
}

function must<T>(v: T | undefined | null, what: string): T {
  if (v === undefined || v === null) throw new Error(`moto returned no ${what}`);
  return v;
}

export interface ProvisionOptions {
  /** Skip the CloudFormation stack (a test of "stack missing" with resources present). */
  withoutStack?: boolean;
  /** Initial weights (default blue 100 / green 0). */
  weights?: Weights;
}

export async function provisionFixture(moto: Moto, suffix: string, opts: ProvisionOptions = {}): Promise<Fixture> {
  const region = FIXTURE_REGION;
  const s = await provisionStack(moto.endpoint, suffix, { region, withoutStack: opts.withoutStack, weights: opts.weights });
  const c: FixtureClients = { ...s.clients, ec2: fixtureClients(moto, region).ec2 };

  let amiId: string | undefined;
  const setTargetHealth = async (color: Color, health: FixtureTargetHealth): Promise<void> => {
    if (health !== 'not-serving') return s.setTargetHealth(color, health);
    await s.setTargetHealth(color, 'none');
    // moto reports a registered, stopped EC2 instance as "unused" — the only non-healthy state it can produce.
    amiId ??= must((await c.ec2.send(new DescribeImagesCommand({}))).Images?.[0]?.ImageId, 'AMI id');
    const run = await c.ec2.send(new RunInstancesCommand({ ImageId: amiId, MinCount: 1, MaxCount: 1, SubnetId: s.subnetIds[0] }));
    const id = must(run.Instances?.[0]?.InstanceId, 'instance id');
    // Registered while running (moto refuses stopped targets, like AWS), then stopped.
    await c.elbv2.send(new RegisterTargetsCommand({ TargetGroupArn: s.targetGroupArn[color], Targets: [{ Id: id, Port: 80 }] }));
    await c.ec2.send(new StopInstancesCommand({ InstanceIds: [id] }));
  };
  const setAlarm = (color: Color, kind: AlarmKind, state: StateValue) => s.setAlarm(color, kind, state, `test fixture set ${state}`);
  const restore = async (): Promise<void> => {
    await Promise.all([
      s.setWeights({ blue: 100, green: 0 }),
      ...COLORS.flatMap((color) => ALARM_KINDS.map((kind) => setAlarm(color, kind, 'OK'))),
      ...COLORS.map((color) => setTargetHealth(color, 'healthy')),
      s.setActiveDatabase('blue'),
      c.s3.send(new DeleteObjectCommand({ Bucket: s.bucket, Key: ArtifactKeys.latestReport })),
      ...COLORS.map((color) =>
        c.rds.send(new ModifyDBClusterCommand({ DBClusterIdentifier: s.clusterIdentifier[color], DeletionProtection: false, ApplyImmediately: true })),
      ),
    ]);
  };
  return {
    suffix,
    region,
    account: MOTO_ACCOUNT,
    stackName: s.stackName,
    vpcId: s.vpcId,
    subnetIds: s.subnetIds,
    loadBalancerArn: s.loadBalancerArn,
    httpsListenerArn: s.httpsListenerArn,
    httpListenerArn: s.httpListenerArn,
    targetGroupArn: s.targetGroupArn,
    alarmNames: s.alarmNames,
    clusterIdentifier: s.clusterIdentifier,
    clusterEndpoint: s.clusterEndpoint,
    secretArn: s.secretArn,
    ecsClusterName: s.ecsClusterName,
    serviceName: s.serviceName,
    bucket: s.bucket,
    hostedZoneId: s.hostedZoneId,
    dbRecordName: s.dbRecordName,
    outputs: s.outputs,
    clients: c,
    env: { ...moto.env, AWS_REGION: region, AWS_DEFAULT_REGION: region },
    setAlarm,
    restore,
    setTargetHealth,
    setWeights: s.setWeights,
    readWeights: s.readWeights,
    putReport: s.putReport,
    setActiveDatabase: s.setActiveDatabase,
    readDbRecord: s.readDbRecord,
  };
}

/** The rollback guard function's environment for a provisioned stack, as the stack's construct sets it. */
export function rollbackGuardEnv(
  f: Pick<ProvisionedStack, 'httpsListenerArn' | 'targetGroupArn' | 'alarmNames' | 'bucket'>,
  suffix: string,
): Record<string, string> {
  return {
    [RollbackGuardEnv.Suffix]: suffix,
    [RollbackGuardEnv.ListenerArn]: f.httpsListenerArn,
    [RollbackGuardEnv.BlueTargetGroupArn]: f.targetGroupArn.blue,
    [RollbackGuardEnv.GreenTargetGroupArn]: f.targetGroupArn.green,
    [RollbackGuardEnv.GreenAlarmNames]: f.alarmNames.green.join(','),
    [RollbackGuardEnv.ArtifactsBucket]: f.bucket,
  };
}
