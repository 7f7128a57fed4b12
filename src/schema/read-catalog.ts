/**
 * Reads one database's catalog into the plain model of catalog.ts. I/O only: no judgement here.
 *
 * Sixteen set-based queries (never one per object) run in one REPEATABLE READ READ ONLY transaction, so every
 * query sees the same snapshot even while a migration runs, and with an empty search_path, so the server deparses
 * every user object schema-qualified and the text of two databases compares verbatim. System schemas
 * (pg_catalog, information_schema, pg_toast, pg_temp_N, pg_toast_temp_N) and objects that belong to an extension
 * are left out: an extension is compared as one object (name + version).
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import type {
  Catalog,
  Column,
  ColumnType,
  CompositeType,
  Constraint,
  ConstraintKind,
  DomainType,
  EnumType,
  Extension,
  Index,
  Policy,
  Privilege,
  ReplicaIdentity,
  RoleInfo,
  Rule,
  Routine,
  RoutineKind,
  SchemaFilter,
  SchemaInfo,
  Sequence,
  Table,
  Trigger,
  View,
} from './catalog.js';

export type ReadCatalogOptions = SchemaFilter;

// ---------------------------------------------------------------------------------------------------------------
// SQL. `$1` is always the array of in-scope namespace oids, decided once from the schema query and the filter.
// Type fields: `elem` is the array element type when the type is an array, the type itself otherwise.

const SQL_SERVER = `select current_setting('server_version') as version, current_setting('server_version_num')::int as num, current_database() as db`;

const SQL_SCHEMAS = `
select n.oid::int8::text as oid, n.nspname as name, pg_get_userbyid(n.nspowner) as owner, d.description as comment,
       n.nspacl is null as default_acl
from pg_namespace n
left join pg_description d on d.objoid = n.oid and d.classoid = 'pg_namespace'::regclass and d.objsubid = 0
where n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast')
  and n.nspname !~ '^pg_(toast_)?temp_'
order by n.nspname`;

const SQL_EXTENSION_MEMBERS = `
select classid::regclass::text as cls, objid::int8::text as oid from pg_depend where deptype = 'e'`;

const SQL_RELATIONS = `
select c.oid::int8::text as oid, n.nspname as schema, c.relname as name, c.relkind as kind, pg_get_userbyid(c.relowner) as owner,
       d.description as comment, c.relrowsecurity as rls, c.relforcerowsecurity as rls_forced, c.relreplident as replident,
       ri.relname as replident_index, c.relacl is null as default_acl, pn.nspname as parent_schema, pc.relname as parent_name,
       case when c.relispartition then pg_get_expr(c.relpartbound, c.oid) end as bound,
       case when c.relkind = 'p' then pg_get_partkeydef(c.oid) end as partkey,
       case when c.relkind in ('v', 'm') then pg_get_viewdef(c.oid) end as viewdef,
       c.reloptions::text[] as options, c.relispopulated as populated, c.relpersistence as persistence,
       coalesce(ih.inhdetachpending, false) as detach_pending,
       case when c.relispartition then pg_get_partition_constraintdef(c.oid) end as partition_constraint
from pg_class c
join pg_namespace n on n.oid = c.relnamespace
left join pg_description d on d.objoid = c.oid and d.classoid = 'pg_class'::regclass and d.objsubid = 0
left join pg_index rx on rx.indrelid = c.oid and rx.indisreplident
left join pg_class ri on ri.oid = rx.indexrelid
left join pg_inherits ih on c.relispartition and ih.inhrelid = c.oid
left join pg_class pc on pc.oid = ih.inhparent
left join pg_namespace pn on pn.oid = pc.relnamespace
where c.relnamespace = any($1::oid[]) and c.relkind in ('r', 'p', 'f', 'v', 'm', 'S', 'c')`;

// Columns come in three set-based queries joined here: the raw attributes, the formatted types (format_type once
// per distinct type/typmod pair rather than once per column) and the deparsed defaults. Defaults are deparsed
// without opening their table (relid 0: a default cannot reference columns), except generation expressions, which
// do; opening thousands of tables would take thousands of locks. Measured on 2,000 tables this is about half the
// time of one query doing it all per row.
const COLUMN_SCOPE = `c.relnamespace = any($1::oid[]) and c.relkind in ('r', 'p', 'f', 'v', 'm', 'c') and a.attnum > 0 and not a.attisdropped`;

const SQL_COLUMNS = `
select a.attrelid::int8::text as rel, a.attname as name, a.attnum as position, a.atttypid::int8::text as typid, a.atttypmod as typmod,
       a.attnotnull as not_null, a.attidentity as identity, a.attgenerated as generated,
       case when a.attcollation <> t.typcollation then quote_ident(cn.nspname) || '.' || quote_ident(co.collname) end as collation,
       d.description as comment
from pg_attribute a
join pg_class c on c.oid = a.attrelid
join pg_type t on t.oid = a.atttypid
left join pg_collation co on co.oid = a.attcollation and a.attcollation <> t.typcollation
left join pg_namespace cn on cn.oid = co.collnamespace
left join pg_description d on d.objoid = a.attrelid and d.classoid = 'pg_class'::regclass and d.objsubid = a.attnum
where ${COLUMN_SCOPE}`;

const SQL_COLUMN_TYPES = `
select x.atttypid::int8::text as typid, x.atttypmod as typmod, format_type(x.atttypid, x.atttypmod) as type, format_type(e.oid, null) as base,
       e.typcategory as category, e.typtype as typkind, t.typcategory = 'A' as is_array
from (select distinct a.atttypid, a.atttypmod from pg_attribute a join pg_class c on c.oid = a.attrelid where ${COLUMN_SCOPE}) x
join pg_type t on t.oid = x.atttypid
join pg_type e on e.oid = case when t.typcategory = 'A' and t.typelem <> 0 then t.typelem else t.oid end`;

const SQL_DEFAULTS = `
select ad.adrelid::int8::text as rel, ad.adnum as position,
       case when a.attgenerated = '' then pg_get_expr(ad.adbin, 0) else pg_get_expr(ad.adbin, ad.adrelid) end as expr
from pg_attrdef ad
join pg_class c on c.oid = ad.adrelid
join pg_attribute a on a.attrelid = ad.adrelid and a.attnum = ad.adnum
where ${COLUMN_SCOPE}`;

const SQL_CONSTRAINTS = `
select co.conrelid::int8::text as rel, co.contypid::int8::text as typ, co.conname as name, co.contype as kind,
       pg_get_constraintdef(co.oid) as def, co.convalidated as validated, (co.conparentid <> 0 or not co.conislocal) as inherited,
       co.conkey::int[] as conkey
from pg_constraint co
where co.connamespace = any($1::oid[]) and co.contype in ('p', 'u', 'f', 'c', 'x')`;

const SQL_INDEXES = `
select i.indrelid::int8::text as rel, ic.relname as name, case when b.conindid is null then pg_get_indexdef(i.indexrelid) else '' end as def,
       i.indisunique as "unique",
       i.indisprimary as "primary", i.indpred is not null as partial, i.indexprs is not null as expression, i.indisvalid as valid,
       b.conindid is not null as backed, ih.inhparent is not null as inherited, i.indisready as ready, ic.reloptions::text[] as options
from pg_index i
join pg_class ic on ic.oid = i.indexrelid
join pg_class c on c.oid = i.indrelid
left join (select distinct conindid from pg_constraint where contype in ('p', 'u', 'x') and connamespace = any($1::oid[])) b on b.conindid = i.indexrelid
left join pg_inherits ih on ih.inhrelid = i.indexrelid
where c.relnamespace = any($1::oid[])`;

const SQL_TRIGGERS = `
select t.tgrelid::int8::text as rel, t.tgname as name, pg_get_triggerdef(t.oid) as def, t.tgenabled as enabled,
       t.tgtype::int as type, t.tgqual is not null as conditional, l.lanname as language, p.prosrc as body
from pg_trigger t
join pg_class c on c.oid = t.tgrelid
join pg_proc p on p.oid = t.tgfoid
join pg_language l on l.oid = p.prolang
where c.relnamespace = any($1::oid[]) and not t.tgisinternal and t.tgparentid = 0`;

const SQL_POLICIES = `
select p.polrelid::int8::text as rel, p.polname as name, p.polcmd as cmd, p.polpermissive as permissive,
       array(select case when r = 0 then 'public' else pg_get_userbyid(r) end from unnest(p.polroles) r order by 1)::text[] as roles,
       pg_get_expr(p.polqual, p.polrelid) as using, pg_get_expr(p.polwithcheck, p.polrelid) as with_check
from pg_policy p
join pg_class c on c.oid = p.polrelid
where c.relnamespace = any($1::oid[])`;

// Only explicit ACLs are exploded here; a NULL relacl means the default privileges (the owner holds everything),
// which readInTransaction fills in, so that an owner change shows up as privileges moving between roles.
const SQL_PRIVILEGES = `
select c.oid::int8::text as rel, case when a.grantee = 0 then 'PUBLIC' else pg_get_userbyid(a.grantee) end as grantee,
       a.privilege_type as privilege, a.is_grantable as grantable
from pg_class c
cross join lateral aclexplode(c.relacl) a
where c.relnamespace = any($1::oid[]) and c.relkind in ('r', 'p', 'f', 'v', 'm', 'S') and c.relacl is not null`;

const SQL_SEQUENCES = `
select s.seqrelid::int8::text as rel, format_type(s.seqtypid, null) as type, s.seqstart::text as start, s.seqincrement::text as increment,
       s.seqmin::text as min, s.seqmax::text as max, s.seqcache::text as cache, s.seqcycle as cycle,
       dn.nspname as owner_schema, dc.relname as owner_table, da.attname as owner_column, dep.deptype as deptype,
       case when has_sequence_privilege(s.seqrelid, 'SELECT, USAGE') then pg_sequence_last_value(s.seqrelid)::text end as last_value
from pg_sequence s
join pg_class c on c.oid = s.seqrelid
left join pg_depend dep on dep.classid = 'pg_class'::regclass and dep.objid = s.seqrelid and dep.refclassid = 'pg_class'::regclass
                       and dep.deptype in ('a', 'i') and dep.refobjsubid > 0
left join pg_class dc on dc.oid = dep.refobjid
left join pg_namespace dn on dn.oid = dc.relnamespace
left join pg_attribute da on da.attrelid = dep.refobjid and da.attnum = dep.refobjsubid
where c.relnamespace = any($1::oid[])`;

const SQL_TYPES = `
select t.oid::int8::text as oid, n.nspname as schema, t.typname as name, t.typtype as kind, t.typrelid::int8::text as relid,
       t.typnotnull as not_null, pg_get_expr(t.typdefaultbin, 0) as "default",
       case when t.typtype = 'd' then format_type(t.typbasetype, t.typtypmod) end as base_type,
       format_type(e.oid, null) as base_base, t.typtypmod as base_typmod, e.typcategory as base_category, e.typtype as base_kind,
       bt.typcategory = 'A' as base_is_array,
       case when t.typtype = 'e' then array(select l.enumlabel::text from pg_enum l where l.enumtypid = t.oid order by l.enumsortorder) end as labels
from pg_type t
join pg_namespace n on n.oid = t.typnamespace
left join pg_class rc on rc.oid = t.typrelid
left join pg_type bt on bt.oid = t.typbasetype
left join pg_type e on e.oid = case when bt.typcategory = 'A' and bt.typelem <> 0 then bt.typelem else bt.oid end
where t.typnamespace = any($1::oid[]) and (t.typtype in ('e', 'd') or (t.typtype = 'c' and rc.relkind = 'c'))`;

const SQL_ROUTINES = `
select p.oid::int8::text as oid, n.nspname as schema, p.proname as name, p.prokind as kind,
       pg_get_function_identity_arguments(p.oid) as identity_args, oidvectortypes(p.proargtypes) as arg_types,
       pg_get_function_arguments(p.oid) as args, case when p.prokind <> 'p' then pg_get_function_result(p.oid) end as result,
       p.provolatile as volatility, p.prosecdef as secdef, p.proisstrict as strict, l.lanname as language,
       case when p.prosqlbody is not null then pg_get_function_sqlbody(p.oid) else p.prosrc end as body,
       coalesce(p.proconfig, '{}')::text[] as config, p.proparallel as parallel, p.proleakproof as leakproof,
       pg_get_userbyid(p.proowner) as owner, p.proacl is null as default_acl
from pg_proc p
join pg_namespace n on n.oid = p.pronamespace
join pg_language l on l.oid = p.prolang
where p.pronamespace = any($1::oid[])`;

// Rules other than a view's own _RETURN rule: a DO INSTEAD rule changes what blue's INSERT/UPDATE/DELETE does.
const SQL_RULES = `
select r.ev_class::int8::text as rel, r.rulename as name, r.ev_type as event, r.is_instead as instead, pg_get_ruledef(r.oid) as def,
       r.ev_enabled as enabled
from pg_rewrite r
join pg_class c on c.oid = r.ev_class
where c.relnamespace = any($1::oid[]) and r.rulename <> '_RETURN'`;

// Roles are few; read whole, so that what a row-level security policy TO a group role means for a member is known.
const SQL_ROLES = `
select r.rolname as name, r.rolsuper or r.rolbypassrls as bypass,
       array(select b.rolname::text from pg_auth_members m join pg_roles b on b.oid = m.roleid where m.member = r.oid)::text[] as member_of
from pg_roles r
where r.rolname !~ '^pg_'`;

// Explicit ACLs of schemas (USAGE, CREATE) and routines (EXECUTE); NULL ACLs are the defaults, filled in below.
const SQL_OBJECT_PRIVILEGES = `
select 'n' as kind, n.oid::int8::text as oid, case when a.grantee = 0 then 'PUBLIC' else pg_get_userbyid(a.grantee) end as grantee,
       a.privilege_type as privilege, a.is_grantable as grantable
from pg_namespace n cross join lateral aclexplode(n.nspacl) a
where n.oid = any($1::oid[]) and n.nspacl is not null
union all
select 'p', p.oid::int8::text, case when a.grantee = 0 then 'PUBLIC' else pg_get_userbyid(a.grantee) end, a.privilege_type, a.is_grantable
from pg_proc p cross join lateral aclexplode(p.proacl) a
where p.pronamespace = any($1::oid[]) and p.proacl is not null
union all
select 'a', a.attrelid::int8::text || ':' || a.attnum, case when x.grantee = 0 then 'PUBLIC' else pg_get_userbyid(x.grantee) end,
       x.privilege_type, x.is_grantable
from pg_attribute a join pg_class c on c.oid = a.attrelid cross join lateral aclexplode(a.attacl) x
where c.relnamespace = any($1::oid[]) and a.attacl is not null and a.attnum > 0 and not a.attisdropped`;

const SQL_EXTENSIONS = `
select e.extname as name, n.nspname as schema, e.extversion as version
from pg_extension e join pg_namespace n on n.oid = e.extnamespace
where e.extnamespace = any($1::oid[])`;

// ---------------------------------------------------------------------------------------------------------------
// Row shapes (what pg returns for the queries above; int8 is cast to text so oids stay exact strings).

interface SchemaRow {
  oid: string;
  name: string;
  owner: string;
  comment: string | null;
  default_acl: boolean;
}
interface MemberRow {
  cls: string;
  oid: string;
}
interface RelationRow {
  oid: string;
  schema: string;
  name: string;
  kind: string;
  owner: string;
  comment: string | null;
  rls: boolean;
  rls_forced: boolean;
  replident: string;
  replident_index: string | null;
  default_acl: boolean;
  parent_schema: string | null;
  parent_name: string | null;
  bound: string | null;
  partkey: string | null;
  viewdef: string | null;
  options: string[] | null;
  populated: boolean;
  persistence: string;
  detach_pending: boolean;
  partition_constraint: string | null;
}
interface ColumnRow {
  rel: string;
  name: string;
  position: number;
  typid: string;
  typmod: number;
  not_null: boolean;
  identity: string;
  generated: string;
  collation: string | null;
  comment: string | null;
}
interface ColumnTypeRow {
  typid: string;
  typmod: number;
  type: string;
  base: string;
  category: string;
  typkind: string;
  is_array: boolean;
}
interface DefaultRow {
  rel: string;
  position: number;
  expr: string | null;
}
interface ConstraintRow {
  rel: string;
  typ: string;
  name: string;
  kind: string;
  def: string;
  validated: boolean;
  inherited: boolean;
  conkey: number[] | null;
}
interface IndexRow {
  rel: string;
  name: string;
  def: string;
  unique: boolean;
  primary: boolean;
  partial: boolean;
  expression: boolean;
  valid: boolean;
  backed: boolean;
  inherited: boolean;
  ready: boolean;
  options: string[] | null;
}
interface TriggerRow {
  rel: string;
  name: string;
  def: string;
  enabled: string;
  type: number;
  conditional: boolean;
  language: string;
  body: string;
}
interface ObjectPrivilegeRow {
  kind: string;
  oid: string;
  grantee: string;
  privilege: string;
  grantable: boolean;
}
interface RuleRow {
  rel: string;
  name: string;
  event: string;
  instead: boolean;
  def: string;
  enabled: string;
}
interface RoleRow {
  name: string;
  bypass: boolean;
  member_of: string[];
}
interface PolicyRow {
  rel: string;
  name: string;
  cmd: string;
  permissive: boolean;
  roles: string[];
  using: string | null;
  with_check: string | null;
}
interface PrivilegeRow {
  rel: string;
  grantee: string;
  privilege: string;
  grantable: boolean;
}
interface SequenceRow {
  rel: string;
  type: string;
  start: string;
  increment: string;
  min: string;
  max: string;
  cache: string;
  cycle: boolean;
  owner_schema: string | null;
  owner_table: string | null;
  owner_column: string | null;
  deptype: string | null;
  last_value: string | null;
}
interface TypeRow {
  oid: string;
  schema: string;
  name: string;
  kind: string;
  relid: string;
  not_null: boolean;
  default: string | null;
  base_type: string | null;
  base_base: string | null;
  base_typmod: number;
  base_category: string | null;
  base_kind: string | null;
  base_is_array: boolean | null;
  labels: string[] | null;
}
interface RoutineRow {
  oid: string;
  schema: string;
  name: string;
  kind: string;
  identity_args: string;
  arg_types: string;
  args: string;
  result: string | null;
  volatility: string;
  secdef: boolean;
  strict: boolean;
  language: string;
  body: string;
  config: string[];
  parallel: string;
  leakproof: boolean;
  owner: string;
  default_acl: boolean;
}
interface ExtensionRow {
  name: string;
  schema: string;
  version: string;
}

const CONSTRAINT_KINDS: Record<string, ConstraintKind> = { p: 'primary key', u: 'unique', f: 'foreign key', c: 'check', x: 'exclusion' };
const REPLICA_IDENTITY: Record<string, ReplicaIdentity> = { d: 'default', f: 'full', i: 'index', n: 'nothing' };
const ROUTINE_KINDS: Record<string, RoutineKind> = { f: 'function', p: 'procedure', a: 'aggregate', w: 'window' };
const VOLATILITY: Record<string, string> = { i: 'immutable', s: 'stable', v: 'volatile' };
const POLICY_COMMANDS: Record<string, string> = { '*': 'ALL', r: 'SELECT', a: 'INSERT', w: 'UPDATE', d: 'DELETE' };
const RULE_EVENTS: Record<string, Rule['event']> = { '1': 'SELECT', '2': 'UPDATE', '3': 'INSERT', '4': 'DELETE' };
const PARALLEL: Record<string, string> = { s: 'safe', r: 'restricted', u: 'unsafe' };

/** The schemas a filter keeps, out of the non-system schemas of a database (exact names, case-sensitive). */
export function schemaInScope(name: string, filter: SchemaFilter): boolean {
  if (filter.includeSchemas?.length && !filter.includeSchemas.includes(name)) return false;
  if (filter.excludeSchemas?.includes(name)) return false;
  return true;
}

