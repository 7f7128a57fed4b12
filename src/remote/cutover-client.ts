/**
 * AWS mode of `bgmig db`: an Executor that runs every operation in the cutover function `lambda-db-cutover-{s}`
 * (RequestResponse, payload `{operation, options}`), decodes its report and turns every way an invocation can go
 * wrong into one sentence:
 * - the function answered `{ok: false, error}` (an operation failure, refusal or bad input): rethrown as a
 *   BgmigError with the same message, exit code and details;
 * - Lambda reported a FunctionError (the function crashed, timed out or could not load): "crashed … see its logs";
 * - the payload is not a result at all (an emulator that cannot run code answers "Handled error running docker"):
 *   "returned no result";
 * - the function does not exist: "deploy the stack".
 * The invocation and its decoding are shared with the rotation (src/remote/function-invoker.ts), whose steps for the
 * application secret (CutoverAppPasswordApplier, CutoverAppLoginTester) are also here.
 * Progress events the function collected are replayed to the caller's progress callback. The switch is made by the
 * function itself (Route 53), so `onSwitch` is not called here.
 */
import { ExitCode, failure, messageOf, restate, withExitCode } from '../core/errors.js';
import { names } from '../core/naming.js';
import { OutputKey } from '../core/outputs.js';
import { sleep } from '../core/sleep.js';
import {
  type ActiveReport,
  type CheckAppLoginOptions,
  type CheckAppLoginReport,
  type SetAppPasswordOptions,
  type SetAppPasswordReport,
  type CutoverOperation,
  type CutoverOperations,
  type CutoverSuccess,
  type InitOptions,
  isCutoverResult,
} from './db-cutover-contract.js';
import type { AppRoleReport } from '../dbinit/app-role.js';
import type {
  Callbacks,
  SwitchoverOptions,
  Executor,
  ProgressEvent,
  SwitchCallbacks,
  SwitchReport,
  SyncStartOptions,
  SyncStartReport,
  SyncStatusOptions,
  SyncStatusReport,
  SyncRefreshOptions,
  SyncRefreshReport,
  SyncStopOptions,
  SyncStopReport,
} from '../replication/api.js';
import { REPLICATION_DEFAULTS } from '../replication/api.js';
import type { AwsPorts, Functions } from '../aws/ports.js';
import { output, type StackInfo } from '../deployed/stack.js';
import type { Credentials, LoginResult, LoginTester, PasswordApplier } from '../rotation/targets.js';
import { type CallDescription, invokeFor } from './function-invoker.js';

export interface RemoteExecutorOptions {
  /** How events reach the function: Lambda's Invoke API (AwsPorts.functions); tests route them in-process. */
  functions: Functions;
  /** What failure messages advise instead of the `bgmig db` defaults (the rotation's operations say "re-run the rotation"). */
  advice?: Partial<Pick<CallDescription, 'crashed' | 'timedOut' | 'busy'>> | undefined;
  functionName: string;
  /** For messages: where the function logs (log-lambda-db-cutover-{s}). */
  logGroup?: string | undefined;
  /** Writer endpoints, for describe(). */
  endpoints?: { blue: string; green: string } | undefined;
  /** Poll interval while waiting for an initial copy (default 2 s). */
  pollMs?: number | undefined;
}

export class RemoteExecutor implements Executor {
  readonly mode = 'aws' as const;
  private readonly o: RemoteExecutorOptions;

  constructor(options: RemoteExecutorOptions) {
    this.o = options;
  }

  describe(): { blue: string; green: string } {
    const via = `via ${this.o.functionName}`;
    return { blue: `${this.o.endpoints?.blue ?? 'blue cluster'} (${via})`, green: `${this.o.endpoints?.green ?? 'green cluster'} (${via})` };
  }

  private where(): string {
    return this.o.logGroup ? `its CloudWatch logs (${this.o.logGroup})` : 'its CloudWatch logs';
  }

