/**
 * The optional pooler tier (`--pooler` on synth/deploy, off by default): PgBouncer as an ECS Fargate service in the
 * private application subnets, one task per availability zone, no public IP, its own security group, registered in
 * a Cloud Map private namespace so that the applications (DB_HOST) and the cutover function (every task's admin
 * console) find it by name. Admin credentials live in their own Secrets Manager secret encrypted with the stack's
 * secrets key; the application credentials come from the application secret — both injected as ECS secrets, never
 * as plain values.
 *
 * Network: applications → pooler → clusters only (the applications lose their direct path to the clusters when
 * the pooler is on); the cutover function → pooler for the admin console. The pooler listens on PostgreSQL's port
 * (5432), so the applications' contract changes in DB_HOST only. Egress 443 is for the image registry, Secrets Manager and CloudWatch Logs through NAT (the stack has no
 * VPC endpoints).
 *
 * Proven here: template assertions (test/infra/pooler.test.ts) and the PgBouncer behaviour against real PgBouncer
 * 1.18 locally (test/pooler). On paper only: the container image and its start script on Fargate, Cloud Map
 * resolution from the Lambda, and the DNS-following repoint (docs/database.md, "Pooler").
 */
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as servicediscovery from 'aws-cdk-lib/aws-servicediscovery';
import { Construct } from 'constructs';
import { APP_DB_NAME } from '../../core/lambda-env.js';
import { POOLER_ADMIN_PASSWORD } from '../../core/password-policy.js';
import type { Names } from '../../core/naming.js';
import { POOLER_ADMIN_USER, POOLER_PORT, PoolerEnv, poolerIni } from '../../pooler/aws.js';
import { DB_PORT, grantReadSecret, type AppSecret, type ColorDatabase } from './database.js';
import type { Keys } from './keys.js';
import type { VpcFunction } from './vpc-function.js';

/** PgBouncer image (Alpine, pgbouncer + sh). Not pulled on this machine: pin to what your registry holds. */
export const POOLER_IMAGE = 'edoburu/pgbouncer:v1.18.0-p0';
const CA_FILE = '/etc/ssl/certs/ca-certificates.crt';

export interface PoolerProps {
  /** Every resource name of this stack (`names(suffix)`). */
  readonly names: Names;
  /** The stack's VPC: the pooler's security group and Cloud Map namespace live in it. */
  readonly vpc: ec2.IVpc;
  /** Private application subnets (one per AZ). */
  readonly subnets: ec2.SubnetSelection;
  /** The availability zones of those subnets: one pooler task runs in each. */
  readonly availabilityZones: string[];
  /** The ECS cluster the pooler service runs in (the applications' cluster). */
  readonly cluster: ecs.Cluster;
  /** The name the pooler's entry follows: the Route 53 db record. */
  readonly dbHost: string;
  /** The application secret: its username and password go into PgBouncer's auth file. */
  readonly appSecret: AppSecret;
  /** The stack's keys: the admin secret is encrypted with the secrets key. */
  readonly keys: Keys;
  /** Both colors' clusters: the pooler gets a PostgreSQL path to each. */
  readonly databases: ColorDatabase[];
  /** How long the pooler's CloudWatch log group keeps its events. */
  readonly logRetention: logs.RetentionDays;
}

export class Pooler extends Construct {
  readonly securityGroup: ec2.SecurityGroup;
  readonly adminSecret: secretsmanager.Secret;
  readonly service: ecs.FargateService;
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly executionRole: iam.Role;
  readonly logGroup: logs.LogGroup;
  /** What the applications put in DB_HOST: every pooler task's address. */
  readonly host: string;
  private readonly keys: Keys;

