/**
 * Aurora PostgreSQL: one cluster per color (writer + 2 readers spread over the three AZs), a shared cluster
 * parameter group with logical replication on and sized for one sync each way, each cluster's master secret,
 * and the application secret both services use whichever cluster is active.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { allow, combine } from '../grants.js';
import { failure } from '../../core/errors.js';
import { APP_DB_USERNAME } from '../../core/lambda-env.js';
import { GENERATED_PASSWORD_LENGTH, TEMPLATE_PASSWORD_EXCLUDED_CHARACTERS } from '../../core/password-policy.js';
import type { Color, Names } from '../../core/naming.js';
import type { Keys } from './keys.js';

export const DB_PORT = 5432;
export const MASTER_USERNAME = 'bgmig_admin';

export const ENGINE_VERSION = rds.AuroraPostgresEngineVersion.VER_16_13;

/**
 * Logical replication sizing. A sync runs in one direction at a time, but the cutover briefly has both: the
 * forward subscription being dropped and the reverse one being created. Each subscription uses one apply worker
 * and slot plus up to MAX_SYNC_WORKERS table-sync workers (each with a temporary slot) during its initial copy.
 */
const DIRECTIONS = 2;
const MAX_SYNC_WORKERS = 2;
const PER_SUBSCRIPTION = 1 + MAX_SYNC_WORKERS;
/** Room for an operator's ad-hoc slot (pg_recvlogical, a debugging session) without starving bgmig. */
const SLOT_HEADROOM = 4;
export const REPLICATION_PARAMETERS: Record<string, string> = {
  'rds.logical_replication': '1',
  'rds.force_ssl': '1',
  max_replication_slots: String(DIRECTIONS * PER_SUBSCRIPTION + SLOT_HEADROOM),
  max_wal_senders: String(DIRECTIONS * PER_SUBSCRIPTION + SLOT_HEADROOM),
  max_logical_replication_workers: String(DIRECTIONS * PER_SUBSCRIPTION + 2),
  // Logical replication workers come out of max_worker_processes; keep PostgreSQL's 8 for parallel query and others.
  max_worker_processes: String(DIRECTIONS * PER_SUBSCRIPTION + 2 + 8),
  max_sync_workers_per_subscription: String(MAX_SYNC_WORKERS),
};

/** Nominal memory (GiB) of the instance classes bgmig knows; Aurora PostgreSQL derives max_connections from it. */
const INSTANCE_MEMORY_GIB: Record<string, number> = {
  'db.t4g.medium': 4,
  'db.t4g.large': 8,
  'db.t3.medium': 4,
  'db.t3.large': 8,
  'db.r6g.large': 16,
  'db.r6g.xlarge': 32,
  'db.r6g.2xlarge': 64,
  'db.r6g.4xlarge': 128,
  'db.r7g.large': 16,
  'db.r7g.xlarge': 32,
  'db.r7g.2xlarge': 64,
  'db.r7g.4xlarge': 128,
  'db.r6i.large': 16,
  'db.r6i.xlarge': 32,
  'db.r6i.2xlarge': 64,
  'db.r5.large': 16,
  'db.r5.xlarge': 32,
};

/** Aurora PostgreSQL's default max_connections: LEAST(DBInstanceClassMemory / 9531392, 5000). */
export function maxConnections(instanceClass: string): number {
  const gib = INSTANCE_MEMORY_GIB[instanceClass];
  if (gib === undefined) {
    throw failure(
      `No max_connections figure for instance class ${instanceClass}: use one of ${Object.keys(INSTANCE_MEMORY_GIB).join(', ')} or add it to INSTANCE_MEMORY_GIB in src/infra/constructs/database.ts.`,
    );
  }
  return Math.min(Math.floor((gib * 1024 ** 3) / 9531392), 5000);
}

export interface DatabaseSharedProps {
  /** Every resource name of this stack (`names(suffix)`). */
  readonly names: Names;
  /** The stack VPC. */
  readonly vpc: ec2.IVpc;
  /** The isolated (db) subnets the clusters live in. */
  readonly subnets: ec2.SubnetSelection;
}

/** What both clusters share: the cluster parameter group and the subnet group. */
export class DatabaseShared extends Construct {
  readonly parameterGroup: rds.ParameterGroup;
  readonly subnetGroup: rds.SubnetGroup;