  /** Invokes one operation and returns the decoded success (throws one-sentence BgmigErrors otherwise). */
  async invoke<O extends CutoverOperation>(
    operation: O,
    options: CutoverOperations[O]['options'],
    progress?: Callbacks['progress'],
  ): Promise<CutoverSuccess<O>> {
    const fn = this.o.functionName;
    const parsed = await invokeFor(
      this.o.functions,
      fn,
      { operation, options },
      {
        fn: `The cutover function ${fn}`,
        operation,
        crashed: `see ${this.where()} and check \`bgmig db sync status\``,
        timedOut: 'check `bgmig db sync status`, then re-run the command to finish or undo it',
        busy: 'wait until the running operation ends, then check `bgmig db sync status`',
        ...this.o.advice,
      },
      isCutoverResult,
    );
    for (const ev of parsed.progress ?? []) progress?.(ev as ProgressEvent);
    if (!parsed.ok) {
      const code = ([0, 1, 2, 3] as number[]).includes(parsed.error.exitCode) ? (parsed.error.exitCode as ExitCode) : ExitCode.Failure;
      throw withExitCode(code, parsed.error.message, parsed.error.details);
    }
    if (parsed.operation !== operation) {
      throw failure(`The cutover function ${fn} answered a ${parsed.operation} result to a ${operation} request: redeploy the stack with this bgmig version.`);
    }
    return parsed as CutoverSuccess<O>;
  }

  async syncStart(opts: SyncStartOptions, cb: Callbacks = {}): Promise<SyncStartReport> {
    // The function returns once the subscription exists; the initial copy is watched from here (it may take hours).
    const res = await this.invoke('syncStart', { ...opts, waitForCopy: false }, cb.progress);
    const report = res.report;
    if (opts.waitForCopy === false || report.copy.finished) return report;
    const deadline = Date.now() + (opts.copyTimeoutMs ?? REPLICATION_DEFAULTS.copyTimeoutMs);
    const started = Date.now();
    for (;;) {
      const st = await this.syncStatus({});
      const total = st.tables.length || report.copy.tablesTotal;
      const done = st.tables.filter((t) => t.state === 'ready' || t.state === 'synced').length;
      cb.progress?.({ kind: 'copy', tablesDone: done, tablesTotal: total, rowsCopied: report.copy.rows, bytesCopied: report.copy.bytes });
      if (st.state === 'streaming' || (total > 0 && done === total)) {
        return {
          ...report,
          copy: { ...report.copy, finished: true, tablesDone: done, tablesTotal: total, durationMs: report.copy.durationMs + (Date.now() - started) },
        };
      }
      if (st.state === 'broken' || st.state === 'none' || st.state === 'stopped') {
        throw failure(
          `The initial copy did not complete (sync state ${st.state}${st.problems[0] ? `: ${st.problems[0]}` : ''}): see \`bgmig db sync status\`.`,
        );
      }
      if (Date.now() >= deadline) {
        throw failure(
          `The initial copy is still running after ${Math.round((Date.now() - started) / 1000)} s: follow it with \`bgmig db sync status --watch\`.`,
        );
      }
      await sleep(this.o.pollMs ?? 2_000);
    }
  }

  async syncStatus(opts: SyncStatusOptions): Promise<SyncStatusReport> {
    return (await this.invoke('syncStatus', opts)).report;
  }

  async syncStop(opts: SyncStopOptions, cb: Callbacks = {}): Promise<SyncStopReport> {
    return (await this.invoke('syncStop', opts, cb.progress)).report;
  }

