/**
 * The pooler tier in the template (issue 13, `--pooler`): PgBouncer on Fargate in the private subnets, one task
 * per AZ, no public IP; admin credentials in their own secret under the secrets key; the applications' DB_HOST on
 * the pooler; security groups applications → pooler → clusters only (plus the cutover function's admin console);
 * and none of it without `--pooler`. Synthesized with cdk-nag and CDK's validation on.
 */
import { execFileSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeStackConfig } from '../../src/core/config.js';
import { names } from '../../src/core/naming.js';
import { POOLER_PORT, PoolerEnv } from '../../src/pooler/aws.js';
import { logicalIdOf, props, resourcesOfType, type CfnResource, type Synthesized, synthesize } from './synth-fixture.js';

const n = names('pool');
let on: Synthesized;
let off: Synthesized;
beforeAll(() => {
  on = synthesize(makeStackConfig({ suffix: 'pool', pooler: true }));
  off = synthesize(makeStackConfig({ suffix: 'pool' }));
}, 600_000);

const ref = (id: string) => ({ Ref: id });
const sgId = (s: Synthesized, name: string) => logicalIdOf(s.json, 'AWS::EC2::SecurityGroup', 'GroupName', name);
const groupRef = (id: string) => ({ 'Fn::GetAtt': [id, 'GroupId'] });

function ingress(s: Synthesized, groupId: string): Array<Record<string, unknown>> {
  const inline = (props(s.json.Resources[groupId]).SecurityGroupIngress as Array<Record<string, unknown>> | undefined) ?? [];
  const separate = resourcesOfType(s.json, 'AWS::EC2::SecurityGroupIngress')
    .map(([, r]) => props(r))
    .filter((p) => JSON.stringify(p.GroupId) === JSON.stringify(groupRef(groupId)));
  return [...inline, ...separate];
}

function egress(s: Synthesized, groupId: string): Array<Record<string, unknown>> {
  const inline = (props(s.json.Resources[groupId]).SecurityGroupEgress as Array<Record<string, unknown>> | undefined) ?? [];
  const separate = resourcesOfType(s.json, 'AWS::EC2::SecurityGroupEgress')
    .map(([, r]) => props(r))
    .filter((p) => JSON.stringify(p.GroupId) === JSON.stringify(groupRef(groupId)));
  return [...inline, ...separate];
}

const poolerService = (s: Synthesized): CfnResource | undefined =>
  resourcesOfType(s.json, 'AWS::ECS::Service').find(([, r]) => props(r).ServiceName === 'svc-pooler-pool')?.[1];

function appContainerEnv(s: Synthesized, family: string): Record<string, unknown> {
  const td = resourcesOfType(s.json, 'AWS::ECS::TaskDefinition').find(([, r]) => props(r).Family === family)?.[1];
  const c = (props(td as CfnResource).ContainerDefinitions as Array<{ Environment: Array<{ Name: string; Value: unknown }> }>)[0];
  return Object.fromEntries(c.Environment.map((e) => [e.Name, e.Value]));
}

