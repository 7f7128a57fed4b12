/** The pure parts of the checks: how a synth's reports become exit codes, and the wildcard-action rewrite. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as iam from 'aws-cdk-lib/aws-iam';
import { describe, expect, it } from 'vitest';
import { checkSynthResult } from '../../src/cli/cdk.js';
import { countResources, renderSynth } from '../../src/cli/commands/synth.js';
import { BgmigError, ExitCode } from '../../src/core/errors.js';
import { explicitPolicyJson, explicitStatement } from '../../src/infra/explicit-actions.js';
import { NAG_SUMMARY_FILE, VALIDATION_REPORT_FILE } from '../../src/infra/nag-summary.js';

function dirWith(files: Record<string, unknown>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'bgmig-checks-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(path.join(dir, name), JSON.stringify(content));
  return dir;
}

const cleanNag = {
  packs: [
    { name: 'AwsSolutions', violations: 0 },
    { name: 'NIST.800.53.R5', violations: 0 },
  ],
  acknowledgements: 12,
};

describe('synth verdict', () => {
  it('an unacknowledged cdk-nag finding fails the synth with exit 1 and one sentence naming the rule and the report', () => {
    const dir = dirWith({
      [NAG_SUMMARY_FILE]: {
        ...cleanNag,
        packs: [
          { name: 'AwsSolutions', violations: 1 },
          { name: 'NIST.800.53.R5', violations: 0 },
        ],
      },
      [VALIDATION_REPORT_FILE]: {
        pluginReports: [
          {
            pluginName: 'AwsSolutions',
            violations: [
              {
                ruleName: 'AwsSolutions-S1',
                description: 'no server access logs',
                violatingConstructs: [{ constructPath: 'bgmig-demo/Artifacts/Bucket/Resource' }],
              },
            ],
          },
        ],
      },
    });
    let err: unknown;
    try {
      checkSynthResult(dir, { nag: true });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BgmigError);
    const e = err as BgmigError;
    expect(e.exitCode).toBe(ExitCode.Failure);
    expect(e.message).toContain('AwsSolutions-S1');
    expect(e.message).toContain('bgmig-demo/Artifacts/Bucket/Resource');
    expect(e.message).toContain(path.join(dir, VALIDATION_REPORT_FILE));
    expect(e.message).not.toContain('\n');
  });

  it('a CloudFormation validation error fails the synth the same way', () => {
    const dir = dirWith({
      [VALIDATION_REPORT_FILE]: {
        pluginReports: [{ pluginName: 'CloudFormation Validate', violations: [{ ruleName: 'E3002', description: 'bad property' }] }],
      },
    });
    expect(() => checkSynthResult(dir, { nag: false })).toThrow(/failed 1 check\(s\) \(E3002; first at CloudFormation Validate\)/);
  });

  it('nag asked for but no summary written: the check cannot be claimed (exit 1)', () => {
    const dir = dirWith({});
    expect(() => checkSynthResult(dir, { nag: true })).toThrow(/cdk-nag left no nag-summary\.json/);
    expect(checkSynthResult(dir, { nag: false })).toEqual({ nag: undefined });
    expect(checkSynthResult(dirWith({ [NAG_SUMMARY_FILE]: cleanNag }), { nag: true }).nag).toEqual(cleanNag);
  });

  it('the summary counts resources by type, most frequent first', () => {
    const counted = countResources({ Resources: { a: { Type: 'AWS::S3::Bucket' }, b: { Type: 'AWS::IAM::Role' }, c: { Type: 'AWS::IAM::Role' } } });
    expect(counted).toEqual({ total: 3, byType: { 'AWS::IAM::Role': 2, 'AWS::S3::Bucket': 1 } });
    const text = renderSynth({
      stack: 'bgmig-demo',
      outdir: '/o',
      template: '/o/bgmig-demo.template.json',
      environment: 'dev',
      certificatePlaceholder: true,
      resources: counted,
      nag: { packs: ['AwsSolutions', 'NIST.800.53.R5'], unacknowledged: 0, acknowledged: 12 },
      templateValidation: 'off',
      durationMs: 4200,
    });
    expect(text.split('\n')).toEqual([
      'Synthesized bgmig-demo (dev) in 4.2 s',
      '  template: /o/bgmig-demo.template.json',
      '  cdk-nag (AwsSolutions, NIST.800.53.R5): 0 unacknowledged finding(s), 12 acknowledged with reasons',
      '  CDK template validation: skipped (use --validate; deploy always validates)',
      '  3 resources:',
      '    AWS::IAM::Role     2',
      '    AWS::S3::Bucket    1',
    ]);
  });
});

describe('no wildcard actions', () => {
  it("aws-cdk-lib's wildcard actions are rewritten to the exact actions; Deny statements stay as they are", () => {
    const st = explicitStatement(new iam.PolicyStatement({ actions: ['kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*'], resources: ['*'] }));
    expect(st.actions).toEqual(['kms:Decrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:GenerateDataKey', 'kms:GenerateDataKeyWithoutPlaintext']);
    const deny = new iam.PolicyStatement({ effect: iam.Effect.DENY, actions: ['s3:*'], resources: ['*'] });
    expect(explicitStatement(deny)).toBe(deny);
    const doc = explicitPolicyJson({
      Statement: [
        { Effect: 'Allow', Action: ['s3:GetBucket*', 's3:List*', 's3:DeleteObject*', 's3:PutBucketPolicy'] },
        { Effect: 'Deny', Action: 's3:*' },
      ],
    });
    expect(doc.Statement).toEqual([
      {
        Effect: 'Allow',
        Action: [
          's3:GetBucketPolicy',
          's3:GetBucketTagging',
          's3:ListBucket',
          's3:ListBucketVersions',
          's3:DeleteObject',
          's3:DeleteObjectVersion',
          's3:PutBucketPolicy',
        ],
      },
      { Effect: 'Deny', Action: 's3:*' },
    ]);
  });

  it('an unknown wildcard fails the synth instead of widening a policy silently', () => {
    expect(() => explicitStatement(new iam.PolicyStatement({ actions: ['s3:*'], resources: ['*'] }))).toThrow(/wildcard action s3:\* .*WILDCARD_EXPANSIONS/);
  });
});
