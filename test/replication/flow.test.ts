/**
 * The invariant end to end, through the real executable: concurrent application writers (a non-superuser role)
 * through sync start → cutover → rollback → cutover → sync stop. Every acknowledged write ends up on both sides,
 * the tables are equal row for row, never are both sides writable for the application, and serial, identity and
 * standalone sequences continue on the new side without a single duplicate-key error. All output, --verbose
 * included, is checked for passwords.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SwitchReport, SyncStartReport, SyncStatusReport, SyncStopReport } from '../../src/replication/api.js';
import {
  activeOf,
  appCanWrite,
  bgmig,
  dump,
  parseJson,
  replicationObjects,
  rowsOf,
  startPair,
  startWritableProbe,
  startWriters,
  waitConverged,
  type Pair,
} from './helpers.js';

let pair: Pair;
const output: string[] = [];

async function run(args: string[], env: Record<string, string> = {}) {
  const r = await bgmig(pair, args, env);
  output.push(r.stdout, r.stderr);
  return r;
}

beforeAll(async () => {
  pair = await startPair({ seedRows: 20_000 });
});
afterAll(async () => {
  await pair?.stop();
});

async function exactlyOneWritable(expected: 'blue' | 'green'): Promise<void> {
  const [b, g] = await Promise.all([appCanWrite(pair.blue), appCanWrite(pair.green)]);
  expect({ blue: b, green: g }).toEqual({ blue: expected === 'blue', green: expected === 'green' });
}

describe('sync → cutover → rollback → cutover with concurrent writers', () => {
  it('keeps every acknowledged write, one writable side, and sequences without collision', async () => {
    const start = await run(['db', 'sync', 'start', '--yes', '--json', '--verbose']);
    expect(start.code, start.stderr).toBe(0);
    const sr = parseJson<SyncStartReport>(start);
    expect(sr.copy.finished).toBe(true);
    expect(sr.tables).toEqual(['public.events', 'public.orders', 'public.seed', 'public.tickets']);
    expect(sr.copy.rows).toBe(20_000);
    await exactlyOneWritable('blue');

    const writers = startWriters(pair, 6);
    const probe = startWritableProbe(pair);
    // Let writes flow through replication for a moment before each switch.
    const waitAcks = async (n: number) => {
      const target = writers.acks.length + n;
      while (writers.acks.length < target) await new Promise((r) => setTimeout(r, 10));
    };
    const reports: SwitchReport[] = [];
    try {
      await waitAcks(200);
      const st = await run(['db', 'sync', 'status', '--json']);
      expect(st.code, st.stdout).toBe(0);
      const status = parseJson<SyncStatusReport>(st);
      expect(status).toMatchObject({ state: 'streaming', direction: 'blue_to_green', active: 'blue', healthy: true });
      expect(status.sides.green.fence?.fenced).toBe(true);
      expect(status.sides.blue.fence?.fenced).toBe(false);
      expect(status.tables.every((t) => t.state === 'ready')).toBe(true);
      expect(status.slots.map((s) => s.name)).toEqual(['bgmig_sub_blue_to_green']);

      for (const [op, to] of [
        ['cutover', 'green'],
        ['rollback', 'blue'],
        ['cutover', 'green'],
      ] as const) {
        const r = await run(['db', op, '--yes', '--json', '--verbose', '--on-switch', pair.onSwitch, '--max-pause', '10s']);
        expect(r.code, r.stderr).toBe(0);
        const rep = parseJson<SwitchReport>(r);
        expect(rep).toMatchObject({ operation: op, outcome: 'completed', active: to });
        expect(activeOf(pair)).toBe(to);
        reports.push(rep);
        await waitAcks(200);
      }
    } finally {
      await writers.stop();
      await probe.stop();
    }
    expect(probe.violations()).toBe(0);
    expect(probe.probes()).toBeGreaterThan(10);
    await exactlyOneWritable('green');
    // No duplicate keys: the sequences on each new side continued past the old side's values.
    expect(writers.errors.get('23505') ?? 0).toBe(0);

    const rows = await waitConverged(pair);
    const orders = JSON.parse(rows.orders) as Array<{ id: number; writer: number; n: number }>;
    const events = JSON.parse(rows.events) as Array<{ id: string }>;
    const tickets = JSON.parse(rows.tickets) as Array<{ code: string }>;
    const orderIds = new Set(orders.map((o) => o.id));
    const eventIds = new Set(events.map((e) => Number(e.id)));
    const ticketIds = new Set(tickets.map((t) => Number(t.code)));
    for (const a of writers.acks) {
      expect(orderIds.has(a.orderId)).toBe(true);
      expect(eventIds.has(a.eventId)).toBe(true);
      expect(ticketIds.has(a.ticket)).toBe(true);
    }
    expect(writers.acks.length).toBeGreaterThan(600);
    // The green-only column got its default for rows that came from blue.
    const extra = await rowsOf(pair.green, `SELECT count(*)::int AS n FROM public.orders WHERE extra <> 'green-only'`);
    expect(extra[0].n).toBe(0);

    for (const rep of reports) {
      expect(rep.pauseMs).not.toBeNull();
      expect(rep.pauseMs as number).toBeLessThan(10_000);
      expect(rep.steps.map((s) => s.step).sort()).toEqual(
        [
          'gates',
          'prepare reverse replication',
          `fence ${rep.from}`,
          'drain',
          'sequences',
          'drop forward replication',
          'start reverse replication',
          'switch',
          `unfence ${rep.to}`,
        ].sort(),
      );
      expect(rep.steps.find((s) => s.step === 'gates')?.detail).toMatch(
        new RegExp(`^stream ${rep.from}→${rep.to} applying: (confirmed by the slot|the drain marker was applied on ${rep.to})`),
      );
      expect(rep.lsn.drained).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
      const kinds = Object.fromEntries(rep.sequences.map((s) => [s.sequence, s.kind]));
      expect(kinds).toEqual({ 'public.events_id_seq': 'identity', 'public.orders_id_seq': 'owned', 'public.ticket_seq': 'standalone' });
      expect(rep.sequences.filter((s) => s.to !== null)).toHaveLength(3);
    }

    // Only the reverse (green → blue) replication is left, and status says so.
    const st2 = parseJson<SyncStatusReport>(await run(['db', 'sync', 'status', '--json']));
    expect(st2).toMatchObject({ state: 'streaming', direction: 'green_to_blue', active: 'green', healthy: true });
    expect(await replicationObjects(pair.blue)).toEqual(['pub bgmig_pub_blue', 'sub bgmig_sub_green_to_blue']);
    expect(await replicationObjects(pair.green)).toEqual(['pub bgmig_pub_green', 'slot bgmig_sub_green_to_blue']);

    // A cutover when green is already active changes nothing.
    const again = await run(['db', 'cutover', '--yes', '--json', '--skip-validation']);
    expect(again.code).toBe(0);
    expect(parseJson<SwitchReport>(again).outcome).toBe('noop');

    const stop = await run(['db', 'sync', 'stop', '--yes', '--json', '--verbose']);
    expect(stop.code, stop.stderr).toBe(0);
    const sp = parseJson<SyncStopReport>(stop);
    expect(sp.active).toBe('green');
    expect(sp.passiveFenced).toBe(true);
    expect(await replicationObjects(pair.blue)).toEqual([]);
    expect(await replicationObjects(pair.green)).toEqual([]);
    await exactlyOneWritable('green');
    const st3 = await run(['db', 'sync', 'status']);
    expect(st3.code).toBe(0);
    expect(st3.stdout).toContain('Database replication: stopped');

    // Human output too (not only --json), then the leak check over everything captured.
    const b = await dump(pair.blue);
    expect(b.orders.length).toBeGreaterThan(0);
    const all = output.join('\n');
    for (const secret of pair.secrets) expect(all).not.toContain(secret);
    expect(all).not.toMatch(/password=/i);
    expect(all).toContain('debug:');
  });
});
