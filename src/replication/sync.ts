/**
 * `db sync start` and `db sync stop`: set up replication from the active side to the passive one (publication,
 * fenced subscriber, subscription with the initial copy), and tear every replication object down again.
 */
import { randomUUID } from 'node:crypto';
import { failure, refused, messageOf } from '../core/errors.js';
import { names, otherColor, type Color } from '../core/naming.js';
import { readCatalog } from '../schema/read-catalog.js';
import type { Catalog } from '../schema/catalog.js';
import {
  REPLICATION_DEFAULTS,
  directionOf,
  type Callbacks,
  type SyncStartOptions,
  type SyncStartReport,
  type SyncStopOptions,
  type SyncStopReport,
  type Targets,
} from './api.js';
import { createSlotWatched, DEFAULT_SLOT_WAIT_MS } from './blockers.js';
import { watchCopy } from './copy.js';
import { fence, readFence, unfence } from './fence.js';
import { ensureSchema, pendingOf, readJournal, settled, writeJournal, type Journal } from './journal.js';
import { createPublication, createSubscription, dropPublication, dropSubscription, dropSlots, planPublication, tableKey, tablesInScope } from './objects.js';
import type { CarryFacts } from './carry.js';
import { readCarryFacts } from './carry-facts.js';
import { preflightSyncStart, refusalSentence, type ServerFacts } from './preflight.js';
import { closeSessions, openSession, openSessions, qualified, side, type Session, type Sessions } from './session.js';
import { stopOneSide } from './stop-one-side.js';

/** Names of bgmig's replication objects (the suffix plays no part in them). */
export const OBJ = names('x');

export async function serverFacts(s: Session): Promise<ServerFacts> {
  const r = await s.q<{ wal_level: string; slots: string; used_slots: string; senders: string; used_senders: string; workers: string; used_workers: string }>(`
    SELECT current_setting('wal_level') AS wal_level,
           current_setting('max_replication_slots') AS slots,
           (SELECT count(*) FROM pg_replication_slots) AS used_slots,
           current_setting('max_wal_senders') AS senders,
           (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'walsender') AS used_senders,
           current_setting('max_logical_replication_workers') AS workers,
           (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'logical replication worker') AS used_workers`);
  const x = r.rows[0];
  return {
    walLevel: x.wal_level,
    maxReplicationSlots: Number(x.slots),
    usedReplicationSlots: Number(x.used_slots),
    maxWalSenders: Number(x.senders),
    usedWalSenders: Number(x.used_senders),
    maxLogicalWorkers: Number(x.workers),
    usedLogicalWorkers: Number(x.used_workers),
  };
}

export async function readCatalogs(s: Sessions, schemas: readonly string[]): Promise<Record<Color, Catalog>> {
  const [blue, green] = await Promise.all([
    readCatalog(s.blue.client, { includeSchemas: [...schemas] }).catch((e: unknown) => {
      throw failure(`blue: could not read the catalog (${messageOf(e)}).`, e);
    }),
    readCatalog(s.green.client, { includeSchemas: [...schemas] }).catch((e: unknown) => {
      throw failure(`green: could not read the catalog (${messageOf(e)}).`, e);
    }),
  ]);
  return { blue, green };
}

/** Every bgmig replication object on a side (publications, subscriptions, slots). */
export async function bgmigObjects(s: Session): Promise<string[]> {
  const r = await s.q<{ what: string }>(
    `
    SELECT 'publication ' || pubname || ' on ' || $1 AS what FROM pg_publication WHERE pubname LIKE 'bgmig\\_%'
    UNION ALL SELECT 'subscription ' || subname || ' on ' || $1 FROM pg_subscription
     WHERE subname LIKE 'bgmig\\_%' AND subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())
    UNION ALL SELECT 'replication slot ' || slot_name || ' on ' || $1 FROM pg_replication_slots WHERE slot_name LIKE 'bgmig\\_%'`,
    [s.color],
  );
  return r.rows.map((x) => x.what);
}

async function nonEmptyTables(s: Session, tables: string[]): Promise<string[]> {
  if (tables.length === 0) return [];
  // One statement for all tables (each probe stops at its first row).
  const sql = tables.map((t, i) => `SELECT ${i} AS i WHERE EXISTS (SELECT 1 FROM ${t})`).join(' UNION ALL ');
  const r = await s.q<{ i: number }>(sql, undefined, `check whether the tables on ${s.color} are empty`);
  return r.rows.map((x) => tables[x.i]);
}

