/**
 * No `*` action anywhere: aws-cdk-lib adds a few resource-policy statements of its own with wildcard actions
 * (the Secrets Manager key grant, the auto-delete-objects bucket policy). These resource classes rewrite such
 * statements to the exact actions, and fail the synth on a wildcard they do not know, so a library upgrade
 * cannot widen a policy silently.
 */
import { type IResolvable, type IResolveContext, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';

/**
 * The exact actions each wildcard stands for where aws-cdk-lib uses it. For S3 these are the calls of CDK's
 * auto-delete-objects handler (GetBucketPolicy/PutBucketPolicy, GetBucketTagging, ListObjectVersions,
 * DeleteObjects on versions); for KMS, the data-key and re-encrypt operations of a symmetric key.
 */
export const WILDCARD_EXPANSIONS: Readonly<Record<string, readonly string[]>> = {
  's3:GetBucket*': ['s3:GetBucketPolicy', 's3:GetBucketTagging'],
  's3:List*': ['s3:ListBucket', 's3:ListBucketVersions'],
  's3:DeleteObject*': ['s3:DeleteObject', 's3:DeleteObjectVersion'],
  'kms:ReEncrypt*': ['kms:ReEncryptFrom', 'kms:ReEncryptTo'],
  'kms:GenerateDataKey*': ['kms:GenerateDataKey', 'kms:GenerateDataKeyWithoutPlaintext'],
};

export function isWildcardAction(action: string): boolean {
  return action.includes('*');
}

/**
 * The statement with every wildcard action replaced by its expansion. Deny statements are kept as they are:
 * a wider Deny only forbids more (e.g. CDK's deny of `s3:*` without TLS).
 */
export function explicitStatement(statement: iam.PolicyStatement): iam.PolicyStatement {
  if (statement.effect === iam.Effect.DENY || !statement.actions.some(isWildcardAction)) return statement;
  const actions = statement.actions.flatMap((a) => {
    if (!isWildcardAction(a)) return [a];
    const expanded = WILDCARD_EXPANSIONS[a];
    if (!expanded)
      throw new Error(
        `aws-cdk-lib added the wildcard action ${a} to a resource policy: add its exact actions to WILDCARD_EXPANSIONS in src/infra/explicit-actions.ts.`,
      );
    return [...expanded];
  });
  return statement.copy({ actions: [...new Set(actions)] });
}

/** A KMS key whose policy never allows a wildcard action. */
export class ExplicitKey extends kms.Key {
  override addToResourcePolicy(statement: iam.PolicyStatement, allowNoOp?: boolean): iam.AddToResourcePolicyResult {
    return super.addToResourcePolicy(explicitStatement(statement), allowNoOp);
  }
}

interface StatementJson {
  Effect?: string;
  Action?: string | string[];
  [key: string]: unknown;
}

/** The same rewrite on a resolved policy document (JSON), for statements added below the L2 API. */
export function explicitPolicyJson(doc: { Statement?: StatementJson[]; [key: string]: unknown }): typeof doc {
  const statements = (doc.Statement ?? []).map((st) => {
    if (st.Effect === 'Deny' || st.Action === undefined) return st;
    const actions = Array.isArray(st.Action) ? st.Action : [st.Action];
    if (!actions.some(isWildcardAction)) return st;
    return { ...st, Action: explicitStatement(new iam.PolicyStatement({ actions })).actions };
  });
  return { ...doc, Statement: statements };
}

/**
 * An S3 bucket whose policy never allows a wildcard action. CDK's auto-delete-objects mixin adds its statement
 * through the L1 bucket rather than this class, so the rewrite happens when the policy document is rendered.
 */
export class ExplicitBucket extends s3.Bucket {
  constructor(scope: Construct, id: string, props: s3.BucketProps) {
    super(scope, id, props);
    const policy = this.policy;
    if (!policy) return;
    const cfn = policy.node.defaultChild as s3.CfnBucketPolicy;
    const document = policy.document;
    const rendered: IResolvable = {
      creationStack: [],
      resolve: (ctx: IResolveContext) => explicitPolicyJson(ctx.resolve(document) as { Statement?: StatementJson[] }),
      toString: () => Token.asString(rendered),
    };
    cfn.policyDocument = rendered;
  }
}
