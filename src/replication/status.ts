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
  type StreamHealth,
  type TableSyncState,
  type Targets,
} from './api.js';
import type { Catalog } from '../schema/catalog.js';
import { inactiveSlots, likelyCauses, observeStream } from './health.js';
import { decideScope, driftSentence, readPublished, readScopeTables, readSubscribed, type ScopeDrift, type ScopeTables } from './scope.js';
import { readFence } from './fence.js';
import { newest, pendingOf, readJournalOf, type Journal } from './journal.js';
import { openSession, type Session } from './session.js';
import { OBJ, readCatalogs } from './sync.js';

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
    const sub = await session.q<{ n: string }>(
      `SELECT subname AS n FROM pg_subscription WHERE subname = $1 AND subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      [OBJ.subscription(otherColor(color), color)],
    );
    return {
      side: {
        ...base,
        reachable: true,
        serverVersion: v.rows[0].v.split(' ')[0],
        fence,
        publication: pub.rows[0]?.n ?? null,
        subscription: sub.rows[0]?.n ?? null,
      },
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
  const windowMs = opts.windowMs ?? STATUS_WINDOW_MS;
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
    let health: StreamHealth | null = null;
    let scope: ScopeDrift[] = [];
    const slotLooks: SlotStatus[][] = [await readAllSlots(reads)];
    if (from) {
      const to = otherColor(from);
      const subName = OBJ.subscription(from, to);
      const subSess = reads[to].session;
      const pubSess = reads[from].session;
      const schemas = journal?.schemas ?? [];
      if (subSess && pubSess) {
        // One light query per side (no deparsing): this runs at every look and every gate.
        const [pubTables, subTables] = await Promise.all([readScopeTables(pubSess, schemas), readScopeTables(subSess, schemas)]);
        const live = { published: await readPublished(pubSess, OBJ.publication(from)), subscribed: await readSubscribed(subSess, subName) };
        scope = decideScope({ from, to, tables: { [from]: pubTables, [to]: subTables } as Record<Color, ScopeTables>, live });
        for (const d of scope) problems.push(driftSentence(d));
      }
      if (subSess) tables = await readTables(subSess, subName);
      const { decision, observations } = await observeStream(pubSess, subSess, { subscription: subName, from, to }, { windowMs });
      const lastSub = [...observations].reverse().find((o) => o.subscriber)?.subscriber ?? null;
      const lastPub = [...observations].reverse().find((o) => o.publisher)?.publisher ?? null;
      // Only a stream that fails needs both full catalogs (to name the likely cause); read after the observation,
      // because statistics read inside the catalog reader's transaction would be frozen.
      const failing = decision.verdict === 'failing' || decision.verdict === 'copy_failing' || decision.verdict === 'not_running';
      const catalogs: Record<Color, Catalog> | null =
        failing && subSess && pubSess
          ? await readCatalogs({ blue: reads.blue.session as Session, green: reads.green.session as Session }, schemas).catch(() => null)
          : null;
      const causes = catalogs ? likelyCauses(catalogs, from, to, schemas, decision.verdict === 'copy_failing' ? (lastSub?.tablesNotReady ?? []) : null) : [];
      health = { verdict: decision.verdict, applying: decision.applying, notes: decision.notes, evidence: decision.evidence, causes };
      if (decision.verdict !== 'unknown') {
        for (const p of decision.problems) problems.push(causes.length > 0 ? `${p}; likely cause: ${causes.join('; ')}` : p);
      }
      if (lastSub?.exists) {
        const lag = pubSess ? await readLag(pubSess, subName) : { lagBytes: null, lagSeconds: null };
        subscription = {
          name: subName,
          on: to,
          enabled: lastSub.enabled,
          workerRunning: lastSub.workerPid !== null,
          lagBytes: lag.lagBytes ?? (lastPub?.slot ? decision.evidence.pendingBytes : null),
          lagSeconds: lag.lagSeconds,
          latestEndLsn: subSess ? await readLatestEnd(subSess, subName) : null,
          lastError: decision.healthy ? null : (decision.problems[0] ?? null),
          applyErrorCount: lastSub.applyErrorCount,
          syncErrorCount: lastSub.syncErrorCount,
        };
        if (decision.healthy) {
          if (subscription.lagBytes !== null && subscription.lagBytes > maxLag)
            problems.push(
              `replication lag ${formatBytes(subscription.lagBytes)} is above --max-lag ${formatBytes(maxLag)}: wait, or find what slows ${to}'s apply worker`,
            );
          if (subscription.lagSeconds !== null && subscription.lagSeconds > 60)
            problems.push(`replication is ${Math.round(subscription.lagSeconds)} s behind: the apply worker on ${to} is stalled or overloaded`);
        }
      }
      const passive = reads[to].side.fence;
      if (!pending && passive && !passive.fenced)
        problems.push(`${to} (the passive side) is not fenced: applications could write to it — restart replication to re-fence it`);
      slotLooks.push(await readAllSlots(reads));
    }
    const slots: SlotStatus[] = slotLooks[slotLooks.length - 1];
    const active = journal?.active ?? null;
    const activeFence = active ? reads[active].side.fence : null;
    if (!pending && activeFence?.fenced)
      problems.push(
        `${active} (the active side) is fenced, so applications cannot write: run \`bgmig db sync stop\` to lift it, or check for an interrupted operation`,
      );
    // A slot inactive at every look keeps WAL on its server until someone drops it.
    const subSlot = from ? OBJ.subscription(from, otherColor(from)) : null;
    for (const sl of inactiveSlots(slotLooks.length > 1 ? slotLooks : [slotLooks[0], slotLooks[0]])) {
      if (
        sl.name === subSlot &&
        health &&
        !health.applying &&
        (health.verdict === 'disabled' || health.verdict === 'failing' || health.verdict === 'not_running')
      ) {
        problems.push(
          `replication slot ${sl.name} on ${sl.side} is inactive and retains ${formatBytes(sl.walRetainedBytes)} of WAL, growing until the stream applies again`,
        );
        continue;
      }
      if (sl.name === subSlot && pending) continue;
      problems.push(
        `replication slot ${sl.name} on ${sl.side} is inactive and retains ${formatBytes(sl.walRetainedBytes)} of WAL: ${sl.name === subSlot ? `the subscription on ${otherColor(sl.side)} does not consume it — check \`bgmig db sync status\` again` : `nothing consumes it — drop it (\`bgmig db sync stop\`, or SELECT pg_drop_replication_slot('${sl.name}') on ${sl.side}) before the disk fills`}`,
      );
    }
    const copying = tables.some((t) => t.state !== 'ready' && t.state !== 'synced');
    // A side that cannot be read cannot be shown to replicate: broken, with the unreachable side named in problems.
    const broken = health !== null && !['applying', 'catching_up', 'copying'].includes(health.verdict);
    const state: SyncStatusReport['state'] = pending
      ? 'interrupted'
      : !journal
        ? 'none'
        : !direction
          ? 'stopped'
          : broken
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
      problems: [...new Set(problems)],
      health,
      scope,
    };
  } finally {
    await Promise.all([b.session?.close(), g.session?.close()]);
  }
}

/** How long `db sync status` watches the stream for progress before judging (ends early once it applies). */
export const STATUS_WINDOW_MS = 1_000;

async function readAllSlots(reads: Record<Color, SideRead>): Promise<SlotStatus[]> {
  const out: SlotStatus[] = [];
  for (const c of COLORS) {
    const sess = reads[c].session;
    if (sess) out.push(...(await readSlots(sess)));
  }
  return out;
}

async function readSlots(s: Session): Promise<SlotStatus[]> {
  const r = await s.q<{ slot_name: string; active: boolean; retained: string | null; confirmed: string | null }>(`
    SELECT slot_name, active, pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint AS retained, confirmed_flush_lsn::text AS confirmed
      FROM pg_replication_slots WHERE slot_name LIKE 'bgmig\\_%' OR slot_name ~ '^pg_[0-9]+_sync_' ORDER BY slot_name`);
  return r.rows.map((x) => ({ side: s.color, name: x.slot_name, active: x.active, walRetainedBytes: Number(x.retained ?? 0), confirmedFlushLsn: x.confirmed }));
}

async function readTables(sub: Session, name: string): Promise<TableSyncState[]> {
  const t = await sub.q<{ rel: string; state: string }>(
    `
    SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS rel, sr.srsubstate AS state FROM pg_subscription_rel sr
      JOIN pg_subscription s ON s.oid = sr.srsubid JOIN pg_class c ON c.oid = sr.srrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE s.subname = $1 AND n.nspname <> 'bgmig' ORDER BY 1`,
    [name],
  );
  return t.rows.map((x) => ({ table: x.rel, state: STATE_NAMES[x.state] ?? ('unknown' as const) }));
}

async function readLag(pub: Session, name: string): Promise<{ lagBytes: number | null; lagSeconds: number | null }> {
  const l = await pub.q<{ lag: string | null; replay: number | null; sender: boolean }>(
    `
    SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), sl.confirmed_flush_lsn)::bigint AS lag,
           (SELECT extract(epoch FROM r.replay_lag)::float8 FROM pg_stat_replication r WHERE r.application_name = $1 LIMIT 1) AS replay,
           EXISTS (SELECT 1 FROM pg_stat_replication r WHERE r.application_name = $1) AS sender
      FROM pg_replication_slots sl WHERE sl.slot_name = $1`,
    [name],
  );
  const x = l.rows[0];
  if (!x) return { lagBytes: null, lagSeconds: null };
  // replay_lag is NULL once the subscriber has caught up and nothing new arrives.
  return { lagBytes: x.lag === null ? null : Number(x.lag), lagSeconds: x.sender ? (x.replay ?? 0) : null };
}

async function readLatestEnd(sub: Session, name: string): Promise<string | null> {
  const r = await sub.q<{ lsn: string | null }>(`SELECT latest_end_lsn::text AS lsn FROM pg_stat_subscription WHERE subname = $1 AND relid IS NULL LIMIT 1`, [
    name,
  ]);
  return r.rows[0]?.lsn ?? null;
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
    const fence = !sd.reachable
      ? 'unreachable'
      : sd.fence?.fenced
        ? `fenced (read-only${sd.fence.connectRevokedFrom.length ? `, CONNECT revoked from ${sd.fence.connectRevokedFrom.join(', ')}` : ''})`
        : 'writable';
    lines.push(`  ${c.padEnd(5)}  ${sd.target}  ${sd.serverVersion ? `PostgreSQL ${sd.serverVersion}  ` : ''}${fence}`);
  }
  if (r.subscription) {
    const s = r.subscription;
    lines.push(
      `  subscription ${s.name} on ${s.on}: ${s.enabled ? 'enabled' : 'disabled'}, worker ${s.workerRunning ? 'running' : 'not running'}, lag ${s.lagBytes === null ? '?' : formatBytes(s.lagBytes)} / ${s.lagSeconds === null ? '?' : `${s.lagSeconds.toFixed(1)} s`}, errors ${s.applyErrorCount} apply / ${s.syncErrorCount} sync`,
    );
  }
  if (r.health) {
    const h = r.health;
    const e = h.evidence;
    lines.push(
      `  health: ${h.verdict.replace('_', ' ')} (watched ${(e.windowMs / 1000).toFixed(1)} s, ${e.observations} look(s); ${e.applyErrorsInWindow} new apply / ${e.syncErrorsInWindow} new copy error(s); ${e.pendingBytes === null ? '?' : formatBytes(e.pendingBytes)} unconfirmed)`,
    );
    for (const n of h.notes) lines.push(`    note: ${n}`);
  }
  if (r.scope && r.scope.length > 0) {
    lines.push(`  scope: ${r.scope.length} table(s) or column(s) in scope are not replicated`);
    for (const d of r.scope) lines.push(`    ${d.table}${d.columns.length ? ` (${d.columns.join(', ')})` : ''}: ${d.kind.replace(/_/g, ' ')}`);
  }
  if (r.tables.length > 0) {
    const counts = new Map<string, number>();
    for (const t of r.tables) counts.set(t.state, (counts.get(t.state) ?? 0) + 1);
    lines.push(`  tables: ${[...counts].map(([k, v]) => `${v} ${k}`).join(', ')}`);
    for (const t of r.tables.filter((x) => x.state !== 'ready')) lines.push(`    ${t.table}: ${t.state}`);
  }
  for (const sl of r.slots)
    lines.push(`  slot ${sl.name} on ${sl.side}: ${sl.active ? 'active' : 'inactive'}, retains ${formatBytes(sl.walRetainedBytes)} of WAL`);
  if (r.pending)
    lines.push(`  interrupted: ${r.pending.operation} ${r.pending.from} → ${r.pending.to} after step "${r.pending.step}" (started ${r.pending.startedAt})`);
  for (const p of r.problems) lines.push(`  problem: ${p}`);
  return lines.join('\n');
}

/**
 * The database section of `bgmig status`: the same report as `db sync status` through whichever executor the
 * command has (AWS: `remoteExecutorFor(aws, stack, suffix)` from src/remote/cutover-client.ts), its exit code and its text.
 */
export async function databaseSection(executor: Executor, opts: SyncStatusOptions = {}): Promise<{ report: SyncStatusReport; exitCode: 0 | 3; text: string }> {
  const report = await executor.syncStatus(opts);
  return { report, exitCode: statusExitCode(report), text: renderSyncStatus(report) };
}
