/**
 * Aborts: the drain cannot finish within --max-pause (a lock held on the subscriber stalls its apply worker): blue
 * active and writable, green fenced, replication blue → green intact — with writers running and no acknowledged
 * write lost. A switch hook that fails comes after the point of no return: the forward path (re-run) finishes it.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunResult } from '../harness/cli.js';
import { BgmigError } from '../../src/core/errors.js';
import { parseDbUrl } from '../../src/db/connection.js';
import { rollback } from '../../src/replication/switchover.js';
import type { SwitchReport, SyncStatusReport } from '../../src/replication/api.js';
import {
  activeOf,
  appCanWrite,
  appUrl,
  bgmig,
  failureReport,
  parseJson,
  replicationObjects,
  startPair,
  startWriters,
  waitConverged,
  type Pair,
} from './helpers.js';

let pair: Pair;

beforeAll(async () => {
  pair = await startPair();
  const r = await bgmig(pair, ['db', 'sync', 'start', '--yes']);
  expect(r.code, r.stderr).toBe(0);
});
afterAll(async () => {
  await pair?.stop();
});

async function expectBlueIntact(): Promise<void> {
  expect({ blue: await appCanWrite(pair.blue), green: await appCanWrite(pair.green) }).toEqual({ blue: true, green: false });
  expect(activeOf(pair)).toBe('blue');
  expect(await replicationObjects(pair.blue)).toEqual(['pub bgmig_pub_blue', 'slot bgmig_sub_blue_to_green']);
  expect(await replicationObjects(pair.green)).toEqual(['sub bgmig_sub_blue_to_green']);
  const st = await bgmig(pair, ['db', 'sync', 'status', '--json']);
  const status = parseJson<SyncStatusReport>(st);
  expect(status.problems).toEqual([]);
  expect(status).toMatchObject({ state: 'streaming', active: 'blue', direction: 'blue_to_green', pending: null });
}

describe('abort and undo', () => {
  it('refuses before fencing anything while the apply worker on green is stalled by a lock (no error recorded, no progress)', async () => {
    const writers = startWriters(pair, 4);
    const lock = await pair.green.connect('app');
    let r: RunResult | undefined;
    try {
      while (writers.acks.length < 50) await new Promise((res) => setTimeout(res, 10));
      // An uncommitted transaction on green holding the next order ids: the apply worker's insert of blue's next
      // order waits on it (a row lock, so bgmig's own DDL on green is not blocked — only the apply stalls).
      const next = Number((await pair.blue.sql('SELECT last_value FROM public.orders_id_seq', 'app')).rows[0].last_value);
      await lock.query('BEGIN READ WRITE');
      await lock.query(
        `INSERT INTO public.orders (id, writer, n) SELECT g, -1, -1 FROM generate_series(${next + 1}, ${next + 100_000}) g ON CONFLICT DO NOTHING`,
      );
      r = await bgmig(pair, ['db', 'cutover', '--yes', '--json', '--skip-validation', '--max-pause', '1500ms', '--on-switch', pair.onSwitch]);
      // Refused before the fence: the writers never paused.
      expect(await appCanWrite(pair.blue)).toBe(true);
      await lock.query('ROLLBACK');
      const before = writers.acks.length;
      while (writers.acks.length < before + 50) await new Promise((res) => setTimeout(res, 10));
    } finally {
      await lock.end();
      await writers.stop();
    }
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(
      /Cannot cutover from blue to green: blue is not fenced for a stream that is not applying: the apply worker of bgmig_sub_blue_to_green on green made no progress in [\d.]+ s .* a lock or a long transaction on green blocks it/,
    );
    const rows = await waitConverged(pair);
    const ids = new Set((JSON.parse(rows.orders) as Array<{ id: number }>).map((o) => o.id));
    for (const a of writers.acks) expect(ids.has(a.orderId)).toBe(true);
    await expectBlueIntact();
  });

  it('aborts when the drain cannot finish within --max-pause (the drain marker held up on green after the gates), losing nothing', async () => {
    const writers = startWriters(pair, 4);
    let r: RunResult | undefined;
    // The application's changes keep applying (so the gates see a stream that applies); only the drain marker's
    // update is slow on green — an ALWAYS trigger (it fires in the apply worker) that sleeps past --max-pause.
    await pair.green.sql(
      `BEGIN READ WRITE;
      CREATE FUNCTION bgmig.test_slow_marker() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(4); RETURN NEW; END $$;
      CREATE TRIGGER test_slow_marker BEFORE UPDATE ON bgmig.marker FOR EACH ROW EXECUTE FUNCTION bgmig.test_slow_marker();
      ALTER TABLE bgmig.marker ENABLE ALWAYS TRIGGER test_slow_marker; COMMIT`,
      'app',
    );
    try {
      while (writers.acks.length < 50) await new Promise((res) => setTimeout(res, 10));
      r = await bgmig(pair, ['db', 'cutover', '--yes', '--json', '--skip-validation', '--max-pause', '1500ms', '--on-switch', pair.onSwitch]);
      const before = writers.acks.length;
      while (writers.acks.length < before + 50) await new Promise((res) => setTimeout(res, 10));
    } finally {
      await writers.stop();
      await pair.green.sql('BEGIN READ WRITE; DROP TRIGGER test_slow_marker ON bgmig.marker; DROP FUNCTION bgmig.test_slow_marker(); COMMIT', 'app');
    }
    expect(r.code, r.stderr).toBe(1);
    const rep = failureReport<SwitchReport>(r, 'switch-aborted');
    expect(rep).toMatchObject({ operation: 'cutover', outcome: 'aborted', active: 'blue' });
    expect(rep.error).toMatch(/did not apply everything blue committed within --max-pause/);
    expect(r.stderr).toContain('error: The cutover was aborted and undone');
    expect(rep.undo.map((u) => u.step)).toContain('unfence blue');
    expect(rep.pauseMs as number).toBeGreaterThanOrEqual(1500);

    const rows = await waitConverged(pair);
    const ids = new Set((JSON.parse(rows.orders) as Array<{ id: number }>).map((o) => o.id));
    for (const a of writers.acks) expect(ids.has(a.orderId)).toBe(true);
    await expectBlueIntact();
  });

  it('a switch hook that fails after the unfence leaves green active, blue fenced, nothing lost; a re-run retries it', async () => {
    // The hook runs after the point of no return (issue 13: DNS leaves the write pause), so a failing hook is
    // not undone: green holds everything and takes writes, blue stays fenced, and the same command retries it.
    const writers = startWriters(pair, 4);
    let r: RunResult | undefined;
    try {
      while (writers.acks.length < 50) await new Promise((res) => setTimeout(res, 10));
      const hook = `[ "$BGMIG_ACTIVE" = blue ] && printf %s "$BGMIG_ACTIVE" > ${pair.activeFile}`;
      r = await bgmig(pair, ['db', 'cutover', '--yes', '--json', '--skip-validation', '--on-switch', hook]);
    } finally {
      await writers.stop();
    }
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain('made green active and writable (blue stays fenced)');
    expect(r.stderr).toContain('--on-switch command exited with code 1');
    expect({ blue: await appCanWrite(pair.blue), green: await appCanWrite(pair.green) }).toEqual({ blue: false, green: true });
    const st = parseJson<SyncStatusReport>(await bgmig(pair, ['db', 'sync', 'status', '--json']));
    expect(st.pending).toMatchObject({ operation: 'cutover', step: 'unfenced' });

    const again = await bgmig(pair, ['db', 'cutover', '--yes', '--json', '--skip-validation', '--on-switch', pair.onSwitch]);
    expect(again.code, again.stderr).toBe(0);
    expect(parseJson<SwitchReport>(again)).toMatchObject({ outcome: 'completed', active: 'green', resumed: true });
    expect(activeOf(pair)).toBe('green');
    const rows = await waitConverged(pair);
    const ids = new Set((JSON.parse(rows.orders) as Array<{ id: number }>).map((o) => o.id));
    for (const a of writers.acks) expect(ids.has(a.orderId)).toBe(true);
    expect(writers.errors.get('23505') ?? 0).toBe(0);
  });

  it('refuses, changing nothing, while a long transaction is open on the active side (engine, in-process)', async () => {
    const app = new pg.Client({ connectionString: appUrl(pair.green) });
    await app.connect();
    try {
      await app.query('BEGIN');
      await app.query('SELECT count(*) FROM public.orders');
      await new Promise((res) => setTimeout(res, 400));
      const targets = { blue: parseDbUrl(pair.blueUrl, 'blue'), green: parseDbUrl(pair.greenUrl, 'green') };
      const err = await rollback(targets, { maxTransactionAgeMs: 200 }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(BgmigError);
      expect((err as BgmigError).exitCode).toBe(3);
      expect((err as BgmigError).message).toMatch(
        /Cannot rollback from green to blue: a transaction on green has been open for \d+ s \(pid \d+, role app_rw\) — let it finish or end it/,
      );
      await app.query('ROLLBACK');
    } finally {
      await app.end();
    }
    expect({ blue: await appCanWrite(pair.blue), green: await appCanWrite(pair.green) }).toEqual({ blue: false, green: true });
    expect(await replicationObjects(pair.blue)).toEqual(['pub bgmig_pub_blue', 'sub bgmig_sub_green_to_blue']);
    expect(await replicationObjects(pair.green)).toEqual(['pub bgmig_pub_green', 'slot bgmig_sub_green_to_blue']);
  });

  it('refuses before the fence when a transaction left open on the new side would hold the reverse slot (names it)', async () => {
    // green is active here; the rollback's new side is blue. An operator session on blue holds a transaction id.
    const op = new pg.Client({ connectionString: pair.blue.url('app'), application_name: 'psql-operator' });
    await op.connect();
    try {
      const pid = (await op.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
      await op.query('BEGIN READ WRITE');
      await op.query('SELECT txid_current()');
      const r = await bgmig(pair, ['db', 'rollback', '--yes', '--on-switch', pair.onSwitch]);
      expect(r.code, r.stderr).toBe(3);
      expect(r.stderr).toMatch(
        new RegExp(
          `Cannot rollback from green to blue: Creating replication slot bgmig_sub_blue_to_green on blue waited 2 s for transactions open there to end: pid ${pid} \\(application "psql-operator", role postgres`,
        ),
      );
      expect(r.stderr).toContain(`SELECT pg_terminate_backend(${pid}) on blue`);
      expect(r.stderr).toContain('nothing was fenced');
    } finally {
      await op.query('ROLLBACK').catch(() => undefined);
      await op.end();
    }
    expect({ blue: await appCanWrite(pair.blue), green: await appCanWrite(pair.green) }).toEqual({ blue: false, green: true });
    // The publication the rollback prepared on blue is dropped again; no slot was made.
    expect(await replicationObjects(pair.blue)).toEqual(['sub bgmig_sub_green_to_blue']);
    expect(await replicationObjects(pair.green)).toEqual(['pub bgmig_pub_green', 'slot bgmig_sub_green_to_blue']);
  });
});
