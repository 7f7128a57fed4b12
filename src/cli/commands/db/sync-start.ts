/** `bgmig db sync start`: preflight, publish on the active side, fence the other and subscribe it (initial copy). */
import type { Command } from 'commander';
import { refused } from '../../../core/errors.js';
import { formatBytes, formatMs, parseDuration } from '../../../core/units.js';
import { REPLICATION_DEFAULTS, type SyncStartReport } from '../../../replication/api.js';
import { action, collect } from '../../context.js';
import { emit, type RunF } from '../../verb.js';
import { type DbDeps, type ModeFlags, resolveMode, type Where, whereOf, withModeOptions, withProgress } from './common.js';

export interface DbSyncStartOptions {
  where: Where;
  /** --schema (repeatable): the application schemas to replicate (default public). */
  schemas: string[];
  /** --slot-wait in ms: how long creating the slot may wait for open transactions (undefined: the engine's 30 s). */
  slotWaitMs?: number | undefined;
}

/**
 * Starts replication from the active side after the confirmation. Returns the engine's report; throws refused
 * (exit 3) for a preflight refusal or a cancelled prompt, a failure (exit 1) for a database or AWS error.
 */
export async function runDbSyncStart(opts: DbSyncStartOptions, deps: DbDeps): Promise<SyncStartReport> {
  const { io } = deps;
  const mode = await resolveMode(opts.where, deps.aws);
  const d = mode.executor.describe();
  if (!(await io.confirm(`Start replicating schema ${opts.schemas.join(', ')} from ${d.blue} to ${d.green} (green becomes read-only for applications)?`))) {
    throw refused('Sync start cancelled: nothing was changed.');
  }
  io.info(`Starting replication (${mode.kind} mode): blue ${d.blue} → green ${d.green}`);
  return withProgress(io, (progress) => mode.executor.syncStart({ schemas: opts.schemas, slotWaitMs: opts.slotWaitMs }, { progress }));
}

export function renderDbSyncStart(report: SyncStartReport): string {
  return [
    `Replication ${report.direction.replace('_to_', ' → ')} is running: ${report.tables.length} table(s) via ${report.publication} / ${report.subscription}.`,
    `Initial copy: ${report.copy.finished ? 'finished' : 'running'} — ${report.copy.tablesDone}/${report.copy.tablesTotal} tables, ${report.copy.rows.toLocaleString('en-US')} rows, ${formatBytes(report.copy.bytes)} in ${formatMs(report.copy.durationMs)}.`,
    `${report.active} stays active and writable; the other side is fenced (read-only for applications). Next: \`bgmig validate\`, then \`bgmig db cutover\`.`,
  ].join('\n');
}

/** Flags → options: --slot-wait first, then where the databases are (exit 2 before anything is reached). */
export function dbSyncStartOptions(flags: ModeFlags & { schema?: string[] | undefined; slotWait?: string | undefined }): DbSyncStartOptions {
  const slotWaitMs = flags.slotWait !== undefined ? parseDuration(flags.slotWait, '--slot-wait') : undefined;
  const where = whereOf(flags, flags.suffix);
  const schemas = flags.schema && flags.schema.length > 0 ? flags.schema : [...REPLICATION_DEFAULTS.schemas];
  return { where, schemas, ...(slotWaitMs !== undefined ? { slotWaitMs } : {}) };
}

/** The default runF: run, print the report, exit 0. */
export const dbSyncStartAction: RunF<DbSyncStartOptions> = async (opts, ctx) => emit(ctx.io, await runDbSyncStart(opts, ctx), renderDbSyncStart);

export function register(sync: Command, runF: RunF<DbSyncStartOptions> = dbSyncStartAction): void {
  withModeOptions(sync.command('start'))
    .description('preflight, then publish the application schemas on the active side, fence the other and subscribe it (initial copy)')
    .option('--schema <name>', 'application schema to replicate (repeatable; default public)', collect)
    .option('--slot-wait <duration>', 'how long creating the replication slot may wait for transactions open on the active side (default 30s)')
    .addHelpText(
      'after',
      '\nExamples:\n  $ bgmig db sync start --suffix shop-prod --schema app --yes\n  $ BGMIG_BLUE_URL=postgres://… BGMIG_GREEN_URL=postgres://… bgmig db sync start --yes',
    )
    .action(action<ModeFlags & { schema?: string[]; slotWait?: string }>(async (ctx, o) => runF(dbSyncStartOptions(o), ctx)));
}
