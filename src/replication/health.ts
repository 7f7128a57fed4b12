/**
 * Whether a replication stream is applying, judged from progress over a window of observations rather than from
 * one instant's liveness. An apply worker that fails, restarts and fails again is "running" half of the time; what
 * never happens while it fails is the publisher's slot confirming the WAL that existed when we first looked.
 *
 * Signals (PostgreSQL 15 monitoring views, https://www.postgresql.org/docs/15/monitoring-stats.html):
 * - publisher: pg_current_wal_lsn(); pg_replication_slots.active / confirmed_flush_lsn / restart_lsn (WAL retained
 *   = pg_wal_lsn_diff(current, restart_lsn)).
 * - subscriber: pg_stat_subscription (apply worker pid, received_lsn, latest_end_lsn), pg_stat_subscription_stats
 *   (apply_error_count, sync_error_count: PG15+, cumulative per subscription), pg_subscription_rel.srsubstate.
 *
 * `decideHealth` is pure (observations in, verdict out); `observeStream` is the I/O beside it.
 */
import type { Color } from '../core/naming.js';
import { formatBytes } from '../core/units.js';
import type { Catalog } from '../schema/catalog.js';
import type { StreamHealth } from './api.js';
import { markerApplied, markerToken, writeMarker } from './marker.js';
import type { Session } from './session.js';
import { sleep } from '../core/sleep.js';

/** One look at a stream from both ends. A side that could not be read is null. */
export interface StreamObservation {
  /** Monotonic milliseconds (performance.now()) when the observation was taken. */
  atMs: number;
  subscriber: {
    exists: boolean;
    enabled: boolean;
    /** Apply worker pid; null when no apply worker runs at this instant. */
    workerPid: number | null;
    applyErrorCount: number;
    syncErrorCount: number;
    receivedLsn: string | null;
    /** Tables whose initial copy is not finished (pg_subscription_rel state not r/s), qualified names. */
    tablesNotReady: string[];
  } | null;
  publisher: {
    currentLsn: string;
    /** The subscription's slot on the publisher; null when it does not exist. */
    slot: { active: boolean; confirmedFlushLsn: string | null; walRetainedBytes: number } | null;
  } | null;
  /**
   * The drain marker written after the first look is visible on the subscriber (src/replication/marker.ts):
   * everything committed before it is applied. Absent when no marker was written (status never writes one).
   */
  markerApplied?: boolean;
}

/**
 * applying: everything the publisher had written at the first look was confirmed by the subscriber within the
 * window (or already was), or a drain marker committed after the first look was applied there. catching_up: not
 * yet, but the confirmed position moved. copying: the initial copy of some tables runs. The rest are degraded:
 * failing (apply errors), copy_failing (table copy errors), stalled (no progress, no error: a lock or a long
 * transaction on the subscriber), not_running, disabled, missing, unknown.
 */
export type HealthVerdict = StreamHealth['verdict'];

export interface HealthDecision {
  verdict: HealthVerdict;
  /** Proven to apply: the only verdict on which a gate may fence the active side. */
  applying: boolean;
  /** Not degraded (applying, catching up or copying without errors). */
  healthy: boolean;
  /** One sentence each: what is wrong and what to do. Empty when healthy. */
  problems: string[];
  /** Notes that do not degrade (e.g. errors in the past on a stream that now applies). */
  notes: string[];
  /** What status reports (StreamHealth's evidence), plus what the judgement also looked at. */
  evidence: StreamHealth['evidence'] & {
    confirmedAdvancedBytes: number | null;
    workerSeen: boolean;
    slotActiveSeen: boolean;
    /** Applying was proven by the drain marker (the slot's confirmation may still lag). */
    markerApplied: boolean;
  };
}

export interface HealthContext {
  subscription: string;
  /** Publisher and subscriber. */
  from: Color;
  to: Color;
  /** Slot inactive and retaining more than this across the window is a problem even while the stream applies. */
  maxRetainedInactiveBytes?: number;
}

/** Unconfirmed WAL below this, with no error and no movement, is not called a stall (bytes). */
export const STALL_MIN_BYTES = 64 * 1024;

/** Parses a pg_lsn text ("16/B374D848") into a number of bytes. */
export function lsnToBigInt(lsn: string): bigint {
  const m = /^([0-9A-Fa-f]+)\/([0-9A-Fa-f]+)$/.exec(lsn.trim());
  if (!m) throw new Error(`not an LSN: ${lsn}`);
  return (BigInt(`0x${m[1]}`) << 32n) + BigInt(`0x${m[2]}`);
}

