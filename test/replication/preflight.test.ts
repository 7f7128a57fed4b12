/**
 * Every refusal of `db sync start` (exit 3, one sentence naming each offender and its fix, nothing left behind),
 * bad input (exit 2), the fence holding against a client that turns default_transaction_read_only off, and the
 * pure judgement helpers.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type PgServer } from '../harness/postgres.js';
import { runBgmig } from '../harness/cli.js';
import { sequenceTarget } from '../../src/replication/sequence-plan.js';
import { APP_USER, DB, appCanWrite, appUrl, bgmig, replicationObjects, startPair, type Pair } from './helpers.js';

let pair: Pair;
/** wal_level=replica and one slot/sender/worker: the server every capacity refusal is about. */
let poor: PgServer;

beforeAll(async () => {
  [pair, poor] = await Promise.all([
    startPair(),
    startPostgres({ settings: { max_replication_slots: 1, max_wal_senders: 1, max_logical_replication_workers: 1 } }),
  ]);
  await poor.createDatabase(DB);
  await poor.sql('CREATE TABLE public.orders (id serial PRIMARY KEY, writer int NOT NULL, n int NOT NULL, note text)', DB);
});
afterAll(async () => {
  await Promise.all([pair?.stop(), poor?.stop()]);
});

async function nothingLeft(): Promise<void> {
  expect(await replicationObjects(pair.blue)).toEqual([]);
  expect(await replicationObjects(pair.green)).toEqual([]);
  for (const s of [pair.blue, pair.green]) {
    const r = await s.sql(`SELECT to_regnamespace('bgmig') IS NULL AS none`, DB);
    expect(r.rows[0].none).toBe(true);
  }
  expect(await appCanWrite(pair.green)).toBe(true);
}

function oneSentence(stderr: string): string {
  const lines = stderr
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('error:'));
  expect(lines).toHaveLength(1);
  return lines[0];
}

