/**
 * The ports of src/aws/ports.ts over the AWS SDK for JavaScript v3. Each is built over a function that yields its
 * client (AwsClients' bounded clients for the CLI, plain clients from the environment for the Lambda functions,
 * an emulator's for tests), and imports its SDK module only when a method is first called, so `bgmig --help` and
 * commands that never touch a service do not load it. Errors are the SDK's, unchanged.
 */
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { ECSClient } from '@aws-sdk/client-ecs';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { RDSClient } from '@aws-sdk/client-rds';
import type { ChangeInfo, Route53Client } from '@aws-sdk/client-route-53';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { STSClient } from '@aws-sdk/client-sts';
import type {
  AlarmReading,
  Alarms,
  Clusters,
  DnsChange,
  DnsRecords,
  Functions,
  GuardRule,
  Identity,
  Listeners,
  Metrics,
  ObjectStore,
  SecretVersions,
  Services,
  Stacks,
  TargetHealth,
} from './ports.js';

/** Yields a client (created on first use by whoever supplies it). */
type ClientOf<T> = () => Promise<T>;

export function stacksOver(client: ClientOf<CloudFormationClient>): Stacks {
  const sdk = () => import('@aws-sdk/client-cloudformation');
  return {
    async describe(stackName) {
      const { DescribeStacksCommand } = await sdk();
      return (await (await client()).send(new DescribeStacksCommand({ StackName: stackName }))).Stacks?.[0];
    },
    async delete(stackName) {
      const { DeleteStackCommand } = await sdk();
      await (await client()).send(new DeleteStackCommand({ StackName: stackName }));
    },
    async changeSetStatus(stackName, changeSetName) {
      const { DescribeChangeSetCommand } = await sdk();
      return (await (await client()).send(new DescribeChangeSetCommand({ StackName: stackName, ChangeSetName: changeSetName }))).ExecutionStatus;
    },
    async deleteChangeSet(stackName, changeSetName) {
      const { DeleteChangeSetCommand } = await sdk();
      await (await client()).send(new DeleteChangeSetCommand({ StackName: stackName, ChangeSetName: changeSetName }));
    },
  };
}

export function listenersOver(client: ClientOf<ElasticLoadBalancingV2Client>): Listeners {
  const sdk = () => import('@aws-sdk/client-elastic-load-balancing-v2');
  return {
    async describe(listenerArn) {
      const { DescribeListenersCommand } = await sdk();
      return (await (await client()).send(new DescribeListenersCommand({ ListenerArns: [listenerArn] }))).Listeners?.[0];
    },
    async setDefaultActions(listenerArn, actions) {
      const { ModifyListenerCommand } = await sdk();
      return (await (await client()).send(new ModifyListenerCommand({ ListenerArn: listenerArn, DefaultActions: actions }))).Listeners?.[0];
    },
  };
}

export function targetHealthOver(client: ClientOf<ElasticLoadBalancingV2Client>): TargetHealth {
  return {
    async describe(targetGroupArn) {
      const { DescribeTargetHealthCommand } = await import('@aws-sdk/client-elastic-load-balancing-v2');
      return (await (await client()).send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }))).TargetHealthDescriptions ?? [];
    },
  };
}

export function alarmsOver(client: ClientOf<CloudWatchClient>): Alarms {
  return {
    async describe(alarmNames) {
      if (alarmNames.length === 0) return [];
      const cw = await client();
      const { DescribeAlarmsCommand } = await import('@aws-sdk/client-cloudwatch');
      const found: AlarmReading[] = [];
      // DescribeAlarms accepts at most 100 names per call.
      for (let i = 0; i < alarmNames.length; i += 100) {
        let token: string | undefined;
        do {
          const res = await cw.send(
            new DescribeAlarmsCommand({ AlarmNames: alarmNames.slice(i, i + 100), NextToken: token, AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] }),
          );
          for (const a of [...(res.MetricAlarms ?? []), ...(res.CompositeAlarms ?? [])]) {
            if (a.AlarmName) found.push({ name: a.AlarmName, state: a.StateValue ?? 'UNKNOWN', reason: a.StateReason });
          }
          token = res.NextToken;
        } while (token);
      }
      return found;
    },
  };
}

