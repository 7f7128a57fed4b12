/**
 * The one naming module: validates the suffix and builds every resource name, for the CDK app and the CLI alike.
 * Every name is `{resource-type}-{suffix}` (with the color where the resource has one).
 */
import { badInput } from './errors.js';

export type Color = 'blue' | 'green';
export const COLORS: readonly Color[] = ['blue', 'green'] as const;

export function otherColor(c: Color): Color {
  return c === 'blue' ? 'green' : 'blue';
}

export type AlarmKind = 'cpu' | 'memory' | 'db-connections' | '5xx' | 'unhealthy-hosts';
export const ALARM_KINDS: readonly AlarmKind[] = ['cpu', 'memory', 'db-connections', '5xx', 'unhealthy-hosts'] as const;

/** The longest AWS region name we must leave room for in names that embed the region (S3 bucket). */
const LONGEST_REGION = 'ap-southeast-5';
const ACCOUNT_ID_LENGTH = 12;

/** Builds every name for one suffix. Pure: no validation here (see validateSuffix). */
export function names(suffix: string) {
  const s = suffix;
  return {
    suffix: s,
    stack: `bgmig-${s}`,
    vpc: `vpc-${s}`,
    flowLogGroup: `log-vpc-flow-${s}`,
    flowLogRole: `role-flowlog-${s}`,
    kmsAlias: (purpose: 'aurora' | 'secrets' | 's3') => `alias/kms-${purpose}-${s}`,
    auroraCluster: (c: Color) => `aurora-${c}-${s}`,
    auroraInstance: (c: Color, i: number) => `aurora-${c}-${i + 1}-${s}`,
    auroraParameterGroup: `pg-aurora-${s}`,
    auroraSubnetGroup: `dbsubnet-${s}`,
    auroraSecurityGroup: (c: Color) => `sg-aurora-${c}-${s}`,
    dbSecret: (c: Color) => `secret-db-${c}-${s}`,
    appDbSecret: `secret-db-app-${s}`,
    ecsCluster: `ecs-${s}`,
    service: (c: Color) => `svc-${c}-${s}`,
    taskFamily: (c: Color) => `task-${c}-${s}`,
    serviceLogGroup: (c: Color) => `log-svc-${c}-${s}`,
    serviceSecurityGroup: (c: Color) => `sg-svc-${c}-${s}`,
    taskRole: (c: Color) => `role-task-${c}-${s}`,
    taskExecutionRole: (c: Color) => `role-exec-${c}-${s}`,
    alb: `alb-${s}`,
    albSecurityGroup: `sg-alb-${s}`,
    targetGroup: (c: Color) => `tg-${c}-${s}`,
    operatorRole: `role-operator-${s}`,
    validatorFunction: `lambda-schema-validator-${s}`,
    validatorRole: `role-schema-validator-${s}`,
    validatorLogGroup: `log-lambda-schema-validator-${s}`,
    validatorSecurityGroup: `sg-schema-validator-${s}`,
    cutoverFunction: `lambda-db-cutover-${s}`,
    cutoverRole: `role-db-cutover-${s}`,
    cutoverLogGroup: `log-lambda-db-cutover-${s}`,
    cutoverSecurityGroup: `sg-db-cutover-${s}`,
    /** The rollback guard: an EventBridge rule on green's alarms and the function it invokes. */
    rollbackGuardRule: `rule-rollback-guard-${s}`,
    rollbackGuardFunction: `lambda-rollback-guard-${s}`,
    rollbackGuardRole: `role-rollback-guard-${s}`,
    rollbackGuardLogGroup: `log-lambda-rollback-guard-${s}`,
    /** Globally unique; account and region are tokens at synth time. */
    artifactsBucket: (account: string, region: string) => `s3-artifacts-${s}-${account}-${region}`,
    /** ALB access logs and the artifacts bucket's server access logs (SSE-S3: ALB log delivery cannot use KMS). */
    accessLogsBucket: (account: string, region: string) => `s3-logs-${s}-${account}-${region}`,
    alarm: (c: Color, kind: AlarmKind) => `alarm-${c}-${kind}-${s}`,
    alarmTopic: `sns-alarms-${s}`,
    dashboard: `dashboard-${s}`,
    hostedZone: `${s}.bgmig.internal`,
    dbRecord: `db.${s}.bgmig.internal`,
    /** The optional PgBouncer tier (`--pooler`). */
    poolerAdminSecret: `secret-pooler-admin-${s}`,
    poolerSecurityGroup: `sg-pooler-${s}`,
    poolerExecutionRole: `role-task-exec-pooler-${s}`,
    poolerLogGroup: `log-pooler-${s}`,
    poolerTaskFamily: `task-pooler-${s}`,
    poolerService: `svc-pooler-${s}`,
    /** The Cloud Map private namespace the pooler tasks register in. */
    poolerNamespace: `pooler.${s}.bgmig.internal`,
    /** Logical replication objects bgmig owns (PostgreSQL identifiers, so underscores). */
    publication: (from: Color) => `bgmig_pub_${from}`,
    subscription: (from: Color, to: Color) => `bgmig_sub_${from}_to_${to}`,
  };
}

