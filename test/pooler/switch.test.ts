/**
 * The switch through real PgBouncer 1.18 poolers in front of two real PostgreSQL 15 servers (direct mode, the CLI
 * from dist/): clients that only know the poolers see no error and lose no write through a cutover and a rollback;
 * two poolers are held together; a pooler that cannot pause in time aborts the switch with nothing changed; and a
 * bgmig killed while the poolers are paused leaves them for the next command to resume.
 */
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SwitchReport, SyncStatusReport } from '../../src/replication/api.js';
import {
  APP_PASSWORD,
  APP_USER,
  DB,
  appCanWrite,
  bgmig,
  failureReport,
  parseJson,
  replicationObjects,
  startPair,
  waitConverged,
  type Pair,
} from '../replication/helpers.js';
import { ADMIN_PASSWORD, startPgBouncer, type Bouncer } from './pgbouncer.js';
import { moreAcks, startWorkload } from './workload.js';

let pair: Pair;
let poolers: Bouncer[];
const env = { BGMIG_POOLER_PASSWORD: ADMIN_PASSWORD };

const poolerArgs = () => poolers.flatMap((p) => ['--pooler', p.adminUrl]);
const clientUrls = () => poolers.map((p) => p.url(DB, APP_USER, APP_PASSWORD));

async function entries(): Promise<Array<{ port: number; paused: boolean } | undefined>> {
  return Promise.all(poolers.map((p) => p.entry(DB)));
}

async function heldRows(): Promise<number> {
  const r = await pair.blue.sql(`SELECT count(*)::int AS n FROM bgmig.pooler_hold`, DB).catch(() => ({ rows: [{ n: 0 }] }));
  return (r.rows[0] as { n: number }).n;
}

beforeAll(async () => {
  pair = await startPair();
  // Same columns on both sides, so the way back carries every column (this file is about the poolers).
  await pair.blue.sql(`ALTER TABLE public.orders ADD COLUMN extra text NOT NULL DEFAULT 'green-only'`, DB);
  const r = await bgmig(pair, ['db', 'sync', 'start', '--yes']);
  expect(r.code, r.stderr).toBe(0);
  const opts = { databases: { [DB]: { host: '127.0.0.1', port: pair.blue.port, dbname: DB } }, users: { [APP_USER]: APP_PASSWORD } };
  poolers = await Promise.all([startPgBouncer(opts), startPgBouncer(opts)]);
});

afterAll(async () => {
  await Promise.all((poolers ?? []).map((p) => p.stop()));
  await pair?.stop();
});

