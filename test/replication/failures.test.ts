/**
 * Issue 10 kind 7 and issue 16 kind 1, on real servers: a failure names its cause and its fix. A transaction left
 * open on blue holds up slot creation: `sync start` names the session (pid, application, role, how long open) and
 * what to do, within --slot-wait, leaving nothing behind. A table copy that keeps failing ends `sync start` within a
 * bound, naming the table, the error class and the likely cause. The initial copy reports a total, a percentage and
 * an estimate off a terminal. SQLSTATEs become sentences (pure).
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { explainSqlState } from '../../src/replication/explain.js';
import { parseDbUrl } from '../../src/db/connection.js';
import { syncStart } from '../../src/replication/sync.js';
import { copyEstimate, causeClass } from '../../src/replication/copy.js';
import { blockerFix, describeBlockers } from '../../src/replication/blockers.js';
import { removalOf } from '../../src/replication/stop-one-side.js';
import { DB, appCanWrite, appUrl, bgmig, replicationObjects, rowsOf, startPair, type Pair } from './helpers.js';

describe('pure helpers', () => {
  it('every SQLSTATE class gets a sentence naming the side; specific codes a specific one', () => {
    expect(explainSqlState('57014', 'blue')).toContain('"idle in transaction" sessions in pg_stat_activity on blue');
    expect(explainSqlState('25006', 'green')).toContain("either bgmig's fence is on");
    expect(explainSqlState('42501', 'blue')).toContain('rds_superuser and rds_replication');
    expect(explainSqlState('53400', 'blue')).toContain('max_replication_slots');
    expect(explainSqlState('55006', 'blue')).toContain('in use by another process');
    expect(explainSqlState('08006', 'green')).toContain('the connection to green broke');
    expect(explainSqlState('08001', 'green')).toContain("green's server could not connect to the other side: a subscription connects from green itself");
    expect(explainSqlState('23505', 'green')).toContain('duplicate key');
    expect(explainSqlState('22P02', 'green')).toContain("does not fit green's column type");
    expect(explainSqlState('ZZ999', 'blue')).toBe("see blue's server log for SQLSTATE ZZ999");
    expect(explainSqlState('ECONNREFUSED', 'blue')).toBeNull();
    expect(explainSqlState(undefined, 'blue')).toBeNull();
  });

  it('copy estimate: percentage and time left from rows done, total and time spent', () => {
    expect(copyEstimate(0, null, 5000)).toEqual({ percent: null, etaSeconds: null });
    expect(copyEstimate(0, 1000, 100)).toEqual({ percent: 0, etaSeconds: null });
    expect(copyEstimate(250, 1000, 10_000)).toEqual({ percent: 25, etaSeconds: 30 });
    expect(copyEstimate(1500, 1000, 10_000)).toEqual({ percent: 100, etaSeconds: 0 });
  });

  it('blockers and removals are spelled out with what to run', () => {
    const b = [
      {
        pid: 42,
        application: 'billing-worker',
        role: 'app_rw',
        client: '10.0.0.5',
        openSeconds: 41,
        state: 'idle in transaction',
        backendType: 'client backend',
      },
    ];
    expect(describeBlockers(b)).toBe('pid 42 (application "billing-worker", role app_rw from 10.0.0.5, transaction open for 41 s, idle in transaction)');
    expect(blockerFix('blue', b)).toBe('let it finish or end it (SELECT pg_terminate_backend(42) on blue)');
    expect(removalOf('subscription', 'bgmig_sub_blue_to_green')).toBe(
      'ALTER SUBSCRIPTION bgmig_sub_blue_to_green DISABLE; ALTER SUBSCRIPTION bgmig_sub_blue_to_green SET (slot_name = NONE); DROP SUBSCRIPTION bgmig_sub_blue_to_green;',
    );
    expect(causeClass(['green has unique index x on public.t (a) that blue lacks'])).toContain('SQLSTATE class 23');
    expect(causeClass(['green lacks column public.t.c that blue sends — add it on green'])).toContain('42703');
  });
});

describe('sync start with a transaction left open on blue, then with a copy that keeps failing', () => {
  let pair: Pair;
  beforeAll(async () => {
    pair = await startPair({ seedRows: 5_000 });
  });
  afterAll(async () => {
    await pair?.stop();
  });

  it('the issue example: names the blocking session and what to do within --slot-wait, leaving nothing behind', async () => {
    const app = new pg.Client({ connectionString: appUrl(pair.blue), application_name: 'billing-worker' });
    await app.connect();
    let pid = 0;
    try {
      pid = (await app.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
      await app.query('BEGIN');
      await app.query(`INSERT INTO public.orders (writer, n, note) VALUES (5, 5, 'never committed')`);
      const t = Date.now();
      const r = await bgmig(pair, ['db', 'sync', 'start', '--yes', '--slot-wait', '4s']);
      const took = Date.now() - t;
      expect(r.code, r.stderr).toBe(3);
      expect(took).toBeLessThan(25_000);
      const msg = r.stderr.split('\n').find((l) => l.startsWith('error:')) ?? '';
      expect(msg).toMatch(
        new RegExp(
          `Creating replication slot bgmig_sub_blue_to_green on blue waited 4 s for transactions open there to end: pid ${pid} \\(application "billing-worker", role app_rw from 127\\.0\\.0\\.1, transaction open for \\d+ s, idle in transaction\\)`,
        ),
      );
      expect(msg).toContain(`SELECT pg_terminate_backend(${pid}) on blue`);
      expect(msg).toContain('then run `bgmig db sync start` again; nothing was changed.');
      expect(msg).not.toContain('statement timeout');
      // Announced while it waited, not only at the end.
      expect(r.stderr).toMatch(/warning: creating replication slot bgmig_sub_blue_to_green on blue waits for transactions open there: pid \d+/);
      expect(await replicationObjects(pair.blue)).toEqual([]);
      expect(await replicationObjects(pair.green)).toEqual([]);
      expect(await appCanWrite(pair.green)).toBe(true);
    } finally {
      await app.query('ROLLBACK').catch(() => undefined);
      await app.end();
    }
  });

  it('once the transaction is gone, sync start reports the copy with a total, a percentage and an estimate off a terminal', async () => {
    const r = await bgmig(pair, ['db', 'sync', 'start', '--yes']);
    expect(r.code, r.stderr).toBe(0);
    const out = `${r.stdout}\n${r.stderr}`;
    expect(out).toMatch(/initial copy: 0\/4 tables ready, [\d,]+ of ≈[\d,]+ rows/);
    expect(out).toMatch(/initial copy: 4\/4 tables ready, [\d,]+ of ≈[\d,]+ rows \(100 %\)/);
    const stop = await bgmig(pair, ['db', 'sync', 'stop', '--yes', '--unfence-passive']);
    expect(stop.code, stop.stderr).toBe(0);
    await pair.green.sql('BEGIN READ WRITE; TRUNCATE public.seed, public.orders, public.events, public.tickets; COMMIT', DB);
  });

  it('a transaction opened on blue after the slot but before the table copies: the copy waits for it and says so, naming it', async () => {
    const targets = { blue: parseDbUrl(pair.blueUrl, 'blue'), green: parseDbUrl(pair.greenUrl, 'green') };
    const app = new pg.Client({ connectionString: appUrl(pair.blue), application_name: 'report-job' });
    await app.connect();
    const pid = (await app.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    const logs: string[] = [];
    let opened: Promise<unknown> | null = null;
    const run = syncStart(
      targets,
      {},
      {
        progress: (e) => {
          if (e.kind === 'log') logs.push(e.text);
          // The subscription's own slot exists now; its table-copy workers create theirs next and wait for this one.
          if (e.kind === 'step' && e.step === 'create slot on blue' && e.status === 'done' && !opened) {
            opened = app.query('BEGIN').then(() => app.query('SELECT txid_current()'));
          }
        },
      },
    );
    try {
      const until = Date.now() + 30_000;
      while (!logs.some((l) => l.includes('the copy waits for transactions open on blue')) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
      const line = logs.find((l) => l.includes('the copy waits for transactions open on blue')) ?? '';
      expect(line).toMatch(
        new RegExp(
          `pid ${pid} \\(application "report-job", role app_rw .*idle in transaction\\) — let it finish or end it \\(SELECT pg_terminate_backend\\(${pid}\\) on blue\\)`,
        ),
      );
    } finally {
      await opened;
      await app.query('COMMIT');
      await app.end();
    }
    const rep = await run;
    expect(rep.copy.finished).toBe(true);
    const stop = await bgmig(pair, ['db', 'sync', 'stop', '--yes', '--unfence-passive']);
    expect(stop.code, stop.stderr).toBe(0);
    await pair.green.sql('BEGIN READ WRITE; TRUNCATE public.seed, public.orders, public.events, public.tickets; COMMIT', DB);
  });

  it('a table copy that keeps failing (an ALWAYS trigger on green rejects some of blue rows) ends sync start within a bound, naming table, error class and cause', async () => {
    await pair.blue.sql(`UPDATE public.seed SET payload = 'forbidden' WHERE id <= 3`, DB);
    await pair.green.sql(
      `BEGIN READ WRITE;
      CREATE FUNCTION public.seed_guard() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF NEW.payload = 'forbidden' THEN RAISE EXCEPTION 'payload % not allowed', NEW.payload; END IF; RETURN NEW; END $$;
      CREATE TRIGGER seed_guard BEFORE INSERT ON public.seed FOR EACH ROW EXECUTE FUNCTION public.seed_guard();
      ALTER TABLE public.seed ENABLE ALWAYS TRIGGER seed_guard;
      COMMIT`,
      DB,
    );
    const t = Date.now();
    const r = await bgmig(pair, ['db', 'sync', 'start', '--yes']);
    expect(Date.now() - t).toBeLessThan(60_000);
    expect(r.code, r.stderr).toBe(1);
    const msg = r.stderr.split('\n').find((l) => l.startsWith('error:')) ?? '';
    expect(msg).toMatch(/The copy of public\.seed into green failed \d+ times \(raise_exception, SQLSTATE P0001/);
    expect(msg).toContain(
      'green has trigger seed_guard on public.seed enabled ALWAYS: it runs for replicated rows and may reject them (its function raises an exception)',
    );
    expect(msg).toContain('`bgmig db sync stop`');
    // The other tables were copied; the failing one is still empty on green.
    expect((await rowsOf(pair.green, 'SELECT count(*)::int AS n FROM public.seed'))[0].n).toBe(0);
    const st = await bgmig(pair, ['db', 'sync', 'status']);
    expect(st.code).toBe(3);
    expect(st.stdout).toContain('the initial copy of public.seed on green keeps failing');
    const stop = await bgmig(pair, ['db', 'sync', 'stop', '--yes']);
    expect(stop.code, stop.stderr).toBe(0);
  });
});
