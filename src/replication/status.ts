/**
 * `db sync status` (and the database section of `bgmig status`): read-only. Each side is read on its own, so an
 * unreachable side is reported rather than failing the whole status.
 */
import { messageOf } from '../core/errors.js';
import { COLORS, otherColor, type Color } from '../core/naming.js';
import { formatBytes } from '../core/units.js';
import { describeTarget } from '../db/connection.js';
import {
  REPLICATION_DEFAULTS,
  type Executor,
  type SideStatus,
  type SlotStatus,
  type SubscriptionStatus,
  type SyncStatusOptions,
  type SyncStatusReport,
  type TableSyncState,
  type Targets,
} from './api.js';
import { readFence } from './fence.js';
import { newest, pendingOf, readJournalOf, type Journal } from './journal.js';
import { openSession, type Session } from './session.js';
import { OBJ } from './sync.js';

const STATE_NAMES: Record<string, TableSyncState['state']> = { i: 'init', d: 'copying', f: 'finishing', s: 'synced', r: 'ready' };

interface SideRead {
  side: SideStatus;
  journal: Journal | null;
  session: Session | null;
}

async function readSide(color: Color, targets: Targets): Promise<SideRead> {
  const target = targets[color];
  const base: SideStatus = { color, target: describeTarget(target), reachable: false, fence: null, publication: null, subscription: null };
  let session: Session | null = null;
  try {
    session = await openSession(color, target, [targets.blue.password, targets.green.password]);
    const v = await session.q<{ v: string }>(`SELECT current_setting('server_version') AS v`);
    // One connection answers one query at a time: these run in sequence (the two sides run in parallel).
    const journal = await readJournalOf(session);
    const fence = await readFence(session);
    const pub = await session.q<{ n: string }>(`SELECT pubname AS n FROM pg_publication WHERE pubname = $1`, [OBJ.publication(color)]);
    const sub = await session.q<{ n: string }>(`SELECT subname AS n FROM pg_subscription WHERE subname = $1 AND subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())`, [OBJ.subscription(otherColor(color), color)]);
    return {
      side: { ...base, reachable: true, serverVersion: v.rows[0].v.split(' ')[0], fence, publication: pub.rows[0]?.n ?? null, subscription: sub.rows[0]?.n ?? null },
      journal,
      session,
    };
  } catch (e) {
    await session?.close();
    return { side: { ...base, error: messageOf(e) }, journal: null, session: null };
  }
}

export async function syncStatus(targets: Targets, opts: SyncStatusOptions = {}): Promise<SyncStatusReport> {
  const maxLag = opts.maxLagBytes ?? REPLICATION_DEFAULTS.maxLagBytes;
  const [b, g] = await Promise.all([readSide('blue', targets), readSide('green', targets)]);
  try {
    const reads: Record<Color, SideRead> = { blue: b, green: g };
    const journal = newest(b.journal, g.journal);
    const pending = pendingOf(journal);
    const problems: string[] = [];
    for (const c of COLORS) if (!reads[c].side.reachable) problems.push(`${c} is unreachable: ${reads[c].side.error ?? 'unknown error'}`);
    if (pending) problems.push(pending.hint);

    const direction = journal?.direction ?? null;
    const from: Color | null = direction === 'blue_to_green' ? 'blue' : direction === 'green_to_blue' ? 'green' : null;
    let subscription: SubscriptionStatus | null = null;
    let tables: TableSyncState[] = [];
    const slots: SlotStatus[] = [];
    for (const c of COLORS) {
      const sess = reads[c].session;
      if (sess) slots.push(...(await readSlots(sess)));
    }
    if (from) {
      const to = otherColor(from);
      const subName = OBJ.subscription(from, to);
      const subSess = reads[to].session;
      const pubSess = reads[from].session;
      if (subSess) {
        const r = await readSubscription(subSess, subName, pubSess);
        subscription = r.subscription;
        tables = r.tables;
        if (!subscription) problems.push(`subscription ${subName} is missing on ${to}: replication ${from}→${to} is not running (restart it with \`bgmig db sync stop\` and \`bgmig db sync start\`)`);
        else {
          if (!subscription.enabled) problems.push(`subscription ${subName} on ${to} is disabled: enable it with ALTER SUBSCRIPTION ${subName} ENABLE`);
          if (subscription.lastError) problems.push(`${subscription.lastError}`);
          if (subscription.lagBytes !== null && subscription.lagBytes > maxLag) problems.push(`replication lag ${formatBytes(subscription.lagBytes)} is above --max-lag ${formatBytes(maxLag)}: wait, or find what slows ${to}'s apply worker`);
          if (subscription.lagSeconds !== null && subscription.lagSeconds > 60) problems.push(`replication is ${Math.round(subscription.lagSeconds)} s behind: the apply worker on ${to} is stalled or overloaded`);
        }
      }
      const passive = reads[to].side.fence;
      if (!pending && passive && !passive.fenced) problems.push(`${to} (the passive side) is not fenced: applications could write to it — restart replication to re-fence it`);
    }
    const active = journal?.active ?? null;
    const activeFence = active ? reads[active].side.fence : null;
    if (!pending && activeFence?.fenced) problems.push(`${active} (the active side) is fenced, so applications cannot write: run \`bgmig db sync stop\` to lift it, or check for an interrupted operation`);
    for (const sl of slots) {
      if (!sl.active && sl.walRetainedBytes > maxLag) problems.push(`replication slot ${sl.name} on ${sl.side} is inactive and retains ${formatBytes(sl.walRetainedBytes)} of WAL: drop it (bgmig db sync stop) before the disk fills`);
    }
    const copying = tables.some((t) => t.state !== 'ready' && t.state !== 'synced');
    const state: SyncStatusReport['state'] = pending
      ? 'interrupted'
      : !journal
        ? 'none'
        : !direction
          ? 'stopped'
          : !subscription || !subscription.enabled || subscription.lastError
            ? 'broken'
            : copying
              ? 'copying'
              : 'streaming';
    return {
      generatedAt: new Date().toISOString(),
      state,
      direction,
      active,
      pending,
      sides: { blue: b.side, green: g.side },
      subscription,
      tables,
      slots,
      healthy: problems.length === 0,
      problems,
    };
  } finally {
    await Promise.all([b.session?.close(), g.session?.close()]);
  }
}

