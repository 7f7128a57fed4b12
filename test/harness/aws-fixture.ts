/**
 * A bgmig environment on moto, for operation tests (status, promote, rollback, rotation, db cutover in AWS mode).
 *
 * moto's CloudFormation cannot create the real bgmig template (see ../shared/FIELD-NOTES.md), so this fixture
 * builds the resources that operations touch through the service APIs, every one named by `names(suffix)`, and
 * then creates a CloudFormation stack `bgmig-{suffix}` whose Outputs carry their real ids under the same
 * `OutputKey`s the real stack emits. Commands locate everything through those outputs, exactly as in AWS.
 *
 * What it provisions: a VPC with two subnets; the ALB with its HTTPS listener (created with a plain forward, then
 * switched to the weighted forward blue 100 / green 0 by ModifyListener — moto's CFN crashes on a weighted default
 * action, its ELBv2 API does not) and an HTTP listener; both target groups (ip targets, as Fargate registers) with
 * two registered targets each; the five alarms per color; both Aurora clusters; the three DB secrets; the ECS cluster
 * and both services; the artifacts bucket; a private hosted zone with the db CNAME pointing at the blue writer
 * endpoint; the stack itself (one SNS topic — a type moto's CFN models — plus the Outputs).
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
import { CloudFormationClient, CreateStackCommand, waitUntilStackCreateComplete } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient, PutMetricAlarmCommand, SetAlarmStateCommand, type StateValue } from '@aws-sdk/client-cloudwatch';
import { CreateSecurityGroupCommand, CreateSubnetCommand, CreateVpcCommand, EC2Client, RunInstancesCommand, StopInstancesCommand, DescribeImagesCommand } from '@aws-sdk/client-ec2';
import { CreateClusterCommand, CreateServiceCommand, ECSClient, RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DeregisterTargetsCommand,
  DescribeListenersCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  ModifyListenerCommand,
  RegisterTargetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { CreateDBClusterCommand, ModifyDBClusterCommand, RDSClient } from '@aws-sdk/client-rds';
import { ChangeResourceRecordSetsCommand, CreateHostedZoneCommand, ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { CreateBucketCommand, DeleteObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Weights } from '../../src/core/config.js';
import { ALARM_KINDS, type AlarmKind, type Color, COLORS, names } from '../../src/core/naming.js';
import { ArtifactKeys, OutputKey } from '../../src/core/outputs.js';
import type { ValidationReport } from '../../src/schema/report.js';
import { MOTO_ACCOUNT, type Moto } from './moto.js';

export const FIXTURE_REGION = 'us-east-1';

/** Health a test can put a color's target group into (what moto can represent). */
export type FixtureTargetHealth = 'healthy' | 'none' | 'not-serving';

export interface FixtureClients {
  elbv2: ElasticLoadBalancingV2Client;
  cloudwatch: CloudWatchClient;
  cloudformation: CloudFormationClient;
  rds: RDSClient;
  secrets: SecretsManagerClient;
  ecs: ECSClient;
  s3: S3Client;
  route53: Route53Client;
  ec2: EC2Client;
}

