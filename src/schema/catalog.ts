/**
 * The typed catalog model: plain data describing one PostgreSQL database's schema, as read by read-catalog.ts and
 * compared by diff.ts. No I/O and no behaviour here, so the replication preflight (src/replication) and the
 * validator share one picture of a database.
 *
 * Names are raw identifiers (unquoted, case preserved). Expressions and definitions are deparsed by the server
 * with an empty search_path, so every user object in them is schema-qualified and the text of two databases is
 * comparable verbatim.
 */

/** A column's (or domain's, or attribute's) type, enough to judge whether values of one type fit another. */
export interface ColumnType {
  /** format_type(oid, typmod): `character varying(40)`, `numeric(12,2)`, `public.mood`, `integer[]`. */
  name: string;
  /** format_type(oid, NULL) of the element type for arrays, of the type itself otherwise: `character varying`. */
  base: string;
  /** atttypmod (-1 when none). For arrays this is the element's typmod. */
  typmod: number;
  /** pg_type.typcategory of the (element) type: N numeric, S string, D date/time, B boolean, E enum, U user … */
  category: string;
  /** pg_type.typtype of the (element) type: b base, d domain, e enum, c composite, r range, m multirange, p pseudo. */
  kind: string;
  /** True for array types (the other fields then describe the element type). */
  isArray: boolean;
}

export type IdentityKind = 'always' | 'by default';

export interface Column {
  name: string;
  /** attnum: the physical position, 1-based (gaps where columns were dropped). */
  position: number;
  type: ColumnType;
  notNull: boolean;
  /** Deparsed default expression; null when none. For generated columns this is null and `generated` is set. */
  default: string | null;
  identity: IdentityKind | null;
  /** Deparsed generation expression of a STORED generated column; null otherwise. */
  generated: string | null;
  /** Explicit collation when it differs from the type's default collation (qualified name); null otherwise. */
  collation: string | null;
  comment: string | null;
  /** Column-level grants (attacl), on top of the table's; absent when there are none. */
  privileges?: Privilege[];
}

export type ConstraintKind = 'primary key' | 'unique' | 'foreign key' | 'check' | 'exclusion';

export interface Constraint {
  name: string;
  kind: ConstraintKind;
  /** pg_get_constraintdef: `PRIMARY KEY (id)`, `FOREIGN KEY (a) REFERENCES public.t(id) ON DELETE CASCADE`. */
  definition: string;
  /** Column names in key order (conkey); empty for table checks that reference no column. */
  columns: string[];
  /** NOT VALID constraints are not yet enforced on existing rows (but are enforced on new writes). */
  validated: boolean;
  /** Inherited from a partitioned parent (conislocal false): reported once, on the parent. */
  inherited: boolean;
}

export interface Index {
  name: string;
  /**
   * pg_get_indexdef without the index name, so renamed indexes compare equal (`CREATE INDEX ON public.t USING btree (a)`).
   * Empty for constraint-backed indexes: their constraint's definition is what gets compared (and deparsing them
   * would double the cost of the index query).
   */
  definition: string;
  unique: boolean;
  primary: boolean;
  /** Has a WHERE clause. */
  partial: boolean;
  /** Has an expression key. */
  expression: boolean;
  /** Backs a PRIMARY KEY, UNIQUE or EXCLUDE constraint (the constraint is what gets compared). */
  constraintBacked: boolean;
  /** Invalid (a failed CREATE INDEX CONCURRENTLY): not used by the planner, not enforcing uniqueness. */
  valid: boolean;
  /** A partition's index attached to an index of its partitioned parent. */
  inherited: boolean;
  /**
   * indisready: the index receives inserts (and a unique one enforces uniqueness). A CREATE INDEX CONCURRENTLY that
   * failed in its first phase leaves an index neither valid nor ready.
   */
  ready: boolean;
  /** Storage parameters (pg_class.reloptions, `fillfactor=70`), sorted; `definition` is given without its WITH clause. */
  options: string[];
}

export type TriggerEvent = 'INSERT' | 'UPDATE' | 'DELETE' | 'TRUNCATE';

export interface Trigger {
  name: string;
  /** pg_get_triggerdef. */
  definition: string;
  /**
   * tgenabled: O fires in sessions whose session_replication_role is origin or local (the application's), D never,
   * R only in replica sessions (a logical-replication apply worker), A always.
   * https://www.postgresql.org/docs/15/sql-altertable.html (DISABLE/ENABLE [ REPLICA | ALWAYS ] TRIGGER)
   */
  enabled: string;
  /** From tgtype: BEFORE, AFTER or INSTEAD OF; FOR EACH ROW or STATEMENT; the events it fires on. */
  timing: 'before' | 'after' | 'instead of';
  row: boolean;
  events: TriggerEvent[];
  /** Has a WHEN condition (so it may not fire for a given row). */
  conditional: boolean;
  /** The trigger function's language and body (prosrc), so what it does to a write can be judged. */
  functionLanguage: string;
  functionBody: string;
}