  constructor(scope: Construct, id: string, props: DatabaseSharedProps) {
    super(scope, id);
    this.parameterGroup = new rds.ParameterGroup(this, 'ClusterParameters', {
      engine: rds.DatabaseClusterEngine.auroraPostgres({ version: ENGINE_VERSION }),
      name: props.names.auroraParameterGroup,
      description: `bgmig ${props.names.suffix}: TLS only, logical replication for blue/green sync`,
      parameters: REPLICATION_PARAMETERS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.subnetGroup = new rds.SubnetGroup(this, 'SubnetGroup', {
      subnetGroupName: props.names.auroraSubnetGroup,
      description: `bgmig ${props.names.suffix}: isolated database subnets`,
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      removalPolicy: RemovalPolicy.DESTROY,
    });
  }
}

export interface ColorDatabaseProps {
  /** Every resource name of this stack (`names(suffix)`). */
  readonly names: Names;
  /** Which cluster this is. */
  readonly color: Color;
  /** The stack VPC. */
  readonly vpc: ec2.IVpc;
  /** The parameter and subnet groups both clusters use. */
  readonly shared: DatabaseShared;
  /** The customer-managed KMS keys (storage and secret encryption). */
  readonly keys: Keys;
  /** One AZ per instance: writer, reader 1, reader 2. */
  readonly availabilityZones: string[];
  /** Instance class of all three instances (e.g. "db.r6g.large"). */
  readonly instanceClass: string;
  /** Aurora deletion protection (on in prod). */
  readonly deletionProtection: boolean;
  /** How long its CloudWatch log groups keep events. */
  readonly logRetention: logs.RetentionDays;
}

export class ColorDatabase extends Construct {
  readonly color: Color;
  readonly cluster: rds.DatabaseCluster;
  readonly secret: secretsmanager.ISecret;
  /** The generated master secret resource itself (secret-db-{color}-{suffix}). */
  readonly masterSecret: rds.DatabaseSecret;
  readonly securityGroup: ec2.SecurityGroup;
  private readonly keys: Keys;

  constructor(scope: Construct, id: string, props: ColorDatabaseProps) {
    super(scope, id);
    const n = props.names;
    const c = props.color;
    this.color = c;
    this.keys = props.keys;
    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      securityGroupName: n.auroraSecurityGroup(c),
      description: `Aurora ${c}: PostgreSQL from the services, the bgmig functions and the other cluster`,
      allowAllOutbound: false,
    });

    // RDS creates /aws/rds/cluster/<id>/postgresql on first export; owning it here gives it a retention and
    // deletes it with the stack. Its name is fixed by RDS, the one log group not named {type}-{suffix}.
    const logGroup = new logs.LogGroup(this, 'PostgresqlLogs', {
      logGroupName: `/aws/rds/cluster/${n.auroraCluster(c)}/postgresql`,
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    const instanceType = new ec2.InstanceType(props.instanceClass.replace(/^db\./, ''));
    const instance = (i: number): rds.IClusterInstance =>
      rds.ClusterInstance.provisioned(i === 0 ? 'Writer' : `Reader${i}`, {
        instanceIdentifier: n.auroraInstance(c, i),
        instanceType,
        availabilityZone: props.availabilityZones[i],
        publiclyAccessible: false,
        // Readers at tier 1 take over first on a writer failure.
        ...(i === 0 ? {} : { promotionTier: 1 }),
      });

    this.cluster = new rds.DatabaseCluster(this, 'Cluster', {
      engine: rds.DatabaseClusterEngine.auroraPostgres({ version: ENGINE_VERSION }),
      clusterIdentifier: n.auroraCluster(c),
      credentials: rds.Credentials.fromGeneratedSecret(MASTER_USERNAME, {
        secretName: n.dbSecret(c),
        encryptionKey: props.keys.secrets,
        excludeCharacters: TEMPLATE_PASSWORD_EXCLUDED_CHARACTERS,
      }),
      writer: instance(0),
      readers: [instance(1), instance(2)],
      vpc: props.vpc,
      subnetGroup: props.shared.subnetGroup,
      securityGroups: [this.securityGroup],
      parameterGroup: props.shared.parameterGroup,
      port: DB_PORT,
      storageEncrypted: true,
      storageEncryptionKey: props.keys.aurora,
      backup: { retention: Duration.days(7), preferredWindow: '03:00-04:00' },
      preferredMaintenanceWindow: 'sun:05:00-sun:06:00',
      cloudwatchLogsExports: ['postgresql'],
      iamAuthentication: true,
      deletionProtection: props.deletionProtection,
      copyTagsToSnapshot: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.cluster.node.addDependency(logGroup);
    if (!this.cluster.secret) throw new Error('Aurora cluster was created without a generated secret.');
    // The attachment (its ARN is the secret's): what readers are granted and what the outputs name.
    this.secret = this.cluster.secret;
    this.masterSecret = this.cluster.node.findChild('Secret') as rds.DatabaseSecret;
    // DESTROY on the secret too: the cluster's removal policy does not reach its generated secret.
    this.masterSecret.applyRemovalPolicy(RemovalPolicy.DESTROY);
  }

  get clusterArn(): string {
    return this.cluster.clusterArn;
  }

  /** Admits PostgreSQL from a security group (one rule on each side, nothing wider). */
  allowPostgresFrom(peer: ec2.ISecurityGroup, description: string): void {
    this.securityGroup.addIngressRule(peer, ec2.Port.tcp(DB_PORT), description);
  }

  /**
   * Lets this cluster open replication connections to the other one: the subscriber connects to the publisher,
   * in whichever direction the sync runs.
   */
  allowReplicationTo(other: ColorDatabase): void {
    this.securityGroup.addEgressRule(other.securityGroup, ec2.Port.tcp(DB_PORT), `logical replication ${this.color} -> ${other.color}`);
    other.securityGroup.addIngressRule(this.securityGroup, ec2.Port.tcp(DB_PORT), `logical replication ${this.color} -> ${other.color}`);
  }

  /** Read the master secret (the bgmig functions connect as the master user). */
  grantReadMasterSecret(grantee: iam.IGrantable): iam.Grant {
    return grantReadSecret(grantee, this.secret, this.keys);
  }

  /**
   * What the operator role needs on this cluster: describe it and change its master password (rotation, which
   * stages the secret's new version first).
   */
  grantOperate(grantee: iam.IGrantable): iam.Grant {
    return allow(grantee, ['rds:DescribeDBClusters', 'rds:ModifyDBCluster'], [this.clusterArn]);
  }
}

export interface AppSecretProps {
  /** Every resource name of this stack (`names(suffix)`). */
  readonly names: Names;
  /** The customer-managed KMS keys (the secret is encrypted with the secrets key). */
  readonly keys: Keys;
}

/**
 * secret-db-app-{suffix}: the application role bgmig creates on both clusters with the same password (`bgmig db
 * init`), so a cutover changes only where the DNS name points. No rotation schedule: rotation must apply the
 * password to both clusters together, which `bgmig rotate-secret-manual --app` does.
 */
export class AppSecret extends Construct {
  readonly secret: secretsmanager.Secret;
  private readonly keys: Keys;

  constructor(scope: Construct, id: string, props: AppSecretProps) {
    super(scope, id);
    this.keys = props.keys;
    this.secret = new secretsmanager.Secret(this, 'Secret', {
      secretName: props.names.appDbSecret,
      description: `bgmig ${props.names.suffix}: application database credentials (same on blue and green)`,
      encryptionKey: props.keys.secrets,
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ username: APP_DB_USERNAME }),
        generateStringKey: 'password',
        excludeCharacters: TEMPLATE_PASSWORD_EXCLUDED_CHARACTERS,
        passwordLength: GENERATED_PASSWORD_LENGTH,
      },
      removalPolicy: RemovalPolicy.DESTROY,
    });
  }

  /** Read the application secret (the cutover function sets the role's password from it). */
  grantRead(grantee: iam.IGrantable): iam.Grant {
    return grantReadSecret(grantee, this.secret, this.keys);
  }
}

/** Exactly GetSecretValue + DescribeSecret on one secret, and decrypt through Secrets Manager only. */
export function grantReadSecret(grantee: iam.IGrantable, secret: secretsmanager.ISecret, keys: Keys): iam.Grant {
  return combine(
    allow(grantee, ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], [secret.secretArn]),
    keys.grantUse('secrets', grantee, { encrypt: false }),
  );
}

/**
 * Staging a new secret version (manual rotation): read, put a pending version, move AWSCURRENT. Encrypting the
 * new version needs a data key.
 */
export function grantStageSecret(grantee: iam.IGrantable, secrets: secretsmanager.ISecret[], keys: Keys): iam.Grant {
  return combine(
    allow(
      grantee,
      ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue', 'secretsmanager:UpdateSecretVersionStage'],
      secrets.map((s) => s.secretArn),
    ),
    keys.grantUse('secrets', grantee, { encrypt: true }),
  );
}
