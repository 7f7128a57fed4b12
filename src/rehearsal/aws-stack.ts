/**
 * The operation-facing resources of a bgmig stack, provisioned on the AWS emulator through the service APIs — for
 * `bgmig rehearse` and for the test suite's fixture (test/harness/aws-fixture.ts calls this), so both run one
 * implementation.
 *
 * moto's CloudFormation cannot create the real bgmig template (it does not model Aurora clusters and crashes on a
 * weighted-forward listener, see docs/limits.md), so every resource an operation touches is created through its
 * service API, named by `names(suffix)` (src/core/naming.ts), and a CloudFormation stack `bgmig-{suffix}` is then
 * created whose Outputs carry their real ids under the OutputKeys the real stack emits. Commands locate everything
 * through those outputs, exactly as on AWS.
 *
 * Provisioned: a VPC with two subnets; the ALB with its HTTPS listener (created with a plain forward, then switched
 * to the weighted forward blue 100 / green 0 by ModifyListener — the order moto accepts) and the HTTP listener; both
 * target groups (ip targets, as Fargate registers) with two registered targets each; the five alarms per colour;
 * both Aurora clusters; the three database secrets; the ECS cluster and both services; the artifacts bucket; the
 * private hosted zone with the db CNAME on the blue writer endpoint; the stack with its Outputs.
 *
 * The VPC, subnets and security groups are emulator scaffolding (on AWS the stack owns them, and bgmig never calls
 * EC2): they are created over EC2's query protocol directly, so the product does not depend on the EC2 SDK.
 */
import { CloudFormationClient, CreateStackCommand, waitUntilStackCreateComplete } from '@aws-sdk/client-cloudformation';
import {
  CloudWatchClient,
  type MetricDatum,
  PutMetricAlarmCommand,
  PutMetricDataCommand,
  SetAlarmStateCommand,
  type StateValue,
} from '@aws-sdk/client-cloudwatch';
import { CreateClusterCommand, CreateServiceCommand, ECSClient, RegisterTaskDefinitionCommand, UpdateServiceCommand } from '@aws-sdk/client-ecs';
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
import { CreateDBClusterCommand, RDSClient } from '@aws-sdk/client-rds';
import {
  ChangeResourceRecordSetsCommand,
  CreateHostedZoneCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
  type VPCRegion,
} from '@aws-sdk/client-route-53';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Weights } from '../core/config.js';
import { ALARM_KINDS, type AlarmKind, type Color, COLORS, names } from '../core/naming.js';
import { ArtifactKeys, OutputKey } from '../core/outputs.js';
import type { ValidationReport } from '../schema/report.js';
import { EMULATOR_ACCOUNT, EMULATOR_REGION } from './emulator.js';

export interface StackClients {
  elbv2: ElasticLoadBalancingV2Client;
  cloudwatch: CloudWatchClient;
  cloudformation: CloudFormationClient;
  rds: RDSClient;
  secrets: SecretsManagerClient;
  ecs: ECSClient;
  s3: S3Client;
  route53: Route53Client;
}

/** SDK clients aimed at the emulator (dummy credentials; S3 by path, as emulators serve it). */
export function stackClients(endpoint: string, region = EMULATOR_REGION): StackClients {
  const cfg = { region, endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } };
  return {
    elbv2: new ElasticLoadBalancingV2Client(cfg),
    cloudwatch: new CloudWatchClient(cfg),
    cloudformation: new CloudFormationClient(cfg),
    rds: new RDSClient(cfg),
    secrets: new SecretsManagerClient(cfg),
    ecs: new ECSClient(cfg),
    s3: new S3Client({ ...cfg, forcePathStyle: true }),
    route53: new Route53Client(cfg),
  };
}

/** What a colour's target group can be set to through ELBv2 alone (moto reports registered ip targets healthy). */
export type TargetSetting = 'healthy' | 'none';

