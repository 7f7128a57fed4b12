/**
 * The `--pooler` option of `bgmig db cutover|rollback|sync status` (direct mode) and what those commands do with
 * it: build the client tier for the engine, and — before and after every run — release poolers a previous bgmig
 * left held (journaled on the databases). `db sync status` releases them only when no switch is pending (their
 * entries then point at the active, unfenced side); while one is pending it reports them as a problem (degraded).
 *
 * URLs come from `--pooler` (repeatable) or BGMIG_POOLER_URLS (space-separated); the admin password from the URL or
 * BGMIG_POOLER_PASSWORD, so it never has to be on the command line.
 */
import { type Command, Option } from 'commander';
import { badInput, messageOf } from '../core/errors.js';
import type { Color } from '../core/naming.js';
import type { DbTarget } from '../db/connection.js';
import type { ProgressFn, SyncStatusReport } from '../replication/api.js';
import type { PoolerRef } from './admin.js';
import { POOLER_DEFAULTS } from './plan.js';
import { PoolerTier, heldPoolerProblems, parsePoolerUrl, pausedEntryProblems, settleHeldPoolers } from './tier.js';

export interface PoolerCommandOptions {
  pooler?: string[] | undefined;
  poolerPauseTimeout?: string | undefined;
}

const collect = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), ...v.split(/\s+/).filter(Boolean)];

/** Adds --pooler (repeatable, env BGMIG_POOLER_URLS) and, for switches, --pooler-pause-timeout. */
export function withPoolerOptions(cmd: Command, opts: { switch: boolean }): Command {
  cmd.addOption(
    new Option(
      '--pooler <url>',
      'direct mode: a PgBouncer admin console postgres://ADMIN@HOST:PORT/pgbouncer that holds client queries through the switch (repeatable; password in BGMIG_POOLER_PASSWORD)',
    )
      .env('BGMIG_POOLER_URLS')
      .argParser(collect),
  );
  if (opts.switch)
    cmd.option(
      '--pooler-pause-timeout <duration>',
      `how long PAUSE of all poolers may wait for running transactions (default ${POOLER_DEFAULTS.pauseTimeoutMs / 1000}s)`,
    );
  return cmd;
}

/** The parsed --pooler refs (deduplicated by label). */
export function poolerRefs(opts: PoolerCommandOptions): PoolerRef[] {
  const refs = (opts.pooler ?? []).map((u) => parsePoolerUrl(u));
  return refs.filter((r, i) => refs.findIndex((x) => x.label === r.label) === i);
}

/** Rejects --pooler outside direct mode (AWS mode drives the stack's own poolers from the cutover function). */
export function checkPoolerMode(opts: PoolerCommandOptions, direct: boolean): void {
  if (!direct && (opts.pooler?.length ?? 0) > 0) {
    throw badInput("--pooler is for direct mode (--blue-url/--green-url): in AWS mode the cutover function drives the stack's poolers (deploy with --pooler).");
  }
}

/** The engine's client tier for a direct-mode switch, or undefined without --pooler. */
export function clientTier(
  opts: PoolerCommandOptions,
  targets: Record<Color, DbTarget>,
  pauseTimeoutMs: number | undefined,
  progress?: ProgressFn,
): PoolerTier | undefined {
  const refs = poolerRefs(opts);
  return refs.length === 0 ? undefined : new PoolerTier(refs, targets, { pauseTimeoutMs, progress });
}

/** Releases poolers a previous run left held onto `active`; logs what it did. Never throws: it reports instead. */
export async function settlePoolers(
  opts: PoolerCommandOptions,
  targets: Record<Color, DbTarget>,
  active: Color,
  log: (level: 'info' | 'warn', text: string) => void,
): Promise<boolean> {
  try {
    for (const line of await settleHeldPoolers(targets, active, poolerRefs(opts))) log('info', line);
    return true;
  } catch (e) {
    log('warn', `a pooler bgmig held is still paused and could not be resumed: ${messageOf(e)}`);
    return false;
  }
}

/**
 * `db sync status`: a held pooler is a problem (degraded). With no switch pending it is released onto the active
 * side first (then it is no problem any more); while one is pending it stays held and the problem says what to run.
 */
export async function reviewPoolers(
  opts: PoolerCommandOptions,
  targets: Record<Color, DbTarget>,
  report: SyncStatusReport,
  log: (level: 'info' | 'warn', text: string) => void,
): Promise<void> {
  if (report.pending === null && report.active !== null) await settlePoolers(opts, targets, report.active, log);
  const problems = [...(await heldPoolerProblems(targets)), ...(await pausedEntryProblems(poolerRefs(opts), targets))];
  if (problems.length > 0) {
    report.problems.push(...problems);
    report.healthy = false;
  }
}
