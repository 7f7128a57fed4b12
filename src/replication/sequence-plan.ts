/**
 * Pure pairing of sequences across the switch: which sequence on the new active side continues which one on the
 * old side, and where to set it. No I/O here (src/replication/sequences.ts reads the facts and runs setval).
 *
 * Sequences are not replicated by logical replication (PostgreSQL 15/16 docs, "Logical Replication → Restrictions":
 * "Sequence data is not replicated"), so the switch sets every sequence that serves a column on the new side past
 * the value its counterpart reached on the old side. Counterparts are found through the column they serve — the
 * owned-by link (pg_depend deptype 'a'), an identity column (deptype 'i'), or a column default
 * `nextval('…'::regclass)` (pg_attrdef) — never by the sequence's own name: renaming a table does not rename its
 * identity or serial sequence, so the same column can be served by `users_id_seq` on blue and `account_id_seq` on
 * green. Only a sequence that serves no column at all is paired by its name.
 */
import type { Color } from '../core/naming.js';
import type { Catalog } from '../schema/catalog.js';
import type { SequenceMove } from './api.js';
import { tableKey, tablesInScope } from './objects.js';
import type { Offender } from './preflight.js';

/** Sequences get this many increments of headroom on the new side (a margin, never a step backwards). */
export const SEQUENCE_HEADROOM = 1000n;

/** How a sequence serves a column. */
export type ServeKind = 'identity' | 'owned' | 'default';

/** A column a sequence serves, by qualified table name (`public.account`) and column name. */
export interface ServedColumn {
  table: string;
  column: string;
  how: ServeKind;
}

/** One sequence as read from pg_sequences, pg_depend and pg_attrdef (values as decimal strings: int8 range). */
export interface SequenceFacts {
  /** Qualified, quoted as quote_ident would (`public.users_id_seq`). */
  key: string;
  /** Schema of the sequence itself. */
  schema: string;
  /** pg_sequences.last_value; null when nextval was never called. */
  last: string | null;
  increment: string;
  min: string;
  max: string;
  serves: ServedColumn[];
  /** Set when bgmig's admin role lacks UPDATE on the sequence (setval needs it): that role's name. */
  notSettableBy?: string | undefined;
}

export interface SequencePair {
  /** The old active side's sequence (source of the value). */
  old: SequenceFacts;
  /** The new active side's sequence (set by the switch). */
  neu: SequenceFacts;
  /** How they were paired: through a column both serve, or by name (sequences serving no column). */
  via: 'column' | 'name';
  kind: SequenceMove['kind'];
}

export interface SequencePlan {
  pairs: SequencePair[];
  /** Reasons the switch must not start: a new-side sequence that serves a column and cannot be set. */
  offenders: Offender[];
  /** Old-side sequences with no counterpart (nothing to set; reported, never a refusal). */
  unpaired: string[];
}

/** Tables (qualified) replicated between the sides: only their columns matter for pairing. */
export interface PairingInput {
  from: Color;
  to: Color;
  old: SequenceFacts[];
  neu: SequenceFacts[];
  /** Qualified names of the replicated tables, and for each its columns on the old side. */
  oldColumns: Map<string, Set<string>>;
}

/** The replicated tables of the old side and their (non-generated) columns: whose rows arrive from there. */
export function replicatedColumns(oldCatalog: Catalog, schemas: readonly string[]): Map<string, Set<string>> {
  return new Map(tablesInScope(oldCatalog, schemas).map((t) => [tableKey(t), new Set(t.columns.filter((c) => c.generated === null).map((c) => c.name))]));
}

/** Where the new side's sequence must be set, or null when it is already at or beyond the old side. */
export function sequenceTarget(old: { last: bigint; inc: bigint }, current: bigint | null, bounds: { min: bigint; max: bigint }): bigint | null {
  let target = old.last + old.inc * SEQUENCE_HEADROOM;
  // Near its bound there is no room for the margin: continue exactly where the old side stopped (setting the bound
  // itself would make the next nextval fail with "reached maximum value").
  if (target > bounds.max || target < bounds.min) target = old.last;
  if (current !== null && (old.inc > 0n ? current >= target : current <= target)) return null;
  return target;
}

const colKey = (c: { table: string; column: string }): string => `${c.table}.${c.column}`;

function kindOf(s: SequenceFacts): SequenceMove['kind'] {
  if (s.serves.some((c) => c.how === 'identity')) return 'identity';
  // A sequence only referenced by a column default (CREATE SEQUENCE + DEFAULT nextval) stays 'standalone'.
  return s.serves.some((c) => c.how === 'owned') ? 'owned' : 'standalone';
}

/**
 * Pairs the new side's sequences with the old side's and judges whether each can be set. A new-side sequence that
 * serves a replicated column must have exactly one old-side counterpart serving that column, whose value fits the
 * new sequence's bounds and direction; otherwise it is an offender (the first insert on the new side would collide
 * with a replicated row).
 */
