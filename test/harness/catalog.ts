/**
 * Catalog-model fixtures for the pure tests (src/schema/catalog.ts): complete objects with neutral defaults — a
 * plain, logged table in `public` owned by postgres with nothing on it; a PostgreSQL 15 catalog of database `app` —
 * which a test overrides field by field to say only what its case is about.
 */
import type { Catalog, Column, ColumnType, Table } from '../../src/schema/catalog.js';

/** A column at position 1, nullable, with no default, identity, generation, collation or comment. */
export function aColumn(name: string, type: ColumnType, extra: Partial<Column> = {}): Column {
  return { name, position: 1, type, notNull: false, default: null, identity: null, generated: null, collation: null, comment: null, ...extra };
}

/** A plain table `public.<name>` with the given columns and nothing else (no key, default replica identity). */
export function aTable(name: string, columns: Column[], extra: Partial<Table> = {}): Table {
  return {
    schema: 'public',
    name,
    kind: 'table',
    columns,
    constraints: [],
    indexes: [],
    triggers: [],
    policies: [],
    privileges: [],
    owner: 'postgres',
    comment: null,
    rlsEnabled: false,
    rlsForced: false,
    replicaIdentity: 'default',
    replicaIdentityIndex: null,
    hasPrimaryKey: false,
    partitionOf: null,
    partitionBound: null,
    partitionKey: null,
    options: [],
    logged: true,
    rules: [],
    ...extra,
  };
}

/** A PostgreSQL 15.10 catalog of database `app` with schema `public` owned by postgres and the given tables. */
export function aCatalog(tables: Table[], extra: Partial<Catalog> = {}): Catalog {
  return {
    serverVersion: '15.10',
    serverVersionNum: 150010,
    database: 'app',
    schemas: [{ name: 'public', owner: 'postgres', comment: null }],
    tables,
    views: [],
    sequences: [],
    enums: [],
    domains: [],
    compositeTypes: [],
    routines: [],
    extensions: [],
    roles: [],
    ...extra,
  };
}
