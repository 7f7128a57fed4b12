/**
 * Customer-managed KMS keys, one per purpose (Aurora storage, Secrets Manager, S3) — and no others: log groups,
 * SNS and ECS use AWS-owned encryption so that destroying the stack never strands data behind a key.
 */
import { Aws, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { allow } from '../grants.js';
import type { Names } from '../../core/naming.js';
import { ExplicitKey } from '../explicit-actions.js';

export type KeyPurpose = 'aurora' | 'secrets' | 's3';

/** The AWS service that uses each key on a caller's behalf (the kms:ViaService condition of every grant). */
const VIA_SERVICE: Record<KeyPurpose, string> = { aurora: 'rds', secrets: 'secretsmanager', s3: 's3' };

/**
 * Key administration and use for the account, spelled out action by action: CDK's default key policy grants
 * `kms:*`, and this stack has no `*` action anywhere. The account root principal delegates to IAM, so the
 * deploying role keeps control (and CloudFormation's lockout check passes).
 */
const ACCOUNT_KEY_ACTIONS = [
  'kms:CancelKeyDeletion',
  'kms:CreateAlias',
  'kms:CreateGrant',
  'kms:Decrypt',
  'kms:DeleteAlias',
  'kms:DescribeKey',
  'kms:DisableKey',
  'kms:DisableKeyRotation',
  'kms:EnableKey',
  'kms:EnableKeyRotation',
  'kms:Encrypt',
  'kms:GenerateDataKey',
  'kms:GenerateDataKeyWithoutPlaintext',
  'kms:GetKeyPolicy',
  'kms:GetKeyRotationStatus',
  'kms:ListAliases',
  'kms:ListGrants',
  'kms:ListKeyPolicies',
  'kms:ListKeyRotations',
  'kms:ListResourceTags',
  'kms:PutKeyPolicy',
  'kms:ReEncryptFrom',
  'kms:ReEncryptTo',
  'kms:RetireGrant',
  'kms:RevokeGrant',
  'kms:RotateKeyOnDemand',
  'kms:ScheduleKeyDeletion',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:UpdateAlias',
  'kms:UpdateKeyDescription',
];

export interface KeysProps {
  /** Every resource name of this stack (`names(suffix)`). */
  readonly names: Names;
}

export class Keys extends Construct {
  readonly aurora: kms.Key;
  readonly secrets: kms.Key;
  readonly s3: kms.Key;

  constructor(scope: Construct, id: string, props: KeysProps) {
    super(scope, id);
    const make = (purpose: KeyPurpose): ExplicitKey => {
      const policy = new iam.PolicyDocument({
        statements: [
          new iam.PolicyStatement({
            sid: 'AccountAdministersAndUsesThroughIam',
            principals: [new iam.AccountRootPrincipal()],
            actions: ACCOUNT_KEY_ACTIONS,
            // In a key policy "*" means this key itself.
            resources: ['*'],
          }),
        ],
      });
      return new ExplicitKey(this, `${purpose[0].toUpperCase()}${purpose.slice(1)}Key`, {
        alias: props.names.kmsAlias(purpose),
        description: `bgmig ${purpose} encryption (${props.names.stack})`,
        enableKeyRotation: true,
        policy,
        // The key goes with the stack; 7 days is the shortest window KMS allows to cancel a mistaken destroy.
        pendingWindow: Duration.days(7),
        removalPolicy: RemovalPolicy.DESTROY,
      });
    };
    this.aurora = make('aurora');
    this.secrets = make('secrets');
    this.s3 = make('s3');
  }

  key(purpose: KeyPurpose): kms.Key {
    return this[purpose];
  }

  /**
   * Lets a principal use a key only through the service it belongs to (Secrets Manager, S3, RDS): decrypt, and
   * with `encrypt` also generate data keys (writing secrets or objects).
   */
  grantUse(purpose: KeyPurpose, grantee: iam.IGrantable, opts: { encrypt: boolean }): iam.Grant {
    return allow(grantee, opts.encrypt ? ['kms:Decrypt', 'kms:GenerateDataKey'] : ['kms:Decrypt'], [this.key(purpose).keyArn], {
      StringEquals: { 'kms:ViaService': `${VIA_SERVICE[purpose]}.${Aws.REGION}.amazonaws.com` },
    });
  }
}
