/**
 * `npx tsx bench/replication/status.ts`: how long `db sync status` (the engine's syncStatus: both catalogs, the
 * scope check, the health window, slots) and the scope check alone take on a 2,000-table replicated schema
 * (issue 10: under 1.5 s each). Two local PostgreSQL 15 servers; the 2,000 tables (8 columns, a primary key and
 * an index each) are brought into a running replication with ADD TABLE + REFRESH PUBLICATION (copy_data = false,
 * they are empty) rather than 2,000 table copies. Reports the median and the worst of BENCH_RUNS runs (default 5)
 * for a healthy stream, and for one with a table created after sync start (drift found and named).
 */
import { parseDbUrl } from '../../src/db/connection.js';
import { LocalExecutor } from '../../src/replication/executor.js';
import { decideScope, readPublished, readScopeTables, readSubscribed, scopeTablesOf } from '../../src/replication/scope.js';
import { closeSessions, openSessions } from '../../src/replication/session.js';
import { readCatalogs } from '../../src/replication/sync.js';
import { DB, startPair } from '../../test/replication/helpers.js';

const TABLES = Number(process.env.BENCH_TABLES ?? 2000);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const log = (s: string) => process.stdout.write(`${s}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const pair = await startPair();
try {
  const ddl = Array.from(
    { length: TABLES },
    (_, i) =>
      `CREATE TABLE public.t${i} (id bigint PRIMARY KEY, a int, b text, c timestamptz DEFAULT now(), d numeric(12,2), e boolean, f jsonb, g text NOT NULL DEFAULT ''); CREATE INDEX t${i}_a ON public.t${i} (a);`,
  ).join('\n');
  const targets = { blue: parseDbUrl(pair.blueUrl, 'blue'), green: parseDbUrl(pair.greenUrl, 'green') };
  const ex = new LocalExecutor(targets);
  // Sync start on the helpers' four tables, then the 2,000 created on both sides and added without a copy (empty).
  await ex.syncStart({ schemas: ['public'] });
  const t0 = performance.now();
  await Promise.all([pair.blue.sql(`BEGIN READ WRITE; ${ddl} COMMIT`, DB), pair.green.sql(`BEGIN READ WRITE; ${ddl} COMMIT`, DB)]);
  log(`schema: ${TABLES} tables created on both sides in ${Math.round(performance.now() - t0)} ms`);
  await pair.blue.sql(`ALTER PUBLICATION bgmig_pub_blue ADD TABLE ${Array.from({ length: TABLES }, (_, i) => `public.t${i}`).join(', ')}`, DB);
  const g = await pair.green.connect(DB);
  try {
    // green is fenced (read-only by default): opt out for this session, then refresh (not allowed in a transaction).
    await g.query('SET default_transaction_read_only = off');
    await g.query('ALTER SUBSCRIPTION bgmig_sub_blue_to_green REFRESH PUBLICATION WITH (copy_data = false)');
  } finally {
    await g.end();
  }

  const measure = async (label: string) => {
    const statusMs: number[] = [];
    const scopeMs: number[] = [];
    const gateScopeMs: number[] = [];
    let last = '';
    for (let i = 0; i < RUNS; i++) {
      const t = performance.now();
      const r = await ex.syncStatus({});
      statusMs.push(performance.now() - t);
      last = `${r.state}, healthy=${r.healthy}, health=${r.health?.verdict}, tables=${r.tables.length}, drift=${(r.scope ?? []).map((d) => d.table).join(' ') || 'none'}`;
      const s = await openSessions(targets);
      try {
        const t1 = performance.now();
        // The scope check as status and every look run it: one light query per side plus the live objects.
        const [blue, green] = await Promise.all([readScopeTables(s.blue, ['public']), readScopeTables(s.green, ['public'])]);
        const live = { published: await readPublished(s.blue, 'bgmig_pub_blue'), subscribed: await readSubscribed(s.green, 'bgmig_sub_blue_to_green') };
        decideScope({ from: 'blue', to: 'green', tables: { blue, green }, live });
        scopeMs.push(performance.now() - t1);
        // The same judgement from the full catalogs (what the cutover/rollback gates read anyway, for their other checks).
        const t2 = performance.now();
        const catalogs = await readCatalogs(s, ['public']);
        decideScope({
          from: 'blue',
          to: 'green',
          tables: { blue: scopeTablesOf(catalogs.blue, ['public']), green: scopeTablesOf(catalogs.green, ['public']) },
          live,
        });
        gateScopeMs.push(performance.now() - t2);
      } finally {
        await closeSessions(s);
      }
    }
    log(
      `${label}: db sync status median ${Math.round(median(statusMs))} ms, worst ${Math.round(Math.max(...statusMs))} ms; scope check median ${Math.round(median(scopeMs))} ms, worst ${Math.round(Math.max(...scopeMs))} ms; from full catalogs (gates) median ${Math.round(median(gateScopeMs))} ms (${RUNS} runs) — ${last}`,
    );
  };
  await measure(`healthy, ${TABLES + 4} tables`);
  for (const s of [pair.blue, pair.green]) await s.sql('BEGIN READ WRITE; CREATE TABLE public.late_table (id bigint PRIMARY KEY); COMMIT', DB);
  await measure(`with a table created after sync start`);
} finally {
  await pair.stop();
}