export function metricsOver(client: ClientOf<CloudWatchClient>): Metrics {
  return {
    async data(queries, start, end) {
      const { GetMetricDataCommand } = await import('@aws-sdk/client-cloudwatch');
      const cw = await client();
      const out = new Map<string, number[]>();
      let token: string | undefined;
      do {
        const res = await cw.send(
          new GetMetricDataCommand({ MetricDataQueries: queries, StartTime: start, EndTime: end, NextToken: token, ScanBy: 'TimestampDescending' }),
        );
        for (const r of res.MetricDataResults ?? []) if (r.Id) out.set(r.Id, [...(out.get(r.Id) ?? []), ...(r.Values ?? [])]);
        token = res.NextToken;
      } while (token);
      return out;
    },
  };
}

export function clustersOver(client: ClientOf<RDSClient>): Clusters {
  const sdk = () => import('@aws-sdk/client-rds');
  return {
    async describe(clusterIdentifier) {
      const { DescribeDBClustersCommand } = await sdk();
      return (await (await client()).send(new DescribeDBClustersCommand({ DBClusterIdentifier: clusterIdentifier }))).DBClusters?.[0];
    },
    async setMasterPassword(clusterIdentifier, password) {
      const { ModifyDBClusterCommand } = await sdk();
      // The master user name is fixed on Aurora: only the password can change, so the username is not sent.
      await (await client()).send(new ModifyDBClusterCommand({ DBClusterIdentifier: clusterIdentifier, MasterUserPassword: password, ApplyImmediately: true }));
    },
  };
}

export function objectStoreOver(client: ClientOf<S3Client>): ObjectStore {
  const sdk = () => import('@aws-sdk/client-s3');
  return {
    async get(bucket, key) {
      const { GetObjectCommand } = await sdk();
      const res = await (await client()).send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return { body: await res.Body?.transformToString('utf8'), etag: res.ETag };
    },
    async put(bucket, key, body, opts = {}) {
      const { PutObjectCommand } = await sdk();
      const res = await (await client()).send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: body,
          ...(opts.contentType ? { ContentType: opts.contentType } : {}),
          ...(opts.ifNoneMatch ? { IfNoneMatch: opts.ifNoneMatch } : {}),
          ...(opts.ifMatch ? { IfMatch: opts.ifMatch } : {}),
        }),
      );
      return res.ETag;
    },
    async list(bucket, prefix) {
      const { ListObjectsV2Command } = await sdk();
      const s3 = await client();
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const res = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
        for (const o of res.Contents ?? []) if (o.Key) keys.push(o.Key);
        token = res.IsTruncated ? res.NextContinuationToken : undefined;
      } while (token);
      return keys;
    },
    async delete(bucket, key, cond = {}) {
      const { DeleteObjectCommand } = await sdk();
      await (await client()).send(new DeleteObjectCommand({ Bucket: bucket, Key: key, ...(cond.ifMatch ? { IfMatch: cond.ifMatch } : {}) }));
    },
  };
}

/** The production invoker of bgmig's functions: Lambda's Invoke API (RequestResponse). */
export function functionsOver(client: ClientOf<LambdaClient>): Functions {
  return {
    async invoke(functionName, event) {
      const { InvokeCommand } = await import('@aws-sdk/client-lambda');
      const lambda = await client();
      const res = await lambda.send(
        new InvokeCommand({ FunctionName: functionName, InvocationType: 'RequestResponse', Payload: new TextEncoder().encode(JSON.stringify(event)) }),
      );
      return { payload: res.Payload ? new TextDecoder().decode(res.Payload) : '', functionError: res.FunctionError };
    },
  };
}

