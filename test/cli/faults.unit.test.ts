/**
 * Faults moto cannot produce, in addition to the emulator tests: throttling, timeouts, a target in the literal
 * "unhealthy" state, and a listener that does not show what was written. aws-sdk-client-mock replaces the SDK
 * clients that src/aws/clients.ts builds; the command code under test is unchanged.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import {
  DescribeListenersCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  ModifyListenerCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { DescribeDBClustersCommand, RDSClient } from '@aws-sdk/client-rds';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeRuleCommand, EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AwsClients } from '../../src/aws/clients.js';
import { runPromote } from '../../src/cli/commands/promote.js';
import { runRollback } from '../../src/cli/commands/rollback.js';
import { readStatus } from '../../src/cli/commands/status.js';
import { toBgmigError } from '../../src/cli/context.js';
import { BgmigError } from '../../src/core/errors.js';
import { ALARM_KINDS, names } from '../../src/core/naming.js';
import { OutputKey } from '../../src/core/outputs.js';
import { makeReport } from '../harness/reports.js';
import { memoryIo } from './support/memory-io.js';

const S = 'flt';
const n = names(S);
const TG = {
  blue: 'arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/tg-blue-flt/1',
  green: 'arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/tg-green-flt/2',
};
const LISTENER = 'arn:aws:elasticloadbalancing:us-east-1:111122223333:listener/app/alb-flt/3/4';

const cfn = mockClient(CloudFormationClient);
const elbv2 = mockClient(ElasticLoadBalancingV2Client);
const cw = mockClient(CloudWatchClient);
const s3 = mockClient(S3Client);
const r53 = mockClient(Route53Client);
const lambda = mockClient(LambdaClient);
const rds = mockClient(RDSClient);
const sts = mockClient(STSClient);
const events = mockClient(EventBridgeClient);

function awsError(name: string, message: string, status = 400): Error {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status }, $fault: 'client' });
}

function listener(w: { blue: number; green: number }) {
  return {
    Listeners: [
      {
        ListenerArn: LISTENER,
        DefaultActions: [
          {
            Type: 'forward' as const,
            ForwardConfig: {
              TargetGroups: [
                { TargetGroupArn: TG.blue, Weight: w.blue },
                { TargetGroupArn: TG.green, Weight: w.green },
              ],
            },
          },
        ],
      },
    ],
  };
}

function aws(): AwsClients {
  return new AwsClients({ region: 'us-east-1', maxAttempts: 1 });
}

beforeEach(() => {
  process.env.AWS_ACCESS_KEY_ID = 'testing';
  process.env.AWS_SECRET_ACCESS_KEY = 'testing';
  cfn.on(DescribeStacksCommand).resolves({
    Stacks: [
      {
        StackName: n.stack,
        StackStatus: 'UPDATE_COMPLETE',
        CreationTime: new Date('2026-11-25T00:00:00Z'),
        Outputs: Object.entries({
          [OutputKey.HttpsListenerArn]: LISTENER,
          [OutputKey.BlueTargetGroupArn]: TG.blue,
          [OutputKey.GreenTargetGroupArn]: TG.green,
          [OutputKey.BlueAlarmNames]: ALARM_KINDS.map((k) => n.alarm('blue', k)).join(','),
          [OutputKey.GreenAlarmNames]: ALARM_KINDS.map((k) => n.alarm('green', k)).join(','),
          [OutputKey.ArtifactsBucketName]: 'bucket',
          [OutputKey.ValidatorFunctionName]: n.validatorFunction,
        }).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
      },
    ],
  });
  elbv2.on(DescribeListenersCommand).resolves(listener({ blue: 100, green: 0 }));
  cw.on(DescribeAlarmsCommand).callsFake((input: { AlarmNames?: string[] }) => ({
    MetricAlarms: (input.AlarmNames ?? []).map((AlarmName) => ({ AlarmName, StateValue: 'OK' as const })),
  }));
  const report = JSON.stringify(makeReport('compatible'));
  s3.on(GetObjectCommand).resolves({ Body: { transformToString: async () => report } as never });
  r53.on(ListResourceRecordSetsCommand).resolves({ ResourceRecordSets: [], IsTruncated: false, MaxItems: 5 });
  // The rollout lease (none held), the journal, who is acting, and a stack deployed before the rollback guard.
  s3.on(GetObjectCommand, { Key: 'rollout/lease.json' }).rejects(awsError('NoSuchKey', 'The specified key does not exist.', 404));
  s3.on(PutObjectCommand).resolves({ ETag: '"e1"' });
  s3.on(DeleteObjectCommand).resolves({});
  sts.on(GetCallerIdentityCommand).resolves({ Arn: 'arn:aws:sts::111122223333:assumed-role/role-operator-flt/alice' });
  events.on(DescribeRuleCommand).rejects(awsError('ResourceNotFoundException', 'Rule rule-rollback-guard-flt does not exist.'));
});
afterEach(() => {
  for (const m of [cfn, elbv2, cw, s3, r53, lambda, rds, sts, events]) m.reset();
});

describe('faults moto cannot produce', () => {
  it('throttling that outlasts the retries becomes one sentence (exit 1)', async () => {
    cfn.on(DescribeStacksCommand).rejects(awsError('ThrottlingException', 'Rate exceeded'));
    const a = aws();
    const err = await runRollback({ suffix: S }, { ...memoryIo(), aws: a }).catch((e: unknown) => e);
    const b = toBgmigError(err, { aws: a });
    expect(b.exitCode).toBe(1);
    expect(b.message).toBe('AWS kept throttling the request after retries: wait a minute and retry.');
  });

  it('a timeout becomes "cannot reach" (exit 1)', async () => {
    elbv2.on(DescribeListenersCommand).rejects(Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }));
    const a = aws();
    const err = await runRollback({ suffix: S }, { ...memoryIo(), aws: a }).catch((e: unknown) => e);
    const b = toBgmigError(err, { aws: a });
    expect(b.exitCode).toBe(1);
    expect(b.message).toBe('Cannot reach AWS in us-east-1: check --endpoint-url / AWS_ENDPOINT_URL and your network, then retry.');
  });

  it('promote refuses a green target in the literal "unhealthy" state and never writes', async () => {
    elbv2.on(DescribeTargetHealthCommand).resolves({
      TargetHealthDescriptions: [
        { Target: { Id: '10.0.1.10', Port: 80 }, TargetHealth: { State: 'healthy' } },
        { Target: { Id: '10.0.2.20', Port: 80 }, TargetHealth: { State: 'unhealthy', Reason: 'Target.FailedHealthChecks' } },
      ],
    });
    const err = await runPromote({ suffix: S, weight: 25 }, { ...memoryIo(), aws: aws() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BgmigError);
    expect((err as BgmigError).exitCode).toBe(3);
    expect((err as BgmigError).message).toBe(
      "Promote refused by the green-health gate: green's target group has 1 healthy and 1 unhealthy target(s) (10.0.2.20:80 unhealthy: Target.FailedHealthChecks) — fix the green service (its ECS events and logs say why) until all its targets are healthy, then re-run.",
    );
    expect(elbv2.commandCalls(ModifyListenerCommand)).toHaveLength(0);
  });

  it('with no report it runs the validator, then judges green as it is after the run (Lambda cannot run on moto)', async () => {
    s3.on(GetObjectCommand).rejects(awsError('NoSuchKey', 'The specified key does not exist.', 404));
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: new TextEncoder().encode(JSON.stringify(makeReport('compatible'))) as never });
    // Healthy when promote starts; a target fails while the validator runs.
    elbv2
      .on(DescribeTargetHealthCommand)
      .resolvesOnce({ TargetHealthDescriptions: [{ Target: { Id: '10.0.1.10', Port: 80 }, TargetHealth: { State: 'healthy' } }] })
      .resolves({ TargetHealthDescriptions: [{ Target: { Id: '10.0.1.10', Port: 80 }, TargetHealth: { State: 'unhealthy', Reason: 'Target.Timeout' } }] });
    const io = memoryIo();
    const err = await runPromote({ suffix: S, weight: 10 }, { io: io.io, aws: aws() }).catch((e: unknown) => e);
    expect(io.stdout()).toContain('No validation report yet: running schema validation now');
    expect(lambda.commandCalls(InvokeCommand)[0].args[0].input.FunctionName).toBe(n.validatorFunction);
    expect((err as BgmigError).exitCode).toBe(3);
    expect((err as BgmigError).details?.gates).toEqual([
      expect.objectContaining({ gate: 'validation', status: 'passed' }),
      expect.objectContaining({ gate: 'green-health', status: 'refused', detail: expect.stringContaining('10.0.1.10:80 unhealthy: Target.Timeout') }),
    ]);
    expect(elbv2.commandCalls(ModifyListenerCommand)).toHaveLength(0);
  });

  it('a write that the listener does not show on read-back fails (exit 1) instead of reporting success', async () => {
    elbv2
      .on(DescribeTargetHealthCommand)
      .resolves({ TargetHealthDescriptions: [{ Target: { Id: '10.0.1.10', Port: 80 }, TargetHealth: { State: 'healthy' } }] });
    elbv2.on(ModifyListenerCommand).resolves({});
    const io = memoryIo();
    const err = await runPromote({ suffix: S, weight: 40 }, { io: io.io, aws: aws() }).catch((e: unknown) => e);
    expect((err as BgmigError).exitCode).toBe(1);
    expect((err as BgmigError).message).toMatch(/^The listener reports blue 100 \/ green 0 after bgmig wrote blue 60 \/ green 40/);
    expect(elbv2.commandCalls(ModifyListenerCommand)).toHaveLength(1);
    // One call carrying both target groups: no instant where traffic has nowhere to go.
    expect(elbv2.commandCalls(ModifyListenerCommand)[0].args[0].input.DefaultActions?.[0].ForwardConfig?.TargetGroups).toEqual([
      { TargetGroupArn: TG.blue, Weight: 60 },
      { TargetGroupArn: TG.green, Weight: 40 },
    ]);
    expect(io.stdout()).toBe('');
  });

  it('status counts a database cluster that is not available as degraded', async () => {
    const base = (await new CloudFormationClient({ region: 'us-east-1' }).send(new DescribeStacksCommand({ StackName: n.stack }))).Stacks?.[0]; // the mocked stack
    cfn.on(DescribeStacksCommand).resolves({
      Stacks: [
        {
          ...base!,
          StackName: n.stack,
          StackStatus: 'UPDATE_COMPLETE',
          CreationTime: new Date(),
          Outputs: [
            ...(base?.Outputs ?? []),
            { OutputKey: OutputKey.BlueClusterIdentifier, OutputValue: n.auroraCluster('blue') },
            { OutputKey: OutputKey.GreenClusterIdentifier, OutputValue: n.auroraCluster('green') },
          ],
        },
      ],
    });
    elbv2
      .on(DescribeTargetHealthCommand)
      .resolves({ TargetHealthDescriptions: [{ Target: { Id: '10.0.1.10', Port: 80 }, TargetHealth: { State: 'healthy' } }] });
    rds
      .on(DescribeDBClustersCommand, { DBClusterIdentifier: n.auroraCluster('blue') })
      .resolves({ DBClusters: [{ DBClusterIdentifier: n.auroraCluster('blue'), Status: 'available' }] });
    rds
      .on(DescribeDBClustersCommand, { DBClusterIdentifier: n.auroraCluster('green') })
      .resolves({ DBClusters: [{ DBClusterIdentifier: n.auroraCluster('green'), Status: 'storage-full' }] });
    const s = await readStatus(aws(), S, { replication: false });
    expect(s.degraded).toEqual(['green cluster aurora-green-flt is storage-full']);
  });

  it('status counts a color that takes traffic with no healthy target as degraded', async () => {
    elbv2.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [] });
    const s = await readStatus(aws(), S, { replication: false });
    expect(s.degraded).toContain('blue takes 100 % of traffic but has no healthy target');
    expect(s.degraded.filter((d) => /green/.test(d))).toEqual([]); // green takes 0 %: no targets is fine there
  });

  it('status counts an "unhealthy" target and an unreadable section as degraded, without failing outright', async () => {
    elbv2
      .on(DescribeTargetHealthCommand, { TargetGroupArn: TG.blue })
      .resolves({ TargetHealthDescriptions: [{ Target: { Id: '10.0.1.10', Port: 80 }, TargetHealth: { State: 'healthy' } }] });
    elbv2.on(DescribeTargetHealthCommand, { TargetGroupArn: TG.green }).resolves({
      TargetHealthDescriptions: [{ Target: { Id: '10.0.2.20', Port: 80 }, TargetHealth: { State: 'unhealthy', Reason: 'Target.Timeout' } }],
    });
    cw.on(DescribeAlarmsCommand).rejects(awsError('ThrottlingException', 'Rate exceeded'));
    const s = await readStatus(aws(), S, { replication: false });
    expect(s.healthy).toBe(false);
    expect(s.degraded).toEqual(expect.arrayContaining(['1 unhealthy green target(s)', 'could not read alarms.blue', 'could not read alarms.green']));
    expect(s.errors['alarms.green']).toBe('AWS kept throttling the request after retries: wait a minute and retry.');
  });
});
