/**
 * The bgmig stack, proven offline: one test per requirement of the stack (docs/architecture.md lists them), each
 * against a template synthesized once per config with cdk-nag and CDK's template validation on.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS, makeStackConfig } from '../../src/core/config.js';
import { APP_DB_USERNAME, CutoverEnv, RDS_CA_BUNDLE, ValidatorEnv } from '../../src/core/lambda-env.js';
import { ALARM_KINDS, COLORS, type Color, names } from '../../src/core/naming.js';
import { OutputKey } from '../../src/core/outputs.js';
import { lambdaBundleDir } from '../../src/core/paths.js';
import { maxConnections } from '../../src/infra/constructs/database.js';
import { TEMPLATE_PASSWORD_EXCLUDED_CHARACTERS } from '../../src/core/password-policy.js';
import { NAG_SUMMARY_FILE, type NagSummary, readViolations } from '../../src/infra/nag-summary.js';
import { REPO_ROOT } from '../harness/cli.js';
import {
  actionsOf,
  allStatements,
  type CfnResource,
  type CfnTemplate,
  logicalIdOf,
  props,
  resourcesOfType,
  roleStatements,
  type Statement,
  type Synthesized,
  synthesize,
} from './synth-fixture.js';

const PROD_CERT = 'arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-1234-5678-9abc-def012345678';
let dev: Synthesized;
let prod: Synthesized;

beforeAll(() => {
  dev = synthesize(makeStackConfig({ suffix: 'demo' }));
  prod = synthesize(
    makeStackConfig({
      suffix: 'shop-prod',
      environment: 'prod',
      haNat: true,
      certificateArn: PROD_CERT,
      availabilityZones: ['us-east-1b', 'us-east-1c', 'us-east-1d'],
      weights: { blue: 70, green: 30 },
      activeDatabase: 'green',
      blueImage: 'public.ecr.aws/docker/library/httpd:2.4',
      greenImage: 'public.ecr.aws/docker/library/httpd:2.4.62',
      containerPort: 8080,
      healthCheckPath: '/healthz',
      testCidr: '203.0.113.0/24',
      alarmEmail: 'oncall@example.com',
      costCenter: 'cc-4711',
      thresholds: { ...DEFAULTS.thresholds, cpuPercent: 65, http5xxCount: 25, dbConnectionsFraction: 0.5 },
    }),
  );
  process.stderr.write(`infra: synth dev ${dev.synthMs} ms, prod ${prod.synthMs} ms (nag + CDK validation on)\n`);
}, 400_000);

const n = names('demo');
const count = (t: CfnTemplate, type: string) => resourcesOfType(t, type).length;
const one = (t: CfnTemplate, type: string, nameProp: string, name: string): CfnResource => t.Resources[logicalIdOf(t, type, nameProp, name)];
const ref = (id: string) => ({ Ref: id });
const getAtt = (id: string, attr: string) => ({ 'Fn::GetAtt': [id, attr] });
const tagsOf = (r: CfnResource): Record<string, string> => {
  const list = (props(r).Tags ?? props(r).HostedZoneTags ?? []) as Array<{ Key: string; Value: string }>;
  return Object.fromEntries(list.map((x) => [x.Key, x.Value]));
};

describe('network', () => {
  it('VPC vpc-{suffix} spans the three configured AZs with public, private-with-egress and isolated subnets', () => {
    const t = dev.json;
    const [vpcId, vpc] = resourcesOfType(t, 'AWS::EC2::VPC')[0];
    expect(tagsOf(vpc).Name).toBe(n.vpc);
    const subnets = resourcesOfType(t, 'AWS::EC2::Subnet').map(([, r]) => props(r));
    expect(subnets).toHaveLength(9);
    expect(subnets.every((s) => JSON.stringify(s.VpcId) === JSON.stringify(ref(vpcId)))).toBe(true);
    const byType = (type: string) =>
      subnets.filter((s) => (s.Tags as Array<{ Key: string; Value: string }>).some((x) => x.Key === 'aws-cdk:subnet-type' && x.Value === type));
    for (const type of ['Public', 'Private', 'Isolated']) {
      expect(
        byType(type)
          .map((s) => s.AvailabilityZone)
          .sort(),
      ).toEqual(['us-east-1a', 'us-east-1b', 'us-east-1c']);
    }
    // Explicit AZs from --azs, never CDK's dummy placeholders.
    expect(
      resourcesOfType(prod.json, 'AWS::EC2::Subnet')
        .map(([, r]) => props(r).AvailabilityZone)
        .sort(),
    ).toEqual(['us-east-1b', 'us-east-1b', 'us-east-1b', 'us-east-1c', 'us-east-1c', 'us-east-1c', 'us-east-1d', 'us-east-1d', 'us-east-1d']);
    expect(readFileSync(dev.templateFile, 'utf8')).not.toMatch(/dummy1/);
    // Public subnets do not hand out public IPs: the ALB and NAT gateways have their own.
    expect(byType('Public').every((s) => s.MapPublicIpOnLaunch === false)).toBe(true);
  });

  it('one NAT gateway by default and one per AZ with --ha-nat', () => {
    expect(count(dev.json, 'AWS::EC2::NatGateway')).toBe(1);
    expect(count(prod.json, 'AWS::EC2::NatGateway')).toBe(3);
  });

  it('VPC flow logs go to CloudWatch Logs (log-vpc-flow-{suffix}) through role-flowlog-{suffix}', () => {
    const logId = logicalIdOf(dev.json, 'AWS::Logs::LogGroup', 'LogGroupName', n.flowLogGroup);
    const roleId = logicalIdOf(dev.json, 'AWS::IAM::Role', 'RoleName', n.flowLogRole);
    dev.template.hasResourceProperties('AWS::EC2::FlowLog', {
      ResourceType: 'VPC',
      TrafficType: 'ALL',
      LogDestinationType: 'cloud-watch-logs',
      LogGroupName: ref(logId),
      DeliverLogsPermissionArn: getAtt(roleId, 'Arn'),
    });
  });

  it('no VPC endpoint of any kind', () => {
    for (const t of [dev.json, prod.json]) {
      expect(Object.values(t.Resources).filter((r) => /VPCEndpoint/.test(r.Type))).toEqual([]);
    }
  });
});

describe('keys', () => {
  it('customer-managed KMS keys with rotation for Aurora, Secrets Manager and S3, and nothing else', () => {
    const keys = resourcesOfType(dev.json, 'AWS::KMS::Key');
    expect(keys).toHaveLength(3);
    expect(keys.every(([, k]) => props(k).EnableKeyRotation === true)).toBe(true);
    const aliases = resourcesOfType(dev.json, 'AWS::KMS::Alias')
      .map(([, a]) => props(a).AliasName)
      .sort();
    expect(aliases).toEqual([n.kmsAlias('aurora'), n.kmsAlias('s3'), n.kmsAlias('secrets')]);
    const aurora = logicalIdOf(dev.json, 'AWS::KMS::Alias', 'AliasName', n.kmsAlias('aurora'));
    const auroraKey = (props(dev.json.Resources[aurora]).TargetKeyId as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    dev.template.hasResourceProperties('AWS::RDS::DBCluster', { KmsKeyId: getAtt(auroraKey, 'Arn') });
  });

  it('no KmsKeyId on any log group, and every log group has a retention', () => {
    const groups = resourcesOfType(dev.json, 'AWS::Logs::LogGroup').map(([, r]) => props(r));
    expect(groups.length).toBeGreaterThanOrEqual(7);
    expect(groups.filter((g) => 'KmsKeyId' in g)).toEqual([]);
    expect(groups.every((g) => g.RetentionInDays === 30)).toBe(true);
    expect(resourcesOfType(prod.json, 'AWS::Logs::LogGroup').every(([, r]) => props(r).RetentionInDays === 365)).toBe(true);
  });
});

describe('databases', () => {
  it('two Aurora PostgreSQL 16.x clusters aurora-{color}-{suffix}, each a writer and 2 readers across the 3 AZs in the isolated subnets', () => {
    const t = dev.json;
    const subnetGroup = one(t, 'AWS::RDS::DBSubnetGroup', 'DBSubnetGroupName', n.auroraSubnetGroup);
    const isolated = resourcesOfType(t, 'AWS::EC2::Subnet')
      .filter(([, r]) => (props(r).Tags as Array<{ Key: string; Value: string }>).some((x) => x.Value === 'Isolated'))
      .map(([id]) => ref(id));
    expect(props(subnetGroup).SubnetIds).toEqual(isolated);
    for (const c of COLORS) {
      const clusterId = logicalIdOf(t, 'AWS::RDS::DBCluster', 'DBClusterIdentifier', n.auroraCluster(c));
      const cluster = props(t.Resources[clusterId]);
      expect(cluster.Engine).toBe('aurora-postgresql');
      expect(cluster.EngineVersion).toMatch(/^16\.\d+$/);
      expect(cluster.DBSubnetGroupName).toEqual(ref(logicalIdOf(t, 'AWS::RDS::DBSubnetGroup', 'DBSubnetGroupName', n.auroraSubnetGroup)));
      const instances = resourcesOfType(t, 'AWS::RDS::DBInstance')
        .map(([, r]) => props(r))
        .filter((i) => JSON.stringify(i.DBClusterIdentifier) === JSON.stringify(ref(clusterId)));
      expect(instances.map((i) => i.DBInstanceIdentifier)).toEqual([0, 1, 2].map((i) => n.auroraInstance(c, i)));
      expect(instances.map((i) => i.AvailabilityZone)).toEqual(['us-east-1a', 'us-east-1b', 'us-east-1c']);
      expect(instances.every((i) => i.PubliclyAccessible === false && i.DBInstanceClass === DEFAULTS.dbInstanceClass)).toBe(true);
    }
  });

  it('storage encrypted with the Aurora key, 7-day backup retention and PostgreSQL log export', () => {
    for (const c of COLORS) {
      const cluster = props(one(dev.json, 'AWS::RDS::DBCluster', 'DBClusterIdentifier', n.auroraCluster(c)));
      expect(cluster.StorageEncrypted).toBe(true);
      expect(cluster.BackupRetentionPeriod).toBe(7);
      expect(cluster.EnableCloudwatchLogsExports).toEqual(['postgresql']);
      expect(cluster.Port).toBe(5432);
    }
  });

  it('cluster parameter group: rds.force_ssl, rds.logical_replication and replication capacity for one sync each way', () => {
    const pg = props(one(dev.json, 'AWS::RDS::DBClusterParameterGroup', 'DBClusterParameterGroupName', n.auroraParameterGroup));
    expect(pg.Family).toBe('aurora-postgresql16');
    const p = pg.Parameters as Record<string, string>;
    expect(p['rds.force_ssl']).toBe('1');
    expect(p['rds.logical_replication']).toBe('1');
    // A subscription uses one apply worker + slot and up to max_sync_workers_per_subscription table-sync workers
    // (each with a temporary slot); during a cutover both directions exist for a moment.
    const perSubscription = 1 + Number(p.max_sync_workers_per_subscription);
    expect(Number(p.max_sync_workers_per_subscription)).toBeGreaterThanOrEqual(1);
    expect(Number(p.max_replication_slots)).toBeGreaterThanOrEqual(2 * perSubscription);
    expect(Number(p.max_wal_senders)).toBeGreaterThanOrEqual(Number(p.max_replication_slots));
    expect(Number(p.max_logical_replication_workers)).toBeGreaterThanOrEqual(2 * perSubscription);
    expect(Number(p.max_worker_processes)).toBeGreaterThan(Number(p.max_logical_replication_workers));
    const pgId = logicalIdOf(dev.json, 'AWS::RDS::DBClusterParameterGroup', 'DBClusterParameterGroupName', n.auroraParameterGroup);
    for (const c of COLORS) {
      expect(props(one(dev.json, 'AWS::RDS::DBCluster', 'DBClusterIdentifier', n.auroraCluster(c))).DBClusterParameterGroupName).toEqual(ref(pgId));
    }
  });

  it('deletion protection true for prod and false for dev', () => {
    const dp = (s: Synthesized) => resourcesOfType(s.json, 'AWS::RDS::DBCluster').map(([, r]) => props(r).DeletionProtection);
    expect(dp(dev)).toEqual([false, false]);
    expect(dp(prod)).toEqual([true, true]);
  });

  it('master secrets secret-db-{color}-{suffix} encrypted with the Secrets key, with no rotation schedule', () => {
    const secretsKey = (props(one(dev.json, 'AWS::KMS::Alias', 'AliasName', n.kmsAlias('secrets'))).TargetKeyId as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
    for (const c of COLORS) {
      const s = props(one(dev.json, 'AWS::SecretsManager::Secret', 'Name', n.dbSecret(c)));
      expect(s.KmsKeyId).toEqual(getAtt(secretsKey, 'Arn'));
      expect(s.GenerateSecretString).toMatchObject({ GenerateStringKey: 'password', ExcludeCharacters: TEMPLATE_PASSWORD_EXCLUDED_CHARACTERS });
    }
    expect(count(dev.json, 'AWS::SecretsManager::RotationSchedule')).toBe(0);
    expect(count(dev.json, 'AWS::SecretsManager::SecretTargetAttachment')).toBe(2);
  });

  it('application secret secret-db-app-{suffix}: the app username, a generated password safe in connection strings, the Secrets key, no rotation', () => {
    const s = props(one(dev.json, 'AWS::SecretsManager::Secret', 'Name', n.appDbSecret));
    const g = s.GenerateSecretString as Record<string, unknown>;
    expect(JSON.parse(g.SecretStringTemplate as string)).toEqual({ username: APP_DB_USERNAME });
    expect(g.GenerateStringKey).toBe('password');
    for (const ch of ['@', ':', '/', '?', '#', '%', "'", '"', '\\', ' ', '&', '=']) expect(g.ExcludeCharacters as string).toContain(ch);
    expect(s.KmsKeyId).toEqual(props(one(dev.json, 'AWS::SecretsManager::Secret', 'Name', n.dbSecret('blue'))).KmsKeyId);
  });
});

describe('private DNS', () => {
  it('private hosted zone attached to the VPC with a db CNAME (TTL 5) to the active cluster writer endpoint', () => {
    for (const [s, active] of [
      [dev, 'blue'],
      [prod, 'green'],
    ] as Array<[Synthesized, Color]>) {
      const nn = names(s.config.suffix);
      const vpcId = resourcesOfType(s.json, 'AWS::EC2::VPC')[0][0];
      const [zoneId, zone] = resourcesOfType(s.json, 'AWS::Route53::HostedZone')[0];
      expect(props(zone).Name).toBe(`${nn.hostedZone}.`);
      expect(props(zone).VPCs).toEqual([{ VPCId: ref(vpcId), VPCRegion: 'us-east-1' }]);
      const record = props(resourcesOfType(s.json, 'AWS::Route53::RecordSet')[0][1]);
      const clusterId = logicalIdOf(s.json, 'AWS::RDS::DBCluster', 'DBClusterIdentifier', nn.auroraCluster(active));
      expect(record).toMatchObject({
        HostedZoneId: ref(zoneId),
        Name: `${nn.dbRecord}.`,
        Type: 'CNAME',
        TTL: '5',
        ResourceRecords: [getAtt(clusterId, 'Endpoint.Address')],
      });
    }
  });
});

describe('containers', () => {
  it('ECS cluster ecs-{suffix} with Container Insights', () => {
    dev.template.hasResourceProperties('AWS::ECS::Cluster', { ClusterName: n.ecsCluster, ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }] });
  });

  it('per color a Fargate service svc-{color}-{suffix}: private subnets, no public IP, 2 tasks, rolling 100/200 with circuit-breaker rollback', () => {
    const appSubnets = resourcesOfType(dev.json, 'AWS::EC2::Subnet')
      .filter(([, r]) => (props(r).Tags as Array<{ Key: string; Value: string }>).some((x) => x.Value === 'Private'))
      .map(([id]) => ref(id));
    for (const c of COLORS) {
      const svc = props(one(dev.json, 'AWS::ECS::Service', 'ServiceName', n.service(c)));
      expect(svc.LaunchType).toBe('FARGATE');
      expect(svc.DesiredCount).toBe(2);
      expect(svc.DeploymentConfiguration).toMatchObject({
        DeploymentCircuitBreaker: { Enable: true, Rollback: true },
        MaximumPercent: 200,
        MinimumHealthyPercent: 100,
      });
      const net = (svc.NetworkConfiguration as { AwsvpcConfiguration: { AssignPublicIp: string; Subnets: unknown[] } }).AwsvpcConfiguration;
      expect(net.AssignPublicIp).toBe('DISABLED');
      expect(net.Subnets).toEqual(appSubnets);
      const tgId = logicalIdOf(dev.json, 'AWS::ElasticLoadBalancingV2::TargetGroup', 'Name', n.targetGroup(c));
      expect(svc.LoadBalancers).toEqual([{ ContainerName: 'app', ContainerPort: 80, TargetGroupArn: ref(tgId) }]);
      expect(svc.TaskDefinition).toEqual(ref(logicalIdOf(dev.json, 'AWS::ECS::TaskDefinition', 'Family', n.taskFamily(c))));
    }
  });

  it('own task definition per color: image from --blue-image/--green-image, container port, logs to a log group with retention', () => {
    for (const c of COLORS) {
      const td = props(one(prod.json, 'AWS::ECS::TaskDefinition', 'Family', names('shop-prod').taskFamily(c)));
      const [container] = td.ContainerDefinitions as Array<Record<string, unknown>>;
      expect(container.Image).toBe(c === 'blue' ? 'public.ecr.aws/docker/library/httpd:2.4' : 'public.ecr.aws/docker/library/httpd:2.4.62');
      expect(container.PortMappings).toEqual([{ ContainerPort: 8080, Protocol: 'tcp' }]);
      const logId = logicalIdOf(prod.json, 'AWS::Logs::LogGroup', 'LogGroupName', names('shop-prod').serviceLogGroup(c));
      expect((container.LogConfiguration as { Options: Record<string, unknown> }).Options['awslogs-group']).toEqual(ref(logId));
      expect(td.RequiresCompatibilities).toEqual(['FARGATE']);
    }
    const dtd = props(one(dev.json, 'AWS::ECS::TaskDefinition', 'Family', n.taskFamily('blue')));
    expect((dtd.ContainerDefinitions as Array<{ Image: string }>)[0].Image).toBe(DEFAULTS.image);
  });

  it('services get the db record as a plain host name and the application secret (never a master secret) as ECS secrets', () => {
    const appSecret = logicalIdOf(dev.json, 'AWS::SecretsManager::Secret', 'Name', n.appDbSecret);
    for (const c of COLORS) {
      const td = props(one(dev.json, 'AWS::ECS::TaskDefinition', 'Family', n.taskFamily(c)));
      const [container] = td.ContainerDefinitions as Array<{
        Environment: Array<{ Name: string; Value: unknown }>;
        Secrets: Array<{ Name: string; ValueFrom: unknown }>;
      }>;
      const env = Object.fromEntries(container.Environment.map((e) => [e.Name, e.Value]));
      expect(env).toEqual({ BGMIG_COLOR: c, DB_HOST: n.dbRecord, DB_PORT: '5432', DB_NAME: 'app' });
      expect(container.Secrets.map((s) => s.Name).sort()).toEqual(['DB_PASSWORD', 'DB_USERNAME']);
      for (const s of container.Secrets) {
        expect(JSON.stringify(s.ValueFrom)).toContain(`"Ref":"${appSecret}"`);
        expect(JSON.stringify(s.ValueFrom)).not.toMatch(/DatabaseClusterSecret/);
      }
      // Nothing that looks like a credential in the plain environment.
      expect(JSON.stringify(container.Environment)).not.toMatch(/PASSWORD|SECRET|secretsmanager/i);
    }
  });
});

describe('load balancer', () => {
  it('internet-facing ALB alb-{suffix} in the public subnets with access logs to an SSE-S3 bucket', () => {
    const alb = props(one(dev.json, 'AWS::ElasticLoadBalancingV2::LoadBalancer', 'Name', n.alb));
    expect(alb.Scheme).toBe('internet-facing');
    const publicSubnets = resourcesOfType(dev.json, 'AWS::EC2::Subnet')
      .filter(([, r]) => (props(r).Tags as Array<{ Key: string; Value: string }>).some((x) => x.Value === 'Public'))
      .map(([id]) => ref(id));
    expect(alb.Subnets).toEqual(publicSubnets);
    const attrs = Object.fromEntries((alb.LoadBalancerAttributes as Array<{ Key: string; Value: unknown }>).map((a) => [a.Key, a.Value]));
    expect(attrs['access_logs.s3.enabled']).toBe('true');
    const logsBucketId = (attrs['access_logs.s3.bucket'] as { Ref: string }).Ref;
    expect(props(dev.json.Resources[logsBucketId]).BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
    });
    expect(attrs['routing.http.drop_invalid_header_fields.enabled']).toBe('true');
  });

  it('HTTPS listener on 443 with the certificate, a TLS 1.3 policy and a weighted forward to both target groups with the input weights', () => {
    for (const [s, weights, cert] of [
      [dev, { blue: 100, green: 0 }, dev.config.certificateArn],
      [prod, { blue: 70, green: 30 }, PROD_CERT],
    ] as const) {
      const nn = names(s.config.suffix);
      const listener = resourcesOfType(s.json, 'AWS::ElasticLoadBalancingV2::Listener')
        .map(([, r]) => props(r))
        .find((l) => l.Port === 443);
      expect(listener).toBeDefined();
      expect(listener?.Protocol).toBe('HTTPS');
      expect(listener?.Certificates).toEqual([{ CertificateArn: cert }]);
      expect(listener?.SslPolicy).toMatch(/^ELBSecurityPolicy-TLS13-/);
      const tg = (c: Color) => ref(logicalIdOf(s.json, 'AWS::ElasticLoadBalancingV2::TargetGroup', 'Name', nn.targetGroup(c)));
      expect(listener?.DefaultActions).toEqual([
        {
          Type: 'forward',
          ForwardConfig: {
            TargetGroups: [
              { TargetGroupArn: tg('blue'), Weight: weights.blue },
              { TargetGroupArn: tg('green'), Weight: weights.green },
            ],
          },
        },
      ]);
    }
  });

  it('HTTP on 80 redirects to HTTPS', () => {
    dev.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 80,
      Protocol: 'HTTP',
      DefaultActions: [{ Type: 'redirect', RedirectConfig: { Protocol: 'HTTPS', Port: '443', StatusCode: 'HTTP_301' } }],
    });
  });

  it('target groups tg-{color}-{suffix}: IP targets, health checks (path, interval, thresholds) and a short deregistration delay', () => {
    for (const c of COLORS) {
      const tg = props(one(prod.json, 'AWS::ElasticLoadBalancingV2::TargetGroup', 'Name', names('shop-prod').targetGroup(c)));
      expect(tg).toMatchObject({
        TargetType: 'ip',
        Port: 8080,
        Protocol: 'HTTP',
        HealthCheckEnabled: true,
        HealthCheckPath: '/healthz',
        HealthCheckIntervalSeconds: 15,
        HealthCheckTimeoutSeconds: 5,
        HealthyThresholdCount: 2,
        UnhealthyThresholdCount: 3,
      });
      expect(tg.TargetGroupAttributes).toContainEqual({ Key: 'deregistration_delay.timeout_seconds', Value: '30' });
    }
  });

  it('test listener on 8443 always forwards to green and the ALB admits 8443 only from --test-cidr', () => {
    const nn = names('shop-prod');
    const greenTg = logicalIdOf(prod.json, 'AWS::ElasticLoadBalancingV2::TargetGroup', 'Name', nn.targetGroup('green'));
    prod.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 8443,
      Protocol: 'HTTPS',
      Certificates: [{ CertificateArn: PROD_CERT }],
      DefaultActions: [{ Type: 'forward', TargetGroupArn: ref(greenTg) }],
    });
    const sg = props(one(prod.json, 'AWS::EC2::SecurityGroup', 'GroupName', nn.albSecurityGroup));
    const ingress = sg.SecurityGroupIngress as Array<{ CidrIp: string; FromPort: number }>;
    expect(ingress.filter((r) => r.FromPort === 8443)).toEqual([expect.objectContaining({ CidrIp: '203.0.113.0/24', ToPort: 8443 })]);
    expect(ingress.map((r) => `${r.CidrIp}:${r.FromPort}`).sort()).toEqual(['0.0.0.0/0:443', '0.0.0.0/0:80', '203.0.113.0/24:8443']);
  });

  it('without --certificate-arn the listeners use the obviously fake placeholder certificate', () => {
    expect(dev.config.certificateIsPlaceholder).toBe(true);
    expect(JSON.stringify(dev.json)).toContain('000000000000:certificate/00000000-0000-0000-0000-placeholder0');
    expect(JSON.stringify(prod.json)).not.toContain('placeholder');
  });
});

describe('IAM', () => {
  it('task roles and execution roles trust exactly ecs-tasks.amazonaws.com', () => {
    for (const c of COLORS) {
      for (const name of [n.taskRole(c), n.taskExecutionRole(c)]) {
        const role = props(one(dev.json, 'AWS::IAM::Role', 'RoleName', name));
        expect(role.AssumeRolePolicyDocument).toEqual({
          Version: '2012-10-17',
          Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'ecs-tasks.amazonaws.com' } }],
        });
        expect(role.ManagedPolicyArns).toBeUndefined();
      }
      const td = props(one(dev.json, 'AWS::ECS::TaskDefinition', 'Family', n.taskFamily(c)));
      expect(td.TaskRoleArn).toEqual(getAtt(logicalIdOf(dev.json, 'AWS::IAM::Role', 'RoleName', n.taskRole(c)), 'Arn'));
      expect(td.ExecutionRoleArn).toEqual(getAtt(logicalIdOf(dev.json, 'AWS::IAM::Role', 'RoleName', n.taskExecutionRole(c)), 'Arn'));
    }
  });

  it('the Lambda roles trust exactly lambda.amazonaws.com and carry no managed policy', () => {
    for (const name of [n.validatorRole, n.cutoverRole]) {
      const role = props(one(dev.json, 'AWS::IAM::Role', 'RoleName', name));
      expect((role.AssumeRolePolicyDocument as { Statement: Statement[] }).Statement).toEqual([
        { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } },
      ]);
      expect(role.ManagedPolicyArns).toBeUndefined();
    }
  });

  it("operator role role-operator-{suffix}: 1-hour sessions, exactly the actions bgmig operations call, on this stack's resources", () => {
    const t = dev.json;
    const roleId = logicalIdOf(t, 'AWS::IAM::Role', 'RoleName', n.operatorRole);
    expect(props(t.Resources[roleId]).MaxSessionDuration).toBe(3600);
    const statements = roleStatements(t, roleId);
    const actions = new Set(statements.flatMap(actionsOf));
    expect([...actions].sort()).toEqual([
      'cloudformation:DescribeStackEvents',
      'cloudformation:DescribeStackResources',
      'cloudformation:DescribeStacks',
      'cloudformation:GetTemplate',
      'cloudwatch:DescribeAlarms',
      'cloudwatch:GetMetricData',
      'ecs:DescribeServices',
      'ecs:UpdateService',
      'elasticloadbalancing:DescribeListeners',
      'elasticloadbalancing:DescribeLoadBalancers',
      'elasticloadbalancing:DescribeRules',
      'elasticloadbalancing:DescribeTags',
      'elasticloadbalancing:DescribeTargetGroups',
      'elasticloadbalancing:DescribeTargetHealth',
      'elasticloadbalancing:ModifyListener',
      'events:DescribeRule',
      'events:DisableRule',
      'events:EnableRule',
      'events:ListTargetsByRule',
      'kms:Decrypt',
      'kms:GenerateDataKey',
      'lambda:InvokeFunction',
      'rds:DescribeDBClusters',
      'rds:ModifyDBCluster',
      'route53:GetHostedZone',
      'route53:ListResourceRecordSets',
      's3:DeleteObject',
      's3:GetObject',
      's3:ListBucket',
      's3:PutObject',
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetRandomPassword',
      'secretsmanager:GetSecretValue',
      'secretsmanager:PutSecretValue',
      'secretsmanager:UpdateSecretVersionStage',
    ]);
    const resourcesFor = (action: string) =>
      statements.filter((s) => actionsOf(s).includes(action)).flatMap((s) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]));
    const httpsListener = resourcesOfType(t, 'AWS::ElasticLoadBalancingV2::Listener').find(([, r]) => props(r).Port === 443)?.[0] as string;
    expect(resourcesFor('elasticloadbalancing:ModifyListener')).toEqual([ref(httpsListener)]);
    expect(resourcesFor('lambda:InvokeFunction')).toEqual([
      getAtt(logicalIdOf(t, 'AWS::Lambda::Function', 'FunctionName', n.validatorFunction), 'Arn'),
      getAtt(logicalIdOf(t, 'AWS::Lambda::Function', 'FunctionName', n.cutoverFunction), 'Arn'),
    ]);
    expect(resourcesFor('cloudformation:DescribeStacks')).toEqual([ref('AWS::StackId')]);
    expect(resourcesFor('ecs:UpdateService')).toEqual(COLORS.map((c) => ref(logicalIdOf(t, 'AWS::ECS::Service', 'ServiceName', n.service(c)))));
    expect(resourcesFor('secretsmanager:PutSecretValue')).toHaveLength(3);
    expect(JSON.stringify(resourcesFor('cloudwatch:DescribeAlarms'))).toContain(':alarm:alarm-green-unhealthy-hosts-demo');
    expect(resourcesFor('cloudwatch:DescribeAlarms')).toHaveLength(10);
    // Operators read reports; they append to the journal (promote, rollback, rollouts) and keep the rollout lease.
    expect(
      resourcesFor('s3:PutObject')
        .map((r) => JSON.stringify(r).match(/\/(\w+)\/\*/)?.[1])
        .sort(),
    ).toEqual(['journal', 'rollout']);
    expect(JSON.stringify(resourcesFor('s3:GetObject'))).toContain('/journal/*');
    expect(JSON.stringify(resourcesFor('s3:GetObject'))).toContain('/reports/*');
    // `*` only where AWS has no resource-level permission.
    const star = statements
      .filter((s) => s.Resource === '*')
      .flatMap(actionsOf)
      .sort();
    expect(star).toEqual([
      'cloudwatch:GetMetricData',
      'elasticloadbalancing:DescribeListeners',
      'elasticloadbalancing:DescribeLoadBalancers',
      'elasticloadbalancing:DescribeRules',
      'elasticloadbalancing:DescribeTags',
      'elasticloadbalancing:DescribeTargetGroups',
      'elasticloadbalancing:DescribeTargetHealth',
      'secretsmanager:GetRandomPassword',
    ]);
    // KMS only through the services that own the keys.
    expect(
      statements.filter((s) => actionsOf(s).some((a) => a.startsWith('kms:'))).every((s) => s.Condition?.StringEquals?.['kms:ViaService'] !== undefined),
    ).toBe(true);
  });

  it('no `*` action: no Allow statement anywhere has a wildcard action (the only wildcard is the TLS-only Deny on the buckets)', () => {
    for (const s of [dev, prod]) {
      const all = allStatements(s.json);
      expect(all.length).toBeGreaterThan(30);
      const wild = all.filter(({ statement }) => actionsOf(statement).some((a) => a.includes('*')));
      expect(wild.filter(({ statement }) => statement.Effect === 'Allow')).toEqual([]);
      for (const { type, statement } of wild) {
        expect(type).toBe('AWS::S3::BucketPolicy');
        expect(statement).toMatchObject({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
      }
    }
  });
});

