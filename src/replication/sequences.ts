/**
 * Sequences at the switch, I/O beside the pure pairing of sequence-plan.ts: read every sequence with the columns it
 * serves on both sides, judge before the fence (a sequence that serves a column on the new side and cannot be set
 * is a refusal, never a warning after the fence), and inside the pause set each new-side sequence past its old-side
 * counterpart with one setval statement.
 */
import { failure } from '../core/errors.js';
import type { Color } from '../core/naming.js';
import type { Catalog } from '../schema/catalog.js';
import type { SequenceMove } from './api.js';
import { refusalSentence } from './preflight.js';
import { pairSequences, replicatedColumns, sequenceMoves, type SequenceFacts, type SequencePlan, type ServeKind } from './sequence-plan.js';
import { describeTarget } from '../db/connection.js';
import { qualified, type Session } from './session.js';

/**
 * Every sequence in the replicated schemas or serving a column there, with last_value, bounds and the columns it
 * serves: owned-by and identity links from pg_depend (deptype 'a' and 'i') and column defaults that reference it
 * (pg_attrdef's dependency on the sequence, which `nextval('…'::regclass)` records). Two plain statements joined
 * here (they run inside the write pause too: on 2,000 sequences they must stay in tens of milliseconds).
 */
const SEQ_SQL = `
SELECT c.oid::int AS oid, n.nspname AS schema, c.relname AS name, pg_sequence_last_value(c.oid)::text AS last,
       ps.seqincrement::text AS inc, ps.seqmin::text AS min, ps.seqmax::text AS max,
       has_sequence_privilege(c.oid, 'UPDATE') AS settable, current_user AS role
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_sequence ps ON ps.seqrelid = c.oid
 WHERE c.relkind = 'S'`;

/** Columns served, per sequence oid. Simple joins on purpose: catalogs right after bulk DDL have no statistics. */
const SERVES_SQL = `
SELECT l.seq, tn.nspname AS schema, t.relname AS "table", a.attname AS "column", l.how
  FROM (SELECT d.objid::int AS seq, d.refobjid AS rel, d.refobjsubid AS att, CASE d.deptype WHEN 'i' THEN 'identity' ELSE 'owned' END AS how
          FROM pg_depend d
         WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass AND d.refobjsubid > 0 AND d.deptype IN ('a', 'i')
           AND d.objid IN (SELECT oid FROM pg_class WHERE relkind = 'S')
        UNION ALL
        SELECT d.refobjid::int, ad.adrelid, ad.adnum, 'default'
          FROM pg_depend d JOIN pg_attrdef ad ON ad.oid = d.objid
         WHERE d.classid = 'pg_attrdef'::regclass AND d.refclassid = 'pg_class'::regclass
           AND d.refobjid IN (SELECT oid FROM pg_class WHERE relkind = 'S')) l
  JOIN pg_class t ON t.oid = l.rel JOIN pg_namespace tn ON tn.oid = t.relnamespace
  JOIN pg_attribute a ON a.attrelid = l.rel AND a.attnum = l.att AND NOT a.attisdropped`;

/** Reads the sequences of a side (see SEQ_SQL, SERVES_SQL). Errors: a BgmigError naming the side (Session.q). */
export async function readSequenceFacts(s: Session, schemas: readonly string[]): Promise<SequenceFacts[]> {
  const seqs = await s.q<{
    oid: number;
    schema: string;
    name: string;
    last: string | null;
    inc: string;
    min: string;
    max: string;
    settable: boolean;
    role: string;
  }>(SEQ_SQL, undefined, `read the sequences on ${s.color}`);
  const links = await s.q<{ seq: number; schema: string; table: string; column: string; how: ServeKind }>(
    SERVES_SQL,
    undefined,
    `read what the sequences serve on ${s.color}`,
  );
  const serves = new Map<number, Array<{ schema: string; table: string; column: string; how: ServeKind }>>();
  for (const l of links.rows) serves.set(l.seq, [...(serves.get(l.seq) ?? []), l]);
  const inScope = new Set(schemas);
  return seqs.rows
    .filter((x) => inScope.has(x.schema) || (serves.get(x.oid) ?? []).some((c) => inScope.has(c.schema)))
    .map((x) => ({
      key: qualified(x.schema, x.name),
      schema: x.schema,
      last: x.last,
      increment: x.inc,
      min: x.min,
      max: x.max,
      ...(x.settable ? {} : { notSettableBy: x.role }),
      serves: dedupe((serves.get(x.oid) ?? []).map((c) => ({ table: qualified(c.schema, c.table), column: c.column, how: c.how }))),
    }));
}

