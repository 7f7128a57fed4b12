/**
 * The replicated scope, checked against the live objects at every look: what the current catalogs say must be
 * carried from the publisher to the subscriber (the same `planPublication` that `sync start` publishes from)
 * against what the publication carries now (pg_publication_tables.attnames, PG15: the column list, or every column
 * when the table has none) and what the subscription has taken in (pg_subscription_rel). A migration applied to
 * both sides after `sync start` — a new table, a new column — shows up here as drift instead of silently staying
 * outside replication.
 *
 * `decideScope` is pure; `readScope` is the I/O (two catalog reads and two small queries).
 * Docs: https://www.postgresql.org/docs/15/view-pg-publication-tables.html,
 * https://www.postgresql.org/docs/15/catalog-pg-subscription-rel.html
 */
import type { Color } from '../core/naming.js';
import type { DbTarget } from '../db/connection.js';
import type { Catalog } from '../schema/catalog.js';
import { tableKey, tablesInScope } from './objects.js';
import type { Session } from './session.js';

export type DriftKind =
  /** On both sides, in scope, not in the publication (a table created after sync start). */
  | 'table_not_published'
  /** Published, but some columns both sides have are outside its column list (a column added after sync start). */
  | 'columns_not_published'
  /** Published, but the subscription has not taken it in (REFRESH PUBLICATION never ran for it). */
  | 'table_not_subscribed'
  /** In scope on the publisher, absent on the subscriber: cannot be carried until it is created there. */
  | 'table_missing_on_subscriber'
  /** A publisher column the subscriber lacks: its values would be lost at cutover. */
  | 'column_missing_on_subscriber';

export interface ScopeDrift {
  kind: DriftKind;
  /** Qualified table name. */
  table: string;
  /** The columns concerned (for the column kinds). */
  columns: string[];
  /** One sentence: what is not carried. */
  problem: string;
  /** One sentence: what to do. */
  fix: string;
  /** `bgmig db sync refresh` can bring it in (the other kinds need a schema change on the subscriber first). */
  refreshable: boolean;
}

/** What the publication and subscription carry right now. */
export interface LiveScope {
  /** Published tables (qualified) → published column names. The bgmig schema is left out. */
  published: Map<string, string[]>;
  /** Tables the subscription has taken in (qualified), any state. */
  subscribed: Set<string>;
}

/**
 * The part of a catalog the scope needs: per table in scope (qualified name), its non-generated columns in order.
 * "In scope" is objects.ts's tablesInScope: the replicated schemas, no partitions (they travel through their root),
 * no foreign tables. Built from a full catalog (`scopeTablesOf`) or read directly (`readScopeTables`, one query,
 * what `db sync status` uses on every look).
 */
export type ScopeTables = Map<string, string[]>;

export interface ScopeInput {
  from: Color;
  to: Color;
  tables: Record<Color, ScopeTables>;
  live: LiveScope;
}

/** Pure: the scope model of a full catalog. */
export function scopeTablesOf(c: Catalog, schemas: readonly string[]): ScopeTables {
  // Unlogged tables are never published by PostgreSQL (preflight's concern, not drift).
  return new Map(
    tablesInScope(c, schemas)
      .filter((t) => t.logged)
      .map((t) => [tableKey(t), t.columns.filter((col) => col.generated === null).map((col) => col.name)]),
  );
}

/**
 * Pure: every table or column in scope that is not carried, with its fix. Sorted by table. What must be published
 * for a table is what objects.ts's planPublication publishes: the publisher's non-generated columns the subscriber
 * also has (all of them without a column list, or exactly those in one).
 */
