/**
 * The one name both services use for the database: a CNAME in a private hosted zone attached to the VPC,
 * pointing at the active cluster's writer endpoint. A cutover moves every application at once by UPSERTing this
 * record; the 5-second TTL bounds how long a client keeps resolving the old writer.
 */
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { Construct } from 'constructs';
import { allow, combine } from '../grants.js';
import { DB_RECORD_TTL_SECONDS } from '../../core/config.js';
import type { Names } from '../../core/naming.js';

export interface PrivateDnsProps {
  /** Every resource name of this stack (`names(suffix)`). */
  readonly names: Names;
  /** The stack VPC. */
  readonly vpc: ec2.IVpc;
  /** The writer endpoint host name of the active cluster (deploy passes the live choice). */
  readonly activeWriterEndpoint: string;
}

export class PrivateDns extends Construct {
  readonly zone: route53.PrivateHostedZone;
  readonly record: route53.CnameRecord;
  /** Fully qualified, lower case, no trailing dot: the form Route 53's IAM condition keys compare against. */
  readonly recordName: string;

  constructor(scope: Construct, id: string, props: PrivateDnsProps) {
    super(scope, id);
    const n = props.names;
    this.recordName = n.dbRecord.toLowerCase();
    this.zone = new route53.PrivateHostedZone(this, 'Zone', {
      zoneName: n.hostedZone,
      vpc: props.vpc,
      comment: `bgmig ${n.suffix}: the application's database name`,
    });
    this.zone.applyRemovalPolicy(RemovalPolicy.DESTROY);
    this.record = new route53.CnameRecord(this, 'DbRecord', {
      zone: this.zone,
      recordName: `${this.recordName}.`,
      domainName: props.activeWriterEndpoint,
      ttl: Duration.seconds(DB_RECORD_TTL_SECONDS),
      comment: 'bgmig: the active database writer (changed by bgmig db cutover/rollback)',
    });
    this.record.applyRemovalPolicy(RemovalPolicy.DESTROY);
  }

  get zoneArn(): string {
    return Stack.of(this).formatArn({ service: 'route53', region: '', account: '', resource: 'hostedzone', resourceName: this.zone.hostedZoneId });
  }

  /**
   * UPSERT of exactly the db record, as a CNAME (Route 53's record-level condition keys), and GetChange to wait
   * for INSYNC. Change ids are only known at run time, so GetChange is scoped to the change resource type.
   */
  grantUpsertDbRecord(grantee: iam.IGrantable): iam.Grant {
    return combine(
      allow(grantee, ['route53:ChangeResourceRecordSets'], [this.zoneArn], {
        'ForAllValues:StringEquals': {
          'route53:ChangeResourceRecordSetsNormalizedRecordNames': [this.recordName],
          'route53:ChangeResourceRecordSetsRecordTypes': ['CNAME'],
          'route53:ChangeResourceRecordSetsActions': ['UPSERT'],
        },
      }),
      allow(grantee, ['route53:GetChange'], [Stack.of(this).formatArn({ service: 'route53', region: '', account: '', resource: 'change', resourceName: '*' })]),
      this.grantRead(grantee),
    );
  }

  /** Read the zone and its records (status shows where the record points). */
  grantRead(grantee: iam.IGrantable): iam.Grant {
    return allow(grantee, ['route53:GetHostedZone', 'route53:ListResourceRecordSets'], [this.zoneArn]);
  }
}
