/**
 * Every cdk-nag finding bgmig accepts, each on the narrowest construct and with the one-sentence reason an
 * auditor reads. Anything not listed here fails the synth (`bgmig synth` exits 1 and the tests fail).
 */
import { type CfnElement, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { COLORS } from '../core/naming.js';
import type { BgmigStack } from './stack.js';

function ack(scope: IConstruct, ids: string[], reason: string): void {
  Validations.of(scope).acknowledge(...ids.map((id) => ({ id, reason })));
}

/** The finding id cdk-nag gives a wildcard resource under a bucket, e.g. `<ArtifactsBucket1234.Arn>/reports/*`. */
function bucketObjectsFinding(stack: BgmigStack, prefix: string): string {
  const logicalId = stack.getLogicalId(stack.artifacts.bucket.node.defaultChild as CfnElement);
  return `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>/${prefix}*]`;
}

/**
 * Acknowledges every finding bgmig accepts on `stack` (the Validations of its constructs), concern by concern. Takes
 * the built stack; returns nothing. The ids and reasons are what test/infra/stack.test.ts and the synth tests read.
 */
export function acknowledgeFindings(stack: BgmigStack): void {
  acknowledgeNetwork(stack);
  acknowledgeLogs(stack);
  acknowledgeIam(stack);
  acknowledgeSecrets(stack);
  acknowledgeDatabases(stack);
  acknowledgeLoadBalancer(stack);
  acknowledgeBuckets(stack);
  acknowledgeAlarms(stack);
}

/** Network: the VPC's internet route and its default security group. */
function acknowledgeNetwork(stack: BgmigStack): void {
  ack(
    stack.network.vpc,
    ['NIST.800.53.R5-VPCNoUnrestrictedRouteToIGW'],
    'The public subnets hold only the internet-facing ALB and the NAT gateways, which need a default route to the internet gateway.',
  );
  ack(
    stack.network.vpc,
    ['NIST.800.53.R5-VPCDefaultSecurityGroupClosed'],
    'Nothing is placed in the default security group (every resource has its own), and restricting it needs an extra custom-resource Lambda.',
  );
}

/** Logs: customer-managed keys are kept to Aurora, Secrets Manager and S3 (keys.ts says why); CloudWatch Logs encrypts at rest itself. */
function acknowledgeLogs(stack: BgmigStack): void {
  for (const scope of [
    stack.network.flowLogGroup,
    ...COLORS.map((k) => stack.services[k].logGroup),
    stack.validator.fn.logGroup,
    stack.cutover.fn.logGroup,
    ...COLORS.map((k) => stack.databases[k].node.findChild('PostgresqlLogs')),
  ]) {
    ack(
      scope,
      ['NIST.800.53.R5-CloudWatchLogGroupEncrypted'],
      'Log groups use CloudWatch Logs encryption at rest; customer-managed keys are reserved for Aurora, Secrets Manager and S3 so a destroyed stack never strands logs behind a key.',
    );
  }
}

/** IAM: every policy is a hand-written, per-role policy; the wildcards each role needs, with why. */
function acknowledgeIam(stack: BgmigStack): void {
  for (const role of [
    stack.network.node.findChild('FlowLogRole'),
    ...COLORS.map((k) => stack.services[k].executionRole),
    stack.validator.fn.role,
    stack.cutover.fn.role,
    stack.operator.role,
  ]) {
    ack(
      role,
      ['NIST.800.53.R5-IAMNoInlinePolicy'],
      'Each role has its own least-privilege policy that no other principal uses, so a separate managed policy would add a resource without narrowing anything.',
    );
  }
  for (const fn of [stack.validator.fn, stack.cutover.fn]) {
    ack(
      fn.role,
      ['AwsSolutions-IAM5[Resource::*]'],
      'The Lambda VPC attachment calls ec2 DescribeNetworkInterfaces, which has no resource-level permission, and manages ENIs whose ids exist only at run time (scoped to the region by condition).',
    );
    ack(
      fn.function,
      ['AwsSolutions-L1'],
      'Node.js 22 is the runtime the bundles are built and tested for (esbuild target node22); moving runtimes is a deliberate change, not an automatic one.',
    );
    ack(
      fn.function,
      ['NIST.800.53.R5-LambdaConcurrency'],
      'The functions are invoked synchronously and rarely by the bgmig CLI; reserving concurrency would take capacity from the account for no protection.',
    );
    ack(
      fn.function,
      ['NIST.800.53.R5-LambdaDLQ'],
      'The functions are only invoked synchronously by the bgmig CLI, which receives and reports every failure; there are no asynchronous events to dead-letter.',
    );
  }
  const reports = bucketObjectsFinding(stack, 'reports/');
  const journal = bucketObjectsFinding(stack, 'journal/');
  ack(
    stack.validator.fn.role,
    [reports],
    'The validator writes report objects whose names are timestamps, confined to the reports/ prefix of the artifacts bucket.',
  );
  ack(
    stack.cutover.fn.role,
    [journal],
    'The cutover function appends one audit object per operation, named by its timestamp, confined to the journal/ prefix of the artifacts bucket.',
  );
  ack(
    stack.cutover.fn.role,
    ['AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:route53:::change/*]'],
    'Route 53 change ids exist only after ChangeResourceRecordSets returns, so GetChange can be scoped to the change resource type but not to one id.',
  );
  ack(
    stack.operator.role,
    ['AwsSolutions-IAM5[Resource::*]'],
    "The ELB Describe calls and secretsmanager:GetRandomPassword have no resource-level permissions; every call that changes something is scoped to this stack's resources.",
  );
  ack(
    stack.operator.role,
    [reports, journal],
    'The operator reads validation reports and the cutover audit journal, each confined to its prefix of the artifacts bucket.',
  );
}

/** Secrets: rotation must change the password on both clusters together, which `bgmig rotate-secret-manual` does. */
function acknowledgeSecrets(stack: BgmigStack): void {
  for (const secret of [stack.databases.blue.masterSecret, stack.databases.green.masterSecret, stack.appSecret.secret]) {
    ack(
      secret,
      ['AwsSolutions-SMG4', 'NIST.800.53.R5-SecretsManagerRotationEnabled'],
      'Rotation is operator-driven with `bgmig rotate-secret-manual`, which stages the new password and applies it to the cluster(s) before promoting it; a schedule would rotate mid-migration.',
    );
  }
}

/** Databases: deletion protection (prod only), enhanced monitoring and backup plans, per cluster. */
function acknowledgeDatabases(stack: BgmigStack): void {
  const c = stack.config;
  for (const color of COLORS) {
    const db = stack.databases[color];
    if (!c.environment.startsWith('prod')) {
      ack(
        db.cluster,
        ['AwsSolutions-RDS10', 'NIST.800.53.R5-RDSInstanceDeletionProtectionEnabled'],
        `Deletion protection is on for prod only; this ${c.environment} environment must be destroyable by \`bgmig destroy\`.`,
      );
    }
    ack(
      db.cluster,
      ['NIST.800.53.R5-RDSEnhancedMonitoringEnabled'],
      'Cluster metrics in CloudWatch and the connections alarm cover what bgmig gates on; enhanced monitoring would add an AWS-managed-policy role per cluster for OS-level detail.',
    );
    ack(
      db.cluster,
      ['NIST.800.53.R5-RDSInBackupPlan'],
      'Aurora automated backups with 7-day point-in-time recovery protect the data; an AWS Backup plan would outlive and complicate `bgmig destroy`.',
    );
  }
}

/** Load balancer: its public exposure, WAF, deletion protection and the redirect-only HTTP listener; the tasks' plain environment. */
function acknowledgeLoadBalancer(stack: BgmigStack): void {
  ack(
    stack.loadBalancer.securityGroup,
    ['AwsSolutions-EC23'],
    'The internet-facing ALB serves the public application on 443 (and redirects 80); the 8443 test port admits only the test CIDR.',
  );
  ack(
    stack.loadBalancer.alb,
    ['NIST.800.53.R5-ALBWAFEnabled'],
    "A WAF web ACL is application-specific policy the owner attaches to the ALB; bgmig's job is the blue/green switch behind it.",
  );
  ack(
    stack.loadBalancer.alb,
    ['NIST.800.53.R5-ELBDeletionProtectionEnabled'],
    'The ALB holds no data and is recreated by deploy, and the stack must stay destroyable by `bgmig destroy`.',
  );
  ack(
    stack.loadBalancer.httpListener,
    ['NIST.800.53.R5-ELBv2ACMCertificateRequired'],
    'The HTTP listener only answers with a permanent redirect to HTTPS and never forwards traffic.',
  );
  for (const color of COLORS) {
    ack(
      stack.services[color].taskDefinition,
      ['AwsSolutions-ECS2'],
      'The plain environment holds only the color, the database host name, port and database name; the credentials are injected as ECS secrets.',
    );
  }
}

/** Buckets (access logs, artifacts) and the alarm topic: their encryption and replication. */
function acknowledgeBuckets(stack: BgmigStack): void {
  ack(stack.node.findChild('AccessLogs'), ['NIST.800.53.R5-S3DefaultEncryptionKMS'], 'ALB access-log delivery supports only SSE-S3 on its destination bucket.');
  for (const bucket of [stack.node.findChild('AccessLogs'), stack.artifacts]) {
    ack(
      bucket,
      ['NIST.800.53.R5-S3BucketReplicationEnabled'],
      'Reports, journals and access logs are operational records of this one stack, deleted with it; cross-region copies would outlive it.',
    );
  }

  if (stack.monitoring.topic) {
    ack(
      stack.monitoring.topic,
      ['NIST.800.53.R5-SNSEncryptedKMS'],
      'The topic carries only alarm names and states (no data), and customer-managed keys are reserved for Aurora, Secrets Manager and S3.',
    );
  }
}

/** Alarms: promote polls alarm state itself; --alarm-email adds an SNS action for people. */
function acknowledgeAlarms(stack: BgmigStack): void {
  for (const color of COLORS) {
    for (const alarm of Object.values(stack.monitoring.alarms[color])) {
      ack(
        alarm,
        ['NIST.800.53.R5-CloudWatchAlarmAction'],
        stack.monitoring.topic
          ? 'Alarms notify the --alarm-email topic when they fire; OK and insufficient-data transitions are read by `bgmig promote` and `bgmig status`, which gate on alarm state.'
          : 'No --alarm-email was given: `bgmig promote` and `bgmig status` read the alarm state directly and halt a promotion on any alarm.',
      );
    }
  }
}
