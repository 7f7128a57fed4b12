/**
 * Publications, subscriptions and slots: the replication objects bgmig creates and drops, and the pure plan of
 * what a publication carries. A publication lists its tables explicitly — never FOR ALL TABLES — so the `bgmig`
 * schema (journal, fence record) is not replicated, except bgmig.marker, the drain marker, which every publication
 * carries on purpose. A table gets a column list (PG15) only where the subscriber lacks some of its columns.
 */
import { failure } from '../core/errors.js';
import type { Catalog, Table } from '../schema/catalog.js';
import { conninfo, type DbTarget } from '../db/connection.js';
import { MARKER_TABLE } from './journal.js';
import { literal, qualified, quoteIdent, type Session } from './session.js';
import { sleep } from '../core/sleep.js';

export interface PublishedTable {
  schema: string;
  name: string;
  /** Columns sent: the publisher's non-generated columns that the subscriber also has. */
  columns: string[];
  /**
   * Whether the publication names them (a column list). A column list must cover the replica identity (for
   * REPLICA IDENTITY FULL: every column) or PostgreSQL refuses the publisher's UPDATE and DELETE, so a table is
   * published without one wherever the subscriber has every column; the shape is judged in carry.ts.
   */
  columnList: boolean;
}

export interface PublicationPlan {
  tables: PublishedTable[];
  /** Publisher tables in scope that the subscriber lacks (not replicated; reported). */
  missingOnSubscriber: string[];
}

export function tableKey(t: { schema: string; name: string }): string {
  return qualified(t.schema, t.name);
}

/** Replica-identity columns of a table, or null when it has none usable. FULL means every column. */
export function identityColumns(t: Table): string[] | null {
  if (t.replicaIdentity === 'nothing') return null;
  if (t.replicaIdentity === 'full') return t.columns.filter((c) => c.generated === null).map((c) => c.name);
  const idx = t.replicaIdentity === 'index' ? t.replicaIdentityIndex : null;
  const kind = t.replicaIdentity === 'default' ? 'primary key' : null;
  const con = t.constraints.find((c) => (kind ? c.kind === kind : idx !== null && c.name === idx));
  if (con) return con.columns;
  if (t.replicaIdentity === 'index' && idx) {
    // A unique index that backs no constraint: its columns are in its definition `… USING btree (a, b)`.
    const ix = t.indexes.find((i) => i.name === idx);
    const m = ix ? /\(([^()]*)\)\s*(?:WHERE.*)?$/.exec(ix.definition) : null;
    if (m) return m[1].split(',').map((x) => x.trim().replace(/^"(.*)"$/, '$1'));
  }
  return null;
}

/**
 * The column list a publication needs for `t` towards a subscriber holding `other`: null (no list, every column)
 * when the subscriber has all of the publisher's non-generated columns; otherwise those it has. Generated columns
 * are never published (PostgreSQL 15/16), so they never need a list.
 */
export function publishedColumns(t: Table, other: Table): string[] | null {
  const subCols = new Set(other.columns.filter((c) => c.generated === null).map((c) => c.name));
  const plain = t.columns.filter((c) => c.generated === null).map((c) => c.name);
  return plain.every((c) => subCols.has(c)) ? null : plain.filter((c) => subCols.has(c));
}

/** Tables of the replicated schemas that a publication carries (partitions travel through their root). */
export function tablesInScope(c: Catalog, schemas: readonly string[]): Table[] {
  return c.tables
    .filter((t) => schemas.includes(t.schema) && t.partitionOf === null && t.kind !== 'foreign table')
    .sort((a, b) => tableKey(a).localeCompare(tableKey(b)));
}

/** What a publication from `pub` to `sub` carries (its shape); whether it may is judged in carry.ts. Pure. */
export function planPublication(pub: Catalog, sub: Catalog, schemas: readonly string[]): PublicationPlan {
  const subTables = new Map(tablesInScope(sub, schemas).map((t) => [tableKey(t), t]));
  const plan: PublicationPlan = { tables: [], missingOnSubscriber: [] };
  for (const t of tablesInScope(pub, schemas)) {
    const other = subTables.get(tableKey(t));
    if (!other) {
      plan.missingOnSubscriber.push(tableKey(t));
      continue;
    }
    const list = publishedColumns(t, other);
    plan.tables.push({
      schema: t.schema,
      name: t.name,
      columns: list ?? t.columns.filter((c) => c.generated === null).map((c) => c.name),
      columnList: list !== null,
    });
  }
  return plan;
}

export async function publicationExists(s: Session, name: string): Promise<boolean> {
  const r = await s.q<{ n: number }>('SELECT count(*)::int AS n FROM pg_publication WHERE pubname = $1', [name]);
  return r.rows[0].n > 0;
}

/** (Re)creates the publication on the publisher from the plan. */
export async function createPublication(s: Session, name: string, plan: PublicationPlan): Promise<void> {
  const items = plan.tables.map((t) => `${qualified(t.schema, t.name)}${t.columnList ? ` (${t.columns.map(quoteIdent).join(', ')})` : ''}`);
  items.push(qualified(MARKER_TABLE.schema, MARKER_TABLE.name));
  await s.q(
    `DROP PUBLICATION IF EXISTS ${quoteIdent(name)}; CREATE PUBLICATION ${quoteIdent(name)} FOR TABLE ${items.join(', ')} WITH (publish_via_partition_root = true)`,
    undefined,
    `create publication ${name} on ${s.color}`,
  );
}

