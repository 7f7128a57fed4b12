/**
 * Pure judgement for `db sync start`: given what was read from both servers (catalogs from the validator's
 * catalog reader, server settings, existing bgmig objects), every reason to refuse, each naming the offender and
 * the fix. No I/O here.
 */
import type { Color } from '../core/naming.js';
import type { Catalog, ColumnType } from '../schema/catalog.js';
import { canAssign } from '../schema/type-compat.js';
import { identityColumns, tableKey, tablesInScope } from './objects.js';

export interface ServerFacts {
  walLevel: string;
  maxReplicationSlots: number;
  usedReplicationSlots: number;
  maxWalSenders: number;
  usedWalSenders: number;
  maxLogicalWorkers: number;
  usedLogicalWorkers: number;
}

export interface PreflightInput {
  from: Color;
  to: Color;
  schemas: string[];
  catalogs: Record<Color, Catalog>;
  facts: Record<Color, ServerFacts>;
  /** bgmig publications/subscriptions/slots already present, and a journal that says a sync runs. */
  existing: string[];
  /** Subscriber tables that already hold rows (the initial copy would collide with them). */
  nonEmptyOnSubscriber: string[];
}

export interface Offender {
  /** What is wrong, with the object named. */
  problem: string;
  /** What to do about it. */
  fix: string;
}

/**
 * Whether every value of the publisher's column type is accepted by the subscriber's column: the validator's own
 * pure helper (logical replication applies values in text form through the subscriber type's input function).
 */
export function subscriberAccepts(pub: ColumnType, sub: ColumnType): boolean {
  return canAssign(pub, sub);
}

export function preflightSyncStart(input: PreflightInput): Offender[] {
  const out: Offender[] = [];
  const { from, to } = input;
  for (const c of [from, to] as const) {
    const f = input.facts[c];
    if (f.walLevel !== 'logical') {
      out.push({
        problem: `${c} has wal_level=${f.walLevel}`,
        fix: `set wal_level=logical on ${c} (on Aurora rds.logical_replication=1 in the cluster parameter group) and restart it`,
      });
    }
  }
  const pubF = input.facts[from];
  const subF = input.facts[to];
  // The publisher needs the subscription's slot plus one temporary slot per table-sync worker; the subscriber needs
  // a slot of its own later (the reverse replication at cutover).
  if (pubF.maxReplicationSlots - pubF.usedReplicationSlots < 2) {
    out.push({ problem: `${from} has ${pubF.maxReplicationSlots - pubF.usedReplicationSlots} free replication slots (needs 2)`, fix: `raise max_replication_slots on ${from} or drop unused slots` });
  }
  if (subF.maxReplicationSlots - subF.usedReplicationSlots < 1) {
    out.push({ problem: `${to} has no free replication slot (the reverse replication needs 1)`, fix: `raise max_replication_slots on ${to} or drop unused slots` });
  }
  if (pubF.maxWalSenders - pubF.usedWalSenders < 2) {
    out.push({ problem: `${from} has ${pubF.maxWalSenders - pubF.usedWalSenders} free WAL senders (needs 2)`, fix: `raise max_wal_senders on ${from}` });
  }
  if (subF.maxLogicalWorkers - subF.usedLogicalWorkers < 2) {
    out.push({ problem: `${to} has ${subF.maxLogicalWorkers - subF.usedLogicalWorkers} free logical replication workers (needs 2: apply and table sync)`, fix: `raise max_logical_replication_workers (and max_worker_processes) on ${to}` });
  }
  for (const e of input.existing) out.push({ problem: `a sync is already set up (${e})`, fix: 'check it with `bgmig db sync status` or end it with `bgmig db sync stop`' });

  const pubCat = input.catalogs[from];
  const subCat = input.catalogs[to];
  for (const s of input.schemas) {
    if (!pubCat.schemas.some((x) => x.name === s)) out.push({ problem: `schema ${s} does not exist on ${from}`, fix: 'pass an existing schema with --schema' });
  }
  const pubTables = tablesInScope(pubCat, input.schemas);
  if (pubTables.length === 0 && input.schemas.every((s) => pubCat.schemas.some((x) => x.name === s))) {
    out.push({ problem: `there are no tables to replicate in schema ${input.schemas.join(', ')} on ${from}`, fix: 'pass the application schemas with --schema' });
  }
  const subTables = new Map(tablesInScope(subCat, input.schemas).map((t) => [tableKey(t), t]));
  for (const t of pubTables) {
    const key = tableKey(t);
    if (identityColumns(t) === null || (t.replicaIdentity === 'default' && !t.hasPrimaryKey)) {
      out.push({ problem: `table ${key} has no replica identity`, fix: `add a primary key or run ALTER TABLE ${key} REPLICA IDENTITY FULL on ${from}` });
    }
    const other = subTables.get(key);
    if (!other) {
      out.push({ problem: `table ${key} is missing on ${to}`, fix: `create it on ${to} (apply the schema migrations there first)` });
      continue;
    }
    const subCols = new Map(other.columns.map((c) => [c.name, c]));
    for (const col of t.columns) {
      if (col.generated !== null) continue;
      const sc = subCols.get(col.name);
      if (!sc) {
        out.push({ problem: `column ${key}.${col.name} is missing on ${to}`, fix: `add it on ${to} (replication would stop at the first row)` });
      } else if (sc.generated !== null) {
        out.push({ problem: `column ${key}.${col.name} is generated on ${to} but not on ${from}`, fix: `make it a plain column on ${to}` });
      } else if (!subscriberAccepts(col.type, sc.type)) {
        out.push({ problem: `column ${key}.${col.name} is ${col.type.name} on ${from} but ${sc.type.name} on ${to}, which cannot hold every value`, fix: `change it on ${to} to ${col.type.name} or a wider type` });
      }
    }
  }
  for (const t of input.nonEmptyOnSubscriber) {
    out.push({ problem: `table ${t} on ${to} already holds rows`, fix: `empty it on ${to} (TRUNCATE) so the initial copy can fill it` });
  }
  return out;
}

/** One sentence naming every offender and its fix. */
export function refusalSentence(what: string, offenders: Offender[]): string {
  const parts = offenders.map((o) => `${o.problem} — ${o.fix}`);
  return `${what}: ${parts.join('; ')}.`;
}
