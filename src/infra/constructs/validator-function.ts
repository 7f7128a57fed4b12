/**
 * lambda-schema-validator-{suffix}: compares the two clusters' schemas (connecting as each master user) and writes
 * its report to the artifacts bucket under reports/.
 */
import { Duration } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ValidatorEnv } from '../../core/lambda-env.js';
import type { Names } from '../../core/naming.js';
import type { ArtifactsBucket } from './artifacts.js';
import type { ColorDatabase } from './database.js';
import { VpcFunction } from './vpc-function.js';

export interface ValidatorFunctionProps {
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
  /** The artifacts bucket (the function writes reports/). */
  readonly artifacts: ArtifactsBucket;
  /** How long its CloudWatch log groups keep events. */
  readonly logRetention: logs.RetentionDays;
}

export class ValidatorFunction extends Construct {
  readonly fn: VpcFunction;

  constructor(scope: Construct, id: string, props: ValidatorFunctionProps) {
    super(scope, id);
    const n = props.names;
    this.fn = new VpcFunction(this, 'Validator', {
      bundle: 'schema-validator',
      functionName: n.validatorFunction,
      roleName: n.validatorRole,
      logGroupName: n.validatorLogGroup,
      securityGroupName: n.validatorSecurityGroup,
      description: 'bgmig schema validator: compares blue and green schemas, writes reports/',
      vpc: props.vpc,
      subnets: props.subnets,
      databases: [props.blue, props.green],
      environment: {
        [ValidatorEnv.BlueSecretArn]: props.blue.secret.secretArn,
        [ValidatorEnv.GreenSecretArn]: props.green.secret.secretArn,
        [ValidatorEnv.ArtifactsBucket]: props.artifacts.bucket.bucketName,
      },
      // Two catalog reads of a 2,000-table schema take well under a second; the margin is for cold starts and TLS.
      timeout: Duration.minutes(2),
      memorySize: 1024,
      logRetention: props.logRetention,
    });
    props.blue.grantReadMasterSecret(this.fn.role);
    props.green.grantReadMasterSecret(this.fn.role);
    props.artifacts.grantWriteReports(this.fn.role);
  }

  get functionName(): string {
    return this.fn.function.functionName;
  }
}
