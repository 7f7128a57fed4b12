/**
 * The validator against real PostgreSQL 15: one server for the file, a fresh blue and green database per case,
 * asserting the exact codes, severities and objects of the report.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type PgServer } from '../harness/postgres.js';
import { compare, summarize } from './helpers.js';

let server: PgServer;

beforeAll(async () => {
  server = await startPostgres();
  // Roles are cluster-wide: one set for every case.
  await server.sql(`create role app_rw; create role app_ro; create role app_owner`);
});
afterAll(async () => {
  await server?.stop();
});

/** Everything the reader knows about, so that "identical" really covers every object family. */
const RICH = `
create extension pgcrypto;
create schema "Sales";
create schema audit;
create type mood as enum ('happy', 'ok', 'sad');
create domain posint as integer check (value > 0);
create type money_pair as (amount numeric(12,2), currency char(3));
create sequence invoice_no start 1000 increment 10;
create table customers (
  id bigint generated always as identity primary key,
  email varchar(200) not null unique,
  name text collate "C",
  mood mood default 'ok',
  score posint,
  created_at timestamptz not null default now(),
  during tstzrange,
  exclude using gist (during with &&)
);
comment on table customers is 'people who buy';
comment on column customers.email is 'login';
create table "Sales"."Order Lines" (
  "LineId" bigserial primary key,
  customer_id bigint not null references customers(id) on delete cascade,
  "Qty" integer not null check ("Qty" > 0),
  price numeric(12,2) not null default 0,
  total numeric generated always as ("Qty" * price) stored,
  invoice integer default nextval('invoice_no'),
  tags text[]
);
create index order_lines_customer on "Sales"."Order Lines" (customer_id);
create unique index order_lines_invoice on "Sales"."Order Lines" (invoice) where invoice is not null;
create index order_lines_qty_x2 on "Sales"."Order Lines" (("Qty" * 2));
create table events (id bigint not null, at date not null, payload jsonb, primary key (id, at)) partition by range (at);
create table events_2025 partition of events for values from ('2025-01-01') to ('2026-01-01');
create table events_2026 partition of events for values from ('2026-01-01') to ('2027-01-01');
create index events_payload on events using gin (payload);
create view active_customers as select id, email from customers where mood <> 'sad';
create materialized view order_totals as select customer_id, sum(total) as total from "Sales"."Order Lines" group by customer_id;
create unique index order_totals_customer on order_totals (customer_id);
create function line_total(qty integer, price numeric) returns numeric language sql immutable as 'select qty * price';
create procedure touch_customer(cid bigint) language sql as 'update customers set name = name where id = cid';
create function audit_row() returns trigger language plpgsql as 'begin return new; end';
create trigger customers_audit before update on customers for each row execute function audit_row();
alter table customers enable row level security;
create policy own_rows on customers for select to app_ro using (true);
grant select, insert, update on customers to app_rw;
grant select on active_customers to app_ro;
grant usage on sequence invoice_no to app_rw;
create table audit.log (id bigserial primary key, message text);
alter table audit.log replica identity full;
`;

describe('identical schemas', () => {
  it('a rich schema compared with itself gives zero differences and verdict compatible', async () => {
    const r = await compare(server, { base: RICH });
    expect(r.differences).toEqual([]);
    expect(r.verdict).toBe('compatible');
    expect(r.error).toBeUndefined();
    // The summaries count what was read, so "zero differences" is not "read nothing".
    expect(r.blue?.counts).toMatchObject({
      schemas: 3,
      tables: 4,
      partitions: 2,
      views: 1,
      materializedViews: 1,
      enums: 1,
      domains: 1,
      compositeTypes: 1,
      extensions: 1,
      policies: 1,
    });
    expect(r.blue?.counts.routines).toBe(3);
    expect(r.blue?.serverVersion).toMatch(/^15\./);
    expect(r.green?.counts).toEqual(r.blue?.counts);
    expect(r.totals).toEqual({ breaking: 0, risky: 0, safe: 0 });
  });

  it('two empty databases give zero differences', async () => {
    const r = await compare(server, {});
    expect(r.differences).toEqual([]);
    expect(r.verdict).toBe('compatible');
  });
});