  /** The function starts the copy of what it brings in; the copy is watched from here, as for syncStart (REPL-LIVE). */
  async syncRefresh(opts: SyncRefreshOptions, cb: Callbacks = {}): Promise<SyncRefreshReport> {
    const report = (await this.invoke('syncRefresh', { ...opts, waitForCopy: false }, cb.progress)).report;
    if (opts.waitForCopy === false || report.dryRun || !report.copy || report.copy.finished) return report;
    const deadline = Date.now() + (opts.copyTimeoutMs ?? REPLICATION_DEFAULTS.copyTimeoutMs);
    const started = Date.now();
    for (;;) {
      const st = await this.syncStatus({});
      const done = st.tables.filter((t) => t.state === 'ready' || t.state === 'synced').length;
      cb.progress?.({ kind: 'copy', tablesDone: done, tablesTotal: st.tables.length, rowsCopied: report.copy.rows, bytesCopied: report.copy.bytes });
      if (st.tables.length > 0 && done === st.tables.length) {
        return {
          ...report,
          copy: {
            ...report.copy,
            finished: true,
            tablesDone: done,
            tablesTotal: st.tables.length,
            durationMs: report.copy.durationMs + (Date.now() - started),
          },
        };
      }
      if (st.state === 'broken' || st.state === 'none' || st.state === 'stopped') {
        throw failure(
          `The copy of the refreshed tables did not complete (sync state ${st.state}${st.problems[0] ? `: ${st.problems[0]}` : ''}): see \`bgmig db sync status\`.`,
        );
      }
      if (Date.now() >= deadline) {
        throw failure(
          `The copy of the refreshed tables is still running after ${Math.round((Date.now() - started) / 1000)} s: follow it with \`bgmig db sync status --watch\`.`,
        );
      }
      await sleep(this.o.pollMs ?? 2_000);
    }
  }

  async cutover(opts: SwitchoverOptions, cb: SwitchCallbacks = {}): Promise<SwitchReport> {
    return (await this.invoke('cutover', opts, cb.progress)).report;
  }

  async rollback(opts: SwitchoverOptions, cb: SwitchCallbacks = {}): Promise<SwitchReport> {
    return (await this.invoke('rollback', opts, cb.progress)).report;
  }

  /** `bgmig db init` in AWS mode: the function reads the app secret (AWSCURRENT) and runs the role SQL. */
  async init(opts: InitOptions, cb: Callbacks = {}): Promise<AppRoleReport> {
    return (await this.invoke('init', opts, cb.progress)).report;
  }

  /** The Route 53 record as the function sees it. */
  async active(): Promise<ActiveReport> {
    return (await this.invoke('active', {})).report;
  }

  /** The rotation's set step for the app secret: the function applies that version on both clusters (both or neither). */
  async setAppPassword(opts: SetAppPasswordOptions): Promise<SetAppPasswordReport> {
    return (await this.invoke('setAppPassword', opts)).report;
  }

  /** The rotation's test step for the app secret: a login as the role on both clusters with that version. */
  async checkAppLogin(opts: CheckAppLoginOptions): Promise<CheckAppLoginReport> {
    return (await this.invoke('checkAppLogin', opts)).report;
  }
}

/** The remote executor of a deployed stack (function name and endpoints from its outputs). */
export function remoteExecutorFor(
  aws: Pick<AwsPorts, 'functions'>,
  stack: StackInfo,
  suffix: string,
  invoker?: Functions,
  advice?: RemoteExecutorOptions['advice'],
): RemoteExecutor {
  const functionName = output(stack, OutputKey.CutoverFunctionName);
  const blue = stack.outputs[OutputKey.BlueClusterEndpoint];
  const green = stack.outputs[OutputKey.GreenClusterEndpoint];
  return new RemoteExecutor({
    functions: invoker ?? aws.functions,
    functionName,
    logGroup: names(suffix).cutoverLogGroup,
    endpoints: blue && green ? { blue, green } : undefined,
    advice,
  });
}

/** The cutover function's application-password operations (the CLI's RemoteExecutor implements them). */
export interface AppPasswordOperations {
  setAppPassword(opts: SetAppPasswordOptions): Promise<SetAppPasswordReport>;
  checkAppLogin(opts: CheckAppLoginOptions): Promise<CheckAppLoginReport>;
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
      throw restate(
        `Version ${c.versionId} of the application secret was not applied (${why}): fix the cause and re-run the rotation, which uses the same version.`,
        e,
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
