/**
 * The bgmig stack `bgmig-{suffix}`: everything a zero-downtime blue/green migration needs, wired from one
 * StackConfig. Each concern is one construct under ./constructs; this file only connects them, grants the
 * operator role what bgmig's operations call, tags everything and emits the outputs the CLI locates resources by.
 */
import { CfnOutput, CfnResource, Stack, type StackProps, TagManager, Tags } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { StackConfig } from '../core/config.js';
import { COLORS, type Color, names } from '../core/naming.js';
import { OutputKey } from '../core/outputs.js';
import { AccessLogsBucket, ArtifactsBucket } from './constructs/artifacts.js';
import { CutoverFunction } from './constructs/cutover-function.js';
import { AppSecret, ColorDatabase, DatabaseShared, grantStageSecret } from './constructs/database.js';
import { Keys } from './constructs/keys.js';
import { LoadBalancer } from './constructs/load-balancer.js';
import { Monitoring } from './constructs/monitoring.js';
import { Network } from './constructs/network.js';
import { OperatorAccess } from './constructs/operator-access.js';
import { PrivateDns } from './constructs/private-dns.js';
import { RollbackGuard } from './constructs/rollback-guard.js';
import { ColorService } from './constructs/service.js';
import { Pooler } from './constructs/pooler.js';
import { ValidatorFunction } from './constructs/validator-function.js';
import { acknowledgeFindings } from './nag-acknowledgements.js';

export interface BgmigStackProps extends StackProps {
  config: StackConfig;
}

/**
 * Types aws-cdk-lib 2.273 tags but CloudFormation's published schemas (and cfn-lint 1.51) reject Tags on:
 * tagging them would make the template invalid where those schemas apply.
 */
export const UNTAGGED_TYPES = ['AWS::ElasticLoadBalancingV2::Listener', 'AWS::CloudWatch::Dashboard'];

/** Types of raw (non-L1) resources CDK creates that CloudFormation can tag. */
const RAW_TAGGABLE_TYPES = ['AWS::Lambda::Function', 'AWS::IAM::Role'];

export const TAG_KEYS = {
  project: 'Project',
  suffix: 'EnvironmentSuffix',
  environment: 'Environment',
  managedBy: 'ManagedBy',
  color: 'Color',
  costCenter: 'CostCenter',
} as const;

/** Production keeps its logs a year (audits); other environments a month (cost). */
export function logRetention(config: StackConfig): logs.RetentionDays {
  return config.environment === 'prod' ? logs.RetentionDays.ONE_YEAR : logs.RetentionDays.ONE_MONTH;
}

export class BgmigStack extends Stack {
  readonly config: StackConfig;
  readonly network: Network;
  readonly keys: Keys;
  readonly databases: Record<Color, ColorDatabase>;
  readonly appSecret: AppSecret;
  readonly dns: PrivateDns;
  readonly loadBalancer: LoadBalancer;
  readonly services: Record<Color, ColorService>;
  readonly ecsCluster: ecs.Cluster;
  readonly artifacts: ArtifactsBucket;
  readonly validator: ValidatorFunction;
  readonly cutover: CutoverFunction;
  readonly monitoring: Monitoring;
  readonly operator: OperatorAccess;