/**
 * Reads the catalog of the database `client` is connected to. The caller owns the connection (timeouts, TLS,
 * read-only session); this opens and always closes its own read-only transaction on it.
 */
export async function readCatalog(client: pg.Client, opts: ReadCatalogOptions = {}): Promise<Catalog> {
  await client.query('begin isolation level repeatable read read only');
  try {
    // An empty search_path deparses every user object schema-qualified; a fixed time zone and date style deparse
    // timestamptz literals (partition bounds, defaults) alike whatever each server's own settings are.
    await client.query(`set local search_path = ''; set local timezone = 'UTC'; set local datestyle = 'ISO, YMD'; set local intervalstyle = 'postgres'`);
    const catalog = await readInTransaction(client, opts);
    await client.query('commit');
    return catalog;
  } catch (e) {
    // The session may be broken (timeout, dropped connection): rolling back is best effort, the first error wins.
    await client.query('rollback').catch(() => undefined);
    throw e;
  }
}

/** The rows of the one object batch, by query (each already in scope: `$1` was the in-scope namespace oids). */
interface BatchRows {
  relations: RelationRow[];
  columns: ColumnRow[];
  columnTypes: ColumnTypeRow[];
  defaults: DefaultRow[];
  constraints: ConstraintRow[];
  indexes: IndexRow[];
  triggers: TriggerRow[];
  policies: PolicyRow[];
  privileges: PrivilegeRow[];
  sequences: SequenceRow[];
  types: TypeRow[];
  routines: RoutineRow[];
  extensions: ExtensionRow[];
  rules: RuleRow[];
  objectPrivileges: ObjectPrivilegeRow[];
  roles: RoleRow[];
}

