/**
 * `bgmig db cutover`: make green the active database. The schema gate and the way back are asked here (shared with
 * `db rollback` in ./switchover-gates.ts), the write pause is the engine's (src/replication/switchover.ts).
 *
 * The verb shape (src/cli/verb.ts), with one addition to the default runF: an aborted cutover is a result (the
 * report says what was undone) and a failure at once, so it is written as every error is (verb.ts `emit` with
 * abortFailure: the report, its cause on stderr; with --json one error document carrying the report), exit 1.
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

export interface DbCutoverOptions extends SwitchoverCommandOptions {
  /** --skip-validation: no schema gate and no way-back gate (a loud warning). */
  skipValidation: boolean;
  /** --accept-rollback-risk, split at commas: the rollback blockers the operator accepts (undefined: not given). */
  acceptRollbackRisk?: string[] | undefined;
}

/** Runs the cutover (gates, confirmation, the engine's pause); see runSwitchover for what it throws. */
export async function runDbCutover(opts: DbCutoverOptions, deps: DbDeps): Promise<SwitchReport> {
  return runSwitchover(opts, { op: 'cutover', skipValidation: opts.skipValidation, acceptRollbackRisk: opts.acceptRollbackRisk }, deps);
}

export const renderDbCutover: Render<SwitchReport> = renderSwitchReport;

/** 1 when the cutover aborted (undone: blue still active), else 0. */
export const exitCodeOf = switchoverExitCode;

/** Flags → options (exit 2 before anything is reached); `suffix` is --suffix/BGMIG_SUFFIX as given. */
export function dbCutoverOptions(flags: DbCutoverFlags, suffix: string | undefined): DbCutoverOptions {
  return {
    ...parseSwitchoverFlags(flags, suffix),
    skipValidation: flags.skipValidation ?? false,
    ...(flags.acceptRollbackRisk !== undefined ? { acceptRollbackRisk: flags.acceptRollbackRisk.split(',') } : {}),
  };
}

export type DbCutoverFlags = SwitchoverFlags & { skipValidation?: boolean | undefined; acceptRollbackRisk?: string | undefined };

/** The default runF: run, print the report (an aborted one as an error), exit code. */
export const dbCutoverAction: RunF<DbCutoverOptions> = async (opts, ctx) =>
  emit(ctx.io, await runDbCutover(opts, ctx), renderDbCutover, exitCodeOf, abortFailure);

export function register(db: Command, runF: RunF<DbCutoverOptions> = dbCutoverAction): void {
  switchoverCommand(
    db,
    'cutover',
    'make green the active database: [hold poolers,] fence blue, drain, sequences, reverse replication, unfence green, then the switch (undone on any failure before the unfence)',
  )
    .option('--skip-validation', 'do not run the schema validation gate (loud warning)', false)
    .option(
      '--accept-rollback-risk <columns>',
      'comma-separated columns (schema.table.column) whose green values blue cannot hold: accept that rollback stops once green writes them (recorded in the report)',
    )
    .addHelpText(
      'after',
      `\nExamples:\n  $ bgmig db cutover --suffix shop-prod --max-pause 5s --yes\n  $ BGMIG_BLUE_URL=postgres://… BGMIG_GREEN_URL=postgres://… bgmig db cutover --on-switch './repoint.sh' --yes\n  $ BGMIG_POOLER_PASSWORD=… bgmig db cutover --pooler postgres://pgbouncer@pool-a:6432/pgbouncer --pooler postgres://pgbouncer@pool-b:6432/pgbouncer --yes\n  $ bgmig db cutover --suffix shop-prod --accept-rollback-risk public.ticket.subject,public.ticket.state --yes   # after reading what blocks the way back`,
    )
    .action(action<DbCutoverFlags>(async (ctx, o) => runF(dbCutoverOptions(o, o.suffix), ctx)));
}