describe('sync start refusals', () => {
  it('refuses wal_level and capacity problems on the publisher, naming each with its fix', async () => {
    const r = await runBgmig(['db', 'sync', 'start', '--yes', '--blue-url', poor.url(DB), '--green-url', pair.greenUrl]);
    expect(r.code).toBe(3);
    const msg = oneSentence(r.stderr);
    expect(msg).toContain('blue has wal_level=replica — set wal_level=logical on blue');
    expect(msg).toContain('blue has 1 free replication slots (needs 2) — raise max_replication_slots on blue');
    expect(msg).toContain('blue has 1 free WAL senders (needs 2)');
    expect(await replicationObjects(pair.green)).toEqual([]);
  });

  it('refuses a subscriber without free logical replication workers', async () => {
    const r = await runBgmig(['db', 'sync', 'start', '--yes', '--blue-url', pair.blueUrl, '--green-url', poor.url(DB)]);
    expect(r.code).toBe(3);
    const msg = oneSentence(r.stderr);
    expect(msg).toContain('green has wal_level=replica');
    expect(msg).toContain('green has 1 free logical replication workers (needs 2: apply and table sync)');
    expect(msg).toContain('table public.events is missing on green — create it on green');
    expect(await replicationObjects(pair.blue)).toEqual([]);
  });

  it('refuses schema problems: no replica identity, missing column, narrowed type, rows on green, unknown schema', async () => {
    await pair.blue.sql(
      `CREATE TABLE public.nopk (a int, b text); ALTER TABLE public.orders ADD COLUMN blue_only int; ALTER TABLE public.tickets ADD COLUMN label varchar(50)`,
      DB,
    );
    await pair.green.sql(
      `CREATE TABLE public.nopk (a int, b text); ALTER TABLE public.tickets ADD COLUMN label varchar(10); INSERT INTO public.seed VALUES (1, 'stale')`,
      DB,
    );
    try {
      const r = await bgmig(pair, ['db', 'sync', 'start', '--yes', '--schema', 'public', '--schema', 'nosuch']);
      expect(r.code).toBe(3);
      const msg = oneSentence(r.stderr);
      expect(msg).toContain(
        'table public.nopk on blue has no replica identity, so its UPDATE and DELETE would fail once it is published — add a primary key or run ALTER TABLE public.nopk REPLICA IDENTITY FULL on blue',
      );
      expect(msg).toContain('table public.nopk on green has no replica identity');
      expect(msg).toContain('column public.orders.blue_only is missing on green — add it on green');
      expect(msg).toContain('column public.tickets.label is character varying(50) on blue but character varying(10) on green, which cannot hold every value');
      expect(msg).toContain('table public.seed on green already holds rows — empty it on green (TRUNCATE)');
      expect(msg).toContain('schema nosuch does not exist on blue');
      await nothingLeft();
    } finally {
      await pair.blue.sql(`DROP TABLE public.nopk; ALTER TABLE public.orders DROP COLUMN blue_only; ALTER TABLE public.tickets DROP COLUMN label`, DB);
      await pair.green.sql(`DROP TABLE public.nopk; ALTER TABLE public.tickets DROP COLUMN label; DELETE FROM public.seed`, DB);
    }
  });

  it('rejects bad input with exit 2 and changes nothing', async () => {
    const one = await runBgmig(['db', 'sync', 'start', '--yes', '--blue-url', pair.blueUrl]);
    expect(one.code).toBe(2);
    expect(one.stderr).toContain('--blue-url needs --green-url as well: direct mode takes both admin URLs');
    const same = await runBgmig(['db', 'cutover', '--yes', '--blue-url', pair.blueUrl, '--green-url', pair.blueUrl]);
    expect(same.code).toBe(2);
    const pause = await bgmig(pair, ['db', 'cutover', '--yes', '--max-pause', '10x']);
    expect(pause.code).toBe(2);
    expect(pause.stderr).toContain('--max-pause must be a duration like 250ms, 10s or 2m');
    const lag = await bgmig(pair, ['db', 'sync', 'status', '--max-lag', 'lots']);
    expect(lag.code).toBe(2);
    const none = await runBgmig(['db', 'sync', 'status']);
    expect(none.code).toBe(2);
    const hook = await runBgmig(['db', 'cutover', '--yes', '--suffix', 'demo', '--on-switch', 'true']);
    expect(hook.code).toBe(2);
    expect(hook.stderr).toContain('--on-switch is for direct mode');
    for (const r of [one, same, pause, lag, none]) for (const s of pair.secrets) expect(r.stderr + r.stdout).not.toContain(s);
    await nothingLeft();
  });

  it('refuses a cutover without a sync, and a second sync start', async () => {
    const c = await bgmig(pair, ['db', 'cutover', '--yes', '--skip-validation']);
    expect(c.code).toBe(3);
    expect(oneSentence(c.stderr)).toContain('No replication runs between blue and green: start it with `bgmig db sync start`');

    // An application session opened before the fence, which will try to switch read-only off.
    // The application role also holds CONNECT explicitly (not only through PUBLIC): the fence must revoke both.
    await pair.green.sql(`GRANT CONNECT ON DATABASE ${DB} TO ${APP_USER}`);
    const early = new pg.Client({ connectionString: appUrl(pair.green) });
    early.on('error', () => undefined);
    await early.connect();
    const ok = await bgmig(pair, ['db', 'sync', 'start', '--yes']);
    expect(ok.code, ok.stderr).toBe(0);
    const again = await bgmig(pair, ['db', 'sync', 'start', '--yes']);
    expect(again.code).toBe(3);
    const msg = oneSentence(again.stderr);
    expect(msg).toContain('a sync is already set up (publication bgmig_pub_blue on blue)');
    expect(msg).toContain('check it with `bgmig db sync status` or end it with `bgmig db sync stop`');

    // The fence holds: the early session was ended, a new one cannot connect, so SET … = off never gets to run.
    await expect(early.query('SET default_transaction_read_only = off')).rejects.toThrow();
    await early.end().catch(() => undefined);
    const late = new pg.Client({ connectionString: appUrl(pair.green) });
    late.on('error', () => undefined);
    await expect(late.connect()).rejects.toMatchObject({ code: '42501' });
    // Even a role granted CONNECT explicitly before the fence is covered (its grant is revoked and given back).
    const r = await pair.green.sql(`SELECT has_database_privilege('${APP_USER}', '${DB}', 'CONNECT') AS c`);
    expect(r.rows[0].c).toBe(false);
    // Superusers (the operators) still reach it, and replication keeps applying.
    await pair.blue.sql(`INSERT INTO public.orders (writer, n) VALUES (7, 7)`, DB);
    for (let i = 0; ; i++) {
      const g = await pair.green.sql(`SELECT count(*)::int AS n FROM public.orders WHERE writer = 7`, DB);
      if (g.rows[0].n === 1) break;
      if (i > 200) throw new Error('the row never reached green');
      await new Promise((res) => setTimeout(res, 25));
    }

    const stop = await bgmig(pair, ['db', 'sync', 'stop', '--yes', '--unfence-passive']);
    expect(stop.code, stop.stderr).toBe(0);
    expect(stop.stdout).toContain('blue is the active database and writable.');
    expect(await replicationObjects(pair.blue)).toEqual([]);
    expect(await replicationObjects(pair.green)).toEqual([]);
    // The fence was lifted exactly: the explicit grant and PUBLIC's are back, the role may write on green again.
    expect(await appCanWrite(pair.green)).toBe(true);
    const acl = await pair.green.sql(`SELECT datacl::text AS acl FROM pg_database WHERE datname = '${DB}'`);
    expect(acl.rows[0].acl).toMatch(new RegExp(`(^|[{,])${APP_USER}=c/`));
    expect(acl.rows[0].acl).toMatch(/(^|[{,])=[A-Za-z]*c[A-Za-z]*\//);
  });
});

describe('an interrupted sync start', () => {
  it('is reported, refused as a base for a new start, and cleaned up by sync stop', async () => {
    // Green holds the rows of the previous sync: a new initial copy needs it empty.
    await pair.green.sql('TRUNCATE public.orders, public.events, public.tickets, public.seed', DB);
    const killed = await bgmig(pair, ['db', 'sync', 'start', '--yes'], { BGMIG_FAILPOINT: 'after:sync_start:fenced' });
    expect(killed.code).toBe(128);
    const st = await bgmig(pair, ['db', 'sync', 'status', '--json']);
    expect(st.code).toBe(3);
    expect(JSON.parse(st.stdout)).toMatchObject({ state: 'interrupted', pending: { operation: 'sync_start', step: 'fenced' } });
    const again = await bgmig(pair, ['db', 'sync', 'start', '--yes']);
    expect(again.code).toBe(3);
    expect(oneSentence(again.stderr)).toContain('run `bgmig db sync stop` to clean up');
    const stop = await bgmig(pair, ['db', 'sync', 'stop', '--yes', '--unfence-passive']);
    expect(stop.code, stop.stderr).toBe(0);
    expect(await replicationObjects(pair.blue)).toEqual([]);
    expect(await replicationObjects(pair.green)).toEqual([]);
    expect(await appCanWrite(pair.green)).toBe(true);
    const ok = await bgmig(pair, ['db', 'sync', 'start', '--yes', '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ direction: 'blue_to_green', copy: { finished: true } });
  });
});

describe('sequence targets (pure)', () => {
  it('moves ahead with headroom, never backwards, within bounds', () => {
    const b = { min: 1n, max: 9_223_372_036_854_775_807n };
    expect(sequenceTarget({ last: 100n, inc: 1n }, 1n, b)).toBe(1100n);
    expect(sequenceTarget({ last: 100n, inc: 1n }, 5000n, b)).toBeNull();
    expect(sequenceTarget({ last: -100n, inc: -1n }, -1n, { min: -9_000_000n, max: -1n })).toBe(-1100n);
    // Near the bound: continue where the old side stopped, never at the bound itself (the next nextval would fail).
    expect(sequenceTarget({ last: 2_147_483_000n, inc: 1n }, null, { min: 1n, max: 2_147_483_647n })).toBe(2_147_483_000n);
  });
});