/** Is (catalog class, oid) a member of an extension: read from pg_depend's 'e' rows, once per catalog. */
type IsMember = (cls: string, oid: string) => boolean;

async function readInTransaction(client: pg.Client, opts: ReadCatalogOptions): Promise<Catalog> {
  const server = (await client.query<{ version: string; num: number; db: string }>(SQL_SERVER)).rows[0];
  const members = (await client.query<MemberRow>(SQL_EXTENSION_MEMBERS)).rows;
  const memberOf = new Set(members.map((m) => `${m.cls}:${m.oid}`));
  const isMember: IsMember = (cls, oid) => memberOf.has(`${cls}:${oid}`);

  const schemaRows = (await client.query<SchemaRow>(SQL_SCHEMAS)).rows.filter((s) => schemaInScope(s.name, opts) && !isMember('pg_namespace', s.oid));
  const schemas: SchemaInfo[] = schemaRows.map((s) => ({ name: s.name, owner: s.owner, comment: s.comment }));
  const b = await readBatch(
    client,
    schemaRows.map((s) => s.oid).filter((oid) => /^\d+$/.test(oid)),
  );

  const rels = new Map<string, RelationRow>();
  for (const r of b.relations) if (!isMember('pg_class', r.oid)) rels.set(r.oid, r);
  const of = relationLookups(b, rels, server.num);
  const { tables, views, compositeRels, seqRels } = readRelations(rels, of);
  const sequences = readSequences(b.sequences, seqRels, of);
  const { enums, domains, compositeTypes } = readTypes(b, compositeRels, of, isMember);
  const routines = readRoutines(b.routines, of, isMember);
  addSchemaPrivileges(schemas, schemaRows, of);
  const extensions: Extension[] = b.extensions.map((e) => ({ name: e.name, schema: e.schema, version: e.version }));

  const byQualified = (a: { schema: string; name: string }, b: { schema: string; name: string }) => cmp(a.schema, b.schema) || cmp(a.name, b.name);
  return {
    serverVersion: server.version.split(' ')[0],
    serverVersionNum: server.num,
    database: server.db,
    schemas,
    tables: tables.sort(byQualified),
    views: views.sort(byQualified),
    sequences: sequences.sort(byQualified),
    enums: enums.sort(byQualified),
    domains: domains.sort(byQualified),
    compositeTypes: compositeTypes.sort(byQualified),
    routines: routines.sort((a, b) => byQualified(a, b) || cmp(a.identityArguments, b.identityArguments)),
    extensions: extensions.sort((a, b) => cmp(a.name, b.name)),
    roles: toRoles(b.roles),
  };
}

