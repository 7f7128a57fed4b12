/**
 * Creating a logical replication slot waits until every transaction that holds a transaction id on the publisher
 * has ended (the snapshot builder needs a consistent point: https://www.postgresql.org/docs/15/logicaldecoding-explanation.html),
 * so one session left "idle in transaction" after a write holds `sync start` — and the table copies, whose workers
 * create slots too — for as long as it stays open. This module names such sessions while the wait goes on and in
 * the refusal when it runs out: pid, application, role, client, how long the transaction has been open, and what
 * to do. The wait is a heavyweight lock on the blocker's transaction id, so pg_blocking_pids() finds it exactly.
 */
import { BgmigError, refused } from '../core/errors.js';
import type { Color } from '../core/naming.js';
import type { ProgressFn } from './api.js';
import { DEFAULT_STATEMENT_MS, openSession, type Session } from './session.js';
import { sleep } from '../core/sleep.js';

/** A session whose open transaction holds up slot creation (or anything else waiting on it). */
export interface Blocker {
  pid: number;
  application: string;
  role: string | null;
  client: string | null;
  /** Seconds since its transaction started (pg_stat_activity.xact_start). */
  openSeconds: number;
  /** pg_stat_activity.state: 'idle in transaction', 'active', … */
  state: string | null;
  /** pg_stat_activity.backend_type: 'client backend' for an application or operator session. */
  backendType: string;
}

/** Default bound for the slot-creation wait. */
export const DEFAULT_SLOT_WAIT_MS = 30_000;

/** Pure: one clause per blocker, e.g. `pid 4711 (application "billing", role app_rw, transaction open for 41 s, idle in transaction)`. */
export function describeBlockers(blockers: readonly Blocker[]): string {
  return blockers
    .map(
      (b) =>
        `pid ${b.pid} (${b.application ? `application "${b.application}", ` : ''}role ${b.role ?? '?'}${b.client ? ` from ${b.client}` : ''}, transaction open for ${b.openSeconds} s${b.state ? `, ${b.state}` : ''})`,
    )
    .join(', ');
}

/** Pure: the fix, naming each pid. */
export function blockerFix(side: Color, blockers: readonly Blocker[]): string {
  const pids = blockers.map((b) => b.pid);
  return `let ${pids.length > 1 ? 'them' : 'it'} finish or end ${pids.length > 1 ? 'them' : 'it'} (${pids.map((p) => `SELECT pg_terminate_backend(${p})`).join('; ')} on ${side})`;
}

const BLOCKERS_SQL = `
  SELECT a.pid, a.application_name AS app, a.usename AS role, host(a.client_addr) AS client, a.state, a.backend_type AS btype,
         round(extract(epoch FROM now() - a.xact_start))::int AS open_s
    FROM pg_stat_activity a WHERE a.pid = ANY($1::int[]) ORDER BY a.xact_start`;

/** Sessions blocking any of `pids` (pg_blocking_pids), with what identifies them. */
export async function readBlockers(s: Session, pids: readonly number[]): Promise<Blocker[]> {
  if (pids.length === 0) return [];
  const b = await s.q<{ pids: number[] | null }>(`SELECT array_agg(DISTINCT x) AS pids FROM unnest($1::int[]) p, unnest(pg_blocking_pids(p)) x`, [pids]);
  const blocking = b.rows[0]?.pids ?? [];
  if (blocking.length === 0) return [];
  const r = await s.q<{ pid: number; app: string; role: string | null; client: string | null; state: string | null; btype: string; open_s: number | null }>(
    BLOCKERS_SQL,
    [blocking],
  );
  return r.rows.map((x) => ({
    pid: x.pid,
    application: x.app,
    role: x.role,
    client: x.client,
    state: x.state,
    backendType: x.btype,
    openSeconds: x.open_s ?? 0,
  }));
}

/** Walsenders of this database waiting for a transaction to end (table-copy workers creating their slots). */
export async function walsendersBlocked(s: Session): Promise<Blocker[]> {
  const r = await s.q<{ pid: number }>(
    `SELECT pid FROM pg_stat_activity WHERE backend_type = 'walsender' AND wait_event = 'transactionid' AND datname = current_database()`,
  );
  return readBlockers(
    s,
    r.rows.map((x) => x.pid),
  );
}

/**
 * Creates the logical slot `slot` (pgoutput) on the publisher through `pub`, waiting at most `waitMs` for the
 * transactions open there. While it waits, the blocking sessions are read through a second connection and
 * announced (once per new set). Running out of time cancels the creation (PostgreSQL drops the half-made
 * ephemeral slot) and refuses (exit 3) naming every blocker and its fix.
 */
export async function createSlotWatched(pub: Session, slot: string, waitMs: number, progress: ProgressFn, then: string): Promise<void> {
  const pidRow = await pub.q<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  const myPid = pidRow.rows[0].pid;
  let watcher: Session | null = null;
  let lastSeen: Blocker[] = [];
  let announced = '';
  let done = false;
  const watch = (async () => {
    await sleep(1_000);
    while (!done) {
      try {
        watcher ??= await openSession(pub.color, pub.target);
        const blockers = await readBlockers(watcher, [myPid]);
        if (blockers.length > 0) lastSeen = blockers;
        const key = blockers.map((b) => b.pid).join(',');
        if (blockers.length > 0 && key !== announced && !done) {
          announced = key;
          progress({
            kind: 'log',
            level: 'warn',
            text: `creating replication slot ${slot} on ${pub.color} waits for transactions open there: ${describeBlockers(blockers)} — ${blockerFix(pub.color, blockers)}`,
          });
        }
      } catch {
        // Watching is best effort: the wait itself is bounded by the statement timeout.
      }
      await sleep(500);
    }
  })();
  await pub.bound(waitMs);
  try {
    await pub.q(
      `SELECT pg_create_logical_replication_slot($1, 'pgoutput') WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = $1)`,
      [slot],
      `create replication slot ${slot} on ${pub.color}`,
    );
  } catch (e) {
    const code = (e as { cause?: { code?: string } }).cause?.code;
    if (code === '57014' || (e instanceof BgmigError && /statement timeout/.test(e.message))) {
      // Read the blockers once more (the watcher may not have had its first look yet).
      const now = await (async () => {
        try {
          watcher ??= await openSession(pub.color, pub.target);
          return await readBlockers(watcher, [myPid]);
        } catch {
          return [];
        }
      })();
      const blockers = now.length > 0 ? now : lastSeen;
      const secs = Math.round(waitMs / 1000);
      if (blockers.length > 0) {
        throw refused(
          `Creating replication slot ${slot} on ${pub.color} waited ${secs} s for transactions open there to end: ${describeBlockers(blockers)} — ${blockerFix(pub.color, blockers)}, then ${then}; nothing was changed.`,
          { blockers },
        );
      }
      throw refused(
        `Creating replication slot ${slot} on ${pub.color} did not finish within ${secs} s: a transaction open on ${pub.color} holds it up (look for "idle in transaction" sessions in pg_stat_activity there and end them), then ${then}; nothing was changed.`,
      );
    }
    throw e;
  } finally {
    done = true;
    await pub.bound(DEFAULT_STATEMENT_MS).catch(() => undefined);
    await watch;
    await (watcher as Session | null)?.close();
  }
}
