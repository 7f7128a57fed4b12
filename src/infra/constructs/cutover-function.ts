/**
 * lambda-db-cutover-{suffix}: runs the SQL side of every `bgmig db` step in AWS mode and switches the db record.
 * Separate from the validator for least privilege: only this function may change the record or write the audit journal.
 */
import { Duration } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { CutoverEnv } from '../../core/lambda-env.js';
import type { Names } from '../../core/naming.js';
import type { ArtifactsBucket } from './artifacts.js';
import type { AppSecret, ColorDatabase } from './database.js';
import type { PrivateDns } from './private-dns.js';
import { VpcFunction } from './vpc-function.js';

export interface CutoverFunctionProps {
  /** Every resource name of this stack (`names(suffix)`). */
  readonly names: Names;
  /** The stack VPC. */
  readonly vpc: ec2.IVpc;
  /** Where its network interfaces go (the private app subnets). */
  readonly subnets: ec2.SubnetSelection;
  /** The blue cluster (its master secret is read, PostgreSQL is admitted from the function). */
  readonly blue: ColorDatabase;
  /** The green cluster (its master secret is read, PostgreSQL is admitted from the function). */
  readonly green: ColorDatabase;
  /** The application secret whose password the function sets on both clusters. */
  readonly appSecret: AppSecret;
  /** The private zone whose db record the function repoints. */
  readonly dns: PrivateDns;
  /** The artifacts bucket (the function appends to journal/). */
  readonly artifacts: ArtifactsBucket;
  /** How long its CloudWatch log groups keep events. */
  readonly logRetention: logs.RetentionDays;
}

export class CutoverFunction extends Construct {
  readonly fn: VpcFunction;

  constructor(scope: Construct, id: string, props: CutoverFunctionProps) {
    super(scope, id);
    const n = props.names;
    this.fn = new VpcFunction(this, 'Cutover', {
      bundle: 'db-cutover',
      functionName: n.cutoverFunction,
      roleName: n.cutoverRole,
      logGroupName: n.cutoverLogGroup,
      securityGroupName: n.cutoverSecurityGroup,
      description: 'bgmig database cutover: replication, fence, drain, sequences, record switch',
      vpc: props.vpc,
      subnets: props.subnets,
      databases: [props.blue, props.green],
      environment: {
        [CutoverEnv.BlueSecretArn]: props.blue.secret.secretArn,
        [CutoverEnv.GreenSecretArn]: props.green.secret.secretArn,
        [CutoverEnv.AppSecretArn]: props.appSecret.secret.secretArn,
        [CutoverEnv.HostedZoneId]: props.dns.zone.hostedZoneId,
        [CutoverEnv.DbRecordName]: props.dns.recordName,
        [CutoverEnv.BlueClusterEndpoint]: props.blue.cluster.clusterEndpoint.hostname,
        [CutoverEnv.GreenClusterEndpoint]: props.green.cluster.clusterEndpoint.hostname,
        [CutoverEnv.ArtifactsBucket]: props.artifacts.bucket.bucketName,
      },
      // Each step is bounded by its own lock/statement timeouts; the initial-copy wait is polled by the CLI, not here.
      timeout: Duration.minutes(5),
      memorySize: 512,
      logRetention: props.logRetention,
    });
    props.blue.grantReadMasterSecret(this.fn.role);
    props.green.grantReadMasterSecret(this.fn.role);
    props.appSecret.grantRead(this.fn.role);
    props.dns.grantUpsertDbRecord(this.fn.role);
    props.artifacts.grantWriteJournal(this.fn.role);
  }

  get functionName(): string {
    return this.fn.function.functionName;
  }
}
