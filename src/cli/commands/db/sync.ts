/** `bgmig db sync start | status | stop`. */
import type { Command } from 'commander';
import { ExitCode, refused } from '../../../core/errors.js';
import { formatBytes, formatMs, parseDuration, parseSize } from '../../../core/units.js';
import { REPLICATION_DEFAULTS, type SyncRefreshReport, type SyncStartReport, type SyncStopReport } from '../../../replication/api.js';
import { renderSyncStatus, statusExitCode } from '../../../replication/status.js';
import { reviewPoolers, withPoolerOptions, type PoolerCommandOptions } from '../../../pooler/cli.js';
import { action, collect, type CommandContext, toBgmigError } from '../../context.js';
import { type Observation, parseWatchFlags, runWatch, type WatchFlagValues } from '../../watch.js';
import { progressPrinter, resolveMode, withModeOptions, type ModeOptions } from './common.js';

export interface SyncStartCommandOptions extends ModeOptions {
  schema?: string[] | undefined;
  slotWait?: string | undefined;
}

export async function runSyncStart(ctx: CommandContext, opts: SyncStartCommandOptions): Promise<ExitCode> {
  const slotWaitMs = opts.slotWait !== undefined ? parseDuration(opts.slotWait, '--slot-wait') : undefined;
  const mode = await resolveMode(ctx, opts);
  const d = mode.executor.describe();
  const schemas = opts.schema && opts.schema.length > 0 ? opts.schema : [...REPLICATION_DEFAULTS.schemas];
  if (!(await ctx.io.confirm(`Start replicating schema ${schemas.join(', ')} from ${d.blue} to ${d.green} (green becomes read-only for applications)?`))) {
    throw refused('Sync start cancelled: nothing was changed.');
  }
  ctx.io.info(`Starting replication (${mode.kind} mode): blue ${d.blue} → green ${d.green}`);
  const p = progressPrinter(ctx.io);
  let report: SyncStartReport;
  try {
    report = await mode.executor.syncStart({ schemas, slotWaitMs }, { progress: p.progress });
  } finally {
    p.stop();
  }
  ctx.io.result(report, () =>
    [
      `Replication ${report.direction.replace('_to_', ' → ')} is running: ${report.tables.length} table(s) via ${report.publication} / ${report.subscription}.`,
      `Initial copy: ${report.copy.finished ? 'finished' : 'running'} — ${report.copy.tablesDone}/${report.copy.tablesTotal} tables, ${report.copy.rows.toLocaleString('en-US')} rows, ${formatBytes(report.copy.bytes)} in ${formatMs(report.copy.durationMs)}.`,
      `${report.active} stays active and writable; the other side is fenced (read-only for applications). Next: \`bgmig validate\`, then \`bgmig db cutover\`.`,
    ].join('\n'),
  );
  return ExitCode.Ok;
}

export interface SyncStatusCommandOptions extends ModeOptions, PoolerCommandOptions, WatchFlagValues {
  maxLag?: string | undefined;
  /** Aborts --watch (Ctrl-C; the CLI wires SIGINT). */
  signal?: AbortSignal | undefined;
  /** Stop after this many rounds (tests). */
  maxRounds?: number | undefined;
}

export async function runSyncStatus(ctx: CommandContext, opts: SyncStatusCommandOptions): Promise<ExitCode> {
  const maxLagBytes = opts.maxLag !== undefined ? parseSize(opts.maxLag, '--max-lag') : REPLICATION_DEFAULTS.maxLagBytes;
  // The one --watch contract (src/cli/watch.ts), shared with `bgmig status --watch`.
  const w = parseWatchFlags(opts, ctx.io, { intervalSeconds: 2 });
  const mode = await resolveMode(ctx, opts);
  const read = async (): Promise<Observation> => {
    const report = await mode.executor.syncStatus({ maxLagBytes });
    // A pooler bgmig left held (a killed switch) is resumed here when safe, and shown as degraded while it is not.
    if (mode.kind === 'direct') await reviewPoolers(opts, mode.targets, report, (level, text) => (level === 'warn' ? ctx.io.warn(text) : ctx.io.info(text)));
    return { result: report, text: renderSyncStatus(report), exitCode: statusExitCode(report) };
  };
  if (!w.watch) {
    const o = await read();
    ctx.io.result(o.result, () => o.text);
    return o.exitCode;
  }
  return runWatch(
    read,
    ctx.io,
    { intervalMs: w.intervalMs, until: w.until, timeoutMs: w.timeoutMs, signal: opts.signal, maxRounds: opts.maxRounds, subject: 'replication' },
    (e) => toBgmigError(e, ctx),
  );
}

export interface SyncStopCommandOptions extends ModeOptions {
  unfencePassive?: boolean | undefined;
}

