/**
 * What logical replication can carry from one side to the other, and the shape of the publication that carries it.
 * Pure: the judgement of one direction (publisher → subscriber) from both catalogs and a few facts the catalog model
 * does not hold (CarryFacts, read by carry-facts.ts). Sources: PostgreSQL 15/16 docs, "Logical Replication →
 * Restrictions", "→ Column Lists", "→ Publication" (replica identity), CREATE PUBLICATION's notes, and the apply
 * worker's checks in src/backend/replication/logical/relation.c and executor/execReplication.c.
 *
 * Each member of the class "replication would break or lose something" is either an Offender here (refused before
 * anything is created, naming the object and the fix) or carried by the shape:
 *
 * - Shape: a table whose subscriber has every published column is published WITHOUT a column list (a list must
 *   cover the replica identity — for REPLICA IDENTITY FULL every column — or PostgreSQL refuses the publisher's
 *   UPDATE and DELETE). A list is used only where the subscriber lacks columns (the reverse direction, green's
 *   new columns), and then it must cover the identity: a FULL table with columns the subscriber lacks is refused.
 * - Replica identity on the publisher (and on every leaf partition of a published partitioned table).
 * - The subscriber must find the rows: its identity key (replica-identity index or primary key) must be among what
 *   the publisher sends as the old row's key; without one, the publisher must be FULL, and then every column is
 *   compared with its type's default equality operator (btree or hash opclass): json, xml, point … have none.
 * - Generated columns are not replicated: generated on the publisher but plain on the subscriber leaves NULLs.
 * - Unlogged tables cannot be published; large objects are not replicated; TRUNCATE fails on a subscriber whose
 *   tables are referenced by foreign keys from tables outside the subscription.
 * - Values the subscriber refuses (forward only; the reverse is the validator's rollback verdict, accepted or
 *   fixed at `db cutover`): narrower types, enum labels it lacks, NOT NULL where the publisher allows NULL,
 *   subscriber-only NOT NULL columns without a default, subscriber-only CHECK/UNIQUE/EXCLUDE constraints, unique
 *   indexes and domain constraints.
 * - Privileges of the admin role that publishes and subscribes: table ownership on the publisher, SELECT for the
 *   copy, write privileges and row-level security on the subscriber.
 */
import type { Color } from '../core/naming.js';
import type { Catalog, Column, DomainType, Table } from '../schema/catalog.js';
import { qualify } from '../db/sql.js';
import { canAssign } from '../schema/type-compat.js';
import { identityColumns, publishedColumns, tableKey, tablesInScope } from './objects.js';
import type { Offender } from './preflight.js';
import { pairSequences, replicatedColumns, type SequenceFacts, type SequencePlan } from './sequence-plan.js';

/** One type as the equality check needs it (pg_type plus whether a default btree/hash opclass accepts it). */
export interface TypeFacts {
  /** format_type(oid, NULL). */
  name: string;
  /** pg_type.typtype: b base, d domain, e enum, c composite, r range, m multirange, p pseudo. */
  kind: string;
  /** Domains: the base type's oid (0 otherwise). */
  base: number;
  /** Arrays: the element type's oid (null otherwise). */
  element: number | null;
  /** Composites: the attribute types' oids (null otherwise). */
  attributes: number[] | null;
  /** A default btree or hash operator class accepts this type (directly, binary-coercibly or polymorphically). */
  defaultOpclass: boolean;
}

