import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { startMoto, type Moto } from './moto.js';
import { canLogin, startPostgres, type PgServer } from './postgres.js';
import { workerSlot } from './shared.js';

describe('test harness', () => {
  let server: PgServer;
  let moto: Moto;
  beforeAll(async () => {
    [server, moto] = await Promise.all([startPostgres({ logical: true }), startMoto()]);
  });
  afterAll(async () => {
    await Promise.all([server?.stop(), moto?.stop()]);
  });

  it('starts PostgreSQL 15 with logical WAL and password auth over TCP', async () => {
    const r = await server.sql("SELECT current_setting('server_version_num')::int AS v, current_setting('wal_level') AS wal");
    expect(r.rows[0].v).toBeGreaterThanOrEqual(150000);
    expect(r.rows[0].wal).toBe('logical');
    const bad = new pg.Client({ connectionString: server.url('postgres', 'postgres', 'wrong') });
    await expect(bad.connect()).rejects.toThrow(/password authentication failed/);
  });

  it('starts moto and resets it', async () => {
    const res = await fetch(`${moto.endpoint}/moto-api/data.json`);
    expect(res.ok).toBe(true);
    await moto.reset();
  });
});

/**
 * Sharing: what a file leaves on its worker's emulator and servers must be gone when the next file gets them.
 * The describes below play two files in a row (release in afterAll, hand-out in the next beforeAll).
 */
describe.runIf(workerSlot() !== undefined)('instances shared by the files of one worker', () => {
  const SETTINGS = { logical: true, settings: { wal_retrieve_retry_interval: '200ms', log_statement: 'all' } };
  const first: { blue?: PgServer; green?: PgServer; moto?: Moto } = {};

  describe('a first file', () => {
    beforeAll(async () => {
      const [blue, green, moto] = await Promise.all([startPostgres(SETTINGS), startPostgres(SETTINGS), startMoto()]);
      Object.assign(first, { blue, green, moto });
    });
    afterAll(async () => {
      await Promise.all([first.blue?.stop(), first.green?.stop(), first.moto?.stop()]);
    });

    it('leaves replication running, databases, roles, settings and emulator state behind', async () => {
      const { blue, green, moto } = first as Required<typeof first>;
      for (const s of [blue, green]) {
        await s.sql(`CREATE ROLE app_rw LOGIN PASSWORD 'x'`);
        await s.sql('CREATE DATABASE app OWNER app_rw');
        await s.sql('CREATE TABLE public.t (id int PRIMARY KEY)', 'app');
        await s.sql('CREATE TABLE public.left_in_postgres (id int)');
        await s.sql(`ALTER SYSTEM SET work_mem = '7MB'`);
        await s.sql(`ALTER ROLE postgres SET statement_timeout = '5s'`);
      }
      await blue.sql('CREATE PUBLICATION p FOR ALL TABLES', 'app');
      await green.sql(`CREATE SUBSCRIPTION s CONNECTION '${blue.url('app')}' PUBLICATION p`, 'app');
      await blue.sql(`SELECT pg_create_logical_replication_slot('stray', 'pgoutput')`);
      await green.sql(`ALTER ROLE postgres PASSWORD 'changed-by-a-rotation-test'`);
      const r = await fetch(`${moto.endpoint}/?Action=CreateQueue&QueueName=left-behind`, { method: 'POST' });
      expect(r.ok).toBe(true);
    });
  });

  describe('the next file', () => {
    let blue: PgServer;
    let green: PgServer;
    let moto: Moto;
    beforeAll(async () => {
      [blue, green, moto] = await Promise.all([startPostgres(SETTINGS), startPostgres(SETTINGS), startMoto()]);
    });
    afterAll(async () => {
      await Promise.all([blue?.stop(), green?.stop(), moto?.stop()]);
    });

    it('gets the same instances, wiped clean', async () => {
      expect(new Set([blue.port, green.port])).toEqual(new Set([first.blue?.port, first.green?.port]));
      // The server log starts empty: nothing of the first file's statements (or the wipe's) is in it.
      await blue.sql("SELECT 'marker-after-hand-out'");
      const logOf = (s: PgServer) => readFileSync(path.join(path.dirname(s.dataDir), 'server.log'), 'utf8');
      for (const s of [blue, green]) expect(logOf(s)).not.toMatch(/left_in_postgres|ALTER ROLE/);
      expect(logOf(blue)).toContain('marker-after-hand-out');
      expect(moto.port).toBe(first.moto?.port);
      for (const s of [blue, green]) {
        expect(await canLogin(s, 'postgres', s.password)).toBe(true);
        const left = await s.sql(`SELECT
          (SELECT count(*) FROM pg_subscription)::int AS subs,
          (SELECT count(*) FROM pg_replication_slots)::int AS slots,
          (SELECT count(*) FROM pg_database WHERE datname NOT IN ('postgres', 'template0', 'template1'))::int AS dbs,
          (SELECT count(*) FROM pg_roles WHERE rolname <> 'postgres' AND rolname !~ '^pg_')::int AS roles,
          (SELECT count(*) FROM pg_class WHERE relname = 'left_in_postgres')::int AS tables,
          (SELECT count(*) FROM pg_publication)::int AS pubs,
          (SELECT count(*) FROM pg_db_role_setting)::int AS role_settings,
          current_setting('work_mem') AS work_mem`);
        expect(left.rows[0]).toEqual({ subs: 0, slots: 0, dbs: 0, roles: 0, tables: 0, pubs: 0, role_settings: 0, work_mem: '4MB' });
      }
      const queues = await (await fetch(`${moto.endpoint}/?Action=ListQueues`, { method: 'POST' })).text();
      expect(queues).not.toContain('left-behind');
    });

    it('really stops an instance a test stops on purpose, and starts a new one next time', async () => {
      const extra = await startMoto(); // the shared one is held by this file: a private one
      expect(extra.port).not.toBe(moto.port);
      await extra.stop();
      await expect(fetch(`${extra.endpoint}/moto-api/data.json`)).rejects.toThrow();
      await green.stop(); // inside a test: the side goes down
      await expect(canLogin(green, 'postgres', green.password)).rejects.toThrow();
      const again = await startPostgres(SETTINGS);
      expect(again.port).not.toBe(green.port);
      expect(await canLogin(again, 'postgres', again.password)).toBe(true);
      await again.stop();
    });
  });
  describe('a file that takes instances down in beforeAll', () => {
    let pgDown: PgServer;
    let motoDown: Moto;
    beforeAll(async () => {
      [pgDown, motoDown] = await Promise.all([startPostgres(SETTINGS), startMoto()]);
      await Promise.all([pgDown.stop(), motoDown.stop()]);
    });

    it('finds them down', async () => {
      await expect(canLogin(pgDown, 'postgres', pgDown.password)).rejects.toThrow();
      await expect(fetch(`${motoDown.endpoint}/moto-api/data.json`)).rejects.toThrow();
    });
  });
});