/**
 * Runs the sixteen object queries over the in-scope namespace oids (decimal strings read from the catalog) and
 * returns their rows by query. Raises a plain Error when the server answers another number of results.
 */
async function readBatch(client: pg.Client, namespaceOids: string[]): Promise<BatchRows> {
  // One round trip for every object query: sent as one simple-query batch, the server runs them back to back while
  // this process parses the results already received (one query at a time left the server idle while rows were
  // parsed here, and the other way round). The namespace list is inlined: oids are integers read from the catalog.
  const nspArray = `'{${namespaceOids.join(',')}}'::oid[]`;
  const batch = [
    SQL_RELATIONS,
    SQL_COLUMNS,
    SQL_COLUMN_TYPES,
    SQL_DEFAULTS,
    SQL_CONSTRAINTS,
    SQL_INDEXES,
    SQL_TRIGGERS,
    SQL_POLICIES,
    SQL_PRIVILEGES,
    SQL_SEQUENCES,
    SQL_TYPES,
    SQL_ROUTINES,
    SQL_EXTENSIONS,
    SQL_RULES,
    SQL_OBJECT_PRIVILEGES,
    SQL_ROLES,
  ];
  // node-pg answers a multi-statement text with one result per statement (typed as one result).
  const results = (await client.query(batch.map((sql) => sql.replaceAll('$1::oid[]', nspArray)).join(';\n'))) as unknown as pg.QueryResult[];
  if (!Array.isArray(results) || results.length !== batch.length)
    throw new Error(`the catalog batch returned ${Array.isArray(results) ? results.length : 1} results instead of ${batch.length}`);
  const rows = <R>(i: number) => results[i].rows as R[];
  return {
    relations: rows<RelationRow>(0),
    columns: rows<ColumnRow>(1),
    columnTypes: rows<ColumnTypeRow>(2),
    defaults: rows<DefaultRow>(3),
    constraints: rows<ConstraintRow>(4),
    indexes: rows<IndexRow>(5),
    triggers: rows<TriggerRow>(6),
    policies: rows<PolicyRow>(7),
    privileges: rows<PrivilegeRow>(8),
    sequences: rows<SequenceRow>(9),
    types: rows<TypeRow>(10),
    routines: rows<RoutineRow>(11),
    extensions: rows<ExtensionRow>(12),
    rules: rows<RuleRow>(13),
    objectPrivileges: rows<ObjectPrivilegeRow>(14),
    roles: rows<RoleRow>(15),
  };
}