/** What a side holds beyond the catalog model. Keys: qualified table names as tableKey() spells them. */
export interface CarryFacts {
  /** UNLOGGED tables in the replicated schemas. */
  unlogged: string[];
  /** `table` → column name → type oid, for every table column in the replicated schemas. */
  columnTypes: Map<string, Map<string, number>>;
  /** Every type reachable from those columns (domains, arrays and composites followed). */
  types: Map<number, TypeFacts>;
  /** pg_largeobject_metadata rows in the database. */
  largeObjects: number;
  /** Foreign keys that reference a table of the replicated schemas (from anywhere in the database). */
  foreignKeys: Array<{ constraint: string; from: string; to: string }>;
  /**
   * What bgmig's admin role (which creates the publication and owns the subscription) may do, per table:
   * CREATE PUBLICATION … FOR TABLE needs ownership (CREATE PUBLICATION docs); the initial copy needs SELECT on the
   * publisher; the apply worker needs INSERT, UPDATE, DELETE and TRUNCATE on the subscriber and, unless it bypasses
   * row-level security, cannot write into a table with RLS enabled (PostgreSQL 15+: "cannot replicate into relation
   * with row-level security enabled"). Aurora's master user is rds_superuser, not a superuser, so these bite there.
   */
  admin: { role: string; notOwned: string[]; cannotRead: string[]; cannotApply: string[]; rlsBlocks: string[] };
  /** Sequences with the columns they serve (sequences.ts), for judging the next switch's pairing. */
  sequences: SequenceFacts[];
}

export type DirectionRole = 'forward' | 'reverse';

export interface DirectionInput {
  /** forward: blue → green (green must hold everything); reverse: green → blue (see roleOf). */
  role: DirectionRole;
  pub: Color;
  sub: Color;
  schemas: readonly string[];
  pubCatalog: Catalog;
  subCatalog: Catalog;
  pubFacts: CarryFacts;
  subFacts: CarryFacts;
}

export interface TableShape {
  schema: string;
  name: string;
  /** Columns sent; null: no column list (every column, which is what keeps FULL identities valid). */
  columns: string[] | null;
}

export interface DirectionJudgement {
  tables: TableShape[];
  /** Publisher tables the subscriber lacks (not published). */
  missingOnSubscriber: string[];
  offenders: Offender[];
}

const OID_TYPE = 26;

/**
 * Whether PostgreSQL's type cache finds an equality operator for the type (lookup_type_cache with
 * TYPECACHE_EQ_OPR): domains use their base type, arrays need it for their element, composites for every
 * attribute; otherwise a default btree or hash opclass must accept the type.
 */
export function hasEquality(oid: number, types: ReadonlyMap<number, TypeFacts>, seen: Set<number> = new Set()): boolean {
  const t = types.get(oid);
  if (!t) return true; // not read (outside the closure): do not refuse on a guess
  if (seen.has(oid)) return true;
  seen.add(oid);
  if (t.kind === 'd') return hasEquality(t.base, types, seen);
  if (t.element !== null) return hasEquality(t.element, types, seen);
  if (t.kind === 'c') return (t.attributes ?? []).every((a) => hasEquality(a, types, seen));
  return t.defaultOpclass;
}

/** The type a column resolves to through domains (for the large-object check: `lo` is a domain over oid). */
function resolvesTo(oid: number, target: number, types: ReadonlyMap<number, TypeFacts>): boolean {
  for (let cur = oid, i = 0; i < 20; i++) {
    if (cur === target) return true;
    const t = types.get(cur);
    if (t?.kind !== 'd') return false;
    cur = t.base;
  }
  return false;
}

/** The subscriber's key for finding rows: replica-identity index, else primary key (relation.c), else null. */
export function subscriberKey(t: Table): string[] | null {
  if (t.replicaIdentity === 'index' || (t.replicaIdentity === 'default' && t.hasPrimaryKey)) {
    const cols = identityColumns(t);
    if (cols) return cols;
  }
  const pk = t.constraints.find((c) => c.kind === 'primary key');
  return pk ? pk.columns : null;
}

/** Leaf and intermediate partitions of a partitioned table, from the catalog (every level). */
function partitionsOf(c: Catalog, root: Table): Table[] {
  const out: Table[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const p = queue.shift() as Table;
    for (const t of c.tables) {
      if (t.partitionOf && t.partitionOf.schema === p.schema && t.partitionOf.name === p.name) {
        out.push(t);
        queue.push(t);
      }
    }
  }
  return out;
}

const hasUsableIdentity = (t: Table): boolean => identityColumns(t) !== null && !(t.replicaIdentity === 'default' && !t.hasPrimaryKey);
const plain = (cols: Column[]): Column[] => cols.filter((c) => c.generated === null);