describe('functions', () => {
  const fn = (s: Synthesized, name: string) => props(one(s.json, 'AWS::Lambda::Function', 'FunctionName', name));

  it('validator lambda-schema-validator-{suffix}: Node.js 22 bundle, private subnets, secrets and bucket env, RDS CA bundle, log group with retention', () => {
    const f = fn(dev, n.validatorFunction);
    expect(f).toMatchObject({ Runtime: 'nodejs22.x', Handler: 'index.handler' });
    const env = (f.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(Object.keys(env).sort()).toEqual([...Object.values(ValidatorEnv), 'NODE_EXTRA_CA_CERTS'].sort());
    expect(env.NODE_EXTRA_CA_CERTS).toBe(RDS_CA_BUNDLE);
    expect(JSON.stringify(env[ValidatorEnv.BlueSecretArn])).toMatch(/BlueDatabaseClusterSecretAttachment/);
    expect(JSON.stringify(env[ValidatorEnv.GreenSecretArn])).toMatch(/GreenDatabaseClusterSecretAttachment/);
    expect((f.LoggingConfig as { LogGroup: unknown }).LogGroup).toEqual(ref(logicalIdOf(dev.json, 'AWS::Logs::LogGroup', 'LogGroupName', n.validatorLogGroup)));
    const privateSubnets = resourcesOfType(dev.json, 'AWS::EC2::Subnet')
      .filter(([, r]) => (props(r).Tags as Array<{ Key: string; Value: string }>).some((x) => x.Value === 'Private'))
      .map(([id]) => ref(id));
    expect((f.VpcConfig as { SubnetIds: unknown[] }).SubnetIds).toEqual(privateSubnets);
    // Bundled locally by esbuild (no Docker): the asset is the dist/lambda bundle directory.
    const assets = JSON.parse(readFileSync(path.join(dev.outdir, 'bgmig-demo.assets.json'), 'utf8')) as { files: Record<string, { source: { path: string } }> };
    const assetHash = (f.Code as { S3Key: string }).S3Key.replace(/\.zip$/, '');
    const staged = path.join(dev.outdir, assets.files[assetHash].source.path, 'index.mjs');
    // The bundle scripts/build.mjs writes (ESM with its createRequire banner, exporting handler), not a Docker build.
    const bundle = readFileSync(staged, 'utf8');
    expect(bundle.startsWith("import { createRequire as __bgmigCreateRequire } from 'node:module';")).toBe(true);
    expect(bundle).toMatch(/export\{[^}]*\bas handler\b/);
    expect(existsSync(path.join(lambdaBundleDir('schema-validator'), 'index.mjs'))).toBe(true);
  });

  it('validator permissions: read both master secrets and write reports/ in the artifacts bucket, nothing more', () => {
    const st = roleStatements(dev.json, logicalIdOf(dev.json, 'AWS::IAM::Role', 'RoleName', n.validatorRole));
    expect([...new Set(st.flatMap(actionsOf))].sort()).toEqual([
      'ec2:AssignPrivateIpAddresses',
      'ec2:CreateNetworkInterface',
      'ec2:DeleteNetworkInterface',
      'ec2:DescribeNetworkInterfaces',
      'ec2:UnassignPrivateIpAddresses',
      'kms:Decrypt',
      'kms:GenerateDataKey',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      's3:PutObject',
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
    ]);
    const secrets = st.filter((s) => actionsOf(s).includes('secretsmanager:GetSecretValue')).map((s) => JSON.stringify(s.Resource));
    expect(secrets).toHaveLength(2);
    expect(secrets.join()).not.toMatch(/AppSecret/);
    expect(JSON.stringify(st.find((s) => actionsOf(s).includes('s3:PutObject'))?.Resource)).toMatch(/\/reports\/\*"/);
  });

  it('cutover lambda-db-cutover-{suffix}: Node.js 22, CutoverEnv variables, reads both master secrets and the app secret, appends to journal/', () => {
    const f = fn(dev, n.cutoverFunction);
    expect(f).toMatchObject({ Runtime: 'nodejs22.x', Handler: 'index.handler' });
    const env = (f.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(Object.keys(env).sort()).toEqual([...Object.values(CutoverEnv), 'NODE_EXTRA_CA_CERTS'].sort());
    expect(env[CutoverEnv.DbRecordName]).toBe(n.dbRecord);
    expect(env[CutoverEnv.HostedZoneId]).toEqual(ref(resourcesOfType(dev.json, 'AWS::Route53::HostedZone')[0][0]));
    expect(env[CutoverEnv.GreenClusterEndpoint]).toEqual(
      getAtt(logicalIdOf(dev.json, 'AWS::RDS::DBCluster', 'DBClusterIdentifier', n.auroraCluster('green')), 'Endpoint.Address'),
    );
    const st = roleStatements(dev.json, logicalIdOf(dev.json, 'AWS::IAM::Role', 'RoleName', n.cutoverRole));
    const secrets = st.filter((s) => actionsOf(s).includes('secretsmanager:GetSecretValue')).map((s) => JSON.stringify(s.Resource));
    expect(secrets).toHaveLength(3);
    expect(secrets.join()).toMatch(/AppSecret/);
    const journal = st.find((s) => actionsOf(s).includes('s3:PutObject'));
    // Append-only audit trail: the function never reads or deletes it.
    expect(actionsOf(journal as Statement).sort()).toEqual(['s3:PutObject']);
    expect(JSON.stringify(journal?.Resource)).toMatch(/\/journal\/\*"/);
  });

  it('cutover may UPSERT exactly the db CNAME record in the zone and read the change status', () => {
    const st = roleStatements(dev.json, logicalIdOf(dev.json, 'AWS::IAM::Role', 'RoleName', n.cutoverRole));
    const zoneId = resourcesOfType(dev.json, 'AWS::Route53::HostedZone')[0][0];
    const change = st.filter((s) => actionsOf(s).includes('route53:ChangeResourceRecordSets'));
    expect(change).toEqual([
      {
        Effect: 'Allow',
        Action: 'route53:ChangeResourceRecordSets',
        Resource: { 'Fn::Join': ['', ['arn:', ref('AWS::Partition'), ':route53:::hostedzone/', ref(zoneId)]] },
        Condition: {
          'ForAllValues:StringEquals': {
            'route53:ChangeResourceRecordSetsNormalizedRecordNames': [n.dbRecord],
            'route53:ChangeResourceRecordSetsRecordTypes': ['CNAME'],
            'route53:ChangeResourceRecordSetsActions': ['UPSERT'],
          },
        },
      },
    ]);
    expect(st.filter((s) => actionsOf(s).includes('route53:GetChange'))).toHaveLength(1);
  });

  it('functions, both services and the other cluster reach each cluster on 5432 through security-group rules, nothing wider', () => {
    const t = dev.json;
    const sg = (name: string) => logicalIdOf(t, 'AWS::EC2::SecurityGroup', 'GroupName', name);
    for (const c of COLORS) {
      const target = sg(n.auroraSecurityGroup(c));
      const sources = resourcesOfType(t, 'AWS::EC2::SecurityGroupIngress')
        .map(([, r]) => props(r))
        .filter((r) => JSON.stringify(r.GroupId) === JSON.stringify(getAtt(target, 'GroupId')))
        .map((r) => {
          expect(r).toMatchObject({ IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432 });
          expect(r.CidrIp).toBeUndefined();
          return (r.SourceSecurityGroupId as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
        })
        .sort();
      const other = c === 'blue' ? 'green' : 'blue';
      expect(sources).toEqual(
        [
          sg(n.validatorSecurityGroup),
          sg(n.cutoverSecurityGroup),
          sg(n.serviceSecurityGroup('blue')),
          sg(n.serviceSecurityGroup('green')),
          sg(n.auroraSecurityGroup(other)),
        ].sort(),
      );
      // The cluster itself may only open replication connections to the other cluster.
      const egress = props(t.Resources[target]).SecurityGroupEgress as Array<Record<string, unknown>> | undefined;
      const extraEgress = resourcesOfType(t, 'AWS::EC2::SecurityGroupEgress')
        .map(([, r]) => props(r))
        .filter((r) => JSON.stringify(r.GroupId) === JSON.stringify(getAtt(target, 'GroupId')));
      expect(extraEgress.map((r) => (r.DestinationSecurityGroupId as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0])).toEqual([sg(n.auroraSecurityGroup(other))]);
      expect((egress ?? []).every((e) => e.CidrIp === '255.255.255.255/32')).toBe(true);
    }
    for (const fnSg of [n.validatorSecurityGroup, n.cutoverSecurityGroup]) {
      const egress = resourcesOfType(t, 'AWS::EC2::SecurityGroupEgress')
        .map(([, r]) => props(r))
        .filter((r) => JSON.stringify(r.GroupId) === JSON.stringify(getAtt(sg(fnSg), 'GroupId')));
      expect(egress.map((r) => `${r.FromPort}`).sort()).toEqual(['5432', '5432']);
      expect(props(t.Resources[sg(fnSg)]).SecurityGroupEgress).toEqual([expect.objectContaining({ CidrIp: '0.0.0.0/0', FromPort: 443, ToPort: 443 })]);
    }
  });
});

describe('artifacts bucket', () => {
  it('KMS-encrypted with the S3 key, public access blocked, SSL enforced, versioned, emptied on destroy, named from suffix, account and region', () => {
    const [id, bucket] = resourcesOfType(dev.json, 'AWS::S3::Bucket').find(([, r]) => JSON.stringify(props(r).BucketName).includes('s3-artifacts-demo-')) as [
      string,
      CfnResource,
    ];
    const p = props(bucket);
    expect(p.BucketName).toEqual({ 'Fn::Join': ['', ['s3-artifacts-demo-', ref('AWS::AccountId'), '-', ref('AWS::Region')]] });
    const s3Key = (props(one(dev.json, 'AWS::KMS::Alias', 'AliasName', n.kmsAlias('s3'))).TargetKeyId as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
    expect(p.BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [
        { BucketKeyEnabled: true, ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: getAtt(s3Key, 'Arn') } },
      ],
    });
    expect(p.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
    expect(p.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(bucket.DeletionPolicy).toBe('Delete');
    dev.template.hasResourceProperties('Custom::S3AutoDeleteObjects', { BucketName: ref(id) });
    dev.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: ref(id),
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });
});

describe('monitoring', () => {
  it('per color alarms alarm-{color}-{cpu,memory,db-connections,5xx,unhealthy-hosts}-{suffix} on the right metrics with overridable thresholds', () => {
    const expectMetric: Record<string, [string, string]> = {
      cpu: ['AWS/ECS', 'CPUUtilization'],
      memory: ['AWS/ECS', 'MemoryUtilization'],
      'db-connections': ['AWS/RDS', 'DatabaseConnections'],
      '5xx': ['AWS/ApplicationELB', 'HTTPCode_Target_5XX_Count'],
      'unhealthy-hosts': ['AWS/ApplicationELB', 'UnHealthyHostCount'],
    };
    for (const [s, cpu, http5xx] of [
      [dev, 80, 10],
      [prod, 65, 25],
    ] as const) {
      const nn = names(s.config.suffix);
      expect(count(s.json, 'AWS::CloudWatch::Alarm')).toBe(10);
      for (const c of COLORS) {
        for (const kind of ALARM_KINDS) {
          const a = props(one(s.json, 'AWS::CloudWatch::Alarm', 'AlarmName', nn.alarm(c, kind)));
          expect([a.Namespace, a.MetricName]).toEqual(expectMetric[kind]);
          expect(a.ComparisonOperator).toBe('GreaterThanOrEqualToThreshold');
          const dims = JSON.stringify(a.Dimensions);
          if (kind === 'cpu' || kind === 'memory') expect(dims).toContain(c === 'blue' ? 'BlueService' : 'GreenService');
          if (kind === 'db-connections') expect(dims).toContain(c === 'blue' ? 'BlueDatabaseCluster' : 'GreenDatabaseCluster');
          if (kind === '5xx' || kind === 'unhealthy-hosts') expect(dims).toContain(c === 'blue' ? 'BlueTargetGroup' : 'GreenTargetGroup');
        }
        expect(props(one(s.json, 'AWS::CloudWatch::Alarm', 'AlarmName', nn.alarm(c, 'cpu'))).Threshold).toBe(cpu);
        expect(props(one(s.json, 'AWS::CloudWatch::Alarm', 'AlarmName', nn.alarm(c, '5xx'))).Threshold).toBe(http5xx);
      }
    }
  });

  it("the DB-connections threshold is derived from the instance class's max_connections", () => {
    // db.r6g.large: 16 GiB / 9531392 = 1802 connections (Aurora PostgreSQL's formula).
    expect(maxConnections('db.r6g.large')).toBe(1802);
    expect(props(one(dev.json, 'AWS::CloudWatch::Alarm', 'AlarmName', n.alarm('blue', 'db-connections'))).Threshold).toBe(Math.floor(1802 * 0.8));
    expect(props(one(prod.json, 'AWS::CloudWatch::Alarm', 'AlarmName', names('shop-prod').alarm('green', 'db-connections'))).Threshold).toBe(
      Math.floor(1802 * 0.5),
    );
    expect(() => maxConnections('db.x9.huge')).toThrow(/No max_connections figure for instance class db.x9.huge/);
  });

  it('dashboard dashboard-{suffix} shows blue and green side by side', () => {
    const d = props(one(dev.json, 'AWS::CloudWatch::Dashboard', 'DashboardName', n.dashboard));
    const text = JSON.stringify(d.DashboardBody);
    for (const c of COLORS) for (const kind of ALARM_KINDS) expect(text).toContain(`"Monitoring${c}${kind.replace(/-/g, '')}`);
    // Every row pairs a blue widget on the left (x=0) with a green one on the right (x=12).
    const cells = [
      ...text.matchAll(/\\"x\\":(0|12),\\"y\\":(\d+),\\"properties\\":\{(?:\\"view\\":\\"timeSeries\\",)?\\"(?:title|markdown)\\":\\"(?:## )?(blue|green)/g),
    ];
    expect(cells.length).toBe(14);
    const rows = new Map<string, string[]>();
    for (const [, x, y, color] of cells) rows.set(y, [...(rows.get(y) ?? []), `${x}:${color}`]);
    for (const row of rows.values()) expect(row.sort()).toEqual(['0:blue', '12:green']);
  });

  it("--alarm-email adds an SNS topic (TLS only) as every alarm's action; without it there is none", () => {
    expect(count(dev.json, 'AWS::SNS::Topic')).toBe(0);
    const [topicId] = resourcesOfType(prod.json, 'AWS::SNS::Topic')[0];
    expect(props(prod.json.Resources[topicId]).TopicName).toBe(names('shop-prod').alarmTopic);
    prod.template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@example.com', TopicArn: ref(topicId) });
    expect(
      resourcesOfType(prod.json, 'AWS::CloudWatch::Alarm').every(([, r]) => JSON.stringify(props(r).AlarmActions) === JSON.stringify([ref(topicId)])),
    ).toBe(true);
    prod.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });
});

describe('tags, names, removal, outputs', () => {
  /** Types CloudFormation cannot tag (or, for Listener and Dashboard, that cfn-lint's schemas reject tags on). */
  const UNTAGGABLE = new Set([
    'AWS::EC2::SecurityGroupIngress',
    'AWS::EC2::SecurityGroupEgress',
    'AWS::EC2::Route',
    'AWS::EC2::SubnetRouteTableAssociation',
    'AWS::EC2::VPCGatewayAttachment',
    'AWS::IAM::Policy',
    'AWS::KMS::Alias',
    'AWS::S3::BucketPolicy',
    'AWS::SecretsManager::SecretTargetAttachment',
    'AWS::Route53::RecordSet',
    'AWS::ElasticLoadBalancingV2::Listener',
    'AWS::CloudWatch::Dashboard',
    'Custom::S3AutoDeleteObjects',
    'AWS::SNS::Subscription',
    'AWS::SNS::TopicPolicy',
    'AWS::Lambda::Permission',
  ]);

  it('tags Project, EnvironmentSuffix, Environment, ManagedBy on every taggable resource, CostCenter when given, Color where it applies', () => {
    for (const s of [dev, prod]) {
      const expected = {
        Project: 'bgmig',
        EnvironmentSuffix: s.config.suffix,
        Environment: s.config.environment,
        ManagedBy: 'bgmig',
        ...(s.config.costCenter ? { CostCenter: s.config.costCenter } : {}),
      };
      for (const [id, r] of Object.entries(s.json.Resources)) {
        if (UNTAGGABLE.has(r.Type)) continue;
        const tags = tagsOf(r);
        expect({ id, tags }).toMatchObject({ id, tags: expected });
        if (!s.config.costCenter) expect(tags.CostCenter).toBeUndefined();
        const named = JSON.stringify(r.Properties ?? {});
        for (const c of COLORS) {
          const nn = names(s.config.suffix);
          if ([nn.auroraCluster(c), nn.service(c), nn.targetGroup(c), nn.taskFamily(c), `alarm-${c}-`].some((x) => named.includes(`"${x}`)))
            expect({ id, color: tags.Color }).toEqual({ id, color: c });
        }
      }
    }
  });

  it('every resource name is {type}-{suffix} and comes from the naming module', () => {
    const nn = names('demo');
    const expected = new Set<string>();
    for (const v of Object.values(nn)) {
      if (typeof v === 'string') expected.add(v);
      else if (typeof v === 'function') {
        for (const c of COLORS)
          for (const k of [...ALARM_KINDS, 0, 1, 2]) {
            try {
              expected.add(String((v as (...a: unknown[]) => unknown)(c, k)));
            } catch {
              /* not this signature */
            }
          }
        for (const p of ['aurora', 'secrets', 's3']) expected.add(String((v as (a: unknown) => unknown)(p)));
      }
    }
    const NAME_PROPS = [
      'RoleName',
      'FunctionName',
      'LogGroupName',
      'DBClusterIdentifier',
      'DBInstanceIdentifier',
      'DBClusterParameterGroupName',
      'DBSubnetGroupName',
      'GroupName',
      'Name',
      'ClusterName',
      'ServiceName',
      'Family',
      'AliasName',
      'AlarmName',
      'DashboardName',
      'TopicName',
    ];
    const found: string[] = [];
    for (const r of Object.values(dev.json.Resources)) {
      for (const p of NAME_PROPS) {
        if (p === 'Family' && r.Type !== 'AWS::ECS::TaskDefinition') continue; // a parameter group's Family is its engine
        const v = props(r)[p];
        if (typeof v === 'string') found.push(v.replace(/\.$/, ''));
      }
      const bucket = props(r).BucketName as { 'Fn::Join'?: [string, unknown[]] } | undefined;
      if (r.Type === 'AWS::S3::Bucket' && bucket?.['Fn::Join']) found.push(`${String(bucket['Fn::Join'][1][0])}ACCOUNT-REGION`);
    }
    expect(found.length).toBeGreaterThan(45);
    for (const name of found) {
      if (name === `/aws/rds/cluster/${nn.auroraCluster('blue')}/postgresql` || name === `/aws/rds/cluster/${nn.auroraCluster('green')}/postgresql`) continue; // fixed by RDS
      if (name.endsWith('ACCOUNT-REGION')) {
        expect([nn.artifactsBucket('ACCOUNT', 'REGION'), nn.accessLogsBucket('ACCOUNT', 'REGION')]).toContain(name);
        continue;
      }
      expect(expected.has(name) ? name : `${name} (not from names())`).toBe(name);
      if (name !== nn.hostedZone && name !== nn.dbRecord) expect(name).toMatch(/^[a-z0-9/]+(-[a-z0-9]+)*-demo$/);
    }
  });

  it('destroyable: no Retain, RetainExceptOnCreate or Snapshot deletion/replace policy anywhere', () => {
    for (const s of [dev, prod]) {
      const text = readFileSync(s.templateFile, 'utf8');
      expect(text).not.toMatch(/"(Retain|RetainExceptOnCreate|Snapshot)"/);
      for (const r of Object.values(s.json.Resources)) {
        for (const policy of [r.DeletionPolicy, r.UpdateReplacePolicy]) if (policy !== undefined) expect(policy).toBe('Delete');
      }
      // Stateful resources say Delete explicitly rather than relying on a default.
      for (const type of [
        'AWS::RDS::DBCluster',
        'AWS::RDS::DBInstance',
        'AWS::S3::Bucket',
        'AWS::KMS::Key',
        'AWS::Logs::LogGroup',
        'AWS::SecretsManager::Secret',
      ]) {
        for (const [, r] of resourcesOfType(s.json, type)) expect(r.DeletionPolicy).toBe('Delete');
      }
    }
  });

  it('outputs: every OutputKey, with alarm names comma-separated per color', () => {
    expect(Object.keys(dev.json.Outputs).sort()).toEqual(Object.values(OutputKey).sort());
    expect(dev.json.Outputs[OutputKey.BlueAlarmNames].Value).toBe(ALARM_KINDS.map((k) => n.alarm('blue', k)).join(','));
    expect(dev.json.Outputs[OutputKey.GreenAlarmNames].Value).toBe(ALARM_KINDS.map((k) => n.alarm('green', k)).join(','));
    expect(dev.json.Outputs[OutputKey.DbRecordName].Value).toBe(n.dbRecord);
    expect(dev.json.Outputs[OutputKey.Environment].Value).toBe('dev');
    expect(dev.json.Outputs[OutputKey.DashboardName].Value).toBe(n.dashboard);
    expect(dev.json.Outputs[OutputKey.OperatorRoleArn].Value).toEqual(getAtt(logicalIdOf(dev.json, 'AWS::IAM::Role', 'RoleName', n.operatorRole), 'Arn'));
    expect(dev.json.Outputs[OutputKey.ValidatorFunctionName].Value).toEqual(
      ref(logicalIdOf(dev.json, 'AWS::Lambda::Function', 'FunctionName', n.validatorFunction)),
    );
  });
});

describe('checks', () => {
  it('cdk-nag AwsSolutions and NIST 800-53 rev 5: zero unacknowledged findings, each acknowledgement with a one-sentence reason', () => {
    for (const s of [dev, prod]) {
      const summary = JSON.parse(readFileSync(path.join(s.outdir, NAG_SUMMARY_FILE), 'utf8')) as NagSummary;
      expect(summary.packs).toEqual([
        { name: 'AwsSolutions', violations: 0 },
        { name: 'NIST.800.53.R5', violations: 0 },
      ]);
      expect(readViolations(s.outdir)).toEqual([]);
      let acknowledged = 0;
      for (const c of s.app.node.findAll()) {
        for (const entry of c.node.metadata) {
          if (entry.type !== 'aws:cdk:acknowledged-rules') continue;
          for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
            // aws-cdk-lib acknowledges its own validator's W3010 on the VPC's explicit AZs; only nag ids are ours.
            if (!/^[^:]+::(AwsSolutions|NIST\.800\.53\.R5)-/.test(id)) continue;
            acknowledged++;
            // One sentence: capitalised, ends with a full stop, no second sentence or line break.
            expect(reason).toMatch(/^[A-Z`][^\n]*\.$/);
            expect(reason.slice(0, -1)).not.toMatch(/\.\s+[A-Z]/);
          }
        }
      }
      expect(acknowledged).toBe(summary.acknowledgements);
      expect(acknowledged).toBeGreaterThan(40);
    }
  });

  it("CDK's built-in template validation ran and passed", () => {
    const report = JSON.parse(readFileSync(path.join(dev.outdir, 'validation-report.json'), 'utf8')) as {
      pluginReports: Array<{ pluginName: string; conclusion: string; violations: unknown[] }>;
    };
    const cfn = report.pluginReports.find((p) => p.pluginName === 'CloudFormation Validate');
    expect(cfn).toMatchObject({ conclusion: 'success', violations: [] });
  });

  it('cfn-lint: zero errors and warnings on the synthesized template (ignored rules justified in .cfnlintrc.yaml)', () => {
    const config = path.join(REPO_ROOT, '.cfnlintrc.yaml');
    expect(existsSync(config)).toBe(true);
    // Both templates in one run: cfn-lint's start-up (loading its rules and schemas) is most of its cost.
    let out = '';
    let code = 0;
    try {
      out = execFileSync('cfn-lint', ['--config-file', config, '--format', 'parseable', '--', dev.templateFile, prod.templateFile], { encoding: 'utf8' });
    } catch (e) {
      const err = e as { status?: number; stdout?: string; stderr?: string; code?: string };
      if (err.code === 'ENOENT') throw new Error('cfn-lint is not installed: the template check cannot run (pip install cfn-lint==1.51.*).');
      code = err.status ?? 1;
      out = `${err.stdout ?? ''}${err.stderr ?? ''}`;
    }
    // Parseable findings start with the template's path, so a finding names the config it came from.
    expect({ code, out }).toEqual({ code: 0, out: '' });
    // Each ignored rule carries its justification in the committed config.
    const text = readFileSync(config, 'utf8');
    for (const rule of text.match(/^\s+- ([EWI]\d+)/gm) ?? []) {
      const id = rule.trim().slice(2);
      expect(text).toMatch(new RegExp(`# ${id} "`));
    }
  }, 300_000); // ~4 s idle; minutes on two cores shared with the PostgreSQL suites
});