/** Per-relation lookups over the batch's rows, shared by the relation, sequence, type, routine and schema sections. */
interface RelationLookups {
  columnsBy: Map<string, ColumnRow[]>;
  constraintsBy: Map<string, ConstraintRow[]>;
  indexesBy: Map<string, IndexRow[]>;
  triggersBy: Map<string, TriggerRow[]>;
  policiesBy: Map<string, PolicyRow[]>;
  /** Explicit grants on a schema ('n'), routine ('p') or column ('a', oid `rel:position`), sorted. */
  explicitPrivileges(kind: 'n' | 'p' | 'a', oid: string): Privilege[];
  rulesOf(oid: string): Rule[];
  /** A relation's privileges: its ACL, or what acldefault() gives its owner when it has none. */
  privilegesOf(r: RelationRow): Privilege[];
  /** A relation's columns in position order (also a composite type's attributes). */
  columnsOf(oid: string): Column[];
  /** A relation's column names by attnum (constraint keys name columns by number). */
  attnames(oid: string): Map<number, string>;
}

/**
 * Groups the batch's rows by relation (only relations in `rels`) and builds the lookups of RelationLookups.
 * `serverNum` is server_version_num: PostgreSQL 17 added MAINTAIN to a table's default privileges.
 */
function relationLookups(b: BatchRows, rels: Map<string, RelationRow>, serverNum: number): RelationLookups {
  const group = <R extends { rel: string }>(rows: R[]) => {
    const m = new Map<string, R[]>();
    for (const row of rows) {
      if (!rels.has(row.rel)) continue;
      const list = m.get(row.rel);
      if (list) list.push(row);
      else m.set(row.rel, [row]);
    }
    return m;
  };
  const columnsBy = group(b.columns);
  const privilegesBy = group(b.privileges);
  const rulesBy = group(b.rules);
  const objectPrivileges = new Map<string, Privilege[]>();
  for (const r of b.objectPrivileges) {
    const k = `${r.kind}:${r.oid}`;
    const list = objectPrivileges.get(k);
    const p = toPrivilege({ rel: r.oid, grantee: r.grantee, privilege: r.privilege, grantable: r.grantable });
    if (list) list.push(p);
    else objectPrivileges.set(k, [p]);
  }
  const columnGrantRels = new Set(b.objectPrivileges.filter((r) => r.kind === 'a').map((r) => r.oid.slice(0, r.oid.indexOf(':'))));
  const explicitPrivileges = (kind: 'n' | 'p' | 'a', oid: string): Privilege[] => (objectPrivileges.get(`${kind}:${oid}`) ?? []).sort(byPrivilege);
  const rulesOf = (oid: string): Rule[] =>
    (rulesBy.get(oid) ?? [])
      .map((r): Rule => ({ name: r.name, event: RULE_EVENTS[r.event] ?? 'SELECT', instead: r.instead, definition: normalizeSpace(r.def), enabled: r.enabled }))
      .sort(byName);
  const privilegesOf = (r: RelationRow): Privilege[] => {
    if (!r.default_acl) return (privilegesBy.get(r.oid) ?? []).map(toPrivilege).sort(byPrivilege);
    // What acldefault() gives the owner: every privilege of the object kind (PostgreSQL 17 added MAINTAIN).
    const all =
      r.kind === 'S'
        ? ['SELECT', 'UPDATE', 'USAGE']
        : ['DELETE', 'INSERT', ...(serverNum >= 170000 ? ['MAINTAIN'] : []), 'REFERENCES', 'SELECT', 'TRIGGER', 'TRUNCATE', 'UPDATE'];
    return all.map((privilege) => ({ grantee: r.owner, privilege, grantable: false }));
  };
  const toColumn = columnReader(b, (c) =>
    // Column grants are rare: looked up only when the relation has any (no key string, no extra object per column).
    columnGrantRels.has(c.rel) && objectPrivileges.has(`a:${c.rel}:${c.position}`) ? explicitPrivileges('a', `${c.rel}:${c.position}`) : undefined,
  );
  return {
    columnsBy,
    constraintsBy: group(b.constraints.filter((c) => c.rel !== '0')),
    indexesBy: group(b.indexes),
    triggersBy: group(b.triggers),
    policiesBy: group(b.policies),
    explicitPrivileges,
    rulesOf,
    privilegesOf,
    columnsOf: (oid) => (columnsBy.get(oid) ?? []).sort((a, b) => a.position - b.position).map(toColumn),
    attnames: (oid) => new Map((columnsBy.get(oid) ?? []).map((c) => [c.position, c.name])),
  };
}