/** One published table under judgement: both sides' definitions and where refusals go. */
interface TableCheck {
  input: DirectionInput;
  key: string;
  /** The publisher's table. */
  t: Table;
  /** The subscriber's table of the same name. */
  other: Table;
  /** Leaf partitions of a partitioned publisher table (identity is per partition). */
  parts: Table[];
  enums: { pub: Map<string, string[]>; sub: Map<string, string[]> };
  domains: { pub: Map<string, DomainType>; sub: Map<string, DomainType> };
  refuse: (problem: string, fix: string) => void;
}

/** Judges one direction: the publication's shape and everything that would break or lose data. */
export function judgeDirection(input: DirectionInput): DirectionJudgement {
  const { role, pub, sub, schemas, pubCatalog, subCatalog, subFacts } = input;
  const out: DirectionJudgement = { tables: [], missingOnSubscriber: [], offenders: [] };
  const refuse = (problem: string, fix: string) => {
    out.offenders.push({ problem, fix });
  };
  const subTables = new Map(tablesInScope(subCatalog, schemas).map((t) => [tableKey(t), t]));
  const pubTables = tablesInScope(pubCatalog, schemas);
  const replicated = new Set(pubTables.map(tableKey).filter((k) => subTables.has(k)));
  const enumLabels = (c: Catalog) => new Map(c.enums.map((e) => [qualify(e.schema, e.name), e.values]));
  const domainsOf = (c: Catalog) => new Map(c.domains.map((d) => [qualify(d.schema, d.name), d]));
  const enums = { pub: enumLabels(pubCatalog), sub: enumLabels(subCatalog) };
  const domains = { pub: domainsOf(pubCatalog), sub: domainsOf(subCatalog) };

  for (const t of pubTables) {
    const key = tableKey(t);
    const other = subTables.get(key);
    if (!other) {
      out.missingOnSubscriber.push(key);
      if (role === 'forward') refuse(`table ${key} is missing on ${sub}`, `create it on ${sub} (apply the schema migrations there first)`);
      continue;
    }
    const parts = t.kind === 'partitioned table' ? partitionsOf(pubCatalog, t).filter((p) => p.kind !== 'partitioned table') : [];
    const c: TableCheck = { input, key, t, other, parts, enums, domains, refuse };
    checkPublisherTable(c);
    const missing = checkColumns(c);
    if (role === 'forward') checkSubscriberRules(c);
    checkAdmin(c);
    const shape = checkShape(c, missing);
    out.tables.push({ schema: t.schema, name: t.name, columns: shape.columns });
    checkRowMatching(c, shape.pubFull, shape.sent);
    checkLargeObjects(c);
  }

  // TRUNCATE: the subscriber truncates the same tables; a foreign key from a table outside the subscription fails it.
  for (const fk of subFacts.foreignKeys) {
    if (replicated.has(fk.to) && !replicated.has(fk.from)) {
      refuse(
        `foreign key ${fk.constraint} of ${fk.from} on ${sub} references ${fk.to}, but ${fk.from} is not replicated from ${pub}, so a TRUNCATE of ${fk.to} on ${pub} would stop replication`,
        `replicate ${fk.from} too (create it on ${pub}, or add its schema with --schema), or drop the constraint on ${sub}`,
      );
    }
  }
  return out;
}

/** The publisher's table itself: can it be published without breaking its own UPDATE and DELETE? */
function checkPublisherTable(c: TableCheck): void {
  const { key, t, parts, refuse } = c;
  const { pub, pubFacts } = c.input;
  if (pubFacts.unlogged.includes(key)) {
    refuse(`table ${key} is UNLOGGED on ${pub}, and logical replication cannot publish unlogged tables`, `run ALTER TABLE ${key} SET LOGGED on ${pub}`);
  }
  if (!hasUsableIdentity(t)) {
    refuse(
      `table ${key} on ${pub} has no replica identity, so its UPDATE and DELETE would fail once it is published`,
      `add a primary key or run ALTER TABLE ${key} REPLICA IDENTITY FULL on ${pub}`,
    );
  }
  for (const p of parts) {
    // Replica identity is per partition: FULL on the root does not reach its partitions.
    if (!hasUsableIdentity(p)) {
      refuse(
        `partition ${tableKey(p)} of ${key} on ${pub} has no replica identity, so UPDATE and DELETE on it would fail once ${key} is published`,
        `add a primary key on ${key} or run ALTER TABLE ${tableKey(p)} REPLICA IDENTITY FULL on ${pub}`,
      );
    }
  }
}

