/**
 * Access to validation reports for the commands that gate on them (promote, status, db cutover): the latest
 * report in the artifacts bucket, a fresh run through the deployed validator Lambda, and `schemaVerdict`, the one
 * reading of a report (verdicts, counts, rollback blockers) those commands share instead of counting themselves.
 */
import { BgmigError, ExitCode, messageOf } from '../core/errors.js';
import { ArtifactKeys, OutputKey } from '../core/outputs.js';
import { LambdaFunctionInvoker } from '../remote/function-invoker.js';
import { type RollbackBlocker, rollbackBlockers, type Severity, type ValidationReport, type ValidatorEvent, type Verdict } from '../schema/report.js';
import type { AwsClients } from '../aws/clients.js';
import { output, type StackInfo } from './stack.js';

/** What the validator Lambda accepts (all optional); defined next to the report so the handler shares it. */
export type { RollbackBlocker, ValidatorEvent };

/** What a gate or `status` needs from a validation report, read one way everywhere. */
export interface SchemaVerdict {
  /** The blue application on green's schema: `none` when no report exists. */
  verdict: Verdict | 'none';
  /** Differences per severity of that direction (after ignoring), computed when an old report lacks `totals`. */
  totals: Record<Severity, number>;
  /**
   * Green's writes back into blue's schema (what `db cutover` weighs): `unknown` when the report has none (no
   * report, an error report, or one from a bgmig older than the rollback verdict).
   */
  rollback: Verdict | 'unknown';
  /** The columns that make rollback after cutover impossible once green uses them; undefined when `rollback` is unknown. */
  blockers: RollbackBlocker[] | undefined;
  generatedAt: string | null;
  /** One line for status and refusals: `incompatible (2 breaking, 1 risky); rollback blocked by 1 blocker(s): public.ticket.subject (2026-…)`. */
  summary: string;
}

/** Reads a report (or its absence) into the verdicts promote, db cutover and status gate on. Pure. */
export function schemaVerdict(report: ValidationReport | undefined): SchemaVerdict {
  if (!report) {
    return {
      verdict: 'none',
      totals: { breaking: 0, risky: 0, safe: 0 },
      rollback: 'unknown',
      blockers: undefined,
      generatedAt: null,
      summary: 'no validation report: run `bgmig validate`',
    };
  }
  const totals = report.totals ?? { breaking: 0, risky: 0, safe: 0 };
  if (!report.totals) for (const d of report.differences) totals[d.severity]++;
  const blockers = rollbackBlockers(report);
  const rollback: SchemaVerdict['rollback'] = blockers === undefined ? 'unknown' : (report.rollback?.verdict ?? 'unknown');
  const forward =
    report.verdict === 'error' ? `error (${report.error ?? 'no detail'})` : `${report.verdict} (${totals.breaking} breaking, ${totals.risky} risky)`;
  const back =
    rollback === 'unknown'
      ? 'rollback not judged'
      : blockers && blockers.length > 0
        ? `rollback blocked by ${blockers.length} blocker(s): ${blockers
            .slice(0, 3)
            .map((b) => (b.column === null ? b.table : `${b.table}.${b.column}`))
            .join(', ')}${blockers.length > 3 ? ', …' : ''}`
        : 'rollback possible';
  return { verdict: report.verdict, totals, rollback, blockers, generatedAt: report.generatedAt, summary: `${forward}; ${back} (${report.generatedAt})` };
}

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
    throw new BgmigError(
      `The validator function ${fn} returned no report (${messageOf(e)}; got "${text.slice(0, 80)}"): check that it is deployed and runnable.`,
      ExitCode.Failure,
    );
  }
  if (!isReport(parsed)) {
    throw new BgmigError(
      `The validator function ${fn} returned something that is not a validation report: redeploy the stack with this bgmig version.`,
      ExitCode.Failure,
    );
  }
  return parsed;
}