  constructor(scope: Construct, id: string, props: PoolerProps) {
    super(scope, id);
    const n = props.names;
    const s = n.suffix;

    this.adminSecret = new secretsmanager.Secret(this, 'AdminSecret', {
      secretName: n.poolerAdminSecret,
      description: `bgmig ${s}: PgBouncer admin console login (the cutover function PAUSEs/RESUMEs the poolers with it)`,
      encryptionKey: props.keys.secrets,
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ username: POOLER_ADMIN_USER }),
        generateStringKey: 'password',
        ...POOLER_ADMIN_PASSWORD,
      },
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      securityGroupName: n.poolerSecurityGroup,
      description: `pooler-${s}: PgBouncer; in from the applications and the cutover function, out to the clusters`,
      allowAllOutbound: false,
    });
    this.securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'image registry, Secrets Manager and CloudWatch Logs via NAT');
    for (const db of props.databases) {
      this.securityGroup.addEgressRule(db.securityGroup, ec2.Port.tcp(DB_PORT), `PostgreSQL to aurora-${db.color}`);
      db.allowPostgresFrom(this.securityGroup, `pooler-${s}`);
    }

    this.executionRole = new iam.Role(this, 'ExecutionRole', {
      roleName: n.poolerExecutionRole,
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: `ECS agent for pooler-${s}: write logs, read the pooler admin and application secrets`,
    });
    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      logGroupName: n.poolerLogGroup,
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'TaskDefinition', {
      family: n.poolerTaskFamily,
      cpu: 256,
      memoryLimitMiB: 512,
      executionRole: this.executionRole,
      runtimePlatform: { cpuArchitecture: ecs.CpuArchitecture.X86_64, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
    });
    const ini = poolerIni({ dbHost: props.dbHost, dbName: APP_DB_NAME, dbPort: DB_PORT, caFile: CA_FILE });
    // The start script writes the ini (no secret in it) and the auth file (secrets from the environment ECS
    // injected), then execs PgBouncer; nothing secret is in the template or the task definition's plain values.
    const script = [
      `printf '%s\\n' "$POOLER_INI" > /tmp/pgbouncer.ini`,
      `printf '"%s" "%s"\\n"%s" "%s"\\n' "$APP_USER" "$APP_PASSWORD" "$ADMIN_USER" "$ADMIN_PASSWORD" > /tmp/userlist.txt`,
      'chmod 600 /tmp/userlist.txt',
      'exec pgbouncer /tmp/pgbouncer.ini',
    ].join(' && ');
    this.taskDefinition.addContainer('PgBouncer', {
      containerName: 'pgbouncer',
      image: ecs.ContainerImage.fromRegistry(POOLER_IMAGE),
      entryPoint: ['/bin/sh', '-c'],
      command: [script],
      portMappings: [{ containerPort: POOLER_PORT, protocol: ecs.Protocol.TCP }],
      essential: true,
      logging: ecs.LogDrivers.awsLogs({ logGroup: this.logGroup, streamPrefix: 'pooler' }),
      environment: { POOLER_INI: ini },
      secrets: {
        APP_USER: ecs.Secret.fromSecretsManager(props.appSecret.secret, 'username'),
        APP_PASSWORD: ecs.Secret.fromSecretsManager(props.appSecret.secret, 'password'),
        ADMIN_USER: ecs.Secret.fromSecretsManager(this.adminSecret, 'username'),
        ADMIN_PASSWORD: ecs.Secret.fromSecretsManager(this.adminSecret, 'password'),
      },
      healthCheck: {
        command: ['CMD-SHELL', `nc -z 127.0.0.1 ${POOLER_PORT} || exit 1`],
        interval: Duration.seconds(10),
        timeout: Duration.seconds(5),
        retries: 3,
      },
    });
    // Injecting the secrets needs decrypt through Secrets Manager with the secrets key.
    grantReadSecret(this.executionRole, this.adminSecret, props.keys);
    props.appSecret.grantRead(this.executionRole);

    const namespace = new servicediscovery.PrivateDnsNamespace(this, 'Namespace', {
      name: n.poolerNamespace,
      vpc: props.vpc,
      description: `bgmig ${s}: pooler tasks`,
    });
    this.service = new ecs.FargateService(this, 'Service', {
      serviceName: n.poolerService,
      cluster: props.cluster,
      taskDefinition: this.taskDefinition,
      // One task per availability zone: a pooler lost with its AZ leaves the others serving.
      desiredCount: props.availabilityZones.length,
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { enable: true, rollback: true },
      assignPublicIp: false,
      vpcSubnets: props.subnets,
      securityGroups: [this.securityGroup],
      enableECSManagedTags: true,
      propagateTags: ecs.PropagatedTagSource.SERVICE,
      cloudMapOptions: { cloudMapNamespace: namespace, name: 'pgbouncer', dnsRecordType: servicediscovery.DnsRecordType.A, dnsTtl: Duration.seconds(10) },
    });
    this.host = `pgbouncer.${namespace.namespaceName}`;

    this.keys = props.keys;

    Validations.of(this.adminSecret).acknowledge(
      {
        id: 'AwsSolutions-SMG4',
        reason:
          'The pooler admin password is changed by redeploying the pooler (tasks read it at start); a schedule would leave running tasks with the old one.',
      },
      {
        id: 'NIST.800.53.R5-SecretsManagerRotationEnabled',
        reason:
          'The pooler admin password is changed by redeploying the pooler (tasks read it at start); a schedule would leave running tasks with the old one.',
      },
    );
    Validations.of(this.taskDefinition).acknowledge({
      id: 'AwsSolutions-ECS2',
      reason: 'The plain environment holds only the PgBouncer ini (hosts, ports, pool settings); every credential is injected as an ECS secret.',
    });
    Validations.of(this.logGroup).acknowledge({
      id: 'NIST.800.53.R5-CloudWatchLogGroupEncrypted',
      reason: 'Log groups use CloudWatch Logs encryption at rest; customer-managed keys are reserved for Aurora, Secrets Manager and S3.',
    });
    Validations.of(this.executionRole).acknowledge({
      id: 'NIST.800.53.R5-IAMNoInlinePolicy',
      reason: 'The pooler execution role has its own least-privilege policy that no other principal uses.',
    });
  }

  /** The cutover function drives every task's admin console: network path, where to find them, the admin secret. */
  driveFrom(fn: VpcFunction): void {
    this.securityGroup.addIngressRule(fn.securityGroup, ec2.Port.tcp(POOLER_PORT), 'admin console from the cutover function');
    fn.securityGroup.addEgressRule(this.securityGroup, ec2.Port.tcp(POOLER_PORT), `admin console of the pooler`);
    fn.function.addEnvironment(PoolerEnv.DiscoveryName, this.host);
    fn.function.addEnvironment(PoolerEnv.AdminSecretArn, this.adminSecret.secretArn);
    fn.function.addEnvironment(PoolerEnv.Port, String(POOLER_PORT));
    grantReadSecret(fn.role, this.adminSecret, this.keys);
  }

  /** Applications reach the pooler on its port (and nothing else of it). */
  allowClientsFrom(peer: ec2.ISecurityGroup, description: string): void {
    this.securityGroup.addIngressRule(peer, ec2.Port.tcp(POOLER_PORT), description);
  }
}