async function readSlots(s: Session): Promise<SlotStatus[]> {
  const r = await s.q<{ slot_name: string; active: boolean; retained: string | null; confirmed: string | null }>(`
    SELECT slot_name, active, pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint AS retained, confirmed_flush_lsn::text AS confirmed
      FROM pg_replication_slots WHERE slot_name LIKE 'bgmig\\_%' OR slot_name ~ '^pg_[0-9]+_sync_' ORDER BY slot_name`);
  return r.rows.map((x) => ({ side: s.color, name: x.slot_name, active: x.active, walRetainedBytes: Number(x.retained ?? 0), confirmedFlushLsn: x.confirmed }));
}

async function readSubscription(sub: Session, name: string, pub: Session | null): Promise<{ subscription: SubscriptionStatus | null; tables: TableSyncState[] }> {
  let row = await readSubscriptionRow(sub, name);
  // The launcher starts an apply worker within moments of a subscription being created or re-enabled (a cutover
  // just made one): look again for a few seconds before calling a missing worker an error.
  const until = performance.now() + 3_000;
  while (row && row.enabled && !row.worker && performance.now() < until) {
    await new Promise((r) => setTimeout(r, 100));
    row = await readSubscriptionRow(sub, name);
  }
  return describeSubscription(sub, name, pub, row);
}

async function readSubscriptionRow(sub: Session, name: string) {
  const r = await sub.q<{ enabled: boolean; worker: boolean; latest_end_lsn: string | null; apply_errors: string | null; sync_errors: string | null }>(`
    SELECT s.subenabled AS enabled,
           EXISTS (SELECT 1 FROM pg_stat_subscription w WHERE w.subid = s.oid AND w.relid IS NULL AND w.pid IS NOT NULL) AS worker,
           (SELECT w.latest_end_lsn::text FROM pg_stat_subscription w WHERE w.subid = s.oid AND w.relid IS NULL) AS latest_end_lsn,
           st.apply_error_count AS apply_errors, st.sync_error_count AS sync_errors
      FROM pg_subscription s LEFT JOIN pg_stat_subscription_stats st ON st.subid = s.oid
     WHERE s.subname = $1 AND s.subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())`, [name]);
  return r.rows[0];
}