interface Case {
  name: string;
  base?: string;
  blue?: string;
  green?: string;
  /** `CODE severity object` lines, any order. */
  expect: string[];
}

function run(cases: Case[]): void {
  for (const c of cases) {
    it(c.name, async () => {
      const r = await compare(server, c);
      expect(r.error).toBeUndefined();
      expect(summarize(r).sort()).toEqual([...c.expect].sort());
      const breaking = c.expect.some((e) => e.split(' ')[1] === 'breaking');
      expect(r.verdict).toBe(breaking ? 'incompatible' : 'compatible');
    });
  }
}

describe('tables', () => {
  run([
    { name: 'table dropped → DS102 breaking', blue: 'create table t (id int)', expect: ['DS102 breaking public.t'] },
    { name: 'table added → SA102 safe', green: 'create table t (id int)', expect: ['SA102 safe public.t'] },
    {
      name: 'table renamed (identical columns) → BC101 breaking',
      blue: 'create table orders (id int, note text)',
      green: 'create table purchase_orders (id int, note text)',
      expect: ['BC101 breaking public.orders'],
    },
    {
      name: 'two identical tables dropped, one added: ambiguous, reported as drops and an add',
      blue: 'create table a (id int); create table b (id int)',
      green: 'create table c (id int)',
      expect: ['DS102 breaking public.a', 'DS102 breaking public.b', 'SA102 safe public.c'],
    },
    // Issue 11: with no partition, every insert blue makes fails ("no partition of relation found for row").
    {
      name: 'plain table became partitioned without partitions → TB101 risky, TB104 breaking',
      blue: 'create table t (id int, at date)',
      green: 'create table t (id int, at date) partition by range (at)',
      expect: ['TB101 risky public.t', 'TB104 breaking public.t'],
    },
    {
      name: 'replica identity changed → TB103 risky',
      base: 'create table t (id int primary key)',
      green: 'alter table t replica identity full',
      expect: ['TB103 risky public.t'],
    },
    {
      name: 'table comment changed → CM101 safe',
      base: 'create table t (id int)',
      blue: "comment on table t is 'old'",
      green: "comment on table t is 'new'",
      expect: ['CM101 safe public.t'],
    },
  ]);
});