export type Names = ReturnType<typeof names>;

/**
 * Names with a hard length limit, as a function of the suffix length. The suffix limit is computed from this
 * table, not guessed: the tightest constraint wins.
 */
const LENGTH_LIMITS: ReadonlyArray<{ what: string; limit: number; build: (s: string) => string }> = [
  { what: 'ALB name', limit: 32, build: (s) => names(s).alb },
  { what: 'target group name', limit: 32, build: (s) => names(s).targetGroup('green') },
  { what: 'IAM role name', limit: 64, build: (s) => names(s).validatorRole },
  { what: 'IAM role name', limit: 64, build: (s) => names(s).taskExecutionRole('green') },
  { what: 'IAM role name', limit: 64, build: (s) => names(s).poolerExecutionRole },
  { what: 'Lambda function name', limit: 64, build: (s) => names(s).validatorFunction },
  { what: 'RDS cluster identifier', limit: 63, build: (s) => names(s).auroraCluster('green') },
  { what: 'RDS instance identifier', limit: 63, build: (s) => names(s).auroraInstance('green', 2) },
  { what: 'S3 bucket name', limit: 63, build: (s) => names(s).artifactsBucket('0'.repeat(ACCOUNT_ID_LENGTH), LONGEST_REGION) },
  { what: 'CloudFormation stack name', limit: 128, build: (s) => names(s).stack },
  { what: 'security group name', limit: 255, build: (s) => names(s).validatorSecurityGroup },
];

function computeMaxSuffixLength(): { max: number; boundBy: string } {
  let best = { max: Number.POSITIVE_INFINITY, boundBy: '' };
  for (const l of LENGTH_LIMITS) {
    const overhead = l.build('').length;
    const max = l.limit - overhead;
    if (max < best.max) best = { max, boundBy: l.what };
  }
  return best;
}

const MAX = computeMaxSuffixLength();
/** The longest suffix for which every derived name still fits its AWS limit. */
export const MAX_SUFFIX_LENGTH = MAX.max;
export const MAX_SUFFIX_BOUND_BY = MAX.boundBy;

const SUFFIX_RE = /^[a-z]([a-z0-9-]*[a-z0-9])?$/;

/** Validates a suffix and returns it; throws a bad-input BgmigError (exit 2) with one sentence otherwise. */
export function validateSuffix(suffix: string | undefined): string {
  if (suffix === undefined || suffix === '') {
    throw badInput('A suffix is required: pass --suffix NAME or set BGMIG_SUFFIX (lowercase letters, digits and hyphens, starting with a letter).');
  }
  if (!SUFFIX_RE.test(suffix) || suffix.includes('--')) {
    throw badInput(
      `Suffix "${suffix}" is invalid: use lowercase letters, digits and single hyphens, starting with a letter and not ending with a hyphen (e.g. "demo" or "shop-prod").`,
    );
  }
  if (suffix.length > MAX_SUFFIX_LENGTH) {
    throw badInput(
      `Suffix "${suffix}" is ${suffix.length} characters; the limit is ${MAX_SUFFIX_LENGTH} so that the ${MAX_SUFFIX_BOUND_BY} still fits AWS's length limit — choose a shorter suffix.`,
    );
  }
  return suffix;
}

export function validateColor(value: string | undefined, option = '--color'): Color {
  if (value === 'blue' || value === 'green') return value;
  throw badInput(`${option} must be "blue" or "green", got "${value ?? ''}".`);
}
