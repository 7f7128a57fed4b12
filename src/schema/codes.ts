/**
 * The stable difference codes of the schema validator. A code never changes meaning or severity once shipped:
 * reports are stored, gates (`promote`, `db cutover`) read them and operators pass `--ignore CODE`.
 *
 * Prefixes follow the field's vocabulary where one exists, so the codes read familiar:
 *   BC  backward-incompatible change (Atlas lint BC101 table rename, BC102 column rename)
 *   DS  destructive change (Atlas DS101 schema, DS102 table, DS103 column dropped)
 *   MF  data-dependent change: may fail on existing data or writers (Atlas MF101 unique index, MF103 NOT NULL column
 *       without default, MF104 column made NOT NULL)
 *   CT  column type change (squawk changing-column-type; pgroll alter_column type)
 *   SA  safe addition (pgroll's "expand" half: the old application ignores what it does not know)
 * and one prefix per object family for the rest (DF defaults, NN nullability, ID identity, GC generated columns,
 * CL collation, CO column order, PK primary key, CN constraints, IX indexes, VW views, SQ sequences, EN enums,
 * DM domains, CP composite types, FN functions, TG triggers, RU rules, RL row-level security, PV privileges,
 * EX extensions, TB table shape, SP storage parameters, CM comments), plus
 *   ST  state: equal definitions whose state differs (populated, valid, validated, enabled)
 *   RB  the rollback verdict: green's writes replicated back into blue's schema after `db cutover`; these codes
 *       live in `report.rollback`, never in the forward list, and their severity is the rollback's.
 */
import type { Severity } from './report.js';

export interface CodeInfo {
  severity: Severity;
  /** What the code means, one line (the README's codes table is generated from these). */
  meaning: string;
  /** The same finding in other tools' vocabulary, for operators who know them. */
  seeAlso?: string;
}