/**
 * Builds the reader of one column row: its type (from the column-type rows), default or generation expression (from
 * the default rows) and, when `grantsOf` returns any, its column grants.
 */
function columnReader(b: BatchRows, grantsOf: (c: ColumnRow) => Privilege[] | undefined): (c: ColumnRow) => Column {
  // Nested maps rather than composite string keys: tens of thousands of lookups per catalog, no key strings.
  const typeOf = new Map<string, Map<number, ColumnType>>();
  for (const t of b.columnTypes) {
    const byMod = typeOf.get(t.typid) ?? new Map<number, ColumnType>();
    byMod.set(t.typmod, { name: t.type, base: t.base, typmod: t.typmod, category: t.category, kind: t.typkind, isArray: t.is_array });
    typeOf.set(t.typid, byMod);
  }
  const defaultOf = new Map<string, Map<number, string | null>>();
  for (const d of b.defaults) {
    const byPos = defaultOf.get(d.rel) ?? new Map<number, string | null>();
    byPos.set(d.position, d.expr);
    defaultOf.set(d.rel, byPos);
  }
  return (c: ColumnRow): Column => {
    const expr = defaultOf.get(c.rel)?.get(c.position) ?? null;
    const generated = c.generated === 's' ? expr : null;
    const column: Column = {
      name: c.name,
      position: c.position,
      // Every (type, typmod) pair of an in-scope column is in typeOf: the two queries share one snapshot and scope.
      type: typeOf.get(c.typid)?.get(c.typmod) ?? { name: `oid ${c.typid}`, base: `oid ${c.typid}`, typmod: c.typmod, category: '', kind: '', isArray: false },
      notNull: c.not_null,
      default: generated === null ? expr : null,
      identity: c.identity === 'a' ? 'always' : c.identity === 'd' ? 'by default' : null,
      generated,
      collation: c.collation,
      comment: c.comment,
    };
    const privileges = grantsOf(c);
    if (privileges) column.privileges = privileges;
    return column;
  };
}

/**
 * The relations section: tables (ordinary, partitioned, foreign) and views (plain, materialized) of `rels`, unsorted;
 * composite-type and sequence relations are returned by oid for the type and sequence sections.
 */
