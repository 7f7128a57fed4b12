/** `bgmig db sync refresh`: bring tables and columns created on both sides since sync start into replication. */
import type { Command } from 'commander';
import { refused } from '../../../core/errors.js';
import { formatMs } from '../../../core/units.js';
import type { SyncRefreshReport } from '../../../replication/api.js';
import { action, collect } from '../../context.js';
import { emit, type RunF } from '../../verb.js';
import { type DbDeps, type ModeFlags, resolveMode, type Where, whereOf, withModeOptions, withProgress } from './common.js';

export interface DbSyncRefreshOptions {
  where: Where;
  /** --dry-run: only say what would be published and copied. */
  dryRun: boolean;
  /** --recopy (repeatable): replicated tables to copy again whole (schema.table). */
  recopy?: string[] | undefined;
}

/**
 * Refreshes the publication and copies what is new (after the confirmation, unless --dry-run). Returns the engine's
 * report; throws refused (exit 3) in AWS mode (not offered there yet) or for a cancelled prompt, a failure otherwise.
 */
export async function runDbSyncRefresh(opts: DbSyncRefreshOptions, deps: DbDeps): Promise<SyncRefreshReport> {
  const { io } = deps;
  const mode = await resolveMode(opts.where, deps.aws);
  const refresh = mode.executor.syncRefresh?.bind(mode.executor);
  if (!refresh) throw refused('`db sync refresh` runs in direct mode only for now (--blue-url/--green-url): the cutover function does not offer it yet.');
  if (
    !opts.dryRun &&
    !(await io.confirm(
      'Bring the tables and columns created since sync start into replication (tables with new columns are copied again on the passive side)?',
    ))
  ) {
    throw refused('Sync refresh cancelled: nothing was changed.');
  }
  return withProgress(io, (progress) => refresh({ dryRun: opts.dryRun, recopy: opts.recopy }, { progress }));
}

export function renderDbSyncRefresh(r: SyncRefreshReport): string {
  const dir = r.direction.replace('_to_', ' → ');
  if (r.added.length === 0 && r.recopied.length === 0) return `Replication ${dir} already carries every table and column in scope: nothing to refresh.`;
  const lines = [
    r.dryRun ? `Would refresh replication ${dir}:` : `Replication ${dir} refreshed:`,
    ...(r.added.length ? [`  new table(s) published and copied: ${r.added.join(', ')}`] : []),
    ...(r.recopied.length ? [`  table(s) copied again whole: ${r.recopied.join(', ')}`] : []),
  ];
  if (!r.dryRun && r.copy)
    lines.push(
      `  copy: ${r.copy.tablesDone}/${r.copy.tablesTotal} tables ready, ${r.subscriberRowsReplaced.toLocaleString('en-US')} row(s) on the passive side replaced by the copy, ${formatMs(r.copy.durationMs)}.`,
    );
  return lines.join('\n');
}

export function register(
  sync: Command,
  runF: RunF<DbSyncRefreshOptions> = async (opts, ctx) => emit(ctx.io, await runDbSyncRefresh(opts, ctx), renderDbSyncRefresh),
): void {
  withModeOptions(sync.command('refresh'))
    .description('bring tables and columns created on both sides since sync start into replication, copying what was written meanwhile')
    .option('--dry-run', 'only say what would be published and copied', false)
    .option(
      '--recopy <schema.table>',
      'also copy this replicated table again whole (repeatable), e.g. after a column was added with a volatile default',
      collect,
    )
    .addHelpText(
      'after',
      '\nExamples:\n  $ bgmig db sync refresh --dry-run\n  $ BGMIG_BLUE_URL=postgres://… BGMIG_GREEN_URL=postgres://… bgmig db sync refresh --yes',
    )
    .action(
      action<ModeFlags & { dryRun: boolean; recopy?: string[] }>(async (ctx, o) =>
        runF({ where: whereOf(o, o.suffix), dryRun: o.dryRun, ...(o.recopy !== undefined ? { recopy: o.recopy } : {}) }, ctx),
      ),
    );
}
