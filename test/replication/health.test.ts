/**
 * Issue 10 kind 4, on two real servers: health from progress over a window. An apply worker that fails, restarts
 * and fails again is degraded every time `db sync status` is asked (never flipping to exit 0), and the gates of
 * cutover and rollback refuse before anything is fenced; an inactive slot retaining WAL is degraded.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SwitchReport, SyncStatusReport } from '../../src/replication/api.js';
import { APP_USER, DB, activeOf, appCanWrite, appUrl, bgmig, parseJson, replicationObjects, rowsOf, startPair, type Pair, switchArgs } from './helpers.js';

let pair: Pair;

beforeAll(async () => {
  pair = await startPair();
  // One more table, so a column can go missing on the subscriber without touching the writers' tables.
  for (const s of [pair.blue, pair.green])
    await s.sql(`CREATE TABLE public.notes (id int PRIMARY KEY, body text, tag text); GRANT ALL ON public.notes TO ${APP_USER}`, DB);
  const r = await bgmig(pair, ['db', 'sync', 'start', '--yes']);
  expect(r.code, r.stderr).toBe(0);
});
afterAll(async () => {
  await pair?.stop();
});

async function asApp(color: 'blue' | 'green', sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: appUrl(color === 'blue' ? pair.blue : pair.green) });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/** As the superuser on a (possibly fenced) side. */
async function admin(color: 'blue' | 'green', sql: string): Promise<void> {
  await (color === 'blue' ? pair.blue : pair.green).sql(`BEGIN READ WRITE; ${sql}; COMMIT`, DB);
}

async function status(): Promise<{ code: number; report: SyncStatusReport }> {
  const r = await bgmig(pair, ['db', 'sync', 'status', '--json']);
  return { code: r.code, report: parseJson<SyncStatusReport>(r) };
}

/** Asks `times` times, ~0.7 s apart, across the worker's restarts; returns every answer. */
async function askRepeatedly(times: number): Promise<Array<{ code: number; report: SyncStatusReport }>> {
  const out = [];
  for (let i = 0; i < times; i++) {
    out.push(await status());
    await new Promise((r) => setTimeout(r, 700));
  }
  return out;
}