describe('columns', () => {
  const base = 'create table t (id int primary key, a text)';
  run([
    { name: 'column dropped → DS103 breaking', base, green: 'alter table t drop column a', expect: ['DS103 breaking public.t.a'] },
    { name: 'nullable column added → SA103 safe', base, green: 'alter table t add column b int', expect: ['SA103 safe public.t.b'] },
    {
      name: 'NOT NULL column with a default added → SA103 safe',
      base,
      green: 'alter table t add column b int not null default 0',
      expect: ['SA103 safe public.t.b'],
    },
    {
      name: 'NOT NULL column without a default added → MF103 breaking',
      base,
      green: 'alter table t add column b int not null',
      expect: ['MF103 breaking public.t.b'],
    },
    { name: 'column renamed → BC102 breaking', base, green: 'alter table t rename column a to body', expect: ['BC102 breaking public.t.a'] },
    {
      name: 'dropped and added columns of different types are not a rename',
      base,
      green: 'alter table t drop column a; alter table t add column b int',
      expect: ['DS103 breaking public.t.a', 'SA103 safe public.t.b'],
    },
    { name: 'column made NOT NULL → MF104 breaking', base, green: 'alter table t alter column a set not null', expect: ['MF104 breaking public.t.a'] },
    {
      name: 'NOT NULL dropped → NN101 risky',
      base: 'create table t (id int primary key, a text not null)',
      green: 'alter table t alter column a drop not null',
      expect: ['NN101 risky public.t.a'],
    },
    {
      name: 'default changed → DF101 risky',
      base: "create table t (a text default 'x')",
      green: "alter table t alter column a set default 'y'",
      expect: ['DF101 risky public.t.a'],
    },
    {
      name: 'default removed from a nullable column → DF102 risky',
      base: "create table t (a text default 'x')",
      green: 'alter table t alter column a drop default',
      expect: ['DF102 risky public.t.a'],
    },
    {
      name: 'default removed from a NOT NULL column → DF103 breaking',
      base: "create table t (a text not null default 'x')",
      green: 'alter table t alter column a drop default',
      expect: ['DF103 breaking public.t.a'],
    },
    {
      name: 'default added → DF104 safe',
      base: 'create table t (a text)',
      green: "alter table t alter column a set default 'x'",
      expect: ['DF104 safe public.t.a'],
    },
    {
      name: 'identity removed, no default → ID101 breaking',
      base: 'create table t (id int generated by default as identity, a text)',
      green: 'alter table t alter column id drop identity',
      expect: ['ID101 breaking public.t.id'],
    },
    {
      name: 'identity BY DEFAULT → ALWAYS → ID102 breaking',
      base: 'create table t (id int generated by default as identity)',
      green: 'alter table t alter column id set generated always',
      expect: ['ID102 breaking public.t.id'],
    },
    {
      name: 'identity ALWAYS → BY DEFAULT → ID103 risky',
      base: 'create table t (id int generated always as identity)',
      green: 'alter table t alter column id set generated by default',
      expect: ['ID103 risky public.t.id'],
    },
    {
      name: 'column became generated → GC101 breaking',
      blue: 'create table t (a int, b int)',
      green: 'create table t (a int, b int generated always as (a * 2) stored)',
      expect: ['GC101 breaking public.t.b'],
    },
    {
      name: 'generation expression changed → GC102 risky',
      blue: 'create table t (a int, b int generated always as (a * 2) stored)',
      green: 'create table t (a int, b int generated always as (a * 3) stored)',
      expect: ['GC102 risky public.t.b'],
    },
    {
      name: 'collation changed → CL101 risky',
      base: 'create table t (a text)',
      green: 'alter table t alter column a type text collate "C"',
      expect: ['CL101 risky public.t.a'],
    },
    {
      name: 'column order changed → CO101 risky',
      blue: 'create table t (a int, b text)',
      green: 'create table t (b text, a int)',
      expect: ['CO101 risky public.t'],
    },
    { name: 'column comment changed → CM101 safe', base, green: "comment on column t.a is 'body text'", expect: ['CM101 safe public.t.a'] },
  ]);
});

describe('column types', () => {
  const typed = (blue: string, green: string) => ({ blue: `create table t (c ${blue})`, green: `create table t (c ${green})` });
  run([
    { name: 'varchar(40) → varchar(80) → CT103 safe', ...typed('varchar(40)', 'varchar(80)'), expect: ['CT103 safe public.t.c'] },
    { name: 'varchar(80) → varchar(40) → CT101 breaking', ...typed('varchar(80)', 'varchar(40)'), expect: ['CT101 breaking public.t.c'] },
    { name: 'varchar(40) → text → CT103 safe', ...typed('varchar(40)', 'text'), expect: ['CT103 safe public.t.c'] },
    { name: 'text → varchar(10) → CT101 breaking', ...typed('text', 'varchar(10)'), expect: ['CT101 breaking public.t.c'] },
    { name: 'integer → bigint → CT103 safe', ...typed('integer', 'bigint'), expect: ['CT103 safe public.t.c'] },
    { name: 'bigint → integer → CT101 breaking', ...typed('bigint', 'integer'), expect: ['CT101 breaking public.t.c'] },
    { name: 'integer → text (another family) → CT101 breaking', ...typed('integer', 'text'), expect: ['CT101 breaking public.t.c'] },
    {
      name: 'numeric(10,2) → numeric(12,4) → CT102 risky (more decimals shown)',
      ...typed('numeric(10,2)', 'numeric(12,4)'),
      expect: ['CT102 risky public.t.c'],
    },
    { name: 'numeric(10,2) → numeric(14,2) → CT103 safe', ...typed('numeric(10,2)', 'numeric(14,2)'), expect: ['CT103 safe public.t.c'] },
    { name: 'timestamp → timestamptz → CT102 risky', ...typed('timestamp', 'timestamptz'), expect: ['CT102 risky public.t.c'] },
    { name: 'real → double precision → CT102 risky', ...typed('real', 'double precision'), expect: ['CT102 risky public.t.c'] },
    { name: 'varchar(10)[] → varchar(20)[] → CT103 safe', ...typed('varchar(10)[]', 'varchar(20)[]'), expect: ['CT103 safe public.t.c'] },
    { name: 'json → jsonb → CT102 risky', ...typed('json', 'jsonb'), expect: ['CT102 risky public.t.c'] },
  ]);
});

