/**
 * A bgmig process killed right after each journaled step (BGMIG_FAILPOINT=after:<operation>:<step> makes the real
 * executable SIGKILL itself once that step is on record): `db sync status` reports the interruption truthfully,
 * and running the same command again finishes it; running the opposite command instead undoes it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SWITCH_STEPS, type SwitchReport, type SyncStatusReport } from '../../src/replication/api.js';
import { activeOf, appCanWrite, appUrl, bgmig, parseJson, replicationObjects, startPair, waitConverged, type Pair, switchArgs } from './helpers.js';
import pg from 'pg';

let pair: Pair;

beforeAll(async () => {
  pair = await startPair();
  const r = await bgmig(pair, ['db', 'sync', 'start', '--yes']);
  expect(r.code, r.stderr).toBe(0);
});
afterAll(async () => {
  await pair?.stop();
});

async function appInsert(color: 'blue' | 'green', n: number): Promise<void> {
  const c = new pg.Client({ connectionString: appUrl(color === 'blue' ? pair.blue : pair.green) });
  await c.connect();
  try {
    await c.query('INSERT INTO public.orders (writer, n, note) VALUES (99, $1, $2)', [n, `interrupt-${n}`]);
  } finally {
    await c.end();
  }
}

/** The steady state with `active` writable (and only it), and replication towards the other side carrying a new row. */
async function expectSteady(active: 'blue' | 'green', n: number): Promise<void> {
  expect({ blue: await appCanWrite(pair.blue), green: await appCanWrite(pair.green) }).toEqual({ blue: active === 'blue', green: active === 'green' });
  expect(activeOf(pair)).toBe(active);
  await appInsert(active, n);
  await waitConverged(pair);
}

describe('killed after each step, then recovered by a re-run', () => {
  let n = 0;
  // Alternating directions: each step is interrupted once in a cutover and once in a rollback.
  for (const step of SWITCH_STEPS) {
    for (const [op, from, to] of [
      ['cutover', 'blue', 'green'],
      ['rollback', 'green', 'blue'],
    ] as const) {
      it(`${op} killed after "${step}" is reported and finished by running ${op} again`, async () => {
        const killed = await bgmig(pair, switchArgs(pair, op), { BGMIG_FAILPOINT: `after:${op}:${step}` });
        expect(killed.code, killed.stderr).toBe(128);
        const st = await bgmig(pair, ['db', 'sync', 'status', '--json']);
        expect(st.code).toBe(3);
        const status = parseJson<SyncStatusReport>(st);
        expect(status.state).toBe('interrupted');
        expect(status.pending).toMatchObject({ operation: op, from, to, step });
        expect(status.problems.join(' ')).toContain(`run \`bgmig db ${op}\` again`);

        const again = await bgmig(pair, switchArgs(pair, op));
        expect(again.code, again.stderr).toBe(0);
        expect(parseJson<SwitchReport>(again)).toMatchObject({ outcome: 'completed', active: to, resumed: true });
        await expectSteady(to, ++n);
      });
    }
  }

  for (const step of ['fenced', 'drained', 'forward_dropped', 'reverse_started'] as const) {
    it(`cutover killed after "${step}" is undone by running rollback`, async () => {
      const killed = await bgmig(pair, switchArgs(pair, 'cutover'), { BGMIG_FAILPOINT: `after:cutover:${step}` });
      expect(killed.code).toBe(128);
      const undo = await bgmig(pair, switchArgs(pair, 'rollback'));
      expect(undo.code, undo.stderr).toBe(0);
      expect(parseJson<SwitchReport>(undo)).toMatchObject({ operation: 'rollback', outcome: 'completed', active: 'blue', resumed: true });
      await expectSteady('blue', ++n);
      expect(await replicationObjects(pair.blue)).toEqual(['pub bgmig_pub_blue', 'slot bgmig_sub_blue_to_green']);
      expect(await replicationObjects(pair.green)).toEqual(['sub bgmig_sub_blue_to_green']);
    });
  }

  it('ends healthy', async () => {
    const st = await bgmig(pair, ['db', 'sync', 'status', '--json']);
    const status = parseJson<SyncStatusReport>(st);
    expect(status.problems).toEqual([]);
    expect(st.code).toBe(0);
    expect(status).toMatchObject({ state: 'streaming', active: 'blue', direction: 'blue_to_green', pending: null });
  });
});