export async function dropPublication(s: Session, name: string): Promise<boolean> {
  if (!(await publicationExists(s, name))) return false;
  await s.q(`DROP PUBLICATION IF EXISTS ${quoteIdent(name)}`, undefined, `drop publication ${name} on ${s.color}`);
  return true;
}

export interface SubscriptionRow {
  oid: number;
  name: string;
  enabled: boolean;
  slot: string | null;
}

export async function findSubscription(s: Session, name: string): Promise<SubscriptionRow | null> {
  const r = await s.q<{ oid: number; subname: string; subenabled: boolean; subslotname: string | null }>(
    'SELECT oid::int AS oid, subname, subenabled, subslotname FROM pg_subscription WHERE subname = $1 AND subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())',
    [name],
  );
  const row = r.rows[0];
  return row ? { oid: row.oid, name: row.subname, enabled: row.subenabled, slot: row.subslotname } : null;
}

/**
 * Creates the subscription on `sub` to `publisherTarget`'s publication. The slot is created on the publisher,
 * which waits for the transactions open there: call it while the publisher is quiet (cutover) or accept the wait
 * (sync start). The conninfo holds the publisher's password and stays inside this statement.
 */
export async function createSubscription(
  sub: Session,
  name: string,
  publisherTarget: DbTarget,
  publication: string,
  copyData: boolean,
  opts: { createSlot?: boolean; enabled?: boolean } = {},
): Promise<void> {
  const createSlot = opts.createSlot ?? true;
  const slot = createSlot ? '' : `, slot_name = ${literal(name)}`;
  await sub.q(
    `CREATE SUBSCRIPTION ${quoteIdent(name)} CONNECTION ${literal(conninfo(publisherTarget))} PUBLICATION ${quoteIdent(publication)} WITH (copy_data = ${copyData}, create_slot = ${createSlot}, enabled = ${opts.enabled ?? true}${slot})`,
    undefined,
    `create subscription ${name} on ${sub.color}`,
  );
}

/**
 * Drops a subscription without asking the publisher (disable, detach the slot, drop), then drops its slot and any
 * table-sync slots on the publisher — a forgotten slot retains WAL until the publisher's disk fills.
 * Idempotent: missing objects are skipped. Returns the names of what was dropped.
 */
export async function dropSubscription(sub: Session, pub: Session, name: string): Promise<{ subscription: string | null; slots: string[] }> {
  const found = await findSubscription(sub, name);
  let prefix: string | null = null;
  if (found) {
    prefix = `pg_${found.oid}_sync_`;
    // One round trip (one implicit transaction): with slot_name = NONE the DROP may run inside a transaction.
    const n = quoteIdent(name);
    await sub.q(
      `ALTER SUBSCRIPTION ${n} DISABLE; ALTER SUBSCRIPTION ${n} SET (slot_name = NONE); DROP SUBSCRIPTION ${n}`,
      undefined,
      `drop subscription ${name} on ${sub.color}`,
    );
  }
  const slots = await dropSlots(pub, name, prefix);
  return { subscription: found ? name : null, slots };
}

/** Drops the named slot (and sync slots with the prefix) on the publisher, ending the walsender still holding it. */
export async function dropSlots(pub: Session, slot: string, syncPrefix: string | null): Promise<string[]> {
  const dropped: string[] = [];
  for (let attempt = 0; attempt < 2_000; attempt++) {
    const r = await pub.q<{ slot_name: string; active_pid: number | null }>(
      `SELECT slot_name, active_pid FROM pg_replication_slots
        WHERE database = current_database() AND (slot_name = $1 OR ($2::text IS NOT NULL AND starts_with(slot_name, $2::text)))`,
      [slot, syncPrefix],
    );
    if (r.rows.length === 0) return dropped;
    for (const row of r.rows) {
      // The subscriber's apply worker exits asynchronously after DISABLE; its walsender may still hold the slot.
      if (row.active_pid !== null) {
        // pg_terminate_backend's own wait polls every 100 ms; signal and re-check quickly instead.
        await pub.q('SELECT pg_terminate_backend($1)', [row.active_pid], `end the walsender of slot ${row.slot_name} on ${pub.color}`);
        await sleep(2);
        continue;
      }
      try {
        await pub.q('SELECT pg_drop_replication_slot($1)', [row.slot_name], `drop replication slot ${row.slot_name} on ${pub.color}`);
        dropped.push(row.slot_name);
      } catch (e) {
        // "is active for PID": a walsender re-acquired it between the check and the drop; the next pass ends it.
        if (!/active/i.test((e as Error).message)) throw e;
      }
    }
  }
  throw failure(`Replication slot ${slot} on ${pub.color} stayed active: end its walsender (pg_terminate_backend) and drop it with pg_drop_replication_slot.`);
}