/** Column by column: what is sent and whether the subscriber can apply it. Returns the columns it lacks. */
function checkColumns(c: TableCheck): string[] {
  const { key, t, other, refuse } = c;
  const { role, pub, sub } = c.input;
  const subCols = new Map(other.columns.map((c) => [c.name, c]));
  const pubCols = new Map(t.columns.map((c) => [c.name, c]));
  const missing: string[] = [];
  for (const col of t.columns) {
    const sc = subCols.get(col.name);
    if (col.generated !== null) {
      if (sc && sc.generated === null) {
        refuse(
          `column ${key}.${col.name} is generated on ${pub} but a plain column on ${sub}: generated columns are not replicated, so ${sub}'s column would be NULL (or its default) in every replicated row`,
          `make it GENERATED ALWAYS AS (${col.generated}) STORED on ${sub} too`,
        );
      }
      continue;
    }
    if (!sc) {
      missing.push(col.name);
      if (role === 'forward') refuse(`column ${key}.${col.name} is missing on ${sub}`, `add it on ${sub} (replication would stop at the first row)`);
      continue;
    }
    if (sc.generated !== null) {
      refuse(
        `column ${key}.${col.name} is generated on ${sub} but not on ${pub}, so the value ${pub} sends cannot be applied`,
        `make it a plain column on ${sub}, or generated on both`,
      );
      continue;
    }
    if (role !== 'forward') continue;
    // Values the subscriber refuses stop its apply worker (the reverse is judged by the validator's rollback verdict).
    if (!canAssign(col.type, sc.type)) {
      refuse(
        `column ${key}.${col.name} is ${col.type.name} on ${pub} but ${sc.type.name} on ${sub}, which cannot hold every value`,
        `change it on ${sub} to ${col.type.name} or a wider type`,
      );
    } else if (col.type.kind === 'e' && col.type.name === sc.type.name) {
      const lacking = (c.enums.pub.get(col.type.base) ?? []).filter((l) => !(c.enums.sub.get(sc.type.base) ?? []).includes(l));
      if (lacking.length > 0) {
        refuse(
          `column ${key}.${col.name} is of enum ${col.type.base}, whose label(s) ${lacking.map((l) => `'${l}'`).join(', ')} ${sub}'s ${sc.type.base} lacks`,
          `add them on ${sub} (ALTER TYPE ${sc.type.base} ADD VALUE …)`,
        );
      }
    }
    if (sc.notNull && !col.notNull && !isKeyColumn(t, col.name)) {
      refuse(
        `column ${key}.${col.name} is NOT NULL on ${sub} but nullable on ${pub}, so a NULL written on ${pub} would stop replication`,
        `make it NOT NULL on ${pub} first, or nullable on ${sub}`,
      );
    }
  }
  for (const sc of plain(other.columns)) {
    if (!pubCols.has(sc.name) && sc.notNull && sc.default === null && sc.identity === null) {
      refuse(
        `column ${key}.${sc.name} exists only on ${sub}, is NOT NULL and has no default, so every row from ${pub} would be refused`,
        `give it a default on ${sub} or make it nullable`,
      );
    }
  }
  return missing;
}

/**
 * Rules the subscriber enforces that the publisher does not: the first row breaking one stops its apply worker
 * (CHECK, UNIQUE, EXCLUDE, unique indexes, domain constraints). Constrain the publisher first.
 */
