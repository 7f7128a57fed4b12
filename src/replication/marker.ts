/**
 * The drain marker (bgmig.marker, created by src/replication/journal.ts and published by every publication): one
 * row the publisher updates and the subscriber reads. Seeing the publisher's token on the subscriber proves the
 * subscriber applied every transaction the publisher committed before the marker's, because an apply worker
 * applies transactions in commit order (PostgreSQL 15 docs, "Logical Replication — Architecture").
 *
 * It is the proof bgmig uses wherever "the subscriber has everything" must be known: the switch's drain, the
 * refresh's drain, and the gates' proof that a stream applies. The slot's confirmed_flush_lsn is not that proof on
 * its own: it moves only when the subscriber reports a flushed position, and a subscription commits asynchronously
 * by default (its synchronous_commit = off), so the report waits for the subscriber's WAL writer
 * (wal_writer_delay, up to 10 s) or its status interval (wal_receiver_status_interval) — a healthy idle stream can
 * stay "unconfirmed" for seconds. The marker answers in tens of milliseconds (FIELD-NOTES, "logical replication").
 */
import { failure, type BgmigError } from '../core/errors.js';
import type { Color } from '../core/naming.js';
import { sleep } from '../core/sleep.js';
import type { Session } from './session.js';

/** A token no earlier marker carries: `purpose` (e.g. "cutover:<op id>") plus the time and a random part. */
export function markerToken(purpose: string): string {
  return `${purpose}:${Date.now()}:${Math.random().toString(36).slice(2, 10)}`;
}

/**
 * Writes `token` into the publisher's marker row (one statement, committed on return). Returns the publisher's
 * WAL write position just after the update (pg_lsn text), or null when the marker row does not exist there
 * (replication was never started by bgmig, or the row was deleted). Database errors are the session's.
 */
export async function writeMarker(pub: Session, token: string): Promise<string | null> {
  const r = await pub.q<{ lsn: string }>(
    `WITH u AS (UPDATE bgmig.marker SET token = $1, at = clock_timestamp() WHERE id = 1 RETURNING 1) SELECT pg_current_wal_lsn()::text AS lsn FROM u`,
    [token],
    `write the drain marker on ${pub.color}`,
  );
  return r.rows[0]?.lsn ?? null;
}

/** True when the subscriber's marker row carries `token` (it applied everything committed before the marker). */
export async function markerApplied(sub: Session, token: string): Promise<boolean> {
  const r = await sub.q<{ token: string }>('SELECT token FROM bgmig.marker WHERE id = 1', undefined, `read the drain marker on ${sub.color}`);
  return r.rows[0]?.token === token;
}

/**
 * Polls the subscriber every `pollMs` until it shows `token` or `deadlineMs` (a performance.now() instant) passes.
 * Returns whether it was seen and after how many reads (at least one read is always made).
 */
export async function awaitMarker(sub: Session, token: string, deadlineMs: number, pollMs: number): Promise<{ seen: boolean; polls: number }> {
  let polls = 0;
  for (;;) {
    polls++;
    if (await markerApplied(sub, token)) return { seen: true, polls };
    if (performance.now() > deadlineMs) return { seen: false, polls };
    await sleep(pollMs);
  }
}

/** The failure (exit 1) when the publisher has no marker row: only restarting replication recreates it. */
export function markerMissing(color: Color): BgmigError {
  return failure(`the drain marker row is missing on ${color} (bgmig.marker): restart replication with \`bgmig db sync stop\` and \`bgmig db sync start\`.`);
}
