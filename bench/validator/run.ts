/**
 * Validator benchmark (`npm run bench:validator`): a 2,000-table schema (10 columns, a primary key, one more index
 * and a foreign key per table, 200 views) in blue, the same with 1 % of the tables changed (added, dropped and
 * retyped columns, dropped indexes) in green, on a throwaway PostgreSQL 15. Prints the median wall time of a full
 * validation (connect, read both catalogs, diff both directions, report) over several runs, and of @pgkit/migra on
 * the same pair.
 *
 * Options (environment): BENCH_RUNS (default 7), BENCH_MIGRA_RUNS (default 3, 0 to skip migra).
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseDbUrl } from '../../src/db/connection.js';
import type { ValidationReport } from '../../src/schema/report.js';
import { validateDatabases } from '../../src/schema/validate.js';
import { startPostgres } from '../../test/harness/postgres.js';

const TABLES = 2000;
const VIEWS = 200;
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const MIGRA_RUNS = Number(process.env.BENCH_MIGRA_RUNS ?? 3);

const name = (i: number) => `t${String(i).padStart(4, '0')}`;

/** The blue schema, plus, for green, the 1 % changes: 5 tables each get an added, a dropped, a retyped column and a dropped index. */
function schemaSql(green: boolean): string {
  const out: string[] = [];
  for (let i = 1; i <= TABLES; i++) {
    out.push(`create table ${name(i)} (
      id bigint primary key, parent_id bigint, name varchar(100) not null, code varchar(20), amount numeric(12,2) default 0,
      qty integer, active boolean not null default true, created_at timestamptz not null default now(), note text, payload jsonb)`);
    out.push(`create index ${name(i)}_name on ${name(i)} (name)`);
  }
  for (let i = 1; i <= TABLES; i++)
    out.push(`alter table ${name(i)} add constraint ${name(i)}_parent_fk foreign key (parent_id) references ${name(i === 1 ? TABLES : i - 1)} (id)`);
  for (let i = 1; i <= VIEWS; i++)
    out.push(`create view v${String(i).padStart(3, '0')} as select id, name, amount from ${name(i * (TABLES / VIEWS))} where active`);
  if (green) {
    // 20 tables (1 %) changed, spread over the range, none of them under a view (views pin their columns).
    const changed = Array.from({ length: 20 }, (_, k) => 3 + k * 97);
    changed.forEach((i, k) => {
      const t = name(i);
      if (k % 4 === 0) out.push(`alter table ${t} add column extra text`);
      if (k % 4 === 1) out.push(`alter table ${t} drop column note`);
      if (k % 4 === 2) out.push(`alter table ${t} alter column code type varchar(40)`, `alter table ${t} alter column qty type bigint`);
      if (k % 4 === 3) out.push(`drop index ${t}_name`);
    });
  }
  return out.join(';\n');
}

/**
 * CPU seconds the bench server has used so far: the postmaster's own time plus that of its exited children (each
 * validation's backends exit when it disconnects, and the postmaster reaps them). Linux /proc; clock ticks of 1/100 s.
 */
function serverCpuMs(dataDir: string): number {
  const pid = readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0].trim();
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the command name: state is field 3, so utime..cstime (fields 14–17) are at indexes 11–14 here.
  return [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0) * 10;
}

function rbCodes(r: ValidationReport): string {
  const m = new Map<string, number>();
  for (const d of r.rollback?.differences ?? []) m.set(d.code, (m.get(d.code) ?? 0) + 1);
  return [...m].map(([c, n]) => `${c}×${n}`).join(', ');
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const fmt = (ms: number) => `${(ms / 1000).toFixed(3)} s`;

async function main(): Promise<void> {
  const server = await startPostgres({ settings: { max_locks_per_transaction: 1024 } });
  try {
    process.stdout.write(`bench:validator — ${TABLES} tables × 10 columns, PK + 1 index + 1 FK each, ${VIEWS} views; green has 1 % of tables changed\n`);
    const t0 = performance.now();
    await server.createDatabase('bench_blue');
    await server.createDatabase('bench_green');
    await Promise.all([server.sql(schemaSql(false), 'bench_blue'), server.sql(schemaSql(true), 'bench_green')]);
    await Promise.all([server.sql('analyze', 'bench_blue'), server.sql('analyze', 'bench_green')]);
    process.stdout.write(`schema generated in ${fmt(performance.now() - t0)}\n`);

    const blue = parseDbUrl(server.url('bench_blue'), 'blue');
    const green = parseDbUrl(server.url('bench_green'), 'green');

    // One warm-up run (catalog caches, JIT of the reader), then the measured runs.
    let report: ValidationReport = await validateDatabases(blue, green);
    const times: number[] = [];
    const cpu0 = process.cpuUsage();
    const server0 = serverCpuMs(server.dataDir);
    for (let i = 0; i < RUNS; i++) {
      const s = performance.now();
      report = await validateDatabases(blue, green);
      times.push(performance.now() - s);
    }
    const clientCpu = process.cpuUsage(cpu0);
    const serverCpu = serverCpuMs(server.dataDir) - server0;
    if (report.verdict === 'error') throw new Error(report.error);
    // The machines are shared: the load average says how much of the wall time was waiting for a core.
    process.stdout.write(`load average (1 min) ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores\n`);
    // CPU spent per validation does not depend on how busy the machine is; wall time does.
    process.stdout.write(
      `CPU per validation: client ${fmt((clientCpu.user + clientCpu.system) / 1000 / RUNS)}, PostgreSQL (both databases) ${fmt(serverCpu / RUNS)}\n`,
    );
    const byCode = new Map<string, number>();
    for (const d of report.differences) byCode.set(d.code, (byCode.get(d.code) ?? 0) + 1);
    process.stdout.write(
      `bgmig validator: median ${fmt(median(times))} over ${RUNS} runs (min ${fmt(Math.min(...times))}, max ${fmt(Math.max(...times))}); ` +
        `verdict ${report.verdict}, ${report.differences.length} differences (${[...byCode].map(([c, n]) => `${c}×${n}`).join(', ')}); ` +
        // Both directions are judged in every run (issue 11): the rollback verdict comes from the same catalogs.
        `rollback ${report.rollback?.verdict ?? 'not judged'}, ${report.rollback?.differences.length ?? 0} RB differences (${rbCodes(report)}); ` +
        `blue ${report.blue?.counts.tables} tables, ${report.blue?.counts.columns} columns, ${report.blue?.counts.indexes} indexes, ${report.blue?.counts.constraints} constraints, ${report.blue?.counts.views} views\n`,
    );

    if (MIGRA_RUNS > 0) {
      const { run } = await import('@pgkit/migra');
      const { createClient } = await import('@pgkit/client');
      const mtimes: number[] = [];
      let statements = 0;
      for (let i = 0; i < MIGRA_RUNS; i++) {
        const from = createClient(server.url('bench_blue'));
        const to = createClient(server.url('bench_green'));
        try {
          const s = performance.now();
          const m = await run(from, to, { unsafe: true });
          mtimes.push(performance.now() - s);
          statements = m.statements.length;
        } finally {
          await Promise.all([from.end(), to.end()]);
        }
      }
      process.stdout.write(
        `@pgkit/migra (reference): median ${fmt(median(mtimes))} over ${MIGRA_RUNS} runs (min ${fmt(Math.min(...mtimes))}, max ${fmt(Math.max(...mtimes))}); ${statements} statements\n`,
      );
    }
  } finally {
    await server.stop();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:validator failed: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