/** A serial column is both owned-by and defaulted: keep one entry per column, the strongest link. */
function dedupe(list: SequenceFacts['serves']): SequenceFacts['serves'] {
  const rank: Record<ServeKind, number> = { identity: 3, owned: 2, default: 1 };
  const by = new Map<string, SequenceFacts['serves'][number]>();
  for (const c of list) {
    const k = `${c.table}.${c.column}`;
    const prev = by.get(k);
    if (!prev || rank[c.how] > rank[prev.how]) by.set(k, c);
  }
  return [...by.values()].sort((a, b) => `${a.table}.${a.column}`.localeCompare(`${b.table}.${b.column}`));
}

/** Reads both sides and pairs their sequences (used by the gate before the fence and by the step inside it). */
export async function planSequences(old: Session, neu: Session, schemas: readonly string[], oldCatalog: Catalog): Promise<SequencePlan> {
  const [o, n] = await Promise.all([readSequenceFacts(old, schemas), readSequenceFacts(neu, schemas)]);
  return pairSequences({ from: old.color, to: neu.color, old: o, neu: n, oldColumns: replicatedColumns(oldCatalog, schemas) });
}

/**
 * Pairings judged at the gates, remembered for the pause of the same run: inside the pause only the values can have
 * changed (the old side is fenced), so the step re-reads values, not what every sequence serves. Keyed by the two
 * servers, the direction and the schemas; older than REMEMBER_MS, or failing in any way, means a full re-read.
 */
const remembered = new Map<string, { at: number; plan: SequencePlan }>();
const REMEMBER_MS = 120_000;

const memoKey = (old: Session, neu: Session, schemas: readonly string[]): string =>
  `${old.color}>${neu.color}|${describeTarget(old.target)}|${describeTarget(neu.target)}|${[...schemas].sort().join(',')}`;

/** Called by the gates once the pairing passed (no offenders). */
export function rememberSequencePlan(old: Session, neu: Session, schemas: readonly string[], plan: SequencePlan): void {
  remembered.set(memoKey(old, neu, schemas), { at: performance.now(), plan });
}

/** Re-reads only the values of a remembered pairing (one statement per side, in parallel) and judges them again. */
async function refreshValues(old: Session, neu: Session, schemas: readonly string[], oldCatalog: Catalog): Promise<SequencePlan | null> {
  const key = memoKey(old, neu, schemas);
  const memo = remembered.get(key);
  remembered.delete(key);
  if (!memo || performance.now() - memo.at > REMEMBER_MS) return null;
  const sql = `SELECT x.k, pg_sequence_last_value(x.k::regclass)::text AS v FROM unnest($1::text[]) WITH ORDINALITY AS x(k, i) ORDER BY x.i`;
  const olds = [...new Map(memo.plan.pairs.map((p) => [p.old.key, p.old])).values()];
  const neus = memo.plan.pairs.map((p) => p.neu);
  const [o, n] = await Promise.all([
    old.q<{ k: string; v: string | null }>(sql, [olds.map((x) => x.key)], `read the sequences on ${old.color}`),
    neu.q<{ k: string; v: string | null }>(sql, [neus.map((x) => x.key)], `read the sequences on ${neu.color}`),
  ]);
  const oldNow = olds.map((x, i) => ({ ...x, last: o.rows[i]?.v ?? null }));
  const neuNow = neus.map((x, i) => ({ ...x, last: n.rows[i]?.v ?? null }));
  return pairSequences({ from: old.color, to: neu.color, old: oldNow, neu: neuNow, oldColumns: replicatedColumns(oldCatalog, schemas) });
}

/**
 * The switch's sequences step (inside the pause the old side is fenced, so its values are final): the pairing the
 * gates judged, with fresh values — or, for a resumed run, a full re-read and re-pairing — then every new-side
 * sequence that is behind is set with one setval statement. A problem found now (a value past a bound, the schema
 * changed after the gate) throws, so the switch undoes before the point of no return. Returns what was moved.
 */
export async function moveSequences(old: Session, neu: Session, schemas: readonly string[], oldCatalog: Catalog, to: Color): Promise<SequenceMove[]> {
  const fast = await refreshValues(old, neu, schemas, oldCatalog).catch(() => null);
  const plan = fast ?? (await planSequences(old, neu, schemas, oldCatalog));
  if (plan.offenders.length > 0) throw failure(refusalSentence(`The sequences on ${to} cannot be set`, plan.offenders));
  const moves = sequenceMoves(plan);
  const set = moves.filter((m) => m.set !== null);
  if (set.length > 0) {
    await neu.q(
      `SELECT count(setval(x.seq::regclass, x.v, true)) FROM unnest($1::text[], $2::bigint[]) AS x(seq, v)`,
      [set.map((m) => m.sequence), set.map((m) => m.set)],
      `set the sequences on ${to}`,
    );
  }
  return moves.map(({ set: _set, ...m }) => m);
}