describe('constraints and indexes', () => {
  run([
    {
      name: 'primary key removed → PK101 breaking',
      blue: 'create table t (id int primary key)',
      green: 'create table t (id int not null)',
      expect: ['PK101 breaking public.t'],
    },
    {
      name: 'primary key changed → PK101 breaking',
      blue: 'create table t (a int, b int, primary key (a))',
      green: 'create table t (a int, b int, primary key (a, b))',
      expect: ['PK101 breaking public.t', 'MF104 breaking public.t.b'],
    },
    {
      name: 'primary key added → PK102 risky',
      blue: 'create table t (id int not null)',
      green: 'create table t (id int primary key)',
      expect: ['PK102 risky public.t'],
    },
    {
      name: 'unique constraint added → MF105 risky',
      base: 'create table t (a int)',
      green: 'alter table t add constraint t_a_key unique (a)',
      expect: ['MF105 risky public.t.t_a_key'],
    },
    {
      name: 'check constraint added → MF106 risky',
      base: 'create table t (a int)',
      green: 'alter table t add constraint a_positive check (a > 0)',
      expect: ['MF106 risky public.t.a_positive'],
    },
    {
      name: 'NOT VALID check added is still MF106 risky (new writes are checked)',
      base: 'create table t (a int)',
      green: 'alter table t add constraint a_positive check (a > 0) not valid',
      expect: ['MF106 risky public.t.a_positive'],
    },
    {
      name: 'foreign key added → MF107 risky',
      base: 'create table p (id int primary key); create table c (pid int)',
      green: 'alter table c add constraint c_pid_fkey foreign key (pid) references p(id)',
      expect: ['MF107 risky public.c.c_pid_fkey'],
    },
    {
      name: 'foreign key changed (ON DELETE CASCADE) → MF107 risky',
      base: 'create table p (id int primary key)',
      blue: 'create table c (pid int constraint c_pid_fkey references p(id))',
      green: 'create table c (pid int constraint c_pid_fkey references p(id) on delete cascade)',
      expect: ['MF107 risky public.c.c_pid_fkey'],
    },
    {
      name: 'exclusion constraint added → MF108 risky',
      base: 'create table t (r int4range)',
      green: 'alter table t add constraint no_overlap exclude using gist (r with &&)',
      expect: ['MF108 risky public.t.no_overlap'],
    },
    {
      name: 'check constraint removed → CN101 risky',
      base: 'create table t (a int constraint a_positive check (a > 0))',
      green: 'alter table t drop constraint a_positive',
      expect: ['CN101 risky public.t.a_positive'],
    },
    {
      name: 'constraint renamed → CN102 safe',
      base: 'create table t (a int constraint a_positive check (a > 0))',
      green: 'alter table t rename constraint a_positive to a_gt_zero',
      expect: ['CN102 safe public.t.a_positive'],
    },
    {
      name: 'index dropped → IX101 risky',
      base: 'create table t (a int); create index t_a on t (a)',
      green: 'drop index t_a',
      expect: ['IX101 risky public.t_a'],
    },
    { name: 'index added → SA104 safe', base: 'create table t (a int)', green: 'create index t_a on t (a)', expect: ['SA104 safe public.t_a'] },
    { name: 'unique index added → MF101 risky', base: 'create table t (a int)', green: 'create unique index t_a on t (a)', expect: ['MF101 risky public.t_a'] },
    {
      name: 'index made unique (same name) → MF101 risky',
      base: 'create table t (a int)',
      blue: 'create index t_a on t (a)',
      green: 'create unique index t_a on t (a)',
      expect: ['MF101 risky public.t_a'],
    },
    {
      name: 'index renamed → IX103 safe',
      base: 'create table t (a int); create index t_a on t (a)',
      green: 'alter index t_a rename to t_a_idx',
      expect: ['IX103 safe public.t_a'],
    },
    {
      name: 'partial index predicate changed → IX102 risky',
      base: 'create table t (a int)',
      blue: 'create index t_a on t (a) where a > 0',
      green: 'create index t_a on t (a) where a > 10',
      expect: ['IX102 risky public.t_a'],
    },
  ]);
});

