/**
 * Pure judgement for `db sync start`: given what was read from both servers (catalogs from the validator's
 * catalog reader, server settings, existing bgmig objects, carry facts), every reason to refuse, each naming the
 * offender and the fix. What replication can carry, per table and column and in both directions, is decided in
 * carry.ts. No I/O here.
 */
import type { Color } from '../core/naming.js';
import type { Catalog } from '../schema/catalog.js';
import { judgeBothDirections, type CarryFacts } from './carry.js';
import { tablesInScope } from './objects.js';

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
  /** What each side holds beyond the catalog model (carry-facts.ts). */
  carry: Record<Color, CarryFacts>;
}

export interface Offender {
  /** What is wrong, with the object named. */
  problem: string;
  /** What to do about it. */
  fix: string;
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
    out.push({
      problem: `${from} has ${pubF.maxReplicationSlots - pubF.usedReplicationSlots} free replication slots (needs 2)`,
      fix: `raise max_replication_slots on ${from} or drop unused slots`,
    });
  }
  if (subF.maxReplicationSlots - subF.usedReplicationSlots < 1) {
    out.push({
      problem: `${to} has no free replication slot (the reverse replication needs 1)`,
      fix: `raise max_replication_slots on ${to} or drop unused slots`,
    });
  }
  if (pubF.maxWalSenders - pubF.usedWalSenders < 2) {
    out.push({ problem: `${from} has ${pubF.maxWalSenders - pubF.usedWalSenders} free WAL senders (needs 2)`, fix: `raise max_wal_senders on ${from}` });
  }
  if (subF.maxLogicalWorkers - subF.usedLogicalWorkers < 2) {
    out.push({
      problem: `${to} has ${subF.maxLogicalWorkers - subF.usedLogicalWorkers} free logical replication workers (needs 2: apply and table sync)`,
      fix: `raise max_logical_replication_workers (and max_worker_processes) on ${to}`,
    });
  }
  for (const e of input.existing)
    out.push({ problem: `a sync is already set up (${e})`, fix: 'check it with `bgmig db sync status` or end it with `bgmig db sync stop`' });

  const pubCat = input.catalogs[from];
  for (const s of input.schemas) {
    if (!pubCat.schemas.some((x) => x.name === s)) out.push({ problem: `schema ${s} does not exist on ${from}`, fix: 'pass an existing schema with --schema' });
  }
  const pubTables = tablesInScope(pubCat, input.schemas);
  if (pubTables.length === 0 && input.schemas.every((s) => pubCat.schemas.some((x) => x.name === s))) {
    out.push({
      problem: `there are no tables to replicate in schema ${input.schemas.join(', ')} on ${from}`,
      fix: 'pass the application schemas with --schema',
    });
  }
  // What logical replication can carry, both ways: the reverse publication is prepared while the forward apply
  // worker still writes on the new side, and then serves the new side's application (carry.ts).
  out.push(...judgeBothDirections(from, to, input.schemas, input.catalogs, input.carry).offenders);
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