function checkSubscriberRules(c: TableCheck): void {
  const { key, t, other, refuse } = c;
  const { pub, sub } = c.input;
  const subCols = new Map(other.columns.map((x) => [x.name, x]));
  const pubRules = new Set([...t.constraints.map((k) => `${k.kind}:${k.definition}`), ...t.indexes.map((i) => `index:${i.definition}`)]);
  // Uniqueness the publisher already enforces on a subset of the columns implies the subscriber's.
  const pubUnique = uniqueColumnSets(t);
  const coveredUnique = (cols: string[] | null) => cols !== null && pubUnique.some((p) => p.every((x) => cols.includes(x)));
  for (const k of other.constraints) {
    if (k.kind !== 'check' && k.kind !== 'unique' && k.kind !== 'exclusion') continue;
    if (pubRules.has(`${k.kind}:${k.definition}`)) continue;
    if (k.kind === 'unique' && !/NULLS NOT DISTINCT/i.test(k.definition) && coveredUnique(k.columns)) continue;
    refuse(
      `${k.kind} constraint ${k.name} of ${key} exists only on ${sub} (${k.definition}), so the first row from ${pub} that breaks it stops replication`,
      `add the same constraint on ${pub} first (validating it proves ${pub}'s rows satisfy it), or drop it on ${sub}`,
    );
  }
  for (const i of other.indexes) {
    if (!i.unique || i.constraintBacked || i.primary || pubRules.has(`index:${i.definition}`)) continue;
    if (!/NULLS NOT DISTINCT/i.test(i.definition) && coveredUnique(plainIndexColumns(i))) continue;
    refuse(
      `unique index ${i.name} of ${key} exists only on ${sub}, so the first duplicate ${pub} writes stops replication`,
      `create the same unique index on ${pub} first, or drop it on ${sub}`,
    );
  }
  for (const col of plain(t.columns)) {
    const sc = subCols.get(col.name);
    if (sc?.type.kind !== 'd' || sc.type.name !== col.type.name) continue;
    const pd = c.domains.pub.get(col.type.base);
    const sd = c.domains.sub.get(sc.type.base);
    if (!sd) continue;
    const extra = sd.constraints.filter((k) => !(pd?.constraints ?? []).some((x) => x.definition === k.definition)).map((k) => k.definition);
    if (sd.notNull && !pd?.notNull) extra.push('NOT NULL');
    if (extra.length > 0) {
      refuse(
        `column ${key}.${col.name} is of domain ${sc.type.base}, which on ${sub} also requires ${extra.join(' and ')}, so a value ${pub} accepts can stop replication`,
        `give the domain the same constraints on ${pub} first, or relax it on ${sub}`,
      );
    }
  }
}

/** What the admin role may do: own the publisher's table, read it, write the subscriber's. */
function checkAdmin(c: TableCheck): void {
  const { key, refuse } = c;
  const { pub, sub, pubFacts, subFacts } = c.input;
  if (pubFacts.admin.notOwned.includes(key)) {
    refuse(
      `table ${key} on ${pub} is not owned by ${pubFacts.admin.role}, and only its owner can add it to a publication`,
      `GRANT the owning role to ${pubFacts.admin.role} on ${pub} (or make ${pubFacts.admin.role} the owner)`,
    );
  }
  if (pubFacts.admin.cannotRead.includes(key)) {
    refuse(
      `${pubFacts.admin.role} cannot SELECT from ${key} on ${pub}, so the initial copy would fail`,
      `GRANT SELECT ON ${key} TO ${pubFacts.admin.role} on ${pub}`,
    );
  }
  if (subFacts.admin.cannotApply.includes(key)) {
    refuse(
      `${subFacts.admin.role} lacks INSERT, UPDATE, DELETE or TRUNCATE on ${key} on ${sub}, so the apply worker would fail`,
      `GRANT INSERT, UPDATE, DELETE, TRUNCATE ON ${key} TO ${subFacts.admin.role} on ${sub}`,
    );
  }
  if (subFacts.admin.rlsBlocks.includes(key)) {
    refuse(
      `${key} has row-level security enabled on ${sub} and ${subFacts.admin.role} does not bypass it, so the apply worker cannot write into it`,
      `give ${subFacts.admin.role} BYPASSRLS (or make it the table's owner without FORCE ROW LEVEL SECURITY) on ${sub}`,
    );
  }
}

