/**
 * `npx tsx bench/cutover/pooler.ts`: what clients see of a database switch (issue 13), on two local PostgreSQL 15
 * servers and two local PgBouncer 1.18 poolers.
 *
 * With poolers: 8 writers and 8 readers that only know the poolers (half on each); per run a cutover then a
 * rollback, the engine holding the poolers (PAUSE → fence … unfence → repoint → RESUME). Without poolers: the same
 * clients connect to the active database directly (they follow the switch hook, as applications follow DNS) and
 * reconnect on errors. Per run: failed client queries, acknowledged writes lost, the latency of queries sent
 * during the switch (p50/p99/max, and added over the median before it), the write pause and the pooler hold.
 *
 * BENCH_RUNS (default 5), BENCH_SETTLE_MS between switches (default 1500).
 */
import { writeFileSync } from 'node:fs';
import { parseDbUrl } from '../../src/db/connection.js';
import { PoolerTier } from '../../src/pooler/tier.js';
import type { SwitchReport } from '../../src/replication/api.js';
import { LocalExecutor } from '../../src/replication/executor.js';
import { parsePoolerUrl } from '../../src/pooler/tier.js';
import { ADMIN_PASSWORD, startPgBouncer } from '../../test/pooler/pgbouncer.js';
import { percentile, startWorkload, type Workload } from '../../test/pooler/workload.js';
import { APP_PASSWORD, APP_USER, DB, activeOf, appUrl, startPair, waitConverged } from '../../test/replication/helpers.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const SETTLE_MS = Number(process.env.BENCH_SETTLE_MS ?? 1500);
const log = (s: string) => process.stdout.write(`${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Row {
  run: number;
  op: 'cutover' | 'rollback';
  errors: number;
  lost: number;
  n: number;
  p50: number;
  p99: number;
  max: number;
  addedP50: number;
  addedP99: number;
  pauseMs: number | null;
  holdMs: number | null;
  clientsMs: number | null;
}

const r1 = (x: number) => Math.round(x * 10) / 10;

async function lostOn(pair: Awaited<ReturnType<typeof startPair>>, w: Workload): Promise<number> {
  const side = activeOf(pair) === 'green' ? pair.green : pair.blue;
  const acks = [...w.acks];
  const r = await side.sql(`SELECT count(*)::int AS n FROM public.orders WHERE id = ANY('{${acks.join(',')}}'::int[])`, DB);
  return acks.length - (r.rows[0] as { n: number }).n;
}

async function measure(
  pair: Awaited<ReturnType<typeof startPair>>,
  w: Workload,
  ex: LocalExecutor,
  op: 'cutover' | 'rollback',
  run: number,
  cb: Parameters<LocalExecutor['cutover']>[1],
): Promise<Row> {
  const errorsBefore = w.errors.length;
  const t0 = performance.now();
  const baseline = w.samples.filter((s) => s.start > t0 - 1_000 && s.start < t0).map((s) => s.ms);
  // The window clients can notice: from the hold (pooled) or the fence (direct) until the switch step is done
  // (poolers resumed / the hook made); taken from the engine's own progress events.
  let ws = 0;
  let we = 0;
  const progress: NonNullable<typeof cb>['progress'] = (e) => {
    if (e.kind !== 'step') return;
    if (e.status === 'start' && ws === 0 && (e.step === 'hold clients' || e.step.startsWith('fence '))) ws = performance.now();
    if (e.status === 'done' && e.step === 'switch') we = performance.now();
  };
  const report: SwitchReport = await ex[op]({ maxPauseMs: 10_000 }, { ...cb, progress });
  if (report.outcome !== 'completed') throw new Error(`${op} ${report.outcome}: ${report.error ?? ''}`);
  await sleep(SETTLE_MS);
  // Queries in flight at the window's start or sent during it, with their whole wait.
  const during = w.samples.filter((s) => s.start <= we && s.start + s.ms >= ws).map((s) => s.ms);
  const base = percentile(baseline, 50);
  const lost = await lostOn(pair, w);
  return {
    run,
    op,
    errors: w.errors.length - errorsBefore,
    lost,
    n: during.length,
    p50: r1(percentile(during, 50)),
    p99: r1(percentile(during, 99)),
    max: r1(Math.max(0, ...during)),
    addedP50: r1(Math.max(0, percentile(during, 50) - base)),
    addedP99: r1(Math.max(0, percentile(during, 99) - base)),
    pauseMs: report.pauseMs,
    holdMs: report.holdMs ?? null,
    clientsMs: report.clientsFollowMs ?? null,
  };
}

function table(title: string, rows: Row[], pooled: boolean): void {
  log(`\n${title}`);
  log(
    `| run | switch | failed client queries | acked writes lost | queries in the window | p50 ms | p99 ms | max ms | added p99 ms | write pause ms |${pooled ? ' pooler hold ms |' : ''}`,
  );
  log(`|---|---|---|---|---|---|---|---|---|---|${pooled ? '---|' : ''}`);
  for (const r of rows) {
    log(
      `| ${r.run} | ${r.op} | ${r.errors} | ${r.lost} | ${r.n} | ${r.p50} | ${r.p99} | ${r.max} | ${r.addedP99} | ${r.pauseMs ?? '-'} |${pooled ? ` ${r.holdMs ?? '-'} |` : ''}`,
    );
  }
  const all = rows.map((r) => r.p99).sort((a, b) => a - b);
  log(
    `total failed client queries: ${rows.reduce((a, r) => a + r.errors, 0)}, acknowledged writes lost: ${Math.max(0, ...rows.map((r) => r.lost))}, worst p99 ${all[all.length - 1]} ms, median write pause ${percentile(
      rows.map((r) => r.pauseMs ?? 0),
      50,
    )} ms`,
  );
}

const pair = await startPair();
let exitCode = 0;
try {
  // Same columns on both sides (the way back carries every column).
  await pair.blue.sql(`ALTER TABLE public.orders ADD COLUMN extra text NOT NULL DEFAULT 'green-only'`, DB);
  const targets = { blue: parseDbUrl(pair.blueUrl, 'blue'), green: parseDbUrl(pair.greenUrl, 'green') };
  const ex = new LocalExecutor(targets);
  await ex.syncStart({ schemas: ['public'] });
  const opts = { databases: { [DB]: { host: '127.0.0.1', port: pair.blue.port, dbname: DB } }, users: { [APP_USER]: APP_PASSWORD } };
  const poolers = await Promise.all([startPgBouncer(opts), startPgBouncer(opts)]);
  const onSwitch = async (active: 'blue' | 'green') => writeFileSync(pair.activeFile, active);
  try {
    // 1. Through the poolers.
    const refs = poolers.map((p) => parsePoolerUrl(p.adminUrl, 'bench', { BGMIG_POOLER_PASSWORD: ADMIN_PASSWORD }));
    const w = startWorkload(
      poolers.map((p) => p.url(DB, APP_USER, APP_PASSWORD)),
      { writers: 8, readers: 8 },
    );
    const pooled: Row[] = [];
    try {
      await sleep(2_000);
      for (let i = 1; i <= RUNS; i++) {
        for (const op of ['cutover', 'rollback'] as const) {
          const row = await measure(pair, w, ex, op, i, { onSwitch, clients: new PoolerTier(refs, targets) });
          pooled.push(row);
          log(`pooled ${op} ${i}/${RUNS}: ${JSON.stringify(row)}`);
        }
      }
    } finally {
      await w.stop();
    }
    if (w.errors.length > 0) log(`client errors through the poolers: ${w.errors.slice(0, 5).join(' | ')}`);
    // 2. The same clients directly on the database (following the switch hook), for comparison.
    const direct = startWorkload(() => appUrl(activeOf(pair) === 'green' ? pair.green : pair.blue), { writers: 8, readers: 8 });
    const plain: Row[] = [];
    try {
      await sleep(2_000);
      for (let i = 1; i <= RUNS; i++) {
        for (const op of ['cutover', 'rollback'] as const) {
          const row = await measure(pair, direct, ex, op, i, { onSwitch });
          plain.push(row);
          log(`direct ${op} ${i}/${RUNS}: ${JSON.stringify(row)}`);
        }
      }
    } finally {
      await direct.stop();
    }
    const codes = new Map<string, number>();
    for (const e of direct.errors) {
      const first = e.split(':')[1]?.trim().split(' ')[0] ?? '';
      const k = /^[0-9A-Z]{5}$/.test(first) ? first : 'connection error';
      codes.set(k, (codes.get(k) ?? 0) + 1);
    }
    await waitConverged(pair, 60_000);
    table(`Through 2 PgBouncer poolers (8 writers + 8 readers, ${RUNS} runs):`, pooled, true);
    table(`Without a pooler, clients reconnecting to the active side (same load, ${RUNS} runs):`, plain, false);
    log(`errors without a pooler by SQLSTATE: ${[...codes].map(([k, v]) => `${k} ×${v}`).join(', ') || 'none'}`);
    log(`acknowledged writes: ${w.acks.length} through poolers, ${direct.acks.length} direct`);
    if (pooled.some((r) => r.lost > 0) || plain.some((r) => r.lost > 0)) exitCode = 1;
  } finally {
    await Promise.all(poolers.map((p) => p.stop()));
  }
} finally {
  await pair.stop();
}
process.exit(exitCode);