async function waitHealthy(timeoutMs = 30_000): Promise<SyncStatusReport> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const st = await status();
    if (st.code === 0) return st.report;
    if (Date.now() > until) throw new Error(`not healthy after ${timeoutMs} ms: ${st.report.problems.join(' | ')}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

async function nothingFenced(active: 'blue' | 'green'): Promise<void> {
  expect({ blue: await appCanWrite(pair.blue), green: await appCanWrite(pair.green) }).toEqual({ blue: active === 'blue', green: active === 'green' });
  expect(activeOf(pair)).toBe(active);
  // No reverse replication was prepared either.
  const passive = active === 'blue' ? pair.green : pair.blue;
  expect((await replicationObjects(passive)).filter((o) => o.startsWith('slot'))).toEqual([]);
}

describe('health by progress', () => {
  it('the issue example: an apply worker failing on a unique conflict is degraded every time it is asked, and the cutover gate refuses, fencing nothing', async () => {
    await admin('green', `INSERT INTO public.orders (id, writer, n, note) VALUES (900001, -1, -1, 'green had it first')`);
    await asApp('blue', `INSERT INTO public.orders (id, writer, n, note) VALUES (900001, 1, 1, 'blue')`);
    const answers = await askRepeatedly(5);
    for (const a of answers) {
      expect(a.code, a.report.problems.join(' | ')).toBe(3);
      expect(a.report.state).toBe('broken');
      expect(a.report.health?.verdict).toBe('failing');
      expect(a.report.problems.join('\n')).toMatch(/the apply worker of bgmig_sub_blue_to_green on green (is failing and restarting|is not applying)/);
    }
    expect(answers[answers.length - 1].report.subscription?.applyErrorCount).toBeGreaterThan(answers[0].report.subscription?.applyErrorCount ?? 0);

    const t = Date.now();
    const cut = await bgmig(pair, switchArgs(pair, 'cutover'));
    expect(cut.code).toBe(3);
    expect(cut.stderr).toContain('Cannot cutover from blue to green: blue is not fenced for a stream that is not applying');
    expect(Date.now() - t).toBeLessThan(30_000);
    await nothingFenced('blue');

    // The cause removed on green: the stream applies again and status says so.
    await admin('green', 'DELETE FROM public.orders WHERE id = 900001');
    const healthy = await waitHealthy();
    expect(healthy.health?.verdict).toBe('applying');
    expect(healthy.health?.notes.join(' ')).toContain('apply error(s) happened earlier');
  });

  it('a published column missing on the subscriber: degraded every time with the column named, gates refuse', async () => {
    await admin('green', 'ALTER TABLE public.notes DROP COLUMN tag');
    await asApp('blue', `INSERT INTO public.notes VALUES (1, 'hello', 'x')`);
    for (const a of await askRepeatedly(3)) {
      expect(a.code).toBe(3);
      expect(['failing', 'not_running']).toContain(a.report.health?.verdict);
      expect(a.report.problems.join('\n')).toContain('green lacks column public.notes.tag that blue sends');
      expect(a.report.scope?.map((d) => [d.kind, d.table, d.columns])).toEqual([['column_missing_on_subscriber', 'public.notes', ['tag']]]);
    }
    const cut = await bgmig(pair, switchArgs(pair, 'cutover'));
    expect(cut.code).toBe(3);
    expect(cut.stderr).toContain('blue is not fenced for a stream that is not applying');
    expect(cut.stderr).toContain('green lacks column public.notes.tag that blue sends');
    await nothingFenced('blue');
    await admin('green', 'ALTER TABLE public.notes ADD COLUMN tag text');
    await waitHealthy();
  });

  it('a disabled subscription: its slot stops, retains WAL, and status says both', async () => {
    await admin('green', 'ALTER SUBSCRIPTION bgmig_sub_blue_to_green DISABLE');
    try {
      await asApp('blue', `INSERT INTO public.notes VALUES (2, 'while disabled', null)`);
      await new Promise((r) => setTimeout(r, 500));
      const st = await status();
      expect(st.code).toBe(3);
      expect(st.report.health?.verdict).toBe('disabled');
      const text = st.report.problems.join('\n');
      expect(text).toContain('subscription bgmig_sub_blue_to_green on green is disabled');
      expect(text).toMatch(/replication slot bgmig_sub_blue_to_green on blue is inactive and retains [\d.]+ [kMG]?B of WAL/);
    } finally {
      await admin('green', 'ALTER SUBSCRIPTION bgmig_sub_blue_to_green ENABLE');
    }
    await waitHealthy();
  });

  it('rollback refuses before fencing green while the reverse stream is not applying', async () => {
    const cut = await bgmig(pair, switchArgs(pair, 'cutover'));
    expect(cut.code, cut.stderr).toBe(0);
    await admin('blue', `INSERT INTO public.orders (id, writer, n, note) VALUES (900002, -1, -1, 'blue had it first')`);
    await asApp('green', `INSERT INTO public.orders (id, writer, n, note) VALUES (900002, 2, 2, 'green')`);
    const back = await bgmig(pair, switchArgs(pair, 'rollback'));
    expect(back.code).toBe(3);
    expect(back.stderr).toContain(
      'Cannot rollback from green to blue: green is not fenced for a stream that is not applying: the apply worker of bgmig_sub_green_to_blue on blue',
    );
    await nothingFenced('green');
    await admin('blue', 'DELETE FROM public.orders WHERE id = 900002');
    await waitHealthy();
    const ok = await bgmig(pair, switchArgs(pair, 'rollback'));
    expect(ok.code, ok.stderr).toBe(0);
    expect(activeOf(pair)).toBe('blue');
  });

  it('a stream that applies but confirms late (green flushes its own commits only every 10 s) is proven by the drain marker: the gates pass, no acknowledged write lost', async () => {
    // A subscription commits asynchronously (synchronous_commit = off by default) and reports a flushed position
    // only after its WAL writer flushed: with wal_writer_delay = 10 s the slot's confirmation trails the apply by
    // up to 10 s — twice the gates' window — on a stream that is perfectly healthy.
    await pair.green.sql(`ALTER SYSTEM SET wal_writer_delay = '10s'`);
    await pair.green.sql('SELECT pg_reload_conf()');
    try {
      await waitHealthy();
      const slotTrails = async () =>
        (
          await rowsOf(
            pair.blue,
            `SELECT pg_current_wal_lsn() > confirmed_flush_lsn AS trails FROM pg_replication_slots WHERE slot_name = 'bgmig_sub_blue_to_green'`,
          )
        )[0]?.trails === true;
      // Written right after green's last flush was confirmed, so the next one is most of 10 s away. Should green
      // flush anyway before the gates' first look (a slow start of the CLI on a loaded machine), the slot proves it
      // and the marker is not needed: that attempt is rolled back and the write made again (at most 3 times).
      const proofs: string[] = [];
      for (let attempt = 1; attempt <= 3 && !proofs.some((p) => p.includes('drain marker')); attempt++) {
        const until = Date.now() + 15_000;
        while ((await slotTrails()) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
        const id = 900_010 + attempt;
        await asApp('blue', `INSERT INTO public.orders (id, writer, n, note) VALUES (${id}, 3, 3, 'confirmed late')`);
        expect(await slotTrails()).toBe(true);
        const cut = await bgmig(pair, switchArgs(pair, 'cutover'));
        expect(cut.code, cut.stderr).toBe(0);
        proofs.push(parseJson<SwitchReport>(cut).steps.find((x) => x.step === 'gates')?.detail ?? '');
        expect(await rowsOf(pair.green, `SELECT note FROM public.orders WHERE id = ${id}`)).toEqual([{ note: 'confirmed late' }]);
        const back = await bgmig(pair, switchArgs(pair, 'rollback'));
        expect(back.code, back.stderr).toBe(0);
        expect(activeOf(pair)).toBe('blue');
        expect(await rowsOf(pair.blue, `SELECT note FROM public.orders WHERE id = ${id}`)).toEqual([{ note: 'confirmed late' }]);
      }
      expect(proofs[proofs.length - 1]).toMatch(/^stream blue→green applying: the drain marker was applied on green while the slot had \d+ B unconfirmed$/);
      console.info(`gates' proofs: ${proofs.join(' | ')}`);
    } finally {
      await pair.green.sql('ALTER SYSTEM RESET wal_writer_delay');
      await pair.green.sql('SELECT pg_reload_conf()');
    }
  });
});
