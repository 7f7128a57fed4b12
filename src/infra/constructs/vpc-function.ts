/**
 * A bgmig Lambda function: the esbuild bundle from dist/lambda/<name>/, Node.js 22, in the private subnets with
 * its own security group (egress only to the two clusters on 5432 and to HTTPS for AWS APIs through NAT), its own
 * role with hand-written permissions (no managed policies) and its own log group with retention.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { type Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { allow } from '../grants.js';
import { failure } from '../../core/errors.js';
import { RDS_CA_BUNDLE } from '../../core/lambda-env.js';
import { type LambdaName, lambdaBundleDir } from '../../core/paths.js';
import type { ColorDatabase } from './database.js';
import { DB_PORT } from './database.js';

export const LAMBDA_RUNTIME = lambda.Runtime.NODEJS_22_X;

export interface VpcFunctionProps {
  /** Which esbuild bundle of dist/lambda/ the function runs. */
  readonly bundle: LambdaName;
  /** Function name (lambda-…-{suffix}). */
  readonly functionName: string;
  /** Name of its own execution role. */
  readonly roleName: string;
  /** Name of its own log group. */
  readonly logGroupName: string;
  /** Name of its own security group. */
  readonly securityGroupName: string;
  /** Function description shown in the console. */
  readonly description: string;
  /** The stack VPC. */
  readonly vpc: ec2.IVpc;
  /** Where its network interfaces go (the private app subnets). */
  readonly subnets: ec2.SubnetSelection;
  /** Clusters it may reach on 5432 (egress here, ingress there). */
  readonly databases: ColorDatabase[];
  /** Environment variables (the contract in src/core/lambda-env.ts). */
  readonly environment: Record<string, string>;
  /** Function timeout; must exceed its connect plus statement timeouts. */
  readonly timeout: Duration;
  /** Memory in MiB. */
  readonly memorySize: number;
  /** How long its CloudWatch log groups keep events. */
  readonly logRetention: logs.RetentionDays;
}

/** The bundle directory, or a one-sentence failure telling how to produce it. */
export function requireBundle(name: LambdaName): string {
  const dir = lambdaBundleDir(name);
  if (!existsSync(path.join(dir, 'index.mjs'))) {
    throw failure(`The ${name} Lambda bundle is missing (${dir}/index.mjs): run \`npm run build\` in the bgmig checkout, then synthesize again.`);
  }
  return dir;
}

export class VpcFunction extends Construct {
  readonly function: lambda.Function;
  readonly role: iam.Role;
  readonly securityGroup: ec2.SecurityGroup;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: VpcFunctionProps) {
    super(scope, id);
    const code = lambda.Code.fromAsset(requireBundle(props.bundle));

    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      logGroupName: props.logGroupName,
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.role = new iam.Role(this, 'Role', {
      roleName: props.roleName,
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${props.functionName}: ${props.description}`,
    });
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [this.logGroup.logGroupArn] }));
    // Hyperplane ENIs for the VPC attachment. The Describe call has no resource-level permission, and the ENI ids
    // are created by Lambda at run time, so these are scoped by account and region instead.
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [
          'ec2:CreateNetworkInterface',
          'ec2:DescribeNetworkInterfaces',
          'ec2:DeleteNetworkInterface',
          'ec2:AssignPrivateIpAddresses',
          'ec2:UnassignPrivateIpAddresses',
        ],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:RequestedRegion': Stack.of(this).region } },
      }),
    );

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      securityGroupName: props.securityGroupName,
      description: `${props.functionName}: PostgreSQL to both clusters, HTTPS to AWS APIs`,
      allowAllOutbound: false,
    });
    // AWS APIs (Secrets Manager, S3, Route 53) through NAT: there are no VPC endpoints in this stack.
    this.securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS to AWS APIs via NAT');
    for (const db of props.databases) {
      this.securityGroup.addEgressRule(db.securityGroup, ec2.Port.tcp(DB_PORT), `PostgreSQL to aurora-${db.color}`);
      db.allowPostgresFrom(this.securityGroup, props.functionName);
    }

    this.function = new lambda.Function(this, 'Function', {
      functionName: props.functionName,
      description: props.description,
      runtime: LAMBDA_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      handler: 'index.handler',
      code,
      role: this.role,
      timeout: props.timeout,
      memorySize: props.memorySize,
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      securityGroups: [this.securityGroup],
      allowPublicSubnet: false,
      logGroup: this.logGroup,
      // The Node.js 20+ runtimes do not trust the RDS certificate authorities unless told to.
      environment: { ...props.environment, NODE_EXTRA_CA_CERTS: RDS_CA_BUNDLE },
    });
  }

  /** Invoke this function (the operator role; bgmig calls it with lambda:InvokeFunction). */
  grantInvoke(grantee: iam.IGrantable): iam.Grant {
    return allow(grantee, ['lambda:InvokeFunction'], [this.function.functionArn]);
  }
}
