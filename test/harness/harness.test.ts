import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startMoto, type Moto } from './moto.js';
import { startPostgres, type PgServer } from './postgres.js';

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
