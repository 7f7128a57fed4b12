/**
 * `bgmig db sync status`: direction, active side, fences, per-table state, lag, WAL retained, apply errors; exit 0
 * healthy, 3 degraded (one side unreachable included), 1 when neither side can be read (an outage, with both causes).
 *
 * The verb shape (src/cli/verb.ts) with one departure: `--watch` prints a document per reading (the one watch
 * contract, src/cli/watch.ts, shared with `bgmig status --watch`: NDJSON under --json, a redraw on a terminal), not
 * one result at the end, so it runs through `watchDbSyncStatus` — which writes each round through `deps.io` and
 * resolves to the last round's exit code — instead of `runDbSyncStatus → emit`. Both read the same way (the
 * executor is resolved once per watch), and each round's exit code is `exitCodeOf(report)`.
 */
import type { Command } from 'commander';
import { type ExitCode, failure } from '../../../core/errors.js';
import { parseSize } from '../../../core/units.js';
import { type PoolerCommandOptions, reviewPoolers, withPoolerOptions } from '../../../pooler/cli.js';
import { REPLICATION_DEFAULTS, type SideStatus, type SyncStatusReport } from '../../../replication/api.js';
import { renderSyncStatus, statusExitCode } from '../../../replication/status.js';
import { action, type CommandContext, toBgmigError } from '../../context.js';
import type { Io } from '../../io.js';
import { emit, type RunF } from '../../verb.js';
import { type Observation, parseWatchFlags, runWatch, type Until, untilInterrupted, type WatchFlagValues } from '../../watch.js';
import { type DbDeps, type Mode, type ModeFlags, resolveMode, type Where, whereOf, withModeOptions } from './common.js';

export interface DbSyncStatusOptions {
  where: Where;
  /** --max-lag in bytes: lag above it is degraded (default 16 MiB). */
  maxLagBytes: number;
  /** Direct mode: PgBouncer admin URLs whose held state is reviewed (--pooler / BGMIG_POOLER_URLS). */
  pooler?: string[] | undefined;
  /** --watch and its bounds (src/cli/watch.ts): interval in ms, stop verdict, timeout in ms. */
  watch: boolean;
  intervalMs: number;
  until?: Until | undefined;
  timeoutMs?: number | undefined;
  /** Aborts --watch (Ctrl-C; the default runF wires SIGINT). */
  signal?: AbortSignal | undefined;
  /** Stop after this many rounds (tests). */
  maxRounds?: number | undefined;
}

/**
 * One reading through `mode`'s executor. Neither side readable is an outage: a failure (exit 1) naming both causes.
 * In direct mode, poolers a killed switch left held are resumed when safe and reported as a problem otherwise.
 */
async function readStatus(mode: Mode, opts: DbSyncStatusOptions, io: Io): Promise<SyncStatusReport> {
  const report = await mode.executor.syncStatus({ maxLagBytes: opts.maxLagBytes });
  const { blue, green } = report.sides;
  if (!blue.reachable && !green.reachable) {
    throw failure(`Neither database could be reached, so replication cannot be judged: blue ${cause(blue)} and green ${cause(green)}.`, undefined, {
      unreachable: ['blue', 'green'],
    });
  }
  // A pooler bgmig left held (a killed switch) is resumed here when safe, and shown as degraded while it is not.
  if (mode.kind === 'direct') await reviewPoolers(opts, mode.targets, report, (level, text) => (level === 'warn' ? io.warn(text) : io.info(text)));
  return report;
}

/** `failed with "<its error>"`, the side's target first when the error does not name it. */
const cause = (side: SideStatus): string => {
  const error = (side.error ?? 'unknown error').replace(/\.$/, '');
  return `${error.includes(side.target) ? '' : `(${side.target}) `}failed with "${error}"`;
};

/** One reading (see readStatus for what it throws). */
export async function runDbSyncStatus(opts: DbSyncStatusOptions, deps: DbDeps): Promise<SyncStatusReport> {
  return readStatus(await resolveMode(opts.where, deps.aws), opts, deps.io);
}

export const renderDbSyncStatus: (r: SyncStatusReport) => string = renderSyncStatus;

/** 0 healthy, 3 degraded. */
export const exitCodeOf: (r: SyncStatusReport) => ExitCode = statusExitCode;

/** --watch: a reading every interval through deps.io until --until/--timeout/Ctrl-C; resolves to the last exit code. */
export async function watchDbSyncStatus(opts: DbSyncStatusOptions, deps: DbDeps): Promise<ExitCode> {
  const mode = await resolveMode(opts.where, deps.aws);
  const read = async (): Promise<Observation> => {
    const report = await readStatus(mode, opts, deps.io);
    return { result: report, text: renderDbSyncStatus(report), exitCode: exitCodeOf(report) };
  };
  return runWatch(
    read,
    deps.io,
    { intervalMs: opts.intervalMs, until: opts.until, timeoutMs: opts.timeoutMs, signal: opts.signal, maxRounds: opts.maxRounds, subject: 'replication' },
    (e) => toBgmigError(e, deps),
  );
}

/** The default action: one reading rendered (or its JSON), or the watch with Ctrl-C ending it. */
async function syncStatusAction(opts: DbSyncStatusOptions, ctx: CommandContext): Promise<ExitCode> {
  if (!opts.watch) return emit(ctx.io, await runDbSyncStatus(opts, ctx), renderDbSyncStatus, exitCodeOf);
  return untilInterrupted((signal) => watchDbSyncStatus({ ...opts, signal }, ctx));
}

/** Flags → options (exit 2 before anything is reached): --max-lag, the watch flags, where the databases are. */
export function dbSyncStatusOptions(flags: ModeFlags & PoolerCommandOptions & WatchFlagValues & { maxLag?: string | undefined }, io: Io): DbSyncStatusOptions {
  const maxLagBytes = flags.maxLag !== undefined ? parseSize(flags.maxLag, '--max-lag') : REPLICATION_DEFAULTS.maxLagBytes;
  // The one --watch contract (src/cli/watch.ts), shared with `bgmig status --watch`.
  const w = parseWatchFlags(flags, io, { intervalSeconds: 2 });
  const where = whereOf(flags, flags.suffix);
  return { where, maxLagBytes, ...(flags.pooler !== undefined ? { pooler: flags.pooler } : {}), ...w };
}

export function register(sync: Command, runF: RunF<DbSyncStatusOptions> = syncStatusAction): void {
  withPoolerOptions(withModeOptions(sync.command('status')), { switch: false })
    .description('direction, active side, fences, per-table state, lag, WAL retained, apply errors (exit 3 when degraded)')
    .option('--watch', 'keep reading (redraws on a terminal; --json: one JSON document per line, as `bgmig status --watch`)', false)
    .option('--interval <seconds>', 'seconds between reads with --watch (default 2)')
    .option('--until <verdict>', 'with --watch: stop at the first healthy or degraded reading')
    .option('--timeout <duration>', 'with --watch: stop after this long (e.g. 10m), exiting with the last verdict')
    .option('--max-lag <size>', 'lag above this is degraded (default 16MB)')
    .addHelpText('after', '\nExamples:\n  $ bgmig db sync status --suffix shop-prod\n  $ bgmig db sync status --suffix shop-prod --watch --max-lag 64MB')
    .action(action<ModeFlags & PoolerCommandOptions & WatchFlagValues & { maxLag?: string }>(async (ctx, o) => runF(dbSyncStatusOptions(o, ctx.io), ctx)));
}
