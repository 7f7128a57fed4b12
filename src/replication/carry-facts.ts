/**
 * Reads what carry.ts judges beyond the catalog model, from one side: unlogged tables, column types with the
 * closure of types they reach (for the equality check of REPLICA IDENTITY FULL), large objects, and the foreign
 * keys that reference replicated tables. Three bounded statements on the admin session.
 */
import type { Color } from '../core/naming.js';
import type { Catalog } from '../schema/catalog.js';
import { judgeBothDirections, type CarryFacts, type TypeFacts } from './carry.js';
import type { Offender } from './preflight.js';
import { readSequenceFacts, rememberSequencePlan } from './sequences.js';
import { qualified, side, type Session, type Sessions } from './session.js';

const TABLES_SQL = `
SELECT n.nspname AS schema, c.relname AS name, c.relpersistence = 'u' AS unlogged,
       NOT pg_has_role(c.relowner, 'USAGE') AS not_owned,
       NOT has_table_privilege(c.oid, 'SELECT') AS cannot_read,
       NOT (has_table_privilege(c.oid, 'INSERT') AND has_table_privilege(c.oid, 'UPDATE') AND has_table_privilege(c.oid, 'DELETE')
            AND has_table_privilege(c.oid, 'TRUNCATE')) AS cannot_apply,
       c.relrowsecurity AND NOT (SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user)
         AND (c.relforcerowsecurity OR NOT pg_has_role(c.relowner, 'USAGE')) AS rls_blocks,
       coalesce(json_object_agg(a.attname, a.atttypid::int) FILTER (WHERE a.attname IS NOT NULL), '{}'::json) AS cols
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
 WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY($1::text[])
 GROUP BY n.nspname, c.relname, c.relpersistence, c.relowner, c.oid, c.relrowsecurity, c.relforcerowsecurity`;

/**
 * Types by oid, each with whether a default btree or hash opclass accepts it: directly, through a binary-coercible
 * cast (varchar → text_ops), or polymorphically (enums, ranges, multiranges). Arrays and composites are decided in
 * carry.ts from their parts, as PostgreSQL's type cache does; readCarryFacts follows domains, elements and
 * attributes until the set is closed (a plain `= ANY` lookup per round keeps the plan cheap: a recursive CTE here
 * was estimated so high that JIT compilation alone took seconds).
 */
const TYPES_SQL = `
SELECT t.oid::int AS oid, format_type(t.oid, NULL) AS name, t.typtype AS kind, t.typbasetype::int AS base,
       CASE WHEN t.typelem <> 0 AND t.typsubscript = 'array_subscript_handler'::regproc THEN t.typelem::int END AS element,
       CASE WHEN t.typtype = 'c' THEN (SELECT array_agg(a.atttypid::int ORDER BY a.attnum) FROM pg_attribute a
                                        WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped) END AS attributes,
       EXISTS (SELECT 1 FROM pg_opclass oc JOIN pg_am am ON am.oid = oc.opcmethod
                WHERE oc.opcdefault AND am.amname IN ('btree', 'hash')
                  AND (oc.opcintype = t.oid
                       OR (t.typtype = 'e' AND oc.opcintype = 'anyenum'::regtype)
                       OR (t.typtype = 'r' AND oc.opcintype = 'anyrange'::regtype)
                       OR (t.typtype = 'm' AND oc.opcintype = 'anymultirange'::regtype)
                       OR EXISTS (SELECT 1 FROM pg_cast k WHERE k.castsource = t.oid AND k.casttarget = oc.opcintype AND k.castmethod = 'b'))) AS opclass
  FROM pg_type t WHERE t.oid = ANY($1::oid[])`;

const REST_SQL = `
SELECT current_user AS role, (SELECT count(*)::int FROM pg_largeobject_metadata) AS large_objects,
       coalesce((SELECT json_agg(json_build_object('constraint', k.conname, 'fs', fn.nspname, 'ft', f.relname, 'ts', tn.nspname, 'tt', t.relname))
                   FROM pg_constraint k JOIN pg_class t ON t.oid = k.confrelid JOIN pg_namespace tn ON tn.oid = t.relnamespace
                   JOIN pg_class f ON f.oid = k.conrelid JOIN pg_namespace fn ON fn.oid = f.relnamespace
                  WHERE k.contype = 'f' AND k.conparentid = 0 AND tn.nspname = ANY($1::text[])), '[]'::json) AS fks`;