describe('views', () => {
  const base = 'create table t (id int, a text, b text)';
  run([
    { name: 'view dropped → DS104 breaking', base, blue: 'create view v as select id from t', expect: ['DS104 breaking public.v'] },
    { name: 'materialized view dropped → DS104 breaking', base, blue: 'create materialized view mv as select id from t', expect: ['DS104 breaking public.mv'] },
    { name: 'view added → SA105 safe', base, green: 'create view v as select id from t', expect: ['SA105 safe public.v'] },
    {
      name: 'view definition changed, same columns → VW101 risky',
      base,
      blue: 'create view v as select id, a from t',
      green: 'create view v as select id, a from t where id > 0',
      expect: ['VW101 risky public.v'],
    },
    {
      name: 'view column removed → BC106 breaking',
      base,
      blue: 'create view v as select id, a from t',
      green: 'create view v as select id from t',
      expect: ['BC106 breaking public.v'],
    },
  ]);
});

describe('sequences', () => {
  run([
    {
      name: 'sequence a default uses dropped → SQ101 breaking (and the default went with it)',
      blue: "create sequence s; create table t (id int default nextval('s'))",
      green: 'create table t (id int)',
      expect: ['SQ101 breaking public.s', 'DF102 risky public.t.id'],
    },
    { name: 'standalone sequence dropped → DS107 breaking', blue: 'create sequence s', expect: ['DS107 breaking public.s'] },
    { name: 'sequence added → SA106 safe', green: 'create sequence s', expect: ['SA106 safe public.s'] },
    // Issue 11: a step change makes no statement fail (SQ103 safe); bounds and cycle stay SQ102.
    {
      name: 'sequence increment changed → SQ103 safe',
      blue: 'create sequence s increment 1',
      green: 'create sequence s increment 5',
      expect: ['SQ103 safe public.s'],
    },
    { name: 'serial column identical on both sides: its sequence is not a difference', base: 'create table t (id serial primary key)', expect: [] },
  ]);
});

describe('enums, domains and composite types', () => {
  run([
    {
      name: 'enum value added → SA107 safe',
      base: "create type mood as enum ('happy', 'sad')",
      green: "alter type mood add value 'meh'",
      expect: ['SA107 safe public.mood'],
    },
    {
      name: 'enum value removed → DS105 breaking',
      blue: "create type mood as enum ('happy', 'ok', 'sad')",
      green: "create type mood as enum ('happy', 'sad')",
      expect: ['DS105 breaking public.mood'],
    },
    {
      name: 'enum value renamed → BC103 breaking',
      base: "create type mood as enum ('happy', 'sad')",
      green: "alter type mood rename value 'sad' to 'unhappy'",
      expect: ['BC103 breaking public.mood'],
    },
    {
      name: 'enum values reordered → EN101 risky',
      blue: "create type mood as enum ('happy', 'sad')",
      green: "create type mood as enum ('sad', 'happy')",
      expect: ['EN101 risky public.mood'],
    },
    { name: 'enum dropped → DS108 breaking', blue: "create type mood as enum ('happy')", expect: ['DS108 breaking public.mood'] },
    {
      name: 'domain check added → DM102 risky',
      base: 'create domain d as integer',
      green: 'alter domain d add constraint d_positive check (value > 0)',
      expect: ['DM102 risky public.d'],
    },
    {
      name: 'domain base widened varchar(10) → varchar(20) → CT103 safe',
      blue: 'create domain code as varchar(10)',
      green: 'create domain code as varchar(20)',
      expect: ['CT103 safe public.code'],
    },
    {
      name: 'domain made NOT NULL → MF104 breaking',
      base: 'create domain d as integer',
      green: 'alter domain d set not null',
      expect: ['MF104 breaking public.d'],
    },
    { name: 'domain added → SA108 safe', green: 'create domain d as integer', expect: ['SA108 safe public.d'] },
    {
      name: 'composite attribute removed → CP101 breaking',
      blue: 'create type pair as (a int, b text)',
      green: 'create type pair as (a int)',
      expect: ['CP101 breaking public.pair.b'],
    },
    {
      name: 'composite attribute added → CP102 risky',
      blue: 'create type pair as (a int)',
      green: 'create type pair as (a int, b text)',
      expect: ['CP102 risky public.pair.b'],
    },
  ]);
});

