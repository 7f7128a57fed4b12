/**
 * Buckets: the artifacts bucket (validation reports under reports/, the cutover function's audit trail under journal/),
 * encrypted with the S3 key; and the access-logs bucket (ALB access logs and the artifacts bucket's server access
 * logs), SSE-S3 because ALB log delivery cannot write SSE-KMS objects. Both are emptied and deleted on destroy.
 */
import { Aws, Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { allow, combine } from '../grants.js';
import type { Names } from '../../core/naming.js';
import { ExplicitBucket } from '../explicit-actions.js';
import type { Keys } from './keys.js';

export const REPORTS_PREFIX = 'reports/';
export const JOURNAL_PREFIX = 'journal/';

export interface AccessLogsBucketProps {
  /** Every resource name of this stack (`names(suffix)`). */
  readonly names: Names;
}

export class AccessLogsBucket extends Construct {
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: AccessLogsBucketProps) {
    super(scope, id);
    this.bucket = new ExplicitBucket(this, 'Bucket', {
      bucketName: props.names.accessLogsBucket(Aws.ACCOUNT_ID, Aws.REGION),
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      // No ACLs: ALB log delivery and S3 server access logging are authorized by the bucket policy.
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ id: 'expire-logs', expiration: Duration.days(90), noncurrentVersionExpiration: Duration.days(7) }],
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: true,
    });
  }
}

export interface ArtifactsBucketProps {
  /** Every resource name of this stack (`names(suffix)`). */
  readonly names: Names;
  /** The customer-managed KMS keys (objects are encrypted with the s3 key). */
  readonly keys: Keys;
  /** The bucket that receives this resource's access logs. */
  readonly accessLogs: s3.IBucket;
}

export class ArtifactsBucket extends Construct {
  readonly bucket: s3.Bucket;
  private readonly keys: Keys;

  constructor(scope: Construct, id: string, props: ArtifactsBucketProps) {
    super(scope, id);
    this.keys = props.keys;
    this.bucket = new ExplicitBucket(this, 'Bucket', {
      bucketName: props.names.artifactsBucket(Aws.ACCOUNT_ID, Aws.REGION),
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: props.keys.s3,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      serverAccessLogsBucket: props.accessLogs,
      serverAccessLogsPrefix: 's3-access/artifacts/',
      // Old report and journal versions are only forensic once superseded.
      lifecycleRules: [{ id: 'expire-old-versions', noncurrentVersionExpiration: Duration.days(30) }],
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: true,
    });
  }

  private objects(prefix: string): string {
    return this.bucket.arnForObjects(`${prefix}*`);
  }

  private grantList(grantee: iam.IGrantable, prefixes: string[]): iam.Grant {
    return allow(grantee, ['s3:ListBucket'], [this.bucket.bucketArn], { StringLike: { 's3:prefix': prefixes.map((p) => `${p}*`) } });
  }

  /** The validator writes reports/latest.json and a timestamped copy. */
  grantWriteReports(grantee: iam.IGrantable): iam.Grant {
    return combine(allow(grantee, ['s3:PutObject'], [this.objects(REPORTS_PREFIX)]), this.keys.grantUse('s3', grantee, { encrypt: true }));
  }

  /** Operators and gates read the validation reports (reports/latest.json and the history). */
  grantReadReports(grantee: iam.IGrantable): iam.Grant {
    return combine(
      allow(grantee, ['s3:GetObject'], [this.objects(REPORTS_PREFIX)]),
      this.grantList(grantee, [REPORTS_PREFIX]),
      this.keys.grantUse('s3', grantee, { encrypt: false }),
    );
  }

  /**
   * The cutover function's audit trail: one object per state-changing operation. Append-only — the function never
   * reads or deletes it (a run's authoritative state lives in the databases' bgmig schema).
   */
  grantWriteJournal(grantee: iam.IGrantable): iam.Grant {
    return combine(allow(grantee, ['s3:PutObject'], [this.objects(JOURNAL_PREFIX)]), this.keys.grantUse('s3', grantee, { encrypt: true }));
  }

  /** Operators read the audit trail after an incident. */
  grantReadJournal(grantee: iam.IGrantable): iam.Grant {
    return combine(
      allow(grantee, ['s3:GetObject'], [this.objects(JOURNAL_PREFIX)]),
      this.grantList(grantee, [JOURNAL_PREFIX]),
      this.keys.grantUse('s3', grantee, { encrypt: false }),
    );
  }
}