export const CODES = {
  // --- breaking: the blue application running against green fails, or rollback loses data -------------------------
  BC101: {
    severity: 'breaking',
    meaning: 'Table probably renamed (a dropped and an added table with identical columns).',
    seeAlso: 'Atlas BC101; pgroll rename_table',
  },
  BC102: {
    severity: 'breaking',
    meaning: 'Column probably renamed (a dropped and an added column of the same type in one table).',
    seeAlso: 'Atlas BC102; squawk renaming-column; pgroll rename_column',
  },
  BC103: { severity: 'breaking', meaning: 'Enum value probably renamed (one value removed and one added at the same position).' },
  BC104: { severity: 'breaking', meaning: 'Function or procedure signature changed (the blue overload no longer exists, another one does).' },
  BC105: { severity: 'breaking', meaning: 'Function return type changed.' },
  BC106: { severity: 'breaking', meaning: 'View column removed or retyped incompatibly.' },
  DS101: { severity: 'breaking', meaning: 'Schema dropped.', seeAlso: 'Atlas DS101' },
  DS102: { severity: 'breaking', meaning: 'Table or partition dropped.', seeAlso: 'Atlas DS102; squawk ban-drop-table' },
  DS103: { severity: 'breaking', meaning: 'Column dropped.', seeAlso: 'Atlas DS103; squawk ban-drop-column; pgroll drop_column' },
  DS104: { severity: 'breaking', meaning: 'View or materialized view dropped.' },
  DS105: { severity: 'breaking', meaning: 'Enum value removed.' },
  DS106: { severity: 'breaking', meaning: 'Function or procedure removed.' },
  DS107: { severity: 'breaking', meaning: 'Sequence dropped.' },
  DS108: { severity: 'breaking', meaning: 'Type (enum, domain or composite) dropped.' },
  DS109: { severity: 'breaking', meaning: 'Extension dropped.' },
  MF103: {
    severity: 'breaking',
    meaning: 'NOT NULL column added without a default: inserts that do not name it fail.',
    seeAlso: 'Atlas MF103; squawk adding-required-field',
  },
  MF104: {
    severity: 'breaking',
    meaning: 'Column (or domain) made NOT NULL: writes of NULL fail, existing NULLs block it.',
    seeAlso: 'Atlas MF104; squawk adding-not-nullable-field; pgroll set_notnull',
  },
  CT101: {
    severity: 'breaking',
    meaning: 'Type changed incompatibly: narrowed, or moved to another type family.',
    seeAlso: 'squawk changing-column-type; pgroll alter_column',
  },
  PK101: { severity: 'breaking', meaning: 'Primary key removed or changed.' },
  SQ101: { severity: 'breaking', meaning: 'A sequence a column default uses (nextval) was dropped.' },
  DF103: { severity: 'breaking', meaning: 'Default removed from a NOT NULL column: inserts that omit the column fail.' },
  ID101: { severity: 'breaking', meaning: 'Identity removed from a column that has no other default: inserts that omit it fail.' },
  ID102: { severity: 'breaking', meaning: 'Column became GENERATED ALWAYS AS IDENTITY: inserts that supply a value fail.' },
  GC101: { severity: 'breaking', meaning: 'Column became a generated column: writes to it fail.' },
  PV101: { severity: 'breaking', meaning: 'Privileges revoked from a role (since issue 11 also USAGE/CREATE on schemas and EXECUTE on routines).' },
  CP101: { severity: 'breaking', meaning: 'Composite type attribute removed.' },
  MF109: {
    severity: 'breaking',
    meaning:
      'CHECK (column IS NOT NULL) on green for a column nullable on blue, NOT VALID included (new rows are checked): blue’s writes of NULL fail, as with SET NOT NULL.',
    seeAlso: 'Atlas MF104',
  },
  RL107: {
    severity: 'breaking',
    meaning:
      'Row-level security on green leaves a role that uses the table on blue without a policy for a command: its INSERTs fail, its SELECT/UPDATE/DELETE see no rows.',
  },
  TB104: {
    severity: 'breaking',
    meaning:
      'Green’s partitions do not accept key values blue’s table accepts (table became partitioned, partition dropped or bound shrunk, no DEFAULT partition): blue’s inserts of such rows fail.',
  },
  TG104: {
    severity: 'breaking',
    meaning:
      'A trigger fires for blue’s writes on green whose function always raises an exception (or, BEFORE ROW, always returns NULL): those writes fail or are silently dropped.',
  },
  RU103: {
    severity: 'breaking',
    meaning: 'A DO INSTEAD NOTHING rule applies to blue’s INSERT/UPDATE/DELETE on green: the writes report success and store nothing.',
  },
  ST101: {
    severity: 'breaking',
    meaning: 'Materialized view not populated on green (WITH NO DATA) while populated on blue: blue’s SELECT on it fails until REFRESH.',
  },
  ST110: {
    severity: 'breaking',
    meaning:
      'Partition DETACH PENDING on green (an interrupted DETACH PARTITION … CONCURRENTLY): the parent routes no rows to it, blue’s inserts of its range fail until FINALIZE.',
  },
  ST103: {
    severity: 'breaking',
    meaning:
      'Unique index invalid on green (a failed CREATE INDEX CONCURRENTLY, a partitioned index missing partitions) while valid on blue: blue’s INSERT … ON CONFLICT on it fails.',
  },
  SQ104: {
    severity: 'breaking',
    meaning: 'Sequence or identity bounds on green exclude values blue’s sequence already reached: carrying it over at cutover fails, then inserts fail.',
  },
  // --- risky: works today, but existing writers, readers or operations may trip over it ------------------------------
  MF101: { severity: 'risky', meaning: 'Unique index added, or an index made unique: existing writers may violate it.', seeAlso: 'Atlas MF101/MF102' },
  MF105: { severity: 'risky', meaning: 'Unique constraint added or changed: existing writers may violate it.', seeAlso: 'squawk disallowed-unique-constraint' },
  MF106: {
    severity: 'risky',
    meaning:
      'Check constraint added or changed: existing writers may violate it (since issue 11 not for a pure CHECK (col IS NOT NULL), now MF109/CN103, nor for NOT VALID ↔ validated alone, now ST105).',
    seeAlso: 'squawk constraint-missing-not-valid; pgroll create_constraint',
  },
  MF107: {
    severity: 'risky',
    meaning: 'Foreign key added or changed: existing writers may violate it, deletes may cascade differently.',
    seeAlso: 'squawk adding-foreign-key-constraint',
  },
  MF108: { severity: 'risky', meaning: 'Exclusion constraint added or changed: existing writers may violate it.' },
  PK102: { severity: 'risky', meaning: 'Primary key added to a table that had none: existing writers may violate it.' },
  CN101: { severity: 'risky', meaning: 'Constraint removed: data the blue application relies on is no longer guaranteed (ON CONFLICT may fail).' },
  CT102: { severity: 'risky', meaning: 'Type widened in a way clients can observe (representation, precision or time-zone semantics).' },
  NN101: { severity: 'risky', meaning: 'NOT NULL dropped: blue readers may assume values that green lets be NULL.', seeAlso: 'squawk ban-drop-not-null' },
  DF101: { severity: 'risky', meaning: 'Column default changed.' },
  DF102: { severity: 'risky', meaning: 'Column default removed (the column is nullable: omitted values become NULL).' },
  ID103: { severity: 'risky', meaning: 'Identity added or relaxed to BY DEFAULT, or replaced by a plain default.' },
  GC102: { severity: 'risky', meaning: 'Generated column expression changed or removed.' },
  CL101: { severity: 'risky', meaning: 'Column collation changed: sort order and uniqueness may differ.' },
  CO101: { severity: 'risky', meaning: 'Column order changed: SELECT * and INSERT without a column list see another order.' },
  IX101: { severity: 'risky', meaning: 'Index dropped: queries that used it get slower.' },
  IX102: { severity: 'risky', meaning: 'Index definition changed (since issue 11 storage parameters alone are SP101).' },
  VW101: { severity: 'risky', meaning: 'View definition changed (same columns): results may differ.' },
  SQ102: {
    severity: 'risky',
    meaning:
      'Sequence or identity changed in type, bounds, cycle or owner (until issue 11 also increment/cache, now SQ103; identity sequences are now compared too).',
  },
  EN101: { severity: 'risky', meaning: 'Enum values reordered: comparisons and ORDER BY change.' },
  DM102: { severity: 'risky', meaning: 'Domain check constraint added or changed: existing writers may violate it.' },
  CP102: { severity: 'risky', meaning: 'Composite type attribute added: clients building row literals see another shape.' },
  FN101: {
    severity: 'risky',
    meaning:
      'Function behaviour changed with the same signature (body, volatility, security definer, strictness, language; since issue 11 also SET options, parallel safety, leakproof, and SQL-standard bodies), with what changed.',
  },
  FN102: { severity: 'risky', meaning: 'Function argument names or defaults changed: calls using named arguments or omitting one may fail.' },
  TG101: { severity: 'risky', meaning: 'Trigger added: writes run new code.' },
  TG102: { severity: 'risky', meaning: 'Trigger removed: side effects the blue application relies on stop.' },
  TG103: { severity: 'risky', meaning: 'Trigger definition changed (until issue 11 also its enabled state, now ST106–ST108).' },
  RL101: { severity: 'risky', meaning: 'Row-level security enabled: rows may disappear from the blue application’s view.' },
  RL102: { severity: 'risky', meaning: 'Row-level security disabled: rows policies hid become visible.' },
  RL103: { severity: 'risky', meaning: 'FORCE ROW LEVEL SECURITY changed: whether the table owner is subject to policies changed.' },
  RL104: { severity: 'risky', meaning: 'Row-level security policy added.' },
  RL105: { severity: 'risky', meaning: 'Row-level security policy removed.' },
  RL106: { severity: 'risky', meaning: 'Row-level security policy changed.' },
  EX101: { severity: 'risky', meaning: 'Extension version changed.' },
  TB101: { severity: 'risky', meaning: 'Table kind changed (plain ↔ partitioned ↔ foreign).' },
  TB102: { severity: 'risky', meaning: 'Partitioning changed (key, bound, or partition attached/detached): rows may route elsewhere or be rejected.' },
  TB103: { severity: 'risky', meaning: 'Replica identity changed: logical replication of UPDATE/DELETE behaves differently.' },
  RL108: {
    severity: 'risky',
    meaning:
      'Row-level security on green filters a role’s command through policy expressions that did not apply on blue: some of blue’s rows may be refused or hidden.',
  },
  VW102: {
    severity: 'risky',
    meaning: 'View gained WITH CHECK OPTION (or LOCAL became CASCADED): blue’s INSERT/UPDATE through it of rows the view does not show fail.',
  },
  VW103: {
    severity: 'risky',
    meaning: 'View security option changed (security_invoker, security_barrier): whose permissions apply and how rows are filtered differ.',
  },
  RU101: { severity: 'risky', meaning: 'Rule added or changed: blue’s statements on the table run rewritten.' },
  RU102: { severity: 'risky', meaning: 'Rule removed: what it did for blue’s statements stops.' },
  ST104: { severity: 'risky', meaning: 'Index invalid on green while valid on blue: the planner ignores it, queries that used it get slower.' },
  ST106: { severity: 'risky', meaning: 'Trigger or rule no longer fires for blue’s statements on green (disabled, or ENABLE REPLICA): its side effects stop.' },
  ST107: { severity: 'risky', meaning: 'Trigger or rule fires for blue’s statements on green but not on blue (enabled): blue’s writes run it.' },
  ST109: {
    severity: 'risky',
    meaning: 'Table UNLOGGED on one side only: an unlogged table loses its rows on a crash and logical replication cannot carry it.',
  },
  PV102: { severity: 'risky', meaning: 'Grant option revoked (WITH GRANT OPTION): the role’s GRANT of that privilege to others fails.' },
  // --- safe: the blue application is unaffected ---------------------------------------------------------------------
  SA101: { severity: 'safe', meaning: 'Schema added.' },
  SA102: { severity: 'safe', meaning: 'Table or partition added.' },
  SA103: { severity: 'safe', meaning: 'Column added that is nullable or has a default.', seeAlso: 'pgroll add_column (expand)' },
  SA104: { severity: 'safe', meaning: 'Index added (not unique).' },
  SA105: { severity: 'safe', meaning: 'View or materialized view added.' },
  SA106: { severity: 'safe', meaning: 'Sequence added.' },
  SA107: { severity: 'safe', meaning: 'Enum value added.' },
  SA108: { severity: 'safe', meaning: 'Type (enum, domain or composite) added.' },
  SA109: { severity: 'safe', meaning: 'Function or procedure added (a new name or a new overload).' },
  SA110: { severity: 'safe', meaning: 'Extension added.' },
  SA111: { severity: 'safe', meaning: 'Privileges granted to a role (since issue 11 also on schemas and routines).' },
  DF104: { severity: 'safe', meaning: 'Default added to a column that had none.' },
  CT103: { severity: 'safe', meaning: 'Type widened losslessly (varchar(n)→varchar(m>n) or text, int→bigint, more numeric precision).' },
  CN102: { severity: 'safe', meaning: 'Constraint renamed (same definition).' },
  IX103: { severity: 'safe', meaning: 'Index renamed (same definition).' },
  CM101: { severity: 'safe', meaning: 'Comment changed.' },
  CN103: {
    severity: 'safe',
    meaning:
      'Check constraint added that blue’s schema already guarantees (column IS NOT NULL on a NOT NULL column, a partition’s own bound): no write of blue’s can violate it.',
  },
  ST102: { severity: 'safe', meaning: 'Materialized view populated on green, not on blue.' },
  ST105: {
    severity: 'safe',
    meaning: 'Constraint NOT VALID on one side, validated on the other (same definition): new rows are checked alike, only existing rows are unproven.',
  },
  ST108: {
    severity: 'safe',
    meaning:
      'Trigger or rule firing mode changed without effect on application sessions (ORIGIN ↔ ALWAYS, DISABLED ↔ REPLICA): only logical-replication apply sees it.',
  },
  SQ103: { severity: 'safe', meaning: 'Sequence or identity increment, cache or start changed: values step differently, no statement fails.' },
  SP101: {
    severity: 'safe',
    meaning:
      'Storage parameter changed on a table, index or materialized view (fillfactor, autovacuum_*, parallel_workers …): performance and maintenance only.',
  },
  SA112: { severity: 'safe', meaning: 'Grant option granted (WITH GRANT OPTION).' },
  // --- the rollback verdict: green's writes, replicated back to blue after `db cutover`, into blue's schema ----------
  RB101: {
    severity: 'breaking',
    meaning:
      'Green’s column holds values blue’s cannot (longer varchar, more numeric digits, a bigger integer, another type): once green writes one, reverse replication stops and rollback after cutover is impossible.',
  },
  RB102: {
    severity: 'breaking',
    meaning: 'Enum label only on green, in a column blue has: once green writes it, reverse replication stops and rollback after cutover is impossible.',
  },
  RB103: {
    severity: 'breaking',
    meaning: 'Column NOT NULL on blue that green lets be NULL (or lacks, blue having no default): green’s rows stop reverse replication.',
  },
  RB104: { severity: 'breaking', meaning: 'Green’s partitions accept key values blue’s do not: once green writes one, reverse replication stops.' },
  RB107: {
    severity: 'breaking',
    meaning:
      'A trigger on blue fires for replication apply (ENABLE ALWAYS or REPLICA) and always raises or skips the row: reverse replication stops or drops green’s rows.',
  },
  RB105: {
    severity: 'risky',
    meaning:
      'Check, unique or exclusion constraint (or domain check) on blue that green lacks or changed: green’s writes may violate it and stop reverse replication (foreign keys are not checked by the apply worker).',
  },
  RB106: {
    severity: 'risky',
    meaning: 'Table or column only on green: reverse replication publishes only what blue has, so what green writes there is left behind by a rollback.',
  },
} as const satisfies Record<string, CodeInfo>;

export type Code = keyof typeof CODES;

export function isCode(s: string): s is Code {
  return Object.hasOwn(CODES, s);
}

/** breaking first: the order reports and tables are grouped in. */
export const SEVERITY_ORDER: readonly Severity[] = ['breaking', 'risky', 'safe'];
