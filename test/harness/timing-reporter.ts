/**
 * A vitest reporter that says where a run's time goes, per test file: import/collect time, the time of its tests
 * and hooks (server start-up in beforeAll included), and the total. Use it next to the default reporter:
 *
 *   npx vitest run --reporter=default --reporter=./test/harness/timing-reporter.ts
 *
 * It writes the table to stderr and, when BGMIG_TIMING_FILE is set, the rows as JSON to that file (the figures in
 * docs/testing.md come from it). Durations are milliseconds of wall time inside the worker that ran the file.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';

interface Row {
  file: string;
  project: string;
  tests: number;
  collectMs: number;
  runMs: number;
  totalMs: number;
}

export default class TimingReporter implements Reporter {
  private readonly rows: Row[] = [];
  private started = Date.now();

  onTestRunStart(): void {
    this.started = Date.now();
  }

  onTestModuleEnd(mod: TestModule): void {
    const d = mod.diagnostic();
    const collectMs = d.environmentSetupDuration + d.prepareDuration + d.collectDuration + d.setupDuration;
    this.rows.push({
      file: path.relative(process.cwd(), mod.moduleId),
      project: mod.project.name,
      tests: [...mod.children.allTests()].length,
      collectMs: Math.round(collectMs),
      runMs: Math.round(d.duration),
      totalMs: Math.round(collectMs + d.duration),
    });
  }

  onTestRunEnd(): void {
    const wallMs = Date.now() - this.started;
    const rows = [...this.rows].sort((a, b) => b.totalMs - a.totalMs);
    const sum = rows.reduce((s, r) => s + r.totalMs, 0);
    const lines = rows.map(
      (r) =>
        `${(r.totalMs / 1000).toFixed(1).padStart(7)} s  ${(r.collectMs / 1000).toFixed(1).padStart(5)} s import  ${String(r.tests).padStart(4)} tests  ${r.file}`,
    );
    process.stderr.write(`\nTime per test file (total = import + tests and hooks):\n${lines.join('\n')}\n`);
    process.stderr.write(`${rows.length} files, ${(sum / 1000).toFixed(1)} s of worker time, ${(wallMs / 1000).toFixed(1)} s wall\n`);
    const out = process.env.BGMIG_TIMING_FILE;
    if (out) writeFileSync(out, `${JSON.stringify({ wallMs, workerMs: sum, rows }, null, 2)}\n`);
  }
}