describe('pooler tier (--pooler)', () => {
  it('PgBouncer on Fargate: one task per AZ, in the private application subnets, no public IP, registered in Cloud Map', () => {
    const svc = props(poolerService(on) as CfnResource);
    expect(svc.DesiredCount).toBe(3);
    expect(svc.LaunchType).toBe('FARGATE');
    const net = (svc.NetworkConfiguration as { AwsvpcConfiguration: { AssignPublicIp: string; Subnets: unknown[]; SecurityGroups: unknown[] } })
      .AwsvpcConfiguration;
    expect(net.AssignPublicIp).toBe('DISABLED');
    expect(net.SecurityGroups).toEqual([groupRef(sgId(on, 'sg-pooler-pool'))]);
    // The same private subnets the application services use — never a public one.
    const app = props(resourcesOfType(on.json, 'AWS::ECS::Service').find(([, r]) => props(r).ServiceName === n.service('blue'))?.[1] as CfnResource);
    expect(net.Subnets).toEqual((app.NetworkConfiguration as { AwsvpcConfiguration: { Subnets: unknown[] } }).AwsvpcConfiguration.Subnets);
    const subnetType = (r: CfnResource) =>
      ((props(r).Tags as Array<{ Key: string; Value: string }> | undefined) ?? []).find((t) => t.Key === 'aws-cdk:subnet-type')?.Value;
    const subnets = resourcesOfType(on.json, 'AWS::EC2::Subnet');
    const used = subnets.filter(([id]) => JSON.stringify(net.Subnets).includes(`"${id}"`));
    expect(used).toHaveLength(3);
    for (const [, r] of used) expect(subnetType(r)).toBe('Private');
    expect(subnets.filter(([, r]) => subnetType(r) === 'Public').length).toBeGreaterThan(0);
    expect(svc.ServiceRegistries).toHaveLength(1);
    expect(resourcesOfType(on.json, 'AWS::ServiceDiscovery::PrivateDnsNamespace').map(([, r]) => props(r).Name)).toEqual(['pooler.pool.bgmig.internal']);
  });

  it('admin credentials in their own secret under the secrets key; the task gets them and the application login as ECS secrets, never plain values', () => {
    const [secretId, secret] = resourcesOfType(on.json, 'AWS::SecretsManager::Secret').find(([, r]) => props(r).Name === 'secret-pooler-admin-pool') ?? [];
    expect(secret).toBeDefined();
    const secretsKey = logicalIdOf(
      on.json,
      'AWS::KMS::Key',
      'Description',
      props(on.json.Resources[(props(secret as CfnResource).KmsKeyId as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0]]).Description as string,
    );
    expect(props(secret as CfnResource).KmsKeyId).toEqual({ 'Fn::GetAtt': [secretsKey, 'Arn'] });
    expect(JSON.stringify(props(on.json.Resources[secretsKey]).Description)).toMatch(/secret/i);
    const td = props(resourcesOfType(on.json, 'AWS::ECS::TaskDefinition').find(([, r]) => props(r).Family === 'task-pooler-pool')?.[1] as CfnResource);
    const c = (
      td.ContainerDefinitions as Array<{ Secrets: Array<{ Name: string; ValueFrom: unknown }>; Environment: Array<{ Name: string; Value: string }> }>
    )[0];
    expect(c.Secrets.map((x) => x.Name).sort()).toEqual(['ADMIN_PASSWORD', 'ADMIN_USER', 'APP_PASSWORD', 'APP_USER']);
    expect(JSON.stringify(c.Secrets.filter((x) => x.Name.startsWith('ADMIN')))).toContain(secretId as string);
    const plain = c.Environment.map((e) => `${e.Name}=${e.Value}`).join('\n');
    expect(plain).toMatch(/pool_mode = transaction/);
    expect(plain).toMatch(/dns_max_ttl = 1/);
    expect(plain).not.toMatch(/password/i);
  });

  it('security groups: applications → pooler → clusters only; the cutover function reaches the admin console', () => {
    const pool = sgId(on, 'sg-pooler-pool');
    const apps = ['blue', 'green'].map((c) => sgId(on, n.serviceSecurityGroup(c as 'blue' | 'green')));
    const cutover = sgId(on, n.cutoverSecurityGroup);
    const poolIn = ingress(on, pool);
    expect(poolIn.map((r) => r.SourceSecurityGroupId).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))).toEqual(
      [...apps, cutover].map(groupRef).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    );
    for (const r of poolIn) expect([r.FromPort, r.ToPort]).toEqual([POOLER_PORT, POOLER_PORT]);
    expect(poolIn.some((r) => r.CidrIp !== undefined)).toBe(false);
    // Out: PostgreSQL to the two clusters, HTTPS for image, secrets and logs — nothing else.
    const out = egress(on, pool)
      .map((r) => `${r.IpProtocol}/${r.FromPort}/${JSON.stringify(r.DestinationSecurityGroupId ?? r.CidrIp)}`)
      .sort();
    const clusters = ['blue', 'green'].map((c) => sgId(on, n.auroraSecurityGroup(c as 'blue' | 'green')));
    expect(out).toEqual([...clusters.map((id) => `tcp/5432/${JSON.stringify(groupRef(id))}`), 'tcp/443/"0.0.0.0/0"'].sort());
    // The clusters admit the pooler, and no longer the application services directly.
    for (const cl of clusters) {
      const sources = ingress(on, cl).map((r) => JSON.stringify(r.SourceSecurityGroupId));
      expect(sources).toContain(JSON.stringify(groupRef(pool)));
      for (const a of apps) expect(sources).not.toContain(JSON.stringify(groupRef(a)));
    }
  });

  it("the applications' DB_HOST is the pooler; the cutover function knows where the poolers are and may read their admin secret", () => {
    for (const c of ['blue', 'green'] as const) expect(appContainerEnv(on, n.taskFamily(c)).DB_HOST).toBe('pgbouncer.pooler.pool.bgmig.internal');
    const fn = resourcesOfType(on.json, 'AWS::Lambda::Function').find(([, r]) => props(r).FunctionName === n.cutoverFunction)?.[1] as CfnResource;
    const vars = (props(fn).Environment as { Variables: Record<string, unknown> }).Variables;
    expect(vars[PoolerEnv.DiscoveryName]).toBe('pgbouncer.pooler.pool.bgmig.internal');
    expect(vars[PoolerEnv.AdminSecretArn]).toEqual(ref(logicalIdOf(on.json, 'AWS::SecretsManager::Secret', 'Name', 'secret-pooler-admin-pool')));
  });

  it('without --pooler there is no pooler: DB_HOST is the db record and the services reach the clusters', () => {
    expect(poolerService(off)).toBeUndefined();
    expect(resourcesOfType(off.json, 'AWS::SecretsManager::Secret').some(([, r]) => props(r).Name === 'secret-pooler-admin-pool')).toBe(false);
    for (const c of ['blue', 'green'] as const) expect(appContainerEnv(off, n.taskFamily(c)).DB_HOST).toBe(n.dbRecord.toLowerCase());
    const cl = sgId(off, n.auroraSecurityGroup('blue'));
    expect(ingress(off, cl).map((r) => JSON.stringify(r.SourceSecurityGroupId))).toContain(JSON.stringify(groupRef(sgId(off, n.serviceSecurityGroup('blue')))));
  });

  it('the template with the pooler passes cfn-lint', () => {
    // Throws (non-zero exit) on any error or warning finding.
    expect(() => execFileSync('cfn-lint', [on.templateFile, '--ignore-checks', 'W3010', 'W3005'], { stdio: 'pipe', timeout: 120_000 })).not.toThrow();
  }, 150_000);
});