/** A rewrite rule other than a view's own `_RETURN` rule (CREATE RULE). */
export interface Rule {
  name: string;
  event: 'SELECT' | 'INSERT' | 'UPDATE' | 'DELETE';
  /** DO INSTEAD (the original statement does not run) rather than DO ALSO. */
  instead: boolean;
  /** pg_get_ruledef. */
  definition: string;
  /** ev_enabled: O, D, R, A as for triggers. */
  enabled: string;
}

export interface Policy {
  name: string;
  /** ALL, SELECT, INSERT, UPDATE, DELETE. */
  command: string;
  permissive: boolean;
  /** Role names; `public` for PUBLIC. Sorted. */
  roles: string[];
  using: string | null;
  withCheck: string | null;
}

/** One privilege held by one grantee on a relation (table, view, sequence). */
export interface Privilege {
  /** Role name, or `PUBLIC`. */
  grantee: string;
  /** SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER, USAGE … */
  privilege: string;
  grantable: boolean;
}

/** pg_class.relreplident: which old-row values UPDATE/DELETE write to WAL for logical replication. */
export type ReplicaIdentity = 'default' | 'full' | 'index' | 'nothing';

export type TableKind = 'table' | 'partitioned table' | 'foreign table';

export interface Table {
  schema: string;
  name: string;
  kind: TableKind;
  columns: Column[];
  constraints: Constraint[];
  indexes: Index[];
  triggers: Trigger[];
  policies: Policy[];
  privileges: Privilege[];
  /** Owner role name. */
  owner: string;
  comment: string | null;
  rlsEnabled: boolean;
  rlsForced: boolean;
  replicaIdentity: ReplicaIdentity;
  /** The index used when replicaIdentity is 'index'; null otherwise. */
  replicaIdentityIndex: string | null;
  /** True when the table has a PRIMARY KEY (what replica identity 'default' uses). */
  hasPrimaryKey: boolean;
  /** For partitions: the qualified parent `{schema, name}` and the bound (`FOR VALUES FROM (…) TO (…)`). */
  partitionOf: { schema: string; name: string } | null;
  partitionBound: string | null;
  /**
   * pg_inherits.inhdetachpending: an interrupted DETACH PARTITION … CONCURRENTLY left it half-detached; the parent
   * routes no rows to it until `… DETACH PARTITION … FINALIZE`.
   */
  detachPending?: boolean;
  /**
   * For partitions: pg_get_partition_constraintdef, the constraint its bound implies
   * (`((at IS NOT NULL) AND (at >= 10) AND (at < 20))`), which every row written to it satisfies.
   */
  partitionConstraint?: string | null;
  /** For partitioned tables: pg_get_partkeydef (`RANGE (created_at)`). */
  partitionKey: string | null;
  /** Storage parameters (pg_class.reloptions: `fillfactor=70`, `autovacuum_enabled=false`), sorted. */
  options: string[];
  /** relpersistence: false for an UNLOGGED table (not crash-safe, never published by logical replication). */
  logged: boolean;
  /** Rewrite rules (CREATE RULE), sorted by name. */
  rules: Rule[];
}

export type ViewKind = 'view' | 'materialized view';

export interface View {
  schema: string;
  name: string;
  kind: ViewKind;
  /** pg_get_viewdef, whitespace-normalised. */
  definition: string;
  columns: Column[];
  /** Indexes (materialized views only). */
  indexes: Index[];
  triggers: Trigger[];
  privileges: Privilege[];
  owner: string;
  comment: string | null;
  /**
   * reloptions, sorted: `check_option=local|cascaded`, `security_barrier=true`, `security_invoker=true` for views,
   * storage parameters for materialized views.
   */
  options: string[];
  /** relispopulated: false for a materialized view created WITH NO DATA (every SELECT on it fails). Views: true. */
  populated: boolean;
  /** Rewrite rules other than `_RETURN` (e.g. DO INSTEAD rules that make a view writable). */
  rules: Rule[];
}

export interface Sequence {
  schema: string;
  name: string;
  /** smallint, integer or bigint. */
  dataType: string;
  start: string;
  increment: string;
  min: string;
  max: string;
  cache: string;
  cycle: boolean;
  /** The column owning it (serial / OWNED BY / identity), or null. */
  ownedBy: { schema: string; table: string; column: string } | null;
  /** Backs an identity column (compared through the column, not as a standalone sequence). */
  identity: boolean;
  privileges: Privilege[];
  /** pg_sequence_last_value: the last value handed out, null when never used (state, not definition). */
  lastValue: string | null;
}

