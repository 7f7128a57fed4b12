/**
 * `bgmig db sync stop`: end replication on both sides; with one side down, clean the reachable side and name each
 * object left on the other with the statement that removes it.
 *
 * The verb shape (src/cli/verb.ts), with one addition to the default runF: a stop that left objects on an
 * unreachable side is a result (what was dropped, what is left) and an outage at once, so it is written as every error
 * is (verb.ts `emit` with leftBehindFailure: the report, the outage's sentence on stderr; with --json one error
 * document carrying the report), exit 1.
 */
import type { Command } from 'commander';
import { ExitCode, refused } from '../../../core/errors.js';
import type { SyncStopReport } from '../../../replication/api.js';
import { action } from '../../context.js';
import { emit, type FailureOf, type RunF } from '../../verb.js';
import { type DbDeps, type ModeFlags, resolveMode, type Where, whereOf, withModeOptions, withProgress } from './common.js';

export interface DbSyncStopOptions {
  where: Where;
  /** --unfence-passive: also lift the passive side's fence. */
  unfencePassive: boolean;
}

/**
 * Stops replication after the confirmation. Returns the engine's report (objects left on an unreachable side
 * included: exit 1, see exitCodeOf); throws refused (exit 3) for a cancelled prompt, a failure for other errors.
 */
export async function runDbSyncStop(opts: DbSyncStopOptions, deps: DbDeps): Promise<SyncStopReport> {
  const { io } = deps;
  const mode = await resolveMode(opts.where, deps.aws);
  if (!(await io.confirm('Stop replication and drop every bgmig subscription, slot and publication on both sides?'))) {
    throw refused('Sync stop cancelled: nothing was changed.');
  }
  return withProgress(io, (progress) => mode.executor.syncStop({ unfencePassive: opts.unfencePassive }, { progress }));
}

export function renderDbSyncStop(report: SyncStopReport): string {
  const other = report.active === 'blue' ? 'green' : 'blue';
  const left = report.left ?? [];
  return [
    `Replication ${left.length > 0 ? 'stopped on the reachable side only' : 'stopped'}. Dropped: ${[...report.dropped.subscriptions.map((x) => `subscription ${x}`), ...report.dropped.slots.map((x) => `slot ${x}`), ...report.dropped.publications.map((x) => `publication ${x}`)].join(', ') || 'nothing (none was left)'}.`,
    `${report.active} is the active database and writable.`,
    report.passiveFenced
      ? `${other} stays fenced (read-only for applications) so nobody writes to a copy that no longer receives changes; \`bgmig db sync stop --unfence-passive\` lifts it.`
      : `${other} is writable too: it no longer receives changes.`,
    ...left.map(
      (l) => `Left on ${l.side} (unreachable): ${l.object} — when ${l.side} is back run \`bgmig db sync stop\` again, or remove it there with: ${l.remove}`,
    ),
  ].join('\n');
}

/** An outage: what could be dropped was, and the rest is named with its removal (exit 1, never 0). */
export function exitCodeOf(report: SyncStopReport): ExitCode {
  return (report.left ?? []).length > 0 ? ExitCode.Failure : ExitCode.Ok;
}

/**
 * Objects left on an unreachable side are an outage as well as a result: its one sentence (code
 * "objects-left-behind"), else undefined.
 */
export const leftBehindFailure: FailureOf<SyncStopReport> = { sentence: leftBehindError, code: 'objects-left-behind' };

function leftBehindError(report: SyncStopReport): string | undefined {
  const left = report.left ?? [];
  if (left.length === 0) return undefined;
  return `${(report.unreachable ?? []).join(' and ')} could not be reached: ${left.length} replication object(s) are left there (listed above) — ${left.some((l) => l.object.startsWith('replication slot')) ? 'a slot retains WAL until it is dropped, so ' : ''}run \`bgmig db sync stop\` again once it is reachable.`;
}

/** Flags → options (exit 2 before anything is reached). */
export function dbSyncStopOptions(flags: ModeFlags & { unfencePassive?: boolean | undefined }): DbSyncStopOptions {
  return { where: whereOf(flags, flags.suffix), unfencePassive: flags.unfencePassive ?? false };
}

/** The default runF: run, print the report (an outage as an error), exit code. */
export const dbSyncStopAction: RunF<DbSyncStopOptions> = async (opts, ctx) =>
  emit(ctx.io, await runDbSyncStop(opts, ctx), renderDbSyncStop, exitCodeOf, leftBehindFailure);

export function register(sync: Command, runF: RunF<DbSyncStopOptions> = dbSyncStopAction): void {
  withModeOptions(sync.command('stop'))
    .description('end replication: drop subscriptions, slots and publications on both sides; the active side stays writable')
    .option('--unfence-passive', "also lift the passive side's fence", false)
    .addHelpText('after', '\nExample:\n  $ bgmig db sync stop --suffix shop-prod --yes')
    .action(action<ModeFlags & { unfencePassive: boolean }>(async (ctx, o) => runF(dbSyncStopOptions(o), ctx)));
}