  constructor(scope: Construct, id: string, props: BgmigStackProps) {
    const config = props.config;
    const n = names(config.suffix);
    super(scope, id, {
      ...props,
      stackName: n.stack,
      env: { account: config.account, region: config.region },
      description: `bgmig ${config.suffix} (${config.environment}): blue/green ECS services behind one ALB, two Aurora PostgreSQL clusters with logical replication`,
    });
    this.config = config;
    const retention = logRetention(config);

    this.network = new Network(this, 'Network', { names: n, availabilityZones: config.availabilityZones, haNat: config.haNat, logRetention: retention });
    const vpc = this.network.vpc;
    this.keys = new Keys(this, 'Keys', { names: n });
    const accessLogs = new AccessLogsBucket(this, 'AccessLogs', { names: n });
    this.artifacts = new ArtifactsBucket(this, 'Artifacts', { names: n, keys: this.keys, accessLogs: accessLogs.bucket });

    const shared = new DatabaseShared(this, 'DatabaseShared', { names: n, vpc, subnets: this.network.dbSubnets });
    const database = (c: Color) =>
      new ColorDatabase(this, c === 'blue' ? 'BlueDatabase' : 'GreenDatabase', {
        names: n,
        color: c,
        vpc,
        shared,
        keys: this.keys,
        availabilityZones: config.availabilityZones,
        instanceClass: config.dbInstanceClass,
        deletionProtection: config.environment === 'prod',
        logRetention: retention,
      });
    this.databases = { blue: database('blue'), green: database('green') };
    this.databases.blue.allowReplicationTo(this.databases.green);
    this.databases.green.allowReplicationTo(this.databases.blue);
    this.appSecret = new AppSecret(this, 'AppSecret', { names: n, keys: this.keys });

    this.dns = new PrivateDns(this, 'PrivateDns', {
      names: n,
      vpc,
      activeWriterEndpoint: this.databases[config.activeDatabase].cluster.clusterEndpoint.hostname,
    });

    this.loadBalancer = new LoadBalancer(this, 'LoadBalancer', {
      names: n,
      vpc,
      subnets: this.network.publicSubnets,
      certificateArn: config.certificateArn,
      containerPort: config.containerPort,
      healthCheckPath: config.healthCheckPath,
      testCidr: config.testCidr,
      weights: config.weights,
      accessLogs: accessLogs.bucket,
    });

    this.ecsCluster = new ecs.Cluster(this, 'EcsCluster', { clusterName: n.ecsCluster, vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });
    const pooler = config.pooler
      ? new Pooler(this, 'Pooler', {
          names: n,
          vpc,
          subnets: this.network.appSubnets,
          availabilityZones: config.availabilityZones,
          cluster: this.ecsCluster,
          dbHost: this.dns.recordName,
          appSecret: this.appSecret,
          keys: this.keys,
          databases: [this.databases.blue, this.databases.green],
          logRetention: retention,
        })
      : undefined;
    const service = (c: Color) =>
      new ColorService(this, c === 'blue' ? 'BlueService' : 'GreenService', {
        names: n,
        color: c,
        cluster: this.ecsCluster,
        vpc,
        subnets: this.network.appSubnets,
        image: c === 'blue' ? config.blueImage : config.greenImage,
        containerPort: config.containerPort,
        targetGroup: this.loadBalancer.targetGroups[c],
        dbHost: pooler?.host ?? this.dns.recordName,
        appSecret: this.appSecret.secret,
        logRetention: retention,
      });
    this.services = { blue: service('blue'), green: service('green') };
    // Either service may be pointed at either cluster by the record, so both clusters admit both services.
    // With the pooler, the services reach only the pooler (apps → pooler → clusters).
    for (const svc of Object.values(this.services)) {
      if (pooler) pooler.allowClientsFrom(svc.securityGroup, n.service(svc.color));
      else for (const db of Object.values(this.databases)) db.allowPostgresFrom(svc.securityGroup, `${n.service(svc.color)}`);
    }

    const fnProps = {
      names: n,
      vpc,
      subnets: this.network.appSubnets,
      blue: this.databases.blue,
      green: this.databases.green,
      artifacts: this.artifacts,
      logRetention: retention,
    };
    this.validator = new ValidatorFunction(this, 'SchemaValidator', fnProps);
    this.cutover = new CutoverFunction(this, 'DbCutover', { ...fnProps, appSecret: this.appSecret, dns: this.dns });
    pooler?.driveFrom(this.cutover.fn);

    this.monitoring = new Monitoring(this, 'Monitoring', {
      names: n,
      colors: {
        blue: { service: this.services.blue, database: this.databases.blue, targetGroup: this.loadBalancer.targetGroups.blue },
        green: { service: this.services.green, database: this.databases.green, targetGroup: this.loadBalancer.targetGroups.green },
      },
      thresholds: config.thresholds,
      dbInstanceClass: config.dbInstanceClass,
      alarmEmail: config.alarmEmail,
    });

    this.operator = new OperatorAccess(this, 'Operator', { names: n });
    const op = this.operator.role;
    new RollbackGuard(this, 'RollbackGuard', {
      names: n,
      loadBalancer: this.loadBalancer,
      greenAlarms: Object.values(this.monitoring.alarms.green),
      artifacts: this.artifacts,
      logRetention: retention,
      operator: op,
    });
    this.loadBalancer.grantShiftTraffic(op);
    this.validator.fn.grantInvoke(op);
    this.cutover.fn.grantInvoke(op);
    this.monitoring.grantDescribeAlarms(op);
    this.artifacts.grantReadReports(op);
    this.artifacts.grantReadJournal(op);
    grantStageSecret(op, [this.databases.blue.secret, this.databases.green.secret, this.appSecret.secret], this.keys);
    for (const c of COLORS) {
      this.databases[c].grantOperate(op);
      this.services[c].grantOperate(op);
    }
    this.dns.grantRead(op);

    this.tagEverything();
    this.emitOutputs();
    acknowledgeFindings(this);
  }

