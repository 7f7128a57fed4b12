/** The naming module and the stack inputs: the suffix limit is computed from AWS limits, bad input is exit 2. */
import { describe, expect, it } from 'vitest';
import { makeStackConfig } from '../../src/core/config.js';
import { BgmigError, ExitCode } from '../../src/core/errors.js';
import { ALARM_KINDS, COLORS, MAX_SUFFIX_BOUND_BY, MAX_SUFFIX_LENGTH, names, validateSuffix } from '../../src/core/naming.js';
import { stackConfigFromOptions } from '../../src/cli/cdk.js';

/** AWS's documented limits, applied independently of the naming module's own table. */
const AWS_LIMITS: Array<{ what: string; limit: number; build: (s: string) => string[] }> = [
  { what: 'ALB name', limit: 32, build: (s) => [names(s).alb] },
  { what: 'target group name', limit: 32, build: (s) => COLORS.map((c) => names(s).targetGroup(c)) },
  {
    what: 'IAM role name',
    limit: 64,
    build: (s) => {
      const n = names(s);
      return [n.operatorRole, n.validatorRole, n.cutoverRole, n.flowLogRole, ...COLORS.flatMap((c) => [n.taskRole(c), n.taskExecutionRole(c)])];
    },
  },
  { what: 'Lambda function name', limit: 64, build: (s) => [names(s).validatorFunction, names(s).cutoverFunction] },
  {
    what: 'RDS identifiers',
    limit: 63,
    build: (s) => COLORS.flatMap((c) => [names(s).auroraCluster(c), ...[0, 1, 2].map((i) => names(s).auroraInstance(c, i))]),
  },
  {
    what: 'S3 bucket name (12-digit account, longest region)',
    limit: 63,
    build: (s) => [names(s).artifactsBucket('123456789012', 'ap-southeast-5'), names(s).accessLogsBucket('123456789012', 'ap-southeast-5')],
  },
  { what: 'CloudWatch alarm name', limit: 255, build: (s) => COLORS.flatMap((c) => ALARM_KINDS.map((k) => names(s).alarm(c, k))) },
  { what: 'Secrets Manager name', limit: 512, build: (s) => [...COLORS.map((c) => names(s).dbSecret(c)), names(s).appDbSecret] },
];

function exitCodeOf(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof BgmigError) return e.exitCode;
    throw e;
  }
  return undefined;
}

describe('naming', () => {
  it('the suffix limit is computed: at the limit every derived name fits its AWS limit, one more character does not', () => {
    const longest = `a${'b'.repeat(MAX_SUFFIX_LENGTH - 1)}`;
    expect(validateSuffix(longest)).toBe(longest);
    for (const l of AWS_LIMITS)
      for (const name of l.build(longest)) expect({ what: l.what, length: name.length <= l.limit }).toEqual({ what: l.what, length: true });
    // The binding constraint is met exactly at the limit.
    const tooLong = `${longest}c`;
    expect(AWS_LIMITS.some((l) => l.build(tooLong).some((name) => name.length > l.limit))).toBe(true);
    expect(MAX_SUFFIX_BOUND_BY).toBe('S3 bucket name');
    expect(exitCodeOf(() => validateSuffix(tooLong))).toBe(ExitCode.BadInput);
  });

  it('a bad suffix is rejected with exit 2 and one sentence naming what to do', () => {
    for (const bad of ['', 'Demo', '1demo', 'demo-', 'de--mo', 'de_mo', 'demo.x', 'dé']) {
      let err: unknown;
      try {
        validateSuffix(bad);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(BgmigError);
      const e = err as BgmigError;
      expect(e.exitCode).toBe(ExitCode.BadInput);
      expect(e.message).toMatch(/^[A-Z].*[.)]$/);
      expect(e.message.split(/\.\s+[A-Z]/)).toHaveLength(1);
    }
  });

  it('every name is {type}-{suffix}, colored names carry the color', () => {
    const n = names('demo');
    for (const c of COLORS) {
      for (const name of [
        n.auroraCluster(c),
        n.dbSecret(c),
        n.service(c),
        n.targetGroup(c),
        n.taskRole(c),
        n.taskExecutionRole(c),
        n.serviceLogGroup(c),
        ...ALARM_KINDS.map((k) => n.alarm(c, k)),
      ]) {
        expect(name).toMatch(new RegExp(`^[a-z0-9]+(-[a-z0-9]+)*-${c}-.*demo$|^alarm-${c}-[a-z0-9-]+-demo$`));
      }
    }
    expect([n.stack, n.vpc, n.alb, n.ecsCluster, n.operatorRole, n.validatorFunction, n.cutoverFunction, n.dashboard, n.appDbSecret]).toEqual([
      'bgmig-demo',
      'vpc-demo',
      'alb-demo',
      'ecs-demo',
      'role-operator-demo',
      'lambda-schema-validator-demo',
      'lambda-db-cutover-demo',
      'dashboard-demo',
      'secret-db-app-demo',
    ]);
  });
});