/** Shape: no column list unless the subscriber lacks columns; a list must cover the replica identity. */
function checkShape(c: TableCheck, missing: string[]): { columns: string[] | null; pubFull: boolean; sent: string[] } {
  const { key, t, other, parts, refuse } = c;
  const { role, pub, sub } = c.input;
  const pubFull = t.replicaIdentity === 'full' || parts.some((p) => p.replicaIdentity === 'full');
  const columns = publishedColumns(t, other);
  const sent = columns ?? plain(t.columns).map((c) => c.name);
  if (missing.length > 0 && role === 'reverse') {
    // (Forward, a missing column is refused above already.)
    const ident = identityColumns(t) ?? [];
    if (pubFull) {
      refuse(
        `table ${key} is REPLICA IDENTITY FULL on ${pub} and has column(s) ${missing.join(', ')} that ${sub} lacks: a publication column list cannot cover a FULL identity, so ${pub}'s UPDATE and DELETE on it would fail`,
        `give ${key} a primary key (or REPLICA IDENTITY USING INDEX) on ${pub}, or add the column(s) on ${sub}`,
      );
    } else if (ident.some((c) => missing.includes(c))) {
      refuse(`the replica-identity columns of ${key} on ${pub} do not all exist on ${sub}`, `add them on ${sub} or change ${key}'s replica identity on ${pub}`);
    }
  }
  return { columns, pubFull, sent };
}

/** Finding the rows on the subscriber: its key must be among what the publisher sends as the old row's key. */
function checkRowMatching(c: TableCheck, pubFull: boolean, sent: string[]): void {
  const { key, t, other, refuse } = c;
  const { pub, sub, subFacts } = c.input;
  const subKey = subscriberKey(other);
  const pubSendsKey = pubFull ? sent : (identityColumns(t) ?? []);
  if (subKey === null) {
    if (!pubFull) {
      if (hasUsableIdentity(t)) {
        refuse(
          `table ${key} on ${sub} has no primary key or replica-identity index and ${key} on ${pub} is not REPLICA IDENTITY FULL, so ${sub} cannot find the rows ${pub}'s UPDATE and DELETE change`,
          `give ${key} the same primary key on ${sub}, or run ALTER TABLE ${key} REPLICA IDENTITY FULL on ${pub}`,
        );
      }
    } else {
      // Matched by comparing every column with its type's default equality operator.
      const typesOf = subFacts.columnTypes.get(key) ?? new Map<string, number>();
      for (const sc of other.columns) {
        const oid = typesOf.get(sc.name);
        if (oid !== undefined && !hasEquality(oid, subFacts.types)) {
          refuse(
            `table ${key} is matched on ${sub} by comparing every column (REPLICA IDENTITY FULL, no key), but column ${sc.name} is ${sc.type.name}, which has no equality operator, so ${sub} cannot apply UPDATE or DELETE`,
            `give ${key} a primary key or a unique index used as replica identity (REPLICA IDENTITY USING INDEX) on both sides${sc.type.base === 'json' ? ', or make the column jsonb' : ''}`,
          );
        }
      }
    }
  } else if (hasUsableIdentity(t)) {
    // (Without a usable identity on the publisher, the refusal above already names the table.)
    const lacking = subKey.filter((c) => !pubSendsKey.includes(c));
    if (lacking.length > 0) {
      refuse(
        `the key of ${key} on ${sub} (${subKey.join(', ')}) has column(s) ${lacking.join(', ')} that ${pub}'s replica identity (${pubFull ? 'FULL' : (identityColumns(t) ?? []).join(', ')}) does not send, so every UPDATE and DELETE would fail on ${sub}'s apply worker`,
        `give ${key} the same primary key on both sides, or run ALTER TABLE ${key} REPLICA IDENTITY FULL on ${pub}`,
      );
    }
  }
}

