/**
 * The pooler plan, pure (the shape of src/rotation/plan.ts): from what each pooler's admin console reported, decide
 * which [databases] entries bgmig pauses and repoints, or refuse — before anything is changed — naming every
 * pooler that cannot take part and what to do about it.
 *
 * An entry takes part when it points at either database of the pair (host, port and database as SHOW DATABASES
 * reports them): at the old side normally, at the new side when a run that died after repointing left it so.
 * Refused (each one sentence with its fix):
 * - a pooler with no entry pointing at either side (it would keep sending clients somewhere bgmig does not move);
 * - an entry in `pool_mode = session`: PAUSE waits until every client disconnects (PgBouncer docs, PAUSE), so it
 *   cannot complete while applications are connected;
 * - direct mode, an entry whose configuration file bgmig cannot edit from here (the repoint is a file edit + RELOAD).
 */
import type { Color } from '../core/naming.js';
import type { Offender } from '../replication/preflight.js';
import type { PoolerEntry } from './admin.js';
import type { Endpoint } from './config.js';

/** Defaults: PAUSE of all poolers together must finish within this (running transactions end first). */
export const POOLER_DEFAULTS = {
  pauseTimeoutMs: 3_000,
} as const;

export interface PoolerObservation {
  label: string;
  entries: PoolerEntry[];
  /** [pgbouncer] pool_mode (entries without their own take it). */
  poolMode: string;
  /** SHOW CONFIG conffile. */
  conffile: string | null;
  /** Which entries the config file (or its %include files) names and bgmig can rewrite from here. */
  editable: string[];
}

export interface PoolerPlanItem {
  label: string;
  /** Entry names to PAUSE, repoint and RESUME. */
  entries: string[];
  /** Where each entry points now ('record': the db record name, which the switch moves). */
  pointsAt: Record<string, Color | 'record'>;
}

export type PoolerDecision = { kind: 'plan'; poolers: PoolerPlanItem[] } | { kind: 'refuse'; offenders: Offender[] };

const norm = (h: string | null) => (h ?? '').trim().replace(/\.$/, '').toLowerCase();
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

function sameHost(a: string | null, b: string): boolean {
  const x = norm(a);
  const y = norm(b);
  return x === y || (LOOPBACK.has(x) && LOOPBACK.has(y));
}

/** Which side an entry points at, if either. */
export function sideOf(e: Pick<PoolerEntry, 'host' | 'port' | 'database'>, sides: Record<Color, Endpoint>): Color | null {
  for (const c of ['blue', 'green'] as const) {
    const s = sides[c];
    if (sameHost(e.host, s.host) && e.port === s.port && e.database === s.database) return c;
  }
  return null;
}

/**
 * `followName`: the DNS name the switch moves (AWS mode); entries naming it (for the pair's database) take part
 * too, and need no editable file.
 */
export function decidePoolers(
  observed: readonly PoolerObservation[],
  sides: Record<Color, Endpoint>,
  opts: { needEditable: boolean; followName?: string | undefined },
): PoolerDecision {
  const offenders: Offender[] = [];
  const poolers: PoolerPlanItem[] = [];
  const seen = new Set<string>();
  for (const o of observed) {
    if (seen.has(o.label)) continue;
    seen.add(o.label);
    const follows = (e: PoolerEntry) => opts.followName !== undefined && sameHost(e.host, opts.followName) && e.database === sides.blue.database;
    const entries = o.entries.filter((e) => sideOf(e, sides) !== null || follows(e));
    if (entries.length === 0) {
      offenders.push({
        problem: `pooler ${o.label} has no [databases] entry pointing at blue (${sides.blue.host}:${sides.blue.port}/${sides.blue.database}) or green`,
        fix: `point its entry at the active database, or leave it out of --pooler`,
      });
      continue;
    }
    for (const e of entries) {
      const mode = e.poolMode ?? o.poolMode;
      if (mode === 'session') {
        offenders.push({
          problem: `entry ${e.name} of pooler ${o.label} uses pool_mode = session, where PAUSE waits for every client to disconnect`,
          fix: "use pool_mode = transaction for the applications' entry",
        });
      }
      if (opts.needEditable && !follows(e) && !o.editable.includes(e.name)) {
        offenders.push({
          problem: `bgmig cannot rewrite entry ${e.name} of pooler ${o.label} in its configuration file (${o.conffile ?? 'unknown'}) from here`,
          fix: "run bgmig where that file is writable (the pooler's host), or leave the pooler out of --pooler",
        });
      }
    }
    poolers.push({
      label: o.label,
      entries: entries.map((e) => e.name),
      pointsAt: Object.fromEntries(entries.map((e) => [e.name, sideOf(e, sides) ?? 'record'])),
    });
  }
  return offenders.length > 0 ? { kind: 'refuse', offenders } : { kind: 'plan', poolers };
}

/** Pure: the PAUSE outcome of every pooler → which to resume and whether the hold stands. */
export function decideHold(results: ReadonlyArray<{ label: string; entry: string; paused: boolean }>): { ok: true } | { ok: false; late: string[] } {
  const late = results.filter((r) => !r.paused).map((r) => `${r.entry} on ${r.label}`);
  return late.length === 0 ? { ok: true } : { ok: false, late };
}