function readRelations(
  rels: Map<string, RelationRow>,
  of: RelationLookups,
): { tables: Table[]; views: View[]; compositeRels: Map<string, RelationRow>; seqRels: Map<string, RelationRow> } {
  const tables: Table[] = [];
  const views: View[] = [];
  const compositeRels = new Map<string, RelationRow>();
  const seqRels = new Map<string, RelationRow>();
  for (const r of rels.values()) {
    if (r.kind === 'c') {
      compositeRels.set(r.oid, r);
      continue;
    }
    if (r.kind === 'S') {
      seqRels.set(r.oid, r);
      continue;
    }
    const indexes = (of.indexesBy.get(r.oid) ?? []).map(toIndex).sort(byName);
    const triggers = (of.triggersBy.get(r.oid) ?? []).map(toTrigger).sort(byName);
    const privileges = of.privilegesOf(r);
    if (r.kind === 'v' || r.kind === 'm') {
      views.push({
        schema: r.schema,
        name: r.name,
        kind: r.kind === 'v' ? 'view' : 'materialized view',
        definition: normalizeSpace(r.viewdef ?? ''),
        columns: of.columnsOf(r.oid),
        indexes,
        triggers,
        privileges,
        owner: r.owner,
        comment: r.comment,
        options: sortedOptions(r.options),
        populated: r.populated,
        rules: of.rulesOf(r.oid),
      });
      continue;
    }
    tables.push(toTable(r, indexes, triggers, privileges, of));
  }
  return { tables, views, compositeRels, seqRels };
}

/** One table of the relations section, with its already-read indexes, triggers and privileges. */
function toTable(r: RelationRow, indexes: Index[], triggers: Trigger[], privileges: Privilege[], of: RelationLookups): Table {
  const names = of.attnames(r.oid);
  const constraints = (of.constraintsBy.get(r.oid) ?? [])
    .map(
      (c): Constraint => ({
        name: c.name,
        kind: CONSTRAINT_KINDS[c.kind],
        definition: c.def,
        columns: (c.conkey ?? []).map((n) => names.get(n) ?? `#${n}`),
        validated: c.validated,
        inherited: c.inherited,
      }),
    )
    .sort(byName);
  return {
    schema: r.schema,
    name: r.name,
    kind: r.kind === 'p' ? 'partitioned table' : r.kind === 'f' ? 'foreign table' : 'table',
    columns: of.columnsOf(r.oid),
    constraints,
    indexes,
    triggers,
    policies: (of.policiesBy.get(r.oid) ?? []).map(toPolicy).sort(byName),
    privileges,
    owner: r.owner,
    comment: r.comment,
    rlsEnabled: r.rls,
    rlsForced: r.rls_forced,
    replicaIdentity: REPLICA_IDENTITY[r.replident] ?? 'default',
    replicaIdentityIndex: r.replident === 'i' ? r.replident_index : null,
    hasPrimaryKey: constraints.some((c) => c.kind === 'primary key'),
    partitionOf: r.parent_schema !== null && r.parent_name !== null ? { schema: r.parent_schema, name: r.parent_name } : null,
    partitionBound: r.bound,
    detachPending: r.detach_pending,
    partitionConstraint: r.partition_constraint,
    partitionKey: r.partkey,
    options: sortedOptions(r.options),
    logged: r.persistence !== 'u',
    rules: of.rulesOf(r.oid),
  };
}

/** The sequences section: one Sequence per sequence row whose relation is in `seqRels` (unsorted). */
function readSequences(rows: SequenceRow[], seqRels: Map<string, RelationRow>, of: RelationLookups): Sequence[] {
  const sequences: Sequence[] = [];
  for (const s of rows) {
    const r = seqRels.get(s.rel);
    if (!r) continue;
    sequences.push({
      schema: r.schema,
      name: r.name,
      dataType: s.type,
      start: s.start,
      increment: s.increment,
      min: s.min,
      max: s.max,
      cache: s.cache,
      cycle: s.cycle,
      ownedBy:
        s.owner_schema !== null && s.owner_table !== null && s.owner_column !== null
          ? { schema: s.owner_schema, table: s.owner_table, column: s.owner_column }
          : null,
      identity: s.deptype === 'i',
      privileges: of.privilegesOf(r),
      lastValue: s.last_value,
    });
  }
  return sequences;
}

/**
 * The types section: enums, domains (with their checks, from the constraint rows of a type) and composite types
 * (attributes read as the columns of their relation in `compositeRels`), unsorted; extension members left out.
 */
function readTypes(
  b: BatchRows,
  compositeRels: Map<string, RelationRow>,
  of: RelationLookups,
  isMember: IsMember,
): { enums: EnumType[]; domains: DomainType[]; compositeTypes: CompositeType[] } {
  const domainChecks = new Map<string, Array<{ name: string; definition: string }>>();
  for (const c of b.constraints) {
    if (c.typ === '0') continue;
    const list = domainChecks.get(c.typ) ?? [];
    list.push({ name: c.name, definition: c.def });
    domainChecks.set(c.typ, list);
  }
  const enums: EnumType[] = [];
  const domains: DomainType[] = [];
  const compositeTypes: CompositeType[] = [];
  for (const t of b.types) {
    if (isMember('pg_type', t.oid)) continue;
    if (t.kind === 'e') enums.push({ schema: t.schema, name: t.name, values: t.labels ?? [] });
    else if (t.kind === 'd') {
      domains.push({
        schema: t.schema,
        name: t.name,
        baseType: {
          name: t.base_type ?? '',
          base: t.base_base ?? '',
          typmod: t.base_typmod,
          category: t.base_category ?? '',
          kind: t.base_kind ?? '',
          isArray: t.base_is_array === true,
        },
        notNull: t.not_null,
        default: t.default,
        constraints: (domainChecks.get(t.oid) ?? []).sort(byName),
      });
    } else if (t.kind === 'c' && compositeRels.has(t.relid)) {
      compositeTypes.push({ schema: t.schema, name: t.name, attributes: of.columnsOf(t.relid) });
    }
  }
  return { enums, domains, compositeTypes };
}