export interface ProvisionedStack {
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
  clients: StackClients;
  /** Puts one alarm into a state (SetAlarmState: what an alarm firing looks like to the API). */
  setAlarm(color: Color, kind: AlarmKind, state: StateValue, reason?: string): Promise<void>;
  /** Replaces a colour's registered targets with two healthy ip targets, or none. */
  setTargetHealth(color: Color, health: TargetSetting): Promise<void>;
  /** Writes listener weights directly (another operator, a CloudFormation update). */
  setWeights(w: Weights): Promise<void>;
  /** Reads the HTTPS listener's weights. */
  readWeights(): Promise<Weights>;
  /** Stores a validation report as the latest one in the artifacts bucket. */
  putReport(report: ValidationReport): Promise<void>;
  /** Points the db CNAME at a colour's writer endpoint. */
  setActiveDatabase(color: Color): Promise<void>;
  /** The db CNAME's current value. */
  readDbRecord(): Promise<string | undefined>;
}

/** Sets both services' desired count (UpdateService: moto reports their tasks running once one is set). */
export async function setDesiredCount(st: Pick<ProvisionedStack, 'clients' | 'ecsClusterName' | 'serviceName'>, count: number): Promise<void> {
  await Promise.all(
    COLORS.map((c) => st.clients.ecs.send(new UpdateServiceCommand({ cluster: st.ecsClusterName, service: st.serviceName[c], desiredCount: count }))),
  );
}

/** Publishes metric data points (PutMetricData: what the ALB itself does in AWS, for the bake analysis to read). */
export async function putMetricData(st: Pick<ProvisionedStack, 'clients'>, namespace: string, data: MetricDatum[]): Promise<void> {
  await st.clients.cloudwatch.send(new PutMetricDataCommand({ Namespace: namespace, MetricData: data }));
}

export interface ProvisionOptions {
  region?: string;
  /** Skip the CloudFormation stack (a test of "stack missing" with resources present). */
  withoutStack?: boolean;
  /** Initial weights (default blue 100 / green 0). */
  weights?: Weights;
  /** SecretString of each database secret (default a placeholder user/password). */
  secretValues?: Partial<Record<Color | 'app', Record<string, string | number>>>;
}

function must<T>(v: T | undefined | null, what: string): T {
  if (v === undefined || v === null) throw new Error(`the emulator returned no ${what}`);
  return v;
}

function dummyAuth(region: string, service: string): string {
  return `AWS4-HMAC-SHA256 Credential=testing/20260101/${region}/${service}/aws4_request, SignedHeaders=host, Signature=0`;
}

/** One EC2 query-protocol call against the emulator (which does not verify signatures); returns the XML body. */
async function ec2Call(endpoint: string, region: string, action: string, params: Record<string, string>): Promise<string> {
  const body = new URLSearchParams({ Action: action, Version: '2016-11-15', ...params });
  const res = await fetch(`${endpoint}/`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8', Authorization: dummyAuth(region, 'ec2') },
    body: body.toString(),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`the emulator refused EC2 ${action}: HTTP ${res.status} ${text.slice(0, 300)}`);
  return text;
}

function xmlValue(xml: string, tag: string): string {
  return must(new RegExp(`<${tag}>([^<]+)</${tag}>`).exec(xml)?.[1], tag);
}

/** An ACM certificate for the HTTPS listener (moto checks it exists), over ACM's JSON protocol. */
async function requestCertificate(endpoint: string, region: string, domain: string): Promise<string> {
  const res = await fetch(`${endpoint}/`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': 'CertificateManager.RequestCertificate', Authorization: dummyAuth(region, 'acm') },
    body: JSON.stringify({ DomainName: domain }),
  });
  if (!res.ok) throw new Error(`the emulator refused ACM RequestCertificate: HTTP ${res.status} ${await res.text()}`);
  return must(((await res.json()) as { CertificateArn?: string }).CertificateArn, 'certificate ARN');
}

/** The emulator scaffolding the other resources need: the VPC, its two subnets and each colour's service security group. */
interface Network {
  vpcId: string;
  subnetIds: string[];
  serviceSg: Record<Color, string>;
}

/**
 * Network first: the ALB, the hosted zone and the services need it. Creates the VPC (10.20.0.0/16), one subnet per
 * zone a/b and the services' security groups over EC2's query protocol; returns their ids.
 */