async function describeSubscription(
  sub: Session,
  name: string,
  pub: Session | null,
  row: Awaited<ReturnType<typeof readSubscriptionRow>> | undefined,
): Promise<{ subscription: SubscriptionStatus | null; tables: TableSyncState[] }> {
  if (!row) return { subscription: null, tables: [] };
  const t = await sub.q<{ rel: string; state: string }>(`
    SELECT sr.srrelid::regclass::text AS rel, sr.srsubstate AS state FROM pg_subscription_rel sr
      JOIN pg_subscription s ON s.oid = sr.srsubid WHERE s.subname = $1 AND sr.srrelid::regclass::text <> 'bgmig.marker' ORDER BY 1`, [name]);
  const tables = t.rows.map((x) => ({ table: x.rel, state: STATE_NAMES[x.state] ?? ('unknown' as const) }));
  let lagBytes: number | null = null;
  let lagSeconds: number | null = null;
  if (pub) {
    const l = await pub.q<{ lag: string | null; replay: number | null; sender: boolean }>(`
      SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), sl.confirmed_flush_lsn)::bigint AS lag,
             (SELECT extract(epoch FROM r.replay_lag)::float8 FROM pg_stat_replication r WHERE r.application_name = $1 LIMIT 1) AS replay,
             EXISTS (SELECT 1 FROM pg_stat_replication r WHERE r.application_name = $1) AS sender
        FROM pg_replication_slots sl WHERE sl.slot_name = $1`, [name]);
    if (l.rows[0]) {
      lagBytes = l.rows[0].lag === null ? null : Number(l.rows[0].lag);
      // replay_lag is NULL once the subscriber has caught up and nothing new arrives.
      lagSeconds = l.rows[0].sender ? (l.rows[0].replay ?? 0) : null;
    }
  }
  const applyErrors = Number(row.apply_errors ?? 0);
  const syncErrors = Number(row.sync_errors ?? 0);
  // PostgreSQL 15 keeps the error text only in the server log; the catalogs tell whether the worker runs and how
  // often it failed. A worker that is not running while enabled is the apply worker's error state.
  const lastError = row.enabled && !row.worker
    ? `the apply worker of ${name} on ${sub.color} is not running (${applyErrors} apply error(s), ${syncErrors} table-sync error(s) recorded): its error is in ${sub.color}'s server log`
    : null;
  return {
    subscription: {
      name, on: sub.color, enabled: row.enabled, workerRunning: row.worker, lagBytes, lagSeconds, latestEndLsn: row.latest_end_lsn,
      lastError, applyErrorCount: applyErrors, syncErrorCount: syncErrors,
    },
    tables,
  };
}

/** Exit code of a status: 0 healthy, 3 degraded. */
export function statusExitCode(r: SyncStatusReport): 0 | 3 {
  return r.healthy ? 0 : 3;
}

/** Human rendering (plain text; the caller colours it). Used by `db sync status` and `bgmig status`. */
export function renderSyncStatus(r: SyncStatusReport): string {
  const lines: string[] = [];
  const dir = r.direction ? r.direction.replace('_to_', ' → ') : 'none';
  lines.push(`Database replication: ${r.state}${r.healthy ? '' : ' (degraded)'}`);
  lines.push(`  active: ${r.active ?? 'unknown (bgmig has not run here)'}   direction: ${dir}`);
  for (const c of COLORS) {
    const sd = r.sides[c];
    const fence = !sd.reachable ? 'unreachable' : sd.fence?.fenced ? `fenced (read-only${sd.fence.connectRevokedFrom.length ? `, CONNECT revoked from ${sd.fence.connectRevokedFrom.join(', ')}` : ''})` : 'writable';
    lines.push(`  ${c.padEnd(5)}  ${sd.target}  ${sd.serverVersion ? `PostgreSQL ${sd.serverVersion}  ` : ''}${fence}`);
  }
  if (r.subscription) {
    const s = r.subscription;
    lines.push(`  subscription ${s.name} on ${s.on}: ${s.enabled ? 'enabled' : 'disabled'}, worker ${s.workerRunning ? 'running' : 'not running'}, lag ${s.lagBytes === null ? '?' : formatBytes(s.lagBytes)} / ${s.lagSeconds === null ? '?' : `${s.lagSeconds.toFixed(1)} s`}, errors ${s.applyErrorCount} apply / ${s.syncErrorCount} sync`);
  }
  if (r.tables.length > 0) {
    const counts = new Map<string, number>();
    for (const t of r.tables) counts.set(t.state, (counts.get(t.state) ?? 0) + 1);
    lines.push(`  tables: ${[...counts].map(([k, v]) => `${v} ${k}`).join(', ')}`);
    for (const t of r.tables.filter((x) => x.state !== 'ready')) lines.push(`    ${t.table}: ${t.state}`);
  }
  for (const sl of r.slots) lines.push(`  slot ${sl.name} on ${sl.side}: ${sl.active ? 'active' : 'inactive'}, retains ${formatBytes(sl.walRetainedBytes)} of WAL`);
  if (r.pending) lines.push(`  interrupted: ${r.pending.operation} ${r.pending.from} → ${r.pending.to} after step "${r.pending.step}" (started ${r.pending.startedAt})`);
  for (const p of r.problems) lines.push(`  problem: ${p}`);
  return lines.join('\n');
}

/**
 * The database section of `bgmig status`: the same report as `db sync status` through whichever executor the
 * command has (AWS: `remoteExecutorFor(aws, stack, suffix)` from src/cli/db-remote.ts), its exit code and its text.
 */
export async function databaseSection(executor: Executor, opts: SyncStatusOptions = {}): Promise<{ report: SyncStatusReport; exitCode: 0 | 3; text: string }> {
  const report = await executor.syncStatus(opts);
  return { report, exitCode: statusExitCode(report), text: renderSyncStatus(report) };
}