export interface EnumType {
  schema: string;
  name: string;
  /** Labels in sort order. */
  values: string[];
}

export interface DomainType {
  schema: string;
  name: string;
  baseType: ColumnType;
  notNull: boolean;
  default: string | null;
  /** CHECK constraints: name → definition. */
  constraints: Array<{ name: string; definition: string }>;
}

export interface CompositeType {
  schema: string;
  name: string;
  attributes: Column[];
}

export type RoutineKind = 'function' | 'procedure' | 'aggregate' | 'window';

export interface Routine {
  schema: string;
  name: string;
  kind: RoutineKind;
  /** pg_get_function_identity_arguments: the argument types that identify the overload (`a integer, b text`). */
  identityArguments: string;
  /** The argument types alone, names dropped (`integer, text`): what callers bind to. */
  argumentTypes: string;
  /** pg_get_function_arguments: with names and defaults. */
  arguments: string;
  /** pg_get_function_result; null for procedures. */
  returns: string | null;
  /** immutable | stable | volatile */
  volatility: string;
  securityDefiner: boolean;
  strict: boolean;
  language: string;
  /** md5 of the body, to show in reports without shipping whole bodies around. */
  bodyHash: string;
  /** The body: prosrc, or for a SQL-standard body (BEGIN ATOMIC … END) pg_get_function_sqlbody, whose prosrc is empty. */
  body: string;
  /** proconfig: settings applied while it runs (`search_path=public`), sorted. */
  config: string[];
  /** proparallel: safe | restricted | unsafe. */
  parallel: string;
  leakproof: boolean;
  /** EXECUTE per role (a NULL proacl: PUBLIC and the owner may execute). Absent in catalogs of older readers. */
  privileges?: Privilege[];
}

export interface Extension {
  name: string;
  schema: string;
  version: string;
}

export interface SchemaInfo {
  name: string;
  owner: string;
  comment: string | null;
  /** USAGE and CREATE per role (a NULL nspacl: the owner holds both). Absent in catalogs of older readers. */
  privileges?: Privilege[];
}

/** Who is subject to row-level security: what the policies of a table mean for a role. */
export interface RoleInfo {
  name: string;
  /** Superuser or BYPASSRLS: row-level security never applies. */
  bypassRls: boolean;
  /** Roles it is a member of, directly or not (policies TO a group role apply to its members). */
  memberOf: string[];
}

export interface Catalog {
  /** server_version, e.g. `15.10 (Debian 15.10-1.pgdg120+1)` shortened to `15.10`. */
  serverVersion: string;
  /** server_version_num, e.g. 150010. */
  serverVersionNum: number;
  database: string;
  schemas: SchemaInfo[];
  tables: Table[];
  views: View[];
  sequences: Sequence[];
  enums: EnumType[];
  domains: DomainType[];
  compositeTypes: CompositeType[];
  routines: Routine[];
  extensions: Extension[];
  /** The cluster's roles (pg_roles without the pg_ built-ins), sorted by name. */
  roles: RoleInfo[];
}

/** Which schemas to read. Both lists hold exact (case-sensitive) schema names. */
export interface SchemaFilter {
  /** Only these schemas (empty or absent: every non-system schema). */
  includeSchemas?: string[] | undefined;
  /** Never these schemas. */
  excludeSchemas?: string[] | undefined;
}

/** Object counts of a catalog, for report summaries. Keys are stable. */
export function catalogCounts(c: Catalog): Record<string, number> {
  const sum = (f: (t: Table) => number) => c.tables.reduce((n, t) => n + f(t), 0);
  return {
    schemas: c.schemas.length,
    tables: c.tables.filter((t) => t.partitionOf === null).length,
    partitions: c.tables.filter((t) => t.partitionOf !== null).length,
    columns: sum((t) => t.columns.length),
    constraints: sum((t) => t.constraints.length),
    indexes: sum((t) => t.indexes.length) + c.views.reduce((n, v) => n + v.indexes.length, 0),
    views: c.views.filter((v) => v.kind === 'view').length,
    materializedViews: c.views.filter((v) => v.kind === 'materialized view').length,
    sequences: c.sequences.length,
    enums: c.enums.length,
    domains: c.domains.length,
    compositeTypes: c.compositeTypes.length,
    routines: c.routines.length,
    triggers: sum((t) => t.triggers.length) + c.views.reduce((n, v) => n + v.triggers.length, 0),
    policies: sum((t) => t.policies.length),
    extensions: c.extensions.length,
  };
}

// Report text names objects as psql would show them; the one quoting implementation lives with the SQL helpers.
export { qualify } from '../db/sql.js';