function diff(a: string | null | undefined, b: string | null | undefined): number | null {
  if (!a || !b) return null;
  return Number(lsnToBigInt(a) - lsnToBigInt(b));
}

/**
 * The verdict over observations ordered in time (at least one; two or more for progress). Stable by design: a
 * failing worker keeps the slot's confirmed position behind the failing transaction, so "not confirmed" holds at
 * every look whether the worker happens to be up or not, and the cumulative error counters say why.
 */
export function decideHealth(observations: readonly StreamObservation[], ctx: HealthContext): HealthDecision {
  const first = observations[0];
  const last = observations[observations.length - 1];
  const subs = observations.map((o) => o.subscriber).filter((x): x is NonNullable<StreamObservation['subscriber']> => x !== null);
  const pubs = observations.map((o) => o.publisher).filter((x): x is NonNullable<StreamObservation['publisher']> => x !== null);
  const s0 = subs[0];
  const sN = subs[subs.length - 1];
  const p0 = pubs[0];
  const pN = pubs[pubs.length - 1];
  const applyErrorCount = sN?.applyErrorCount ?? 0;
  const syncErrorCount = sN?.syncErrorCount ?? 0;
  const applyErrorsInWindow = sN && s0 ? sN.applyErrorCount - s0.applyErrorCount : 0;
  const syncErrorsInWindow = sN && s0 ? sN.syncErrorCount - s0.syncErrorCount : 0;
  const workerSeen = subs.some((x) => x.workerPid !== null);
  const slotActiveSeen = pubs.some((x) => x.slot?.active === true);
  const confirmed0 = p0?.slot?.confirmedFlushLsn ?? null;
  const confirmedN = pN?.slot?.confirmedFlushLsn ?? null;
  const pendingBytes = pN ? diff(pN.currentLsn, confirmedN) : null;
  const confirmedAdvancedBytes = diff(confirmedN, confirmed0);
  // Everything written on the publisher by the first look is confirmed by the last one — or applied, which the
  // marker proves sooner: the slot's confirmation waits for the subscriber's asynchronous local flush.
  const markerApplied = observations.some((o) => o.markerApplied === true);
  const caughtUp = (p0 && confirmedN !== null ? lsnToBigInt(confirmedN) >= lsnToBigInt(p0.currentLsn) : false) || markerApplied;
  const evidence: HealthDecision['evidence'] = {
    windowMs: Math.round(last.atMs - first.atMs),
    observations: observations.length,
    applyErrorsInWindow,
    syncErrorsInWindow,
    applyErrorCount,
    syncErrorCount,
    pendingBytes,
    confirmedAdvancedBytes,
    workerSeen,
    slotActiveSeen,
    markerApplied,
  };
  const { subscription: name, from, to } = ctx;
  const out = (verdict: HealthVerdict, problems: string[], notes: string[] = []): HealthDecision => {
    const healthy = problems.length === 0;
    return { verdict, applying: verdict === 'applying', healthy, problems, notes, evidence };
  };
  const log = `${to}'s server log, in its "logical replication worker" lines`;
  const errorCounts = `${applyErrorCount} apply error(s), ${syncErrorCount} table-copy error(s) recorded`;

  if (!sN || !pN) return out('unknown', [`the stream ${from}→${to} cannot be judged: ${!sN ? to : from} could not be read`]);
  if (!sN.exists)
    return out('missing', [
      `subscription ${name} is missing on ${to}: replication ${from}→${to} is not running — restart it with \`bgmig db sync stop\` and \`bgmig db sync start\``,
    ]);
  if (!sN.enabled)
    return out('disabled', [
      `subscription ${name} on ${to} is disabled, so nothing is applied and ${from} keeps its WAL — enable it with ALTER SUBSCRIPTION ${name} ENABLE on ${to}`,
    ]);
  if (!pN.slot)
    return out('missing', [
      `replication slot ${name} is missing on ${from}: the stream ${from}→${to} cannot resume — restart replication with \`bgmig db sync stop\` and \`bgmig db sync start\``,
    ]);

  const notReady = sN.tablesNotReady;
  const copying = notReady.length > 0;
  const names = notReady.slice(0, 5).join(', ') + (notReady.length > 5 ? ` and ${notReady.length - 5} more` : '');
  if (copying && (syncErrorsInWindow > 0 || syncErrorCount > 0)) {
    return out('copy_failing', [
      `the initial copy of ${names} on ${to} keeps failing (${syncErrorCount} table-copy error(s)${syncErrorsInWindow > 0 ? `, ${syncErrorsInWindow} in the last ${Math.round(evidence.windowMs / 100) / 10} s` : ''}): the copy cannot be applied on ${to} — see \`bgmig db sync status\` for the likely cause and ${log} for the error`,
    ]);
  }
  if (applyErrorsInWindow > 0) {
    return out('failing', [
      `the apply worker of ${name} on ${to} is failing and restarting (${applyErrorsInWindow} new apply error(s) in ${Math.round(evidence.windowMs / 100) / 10} s, ${applyErrorCount} in all): ${from}'s changes are not applied — fix the cause on ${to}; its error is in ${log}`,
    ]);
  }
  const pastErrors =
    applyErrorCount > 0
      ? [
          `${applyErrorCount} apply error(s) happened earlier; the stream applies now (reset the counter with SELECT pg_stat_reset_subscription_stats(oid) on ${to})`,
        ]
      : [];
  if (caughtUp) return out('applying', [], pastErrors);
  if (applyErrorCount > 0) {
    // No new error in this window, but nothing confirmed either: the failing transaction still blocks the stream.
    return out('failing', [
      `the apply worker of ${name} on ${to} is not applying: ${pendingBytes === null ? 'WAL' : formatBytes(pendingBytes)} of ${from}'s WAL wait behind a transaction it failed to apply (${errorCounts}) — fix the cause on ${to}; its error is in ${log}`,
    ]);
  }
  if (!workerSeen) {
    return out('not_running', [`the apply worker of ${name} on ${to} is not running (${errorCounts}): read ${log} and fix its error`]);
  }
  if (confirmedAdvancedBytes !== null && confirmedAdvancedBytes > 0) return out('catching_up', []);
  // A large transaction being applied confirms nothing until it commits, but keeps arriving.
  const received = subs.map((x) => x.receivedLsn).filter((x): x is string => x !== null);
  if (received.length > 1 && lsnToBigInt(received[received.length - 1]) > lsnToBigInt(received[0])) return out('catching_up', []);
  if (copying) return out('copying', []);
  // A few kilobytes unconfirmed for a second is feedback timing (keepalives after WAL no publication carries), not a
  // stall: status stays healthy, the gates (which need `applying`) still wait or refuse.
  if (pendingBytes !== null && pendingBytes < STALL_MIN_BYTES) return out('catching_up', []);
  return out('stalled', [
    `the apply worker of ${name} on ${to} made no progress in ${Math.round(evidence.windowMs / 100) / 10} s while ${pendingBytes === null ? 'WAL' : formatBytes(pendingBytes)} of ${from}'s WAL wait, without recording an error: a lock or a long transaction on ${to} blocks it — look at pg_locks / pg_stat_activity on ${to}`,
  ]);
}