export function decideScope(input: ScopeInput): ScopeDrift[] {
  const { from, to, live } = input;
  const pubTables = input.tables[from];
  const subTables = input.tables[to];
  const out: ScopeDrift[] = [];
  const refresh = '`bgmig db sync refresh`';
  const sorted = (list: ScopeDrift[]) => list.sort((a, b) => a.table.localeCompare(b.table) || a.kind.localeCompare(b.kind));
  for (const [key, pubCols] of [...pubTables].sort(([a], [b]) => a.localeCompare(b))) {
    const subCols = subTables.get(key);
    if (!subCols) continue;
    const subSet = new Set(subCols);
    const expected = pubCols.filter((c) => subSet.has(c));
    const published = live.published.get(key);
    if (!published) {
      out.push({
        kind: 'table_not_published',
        table: key,
        columns: [],
        problem: `table ${key} exists on both sides but is not replicated (created after sync start): rows written to it on ${from} never reach ${to}`,
        fix: `run ${refresh} to publish it and copy its rows`,
        refreshable: true,
      });
      continue;
    }
    const have = new Set(published);
    const missing = expected.filter((c) => !have.has(c));
    if (missing.length > 0) {
      out.push({
        kind: 'columns_not_published',
        table: key,
        columns: missing,
        problem: `column${missing.length > 1 ? 's' : ''} ${missing.map((c) => `${key}.${c}`).join(', ')} ${missing.length > 1 ? 'exist' : 'exists'} on both sides but ${missing.length > 1 ? 'are' : 'is'} not replicated (added after sync start): ${to} does not get ${from}'s values`,
        fix: `run ${refresh} to publish ${missing.length > 1 ? 'them' : 'it'} and re-copy ${key}`,
        refreshable: true,
      });
    } else if (!live.subscribed.has(key)) {
      out.push({
        kind: 'table_not_subscribed',
        table: key,
        columns: [],
        problem: `table ${key} is published on ${from} but the subscription on ${to} has not taken it in`,
        fix: `run ${refresh}`,
        refreshable: true,
      });
    }
  }
  // Blue→green must carry everything: green is the new version and takes over. Green→blue (after a cutover) may
  // leave green-only tables and columns behind on purpose (expand migrations): what a rollback loses there is the
  // validator's rollback verdict, accepted before the cutover, not drift.
  if (from !== 'blue') return sorted(out);
  for (const [key, pubCols] of pubTables) {
    const subCols = subTables.get(key);
    if (!subCols) {
      out.push({
        kind: 'table_missing_on_subscriber',
        table: key,
        columns: [],
        problem: `table ${key} exists on ${from} but not on ${to}: its rows cannot be replicated and are lost at cutover`,
        fix: `create it on ${to} (apply the same migration there), then run ${refresh}`,
        refreshable: false,
      });
      continue;
    }
    const subSet = new Set(subCols);
    const lacking = pubCols.filter((c) => !subSet.has(c));
    if (lacking.length > 0) {
      out.push({
        kind: 'column_missing_on_subscriber',
        table: key,
        columns: lacking,
        problem: `column${lacking.length > 1 ? 's' : ''} ${lacking.map((c) => `${key}.${c}`).join(', ')} exist${lacking.length > 1 ? '' : 's'} on ${from} but not on ${to}: ${lacking.length > 1 ? 'their' : 'its'} values are lost at cutover`,
        fix: `add ${lacking.length > 1 ? 'them' : 'it'} on ${to} (apply the same migration there), then run ${refresh}`,
        refreshable: false,
      });
    }
  }
  return sorted(out);
}

/** The scope model read directly (one statement; raw catalog columns, no deparsing). */
export async function readScopeTables(s: Session, schemas: readonly string[]): Promise<ScopeTables> {
  const r = await s.q<{ t: string; cols: string[] | null }>(
    `
    SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS t,
           (SELECT array_agg(a.attname::text ORDER BY a.attnum) FROM pg_attribute a
             WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '') AS cols
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = ANY($1::text[]) AND c.relkind IN ('r', 'p') AND NOT c.relispartition AND c.relpersistence = 'p'`,
    [schemas],
    `read the tables in scope on ${s.color}`,
  );
  return new Map(r.rows.map((x) => [x.t, x.cols ?? []]));
}

/** One sentence listing the drift (for status problems and gate offenders). */
export function driftSentence(d: ScopeDrift): string {
  return `${d.problem} — ${d.fix}`;
}

/** The publication's tables and column lists (publisher side). */
export async function readPublished(pub: Session, publication: string): Promise<Map<string, string[]>> {
  const r = await pub.q<{ t: string; cols: string[] }>(
    `
    SELECT quote_ident(schemaname) || '.' || quote_ident(tablename) AS t, attnames::text[] AS cols
      FROM pg_publication_tables WHERE pubname = $1 AND schemaname <> 'bgmig'`,
    [publication],
    `read publication ${publication} on ${pub.color}`,
  );
  return new Map(r.rows.map((x) => [x.t, x.cols ?? []]));
}

/** The tables a subscription has taken in (subscriber side). */
export async function readSubscribed(sub: Session, subscription: string): Promise<Set<string>> {
  const r = await sub.q<{ t: string }>(
    `
    SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS t
      FROM pg_subscription_rel sr JOIN pg_subscription s ON s.oid = sr.srsubid
      JOIN pg_class c ON c.oid = sr.srrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE s.subname = $1 AND s.subdbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND n.nspname <> 'bgmig'`,
    [subscription],
    `read the tables of subscription ${subscription} on ${sub.color}`,
  );
  return new Set(r.rows.map((x) => x.t));
}

/**
 * The drift of the replication running between two databases, read on its own (for `bgmig validate`): null when
 * bgmig runs no replication there. Opens and closes its own sessions; throws BgmigError when a side is unreachable.
 */
export async function scopeDriftOf(targets: { blue: DbTarget; green: DbTarget }): Promise<ScopeDrift[] | null> {
  const { closeSessions, openSessions } = await import('./session.js');
  const { readJournal } = await import('./journal.js');
  const s = await openSessions(targets);
  try {
    const journal = await readJournal(s);
    if (!journal?.direction) return null;
    const from: Color = journal.direction === 'blue_to_green' ? 'blue' : 'green';
    const to: Color = from === 'blue' ? 'green' : 'blue';
    const [pub, sub] = from === 'blue' ? [s.blue, s.green] : [s.green, s.blue];
    const [pubTables, subTables] = await Promise.all([readScopeTables(pub, journal.schemas), readScopeTables(sub, journal.schemas)]);
    const live = { published: await readPublished(pub, `bgmig_pub_${from}`), subscribed: await readSubscribed(sub, `bgmig_sub_${from}_to_${to}`) };
    return decideScope({ from, to, tables: { [from]: pubTables, [to]: subTables } as Record<Color, ScopeTables>, live });
  } finally {
    await closeSessions(s);
  }
}