describe('functions and procedures', () => {
  const f = (sig: string, ret: string, body: string, extra = 'immutable') => `create function ${sig} returns ${ret} language sql ${extra} as '${body}'`;
  run([
    { name: 'function removed → DS106 breaking', blue: f('add1(x int)', 'int', 'select x + 1'), expect: ['DS106 breaking public.add1(integer)'] },
    { name: 'procedure removed → DS106 breaking', blue: "create procedure p(x int) language sql as 'select x'", expect: ['DS106 breaking public.p(integer)'] },
    {
      name: 'function signature changed → BC104 breaking',
      blue: f('add1(x int)', 'int', 'select x + 1'),
      green: f('add1(x bigint)', 'bigint', 'select x + 1'),
      expect: ['BC104 breaking public.add1(integer)'],
    },
    {
      name: 'function return type changed → BC105 breaking',
      blue: f('add1(x int)', 'int', 'select x + 1'),
      green: f('add1(x int)', 'bigint', 'select x + 1'),
      expect: ['BC105 breaking public.add1(integer)'],
    },
    {
      name: 'function body changed → FN101 risky',
      blue: f('add1(x int)', 'int', 'select x + 1'),
      green: f('add1(x int)', 'int', 'select x + 2'),
      expect: ['FN101 risky public.add1(integer)'],
    },
    {
      name: 'function volatility changed → FN101 risky',
      blue: f('add1(x int)', 'int', 'select x + 1'),
      green: f('add1(x int)', 'int', 'select x + 1', 'volatile'),
      expect: ['FN101 risky public.add1(integer)'],
    },
    {
      name: 'argument renamed → FN102 risky',
      blue: f('add1(x int)', 'int', 'select $1 + 1'),
      green: f('add1(y int)', 'int', 'select $1 + 1'),
      expect: ['FN102 risky public.add1(integer)'],
    },
    {
      name: 'new overload added → SA109 safe',
      base: f('add1(x int)', 'int', 'select x + 1'),
      green: f('add1(x bigint)', 'bigint', 'select x + 1'),
      expect: ['SA109 safe public.add1(bigint)'],
    },
  ]);
});

describe('triggers, row-level security and privileges', () => {
  const base = "create table t (id int, owner text); create function noop() returns trigger language plpgsql as 'begin return new; end'";
  const trg = 'create trigger t_noop before insert on t for each row execute function noop()';
  run([
    { name: 'trigger added → TG101 risky', base, green: trg, expect: ['TG101 risky public.t.t_noop'] },
    { name: 'trigger removed → TG102 risky', base, blue: trg, expect: ['TG102 risky public.t.t_noop'] },
    // Issue 11: enabled state is judged by whether it fires for blue's sessions (ST106), not as a definition change.
    { name: 'trigger disabled → ST106 risky', base: `${base}; ${trg}`, green: 'alter table t disable trigger t_noop', expect: ['ST106 risky public.t.t_noop'] },
    { name: 'RLS enabled → RL101 risky', base, green: 'alter table t enable row level security', expect: ['RL101 risky public.t'] },
    {
      name: 'RLS disabled → RL102 risky',
      base: `${base}; alter table t enable row level security`,
      green: 'alter table t disable row level security',
      expect: ['RL102 risky public.t'],
    },
    {
      name: 'RLS forced → RL103 risky',
      base: `${base}; alter table t enable row level security`,
      green: 'alter table t force row level security',
      expect: ['RL103 risky public.t'],
    },
    {
      name: 'policy added → RL104 risky',
      base: `${base}; alter table t enable row level security`,
      green: 'create policy mine on t using (owner = current_user)',
      expect: ['RL104 risky public.t.mine'],
    },
    {
      name: 'policy removed → RL105 risky',
      base: `${base}; alter table t enable row level security`,
      blue: 'create policy mine on t using (owner = current_user)',
      expect: ['RL105 risky public.t.mine'],
    },
    {
      name: 'policy changed → RL106 risky',
      base: `${base}; alter table t enable row level security`,
      blue: 'create policy mine on t using (owner = current_user)',
      green: 'create policy mine on t to app_ro using (owner = current_user)',
      expect: ['RL106 risky public.t.mine'],
    },
    {
      name: 'privilege revoked → PV101 breaking',
      base: `${base}; grant select, insert on t to app_rw`,
      green: 'revoke insert on t from app_rw',
      expect: ['PV101 breaking public.t'],
    },
    { name: 'privilege granted → SA111 safe', base, green: 'grant select on t to app_ro', expect: ['SA111 safe public.t'] },
    {
      name: 'owner changed: the old owner loses its privileges → PV101 breaking, SA111 safe',
      base,
      green: 'alter table t owner to app_owner',
      expect: ['PV101 breaking public.t', 'SA111 safe public.t'],
    },
  ]);
});

