/**
 * `bgmig db rollback`: make blue the active database again, the mirror image of `db cutover`, with forward
 * replication re-established. In AWS mode it refuses while the green service takes traffic, unless --force (the
 * traffic gate, shared with cutover's gates in ./switchover-gates.ts).
 *
 * The verb shape (src/cli/verb.ts), with one addition to the default runF: an aborted rollback is a result and a
 * failure at once, so it is written as every error is (verb.ts `emit`
 * with abortFailure: the report, its cause on stderr; with --json one error document carrying the report), exit 1.
 */
import type { Command } from 'commander';
import type { SwitchReport } from '../../../replication/api.js';
import { action } from '../../context.js';
import { emit, type Render, type RunF } from '../../verb.js';
import type { DbDeps } from './common.js';
import {
  abortFailure,
  parseSwitchoverFlags,
  renderSwitchReport,
  runSwitchover,
  type SwitchoverCommandOptions,
  type SwitchoverFlags,
  switchoverCommand,
  switchoverExitCode,
} from './switchover-gates.js';

export interface DbRollbackOptions extends SwitchoverCommandOptions {
  /** --force: AWS mode, roll back even while the green service takes traffic. */
  force: boolean;
}

/** Runs the rollback (traffic gate, confirmation, the engine's pause); see runSwitchover for what it throws. */
export async function runDbRollback(opts: DbRollbackOptions, deps: DbDeps): Promise<SwitchReport> {
  return runSwitchover(opts, { op: 'rollback', force: opts.force }, deps);
}

export const renderDbRollback: Render<SwitchReport> = renderSwitchReport;

/** 1 when the rollback aborted (undone: green still active), else 0. */
export const exitCodeOf = switchoverExitCode;

/** Flags → options (exit 2 before anything is reached); `suffix` is --suffix/BGMIG_SUFFIX as given. */
export function dbRollbackOptions(flags: SwitchoverFlags & { force?: boolean | undefined }, suffix: string | undefined): DbRollbackOptions {
  return { ...parseSwitchoverFlags(flags, suffix), force: flags.force ?? false };
}

/** The default runF: run, print the report (an aborted one as an error), exit code. */
export const dbRollbackAction: RunF<DbRollbackOptions> = async (opts, ctx) =>
  emit(ctx.io, await runDbRollback(opts, ctx), renderDbRollback, exitCodeOf, abortFailure);

export function register(db: Command, runF: RunF<DbRollbackOptions> = dbRollbackAction): void {
  switchoverCommand(db, 'rollback', 'make blue the active database again: the mirror image of cutover, with forward replication re-established')
    .option('--force', 'AWS mode: roll back even while the green service takes traffic', false)
    .addHelpText(
      'after',
      `\nExamples:\n  $ bgmig rollback --suffix shop-prod && bgmig db rollback --suffix shop-prod --yes\n  $ BGMIG_BLUE_URL=postgres://… BGMIG_GREEN_URL=postgres://… bgmig db rollback --on-switch './repoint.sh' --yes`,
    )
    .action(action<SwitchoverFlags & { force: boolean }>(async (ctx, o) => runF(dbRollbackOptions(o, o.suffix), ctx)));
}
