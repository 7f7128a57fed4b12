/**
 * Which poolers bgmig is holding, journaled on both databases (bgmig.pooler_hold, never published) BEFORE the
 * PAUSE is issued and cleared only after RESUME: if bgmig dies in between (kill -9, a Lambda timeout), the next
 * `bgmig db cutover|rollback|sync status` reads it and resumes them. Rows carry the pooler's label (its admin URL
 * without password) and the entries held; the password comes from the operator's environment again.
 *
 * Both sides are written in parallel and read as a union, so a side that is down cannot hide a held pooler.
 */
import { failure, messageOf } from '../core/errors.js';
import type { Color } from '../core/naming.js';
import type { DbTarget } from '../db/connection.js';
import { openSession, type Session } from '../replication/session.js';

export interface HeldPooler {
  label: string;
  entries: string[];
  heldAt: string;
}

const DDL = `CREATE SCHEMA IF NOT EXISTS bgmig;
CREATE TABLE IF NOT EXISTS bgmig.pooler_hold (
  label text PRIMARY KEY,
  entries text[] NOT NULL,
  held_at timestamptz NOT NULL DEFAULT now()
)`;

type Targets = Record<Color, DbTarget>;

async function onEachSide<T>(targets: Targets, fn: (s: Session) => Promise<T>): Promise<Array<PromiseSettledResult<T>>> {
  const secrets = [targets.blue.password, targets.green.password];
  return Promise.allSettled(
    (['blue', 'green'] as const).map(async (c) => {
      const s = await openSession(c, targets[c], secrets);
      try {
        return await fn(s);
      } finally {
        await s.close();
      }
    }),
  );
}

function atLeastOne<T>(results: Array<PromiseSettledResult<T>>, doing: string): T[] {
  const ok = results.filter((r): r is PromiseFulfilledResult<T> => r.status === 'fulfilled').map((r) => r.value);
  if (ok.length === 0) {
    const why = results
      .map((r) => (r.status === 'rejected' ? messageOf(r.reason) : ''))
      .filter(Boolean)
      .join('; ');
    throw failure(`Could not ${doing} on either database (${why}): make at least one of them accept bgmig's connections, then run the command again.`);
  }
  return ok;
}

/** Records (upserts) the held poolers on both sides; at least one side must take it. */
export async function recordHeld(targets: Targets, held: ReadonlyArray<{ label: string; entries: string[] }>): Promise<void> {
  if (held.length === 0) return;
  const results = await onEachSide(targets, async (s) => {
    await s.q(DDL);
    await s.q(
      `INSERT INTO bgmig.pooler_hold (label, entries) SELECT l, string_to_array(e, ',') FROM unnest($1::text[], $2::text[]) AS x(l, e)
       ON CONFLICT (label) DO UPDATE SET entries = EXCLUDED.entries, held_at = now()`,
      [held.map((h) => h.label), held.map((h) => h.entries.join(','))],
      'journal the held poolers',
    );
  });
  atLeastOne(results, 'journal the held poolers');
}

/** Removes the rows of released poolers (both sides, best effort on a side that is down). */
export async function clearHeld(targets: Targets, labels: readonly string[]): Promise<void> {
  if (labels.length === 0) return;
  const results = await onEachSide(targets, async (s) => {
    const ok = await s.q<{ ok: boolean }>(`SELECT to_regclass('bgmig.pooler_hold') IS NOT NULL AS ok`);
    if (ok.rows[0].ok) await s.q('DELETE FROM bgmig.pooler_hold WHERE label = ANY($1::text[])', [labels], 'clear the held poolers');
  });
  atLeastOne(results, 'clear the held poolers');
}

/** Every pooler either side says is held (union by label). */
export async function readHeld(targets: Targets): Promise<HeldPooler[]> {
  const results = await onEachSide(targets, async (s) => {
    const ok = await s.q<{ ok: boolean }>(`SELECT to_regclass('bgmig.pooler_hold') IS NOT NULL AS ok`);
    if (!ok.rows[0].ok) return [] as HeldPooler[];
    const r = await s.q<{ label: string; entries: string[]; held_at: Date }>('SELECT label, entries, held_at FROM bgmig.pooler_hold ORDER BY label');
    return r.rows.map((x) => ({ label: x.label, entries: x.entries, heldAt: x.held_at.toISOString() }));
  });
  const byLabel = new Map<string, HeldPooler>();
  for (const list of atLeastOne(results, 'read the held poolers')) for (const h of list) byLabel.set(h.label, h);
  return [...byLabel.values()];
}