async function createNetwork(endpoint: string, region: string, n: ReturnType<typeof names>): Promise<Network> {
  const vpcId = xmlValue(await ec2Call(endpoint, region, 'CreateVpc', { CidrBlock: '10.20.0.0/16' }), 'vpcId');
  const subnetIds = await Promise.all(
    ['a', 'b'].map(async (az, i) =>
      xmlValue(await ec2Call(endpoint, region, 'CreateSubnet', { VpcId: vpcId, CidrBlock: `10.20.${i}.0/24`, AvailabilityZone: `${region}${az}` }), 'subnetId'),
    ),
  );
  // moto's ECS validates awsvpc networking and requires security groups (as AWS does for Fargate services).
  const serviceSg = Object.fromEntries(
    await Promise.all(
      COLORS.map(async (color) => {
        const xml = await ec2Call(endpoint, region, 'CreateSecurityGroup', {
          GroupName: n.serviceSecurityGroup(color),
          GroupDescription: `bgmig ${color} service`,
          VpcId: vpcId,
        });
        return [color, xmlValue(xml, 'groupId')] as const;
      }),
    ),
  ) as Record<Color, string>;
  return { vpcId, subnetIds, serviceSg };
}

/** The ids of the resources created in parallel on the network. */
interface Resources {
  loadBalancerArn: string;
  lbDns: string;
  targetGroupArn: Record<Color, string>;
  clusterIdentifier: Record<Color, string>;
  clusterEndpoint: Record<Color, string>;
  secretArn: Record<Color | 'app', string>;
  hostedZoneId: string;
}

/**
 * Creates, in parallel, the ALB, both target groups, both Aurora clusters, the three secrets (`secretValue` gives
 * each SecretString), the private hosted zone, the artifacts bucket, the alarms and the ECS cluster with both
 * services; returns their ids.
 */
async function createResources(
  c: StackClients,
  n: ReturnType<typeof names>,
  suffix: string,
  region: string,
  net: Network,
  bucket: string,
  secretValue: (k: Color | 'app') => string,
): Promise<Resources> {
  const { vpcId, subnetIds } = net;
  // Independent resources in parallel: the suite's speed (and the rehearsal's start-up) depends on it.
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
            EngineVersion: '16.6',
            MasterUsername: 'bgmig_admin',
            MasterUserPassword: 'not-a-real-password-1',
            DatabaseName: 'app',
          }),
        );
        return { identifier: n.auroraCluster(color), endpoint: must(res.DBCluster?.Endpoint, 'cluster endpoint') };
      }),
    ),
    Promise.all(
      (['blue', 'green', 'app'] as const).map(async (k) => {
        const res = await c.secrets.send(new CreateSecretCommand({ Name: k === 'app' ? n.appDbSecret : n.dbSecret(k), SecretString: secretValue(k) }));
        return must(res.ARN, 'secret ARN');
      }),
    ),
    (async () => {
      const res = await c.route53.send(
        new CreateHostedZoneCommand({
          Name: n.hostedZone,
          CallerReference: `bgmig-${suffix}-${Date.now()}`,
          VPC: { VPCRegion: region as VPCRegion, VPCId: vpcId },
          HostedZoneConfig: { PrivateZone: true, Comment: `bgmig ${suffix} (emulator)` },
        }),
      );
      return must(res.HostedZone?.Id, 'hosted zone id').replace(/^\/hostedzone\//, '');
    })(),
    c.s3.send(new CreateBucketCommand({ Bucket: bucket })),
    createAlarms(c, n),
    createServices(c, n, net),
  ]);
  return {
    loadBalancerArn: must(lb.LoadBalancers?.[0]?.LoadBalancerArn, 'load balancer ARN'),
    lbDns: lb.LoadBalancers?.[0]?.DNSName ?? `${n.alb}.${region}.elb.amazonaws.com`,
    targetGroupArn: { blue: tgs[0], green: tgs[1] },
    clusterIdentifier: { blue: clusters[0].identifier, green: clusters[1].identifier },
    clusterEndpoint: { blue: clusters[0].endpoint, green: clusters[1].endpoint },
    secretArn: { blue: secrets[0], green: secrets[1], app: secrets[2] },
    hostedZoneId,
  };
}

