/**
 * Quoting for SQL that cannot take parameters (DDL, identifiers): one implementation for the replication engine,
 * `db init`, rotation and the validator's report text.
 */

/**
 * Every PostgreSQL 15 key word that is not unreserved (`SELECT word FROM pg_get_keywords() WHERE catcode <> 'U'`):
 * quote_ident quotes these, and a bare one is a syntax error in some position (a column named `left` in a
 * publication's column list, say).
 */
const NON_UNRESERVED_KEYWORDS: ReadonlySet<string> = new Set([
  'all', 'analyse', 'analyze', 'and', 'any', 'array', 'as', 'asc', 'asymmetric', 'authorization', 'between', 'bigint',
  'binary', 'bit', 'boolean', 'both', 'case', 'cast', 'char', 'character', 'check', 'coalesce', 'collate',
  'collation', 'column', 'concurrently', 'constraint', 'create', 'cross', 'current_catalog', 'current_date',
  'current_role', 'current_schema', 'current_time', 'current_timestamp', 'current_user', 'dec', 'decimal', 'default',
  'deferrable', 'desc', 'distinct', 'do', 'else', 'end', 'except', 'exists', 'extract', 'false', 'fetch', 'float',
  'for', 'foreign', 'freeze', 'from', 'full', 'grant', 'greatest', 'group', 'grouping', 'having', 'ilike', 'in',
  'initially', 'inner', 'inout', 'int', 'integer', 'intersect', 'interval', 'into', 'is', 'isnull', 'join', 'lateral',
  'leading', 'least', 'left', 'like', 'limit', 'localtime', 'localtimestamp', 'national', 'natural', 'nchar', 'none',
  'normalize', 'not', 'notnull', 'null', 'nullif', 'numeric', 'offset', 'on', 'only', 'or', 'order', 'out', 'outer',
  'overlaps', 'overlay', 'placing', 'position', 'precision', 'primary', 'real', 'references', 'returning', 'right',
  'row', 'select', 'session_user', 'setof', 'similar', 'smallint', 'some', 'substring', 'symmetric', 'table',
  'tablesample', 'then', 'time', 'timestamp', 'to', 'trailing', 'treat', 'trim', 'true', 'union', 'unique', 'user',
  'using', 'values', 'varchar', 'variadic', 'verbose', 'when', 'where', 'window', 'with', 'xmlattributes',
  'xmlconcat', 'xmlelement', 'xmlexists', 'xmlforest', 'xmlnamespaces', 'xmlparse', 'xmlpi', 'xmlroot',
  'xmlserialize', 'xmltable'
]);

/** Quotes an identifier exactly as PostgreSQL's quote_ident does: plain lower-case non-keywords stay bare. */
export function quoteIdent(name: string): string {
  return /^[a-z_][a-z0-9_]*$/.test(name) && !NON_UNRESERVED_KEYWORDS.has(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

/** `schema.table` (or any dotted path), each part quoted as quote_ident would. */
export function qualify(...parts: string[]): string {
  return parts.map(quoteIdent).join('.');
}

/** A string literal (standard_conforming_strings is on in every supported PostgreSQL). */
export function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