export interface Fixture {
  suffix: string;
  region: string;
  account: string;
  stackName: string;
  vpcId: string;
  subnetIds: string[];
  loadBalancerArn: string;
  httpsListenerArn: string;
  httpListenerArn: string;
  targetGroupArn: Record<Color, string>;
  alarmNames: Record<Color, string[]>;
  clusterIdentifier: Record<Color, string>;
  clusterEndpoint: Record<Color, string>;
  secretArn: Record<Color | 'app', string>;
  ecsClusterName: string;
  serviceName: Record<Color, string>;
  bucket: string;
  hostedZoneId: string;
  dbRecordName: string;
  /** The stack's outputs, by OutputKey. */
  outputs: Record<string, string>;
  clients: FixtureClients;
  /** Environment for a bgmig subprocess aimed at this fixture (endpoint, dummy credentials, region). */
  env: Record<string, string>;
  /** Puts one alarm into a state (SetAlarmState: what an alarm firing looks like to the API). */
  setAlarm(color: Color, kind: AlarmKind, state: StateValue): Promise<void>;
  /** Replaces a color's registered targets: two healthy ip targets, none, or one non-serving target (see header). */
  setTargetHealth(color: Color, health: FixtureTargetHealth): Promise<void>;
  /** Writes listener weights directly (another operator, a CloudFormation update). */
  setWeights(w: Weights): Promise<void>;
  /** Reads the HTTPS listener's weights. */
  readWeights(): Promise<Weights>;
  /** Stores a validation report as the latest one in the artifacts bucket. */
  putReport(report: ValidationReport): Promise<void>;
  /** Points the db CNAME at a color's writer endpoint. */
  setActiveDatabase(color: Color): Promise<void>;
  /** The db CNAME's current value. */
  readDbRecord(): Promise<string | undefined>;
  /**
   * Puts everything operations change back to the provisioned state (weights 100/0, alarms OK, two healthy targets
   * per color, db record on blue, no validation report, no deletion protection) — much cheaper than
   * reset() + provisionFixture() between scenarios that share one environment.
   */
  restore(): Promise<void>;
}

export function fixtureClients(moto: Moto, region = FIXTURE_REGION): FixtureClients {
  const cfg = { region, endpoint: moto.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } };
  return {
    elbv2: new ElasticLoadBalancingV2Client(cfg),
    cloudwatch: new CloudWatchClient(cfg),
    cloudformation: new CloudFormationClient(cfg),
    rds: new RDSClient(cfg),
    secrets: new SecretsManagerClient(cfg),
    ecs: new ECSClient(cfg),
    s3: new S3Client({ ...cfg, forcePathStyle: true }),
    route53: new Route53Client(cfg),
    ec2: new EC2Client(cfg),
  };
}

/** A validation report with the given verdict (for the promote gate and status). */
export function makeReport(verdict: ValidationReport['verdict'], generatedAt = new Date().toISOString()): ValidationReport {
  const summary = { serverVersion: '15.8', counts: { tables: 3, columns: 12 } };
  return {
    verdict,
    blue: summary,
    green: summary,
    differences:
      verdict === 'incompatible'
        ? [{ code: 'BC101', severity: 'breaking', object: 'public.orders.total', detail: 'column dropped on green', blue: 'numeric(12,2)', green: null }]
        : [],
    durationMs: 420,
    generatedAt,
    ...(verdict === 'error' ? { error: 'Could not connect to the green cluster.' } : {}),
  };
}

function must<T>(v: T | undefined | null, what: string): T {
  if (v === undefined || v === null) throw new Error(`moto returned no ${what}`);
  return v;
}

/**
 * An ACM certificate for the HTTPS listener (moto checks that it exists). The ACM SDK client is not a dependency of
 * bgmig, so this one call is made by hand over moto's JSON protocol (moto does not verify signatures).
 */
