/**
 * The VPC: three explicit AZs (no context lookup, never dummy AZs), public subnets for the ALB and NAT,
 * private-with-egress subnets for the services and functions, isolated subnets for Aurora; flow logs to
 * CloudWatch Logs. Deliberately no VPC endpoint: AWS APIs are reached through NAT (endpoints cost ~$7/month each
 * per AZ and every function here only calls a few APIs rarely).
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { Names } from '../../core/naming.js';

export interface NetworkProps {
  /** Every resource name of this stack (`names(suffix)`). */
  readonly names: Names;
  /** The three AZs, given explicitly so synthesis needs no AWS lookup. */
  readonly availabilityZones: string[];
  /** One NAT gateway per AZ instead of one for the VPC. */
  readonly haNat: boolean;
  /** How long the VPC flow logs are kept. */
  readonly logRetention: logs.RetentionDays;
}

export const SUBNET_NAMES = { public: 'public', app: 'app', db: 'db' } as const;

export class Network extends Construct {
  readonly vpc: ec2.Vpc;
  readonly flowLogGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    const n = props.names;
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      vpcName: n.vpc,
      ipAddresses: ec2.IpAddresses.cidr('10.0.0.0/16'),
      availabilityZones: props.availabilityZones,
      natGateways: props.haNat ? props.availabilityZones.length : 1,
      subnetConfiguration: [
        // Nothing here needs an automatic public IP: the ALB and the NAT gateways bring their own addresses.
        { name: SUBNET_NAMES.public, subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24, mapPublicIpOnLaunch: false },
        { name: SUBNET_NAMES.app, subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 },
        { name: SUBNET_NAMES.db, subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ],
      // Restricting the default security group needs a custom-resource Lambda; nothing here uses that group.
      restrictDefaultSecurityGroup: false,
    });

    this.flowLogGroup = new logs.LogGroup(this, 'FlowLogGroup', {
      logGroupName: n.flowLogGroup,
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const role = new iam.Role(this, 'FlowLogRole', {
      roleName: n.flowLogRole,
      assumedBy: new iam.ServicePrincipal('vpc-flow-logs.amazonaws.com'),
      description: `VPC flow logs of ${n.vpc} into ${n.flowLogGroup}`,
    });
    // Exactly what the flow-logs service calls on its destination group.
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
        resources: [this.flowLogGroup.logGroupArn],
      }),
    );
    new ec2.FlowLog(this, 'FlowLog', {
      resourceType: ec2.FlowLogResourceType.fromVpc(this.vpc),
      destination: ec2.FlowLogDestination.toCloudWatchLogs(this.flowLogGroup, role),
      trafficType: ec2.FlowLogTrafficType.ALL,
    });
  }

  get appSubnets(): ec2.SubnetSelection {
    return { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
  }

  get dbSubnets(): ec2.SubnetSelection {
    return { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
  }

  get publicSubnets(): ec2.SubnetSelection {
    return { subnetType: ec2.SubnetType.PUBLIC };
  }
}
