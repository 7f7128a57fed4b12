/**
 * Shared set-up of the schema-validator tests: a blue and a green database per case on one throwaway server.
 *
 * CREATE DATABASE copies the template through WAL and costs 0.3–1 s on these shared 2-core machines, which for
 * 100+ cases would dominate the suite. So each case gets a pair of databases that is emptied (every non-system
 * schema dropped, `public` recreated as initdb makes it) before it is handed to the next case: each case still
 * starts from two empty databases of its own, without paying for the copy.
 */
import { parseDbUrl, type DbTarget } from '../../src/db/connection.js';
import type { ValidationReport } from '../../src/schema/report.js';
import { validateDatabases, type ValidatorOptions } from '../../src/schema/validate.js';
import type { PgServer } from '../harness/postgres.js';

export interface Pair {
  blueDb: string;
  greenDb: string;
  blue: DbTarget;
  green: DbTarget;
}

const RESET = `
do $$
declare r record;
begin
  for r in select nspname from pg_namespace where nspname not in ('pg_catalog', 'information_schema', 'pg_toast') and nspname !~ '^pg_' loop
    execute format('drop schema %I cascade', r.nspname);
  end loop;
end $$;
create schema public authorization pg_database_owner;
comment on schema public is 'standard public schema';
grant usage on schema public to public;`;

const pools = new WeakMap<PgServer, Pair[]>();
let counter = 0;

async function acquire(server: PgServer): Promise<Pair> {
  const pool = pools.get(server) ?? [];
  pools.set(server, pool);
  const free = pool.pop();
  if (free) return free;
  const id = `${process.pid}_${++counter}`;
  const blueDb = `blue_${id}`;
  const greenDb = `green_${id}`;
  await server.createDatabase(blueDb);
  await server.createDatabase(greenDb);
  return { blueDb, greenDb, blue: parseDbUrl(server.url(blueDb), '--blue-url'), green: parseDbUrl(server.url(greenDb), '--green-url') };
}

async function release(server: PgServer, pair: Pair): Promise<void> {
  await Promise.all([server.sql(RESET, pair.blueDb), server.sql(RESET, pair.greenDb)]);
  pools.get(server)?.push(pair);
}

/** Runs `fn` with two empty databases loaded with `base` plus each side's SQL; the pair is emptied afterwards. */
export async function withPair<T>(server: PgServer, sql: { base?: string; blue?: string; green?: string }, fn: (p: Pair) => Promise<T>): Promise<T> {
  const pair = await acquire(server);
  try {
    const load = async (db: string, text: string | undefined) => {
      const all = [sql.base, text].filter((s): s is string => !!s && s.trim() !== '').join(';\n');
      if (all) await server.sql(all, db);
    };
    await Promise.all([load(pair.blueDb, sql.blue), load(pair.greenDb, sql.green)]);
    return await fn(pair);
  } finally {
    await release(server, pair);
  }
}

export function compare(server: PgServer, sql: { base?: string; blue?: string; green?: string }, opts: ValidatorOptions = {}): Promise<ValidationReport> {
  return withPair(server, sql, (p) => validateDatabases(p.blue, p.green, opts));
}

/** `CODE severity object` lines: what the assertions compare. */
export function summarize(r: ValidationReport): string[] {
  return r.differences.map((d) => `${d.code} ${d.severity} ${d.object}`);
}
