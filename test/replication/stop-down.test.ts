/**
 * Issue 16 kind 2, on real servers: `db sync stop` with one side down cleans up the reachable side — above all a
 * publisher's slot, which would otherwise retain WAL until the disk fills — and says exactly what is left on the
 * other side and how to remove it (exit 1: an outage, never a silent success).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { SyncStopReport } from '../../src/replication/api.js';
import { appCanWrite, bgmig, failureReport, replicationObjects, startPair, type Pair } from './helpers.js';

let pair: Pair | null = null;
afterEach(async () => {
  await pair?.stop().catch(() => undefined);
  pair = null;
});

describe('db sync stop with one side down', () => {
  it('green (the subscriber) down: blue drops its publication and slot, and the subscription left on green is named with its removal', async () => {
    pair = await startPair();
    const start = await bgmig(pair, ['db', 'sync', 'start', '--yes']);
    expect(start.code, start.stderr).toBe(0);
    await pair.green.stop();
    const r = await bgmig(pair, ['db', 'sync', 'stop', '--yes', '--json']);
    expect(r.code).toBe(1);
    const rep = failureReport<SyncStopReport>(r, 'objects-left-behind');
    expect(rep.unreachable).toEqual(['green']);
    expect(rep.dropped).toEqual({ subscriptions: [], slots: ['bgmig_sub_blue_to_green on blue'], publications: ['bgmig_pub_blue on blue'] });
    expect(rep.left).toEqual([
      {
        side: 'green',
        object: 'subscription bgmig_sub_blue_to_green',
        remove:
          'ALTER SUBSCRIPTION bgmig_sub_blue_to_green DISABLE; ALTER SUBSCRIPTION bgmig_sub_blue_to_green SET (slot_name = NONE); DROP SUBSCRIPTION bgmig_sub_blue_to_green;',
      },
    ]);
    expect(r.stderr).toContain('green could not be reached: 1 replication object(s) are left there');
    expect(await replicationObjects(pair.blue)).toEqual([]);
    expect(await appCanWrite(pair.blue)).toBe(true);
    // Asked again while green is still down: the same account (the journal keeps what is left), in human form.
    const human = await bgmig(pair, ['db', 'sync', 'stop', '--yes']);
    expect(human.code).toBe(1);
    expect(human.stdout).toContain(
      'Left on green (unreachable): subscription bgmig_sub_blue_to_green — when green is back run `bgmig db sync stop` again, or remove it there with: ALTER SUBSCRIPTION',
    );
    // And status reports the stop as unfinished.
    const st = await bgmig(pair, ['db', 'sync', 'status']);
    expect(st.code).toBe(3);
    expect(st.stdout).toContain('A sync stop stopped after step "reachable_side_dropped": run `bgmig db sync stop` again to finish it.');
  });

  it('blue (the publisher) down: green drops its subscription without asking blue, and the slot and publication left on blue are named', async () => {
    pair = await startPair();
    const start = await bgmig(pair, ['db', 'sync', 'start', '--yes']);
    expect(start.code, start.stderr).toBe(0);
    await pair.blue.stop();
    const r = await bgmig(pair, ['db', 'sync', 'stop', '--yes', '--json']);
    expect(r.code).toBe(1);
    const rep = failureReport<SyncStopReport>(r, 'objects-left-behind');
    expect(rep.unreachable).toEqual(['blue']);
    expect(rep.dropped).toEqual({ subscriptions: ['bgmig_sub_blue_to_green on green'], slots: [], publications: [] });
    expect(rep.left?.map((l) => [l.side, l.object])).toEqual([
      ['blue', 'replication slot bgmig_sub_blue_to_green'],
      ['blue', 'publication bgmig_pub_blue'],
    ]);
    expect(rep.left?.[0].remove).toBe(
      "SELECT pg_drop_replication_slot('bgmig_sub_blue_to_green') FROM pg_replication_slots WHERE slot_name = 'bgmig_sub_blue_to_green';",
    );
    expect(r.stderr).toContain('a slot retains WAL until it is dropped');
    expect(await replicationObjects(pair.green)).toEqual([]);
    // green stays fenced: it no longer receives changes, so nobody may write to it.
    expect(rep.passiveFenced).toBe(true);
    expect(await appCanWrite(pair.green)).toBe(false);
  });
});