/** The five alarms per colour (names from `names`; moto keeps them OK until SetAlarmState). */
async function createAlarms(c: StackClients, n: ReturnType<typeof names>): Promise<void> {
  await Promise.all(
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
  );
}

/** The ECS cluster and each colour's Fargate service (two tasks, awsvpc on the network's subnets and security group). */
async function createServices(c: StackClients, n: ReturnType<typeof names>, net: Network): Promise<void> {
  const { subnetIds, serviceSg } = net;
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
}

/**
 * The ALB's listeners: HTTPS on 443 (an ACM certificate, forwarding to blue until setWeights writes the weighted
 * forward) and HTTP on 80 (a redirect to HTTPS); returns their ARNs.
 */
async function createListeners(
  c: StackClients,
  endpoint: string,
  region: string,
  n: ReturnType<typeof names>,
  res: Resources,
): Promise<{ httpsListenerArn: string; httpListenerArn: string }> {
  const { loadBalancerArn, targetGroupArn } = res;
  const certificateArn = await requestCertificate(endpoint, region, `app.${n.hostedZone}`);
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
  return { httpsListenerArn, httpListenerArn };
}

/** The helpers of a ProvisionedStack that change or read its state (weights, target health, the db record). */
type StackControls = Pick<ProvisionedStack, 'setAlarm' | 'setTargetHealth' | 'setWeights' | 'readWeights' | 'putReport' | 'setActiveDatabase' | 'readDbRecord'>;

