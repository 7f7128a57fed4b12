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
 * DM domains, CP composite types, FN functions, TG triggers, RL row-level security, PV privileges, EX extensions,
 * TB table shape, CM comments).
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
  BC101: { severity: 'breaking', meaning: 'Table probably renamed (a dropped and an added table with identical columns).', seeAlso: 'Atlas BC101; pgroll rename_table' },
  BC102: { severity: 'breaking', meaning: 'Column probably renamed (a dropped and an added column of the same type in one table).', seeAlso: 'Atlas BC102; squawk renaming-column; pgroll rename_column' },
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
  MF103: { severity: 'breaking', meaning: 'NOT NULL column added without a default: inserts that do not name it fail.', seeAlso: 'Atlas MF103; squawk adding-required-field' },
  MF104: { severity: 'breaking', meaning: 'Column (or domain) made NOT NULL: writes of NULL fail, existing NULLs block it.', seeAlso: 'Atlas MF104; squawk adding-not-nullable-field; pgroll set_notnull' },
  CT101: { severity: 'breaking', meaning: 'Type changed incompatibly: narrowed, or moved to another type family.', seeAlso: 'squawk changing-column-type; pgroll alter_column' },
  PK101: { severity: 'breaking', meaning: 'Primary key removed or changed.' },
  SQ101: { severity: 'breaking', meaning: 'A sequence a column default uses (nextval) was dropped.' },
  DF103: { severity: 'breaking', meaning: 'Default removed from a NOT NULL column: inserts that omit the column fail.' },
  ID101: { severity: 'breaking', meaning: 'Identity removed from a column that has no other default: inserts that omit it fail.' },
  ID102: { severity: 'breaking', meaning: 'Column became GENERATED ALWAYS AS IDENTITY: inserts that supply a value fail.' },
  GC101: { severity: 'breaking', meaning: 'Column became a generated column: writes to it fail.' },
  PV101: { severity: 'breaking', meaning: 'Privileges revoked from a role.' },
  CP101: { severity: 'breaking', meaning: 'Composite type attribute removed.' },
  // --- risky: works today, but existing writers, readers or operations may trip over it ------------------------------
  MF101: { severity: 'risky', meaning: 'Unique index added, or an index made unique: existing writers may violate it.', seeAlso: 'Atlas MF101/MF102' },
  MF105: { severity: 'risky', meaning: 'Unique constraint added or changed: existing writers may violate it.', seeAlso: 'squawk disallowed-unique-constraint' },
  MF106: { severity: 'risky', meaning: 'Check constraint added or changed: existing writers may violate it.', seeAlso: 'squawk constraint-missing-not-valid; pgroll create_constraint' },
  MF107: { severity: 'risky', meaning: 'Foreign key added or changed: existing writers may violate it, deletes may cascade differently.', seeAlso: 'squawk adding-foreign-key-constraint' },
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
  IX102: { severity: 'risky', meaning: 'Index definition changed.' },
  VW101: { severity: 'risky', meaning: 'View definition changed (same columns): results may differ.' },
  SQ102: { severity: 'risky', meaning: 'Sequence changed (type, bounds, increment, cycle or owner).' },
  EN101: { severity: 'risky', meaning: 'Enum values reordered: comparisons and ORDER BY change.' },
  DM102: { severity: 'risky', meaning: 'Domain check constraint added or changed: existing writers may violate it.' },
  CP102: { severity: 'risky', meaning: 'Composite type attribute added: clients building row literals see another shape.' },
  FN101: { severity: 'risky', meaning: 'Function behaviour changed (body, volatility, security definer, strictness or language).' },
  FN102: { severity: 'risky', meaning: 'Function argument names or defaults changed: calls using named arguments or omitting one may fail.' },
  TG101: { severity: 'risky', meaning: 'Trigger added: writes run new code.' },
  TG102: { severity: 'risky', meaning: 'Trigger removed: side effects the blue application relies on stop.' },
  TG103: { severity: 'risky', meaning: 'Trigger changed or enabled/disabled.' },
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
  SA111: { severity: 'safe', meaning: 'Privileges granted to a role.' },
  DF104: { severity: 'safe', meaning: 'Default added to a column that had none.' },
  CT103: { severity: 'safe', meaning: 'Type widened losslessly (varchar(n)→varchar(m>n) or text, int→bigint, more numeric precision).' },
  CN102: { severity: 'safe', meaning: 'Constraint renamed (same definition).' },
  IX103: { severity: 'safe', meaning: 'Index renamed (same definition).' },
  CM101: { severity: 'safe', meaning: 'Comment changed.' },
} as const satisfies Record<string, CodeInfo>;

export type Code = keyof typeof CODES;

export const ALL_CODES = Object.keys(CODES) as Code[];

export function isCode(s: string): s is Code {
  return Object.prototype.hasOwnProperty.call(CODES, s);
}

/** breaking first: the order reports and tables are grouped in. */
export const SEVERITY_ORDER: readonly Severity[] = ['breaking', 'risky', 'safe'];
