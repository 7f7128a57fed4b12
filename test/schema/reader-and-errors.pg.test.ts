/**
 * The catalog reader (what the replication preflight reuses), schema filters, ignored codes, report shape and
 * ordering, and the error paths (wrong password, unreachable host, statement timeout) against real PostgreSQL 15.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDbUrl } from '../../src/db/connection.js';
import { readCatalog } from '../../src/schema/read-catalog.js';
import { validateDatabases } from '../../src/schema/validate.js';
import { startPostgres, type PgServer } from '../harness/postgres.js';
import { compare, summarize, withPair } from './helpers.js';

let server: PgServer;

beforeAll(async () => {
  server = await startPostgres();
});
afterAll(async () => {
  await server?.stop();
});

describe('readCatalog', () => {
  it('exposes replica identity and primary keys per table (for the replication preflight)', async () => {
    await withPair(
      server,
      {
        blue: `create table with_pk (id int primary key);
               create table no_pk (a int);
               create table full_ri (a int); alter table full_ri replica identity full;
               create table idx_ri (a int not null); create unique index idx_ri_a on idx_ri (a); alter table idx_ri replica identity using index idx_ri_a;
               create table nothing_ri (id int primary key); alter table nothing_ri replica identity nothing;`,
      },
      async (p) => {
        const client = await server.connect(p.blueDb);
        try {
          const cat = await readCatalog(client);
          const ri = Object.fromEntries(cat.tables.map((t) => [t.name, [t.replicaIdentity, t.replicaIdentityIndex, t.hasPrimaryKey]]));
          expect(ri).toEqual({
            with_pk: ['default', null, true],
            no_pk: ['default', null, false],
            full_ri: ['full', null, false],
            idx_ri: ['index', 'idx_ri_a', false],
            nothing_ri: ['nothing', null, true],
          });
        } finally {
          await client.end();
        }
      },
    );
  });

  it('reads column types with typmod, array element and category, and leaves extension objects out', async () => {
    await withPair(
      server,
      { blue: `create extension pgcrypto; create type mood as enum ('a'); create table t (v varchar(40), n numeric(12,2), tags text[], m mood)` },
      async (p) => {
        const client = await server.connect(p.blueDb);
        try {
          const cat = await readCatalog(client);
          const cols = cat.tables[0].columns.map((c) => [c.name, c.type.name, c.type.base, c.type.typmod, c.type.category, c.type.isArray]);
          expect(cols).toEqual([
            ['v', 'character varying(40)', 'character varying', 44, 'S', false],
            ['n', 'numeric(12,2)', 'numeric', 786438, 'N', false],
            ['tags', 'text[]', 'text', -1, 'S', true],
            ['m', 'public.mood', 'public.mood', -1, 'E', false],
          ]);
          // pgcrypto's ~40 functions belong to the extension: compared as one extension, not as routines.
          expect(cat.routines).toEqual([]);
          expect(cat.extensions).toEqual([{ name: 'pgcrypto', schema: 'public', version: expect.any(String) }]);
        } finally {
          await client.end();
        }
      },
    );
  });

  it('runs a fixed number of set-based queries, however many objects there are, in one read-only transaction', async () => {
    const many = Array.from(
      { length: 60 },
      (_, i) =>
        `create table t${i} (id int primary key, a text, b int references t${i}(id)); create index on t${i} (a); create view v${i} as select id from t${i}`,
    ).join(';');
    await withPair(server, { blue: 'create table t0 (id int)', green: many }, async (p) => {
      const counts: number[] = [];
      for (const db of [p.blueDb, p.greenDb]) {
        const client = await server.connect(db);
        const seen: string[] = [];
        const original = client.query.bind(client) as (...args: unknown[]) => unknown;
        (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
          seen.push(String(args[0]).trim().split(/\s+/)[0].toLowerCase());
          return original(...args);
        };
        try {
          await readCatalog(client);
        } finally {
          await client.end();
        }
        expect(seen[0]).toBe('begin');
        expect(seen[seen.length - 1]).toBe('commit');
        counts.push(seen.length);
      }
      // begin, session settings, server, extension members, schemas, one batch of the 16 object queries (rules, roles,
      // schema and routine privileges since issue 11; one round trip since then too), commit — for 1 table and for
      // 180 objects.
      expect(counts).toEqual([7, 7]);
    });
  });

  it('refuses nothing but writes nothing: the transaction is read-only', async () => {
    await withPair(server, { blue: 'create table t (id int)' }, async (p) => {
      const client = await server.connect(p.blueDb);
      const seen: string[] = [];
      const original = client.query.bind(client) as (...args: unknown[]) => unknown;
      (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
        seen.push(String(args[0]).trim().replace(/\s+/g, ' ').toLowerCase());
        return original(...args);
      };
      try {
        await readCatalog(client);
        // The reader's own transaction is the read-only one (not just one this test opens).
        expect(seen[0]).toBe('begin isolation level repeatable read read only');
        // And that mode really refuses writes: the statement the reader opened with, replayed.
        await client.query(seen[0]);
        await expect(client.query('insert into t values (1)')).rejects.toThrow(/read-only transaction/);
        await client.query('rollback');
      } finally {
        await client.end();
      }
    });
  });
});

describe('schema filters, ignored codes and report shape', () => {
  const twoSchemas = {
    base: 'create schema app; create schema reporting; create table app.users (id int, email text); create table reporting.daily (d date, n int)',
    green: 'alter table app.users drop column email; alter table reporting.daily add column extra text',
  };

  it('without filters both schemas are compared', async () => {
    const r = await compare(server, twoSchemas);
    expect(summarize(r).sort()).toEqual(['DS103 breaking app.users.email', 'SA103 safe reporting.daily.extra']);
  });

  it('--schema limits the comparison to the named schemas', async () => {
    const r = await compare(server, twoSchemas, { includeSchemas: ['reporting'] });
    expect(summarize(r)).toEqual(['SA103 safe reporting.daily.extra']);
    expect(r.verdict).toBe('compatible');
    expect(r.options).toEqual({ includeSchemas: ['reporting'], excludeSchemas: [], ignoreCodes: [] });
  });

  it('--exclude-schema leaves a schema out', async () => {
    const r = await compare(server, twoSchemas, { excludeSchemas: ['reporting'] });
    expect(summarize(r)).toEqual(['DS103 breaking app.users.email']);
    expect(r.verdict).toBe('incompatible');
  });

  it('ignored codes leave the report and the verdict, and are counted', async () => {
    const r = await compare(server, twoSchemas, { ignoreCodes: ['DS103'] });
    expect(summarize(r)).toEqual(['SA103 safe reporting.daily.extra']);
    expect(r.verdict).toBe('compatible');
    expect(r.ignored).toBe(1);
    expect(r.totals).toEqual({ breaking: 0, risky: 0, safe: 1 });
  });

  it('a --schema that exists in neither database is an error, not a clean pass', async () => {
    const r = await compare(server, twoSchemas, { includeSchemas: ['App'] });
    expect(r.verdict).toBe('error');
    expect(r.error).toBe('Schema "App" exists in neither database: check the schema names (they are case-sensitive).');
    expect(r.differences).toEqual([]);
  });

  it('orders differences breaking → risky → safe, then by object, and repeats exactly', async () => {
    const sql = {
      base: 'create table b (id int, x text); create table a (id int, y text); create index a_y on a (y)',
      green: 'alter table b drop column x; alter table a drop column y; create table c (id int); alter table a add column z int',
    };
    const r1 = await compare(server, sql);
    const r2 = await compare(server, sql);
    expect(summarize(r1)).toEqual([
      'DS103 breaking public.a.y',
      'DS103 breaking public.b.x',
      'IX101 risky public.a_y',
      'SA103 safe public.a.z',
      'SA102 safe public.c',
    ]);
    expect(r2.differences).toEqual(r1.differences);
    expect(r1.durationMs).toBeGreaterThan(0);
    expect(Date.parse(r1.generatedAt)).not.toBeNaN();
    expect(r1.blue?.target).toMatch(/^postgres@127\.0\.0\.1:\d+\/blue_/);
  });

  it('each difference carries the blue and green descriptions', async () => {
    const r = await compare(server, { blue: 'create table t (c varchar(80))', green: 'create table t (c varchar(40))' });
    expect(r.differences).toEqual([
      {
        code: 'CT101',
        severity: 'breaking',
        object: 'public.t.c',
        detail: 'column public.t.c is character varying(40) on green, character varying(80) on blue: values longer than 40 no longer fit',
        blue: 'character varying(80)',
        green: 'character varying(40)',
      },
    ]);
  });
});

describe('error paths', () => {
  it('wrong password: verdict error naming the credentials, never the password', async () => {
    await withPair(server, {}, async (p) => {
      const wrong = 'Sup3r-Secret-Wrong-Pw';
      const blue = parseDbUrl(server.url(p.blueDb, 'postgres', wrong), '--blue-url');
      const r = await validateDatabases(blue, p.green);
      expect(r.verdict).toBe('error');
      expect(r.error).toBe(
        `Blue database: PostgreSQL rejected the credentials for postgres@127.0.0.1:${server.port}/${p.blueDb}: check the password in the secret or URL.`,
      );
      expect(JSON.stringify(r)).not.toContain(wrong);
      expect(JSON.stringify(r)).not.toContain(server.password);
      // The side that worked is still summarised.
      expect(r.blue).toBeNull();
      expect(r.green?.serverVersion).toMatch(/^15\./);
    });
  });

  it('unreachable host (nothing listening): verdict error, connection refused', async () => {
    const srv = net.createServer();
    const port = await new Promise<number>((resolve) => srv.listen(0, '127.0.0.1', () => resolve((srv.address() as net.AddressInfo).port)));
    await new Promise<void>((resolve) => srv.close(() => resolve()));
    await withPair(server, {}, async (p) => {
      const green = parseDbUrl(`postgres://postgres:pw@127.0.0.1:${port}/app`, '--green-url');
      const r = await validateDatabases(p.blue, green);
      expect(r.verdict).toBe('error');
      expect(r.error).toBe(`Green database: Cannot connect to postgres@127.0.0.1:${port}/app: connection refused — is the server running and the port right?`);
    });
  });

  it('unresponsive host (accepts TCP, never answers): verdict error after the connect timeout', async () => {
    const sockets: net.Socket[] = [];
    const srv = net.createServer((s) => sockets.push(s));
    const port = await new Promise<number>((resolve) => srv.listen(0, '127.0.0.1', () => resolve((srv.address() as net.AddressInfo).port)));
    try {
      await withPair(server, {}, async (p) => {
        const green = parseDbUrl(`postgres://postgres:pw@127.0.0.1:${port}/app`, '--green-url');
        // The host never answers: a verdict at all is the connect timeout at work, and the sentence names it.
        const r = await validateDatabases(p.blue, green, { connectTimeoutMs: 700 });
        expect(r.verdict).toBe('error');
        expect(r.error).toBe(
          `Green database: Timed out trying to connect to postgres@127.0.0.1:${port}/app: check the network path (security groups, tunnel) and retry.`,
        );
      });
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => srv.close(() => resolve()));
    }
  });

  it('statement timeout: a catalog query blocked behind a lock gives verdict error', async () => {
    await withPair(server, { blue: 'create table t (id int)' }, async (p) => {
      // Another session holds pg_policy exclusively, so the reader's policy query waits; the statement timeout
      // (shorter than the lock timeout) cancels it.
      const holder = await server.connect(p.blueDb);
      try {
        await holder.query('begin');
        await holder.query('lock table pg_catalog.pg_policy in access exclusive mode');
        const r = await validateDatabases(p.blue, p.green, { statementTimeoutMs: 400, lockTimeoutMs: 20_000 });
        expect(r.verdict).toBe('error');
        expect(r.error).toBe(
          `Blue database: A statement on postgres@127.0.0.1:${server.port}/${p.blueDb} hit its statement timeout (canceling statement due to statement timeout).`,
        );
      } finally {
        await holder.query('rollback').catch(() => undefined);
        await holder.end();
      }
    });
  });

  it('missing database: verdict error saying so', async () => {
    const r = await validateDatabases(parseDbUrl(server.url('no_such_db'), '--blue-url'), parseDbUrl(server.url('postgres'), '--green-url'));
    expect(r.verdict).toBe('error');
    expect(r.error).toBe(`Blue database: Database "no_such_db" does not exist on 127.0.0.1:${server.port}: check the database name.`);
  });
});
