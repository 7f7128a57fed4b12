/**
 * Issue 10 kind 3, on two real servers: the replicated scope is checked against the live publication at every
 * look. A table or column created after `sync start` is named by `db sync status` (exit 3) and by the gates of
 * cutover and rollback (exit 3, nothing fenced); `db sync refresh` brings it in with every row written meanwhile.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunResult } from '../harness/cli.js';
import type { SyncRefreshReport, SyncStatusReport } from '../../src/replication/api.js';
import {
  APP_USER,
  DB,
  activeOf,
  appCanWrite,
  appUrl,
  bgmig,
  parseJson,
  replicationObjects,
  rowsOf,
  startPair,
  startWriters,
  waitConverged,
  type Pair,
  switchArgs,
} from './helpers.js';
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

/** A migration run as the superuser on both sides (the passive side is fenced read-only: opt out, as an operator would). */
async function both(sql: string): Promise<void> {
  await Promise.all([ddl('blue', sql), ddl('green', sql)]);
}

async function ddl(color: 'blue' | 'green', sql: string): Promise<void> {
  await (color === 'blue' ? pair.blue : pair.green).sql(`BEGIN READ WRITE; ${sql}; COMMIT`, DB);
}

async function asApp(color: 'blue' | 'green', sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: appUrl(color === 'blue' ? pair.blue : pair.green) });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

async function status(): Promise<{ code: number; report: SyncStatusReport }> {
  const r = await bgmig(pair, ['db', 'sync', 'status', '--json']);
  return { code: r.code, report: parseJson<SyncStatusReport>(r) };
}

/** Both sides exactly as before: the active side writable, the other fenced, no reverse replication prepared. */
async function unchanged(active: 'blue' | 'green'): Promise<void> {
  expect({ blue: await appCanWrite(pair.blue), green: await appCanWrite(pair.green) }).toEqual({ blue: active === 'blue', green: active === 'green' });
  expect(activeOf(pair)).toBe(active);
  const passive = active === 'blue' ? pair.green : pair.blue;
  expect((await replicationObjects(passive)).filter((o) => o.startsWith('slot'))).toEqual([]);
}