describe('stack options (synth, deploy, diff)', () => {
  const bad = (o: Parameters<typeof stackConfigFromOptions>[2], region = 'us-east-1') => exitCodeOf(() => stackConfigFromOptions('demo', region, o));

  it('valid options build a complete StackConfig', () => {
    const c = stackConfigFromOptions('demo', 'us-east-1', {
      environment: 'prod',
      certificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/abc-123',
      azs: 'us-east-1d,us-east-1e,us-east-1f',
      haNat: true,
      blueImage: 'public.ecr.aws/nginx/nginx:1.27',
      containerPort: '8080',
      healthCheckPath: '/health',
      testCidr: '198.51.100.0/24',
      alarmEmail: 'a@b.io',
      costCenter: 'Team A/42',
      cpuThreshold: '70',
      memoryThreshold: '75',
      dbConnectionsThreshold: '60',
      '5xxThreshold': '3',
      unhealthyHostsThreshold: '2',
    });
    expect(c).toMatchObject({
      environment: 'prod',
      availabilityZones: ['us-east-1d', 'us-east-1e', 'us-east-1f'],
      haNat: true,
      containerPort: 8080,
      certificateIsPlaceholder: false,
      thresholds: { cpuPercent: 70, memoryPercent: 75, dbConnectionsFraction: 0.6, http5xxCount: 3, unhealthyHosts: 2 },
      weights: { blue: 100, green: 0 },
      activeDatabase: 'blue',
    });
    expect(makeStackConfig({ suffix: 'demo' }).certificateIsPlaceholder).toBe(true);
  });

  it('what synth, deploy and diff print for bad input: one sentence naming the option, the value and the rule', () => {
    const messageOf = (f: () => unknown): string => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(BgmigError);
        return (e as BgmigError).message;
      }
      throw new Error('expected a BgmigError');
    };
    expect(messageOf(() => stackConfigFromOptions('demo', 'us-east-1', { environment: 'production' }))).toMatch(
      /^--environment must be one of dev, staging, prod, got "production"\.$/,
    );
    expect(messageOf(() => stackConfigFromOptions('demo', 'us-east-1', { certificateArn: 'arn:aws:iam::123:role/x' }))).toMatch(
      /^--certificate-arn "arn:aws:iam::123:role\/x" is not an ACM certificate ARN .*\.$/,
    );
    expect(messageOf(() => validateSuffix(`a${'b'.repeat(40)}`))).toMatch(/^Suffix "ab+" is 41 characters; the limit is \d+ .*\.$/);
    expect(messageOf(() => validateSuffix('Bad_Suffix'))).toMatch(/^Suffix "Bad_Suffix" is invalid: .*\.\)?$/);
  });

  it('a real certificate ARN is used as given and is no placeholder (synth warns only about the placeholder)', () => {
    const arn = 'arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-1234-5678-9abc-def012345678';
    expect(stackConfigFromOptions('demo', 'us-east-1', { certificateArn: arn })).toMatchObject({ certificateArn: arn, certificateIsPlaceholder: false });
    expect(stackConfigFromOptions('demo', 'us-east-1', {}).certificateIsPlaceholder).toBe(true);
  });

  it('bad environment, ARN, AZs, port, path, CIDR, e-mail, cost center, image or threshold: exit 2', () => {
    expect(bad({ environment: 'production' })).toBe(ExitCode.BadInput);
    expect(bad({ certificateArn: 'arn:aws:iam::123456789012:role/x' })).toBe(ExitCode.BadInput);
    expect(bad({ azs: 'us-east-1a,us-east-1b' })).toBe(ExitCode.BadInput);
    expect(bad({ azs: 'us-east-1a,us-east-1a,us-east-1b' })).toBe(ExitCode.BadInput);
    expect(bad({ azs: 'eu-west-1a,eu-west-1b,eu-west-1c' })).toBe(ExitCode.BadInput);
    expect(bad({ containerPort: '70000' })).toBe(ExitCode.BadInput);
    expect(bad({ containerPort: '80.5' })).toBe(ExitCode.BadInput);
    expect(bad({ healthCheckPath: 'health' })).toBe(ExitCode.BadInput);
    expect(bad({ testCidr: '10.0.0.0/33' })).toBe(ExitCode.BadInput);
    expect(bad({ testCidr: '300.0.0.0/8' })).toBe(ExitCode.BadInput);
    expect(bad({ alarmEmail: 'oncall' })).toBe(ExitCode.BadInput);
    expect(bad({ costCenter: 'a;b' })).toBe(ExitCode.BadInput);
    expect(bad({ blueImage: 'nginx latest' })).toBe(ExitCode.BadInput);
    expect(bad({ cpuThreshold: '0' })).toBe(ExitCode.BadInput);
    expect(bad({ dbConnectionsThreshold: '101' })).toBe(ExitCode.BadInput);
    expect(bad({ '5xxThreshold': 'many' })).toBe(ExitCode.BadInput);
    expect(bad({})).toBeUndefined();
  });
});
