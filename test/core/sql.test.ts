/**
 * bgmig builds DDL (publication column lists, role and database names) with its own quoting: it must agree with
 * PostgreSQL's quote_ident for every key word the server knows, or a column named e.g. `left` breaks replication.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { qualify, quoteIdent, quoteLiteral } from '../../src/db/sql.js';
import { type PgServer, startPostgres } from '../harness/postgres.js';

describe('SQL quoting matches the server', () => {
  let server: PgServer;
  beforeAll(async () => {
    server = await startPostgres();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('quoteIdent equals quote_ident for every key word and for awkward names', async () => {
    const keywords = (await server.sql('SELECT word FROM pg_get_keywords()')).rows.map((r: { word: string }) => r.word);
    const names = [...keywords, 'orders', 'Orders', 'order items', 'a"b', '_x', 'x$1', '1abc', 'ümlaut', ''];
    const c = await server.connect();
    try {
      const res = await c.query<{ q: string[] }>('SELECT array_agg(quote_ident(n) ORDER BY i) AS q FROM unnest($1::text[]) WITH ORDINALITY AS t(n, i)', [
        names,
      ]);
      const mismatches = names.map((n, i) => ({ n, ours: quoteIdent(n), server: res.rows[0].q[i] })).filter((m) => m.ours !== m.server);
      expect(mismatches).toEqual([]);
    } finally {
      await c.end();
    }
  });

  it('a publication column list with key-word column names is valid SQL', async () => {
    await server.sql('CREATE TABLE public.k ("left" int PRIMARY KEY, "user" text, "time" text, plain text)');
    const cols = ['left', 'user', 'time', 'plain'].map(quoteIdent).join(', ');
    await server.sql(`CREATE PUBLICATION p FOR TABLE ${qualify('public', 'k')} (${cols})`);
    const r = await server.sql("SELECT attnames::text[] AS attnames FROM pg_publication_tables WHERE pubname = 'p'");
    expect(r.rows[0].attnames).toEqual(['left', 'user', 'time', 'plain']);
  });

  it('quoteLiteral round-trips quotes and backslashes', async () => {
    const v = "it's a \\ test";
    const r = await server.sql(`SELECT ${quoteLiteral(v)} AS v`);
    expect(r.rows[0].v).toBe(v);
  });
});