describe('extensions and schemas', () => {
  run([
    { name: 'extension dropped → DS109 breaking', blue: 'create extension pgcrypto', expect: ['DS109 breaking pgcrypto'] },
    { name: 'extension added → SA110 safe', green: 'create extension pgcrypto', expect: ['SA110 safe pgcrypto'] },
    {
      name: 'schema dropped → DS101 breaking, its tables not listed one by one',
      blue: 'create schema billing; create table billing.a (id int); create table billing.b (id int)',
      expect: ['DS101 breaking billing'],
    },
    { name: 'schema added → SA101 safe', green: 'create schema billing; create table billing.a (id int)', expect: ['SA101 safe billing'] },
    {
      name: 'quoted mixed-case identifiers are reported quoted',
      base: 'create schema "Sales"; create table "Sales"."Order Lines" ("LineId" int primary key, "Qty" int)',
      green: 'alter table "Sales"."Order Lines" drop column "Qty"; alter table "Sales"."Order Lines" add column "Note" text',
      expect: ['DS103 breaking "Sales"."Order Lines"."Qty"', 'SA103 safe "Sales"."Order Lines"."Note"'],
    },
    {
      name: 'same-named tables in two schemas are told apart',
      base: 'create schema a; create schema b; create table a.t (x int); create table b.t (x int)',
      green: 'alter table b.t drop column x',
      expect: ['DS103 breaking b.t.x'],
    },
  ]);
});

describe('partitions', () => {
  const base =
    "create table ev (id int, at date not null, note text) partition by range (at); create table ev_2025 partition of ev for values from ('2025-01-01') to ('2026-01-01')";
  run([
    // Issue 11: the parent then refuses the dropped range (TB104): with no DEFAULT partition blue's inserts of 2025 rows fail.
    {
      name: 'partition dropped → DS102 breaking, TB104 breaking',
      base,
      green: 'drop table ev_2025',
      expect: ['DS102 breaking public.ev_2025', 'TB104 breaking public.ev'],
    },
    {
      name: 'partition added → SA102 safe',
      base,
      green: "create table ev_2026 partition of ev for values from ('2026-01-01') to ('2027-01-01')",
      expect: ['SA102 safe public.ev_2026'],
    },
    {
      name: 'partition bound shrunk → TB102 risky, TB104 breaking (rows of the lost range are refused)',
      blue: base,
      green:
        "create table ev (id int, at date not null, note text) partition by range (at); create table ev_2025 partition of ev for values from ('2025-01-01') to ('2025-07-01')",
      expect: ['TB102 risky public.ev_2025', 'TB104 breaking public.ev'],
    },
    {
      name: 'partition detached → TB102 risky, TB104 breaking',
      base,
      green: 'alter table ev detach partition ev_2025',
      expect: ['TB102 risky public.ev_2025', 'TB104 breaking public.ev'],
    },
    {
      name: 'column dropped from a partitioned table is reported once, on the parent',
      base,
      green: 'alter table ev drop column note',
      expect: ['DS103 breaking public.ev.note'],
    },
    {
      name: 'partitioned index dropped is reported once, not per partition',
      base: `${base}; create index ev_at on ev (at)`,
      green: 'drop index ev_at',
      expect: ['IX101 risky public.ev_at'],
    },
  ]);
});