export function secretVersionsOver(client: ClientOf<SecretsManagerClient>): SecretVersions {
  const sdk = () => import('@aws-sdk/client-secrets-manager');
  return {
    async describe(secretId) {
      const { DescribeSecretCommand } = await sdk();
      const d = await (await client()).send(new DescribeSecretCommand({ SecretId: secretId }));
      return { name: d.Name, arn: d.ARN, stages: d.VersionIdsToStages ?? {} };
    },
    async value(secretId, select = {}) {
      const { GetSecretValueCommand } = await sdk();
      const res = await (await client()).send(
        new GetSecretValueCommand({
          SecretId: secretId,
          ...(select.versionId ? { VersionId: select.versionId } : {}),
          ...(select.versionStage ? { VersionStage: select.versionStage } : {}),
        }),
      );
      return { versionId: res.VersionId, stages: res.VersionStages ?? [], secretString: res.SecretString };
    },
    async randomPassword(length, excludeCharacters) {
      const { GetRandomPasswordCommand } = await sdk();
      const res = await (await client()).send(
        new GetRandomPasswordCommand({ PasswordLength: length, ExcludeCharacters: excludeCharacters, IncludeSpace: false, RequireEachIncludedType: true }),
      );
      return res.RandomPassword;
    },
    async putValue(secretId, secretString, clientRequestToken, stages) {
      const { PutSecretValueCommand } = await sdk();
      const res = await (await client()).send(
        new PutSecretValueCommand({ SecretId: secretId, ClientRequestToken: clientRequestToken, SecretString: secretString, VersionStages: stages }),
      );
      return res.VersionId;
    },
    async moveStage(secretId, stage, move) {
      const { UpdateSecretVersionStageCommand } = await sdk();
      await (await client()).send(
        new UpdateSecretVersionStageCommand({
          SecretId: secretId,
          VersionStage: stage,
          ...(move.to ? { MoveToVersionId: move.to } : {}),
          ...(move.from ? { RemoveFromVersionId: move.from } : {}),
        }),
      );
    },
  };
}

export function servicesOver(client: ClientOf<ECSClient>): Services {
  const sdk = () => import('@aws-sdk/client-ecs');
  return {
    async forceNewDeployment(cluster, service) {
      const { UpdateServiceCommand } = await sdk();
      return (await (await client()).send(new UpdateServiceCommand({ cluster, service, forceNewDeployment: true }))).service;
    },
    async describe(cluster, service) {
      const { DescribeServicesCommand } = await sdk();
      return (await (await client()).send(new DescribeServicesCommand({ cluster, services: [service] }))).services?.[0];
    },
  };
}

function dnsChange(info: ChangeInfo | undefined): DnsChange {
  return { id: (info?.Id ?? '').replace(/^\/?change\//, ''), status: info?.Status };
}

export function dnsRecordsOver(client: ClientOf<Route53Client>): DnsRecords {
  const sdk = () => import('@aws-sdk/client-route-53');
  return {
    async firstFrom(hostedZoneId, name, type) {
      const { ListResourceRecordSetsCommand } = await sdk();
      const res = await (await client()).send(
        new ListResourceRecordSetsCommand({ HostedZoneId: hostedZoneId, StartRecordName: name, StartRecordType: type, MaxItems: 1 }),
      );
      return res.ResourceRecordSets?.[0];
    },
    async upsert(hostedZoneId, record, comment) {
      const { ChangeResourceRecordSetsCommand } = await sdk();
      const res = await (await client()).send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: hostedZoneId,
          ChangeBatch: { Comment: comment, Changes: [{ Action: 'UPSERT', ResourceRecordSet: record }] },
        }),
      );
      return dnsChange(res.ChangeInfo);
    },
    async change(changeId) {
      const { GetChangeCommand } = await sdk();
      return dnsChange((await (await client()).send(new GetChangeCommand({ Id: changeId }))).ChangeInfo);
    },
  };
}

export function guardRuleOver(client: ClientOf<EventBridgeClient>): GuardRule {
  const sdk = () => import('@aws-sdk/client-eventbridge');
  return {
    async state(ruleName) {
      const { DescribeRuleCommand } = await sdk();
      return (await (await client()).send(new DescribeRuleCommand({ Name: ruleName }))).State;
    },
    async targets(ruleName) {
      const { ListTargetsByRuleCommand } = await sdk();
      return ((await (await client()).send(new ListTargetsByRuleCommand({ Rule: ruleName }))).Targets ?? []).flatMap((t) => (t.Arn ? [t.Arn] : []));
    },
    async setEnabled(ruleName, enabled) {
      const { DisableRuleCommand, EnableRuleCommand } = await sdk();
      await (await client()).send(enabled ? new EnableRuleCommand({ Name: ruleName }) : new DisableRuleCommand({ Name: ruleName }));
    },
  };
}

export function identityOver(client: ClientOf<STSClient>): Identity {
  return {
    async caller() {
      const { GetCallerIdentityCommand } = await import('@aws-sdk/client-sts');
      const res = await (await client()).send(new GetCallerIdentityCommand({}));
      return { arn: res.Arn, account: res.Account };
    },
  };
}
