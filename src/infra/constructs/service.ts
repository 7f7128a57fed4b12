/**
 * One color's application: a Fargate service with its own task definition, roles, log group and security
 * group, registered in the color's target group. The database is reached through the private DNS name (whichever
 * cluster is active) with the application credentials injected as ECS secrets, never as plain values.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { allow } from '../grants.js';
import { APP_DB_NAME } from '../../core/lambda-env.js';
import type { Color, Names } from '../../core/naming.js';
import { DB_PORT } from './database.js';

export const DESIRED_COUNT = 2;
export const TASK_CPU = 256;
export const TASK_MEMORY_MIB = 512;
export const CONTAINER_NAME = 'app';

/** Environment names the application reads: the stack's contract with the container (docs/architecture.md, "Containers"). */
export const AppEnv = {
  Color: 'BGMIG_COLOR',
  DbHost: 'DB_HOST',
  DbPort: 'DB_PORT',
  DbName: 'DB_NAME',
  DbUsername: 'DB_USERNAME',
  DbPassword: 'DB_PASSWORD',
} as const;

export interface ColorServiceProps {
  /** Every resource name of this stack (`names(suffix)`). */
  readonly names: Names;
  /** Which service this is. */
  readonly color: Color;
  /** The ECS cluster both services run in. */
  readonly cluster: ecs.ICluster;
  /** The stack VPC. */
  readonly vpc: ec2.IVpc;
  /** Where its network interfaces go (the private app subnets). */
  readonly subnets: ec2.SubnetSelection;
  /** Container image of this color. */
  readonly image: string;
  /** Port the container listens on. */
  readonly containerPort: number;
  /** The target group the service registers its tasks with. */
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  /** The private DNS name of the active database writer. */
  readonly dbHost: string;
  /** The application secret, injected as DB_USERNAME and DB_PASSWORD. */
  readonly appSecret: secretsmanager.ISecret;
  /** How long its CloudWatch log groups keep events. */
  readonly logRetention: logs.RetentionDays;
}

export class ColorService extends Construct {
  readonly color: Color;
  readonly service: ecs.FargateService;
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly taskRole: iam.Role;
  readonly executionRole: iam.Role;
  readonly securityGroup: ec2.SecurityGroup;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ColorServiceProps) {
    super(scope, id);
    const n = props.names;
    const c = props.color;
    this.color = c;

    // Both roles trust exactly the ECS tasks service principal.
    this.executionRole = new iam.Role(this, 'ExecutionRole', {
      roleName: n.taskExecutionRole(c),
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: `ECS agent for ${n.service(c)}: write logs, read the application DB secret`,
    });
    this.taskRole = new iam.Role(this, 'TaskRole', {
      roleName: n.taskRole(c),
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: `The ${c} application's own AWS identity (no permissions until the application needs some)`,
    });

    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      logGroupName: n.serviceLogGroup(c),
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'TaskDefinition', {
      family: n.taskFamily(c),
      cpu: TASK_CPU,
      memoryLimitMiB: TASK_MEMORY_MIB,
      executionRole: this.executionRole,
      taskRole: this.taskRole,
      runtimePlatform: { cpuArchitecture: ecs.CpuArchitecture.X86_64, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
    });
    this.taskDefinition.addContainer('App', {
      containerName: CONTAINER_NAME,
      image: ecs.ContainerImage.fromRegistry(props.image),
      portMappings: [{ containerPort: props.containerPort, protocol: ecs.Protocol.TCP }],
      essential: true,
      logging: ecs.LogDrivers.awsLogs({ logGroup: this.logGroup, streamPrefix: c }),
      // Only non-secret values here: where the database is, never who or with what password.
      environment: {
        [AppEnv.Color]: c,
        [AppEnv.DbHost]: props.dbHost,
        [AppEnv.DbPort]: String(DB_PORT),
        [AppEnv.DbName]: APP_DB_NAME,
      },
      secrets: {
        [AppEnv.DbUsername]: ecs.Secret.fromSecretsManager(props.appSecret, 'username'),
        [AppEnv.DbPassword]: ecs.Secret.fromSecretsManager(props.appSecret, 'password'),
      },
    });

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      securityGroupName: n.serviceSecurityGroup(c),
      description: `${n.service(c)}: traffic from the ALB; out to the database and to image registries / AWS APIs via NAT`,
      // Tasks pull images and call AWS APIs through NAT (no VPC endpoints); the ALB ingress rule is added when
      // the service registers with its target group.
      allowAllOutbound: true,
    });

    this.service = new ecs.FargateService(this, 'Service', {
      serviceName: n.service(c),
      cluster: props.cluster,
      taskDefinition: this.taskDefinition,
      desiredCount: DESIRED_COUNT,
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { enable: true, rollback: true },
      assignPublicIp: false,
      vpcSubnets: props.subnets,
      securityGroups: [this.securityGroup],
      enableECSManagedTags: true,
      propagateTags: ecs.PropagatedTagSource.SERVICE,
    });
    this.service.attachToApplicationTargetGroup(props.targetGroup);
  }

  /** Scale or redeploy this service and read its state. */
  grantOperate(grantee: iam.IGrantable): iam.Grant {
    return allow(grantee, ['ecs:DescribeServices', 'ecs:UpdateService'], [this.service.serviceArn]);
  }
}
