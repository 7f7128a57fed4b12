/**
 * The rollback guard: an EventBridge rule on CloudWatch alarm state changes of green's alarms entering ALARM
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-and-eventbridge.html) invoking
 * lambda-rollback-guard-{suffix} (src/lambda/rollback-guard.ts), which sets blue 100 / green 0 on the HTTPS listener
 * and journals it — so a bad green is rolled back even when no bgmig process is running.
 *
 * Least privilege: the function may call ModifyListener on exactly the HTTPS listener (ELBv2 supports resource-level
 * permissions for it), DescribeListeners (which has none), and append journal objects. It runs outside the VPC: it
 * talks only to AWS APIs, and the way back must not depend on the NAT gateways.
 */
import { ArnFormat, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { RollbackGuardEnv } from '../../core/lambda-env.js';
import type { Names } from '../../core/naming.js';
import type { ArtifactsBucket } from './artifacts.js';
import type { LoadBalancer } from './load-balancer.js';
import { LAMBDA_RUNTIME, requireBundle } from './vpc-function.js';

/** S3 prefix of the rollout lease (src/rollout/lease.ts). */
export const ROLLOUT_PREFIX = 'rollout/';

export interface RollbackGuardProps {
  /** Resource names of this stack (rule, function, role, log group). */
  readonly names: Names;
  /** The load balancer whose HTTPS listener the guard may set, and whose target groups it weighs. */
  readonly loadBalancer: LoadBalancer;
  /** Green's alarms: any of them entering ALARM triggers the guard. */
  readonly greenAlarms: cloudwatch.IAlarm[];
  /** Where the guard (and bgmig) append journal records and keep the rollout lease. */
  readonly artifacts: ArtifactsBucket;
  /** Retention of the function's log group. */
  readonly logRetention: logs.RetentionDays;
  /** The operator role: granted what promote's rollout and status need (lease, journal, metrics, the rule). */
  readonly operator?: iam.IGrantable | undefined;
}

export class RollbackGuard extends Construct {
  /** The rule on green's alarm state changes. */
  readonly rule: events.Rule;
  /** The function that rolls back. */
  readonly function: lambda.Function;
  /** The function's own role. */
  readonly role: iam.Role;
  /** The function's log group. */
  readonly logGroup: logs.LogGroup;
  private readonly props: RollbackGuardProps;

  constructor(scope: Construct, id: string, props: RollbackGuardProps) {
    super(scope, id);
    this.props = props;
    const n = props.names;
    const lb = props.loadBalancer;

    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      logGroupName: n.rollbackGuardLogGroup,
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.role = new iam.Role(this, 'Role', {
      roleName: n.rollbackGuardRole,
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${n.rollbackGuardFunction}: sets blue 100 / green 0 on ${n.alb}'s HTTPS listener when a green alarm fires`,
    });
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [this.logGroup.logGroupArn] }));
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['elasticloadbalancing:ModifyListener'], resources: [lb.httpsListener.listenerArn] }));
    // DescribeListeners has no resource-level permission (read-only; the guard reads before and after its write).
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['elasticloadbalancing:DescribeListeners'], resources: ['*'] }));
    props.artifacts.grantWriteJournal(this.role);

    this.function = new lambda.Function(this, 'Function', {
      functionName: n.rollbackGuardFunction,
      description: 'bgmig rollback guard: blue 100 / green 0 when a green alarm enters ALARM',
      runtime: LAMBDA_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      handler: 'index.handler',
      code: lambda.Code.fromAsset(requireBundle('rollback-guard')),
      role: this.role,
      // Three ELBv2/S3 calls; the margin is for a cold start and SDK retries.
      timeout: Duration.seconds(30),
      memorySize: 256,
      logGroup: this.logGroup,
      environment: {
        [RollbackGuardEnv.Suffix]: n.suffix,
        [RollbackGuardEnv.ListenerArn]: lb.httpsListener.listenerArn,
        [RollbackGuardEnv.BlueTargetGroupArn]: lb.targetGroups.blue.targetGroupArn,
        [RollbackGuardEnv.GreenTargetGroupArn]: lb.targetGroups.green.targetGroupArn,
        [RollbackGuardEnv.GreenAlarmNames]: props.greenAlarms.map((a) => a.alarmName).join(','),
        [RollbackGuardEnv.ArtifactsBucket]: props.artifacts.bucket.bucketName,
      },
    });

    this.rule = new events.Rule(this, 'Rule', {
      ruleName: n.rollbackGuardRule,
      description: `bgmig ${n.suffix}: a green alarm entering ALARM rolls traffic back to blue (${n.rollbackGuardFunction})`,
      eventPattern: {
        source: ['aws.cloudwatch'],
        detailType: ['CloudWatch Alarm State Change'],
        resources: props.greenAlarms.map((a) => a.alarmArn),
        detail: { state: { value: ['ALARM'] } },
      },
    });
    // EventBridge invokes the function asynchronously: its retry policy covers delivery (throttling, service errors);
    // a run that throws because it could not roll back is retried by Lambda itself, twice by default
    // (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html).
    this.rule.addTarget(new targets.LambdaFunction(this.function, { retryAttempts: 10, maxEventAge: Duration.hours(1) }));

    this.acknowledge();
    if (props.operator) {
      this.grantReadRule(props.operator);
      this.grantArm(props.operator);
      this.grantRollout(props.operator);
    }
  }

  private ruleArn(): string {
    return Stack.of(this).formatArn({
      service: 'events',
      resource: 'rule',
      resourceName: this.props.names.rollbackGuardRule,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
  }

  /** `status`: DescribeRule and ListTargetsByRule on this rule only. */
  grantReadRule(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({ grantee, actions: ['events:DescribeRule', 'events:ListTargetsByRule'], resourceArns: [this.ruleArn()] });
  }

  /** `promote --no-guard`: disable the rule for the promote, enable it again afterwards (this rule only). */
  grantArm(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({ grantee, actions: ['events:EnableRule', 'events:DisableRule'], resourceArns: [this.ruleArn()] });
  }

  /**
   * A rollout: the lease object (get, conditional put, delete) under rollout/, journal appends, and the ALB metrics
   * (GetMetricData has no resource-level permission).
   */
  grantRollout(grantee: iam.IGrantable): iam.Grant {
    const lease = iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
      resourceArns: [this.props.artifacts.bucket.arnForObjects(`${ROLLOUT_PREFIX}*`)],
    });
    this.props.artifacts.grantWriteJournal(grantee);
    const metrics = iam.Grant.addToPrincipal({ grantee, actions: ['cloudwatch:GetMetricData'], resourceArns: ['*'] });
    return lease.combine(metrics);
  }

  private acknowledge(): void {
    const ack = (scope: Construct, id: string, reason: string) => Validations.of(scope).acknowledge({ id, reason });
    ack(
      this.role,
      'AwsSolutions-IAM5[Resource::*]',
      'The ELB DescribeListeners call has no resource-level permission; the only write, ModifyListener, is scoped to the HTTPS listener.',
    );
    const bucketId = Stack.of(this).getLogicalId(this.props.artifacts.bucket.node.defaultChild as import('aws-cdk-lib').CfnElement);
    ack(
      this.role,
      `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/journal/*]`,
      'The guard appends one journal object per action, named by its timestamp, confined to the journal/ prefix.',
    );
    ack(this.role, 'NIST.800.53.R5-IAMNoInlinePolicy', 'The guard role has its own least-privilege policy that no other principal uses.');
    ack(this.function, 'AwsSolutions-L1', 'Node.js 22 is the runtime the bundles are built and tested for (esbuild target node22).');
    ack(
      this.function,
      'NIST.800.53.R5-LambdaInsideVPC',
      'The guard calls only AWS APIs (ELBv2, S3); outside the VPC the way back does not depend on the NAT gateways.',
    );
    ack(
      this.function,
      'NIST.800.53.R5-LambdaConcurrency',
      'Reserving concurrency can fail the deploy in accounts near the unreserved minimum; the guard runs once per alarm transition.',
    );
    ack(
      this.function,
      'NIST.800.53.R5-LambdaDLQ',
      'Lambda retries a failed asynchronous run twice and EventBridge retries delivery for an hour; a failure is logged and the alarm stays in ALARM, which status reports.',
    );
    ack(
      this.logGroup,
      'NIST.800.53.R5-CloudWatchLogGroupEncrypted',
      'Log groups use CloudWatch Logs encryption at rest; customer-managed keys are reserved for Aurora, Secrets Manager and S3.',
    );
    if (this.props.operator) {
      const op = this.props.operator.grantPrincipal;
      if (op instanceof Construct)
        ack(
          op,
          `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/rollout/*]`,
          'The operator keeps the rollout lease, one object under the rollout/ prefix of the artifacts bucket.',
        );
    }
  }
}