async function requestCertificate(moto: Moto, region: string, domain: string): Promise<string> {
  const res = await fetch(`${moto.endpoint}/`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-amz-json-1.1',
      'X-Amz-Target': 'CertificateManager.RequestCertificate',
      Authorization: `AWS4-HMAC-SHA256 Credential=testing/20260101/${region}/acm/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: JSON.stringify({ DomainName: domain }),
  });
  if (!res.ok) throw new Error(`moto ACM RequestCertificate failed: HTTP ${res.status} ${await res.text()}`);
  return must(((await res.json()) as { CertificateArn?: string }).CertificateArn, 'certificate ARN');
}

export interface ProvisionOptions {
  /** Skip the CloudFormation stack (a test of "stack missing" with resources present). */
  withoutStack?: boolean;
  /** Initial weights (default blue 100 / green 0). */
  weights?: Weights;
}

export async function provisionFixture(moto: Moto, suffix: string, opts: ProvisionOptions = {}): Promise<Fixture> {
  const region = FIXTURE_REGION;
  const n = names(suffix);
  const c = fixtureClients(moto, region);

  // Network first: the ALB, the hosted zone and the services need it.
  const vpcId = must((await c.ec2.send(new CreateVpcCommand({ CidrBlock: '10.20.0.0/16' }))).Vpc?.VpcId, 'VPC id');
  const subnetIds = await Promise.all(
    ['a', 'b'].map(async (az, i) =>
      must(
        (await c.ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: `10.20.${i}.0/24`, AvailabilityZone: `${region}${az}` }))).Subnet?.SubnetId,
        'subnet id',
      ),
    ),
  );

  // moto's ECS validates awsvpc networking and requires security groups (as AWS does for Fargate services).
  const serviceSg = Object.fromEntries(
    await Promise.all(
      COLORS.map(async (color) => {
        const sg = await c.ec2.send(new CreateSecurityGroupCommand({ GroupName: n.serviceSecurityGroup(color), Description: `bgmig ${color} service`, VpcId: vpcId }));
        return [color, must(sg.GroupId, 'security group id')] as const;
      }),
    ),
  ) as Record<Color, string>;

  const bucket = n.artifactsBucket(MOTO_ACCOUNT, region);
  const alarmNames = { blue: ALARM_KINDS.map((k) => n.alarm('blue', k)), green: ALARM_KINDS.map((k) => n.alarm('green', k)) };

  // Independent resources in parallel: the suite's speed depends on it.
  const [lb, tgs, clusters, secrets, hostedZoneId] = await Promise.all([
    c.elbv2.send(new CreateLoadBalancerCommand({ Name: n.alb, Subnets: subnetIds, Type: 'application', Scheme: 'internet-facing' })),
    Promise.all(
      COLORS.map(async (color) => {
        const res = await c.elbv2.send(
          new CreateTargetGroupCommand({ Name: n.targetGroup(color), Protocol: 'HTTP', Port: 80, VpcId: vpcId, TargetType: 'ip', HealthCheckPath: '/' }),
        );
        return must(res.TargetGroups?.[0]?.TargetGroupArn, 'target group ARN');
      }),
    ),
    Promise.all(
      COLORS.map(async (color) => {
        const res = await c.rds.send(
          new CreateDBClusterCommand({
            DBClusterIdentifier: n.auroraCluster(color),
            Engine: 'aurora-postgresql',
            EngineVersion: '15.8',
            MasterUsername: 'bgmig_admin',
            MasterUserPassword: 'not-a-real-password-1',
            DatabaseName: 'app',
          }),
        );
        return { identifier: n.auroraCluster(color), endpoint: must(res.DBCluster?.Endpoint, 'cluster endpoint') };
      }),
    ),
    Promise.all(
      [n.dbSecret('blue'), n.dbSecret('green'), n.appDbSecret].map(async (name) => {
        const res = await c.secrets.send(new CreateSecretCommand({ Name: name, SecretString: JSON.stringify({ username: 'u', password: 'p', engine: 'postgres' }) }));
        return must(res.ARN, 'secret ARN');
      }),
    ),
    (async () => {
      const res = await c.route53.send(
        new CreateHostedZoneCommand({
          Name: n.hostedZone,
          CallerReference: `bgmig-fixture-${suffix}-${Date.now()}`,
          VPC: { VPCRegion: region, VPCId: vpcId },
          HostedZoneConfig: { PrivateZone: true, Comment: 'bgmig test fixture' },
        }),
      );
      return must(res.HostedZone?.Id, 'hosted zone id').replace(/^\/hostedzone\//, '');
    })(),
    c.s3.send(new CreateBucketCommand({ Bucket: bucket })),
    Promise.all(
      COLORS.flatMap((color) =>
        ALARM_KINDS.map((kind) =>
          c.cloudwatch.send(
            new PutMetricAlarmCommand({
              AlarmName: n.alarm(color, kind),
              Namespace: 'AWS/ECS',
              MetricName: kind,
              Statistic: 'Average',
              Period: 60,
              EvaluationPeriods: 1,
              Threshold: 80,
              ComparisonOperator: 'GreaterThanThreshold',
            }),
          ),
        ),
      ),
    ),
    (async () => {
      await c.ecs.send(new CreateClusterCommand({ clusterName: n.ecsCluster }));
      await Promise.all(
        COLORS.map(async (color) => {
          const td = await c.ecs.send(
            new RegisterTaskDefinitionCommand({
              family: n.taskFamily(color),
              requiresCompatibilities: ['FARGATE'],
              networkMode: 'awsvpc',
              cpu: '256',
              memory: '512',
              containerDefinitions: [{ name: 'app', image: 'public.ecr.aws/nginx/nginx:1.27', essential: true, portMappings: [{ containerPort: 80 }] }],
            }),
          );
          await c.ecs.send(
            new CreateServiceCommand({
              cluster: n.ecsCluster,
              serviceName: n.service(color),
              taskDefinition: must(td.taskDefinition?.taskDefinitionArn, 'task definition ARN'),
              desiredCount: 2,
              launchType: 'FARGATE',
              networkConfiguration: { awsvpcConfiguration: { subnets: subnetIds, securityGroups: [serviceSg[color]], assignPublicIp: 'DISABLED' } },
            }),
          );
        }),
      );
    })(),
  ]);
  const loadBalancerArn = must(lb.LoadBalancers?.[0]?.LoadBalancerArn, 'load balancer ARN');
  const lbDns = lb.LoadBalancers?.[0]?.DNSName ?? `${n.alb}.${region}.elb.amazonaws.com`;
  const targetGroupArn: Record<Color, string> = { blue: tgs[0], green: tgs[1] };
  const clusterIdentifier: Record<Color, string> = { blue: clusters[0].identifier, green: clusters[1].identifier };
  const clusterEndpoint: Record<Color, string> = { blue: clusters[0].endpoint, green: clusters[1].endpoint };
  const secretArn = { blue: secrets[0], green: secrets[1], app: secrets[2] };

  const certificateArn = await requestCertificate(moto, region, `app.${n.hostedZone}`);
  // Plain forward first, then the weighted forward through ModifyListener (the order moto accepts).
  const https = await c.elbv2.send(
    new CreateListenerCommand({
      LoadBalancerArn: loadBalancerArn,
      Protocol: 'HTTPS',
      Port: 443,
      Certificates: [{ CertificateArn: certificateArn }],
      DefaultActions: [{ Type: 'forward', TargetGroupArn: targetGroupArn.blue }],
    }),
  );
  const httpsListenerArn = must(https.Listeners?.[0]?.ListenerArn, 'listener ARN');
  const http = await c.elbv2.send(
    new CreateListenerCommand({
      LoadBalancerArn: loadBalancerArn,
      Protocol: 'HTTP',
      Port: 80,
      DefaultActions: [{ Type: 'redirect', RedirectConfig: { Protocol: 'HTTPS', Port: '443', StatusCode: 'HTTP_301' } }],
    }),
  );
  const httpListenerArn = must(http.Listeners?.[0]?.ListenerArn, 'listener ARN');

  const elbv2 = c.elbv2;
  const setWeights = async (w: Weights): Promise<void> => {
    await elbv2.send(
      new ModifyListenerCommand({
        ListenerArn: httpsListenerArn,
        DefaultActions: [
          {
            Type: 'forward',
            ForwardConfig: {
              TargetGroups: [
                { TargetGroupArn: targetGroupArn.blue, Weight: w.blue },
                { TargetGroupArn: targetGroupArn.green, Weight: w.green },
              ],
            },
          },
        ],
      }),
    );
  };
  const readWeights = async (): Promise<Weights> => {
    const res = await elbv2.send(new DescribeListenersCommand({ ListenerArns: [httpsListenerArn] }));
    const groups = res.Listeners?.[0]?.DefaultActions?.find((a) => a.Type === 'forward')?.ForwardConfig?.TargetGroups ?? [];
    const weightOf = (arn: string) => groups.find((g) => g.TargetGroupArn === arn)?.Weight ?? 0;
    return { blue: weightOf(targetGroupArn.blue), green: weightOf(targetGroupArn.green) };
  };
  await setWeights(opts.weights ?? { blue: 100, green: 0 });

  let amiId: string | undefined;
  const setTargetHealth = async (color: Color, health: FixtureTargetHealth): Promise<void> => {
    const tg = targetGroupArn[color];
    const current = await elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg }));
    const registered = (current.TargetHealthDescriptions ?? []).flatMap((d) => (d.Target?.Id ? [{ Id: d.Target.Id, Port: d.Target.Port }] : []));
    if (registered.length > 0) await elbv2.send(new DeregisterTargetsCommand({ TargetGroupArn: tg, Targets: registered }));
    if (health === 'healthy') {
      const base = color === 'blue' ? 10 : 20;
      await elbv2.send(new RegisterTargetsCommand({ TargetGroupArn: tg, Targets: [{ Id: `10.20.0.${base + 1}`, Port: 80 }, { Id: `10.20.1.${base + 2}`, Port: 80 }] }));
    } else if (health === 'not-serving') {
      // moto reports a registered, stopped EC2 instance as "unused" — the only non-healthy state it can produce.
      amiId ??= must((await c.ec2.send(new DescribeImagesCommand({}))).Images?.[0]?.ImageId, 'AMI id');
      const run = await c.ec2.send(new RunInstancesCommand({ ImageId: amiId, MinCount: 1, MaxCount: 1, SubnetId: subnetIds[0] }));
      const id = must(run.Instances?.[0]?.InstanceId, 'instance id');
      // Registered while running (moto refuses stopped targets, like AWS), then stopped.
      await elbv2.send(new RegisterTargetsCommand({ TargetGroupArn: tg, Targets: [{ Id: id, Port: 80 }] }));
      await c.ec2.send(new StopInstancesCommand({ InstanceIds: [id] }));
    }
  };
  await Promise.all(COLORS.map((color) => setTargetHealth(color, 'healthy')));

  const route53 = c.route53;
  const setActiveDatabase = async (color: Color): Promise<void> => {
    await route53.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: hostedZoneId,
        ChangeBatch: { Changes: [{ Action: 'UPSERT', ResourceRecordSet: { Name: n.dbRecord, Type: 'CNAME', TTL: 5, ResourceRecords: [{ Value: clusterEndpoint[color] }] } }] },
      }),
    );
  };
  const readDbRecord = async (): Promise<string | undefined> => {
    const res = await route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: hostedZoneId, StartRecordName: n.dbRecord, StartRecordType: 'CNAME' }));
    const rec = res.ResourceRecordSets?.find((r) => r.Type === 'CNAME' && r.Name?.replace(/\.$/, '') === n.dbRecord);
    return rec?.ResourceRecords?.[0]?.Value;
  };
  await setActiveDatabase('blue');

  const outputs: Record<string, string> = {
    [OutputKey.HttpsListenerArn]: httpsListenerArn,
    [OutputKey.HttpListenerArn]: httpListenerArn,
    [OutputKey.LoadBalancerArn]: loadBalancerArn,
    [OutputKey.LoadBalancerDnsName]: lbDns,
    [OutputKey.BlueTargetGroupArn]: targetGroupArn.blue,
    [OutputKey.GreenTargetGroupArn]: targetGroupArn.green,
    [OutputKey.ValidatorFunctionName]: n.validatorFunction,
    [OutputKey.CutoverFunctionName]: n.cutoverFunction,
    [OutputKey.BlueDbSecretArn]: secretArn.blue,
    [OutputKey.GreenDbSecretArn]: secretArn.green,
    [OutputKey.AppDbSecretArn]: secretArn.app,
    [OutputKey.BlueClusterIdentifier]: clusterIdentifier.blue,
    [OutputKey.GreenClusterIdentifier]: clusterIdentifier.green,
    [OutputKey.BlueClusterEndpoint]: clusterEndpoint.blue,
    [OutputKey.GreenClusterEndpoint]: clusterEndpoint.green,
    [OutputKey.EcsClusterName]: n.ecsCluster,
    [OutputKey.BlueServiceName]: n.service('blue'),
    [OutputKey.GreenServiceName]: n.service('green'),
    [OutputKey.BlueAlarmNames]: alarmNames.blue.join(','),
    [OutputKey.GreenAlarmNames]: alarmNames.green.join(','),
    [OutputKey.ArtifactsBucketName]: bucket,
    [OutputKey.OperatorRoleArn]: `arn:aws:iam::${MOTO_ACCOUNT}:role/${n.operatorRole}`,
    [OutputKey.HostedZoneId]: hostedZoneId,
    [OutputKey.DbRecordName]: n.dbRecord,
    [OutputKey.DashboardName]: n.dashboard,
    [OutputKey.Environment]: 'dev',
    [OutputKey.DeployedActiveDatabase]: 'blue',
  };
  if (!opts.withoutStack) {
    await c.cloudformation.send(new CreateStackCommand({ StackName: n.stack, TemplateBody: JSON.stringify(fixtureTemplate(suffix, outputs)) }));
    await waitUntilStackCreateComplete({ client: c.cloudformation, maxWaitTime: 60, minDelay: 1, maxDelay: 2 }, { StackName: n.stack });
  }

  const cw = c.cloudwatch;
  const s3 = c.s3;
  const setAlarm = async (color: Color, kind: AlarmKind, state: StateValue): Promise<void> => {
    await cw.send(new SetAlarmStateCommand({ AlarmName: n.alarm(color, kind), StateValue: state, StateReason: `test fixture set ${state}` }));
  };
  const restore = async (): Promise<void> => {
    await Promise.all([
      setWeights({ blue: 100, green: 0 }),
      ...COLORS.flatMap((color) => ALARM_KINDS.map((kind) => setAlarm(color, kind, 'OK'))),
      ...COLORS.map((color) => setTargetHealth(color, 'healthy')),
      setActiveDatabase('blue'),
      s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: ArtifactKeys.latestReport })),
      ...COLORS.map((color) =>
        c.rds.send(new ModifyDBClusterCommand({ DBClusterIdentifier: clusterIdentifier[color], DeletionProtection: false, ApplyImmediately: true })),
      ),
    ]);
  };
  return {
    suffix,
    region,
    account: MOTO_ACCOUNT,
    stackName: n.stack,
    vpcId,
    subnetIds,
    loadBalancerArn,
    httpsListenerArn,
    httpListenerArn,
    targetGroupArn,
    alarmNames,
    clusterIdentifier,
    clusterEndpoint,
    secretArn,
    ecsClusterName: n.ecsCluster,
    serviceName: { blue: n.service('blue'), green: n.service('green') },
    bucket,
    hostedZoneId,
    dbRecordName: n.dbRecord,
    outputs,
    clients: c,
    env: { ...moto.env, AWS_REGION: region, AWS_DEFAULT_REGION: region },
    setAlarm,
    restore,
    setTargetHealth,
    setWeights,
    readWeights,
    putReport: async (report) => {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: ArtifactKeys.latestReport, Body: JSON.stringify(report), ContentType: 'application/json' }));
    },
    setActiveDatabase,
    readDbRecord,
  };
}

/**
 * The stack moto creates for the fixture: one resource of a type its CloudFormation models (the alarm topic) and
 * the real stack's Outputs with literal values. Exported so deploy tests can build an app moto can deploy.
 */
export function fixtureTemplate(suffix: string, outputs: Record<string, string>): Record<string, unknown> {
  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: `bgmig test fixture for ${suffix} (outputs of the real stack, resources provisioned through the service APIs)`,
    Resources: { AlarmTopic: { Type: 'AWS::SNS::Topic', Properties: { TopicName: names(suffix).alarmTopic } } },
    Outputs: Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, { Value: v }])),
  };
}
