/**
 * `npm run bench:cutover`: the write pause of a cutover and of a rollback with 8 concurrent application writers on
 * two local PostgreSQL 15 servers (median over 5 runs each), plus the initial-copy throughput. The engine runs
 * in-process (direct mode) with a switch hook that repoints the writers the way a DNS change would; the shell
 * `--on-switch` of the CLI adds the cost of spawning the operator's command on top.
 */
import { writeFileSync } from 'node:fs';
import { parseDbUrl } from '../../src/db/connection.js';
import type { SwitchReport } from '../../src/replication/api.js';
import { LocalExecutor } from '../../src/replication/executor.js';
import { DB, startPair, startWriters, waitConverged } from '../../test/replication/helpers.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const WRITERS = 8;
const SEED_ROWS = Number(process.env.BENCH_SEED_ROWS ?? 500_000);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const log = (s: string) => process.stdout.write(`${s}\n`);

const pair = await startPair();
try {
  await pair.blue.sql(`INSERT INTO public.seed SELECT g, md5(g::text) || md5((g * 7)::text) || repeat('x', 36) FROM generate_series(1, ${SEED_ROWS}) g`, DB);
  const seedBytes = Number((await pair.blue.sql(`SELECT pg_table_size('public.seed') AS b`, DB)).rows[0].b);
  const ex = new LocalExecutor({ blue: parseDbUrl(pair.blueUrl, 'blue'), green: parseDbUrl(pair.greenUrl, 'green') });

  const sync = await ex.syncStart({ schemas: ['public'] });
  const secs = sync.copy.durationMs / 1000;
  log(
    `initial copy: ${sync.copy.rows.toLocaleString('en-US')} rows, ${(seedBytes / 1024 / 1024).toFixed(1)} MB table in ${secs.toFixed(2)} s ` +
      `→ ${Math.round(sync.copy.rows / secs).toLocaleString('en-US')} rows/s, ${(seedBytes / 1024 / 1024 / secs).toFixed(1)} MB/s (sync start total ${sync.durationMs} ms)`,
  );

  const writers = startWriters(pair, WRITERS);
  const onSwitch = async (active: 'blue' | 'green') => writeFileSync(pair.activeFile, active);
  const pauses: Record<'cutover' | 'rollback', number[]> = { cutover: [], rollback: [] };
  const steps: Record<string, number[]> = {};
  const waitAcks = async (n: number) => {
    const target = writers.acks.length + n;
    while (writers.acks.length < target) await new Promise((r) => setTimeout(r, 5));
  };
  try {
    await waitAcks(300);
    for (let i = 0; i < RUNS; i++) {
      for (const op of ['cutover', 'rollback'] as const) {
        const r: SwitchReport = await ex[op]({ maxPauseMs: 10_000 }, { onSwitch });
        if (r.outcome !== 'completed' || r.pauseMs === null) throw new Error(`${op} ${r.outcome}: ${r.error ?? ''}`);
        pauses[op].push(r.pauseMs);
        for (const s of r.steps) {
          const key = `${op}: ${s.step.replace(/ (blue|green)$/, '')}`;
          steps[key] = [...(steps[key] ?? []), s.ms];
        }
        log(`${op} ${i + 1}/${RUNS}: pause ${r.pauseMs} ms (${r.steps.map((s) => `${s.step} ${s.ms}`).join(', ')})`);
        await waitAcks(300);
      }
    }
  } finally {
    await writers.stop();
  }
  const rows = await waitConverged(pair, 60_000);
  const ids = new Set((JSON.parse(rows.orders) as Array<{ id: number }>).map((o) => o.id));
  const lost = writers.acks.filter((a) => !ids.has(a.orderId)).length;
  log('');
  log(`writers: ${WRITERS}, acknowledged transactions: ${writers.acks.length}, lost: ${lost}, duplicate-key errors: ${writers.errors.get('23505') ?? 0}`);
  log(
    `median pause over ${RUNS} runs: cutover ${median(pauses.cutover)} ms (min ${Math.min(...pauses.cutover)}, max ${Math.max(...pauses.cutover)}), ` +
      `rollback ${median(pauses.rollback)} ms (min ${Math.min(...pauses.rollback)}, max ${Math.max(...pauses.rollback)})`,
  );
  log('median step times (ms):');
  for (const [k, v] of Object.entries(steps)) log(`  ${k.padEnd(44)} ${median(v)}`);
  if (lost > 0) process.exitCode = 1;
} finally {
  await pair.stop();
}