export async function syncStart(targets: Targets, opts: SyncStartOptions = {}, cb: Callbacks = {}): Promise<SyncStartReport> {
  const t0 = performance.now();
  const schemas = opts.schemas && opts.schemas.length > 0 ? [...new Set(opts.schemas)] : [...REPLICATION_DEFAULTS.schemas];
  const progress = cb.progress ?? (() => undefined);
  const s = await openSessions(targets);
  try {
    const journal = await readJournal(s);
    const pending = pendingOf(journal);
    if (pending) throw refused(pending.hint);
    const from: Color = journal?.active ?? 'blue';
    const to = otherColor(from);
    const pubName = OBJ.publication(from);
    const subName = OBJ.subscription(from, to);

    progress({ kind: 'step', step: 'preflight', status: 'start' });
    // The catalog reader holds a read-only transaction on each connection: nothing else may run beside it there.
    const catalogs = await readCatalogs(s, schemas);
    const [factsFrom, factsTo] = await Promise.all([serverFacts(side(s, from)), serverFacts(side(s, to))]);
    const [objFrom, objTo] = await Promise.all([bgmigObjects(side(s, from)), bgmigObjects(side(s, to))]);
    const [carryFrom, carryTo] = await Promise.all([readCarryFacts(side(s, from), schemas), readCarryFacts(side(s, to), schemas)]);
    const existing = [...objFrom, ...objTo];
    if (journal?.direction) existing.push(`the bgmig journal says replication runs ${journal.direction.replace(/_/g, ' ')}`);
    const subTables = tablesInScope(catalogs[to], schemas).map((t) => tableKey(t));
    const pubKeys = new Set(tablesInScope(catalogs[from], schemas).map((t) => tableKey(t)));
    const offenders = preflightSyncStart({
      from,
      to,
      schemas,
      catalogs,
      facts: { [from]: factsFrom, [to]: factsTo } as Record<Color, ServerFacts>,
      existing,
      nonEmptyOnSubscriber: await nonEmptyTables(
        side(s, to),
        subTables.filter((k) => pubKeys.has(k)),
      ),
      carry: { [from]: carryFrom, [to]: carryTo } as Record<Color, CarryFacts>,
    });
    if (offenders.length > 0) {
      throw refused(refusalSentence(`Cannot start replication from ${from} to ${to}`, offenders), { offenders });
    }
    const plan = planPublication(catalogs[from], catalogs[to], schemas);
    progress({ kind: 'step', step: 'preflight', status: 'done', ms: Math.round(performance.now() - t0) });

    // From here on, anything that fails is cleaned up so a failed start leaves no replication object behind.
    const opId = randomUUID();
    let j: Journal | null = journal;
    const base = { active: from, schemas, opId, startedAt: new Date().toISOString(), from, to } as const;
    try {
      await Promise.all([ensureSchema(s.blue), ensureSchema(s.green)]);
      // The marker row travels with the initial copy; the subscriber's must not be there already.
      await side(s, to).q('DELETE FROM bgmig.marker');
      await side(s, from).q(
        `INSERT INTO bgmig.marker (id, token) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET token = EXCLUDED.token, at = clock_timestamp()`,
        [`sync:${opId}`],
      );
      j = await writeJournal(s, j, { ...base, direction: null, operation: 'sync_start', step: 'started' });
      await step(progress, 'publish', () => createPublication(side(s, from), pubName, plan));
      j = await writeJournal(s, j, { ...base, direction: null, operation: 'sync_start', step: 'published' });
      await step(progress, `fence ${to}`, () => fence(side(s, to)));
      j = await writeJournal(s, j, { ...base, direction: null, operation: 'sync_start', step: 'fenced' });
      // The slot first, from bgmig's own session: its wait for transactions open on the publisher is bounded and
      // the sessions holding it up are named (src/replication/blockers.ts).
      await step(progress, `create slot on ${from}`, () =>
        createSlotWatched(side(s, from), subName, opts.slotWaitMs ?? DEFAULT_SLOT_WAIT_MS, progress, 'run `bgmig db sync start` again'),
      );
      await step(progress, 'subscribe', () => createSubscription(side(s, to), subName, side(s, from).target, pubName, true, { createSlot: false }));
      j = await writeJournal(s, j, { ...base, direction: directionOf(from), operation: 'sync_start', step: 'subscribed' });
      j = await writeJournal(s, j, settled(base.active, directionOf(from), base.schemas));
    } catch (e) {
      progress({ kind: 'log', level: 'warn', text: `sync start failed (${messageOf(e)}); removing what it created` });
      await cleanup(s, from, to, j).catch((c: unknown) => progress({ kind: 'log', level: 'warn', text: `cleanup incomplete: ${messageOf(c)}` }));
      throw e;
    }

    const copy = await watchCopy(
      side(s, to),
      side(s, from),
      subName,
      {
        wait: opts.waitForCopy ?? true,
        timeoutMs: opts.copyTimeoutMs ?? REPLICATION_DEFAULTS.copyTimeoutMs,
        maxCopyErrors: opts.maxCopyErrors,
        catalogs,
        schemas,
      },
      progress,
    );
    return {
      direction: directionOf(from),
      active: from,
      publication: pubName,
      subscription: subName,
      schemas,
      tables: plan.tables.map((t) => qualified(t.schema, t.name)),
      copy,
      durationMs: Math.round(performance.now() - t0),
    };
  } finally {
    await closeSessions(s);
  }
}

