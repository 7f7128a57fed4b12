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
 * The invocation and its decoding are shared with the rotation (src/remote/function-invoker.ts).
 * Progress events the function collected are replayed to the caller's progress callback. The switch is made by the
 * function itself (Route 53), so `onSwitch` is not called here.
 */
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { BgmigError, ExitCode } from '../core/errors.js';
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
} from '../remote/db-cutover-contract.js';
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
import type { AwsClients } from '../aws/clients.js';
import { type CallDescription, type FunctionInvoker, LambdaFunctionInvoker, invokeFor } from '../remote/function-invoker.js';
import { output, type StackInfo } from './stack.js';

export interface RemoteExecutorOptions {
  lambda: () => Promise<LambdaClient>;
  /** How events reach the function (default: Lambda's Invoke API through `lambda`); tests route them in-process. */
  invoker?: FunctionInvoker | undefined;
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
  private readonly invoker: FunctionInvoker;

  constructor(options: RemoteExecutorOptions) {
    this.o = options;
    this.invoker = options.invoker ?? new LambdaFunctionInvoker(options.lambda);
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
      this.invoker,
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
      throw new BgmigError(parsed.error.message, code, { details: parsed.error.details });
    }
    if (parsed.operation !== operation) {
      throw new BgmigError(
        `The cutover function ${fn} answered a ${parsed.operation} result to a ${operation} request: redeploy the stack with this bgmig version.`,
        ExitCode.Failure,
      );
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
        throw new BgmigError(
          `The initial copy did not complete (sync state ${st.state}${st.problems[0] ? `: ${st.problems[0]}` : ''}): see \`bgmig db sync status\`.`,
          ExitCode.Failure,
        );
      }
      if (Date.now() >= deadline) {
        throw new BgmigError(
          `The initial copy is still running after ${Math.round((Date.now() - started) / 1000)} s: follow it with \`bgmig db sync status --watch\`.`,
          ExitCode.Failure,
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
        throw new BgmigError(
          `The copy of the refreshed tables did not complete (sync state ${st.state}${st.problems[0] ? `: ${st.problems[0]}` : ''}): see \`bgmig db sync status\`.`,
          ExitCode.Failure,
        );
      }
      if (Date.now() >= deadline) {
        throw new BgmigError(
          `The copy of the refreshed tables is still running after ${Math.round((Date.now() - started) / 1000)} s: follow it with \`bgmig db sync status --watch\`.`,
          ExitCode.Failure,
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
  aws: AwsClients,
  stack: StackInfo,
  suffix: string,
  invoker?: FunctionInvoker,
  advice?: RemoteExecutorOptions['advice'],
): RemoteExecutor {
  const functionName = output(stack, OutputKey.CutoverFunctionName);
  const blue = stack.outputs[OutputKey.BlueClusterEndpoint];
  const green = stack.outputs[OutputKey.GreenClusterEndpoint];
  return new RemoteExecutor({
    lambda: () => aws.lambda(),
    invoker,
    functionName,
    logGroup: names(suffix).cutoverLogGroup,
    endpoints: blue && green ? { blue, green } : undefined,
    advice,
  });
}