/** The state helpers over the created resources: `httpsListenerArn` for the weights, the zone for the db record. */
function stackControls(c: StackClients, n: ReturnType<typeof names>, res: Resources, httpsListenerArn: string, bucket: string): StackControls {
  const { targetGroupArn, hostedZoneId, clusterEndpoint } = res;
  const { elbv2, route53, cloudwatch, s3 } = c;
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
  const setTargetHealth = async (color: Color, health: TargetSetting): Promise<void> => {
    const tg = targetGroupArn[color];
    const current = await elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg }));
    const registered = (current.TargetHealthDescriptions ?? []).flatMap((d) => (d.Target?.Id ? [{ Id: d.Target.Id, Port: d.Target.Port }] : []));
    if (registered.length > 0) await elbv2.send(new DeregisterTargetsCommand({ TargetGroupArn: tg, Targets: registered }));
    if (health === 'healthy') {
      const base = color === 'blue' ? 10 : 20;
      await elbv2.send(
        new RegisterTargetsCommand({
          TargetGroupArn: tg,
          Targets: [
            { Id: `10.20.0.${base + 1}`, Port: 80 },
            { Id: `10.20.1.${base + 2}`, Port: 80 },
          ],
        }),
      );
    }
  };
  const setActiveDatabase = async (color: Color): Promise<void> => {
    await route53.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: hostedZoneId,
        ChangeBatch: {
          Changes: [{ Action: 'UPSERT', ResourceRecordSet: { Name: n.dbRecord, Type: 'CNAME', TTL: 5, ResourceRecords: [{ Value: clusterEndpoint[color] }] } }],
        },
      }),
    );
  };
  const readDbRecord = async (): Promise<string | undefined> => {
    const res = await route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: hostedZoneId, StartRecordName: n.dbRecord, StartRecordType: 'CNAME' }));
    const rec = res.ResourceRecordSets?.find((r) => r.Type === 'CNAME' && r.Name?.replace(/\.$/, '') === n.dbRecord);
    return rec?.ResourceRecords?.[0]?.Value;
  };
  return {
    setAlarm: async (color, kind, state, reason) => {
      await cloudwatch.send(
        new SetAlarmStateCommand({ AlarmName: n.alarm(color, kind), StateValue: state, StateReason: reason ?? `set to ${state} through SetAlarmState` }),
      );
    },
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

/** The real stack's Outputs, by OutputKey, with the emulator's ids (what commands locate everything through). */
function stackOutputs(
  n: ReturnType<typeof names>,
  res: Resources,
  listeners: { httpsListenerArn: string; httpListenerArn: string },
  alarmNames: Record<Color, string[]>,
  bucket: string,
): Record<string, string> {
  const { loadBalancerArn, lbDns, targetGroupArn, secretArn, clusterIdentifier, clusterEndpoint, hostedZoneId } = res;
  return {
    [OutputKey.HttpsListenerArn]: listeners.httpsListenerArn,
    [OutputKey.HttpListenerArn]: listeners.httpListenerArn,
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
    [OutputKey.OperatorRoleArn]: `arn:aws:iam::${EMULATOR_ACCOUNT}:role/${n.operatorRole}`,
    [OutputKey.HostedZoneId]: hostedZoneId,
    [OutputKey.DbRecordName]: n.dbRecord,
    [OutputKey.DashboardName]: n.dashboard,
    [OutputKey.Environment]: 'dev',
    [OutputKey.DeployedActiveDatabase]: 'blue',
  };
}

/**
 * Provisions the stack's operation-facing resources on the emulator at `endpoint` and returns their ids with a few
 * helpers. Raises a plain Error naming the call the emulator refused.
 */
export async function provisionStack(endpoint: string, suffix: string, opts: ProvisionOptions = {}): Promise<ProvisionedStack> {
  const region = opts.region ?? EMULATOR_REGION;
  const n = names(suffix);
  const c = stackClients(endpoint, region);
  const secretValue = (k: Color | 'app') => JSON.stringify(opts.secretValues?.[k] ?? { username: 'u', password: 'p', engine: 'postgres' });

  const net = await createNetwork(endpoint, region, n);
  const bucket = n.artifactsBucket(EMULATOR_ACCOUNT, region);
  const alarmNames = { blue: ALARM_KINDS.map((k) => n.alarm('blue', k)), green: ALARM_KINDS.map((k) => n.alarm('green', k)) };
  const res = await createResources(c, n, suffix, region, net, bucket, secretValue);
  const listeners = await createListeners(c, endpoint, region, n, res);

  // The initial state: the weighted forward, two healthy targets per colour, the db record on blue.
  const controls = stackControls(c, n, res, listeners.httpsListenerArn, bucket);
  await controls.setWeights(opts.weights ?? { blue: 100, green: 0 });
  await Promise.all(COLORS.map((color) => controls.setTargetHealth(color, 'healthy')));
  await controls.setActiveDatabase('blue');

  const outputs = stackOutputs(n, res, listeners, alarmNames, bucket);
  if (!opts.withoutStack) {
    await c.cloudformation.send(new CreateStackCommand({ StackName: n.stack, TemplateBody: JSON.stringify(stackTemplate(suffix, outputs)) }));
    await waitUntilStackCreateComplete({ client: c.cloudformation, maxWaitTime: 60, minDelay: 1, maxDelay: 2 }, { StackName: n.stack });
  }

  return {
    suffix,
    region,
    account: EMULATOR_ACCOUNT,
    stackName: n.stack,
    vpcId: net.vpcId,
    subnetIds: net.subnetIds,
    loadBalancerArn: res.loadBalancerArn,
    ...listeners,
    targetGroupArn: res.targetGroupArn,
    alarmNames,
    clusterIdentifier: res.clusterIdentifier,
    clusterEndpoint: res.clusterEndpoint,
    secretArn: res.secretArn,
    ecsClusterName: n.ecsCluster,
    serviceName: { blue: n.service('blue'), green: n.service('green') },
    bucket,
    hostedZoneId: res.hostedZoneId,
    dbRecordName: n.dbRecord,
    outputs,
    clients: c,
    ...controls,
  };
}

/**
 * The stack the emulator creates: one resource of a type its CloudFormation models (the alarm topic) and the real
 * stack's Outputs with literal values.
 */
export function stackTemplate(suffix: string, outputs: Record<string, string>): Record<string, unknown> {
  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: `bgmig ${suffix} on the AWS emulator (outputs of the real stack, resources provisioned through the service APIs)`,
    Resources: { AlarmTopic: { Type: 'AWS::SNS::Topic', Properties: { TopicName: names(suffix).alarmTopic } } },
    Outputs: Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, { Value: v }])),
  };
}