/** Runs one named step of a replication command, reporting its start and its duration (ms) to `progress`. */
export async function step<T>(progress: NonNullable<Callbacks['progress']>, name: string, fn: () => Promise<T>): Promise<T> {
  const t = performance.now();
  progress({ kind: 'step', step: name, status: 'start' });
  const r = await fn();
  progress({ kind: 'step', step: name, status: 'done', ms: Math.round(performance.now() - t) });
  return r;
}

async function cleanup(s: Sessions, from: Color, to: Color, j: Journal | null): Promise<void> {
  await dropSubscription(side(s, to), side(s, from), OBJ.subscription(from, to));
  await dropPublication(side(s, from), OBJ.publication(from));
  await unfence(side(s, to));
  await writeJournal(s, j, settled(from, null, j?.schemas ?? []));
}

export async function syncStop(targets: Targets, _opts: SyncStopOptions = {}, cb: Callbacks = {}): Promise<SyncStopReport> {
  const t0 = performance.now();
  const progress = cb.progress ?? (() => undefined);
  // Each side on its own: with one side down, the reachable one is still cleaned up (src/replication/stop-one-side.ts).
  const secrets = [targets.blue.password, targets.green.password];
  const [b, g] = await Promise.allSettled([openSession('blue', targets.blue, secrets), openSession('green', targets.green, secrets)]);
  if (b.status === 'rejected' && g.status === 'rejected') throw b.reason;
  if (b.status === 'rejected' || g.status === 'rejected') {
    const up = b.status === 'fulfilled' ? b.value : (g as PromiseFulfilledResult<Session>).value;
    const reason: unknown = b.status === 'rejected' ? b.reason : (g as PromiseRejectedResult).reason;
    try {
      return await stopOneSide(up, messageOf(reason), _opts, cb, t0);
    } finally {
      await up.close();
    }
  }
  const s: Sessions = { blue: b.value, green: g.value };
  try {
    const journal = await readJournal(s);
    const pending = pendingOf(journal);
    if (pending && pending.operation !== 'sync_start' && pending.operation !== 'sync_stop') throw refused(pending.hint);
    const active: Color = journal?.active ?? 'blue';
    const passive = otherColor(active);
    const dropped: SyncStopReport['dropped'] = { subscriptions: [], slots: [], publications: [] };
    let j = journal;
    const schemas = journal?.schemas ?? [];
    if (journal)
      j = await writeJournal(s, j, {
        active,
        direction: journal.direction,
        schemas,
        operation: 'sync_stop',
        from: active,
        to: passive,
        step: 'started',
        opId: randomUUID(),
        startedAt: new Date().toISOString(),
      });
    // Both directions, whatever the journal says: stop is also the cleanup after anything half-done.
    for (const [from, to] of [
      ['blue', 'green'],
      ['green', 'blue'],
    ] as const) {
      const r = await dropSubscription(side(s, to), side(s, from), OBJ.subscription(from, to));
      if (r.subscription) dropped.subscriptions.push(`${r.subscription} on ${to}`);
      for (const slot of r.slots) dropped.slots.push(`${slot} on ${from}`);
    }
    for (const c of ['blue', 'green'] as const) {
      // Slots of bgmig's subscriptions whose subscription is already gone (e.g. a killed run).
      for (const slot of await dropSlots(side(s, c), OBJ.subscription(otherColor(c), c), null)) dropped.slots.push(`${slot} on ${c}`);
      if (await dropPublication(side(s, c), OBJ.publication(c))) dropped.publications.push(`${OBJ.publication(c)} on ${c}`);
    }
    progress({ kind: 'step', step: 'drop replication objects', status: 'done', ms: Math.round(performance.now() - t0) });
    if ((await readFence(side(s, active))).fenced) await unfence(side(s, active));
    let passiveFenced = (await readFence(side(s, passive))).fenced;
    if (_opts.unfencePassive && passiveFenced) {
      await unfence(side(s, passive));
      passiveFenced = false;
    }
    if (journal) await writeJournal(s, j, settled(active, null, schemas));
    return { active, dropped, passiveFenced, unreachable: [], left: [], durationMs: Math.round(performance.now() - t0) };
  } finally {
    await closeSessions(s);
  }
}