/** Large objects are not replicated: only their oids travel. */
function checkLargeObjects(c: TableCheck): void {
  const { key, t, refuse } = c;
  const { pub, sub, pubFacts } = c.input;
  if (pubFacts.largeObjects > 0) {
    const typesOf = pubFacts.columnTypes.get(key) ?? new Map<string, number>();
    for (const col of plain(t.columns)) {
      const oid = typesOf.get(col.name);
      if (oid !== undefined && resolvesTo(oid, OID_TYPE, pubFacts.types)) {
        refuse(
          `column ${key}.${col.name} holds large-object references (${col.type.name}) and ${pub} has ${pubFacts.largeObjects} large object(s): logical replication does not carry large objects, so ${sub} would hold references to nothing`,
          `move their contents into a bytea column on both sides (lo_get) before replicating`,
        );
      }
    }
  }
}

/** Columns of a plain unique index (no expression, no WHERE), from its definition; null otherwise. */
function plainIndexColumns(i: Table['indexes'][number]): string[] | null {
  if (i.partial || i.expression) return null;
  const m = /USING \w+ \(([^()]*)\)/.exec(i.definition);
  if (!m) return null;
  return m[1].split(',').map((x) =>
    x
      .trim()
      .replace(/\s+(ASC|DESC|NULLS FIRST|NULLS LAST)\b.*$/i, '')
      .replace(/^"(.*)"$/, '$1')
      .replace(/""/g, '"'),
  );
}

/** Column sets the table keeps unique: primary key, unique constraints, plain unique indexes. */
function uniqueColumnSets(t: Table): string[][] {
  const fromConstraints = t.constraints
    .filter((k) => (k.kind === 'primary key' || k.kind === 'unique') && !/NULLS NOT DISTINCT/i.test(k.definition))
    .map((k) => k.columns);
  const fromIndexes = t.indexes
    .filter((i) => i.unique && !i.constraintBacked)
    .map(plainIndexColumns)
    .filter((x): x is string[] => x !== null);
  return [...fromConstraints, ...fromIndexes];
}

/** Primary-key columns are NOT NULL by definition on both sides; not worth a separate sentence. */
function isKeyColumn(t: Table, col: string): boolean {
  return t.constraints.some((c) => c.kind === 'primary key' && c.columns.includes(col));
}

/**
 * Which rules a direction follows is decided by colour, as everywhere in bgmig: green holds the new schema. Blue →
 * green is `forward` — green must hold every column and value blue writes, or data is lost; green → blue is
 * `reverse` — it carries only the columns blue has (column lists), and what green may write that blue cannot hold
 * is the validator's rollback verdict, accepted or fixed at `db cutover`.
 */
export function roleOf(pub: Color): DirectionRole {
  return pub === 'blue' ? 'forward' : 'reverse';
}

/**
 * Both directions at once, as `db sync start` and the switch gates need them: the replication running (or about to
 * run) from `from` to `to`, and the one the next switch creates the other way (it is prepared while the current
 * apply worker still writes on the new side, and then serves the new side's application), plus the sequences that
 * switch must set (sequence-plan.ts), so a problem in either refuses before anything is created or fenced.
 */
export function judgeBothDirections(
  from: Color,
  to: Color,
  schemas: readonly string[],
  catalogs: Record<Color, Catalog>,
  facts: Record<Color, CarryFacts>,
): { current: DirectionJudgement; next: DirectionJudgement; sequences: SequencePlan; offenders: Offender[] } {
  const current = judgeDirection({
    role: roleOf(from),
    pub: from,
    sub: to,
    schemas,
    pubCatalog: catalogs[from],
    subCatalog: catalogs[to],
    pubFacts: facts[from],
    subFacts: facts[to],
  });
  const next = judgeDirection({
    role: roleOf(to),
    pub: to,
    sub: from,
    schemas,
    pubCatalog: catalogs[to],
    subCatalog: catalogs[from],
    pubFacts: facts[to],
    subFacts: facts[from],
  });
  // The next switch moves from `from` to `to`: every sequence serving a column on `to` must be settable from `from`.
  const sequences = pairSequences({ from, to, old: facts[from].sequences, neu: facts[to].sequences, oldColumns: replicatedColumns(catalogs[from], schemas) });
  const seen = new Set<string>();
  const offenders = [...current.offenders, ...next.offenders, ...sequences.offenders].filter((o) => {
    const k = `${o.problem}|${o.fix}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  return { current, next, sequences, offenders };
}