  private tagEverything(): void {
    const c = this.config;
    const add = (key: string, value: string) => Tags.of(this).add(key, value, { excludeResourceTypes: UNTAGGED_TYPES });
    add(TAG_KEYS.project, 'bgmig');
    add(TAG_KEYS.suffix, c.suffix);
    add(TAG_KEYS.environment, c.environment);
    add(TAG_KEYS.managedBy, 'bgmig');
    if (c.costCenter) add(TAG_KEYS.costCenter, c.costCenter);
    // aws-cdk-lib's custom-resource provider (bucket auto-delete) is a raw CfnResource the Tags aspect skips.
    const raw = Object.entries({
      [TAG_KEYS.project]: 'bgmig',
      [TAG_KEYS.suffix]: c.suffix,
      [TAG_KEYS.environment]: c.environment,
      [TAG_KEYS.managedBy]: 'bgmig',
      ...(c.costCenter ? { [TAG_KEYS.costCenter]: c.costCenter } : {}),
    })
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([Key, Value]) => ({ Key, Value }));
    for (const node of this.node.findAll()) {
      if (CfnResource.isCfnResource(node) && !TagManager.isTaggable(node) && RAW_TAGGABLE_TYPES.includes(node.cfnResourceType))
        node.addPropertyOverride('Tags', raw);
    }
    for (const color of COLORS) {
      Tags.of(this.databases[color]).add(TAG_KEYS.color, color);
      Tags.of(this.services[color]).add(TAG_KEYS.color, color);
      Tags.of(this.loadBalancer.targetGroups[color]).add(TAG_KEYS.color, color);
      for (const alarm of Object.values(this.monitoring.alarms[color])) Tags.of(alarm).add(TAG_KEYS.color, color);
    }
  }

  private emitOutputs(): void {
    const n = names(this.config.suffix);
    const out = (key: OutputKey, value: string, description: string) => new CfnOutput(this, key, { key, value, description });
    out(OutputKey.HttpsListenerArn, this.loadBalancer.httpsListener.listenerArn, 'HTTPS listener (weighted forward blue/green)');
    out(OutputKey.HttpListenerArn, this.loadBalancer.httpListener.listenerArn, 'HTTP listener (redirects to HTTPS)');
    out(OutputKey.TestListenerArn, this.loadBalancer.testListener.listenerArn, 'test listener on 8443 (always green)');
    out(OutputKey.LoadBalancerArn, this.loadBalancer.alb.loadBalancerArn, 'application load balancer');
    out(OutputKey.LoadBalancerDnsName, this.loadBalancer.alb.loadBalancerDnsName, 'ALB DNS name (point your domain here)');
    out(OutputKey.BlueTargetGroupArn, this.loadBalancer.targetGroups.blue.targetGroupArn, 'blue target group');
    out(OutputKey.GreenTargetGroupArn, this.loadBalancer.targetGroups.green.targetGroupArn, 'green target group');
    out(OutputKey.ValidatorFunctionName, this.validator.functionName, 'schema validator function');
    out(OutputKey.CutoverFunctionName, this.cutover.functionName, 'database cutover function');
    out(OutputKey.BlueDbSecretArn, this.databases.blue.secret.secretArn, 'blue master credentials');
    out(OutputKey.GreenDbSecretArn, this.databases.green.secret.secretArn, 'green master credentials');
    out(OutputKey.AppDbSecretArn, this.appSecret.secret.secretArn, 'application credentials (both clusters)');
    out(OutputKey.BlueClusterIdentifier, this.databases.blue.cluster.clusterIdentifier, 'blue Aurora cluster');
    out(OutputKey.GreenClusterIdentifier, this.databases.green.cluster.clusterIdentifier, 'green Aurora cluster');
    out(OutputKey.BlueClusterEndpoint, this.databases.blue.cluster.clusterEndpoint.hostname, 'blue writer endpoint');
    out(OutputKey.GreenClusterEndpoint, this.databases.green.cluster.clusterEndpoint.hostname, 'green writer endpoint');
    out(OutputKey.EcsClusterName, this.ecsCluster.clusterName, 'ECS cluster');
    out(OutputKey.BlueServiceName, this.services.blue.service.serviceName, 'blue Fargate service');
    out(OutputKey.GreenServiceName, this.services.green.service.serviceName, 'green Fargate service');
    out(OutputKey.BlueAlarmNames, this.monitoring.alarmNames('blue').join(','), 'blue alarms (comma-separated)');
    out(OutputKey.GreenAlarmNames, this.monitoring.alarmNames('green').join(','), 'green alarms (comma-separated)');
    out(OutputKey.ArtifactsBucketName, this.artifacts.bucket.bucketName, 'validation reports and cutover journal');
    out(OutputKey.OperatorRoleArn, this.operator.role.roleArn, 'role to assume for bgmig operations (--role-arn)');
    out(OutputKey.HostedZoneId, this.dns.zone.hostedZoneId, 'private hosted zone of the database name');
    out(OutputKey.DbRecordName, this.dns.recordName, 'database host name both services use');
    out(OutputKey.DashboardName, n.dashboard, 'CloudWatch dashboard');
    out(OutputKey.Environment, this.config.environment, 'dev, staging or prod');
    out(OutputKey.DeployedActiveDatabase, this.config.activeDatabase, 'colour the template points the db record at (destroy restores it before deleting)');
  }
}