export async function runSyncStop(ctx: CommandContext, opts: SyncStopCommandOptions): Promise<ExitCode> {
  const mode = await resolveMode(ctx, opts);
  if (!(await ctx.io.confirm('Stop replication and drop every bgmig subscription, slot and publication on both sides?'))) {
    throw refused('Sync stop cancelled: nothing was changed.');
  }
  const p = progressPrinter(ctx.io);
  let report: SyncStopReport;
  try {
    report = await mode.executor.syncStop({ unfencePassive: opts.unfencePassive ?? false }, { progress: p.progress });
  } finally {
    p.stop();
  }
  const other = report.active === 'blue' ? 'green' : 'blue';
  const left = report.left ?? [];
  ctx.io.result(report, () =>
    [
      `Replication ${left.length > 0 ? 'stopped on the reachable side only' : 'stopped'}. Dropped: ${[...report.dropped.subscriptions.map((x) => `subscription ${x}`), ...report.dropped.slots.map((x) => `slot ${x}`), ...report.dropped.publications.map((x) => `publication ${x}`)].join(', ') || 'nothing (none was left)'}.`,
      `${report.active} is the active database and writable.`,
      report.passiveFenced
        ? `${other} stays fenced (read-only for applications) so nobody writes to a copy that no longer receives changes; \`bgmig db sync stop --unfence-passive\` lifts it.`
        : `${other} is writable too: it no longer receives changes.`,
      ...left.map(
        (l) => `Left on ${l.side} (unreachable): ${l.object} — when ${l.side} is back run \`bgmig db sync stop\` again, or remove it there with: ${l.remove}`,
      ),
    ].join('\n'),
  );
  if (left.length > 0) {
    // An outage: what could be dropped was, and the rest is named with its removal (exit 1, never 0).
    ctx.io.error(
      `${(report.unreachable ?? []).join(' and ')} could not be reached: ${left.length} replication object(s) are left there (listed above) — ${left.some((l) => l.object.startsWith('replication slot')) ? 'a slot retains WAL until it is dropped, so ' : ''}run \`bgmig db sync stop\` again once it is reachable.`,
    );
    return ExitCode.Failure;
  }
  return ExitCode.Ok;
}

export interface SyncRefreshCommandOptions extends ModeOptions {
  dryRun?: boolean | undefined;
  recopy?: string[] | undefined;
}

export async function runSyncRefresh(ctx: CommandContext, opts: SyncRefreshCommandOptions): Promise<ExitCode> {
  const mode = await resolveMode(ctx, opts);
  if (!mode.executor.syncRefresh)
    throw refused('`db sync refresh` runs in direct mode only for now (--blue-url/--green-url): the cutover function does not offer it yet.');
  if (
    !opts.dryRun &&
    !(await ctx.io.confirm(
      'Bring the tables and columns created since sync start into replication (tables with new columns are copied again on the passive side)?',
    ))
  ) {
    throw refused('Sync refresh cancelled: nothing was changed.');
  }
  const p = progressPrinter(ctx.io);
  let report: SyncRefreshReport;
  try {
    report = await mode.executor.syncRefresh({ dryRun: opts.dryRun ?? false, recopy: opts.recopy }, { progress: p.progress });
  } finally {
    p.stop();
  }
  ctx.io.result(report, () => renderRefresh(report));
  return ExitCode.Ok;
}

export function renderRefresh(r: SyncRefreshReport): string {
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

export function register(db: Command): void {
  const sync = db.command('sync').description('replication between blue and green: start, status, refresh, stop');
  withModeOptions(sync.command('start'))
    .description('preflight, then publish the application schemas on the active side, fence the other and subscribe it (initial copy)')
    .option('--schema <name>', 'application schema to replicate (repeatable; default public)', collect)
    .option('--slot-wait <duration>', 'how long creating the replication slot may wait for transactions open on the active side (default 30s)')
    .addHelpText(
      'after',
      '\nExamples:\n  $ bgmig db sync start --suffix shop-prod --schema app --yes\n  $ BGMIG_BLUE_URL=postgres://… BGMIG_GREEN_URL=postgres://… bgmig db sync start --yes',
    )
    .action(action<SyncStartCommandOptions>((ctx, opts) => runSyncStart(ctx, opts)));
  withPoolerOptions(withModeOptions(sync.command('status')), { switch: false })
    .description('direction, active side, fences, per-table state, lag, WAL retained, apply errors (exit 3 when degraded)')
    .option('--watch', 'keep reading (redraws on a terminal; --json: one JSON document per line, as `bgmig status --watch`)', false)
    .option('--interval <seconds>', 'seconds between reads with --watch (default 2)')
    .option('--until <verdict>', 'with --watch: stop at the first healthy or degraded reading')
    .option('--timeout <duration>', 'with --watch: stop after this long (e.g. 10m), exiting with the last verdict')
    .option('--max-lag <size>', 'lag above this is degraded (default 16MB)')
    .addHelpText('after', '\nExamples:\n  $ bgmig db sync status --suffix shop-prod\n  $ bgmig db sync status --suffix shop-prod --watch --max-lag 64MB')
    .action(
      action<SyncStatusCommandOptions>(async (ctx, opts) => {
        const ac = new AbortController();
        const onSigint = () => ac.abort();
        if (opts.watch) process.once('SIGINT', onSigint);
        try {
          return await runSyncStatus(ctx, { ...opts, signal: ac.signal });
        } finally {
          process.removeListener('SIGINT', onSigint);
        }
      }),
    );
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
    .action(action<SyncRefreshCommandOptions>((ctx, opts) => runSyncRefresh(ctx, opts)));
  withModeOptions(sync.command('stop'))
    .description('end replication: drop subscriptions, slots and publications on both sides; the active side stays writable')
    .option('--unfence-passive', "also lift the passive side's fence", false)
    .addHelpText('after', '\nExample:\n  $ bgmig db sync stop --suffix shop-prod --yes')
    .action(action<SyncStopCommandOptions>((ctx, opts) => runSyncStop(ctx, opts)));
}