/** The routines section: functions, procedures, aggregates and window functions, extension members left out (unsorted). */
function readRoutines(rows: RoutineRow[], of: RelationLookups, isMember: IsMember): Routine[] {
  return rows
    .filter((p) => !isMember('pg_proc', p.oid))
    .map((p) => ({
      schema: p.schema,
      name: p.name,
      kind: ROUTINE_KINDS[p.kind] ?? 'function',
      identityArguments: p.identity_args,
      argumentTypes: p.arg_types,
      arguments: p.args,
      returns: p.result,
      volatility: VOLATILITY[p.volatility] ?? p.volatility,
      securityDefiner: p.secdef,
      strict: p.strict,
      language: p.language,
      bodyHash: createHash('md5')
        .update(p.body ?? '')
        .digest('hex'),
      body: p.body ?? '',
      config: [...(p.config ?? [])].sort(),
      parallel: PARALLEL[p.parallel] ?? p.parallel,
      leakproof: p.leakproof,
      // acldefault('f'): PUBLIC and the owner may EXECUTE.
      privileges: p.default_acl
        ? [
            { grantee: 'PUBLIC', privilege: 'EXECUTE', grantable: false },
            { grantee: p.owner, privilege: 'EXECUTE', grantable: false },
          ].sort(byPrivilege)
        : of.explicitPrivileges('p', p.oid),
    }));
}

/** The schemas section's privileges: set on each SchemaInfo of `schemas` (in place) from its row's ACL. */
function addSchemaPrivileges(schemas: SchemaInfo[], schemaRows: SchemaRow[], of: RelationLookups): void {
  for (const s of schemaRows) {
    const info = schemas.find((x) => x.name === s.name);
    // acldefault('n'): the owner holds USAGE and CREATE.
    if (info) {
      info.privileges = s.default_acl
        ? [
            { grantee: s.owner, privilege: 'CREATE', grantable: false },
            { grantee: s.owner, privilege: 'USAGE', grantable: false },
          ]
        : of.explicitPrivileges('n', s.oid);
    }
  }
}

function toIndex(i: IndexRow): Index {
  const options = sortedOptions(i.options);
  return {
    name: i.name,
    // The name is dropped from the definition so that an index recreated under another name compares equal, and so
    // is the WITH (storage parameters) clause, compared on its own: a fillfactor is not a different index.
    definition: withoutStorageClause(i.def.replace(/^(CREATE (?:UNIQUE )?INDEX )(?:"(?:[^"]|"")+"|\S+) (ON )/, '$1$2'), i.options ?? []),
    unique: i.unique,
    primary: i.primary,
    partial: i.partial,
    expression: i.expression,
    constraintBacked: i.backed,
    valid: i.valid,
    inherited: i.inherited,
    ready: i.ready,
    options,
  };
}

/**
 * pg_get_indexdef prints reloptions as ` WITH (name='value', …)` in pg_class order (flatten_reloptions); removing
 * exactly that text leaves the rest of the definition untouched.
 */
function withoutStorageClause(def: string, options: string[]): string {
  if (options.length === 0) return def;
  const clause = ` WITH (${options
    .map((o) => {
      const eq = o.indexOf('=');
      return `${o.slice(0, eq)}='${o.slice(eq + 1).replace(/'/g, "''")}'`;
    })
    .join(', ')})`;
  const at = def.indexOf(clause);
  return at < 0 ? def : def.slice(0, at) + def.slice(at + clause.length);
}

function sortedOptions(options: string[] | null): string[] {
  return options ? [...options].sort() : [];
}

/** tgtype bits (pg_trigger.h): 1 ROW, 2 BEFORE, 4 INSERT, 8 DELETE, 16 UPDATE, 32 TRUNCATE, 64 INSTEAD. */
function toTrigger(t: TriggerRow): Trigger {
  const events: Trigger['events'] = [];
  if (t.type & 4) events.push('INSERT');
  if (t.type & 16) events.push('UPDATE');
  if (t.type & 8) events.push('DELETE');
  if (t.type & 32) events.push('TRUNCATE');
  return {
    name: t.name,
    definition: t.def,
    enabled: t.enabled,
    timing: t.type & 64 ? 'instead of' : t.type & 2 ? 'before' : 'after',
    row: (t.type & 1) !== 0,
    events,
    conditional: t.conditional,
    functionLanguage: t.language,
    functionBody: t.body,
  };
}

/** Roles with their memberships made transitive (a member of a member of R is subject to policies TO R). */
function toRoles(rows: RoleRow[]): RoleInfo[] {
  const direct = new Map(rows.map((r) => [r.name, r.member_of]));
  return rows
    .map((r) => {
      const seen = new Set<string>();
      const stack = [...r.member_of];
      while (stack.length) {
        const x = stack.pop() as string;
        if (seen.has(x)) continue;
        seen.add(x);
        stack.push(...(direct.get(x) ?? []));
      }
      return { name: r.name, bypassRls: r.bypass, memberOf: [...seen].sort() };
    })
    .sort(byName);
}

function toPolicy(p: PolicyRow): Policy {
  return {
    name: p.name,
    command: POLICY_COMMANDS[p.cmd] ?? p.cmd,
    permissive: p.permissive,
    roles: p.roles,
    using: p.using,
    withCheck: p.with_check,
  };
}

function toPrivilege(p: PrivilegeRow): Privilege {
  return { grantee: p.grantee, privilege: p.privilege, grantable: p.grantable };
}

function normalizeSpace(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function byName(a: { name: string }, b: { name: string }): number {
  return cmp(a.name, b.name);
}

function byPrivilege(a: Privilege, b: Privilege): number {
  return cmp(a.grantee, b.grantee) || cmp(a.privilege, b.privilege);
}