/** Slots (ours and the table-copy ones) inactive at every look and retaining WAL: each one is a problem. */
export interface SlotLook {
  side: Color;
  name: string;
  active: boolean;
  walRetainedBytes: number;
}

/** Pure: slots inactive in every observation that retain WAL (bytes > 0). Looks are grouped by side + name. */
export function inactiveSlots<T extends SlotLook>(looks: readonly T[][]): T[] {
  const byKey = new Map<string, T[]>();
  for (const round of looks) for (const s of round) byKey.set(`${s.side}/${s.name}`, [...(byKey.get(`${s.side}/${s.name}`) ?? []), s]);
  const out: T[] = [];
  for (const list of byKey.values()) {
    // Present in every round (a slot that appeared or vanished meanwhile is in transition, not forgotten).
    if (list.length !== looks.length) continue;
    if (list.every((s) => !s.active) && list[list.length - 1].walRetainedBytes > 0) out.push(list[list.length - 1]);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Observation (I/O)

/** The subscriber's half of an observation (one statement). */
export async function observeSubscriber(sub: Session, name: string): Promise<StreamObservation['subscriber']> {
  const r = await sub.q<{
    enabled: boolean;
    pid: number | null;
    received: string | null;
    apply_errors: string | null;
    sync_errors: string | null;
    not_ready: string[] | null;
  }>(
    `
    SELECT s.subenabled AS enabled,
           (SELECT w.pid FROM pg_stat_subscription w WHERE w.subid = s.oid AND w.relid IS NULL AND w.pid IS NOT NULL LIMIT 1) AS pid,
           (SELECT w.received_lsn::text FROM pg_stat_subscription w WHERE w.subid = s.oid AND w.relid IS NULL LIMIT 1) AS received,
           st.apply_error_count AS apply_errors, st.sync_error_count AS sync_errors,
           (SELECT array_agg(quote_ident(n.nspname) || '.' || quote_ident(c.relname) ORDER BY 1)
              FROM pg_subscription_rel sr JOIN pg_class c ON c.oid = sr.srrelid JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE sr.srsubid = s.oid AND sr.srsubstate NOT IN ('r', 's') AND n.nspname <> 'bgmig') AS not_ready
      FROM pg_subscription s LEFT JOIN pg_stat_subscription_stats st ON st.subid = s.oid
     WHERE s.subname = $1 AND s.subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    [name],
    `read subscription ${name} on ${sub.color}`,
  );
  const x = r.rows[0];
  if (!x) return { exists: false, enabled: false, workerPid: null, applyErrorCount: 0, syncErrorCount: 0, receivedLsn: null, tablesNotReady: [] };
  return {
    exists: true,
    enabled: x.enabled,
    workerPid: x.pid,
    applyErrorCount: Number(x.apply_errors ?? 0),
    syncErrorCount: Number(x.sync_errors ?? 0),
    receivedLsn: x.received,
    tablesNotReady: x.not_ready ?? [],
  };
}

/** The publisher's half of an observation (one statement). */
export async function observePublisher(pub: Session, slot: string): Promise<StreamObservation['publisher']> {
  const r = await pub.q<{ cur: string; active: boolean | null; confirmed: string | null; retained: string | null; found: boolean }>(
    `
    SELECT pg_current_wal_lsn()::text AS cur, sl.active, sl.confirmed_flush_lsn::text AS confirmed,
           pg_wal_lsn_diff(pg_current_wal_lsn(), sl.restart_lsn)::bigint AS retained, sl.slot_name IS NOT NULL AS found
      FROM (SELECT 1) one LEFT JOIN pg_replication_slots sl ON sl.slot_name = $1`,
    [slot],
    `read replication slot ${slot} on ${pub.color}`,
  );
  const x = r.rows[0];
  return {
    currentLsn: x.cur,
    slot: x.found ? { active: x.active === true, confirmedFlushLsn: x.confirmed, walRetainedBytes: Number(x.retained ?? 0) } : null,
  };
}

export interface ObserveOptions {
  /** Longest window (ms). The observation stops early once the stream is proven to apply. */
  windowMs: number;
  /** Pause between looks (ms). */
  intervalMs?: number;
  /** Stop early on a verdict that can only get worse by waiting (default: stop on applying only). */
  stopEarly?: (d: HealthDecision) => boolean;
  /**
   * Prove applying with a drain marker (its token's purpose, e.g. "gate:cutover"). Only for commands about to
   * change replication anyway: a read-only command (status) never writes.
   */
  marker?: string;
}

/**
 * Looks at the stream repeatedly (both ends at once) until it is proven to apply or the window ends, then decides.
 * Either session may be null (that side unreachable): the verdict is then 'unknown'. With `opts.marker`, a stream
 * not already confirmed at the first look gets a drain marker written on the publisher right after it, and each
 * later look also asks the subscriber for it — the one write, to bgmig's own replicated row, that turns "applied
 * but not yet confirmed" into proof within a poll (src/replication/marker.ts).
 */
export async function observeStream(
  pub: Session | null,
  sub: Session | null,
  ctx: HealthContext,
  opts: ObserveOptions,
): Promise<{ decision: HealthDecision; observations: StreamObservation[] }> {
  let token: string | null = null;
  const look = async (): Promise<StreamObservation> => {
    const atMs = performance.now();
    const [subscriber, publisher, applied] = await Promise.all([
      sub ? observeSubscriber(sub, ctx.subscription) : null,
      pub ? observePublisher(pub, ctx.subscription) : null,
      // The marker is an extra proof: failing to read it proves nothing either way, so the slot decides.
      sub && token !== null ? markerApplied(sub, token).catch(() => false) : undefined,
    ]);
    return { atMs, subscriber, publisher, ...(applied === undefined ? {} : { markerApplied: applied }) };
  };
  const observations = [await look()];
  const t0 = observations[0].atMs;
  let decision = decideHealth(observations, ctx);
  const stop = opts.stopEarly ?? ((d: HealthDecision) => d.applying);
  const settled = (d: HealthDecision) => stop(d) || d.verdict === 'missing' || d.verdict === 'disabled' || d.verdict === 'unknown';
  if (opts.marker && pub && !settled(decision)) {
    // Written after the first look: applied on the subscriber, it proves everything committed before that look is.
    const t = markerToken(opts.marker);
    if ((await writeMarker(pub, t)) !== null) token = t;
  }
  while (!settled(decision) && performance.now() - t0 < opts.windowMs) {
    await sleep(opts.intervalMs ?? 100);
    observations.push(await look());
    decision = decideHealth(observations, ctx);
  }
  return { decision, observations };
}

// ---------------------------------------------------------------------------------------------------------------
// Likely causes (pure): PostgreSQL 15 keeps an apply or copy error's text only in the subscriber's server log, so
// the catalogs of both sides are compared for the conditions that make applying a publisher's row fail there.

/**
 * Conditions on the subscriber that make applying the publisher's rows fail, for `tables` (qualified names; null:
 * every table both sides have), one sentence each naming table, column or constraint and the fix. Covers: a column
 * the publisher sends that the subscriber lacks (apply: "logical replication target relation … is missing
 * replicated column"), a NOT NULL column without default that the publisher does not send (23502), and unique
 * constraints/indexes or CHECK constraints that only the subscriber has (23505 / 23514 on rows the publisher holds).
 */
export function likelyCauses(catalogs: Record<Color, Catalog>, from: Color, to: Color, schemas: readonly string[], tables: readonly string[] | null): string[] {
  const pubTables = new Map(
    catalogs[from].tables.filter((t) => schemas.includes(t.schema)).map((t) => [`${quoteIdentLike(t.schema)}.${quoteIdentLike(t.name)}`, t]),
  );
  const out: string[] = [];
  for (const st of catalogs[to].tables) {
    if (!schemas.includes(st.schema)) continue;
    const key = `${quoteIdentLike(st.schema)}.${quoteIdentLike(st.name)}`;
    if (tables && !tables.includes(key)) continue;
    const pt = pubTables.get(key);
    if (!pt) continue;
    const subCols = new Map(st.columns.map((c) => [c.name, c]));
    const pubCols = new Map(pt.columns.filter((c) => c.generated === null).map((c) => [c.name, c]));
    for (const c of pubCols.keys()) {
      if (!subCols.has(c)) out.push(`${to} lacks column ${key}.${c} that ${from} sends — add it on ${to}`);
    }
    for (const c of st.columns) {
      if (c.notNull && c.default === null && c.identity === null && c.generated === null && !pubCols.has(c.name)) {
        out.push(`${key}.${c.name} on ${to} is NOT NULL without a default and ${from} does not send it — give it a default or drop NOT NULL on ${to}`);
      }
    }
    const pubUnique = new Set([
      ...pt.constraints.filter((k) => k.kind === 'unique' || k.kind === 'primary key').map((k) => k.columns.join(',')),
      ...pt.indexes.filter((i) => i.unique).map((i) => i.definition.replace(/^.*USING\s+\w+\s*/i, '')),
    ]);
    for (const k of st.constraints) {
      if ((k.kind === 'unique' || k.kind === 'primary key') && !pubUnique.has(k.columns.join(','))) {
        out.push(
          `${to} has ${k.kind} ${k.name} on ${key} (${k.columns.join(', ')}) that ${from} lacks: rows ${from} holds may violate it — drop it on ${to} or clean the data on ${from}`,
        );
      }
      if (k.kind === 'check' && !pt.constraints.some((p) => p.kind === 'check' && p.definition === k.definition)) {
        out.push(`${to} has CHECK ${k.name} on ${key} that ${from} lacks: rows ${from} holds may violate it — drop it on ${to} or clean the data on ${from}`);
      }
    }
    for (const tr of st.triggers) {
      // Apply workers and table copies run with session_replication_role = replica: only REPLICA and ALWAYS
      // triggers fire there, and one that raises rejects the publisher's rows.
      if ((tr.enabled === 'A' || tr.enabled === 'R') && tr.row && (tr.events.includes('INSERT') || tr.events.includes('UPDATE'))) {
        out.push(
          `${to} has trigger ${tr.name} on ${key} enabled ${tr.enabled === 'A' ? 'ALWAYS' : 'REPLICA'}: it runs for replicated rows and may reject them${/RAISE\s+EXCEPTION/i.test(tr.functionBody) ? ' (its function raises an exception)' : ''} — fix or disable it on ${to} (ALTER TABLE ${key} ENABLE TRIGGER ${tr.name})`,
        );
      }
    }
    const subConstraintNames = new Set(st.constraints.map((k) => k.name));
    for (const i of st.indexes) {
      if (!i.unique || subConstraintNames.has(i.name)) continue;
      const cols = i.definition.replace(/^.*USING\s+\w+\s*/i, '');
      if (!pubUnique.has(cols))
        out.push(
          `${to} has unique index ${i.name} on ${key} ${cols} that ${from} lacks: rows ${from} holds may violate it — drop it on ${to} or clean the data on ${from}`,
        );
    }
  }
  return out;
}

/** quote_ident's rule, enough for naming (the full one lives in src/db/sql.ts). */
function quoteIdentLike(s: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(s) ? s : `"${s.replace(/"/g, '""')}"`;
}