describe('through PgBouncer', () => {
  it('cutover then rollback with writers and readers on two poolers: no client error, no lost write, both poolers held together', async () => {
    const w = startWorkload(clientUrls(), { writers: 4, readers: 2 });
    let cut: SwitchReport;
    let back: SwitchReport;
    try {
      await moreAcks(w, 100);
      const c = await bgmig(pair, ['db', 'cutover', '--yes', '--json', '--skip-validation', ...poolerArgs()], env);
      expect(c.code, c.stderr).toBe(0);
      cut = parseJson<SwitchReport>(c);
      expect(`${c.stdout}${c.stderr}`).not.toContain(ADMIN_PASSWORD);
      expect(await entries()).toEqual([
        { host: '127.0.0.1', port: pair.green.port, paused: false },
        { host: '127.0.0.1', port: pair.green.port, paused: false },
      ]);
      await moreAcks(w, 100);
      const r = await bgmig(pair, ['db', 'rollback', '--yes', '--json', ...poolerArgs()], env);
      expect(r.code, r.stderr).toBe(0);
      back = parseJson<SwitchReport>(r);
      expect(await entries()).toEqual([
        { host: '127.0.0.1', port: pair.blue.port, paused: false },
        { host: '127.0.0.1', port: pair.blue.port, paused: false },
      ]);
      await moreAcks(w, 100);
    } finally {
      await w.stop();
    }
    expect(w.errors).toEqual([]);
    for (const rep of [cut, back]) {
      expect(rep.outcome).toBe('completed');
      const steps = rep.steps.map((s) => s.step);
      // Held before the fence, repointed inside the pause, released after the unfence.
      expect(steps.indexOf('hold clients')).toBeLessThan(steps.findIndex((s) => s.startsWith('fence ')));
      expect(steps.indexOf('repoint clients')).toBeLessThan(steps.findIndex((s) => s.startsWith('unfence ')));
      expect(steps.findIndex((s) => s.startsWith('unfence '))).toBeLessThan(steps.indexOf('switch'));
      expect(rep.steps.find((s) => s.step === 'hold clients')?.detail).toMatch(/^2 entries on 2 pooler\(s\) paused in \d+ ms$/);
      // PAUSE closed the poolers' server connections, so the fence had no client session to end (the fence needs
      // no pooler exception: a paused pooler has no session on the database at all).
      expect(rep.steps.find((s) => s.step.startsWith('fence '))?.detail).toBe('0 session(s) ended');
      expect(rep.holdMs).toBeGreaterThan(0);
      expect(rep.clientsFollowMs).toBeGreaterThanOrEqual(rep.pauseMs as number);
    }
    // Every acknowledged write is on both sides; blue writable again, green fenced; nothing left held.
    const rows = await waitConverged(pair);
    const ids = new Set((JSON.parse(rows.orders) as Array<{ id: number }>).map((o) => o.id));
    expect(w.acks.filter((id) => !ids.has(id))).toEqual([]);
    expect({ blue: await appCanWrite(pair.blue), green: await appCanWrite(pair.green) }).toEqual({ blue: true, green: false });
    expect(await heldRows()).toBe(0);
    console.info(
      `through 2 poolers: ${w.acks.length} writes, 0 errors; cutover pause ${cut!.pauseMs} ms held ${cut!.holdMs} ms; rollback pause ${back!.pauseMs} ms held ${back!.holdMs} ms`,
    );
  });

  it('a pooler that cannot pause in time (a transaction held open through it) aborts the cutover: every pooler resumed, nothing changed', async () => {
    const before = { blue: await replicationObjects(pair.blue), green: await replicationObjects(pair.green) };
    const ini = readFileSync(poolers[0].ini, 'utf8');
    const long = new pg.Client({ connectionString: clientUrls()[0] });
    await long.connect();
    try {
      await long.query('BEGIN');
      await long.query(`INSERT INTO public.orders (writer, n, note) VALUES (99, 1, 'long')`);
      const r = await bgmig(pair, ['db', 'cutover', '--yes', '--json', '--skip-validation', '--pooler-pause-timeout', '800ms', ...poolerArgs()], env);
      expect(r.code, r.stderr).toBe(1);
      const rep = failureReport<SwitchReport>(r, 'switch-aborted');
      expect(rep).toMatchObject({ outcome: 'aborted', active: 'blue' });
      expect(rep.error).toMatch(
        /A pooler did not pause within 800 ms \(app on postgres:\/\/pgb_admin@127\.0\.0\.1:\d+\/pgbouncer — a transaction held open through it\?\): every pooler was resumed and nothing was changed/,
      );
      // Nothing was fenced: the held-open transaction still commits.
      await long.query('COMMIT');
    } finally {
      await long.end();
    }
    expect(await entries()).toEqual([
      { host: '127.0.0.1', port: pair.blue.port, paused: false },
      { host: '127.0.0.1', port: pair.blue.port, paused: false },
    ]);
    expect(readFileSync(poolers[0].ini, 'utf8')).toBe(ini);
    // Replication as before (green's idle publication from the last rollback is all the undo tidies away).
    const idle = (xs: string[]) => xs.filter((x) => x !== 'pub bgmig_pub_green');
    expect({ blue: await replicationObjects(pair.blue), green: idle(await replicationObjects(pair.green)) }).toEqual({
      blue: before.blue,
      green: idle(before.green),
    });
    expect(before.blue).toEqual(['pub bgmig_pub_blue', 'slot bgmig_sub_blue_to_green']);
    expect(idle(before.green)).toEqual(['sub bgmig_sub_blue_to_green']);
    expect({ blue: await appCanWrite(pair.blue), green: await appCanWrite(pair.green) }).toEqual({ blue: true, green: false });
    expect(await heldRows()).toBe(0);
    const c = new pg.Client({ connectionString: clientUrls()[1] });
    await c.connect();
    expect((await c.query(`SELECT count(*)::int AS n FROM public.orders WHERE writer = 99`)).rows[0].n).toBe(1);
    await c.end();
  });

  it('bgmig killed while the poolers are paused: status shows them degraded, the next cutover resumes them on green; a held query runs, no error', async () => {
    // An application session already logged in through the pooler (a login needs a server's parameters first).
    const held = new pg.Client({ connectionString: clientUrls()[0] });
    held.on('error', () => undefined);
    await held.connect();
    await held.query('SELECT 1');
    const killed = await bgmig(pair, ['db', 'cutover', '--yes', '--json', '--skip-validation', ...poolerArgs()], {
      ...env,
      BGMIG_FAILPOINT: 'after:cutover:fenced',
    });
    expect(killed.code, killed.stderr).toBe(128);
    expect((await entries()).map((e) => e?.paused)).toEqual([true, true]);
    // Its next query, arriving now, is held by the pooler, not refused.
    let heldDone = false;
    const q = held.query('SELECT 1 AS one').then((r) => {
      heldDone = true;
      return r.rows[0].one as number;
    });
    // Status (without --pooler: the poolers come from the journal) says so and leaves them held: a switch is pending.
    const st = await bgmig(pair, ['db', 'sync', 'status', '--json'], env);
    expect(st.code, st.stderr).toBe(3);
    const status = parseJson<SyncStatusReport>(st);
    expect(status.pending).toMatchObject({ operation: 'cutover', step: 'fenced' });
    expect(status.problems.filter((p) => /^pooler postgres:\/\/pgb_admin@127\.0\.0\.1:\d+\/pgbouncer is held by bgmig/.test(p))).toHaveLength(2);
    expect((await entries()).map((e) => e?.paused)).toEqual([true, true]);
    expect(heldDone).toBe(false);

    const again = await bgmig(pair, ['db', 'cutover', '--yes', '--json', '--skip-validation'], env);
    expect(again.code, again.stderr).toBe(0);
    expect(parseJson<SwitchReport>(again)).toMatchObject({ outcome: 'completed', active: 'green', resumed: true });
    expect(await entries()).toEqual([
      { host: '127.0.0.1', port: pair.green.port, paused: false },
      { host: '127.0.0.1', port: pair.green.port, paused: false },
    ]);
    expect(await q).toBe(1);
    await held.end();
    expect(await heldRows()).toBe(0);
    const ok = await bgmig(pair, ['db', 'sync', 'status', '--json'], env);
    expect(parseJson<SyncStatusReport>(ok).problems).toEqual([]);
    expect({ blue: await appCanWrite(pair.blue), green: await appCanWrite(pair.green) }).toEqual({ blue: false, green: true });
  });

  it('a pooler that cannot be reached, or runs session pooling, stops the rollback before anything is held or fenced', async () => {
    const { freePort } = await import('../harness/postgres.js');
    const before = { blue: await replicationObjects(pair.blue), green: await replicationObjects(pair.green) };
    const dead = `postgres://pgb_admin@127.0.0.1:${await freePort()}/pgbouncer`;
    const r = await bgmig(pair, ['db', 'rollback', '--yes', '--json', ...poolerArgs(), '--pooler', dead], env);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(`Cannot reach the pooler's admin console ${dead}`);
    // Session pooling: PAUSE would wait for every client to disconnect — refused (exit 3), naming the fix.
    const session = await startPgBouncer({
      databases: { [DB]: { host: '127.0.0.1', port: pair.green.port, dbname: DB } },
      users: { [APP_USER]: APP_PASSWORD },
      poolMode: 'session',
    });
    try {
      const s = await bgmig(pair, ['db', 'rollback', '--yes', '--json', '--pooler', session.adminUrl], env);
      expect(s.code, s.stderr).toBe(3);
      expect(s.stderr).toContain(`entry app of pooler ${session.adminUrl} uses pool_mode = session, where PAUSE waits for every client to disconnect`);
      expect(s.stderr).toContain("use pool_mode = transaction for the applications' entry");
      expect((await session.entry(DB))?.paused).toBe(false);
    } finally {
      await session.stop();
    }
    expect(await entries()).toEqual([
      { host: '127.0.0.1', port: pair.green.port, paused: false },
      { host: '127.0.0.1', port: pair.green.port, paused: false },
    ]);
    expect({ blue: await appCanWrite(pair.blue), green: await appCanWrite(pair.green) }).toEqual({ blue: false, green: true });
    expect({ blue: await replicationObjects(pair.blue), green: await replicationObjects(pair.green) }).toEqual(before);
    expect(await heldRows()).toBe(0);
  });

  it('a rollback killed while the poolers are paused is undone by the next cutover, which resumes them where they were', async () => {
    const held = new pg.Client({ connectionString: clientUrls()[1] });
    held.on('error', () => undefined);
    await held.connect();
    await held.query('SELECT 1');
    const killed = await bgmig(pair, ['db', 'rollback', '--yes', '--json', ...poolerArgs()], { ...env, BGMIG_FAILPOINT: 'after:rollback:drained' });
    expect(killed.code, killed.stderr).toBe(128);
    expect((await entries()).map((e) => e?.paused)).toEqual([true, true]);
    const q = held.query(`INSERT INTO public.orders (writer, n, note) VALUES (77, 1, 'held') RETURNING id`);
    const undo = await bgmig(pair, ['db', 'cutover', '--yes', '--json', '--skip-validation'], env);
    expect(undo.code, undo.stderr).toBe(0);
    expect(parseJson<SwitchReport>(undo)).toMatchObject({ operation: 'cutover', outcome: 'completed', active: 'green', resumed: true });
    expect(await entries()).toEqual([
      { host: '127.0.0.1', port: pair.green.port, paused: false },
      { host: '127.0.0.1', port: pair.green.port, paused: false },
    ]);
    // The write that waited in the pooler ran on green, the writable side, and replicates back to blue.
    const id = (await q).rows[0].id as number;
    await held.end();
    expect((await pair.green.sql(`SELECT count(*)::int AS n FROM public.orders WHERE id = ${id}`, DB)).rows[0].n).toBe(1);
    const rows = await waitConverged(pair);
    expect((JSON.parse(rows.orders) as Array<{ id: number }>).some((o) => o.id === id)).toBe(true);
    expect({ blue: await appCanWrite(pair.blue), green: await appCanWrite(pair.green) }).toEqual({ blue: false, green: true });
    expect(await heldRows()).toBe(0);
  });

  it('--max-pause running out with the poolers held undoes the rollback and resumes them on green: no client error', async () => {
    const w = startWorkload(clientUrls(), { writers: 4, readers: 2 });
    let r: Awaited<ReturnType<typeof bgmig>> | undefined;
    try {
      await moreAcks(w, 50);
      r = await bgmig(pair, ['db', 'rollback', '--yes', '--json', '--max-pause', '1ms', ...poolerArgs()], env);
      await moreAcks(w, 50);
    } finally {
      await w.stop();
    }
    if (!r) throw new Error('the rollback did not run');
    expect(r.code, r.stderr).toBe(1);
    const rep = failureReport<SwitchReport>(r, 'switch-aborted');
    expect(rep).toMatchObject({ outcome: 'aborted', active: 'green' });
    expect(rep.error).toMatch(/--max-pause ran out/);
    expect(rep.undo.map((u) => u.step)).toContain('release clients');
    expect(w.errors).toEqual([]);
    expect(await entries()).toEqual([
      { host: '127.0.0.1', port: pair.green.port, paused: false },
      { host: '127.0.0.1', port: pair.green.port, paused: false },
    ]);
    const rows = await waitConverged(pair);
    const ids = new Set((JSON.parse(rows.orders) as Array<{ id: number }>).map((o) => o.id));
    expect(w.acks.filter((id) => !ids.has(id))).toEqual([]);
    expect({ blue: await appCanWrite(pair.blue), green: await appCanWrite(pair.green) }).toEqual({ blue: false, green: true });
    expect(await heldRows()).toBe(0);
  });

  it('db sync status shows a pooler someone else paused as degraded and leaves it to them', async () => {
    await poolers[0].admin('PAUSE app');
    try {
      const st = await bgmig(pair, ['db', 'sync', 'status', '--json', '--pooler', poolers[0].adminUrl], env);
      expect(st.code, st.stderr).toBe(3);
      expect(parseJson<SyncStatusReport>(st).problems).toEqual([
        `entry app of pooler ${poolers[0].adminUrl} is paused, not by bgmig: its clients wait — RESUME app on its admin console when whoever paused it is done`,
      ]);
      expect((await entries()).map((e) => e?.paused)).toEqual([true, false]);
    } finally {
      await poolers[0].admin('RESUME app');
    }
    const ok = await bgmig(pair, ['db', 'sync', 'status', '--json', ...poolerArgs()], env);
    expect(ok.code, ok.stderr).toBe(0);
  });
});