export function pairSequences(input: PairingInput): SequencePlan {
  const { from, to } = input;
  const oldByColumn = new Map<string, SequenceFacts[]>();
  for (const s of input.old) {
    for (const c of s.serves) {
      const list = oldByColumn.get(colKey(c)) ?? [];
      if (!list.includes(s)) list.push(s);
      oldByColumn.set(colKey(c), list);
    }
  }
  const oldByName = new Map(input.old.map((s) => [s.key, s]));
  const pairs: SequencePair[] = [];
  const offenders: Offender[] = [];
  const used = new Set<string>();
  for (const n of [...input.neu].sort((a, b) => a.key.localeCompare(b.key))) {
    // Only columns of replicated tables that the old side also has: their rows arrive from the old side.
    const served = n.serves.filter((c) => input.oldColumns.get(c.table)?.has(c.column) === true);
    let old: SequenceFacts | null = null;
    let via: SequencePair['via'] = 'column';
    if (n.serves.length === 0) {
      const o = oldByName.get(n.key);
      if (o && o.serves.length === 0) {
        old = o;
        via = 'name';
      }
    } else if (served.length > 0) {
      const candidates = [...new Set(served.flatMap((c) => oldByColumn.get(colKey(c)) ?? []))];
      const cols = served.map(colKey).join(', ');
      if (candidates.length === 0) {
        offenders.push({
          problem: `sequence ${n.key} serves ${cols} on ${to}, but no sequence serves that column on ${from}, so bgmig cannot tell where ${to}'s sequence must continue`,
          fix: `give the column on ${from} the same identity or nextval default, or drop the default on ${to}`,
        });
        continue;
      }
      if (candidates.length > 1) {
        offenders.push({
          problem: `sequence ${n.key} serves ${cols} on ${to}, which ${candidates.map((c) => c.key).join(' and ')} serve on ${from}`,
          fix: `make one sequence serve the column on ${from}`,
        });
        continue;
      }
      old = candidates[0];
    }
    if (!old) continue;
    used.add(old.key);
    const problem = valueProblem(old, n, from, to);
    if (problem) {
      offenders.push(problem);
      continue;
    }
    pairs.push({ old, neu: n, via, kind: kindOf(n) });
  }
  const unpaired = input.old
    .filter((s) => !used.has(s.key))
    .map((s) => s.key)
    .sort();
  return { pairs, offenders, unpaired };
}

/** Whether the old side's value can be continued by the new sequence (direction and bounds). */
function valueProblem(old: SequenceFacts, n: SequenceFacts, from: Color, to: Color): Offender | null {
  if (n.notSettableBy !== undefined) {
    return {
      problem: `${n.notSettableBy} may not set sequence ${n.key} on ${to} (setval needs UPDATE on it)`,
      fix: `GRANT UPDATE ON SEQUENCE ${n.key} TO ${n.notSettableBy} on ${to}`,
    };
  }
  const oInc = BigInt(old.increment);
  const nInc = BigInt(n.increment);
  if (oInc > 0n !== nInc > 0n) {
    return {
      problem: `sequence ${n.key} on ${to} counts ${nInc > 0n ? 'up' : 'down'} but ${old.key} on ${from} counts ${oInc > 0n ? 'up' : 'down'}`,
      fix: `give ${n.key} the same direction (ALTER SEQUENCE ${n.key} INCREMENT BY ${old.increment})`,
    };
  }
  if (old.last === null) return null;
  const last = BigInt(old.last);
  const beyond = nInc > 0n ? last >= BigInt(n.max) : last <= BigInt(n.min);
  if (beyond) {
    const bound = nInc > 0n ? `maximum ${n.max}` : `minimum ${n.min}`;
    return {
      problem: `sequence ${old.key} on ${from} is at ${old.last}, at or beyond the ${bound} of ${n.key} on ${to}`,
      fix: `widen ${n.key} on ${to} (ALTER SEQUENCE ${n.key} AS bigint ${nInc > 0n ? 'MAXVALUE' : 'MINVALUE'} …) and its column's type`,
    };
  }
  return null;
}

/**
 * The setval calls for a plan, sorted by the new sequence's name: for each pair, the value for the new sequence
 * (old value + SEQUENCE_HEADROOM increments, or exactly the old value near a bound) in `set`, or null when the
 * new side is already at or beyond it (its own `last` in the plan) or the old one was never used. Pure.
 */
export function sequenceMoves(plan: SequencePlan): Array<SequenceMove & { set: string | null }> {
  return plan.pairs
    .map((p) => {
      const base = { sequence: p.neu.key, kind: p.kind, ...(p.old.key !== p.neu.key ? { source: p.old.key } : {}) };
      if (p.old.last === null) return { ...base, from: null, to: null, set: null };
      const v = sequenceTarget({ last: BigInt(p.old.last), inc: BigInt(p.neu.increment) }, p.neu.last === null ? null : BigInt(p.neu.last), {
        min: BigInt(p.neu.min),
        max: BigInt(p.neu.max),
      });
      return { ...base, from: p.old.last, to: v === null ? null : v.toString(), set: v === null ? null : v.toString() };
    })
    .sort((a, b) => a.sequence.localeCompare(b.sequence));
}
