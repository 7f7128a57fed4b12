/**
 * `db sync stop` with one side unreachable: a move toward safety must not wait for the outage to end. Everything
 * bgmig owns on the reachable side is dropped — above all a publisher's slot, which otherwise retains WAL until
 * that disk fills — and what is left on the other side is named exactly, each object with the statement that
 * removes it there (or: run `bgmig db sync stop` again once it is back). The journal is written on the reachable
 * side with a higher sequence number, so it wins over the stale row on the other side when that one returns; it
 * records the stop as pending (step "reachable_side_dropped"), so status says what is unfinished and a later
 * `db sync stop` — with both sides back — drops the rest.
 */
import { randomUUID } from 'node:crypto';
import { refused } from '../core/errors.js';
import { names, otherColor, type Color } from '../core/naming.js';
import type { Callbacks, SyncStopOptions, SyncStopReport } from './api.js';
import { readFence, unfence } from './fence.js';
import { pendingOf, readJournalOf, writeJournalOn } from './journal.js';
import { dropPublication, dropSlots, findSubscription } from './objects.js';
import { quoteIdent, type Session } from './session.js';

type Left = NonNullable<SyncStopReport['left']>[number];

/** bgmig's replication object names (as sync.ts's OBJ; the suffix plays no part in them). */
const OBJ = names('x');

/** Pure: how to remove each of bgmig's objects by hand (on the side named). */
export function removalOf(kind: 'subscription' | 'slot' | 'publication', name: string): string {
  const n = quoteIdent(name);
  if (kind === 'subscription') return `ALTER SUBSCRIPTION ${n} DISABLE; ALTER SUBSCRIPTION ${n} SET (slot_name = NONE); DROP SUBSCRIPTION ${n};`;
  if (kind === 'slot') return `SELECT pg_drop_replication_slot('${name}') FROM pg_replication_slots WHERE slot_name = '${name}';`;
  return `DROP PUBLICATION IF EXISTS ${n};`;
}

export async function stopOneSide(up: Session, downError: string, opts: SyncStopOptions, cb: Callbacks, t0: number): Promise<SyncStopReport> {
  const progress = cb.progress ?? (() => undefined);
  const down: Color = otherColor(up.color);
  progress({ kind: 'log', level: 'warn', text: `${down} is unreachable (${downError}): stopping replication on ${up.color} only` });
  const journal = await readJournalOf(up);
  const pending = pendingOf(journal);
  if (pending && pending.operation !== 'sync_start' && pending.operation !== 'sync_stop')
    throw refused(`${pending.hint} (${down} is unreachable: finish it once ${down} is back)`);
  const active: Color = journal?.active ?? 'blue';
  const dropped: SyncStopReport['dropped'] = { subscriptions: [], slots: [], publications: [] };
  const left: Left[] = [];
  const leave = (kind: 'subscription' | 'slot' | 'publication', name: string) => {
    const object = `${kind === 'slot' ? 'replication slot' : kind} ${name}`;
    if (!left.some((l) => l.object === object)) left.push({ side: down, object, remove: removalOf(kind, name) });
  };

  // The subscription on the reachable side: dropped without asking its publisher (its slot there is left).
  const inbound = OBJ.subscription(down, up.color);
  const sub = await findSubscription(up, inbound);
  if (sub) {
    const n = quoteIdent(inbound);
    await up.q(
      `ALTER SUBSCRIPTION ${n} DISABLE; ALTER SUBSCRIPTION ${n} SET (slot_name = NONE); DROP SUBSCRIPTION ${n}`,
      undefined,
      `drop subscription ${inbound} on ${up.color}`,
    );
    dropped.subscriptions.push(`${inbound} on ${up.color}`);
    leave('slot', inbound);
  }
  // The reachable side's slot for the other side's subscription (that subscription is left over there).
  const outbound = OBJ.subscription(up.color, down);
  const slots = await dropSlots(up, outbound, null);
  for (const sl of slots) dropped.slots.push(`${sl} on ${up.color}`);
  if (slots.length > 0 || journal?.direction === (up.color === 'blue' ? 'blue_to_green' : 'green_to_blue')) leave('subscription', outbound);
  if (journal?.direction && !sub && journal.direction === (down === 'blue' ? 'blue_to_green' : 'green_to_blue')) leave('slot', inbound);
  if (await dropPublication(up, OBJ.publication(up.color))) dropped.publications.push(`${OBJ.publication(up.color)} on ${up.color}`);
  // The other side publishes when the running replication starts there.
  if (journal?.direction === (down === 'blue' ? 'blue_to_green' : 'green_to_blue')) leave('publication', OBJ.publication(down));
  progress({ kind: 'step', step: `drop replication objects on ${up.color}`, status: 'done', ms: Math.round(performance.now() - t0) });

  let passiveFenced = false;
  const f = await readFence(up);
  if (up.color === active) {
    if (f.fenced) await unfence(up);
  } else {
    passiveFenced = f.fenced;
    if (opts.unfencePassive && f.fenced) {
      await unfence(up);
      passiveFenced = false;
    }
  }
  if (journal) {
    // Not finished until the other side is cleaned too: the journal keeps the direction (so the next run knows what
    // is left there) and says a stop is pending, which `db sync status` reports and `db sync stop` finishes.
    await writeJournalOn(up, journal, {
      active,
      direction: journal.direction,
      schemas: journal.schemas,
      operation: 'sync_stop',
      from: active,
      to: otherColor(active),
      step: 'reachable_side_dropped',
      opId: journal.opId ?? randomUUID(),
      startedAt: journal.startedAt ?? new Date().toISOString(),
    });
  }
  return { active, dropped, passiveFenced, unreachable: [down], left, durationMs: Math.round(performance.now() - t0) };
}