/** Reads one side's CarryFacts for the replicated schemas. Errors: a BgmigError naming the side (Session.q). */
export async function readCarryFacts(s: Session, schemas: readonly string[]): Promise<CarryFacts> {
  type TableRow = {
    schema: string;
    name: string;
    unlogged: boolean;
    not_owned: boolean;
    cannot_read: boolean;
    cannot_apply: boolean;
    rls_blocks: boolean;
    cols: Record<string, number>;
  };
  const tables = await s.q<TableRow>(TABLES_SQL, [schemas], `read the tables on ${s.color}`);
  const typeMap = new Map<number, TypeFacts>();
  let todo = [...new Set(tables.rows.flatMap((t) => Object.values(t.cols)))];
  for (let round = 0; todo.length > 0 && round < 20; round++) {
    const r = await s.q<{ oid: number; name: string; kind: string; base: number; element: number | null; attributes: number[] | null; opclass: boolean }>(
      TYPES_SQL,
      [todo],
      `read the column types on ${s.color}`,
    );
    for (const t of r.rows)
      typeMap.set(t.oid, { name: t.name, kind: t.kind, base: t.base, element: t.element, attributes: t.attributes, defaultOpclass: t.opclass });
    const next = r.rows.flatMap((t) => [t.kind === 'd' ? t.base : 0, t.element ?? 0, ...(t.attributes ?? [])]);
    todo = [...new Set(next)].filter((o) => o !== 0 && !typeMap.has(o));
  }
  const sequences = await readSequenceFacts(s, schemas);
  const rest = await s.q<{ role: string; large_objects: number; fks: Array<{ constraint: string; fs: string; ft: string; ts: string; tt: string }> }>(
    REST_SQL,
    [schemas],
    `read large objects and foreign keys on ${s.color}`,
  );
  const names = (f: (t: TableRow) => boolean) => tables.rows.filter(f).map((t) => qualified(t.schema, t.name));
  return {
    unlogged: tables.rows.filter((t) => t.unlogged).map((t) => qualified(t.schema, t.name)),
    columnTypes: new Map(tables.rows.map((t) => [qualified(t.schema, t.name), new Map(Object.entries(t.cols))])),
    types: typeMap,
    sequences,
    largeObjects: rest.rows[0].large_objects,
    admin: {
      role: rest.rows[0].role,
      notOwned: names((t) => t.not_owned),
      cannotRead: names((t) => t.cannot_read),
      cannotApply: names((t) => t.cannot_apply),
      rlsBlocks: names((t) => t.rls_blocks),
    },
    foreignKeys: rest.rows[0].fks.map((k) => ({ constraint: k.constraint, from: qualified(k.fs, k.ft), to: qualified(k.ts, k.tt) })),
  };
}

/**
 * The carry judgement of a switch's gates, before anything is fenced: both directions from the live catalogs (the
 * reverse publication is about to be created, a schema may have changed since `sync start`, and large objects may
 * have appeared) and the sequences the new side needs set. Returns offenders; the gates refuse on any.
 */
export async function switchCarryOffenders(
  s: Sessions,
  from: Color,
  to: Color,
  schemas: readonly string[],
  catalogs: Record<Color, Catalog>,
): Promise<Offender[]> {
  const [fFrom, fTo] = await Promise.all([readCarryFacts(side(s, from), schemas), readCarryFacts(side(s, to), schemas)]);
  const j = judgeBothDirections(from, to, schemas, catalogs, { [from]: fFrom, [to]: fTo } as Record<Color, CarryFacts>);
  // The pause of this run re-reads only the values of this pairing (sequences.ts).
  if (j.sequences.offenders.length === 0) rememberSequencePlan(side(s, from), side(s, to), schemas, j.sequences);
  return j.offenders;
}
