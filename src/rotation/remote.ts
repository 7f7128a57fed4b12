/**
 * AWS-mode "set" and "test" that run inside bgmig's Lambda functions, because on AWS the clusters sit in isolated
 * subnets that only the functions reach, and so that no password travels in an event: each call names a secret
 * version (id and stage) and the function reads that version itself.
 *
 * - ValidatorLoginTester: a colour's master secret — the validator function's connection check
 *   (`{kind: 'connection-check', color, versionId, versionStage}`, src/schema/report.ts).
 * - CutoverAppPasswordApplier / CutoverAppLoginTester: the application secret (`--app`) — the cutover function's
 *   `setAppPassword` (both clusters, both or neither) and `checkAppLogin` operations
 *   (src/remote/db-cutover-contract.ts). Both clusters change in one call, so the rotation sees them as one DbSide.
 *
 * A function that cannot run (missing, crashed, an emulator answering "error running docker") throws one sentence;
 * a login the database refused is a LoginResult, so the rotation can offer its rollback.
 */
import type { Color } from '../core/naming.js';
import { BgmigError, ExitCode, failure, isBgmigError, messageOf } from '../core/errors.js';
import type { CheckAppLoginOptions, CheckAppLoginReport, SetAppPasswordOptions, SetAppPasswordReport } from '../remote/db-cutover-contract.js';
import { type FunctionInvoker, invokeFor } from '../remote/function-invoker.js';
import { type ConnectionCheckEvent, isConnectionCheckResult } from '../schema/report.js';
import { type Credentials, type LoginResult, type LoginTester, type PasswordApplier, type Settle, probeSettled } from './targets.js';

/** The cutover function's application-password operations (the CLI's RemoteExecutor implements them). */
export interface AppPasswordOperations {
  setAppPassword(opts: SetAppPasswordOptions): Promise<SetAppPasswordReport>;
  checkAppLogin(opts: CheckAppLoginOptions): Promise<CheckAppLoginReport>;
}

export interface ValidatorLoginTesterOptions {
  invoker: FunctionInvoker;
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

/** The rotation's wording for the cutover function's failures (its `bgmig db` advice does not apply here). */
export function rotationCutoverAdvice(logGroup: string): { crashed: string; timedOut: string; busy: string } {
  return {
    crashed: `see its CloudWatch logs (${logGroup}), then re-run the rotation (it resumes where it stopped)`,
    timedOut: 'check that it reaches both clusters on 5432, then re-run the rotation (it resumes where it stopped)',
    busy: 'wait until the running `bgmig db` operation ends, then re-run the rotation',
  };
}

/** The set step for the application secret: the cutover function applies the version on both clusters, both or neither. */
export class CutoverAppPasswordApplier implements PasswordApplier {
  readonly target: string;
  readonly call: string;
  constructor(
    private readonly executor: Pick<AppPasswordOperations, 'setAppPassword'>,
    functionName: string,
    clusters: string,
  ) {
    this.target = `${clusters} (through ${functionName})`;
    this.call = `lambda:Invoke ${functionName} {"operation":"setAppPassword","options":{"versionId":"<version>","versionStage":"<stage>"}} (the function reads that version and sets a SCRAM verifier on both clusters, both or neither)`;
  }

  async apply(c: Credentials): Promise<void> {
    let r: Awaited<ReturnType<typeof this.executor.setAppPassword>>;
    try {
      r = await this.executor.setAppPassword({ versionId: c.versionId, versionStage: c.stage });
    } catch (e) {
      // The function changes both clusters or neither (and says so when it could not undo one): add what to do.
      const why = messageOf(e).replace(/\.$/, '');
      throw new BgmigError(
        `Version ${c.versionId} of the application secret was not applied (${why}): fix the cause and re-run the rotation, which uses the same version.`,
        isBgmigError(e) ? e.exitCode : ExitCode.Failure,
        {
          cause: e,
        },
      );
    }
    if (r.versionId !== c.versionId) {
      throw failure(
        `The cutover function applied version ${r.versionId} of the application secret instead of ${c.versionId}: redeploy the stack with this bgmig version, then re-run the rotation.`,
      );
    }
  }
}

/** The test step for the application secret: a login as the role on both clusters, through the cutover function. */
export class CutoverAppLoginTester implements LoginTester {
  readonly target: string;
  readonly call: string;
  constructor(
    private readonly executor: Pick<AppPasswordOperations, 'checkAppLogin'>,
    functionName: string,
    clusters: string,
  ) {
    this.target = `${clusters} (through ${functionName})`;
    this.call = `lambda:Invoke ${functionName} {"operation":"checkAppLogin","options":{"versionId":"<version>","versionStage":"<stage>"}} (a login as the application role on both clusters)`;
  }

  async check(c: Credentials): Promise<LoginResult> {
    // setAppPassword is plain SQL, effective at once: no settling needed.
    const r = await this.executor.checkAppLogin({ versionId: c.versionId, versionStage: c.stage });
    if (r.versionId !== c.versionId) {
      throw failure(
        `The cutover function checked version ${r.versionId} of the application secret instead of ${c.versionId}: redeploy the stack with this bgmig version, then re-run the rotation.`,
      );
    }
    const sides = (['blue', 'green'] as const).flatMap((color) => {
      const check = r[color];
      return check.ok ? [] : [{ color, check }];
    });
    if (sides.length === 0) return { ok: true };
    return {
      ok: false,
      // Rejected anywhere: the clusters do not (both) hold this version — a rollback question, not a network one.
      rejected: sides.some((s) => s.check.rejected),
      reason: sides.map((s) => `${s.color}: ${s.check.error.replace(/\.$/, '')}`).join('; '),
    };
  }
}
