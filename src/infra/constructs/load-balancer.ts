/**
 * The internet-facing ALB: HTTPS 443 (TLS 1.3 policy) whose default action is a weighted forward to the blue and
 * green target groups, HTTP 80 redirecting to HTTPS, and a test listener on 8443 that always forwards to green
 * and admits only the test CIDR, so green can be tried before it takes any traffic.
 */
import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { allow, combine } from '../grants.js';
import type { Weights } from '../../core/config.js';
import { COLORS, type Color, type Names } from '../../core/naming.js';

export const HTTPS_PORT = 443;
export const HTTP_PORT = 80;
export const TEST_PORT = 8443;
/** AWS's recommended TLS 1.3 policy (TLS 1.3 preferred, 1.2 still accepted for older clients). */
export const SSL_POLICY = elbv2.SslPolicy.RECOMMENDED_TLS;
/** Short: a shift of weight should not wait the default 300 s for old connections to drain. */
export const DEREGISTRATION_DELAY = Duration.seconds(30);

export const HEALTH_CHECK = {
  interval: Duration.seconds(15),
  timeout: Duration.seconds(5),
  healthyThresholdCount: 2,
  unhealthyThresholdCount: 3,
} as const;

export interface LoadBalancerProps {
  /** Every resource name of this stack (`names(suffix)`). */
  readonly names: Names;
  /** The stack VPC. */
  readonly vpc: ec2.IVpc;
  /** The public subnets the ALB faces the internet from. */
  readonly subnets: ec2.SubnetSelection;
  /** ACM certificate of the HTTPS and test listeners (a placeholder when none was given). */
  readonly certificateArn: string;
  /** Port the targets (the containers) listen on. */
  readonly containerPort: number;
  /** HTTP path of the target groups' health check. */
  readonly healthCheckPath: string;
  /** The only source range the test listener (green only) admits. */
  readonly testCidr: string;
  /** Listener weights to deploy with (deploy passes the live ones, so a deploy never moves traffic). */
  readonly weights: Weights;
  /** The bucket that receives this resource's access logs. */
  readonly accessLogs: s3.IBucket;
}

export class LoadBalancer extends Construct {
  readonly alb: elbv2.ApplicationLoadBalancer;
  readonly securityGroup: ec2.SecurityGroup;
  readonly httpsListener: elbv2.ApplicationListener;
  readonly httpListener: elbv2.ApplicationListener;
  readonly testListener: elbv2.ApplicationListener;
  readonly targetGroups: Record<Color, elbv2.ApplicationTargetGroup>;

  constructor(scope: Construct, id: string, props: LoadBalancerProps) {
    super(scope, id);
    const n = props.names;
    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      securityGroupName: n.albSecurityGroup,
      description: `ALB ${n.alb}: HTTPS and HTTP from the internet, the green test port from the test CIDR`,
      // Egress is added per target (the services' security groups) when they register.
      allowAllOutbound: false,
    });
    this.securityGroup.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(HTTPS_PORT), 'HTTPS from the internet');
    this.securityGroup.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(HTTP_PORT), 'HTTP from the internet (redirected to HTTPS)');
    this.securityGroup.addIngressRule(ec2.Peer.ipv4(props.testCidr), ec2.Port.tcp(TEST_PORT), 'green test listener from the test CIDR only');

    this.alb = new elbv2.ApplicationLoadBalancer(this, 'Alb', {
      loadBalancerName: n.alb,
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      internetFacing: true,
      securityGroup: this.securityGroup,
      dropInvalidHeaderFields: true,
    });
    this.alb.logAccessLogs(props.accessLogs, 'alb');

    const targetGroup = (c: Color) =>
      new elbv2.ApplicationTargetGroup(this, c === 'blue' ? 'BlueTargetGroup' : 'GreenTargetGroup', {
        targetGroupName: n.targetGroup(c),
        vpc: props.vpc,
        targetType: elbv2.TargetType.IP,
        protocol: elbv2.ApplicationProtocol.HTTP,
        port: props.containerPort,
        deregistrationDelay: DEREGISTRATION_DELAY,
        healthCheck: {
          enabled: true,
          path: props.healthCheckPath,
          protocol: elbv2.Protocol.HTTP,
          healthyHttpCodes: '200-399',
          ...HEALTH_CHECK,
        },
      });
    this.targetGroups = { blue: targetGroup('blue'), green: targetGroup('green') };

    const certificates = [elbv2.ListenerCertificate.fromArn(props.certificateArn)];
    this.httpsListener = this.alb.addListener('Https', {
      port: HTTPS_PORT,
      protocol: elbv2.ApplicationProtocol.HTTPS,
      certificates,
      sslPolicy: SSL_POLICY,
      open: false,
      // The weights come from input: deploy passes the live ones, since an update resets them to the template's.
      defaultAction: elbv2.ListenerAction.weightedForward(COLORS.map((c) => ({ targetGroup: this.targetGroups[c], weight: props.weights[c] }))),
    });
    this.httpListener = this.alb.addListener('Http', {
      port: HTTP_PORT,
      protocol: elbv2.ApplicationProtocol.HTTP,
      open: false,
      defaultAction: elbv2.ListenerAction.redirect({ protocol: 'HTTPS', port: String(HTTPS_PORT), permanent: true }),
    });
    this.testListener = this.alb.addListener('GreenTest', {
      port: TEST_PORT,
      protocol: elbv2.ApplicationProtocol.HTTPS,
      certificates,
      sslPolicy: SSL_POLICY,
      open: false,
      defaultAction: elbv2.ListenerAction.forward([this.targetGroups.green]),
    });
  }

  /**
   * Shift traffic: ModifyListener on the HTTPS listener only, plus the ELB Describe calls, which have no
   * resource-level permissions.
   */
  grantShiftTraffic(grantee: iam.IGrantable): iam.Grant {
    return combine(
      allow(grantee, ['elasticloadbalancing:ModifyListener'], [this.httpsListener.listenerArn]),
      allow(
        grantee,
        [
          'elasticloadbalancing:DescribeListeners',
          'elasticloadbalancing:DescribeLoadBalancers',
          'elasticloadbalancing:DescribeRules',
          'elasticloadbalancing:DescribeTags',
          'elasticloadbalancing:DescribeTargetGroups',
          'elasticloadbalancing:DescribeTargetHealth',
        ],
        ['*'],
      ),
    );
  }
}
