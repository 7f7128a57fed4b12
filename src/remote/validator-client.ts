/**
 * The client of the validator function (`lambda-schema-validator-{suffix}`): a fresh validation report for the
 * commands that gate on one (`bgmig validate`, promote, db cutover), and the rotation's test step for a colour's
 * master secret (its connection check: `{kind: 'connection-check', color, versionId, versionStage}`,
 * src/schema/report.ts), so that no password travels in an event — the function reads the named version itself.
 * Also the newest report the function stored in the artifacts bucket (`readLatestReport`); reading a report into
 * verdicts is src/schema/verdict.ts.
 */
import type { AwsPorts, Functions } from '../aws/ports.js';
import { output, type StackInfo } from '../deployed/stack.js';
import type { Color } from '../core/naming.js';
import { failure, messageOf } from '../core/errors.js';
import { isAwsError } from '../core/aws-error.js';
import { ArtifactKeys, OutputKey } from '../core/outputs.js';
import { type Credentials, type LoginResult, type LoginTester, type Settle, probeSettled } from '../rotation/targets.js';
import { type ConnectionCheckEvent, isConnectionCheckResult, type ValidationReport, type ValidatorEvent } from '../schema/report.js';
import { invokeFor } from './function-invoker.js';

export interface ValidatorLoginTesterOptions {
  invoker: Functions;
  /** lambda-schema-validator-{suffix}, from the stack output ValidatorFunctionName. */
  functionName: string;
  logGroup: string;
  color: Color;
  /** The cluster identifier, for messages. */
  cluster: string;
  /** Aurora applies a new master password a few seconds after the cluster reports available. */
  settle?: Settle;
}

/** The test step for a colour's master secret: the validator function logs in with the named version. */
export class ValidatorLoginTester implements LoginTester {
  readonly target: string;
  readonly call: string;
  constructor(private readonly o: ValidatorLoginTesterOptions) {
    this.target = `${o.cluster} (through ${o.functionName})`;
    this.call = `lambda:Invoke ${o.functionName} {"kind":"connection-check","color":"${o.color}","versionId":"<version>","versionStage":"<stage>"} (the function reads that version, logs in with TLS verified, SELECT 1)`;
  }

  async check(c: Credentials, opts: { settle: boolean } = { settle: false }): Promise<LoginResult> {
    const { o } = this;
    const event: ConnectionCheckEvent = { kind: 'connection-check', color: o.color, versionId: c.versionId, versionStage: c.stage };
    return probeSettled(o.settle ?? { attempts: 1, delayMs: 0 }, opts, async () => {
      const r = await invokeFor(
        o.invoker,
        o.functionName,
        event,
        {
          fn: `The validator function ${o.functionName}`,
          operation: 'connection-check',
          crashed: `see its CloudWatch logs (${o.logGroup}), then re-run the rotation (it resumes where it stopped)`,
          timedOut: `check that it reaches ${o.cluster} on 5432, then re-run the rotation (it resumes where it stopped)`,
          busy: 'wait a moment, then re-run the rotation (it resumes where it stopped)',
        },
        isConnectionCheckResult,
      );
      if (r.ok && r.versionId !== c.versionId) {
        throw failure(
          `The validator function ${o.functionName} checked version ${r.versionId} of the ${o.color} master secret instead of ${c.versionId}: redeploy the stack with this bgmig version, then re-run the rotation.`,
        );
      }
      return r.ok ? { ok: true } : { ok: false, rejected: r.rejected, reason: r.error };
    });
  }
}

/** Whether a parsed JSON document is a validation report (what the validator function writes and answers). */
export function isValidationReport(v: unknown): v is ValidationReport {
  const r = v as Partial<ValidationReport> | null;
  return !!r && typeof r === 'object' && (r.verdict === 'compatible' || r.verdict === 'incompatible' || r.verdict === 'error') && Array.isArray(r.differences);
}

/**
 * Invokes the deployed validator function (stack output ValidatorFunctionName) and returns its report (the function
 * also stores it as the latest). Fails with one sentence when the function failed or answered no report; SDK errors
 * (a missing function: ResourceNotFoundException) are thrown as is, for promote to turn into its own advice.
 */
export async function invokeValidator(aws: Pick<AwsPorts, 'functions'>, stack: StackInfo, event: ValidatorEvent = {}): Promise<ValidationReport> {
  const fn = output(stack, OutputKey.ValidatorFunctionName);
  // The shared transport; the decoding stays here because promote turns a missing function into its own advice.
  const { payload: text, functionError } = await aws.functions.invoke(fn, event);
  if (functionError) {
    throw failure(`The validator function ${fn} failed (${functionError}): see its CloudWatch logs (log-${fn}).`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw failure(`The validator function ${fn} returned no report (${messageOf(e)}; got "${text.slice(0, 80)}"): check that it is deployed and runnable.`);
  }
  if (!isValidationReport(parsed)) {
    throw failure(`The validator function ${fn} returned something that is not a validation report: redeploy the stack with this bgmig version.`);
  }
  return parsed;
}

/** The newest report in the stack's artifacts bucket, or undefined when none was ever written. */
export async function readLatestReport(aws: Pick<AwsPorts, 'objects'>, stack: StackInfo): Promise<ValidationReport | undefined> {
  const bucket = output(stack, OutputKey.ArtifactsBucketName);
  let body: string;
  try {
    body = (await aws.objects.get(bucket, ArtifactKeys.latestReport)).body ?? '';
  } catch (e) {
    if (isAwsError(e, 'NoSuchKey', 'NotFound')) return undefined;
    throw e;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw failure(`s3://${bucket}/${ArtifactKeys.latestReport} is not a validation report (invalid JSON): re-run \`bgmig validate\`.`);
  }
  if (!isValidationReport(parsed)) {
    throw failure(`s3://${bucket}/${ArtifactKeys.latestReport} is not a validation report: re-run \`bgmig validate\`.`);
  }
  return parsed;
}