describe('scope drift after sync start', () => {
  it('a table created on blue only is degraded and cannot be refreshed in until green has it (then it is)', async () => {
    await ddl('blue', `CREATE TABLE public.audit_log (id bigint PRIMARY KEY, what text NOT NULL); GRANT ALL ON public.audit_log TO ${APP_USER}`);
    await asApp('blue', `INSERT INTO public.audit_log VALUES (1, 'a'), (2, 'b')`);
    const st = await status();
    expect(st.code).toBe(3);
    expect(st.report.scope).toEqual([expect.objectContaining({ kind: 'table_missing_on_subscriber', table: 'public.audit_log', refreshable: false })]);
    expect(st.report.problems.join('\n')).toContain('table public.audit_log exists on blue but not on green');

    const refused = await bgmig(pair, ['db', 'sync', 'refresh', '--yes']);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('Cannot refresh replication blue→green: table public.audit_log exists on blue but not on green');
    expect(refused.stderr).toContain('create it on green');

    await ddl('green', `CREATE TABLE public.audit_log (id bigint PRIMARY KEY, what text NOT NULL); GRANT ALL ON public.audit_log TO ${APP_USER}`);
    const ok = await bgmig(pair, ['db', 'sync', 'refresh', '--yes', '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(parseJson<SyncRefreshReport>(ok)).toMatchObject({ added: ['public.audit_log'], recopied: [] });
    expect(await rowsOf(pair.green, 'SELECT id, what FROM public.audit_log ORDER BY id')).toEqual([
      { id: '1', what: 'a' },
      { id: '2', what: 'b' },
    ]);
  });

  it('the issue example: notification_sent created on both sides, 4 rows on blue → degraded, cutover refused, refresh, cutover has them', async () => {
    await both(`CREATE TABLE public.notification_sent (id bigserial PRIMARY KEY, account_id bigint NOT NULL, sent_at timestamptz NOT NULL DEFAULT now());
      GRANT ALL ON public.notification_sent TO ${APP_USER}; GRANT ALL ON SEQUENCE public.notification_sent_id_seq TO ${APP_USER}`);
    await asApp('blue', 'INSERT INTO public.notification_sent (account_id) SELECT g FROM generate_series(1, 4) g');
    // Degraded every time it is asked, naming the table and the command that fixes it.
    for (let i = 0; i < 2; i++) {
      const st = await status();
      expect(st.code).toBe(3);
      expect(st.report.scope?.map((d) => [d.kind, d.table])).toEqual([['table_not_published', 'public.notification_sent']]);
      expect(st.report.problems.join('\n')).toMatch(
        /table public\.notification_sent exists on both sides but is not replicated .* run `bgmig db sync refresh`/,
      );
    }
    // validate (direct mode) warns about it too.
    const val = await bgmig(pair, ['validate']);
    expect(val.stderr).toContain('warning: replication does not carry this: table public.notification_sent exists on both sides but is not replicated');
    const cut = await bgmig(pair, switchArgs(pair, 'cutover'));
    expect(cut.code).toBe(3);
    expect(cut.stderr).toContain('Cannot cutover from blue to green: table public.notification_sent exists on both sides but is not replicated');
    await unchanged('blue');

    const dry = parseJson<SyncRefreshReport>(await bgmig(pair, ['db', 'sync', 'refresh', '--dry-run', '--json']));
    expect(dry).toMatchObject({ dryRun: true, added: ['public.notification_sent'], copy: null });
    const ref = await bgmig(pair, ['db', 'sync', 'refresh', '--yes']);
    expect(ref.code, ref.stderr).toBe(0);
    expect(ref.stdout).toContain('new table(s) published and copied: public.notification_sent');
    expect((await status()).code).toBe(0);

    const cut2 = await bgmig(pair, switchArgs(pair, 'cutover'));
    expect(cut2.code, cut2.stderr).toBe(0);
    const blueRows = await rowsOf(pair.blue, 'SELECT id, account_id, sent_at FROM public.notification_sent ORDER BY id');
    expect(blueRows).toHaveLength(4);
    expect(await rowsOf(pair.green, 'SELECT id, account_id, sent_at FROM public.notification_sent ORDER BY id')).toEqual(blueRows);
    // And green continues its sequence past blue's rows.
    await asApp('green', 'INSERT INTO public.notification_sent (account_id) VALUES (5)');
    expect((await rowsOf(pair.green, 'SELECT max(id)::int AS m FROM public.notification_sent'))[0].m).toBeGreaterThan(4);
  });

  it('a column added on both sides of a table replicated with a column list is re-copied whole, with writers running (reverse direction)', async () => {
    // After the cutover green publishes orders back to blue with a column list (blue lacks green's `extra`).
    expect(activeOf(pair)).toBe('green');
    await both('ALTER TABLE public.orders ADD COLUMN priority int');
    await asApp('green', `INSERT INTO public.orders (writer, n, note, priority) SELECT 77, g, 'prio', g % 3 FROM generate_series(1, 20) g`);
    await asApp('green', `UPDATE public.orders SET priority = 9 WHERE writer = 77 AND n <= 5`);
    const st = await status();
    expect(st.code).toBe(3);
    expect(st.report.scope?.map((d) => [d.kind, d.table, d.columns])).toEqual([['columns_not_published', 'public.orders', ['priority']]]);
    const back = await bgmig(pair, switchArgs(pair, 'rollback'));
    expect(back.code).toBe(3);
    expect(back.stderr).toContain('column public.orders.priority exists on both sides but is not replicated');
    await unchanged('green');

    const writers = startWriters(pair, 3);
    let ref: RunResult | undefined;
    try {
      while (writers.acks.length < 30) await new Promise((r) => setTimeout(r, 10));
      ref = await bgmig(pair, ['db', 'sync', 'refresh', '--yes', '--json']);
      const before = writers.acks.length;
      while (writers.acks.length < before + 30) await new Promise((r) => setTimeout(r, 10));
    } finally {
      await writers.stop();
    }
    expect(ref.code, ref.stderr).toBe(0);
    const rep = parseJson<SyncRefreshReport>(ref);
    expect(rep).toMatchObject({ added: [], recopied: ['public.orders'] });
    expect(rep.subscriberRowsReplaced).toBeGreaterThan(0);
    const rows = await waitConverged(pair);
    const ids = new Set((JSON.parse(rows.orders) as Array<{ id: number }>).map((o) => o.id));
    for (const a of writers.acks) expect(ids.has(a.orderId)).toBe(true);
    // Every priority written before the refresh reached blue.
    const q = 'SELECT id, priority FROM public.orders WHERE priority IS NOT NULL ORDER BY id';
    const greenPrio = await rowsOf(pair.green, q);
    expect(greenPrio).toHaveLength(20);
    expect(await rowsOf(pair.blue, q)).toEqual(greenPrio);
    expect((await status()).code).toBe(0);

    const back2 = await bgmig(pair, switchArgs(pair, 'rollback'));
    expect(back2.code, back2.stderr).toBe(0);
    expect(activeOf(pair)).toBe('blue');
  });

  it('a column added on both sides with a volatile default differs row by row; refresh --recopy copies the table again', async () => {
    expect(activeOf(pair)).toBe('blue');
    await asApp('blue', `INSERT INTO public.seed (id, payload) SELECT g, 'p' || g FROM generate_series(1, 50) g`);
    const q = 'SELECT id, stamp::text FROM public.seed ORDER BY id';
    const until = Date.now() + 20_000;
    while ((await rowsOf(pair.green, 'SELECT count(*)::int AS n FROM public.seed'))[0].n !== 50 && Date.now() < until)
      await new Promise((r) => setTimeout(r, 100));
    await both('ALTER TABLE public.seed ADD COLUMN stamp uuid DEFAULT gen_random_uuid()');
    expect(await rowsOf(pair.green, q)).not.toEqual(await rowsOf(pair.blue, q));
    // Nothing the scope can see (the column is carried from now on) …
    expect((await status()).code).toBe(0);
    const bad = await bgmig(pair, ['db', 'sync', 'refresh', '--yes', '--recopy', 'public.nope']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--recopy public.nope: not a table replicated blue→green now');
    // … so the operator names the table.
    const ref = await bgmig(pair, ['db', 'sync', 'refresh', '--yes', '--json', '--recopy', 'public.seed']);
    expect(ref.code, ref.stderr).toBe(0);
    expect(parseJson<SyncRefreshReport>(ref)).toMatchObject({ added: [], recopied: ['public.seed'], subscriberRowsReplaced: 50 });
    expect(await rowsOf(pair.green, q)).toEqual(await rowsOf(pair.blue, q));
    expect((await status()).code).toBe(0);
  });

  it('a new table that publishing would break (no replica identity: blue UPDATE and DELETE would fail) is refused by refresh, naming it', async () => {
    await both(`CREATE TABLE public.tag_link (tag_id int NOT NULL, item_id int NOT NULL); GRANT ALL ON public.tag_link TO ${APP_USER}`);
    await asApp('blue', 'INSERT INTO public.tag_link VALUES (1, 1), (2, 2)');
    const r = await bgmig(pair, ['db', 'sync', 'refresh', '--yes']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('Cannot refresh replication blue→green: table public.tag_link on blue has no replica identity');
    // Nothing was published: blue's application still updates and deletes there.
    await asApp('blue', 'UPDATE public.tag_link SET item_id = 7 WHERE tag_id = 1');
    await asApp('blue', 'DELETE FROM public.tag_link WHERE tag_id = 2');
    await both('ALTER TABLE public.tag_link ADD PRIMARY KEY (tag_id, item_id)');
    const ok = await bgmig(pair, ['db', 'sync', 'refresh', '--yes', '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(parseJson<SyncRefreshReport>(ok).added).toEqual(['public.tag_link']);
    expect(await rowsOf(pair.green, 'SELECT tag_id, item_id FROM public.tag_link')).toEqual([{ tag_id: 1, item_id: 7 }]);
  });
});
