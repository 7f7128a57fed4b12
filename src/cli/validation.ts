/**
 * Access to validation reports for the commands that gate on them (promote, status, db cutover): the latest
 * report in the artifacts bucket, and a fresh run through the deployed validator Lambda.
 */
import { BgmigError, ExitCode, messageOf } from '../core/errors.js';
import { ArtifactKeys, OutputKey } from '../core/outputs.js';
import { LambdaFunctionInvoker } from '../remote/function-invoker.js';
import type { ValidationReport, ValidatorEvent } from '../schema/report.js';
import type { AwsClients } from './aws.js';
import { output, type StackInfo } from './stack.js';

/** What the validator Lambda accepts (all optional); defined next to the report so the handler shares it. */
export type { ValidatorEvent };

function isReport(v: unknown): v is ValidationReport {
  const r = v as Partial<ValidationReport> | null;
  return !!r && typeof r === 'object' && (r.verdict === 'compatible' || r.verdict === 'incompatible' || r.verdict === 'error') && Array.isArray(r.differences);
}

/** The newest report in the stack's artifacts bucket, or undefined when none was ever written. */
export async function readLatestReport(aws: AwsClients, stack: StackInfo): Promise<ValidationReport | undefined> {
  const bucket = output(stack, OutputKey.ArtifactsBucketName);
  const s3 = await aws.s3();
  const { GetObjectCommand } = await import('@aws-sdk/client-s3');
  let body: string;
  try {
    const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: ArtifactKeys.latestReport }));
    body = (await res.Body?.transformToString('utf8')) ?? '';
  } catch (e) {
    const name = (e as { name?: string }).name;
    if (name === 'NoSuchKey' || name === 'NotFound') return undefined;
    throw e;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new BgmigError(`s3://${bucket}/${ArtifactKeys.latestReport} is not a validation report (invalid JSON): re-run \`bgmig validate\`.`, ExitCode.Failure);
  }
  if (!isReport(parsed)) {
    throw new BgmigError(`s3://${bucket}/${ArtifactKeys.latestReport} is not a validation report: re-run \`bgmig validate\`.`, ExitCode.Failure);
  }
  return parsed;
}

/** Invokes the deployed validator Lambda and returns its report (the Lambda also stores it as the latest). */
export async function invokeValidator(aws: AwsClients, stack: StackInfo, event: ValidatorEvent = {}): Promise<ValidationReport> {
  const fn = output(stack, OutputKey.ValidatorFunctionName);
  // The shared transport; the decoding stays here because promote turns a missing function into its own advice.
  const { payload: text, functionError } = await new LambdaFunctionInvoker(() => aws.lambda()).invoke(fn, event);
  if (functionError) {
    throw new BgmigError(`The validator function ${fn} failed (${functionError}): see its CloudWatch logs (log-${fn}).`, ExitCode.Failure);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new BgmigError(`The validator function ${fn} returned no report (${messageOf(e)}; got "${text.slice(0, 80)}"): check that it is deployed and runnable.`, ExitCode.Failure);
  }
  if (!isReport(parsed)) {
    throw new BgmigError(`The validator function ${fn} returned something that is not a validation report: redeploy the stack with this bgmig version.`, ExitCode.Failure);
  }
  return parsed;
}
