/** What the rehearsal prints at its end: the summary, and with --keep how to drive what it left running. */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Emulator } from './emulator.js';
import type { LocalPooler } from './pooler.js';
import type { LocalPg } from './postgres.js';
import type { RehearsalResult } from './run.js';
import type { TimelineData } from './timeline.js';
import { fmtMs, REHEARSAL_SUFFIX, type RehearsalOut } from './walk.js';

export function errorSamples(data: TimelineData): RehearsalResult['errorSamples'] {
  const by = new Map<string, { code: string; count: number; message: string }>();
  for (const e of data.errors) {
    const s = by.get(e.code) ?? { code: e.code, count: 0, message: e.message.slice(0, 120) };
    s.count += 1;
    by.set(e.code, s);
  }
  return [...by.values()].sort((a, b) => b.count - a.count).slice(0, 3);
}

export function printSummary(r: RehearsalResult, out: RehearsalOut): void {
  out.line('Summary');
  for (const s of r.steps) {
    const mark = s.status === 'held' ? '✓' : s.status === 'failed' ? '✗' : '–';
    const impact = s.impact ? `  write pause ${s.impact.writePauseMs === null ? 'n/a' : fmtMs(s.impact.writePauseMs)}, ${s.impact.errors} client error(s)` : '';
    out.line(
      `  ${mark} ${s.name.padEnd(30)} ${s.status === 'skipped' ? `skipped: ${s.detail ?? ''}` : fmtMs(s.durationMs).padStart(8)}${impact}${s.status === 'failed' && s.detail ? `  ${s.detail}` : ''}`,
    );
  }
  out.line(`  acknowledged writes: ${r.acknowledged.toLocaleString('en-US')}, lost: ${r.lost ?? 'not checked'} (checked row by row on the active database)`);
  out.line(
    `  client errors over the whole run: ${r.clientErrors}${r.errorSamples.length ? ` — ${r.errorSamples.map((e) => `${e.code} ×${e.count} (${e.message})`).join('; ')}` : ''}`,
  );
  if (r.rollbackLatencyMs !== null)
    out.line(
      `  rollback latency after the alarm: ${fmtMs(r.rollbackLatencyMs)} (${r.rollbackBy === 'rollout' ? 'automatic, by the rollout' : '`bgmig rollback` run by the rehearsal'})`,
    );
  out.line(`  total ${fmtMs(r.durationMs)}${r.report ? `; timeline: ${r.report}` : ''}`);
  out.line(r.verdict.line);
}

export function printKeep(
  blue: LocalPg,
  green: LocalPg,
  emulator: Emulator | undefined,
  pooler: LocalPooler | undefined,
  workspace: string,
  out: RehearsalOut,
): void {
  // The throwaway servers' passwords go into a file only its owner can read, not onto the terminal.
  const envFile = path.join(workspace, 'env.sh');
  const lines = [
    `export BGMIG_BLUE_URL='${blue.url('app')}'`,
    `export BGMIG_GREEN_URL='${green.url('app')}'`,
    ...(pooler ? [`export BGMIG_POOLER_URLS='${pooler.adminUrl}'`] : []),
    ...(emulator ? [`export AWS_ENDPOINT_URL=${emulator.endpoint} AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1`] : []),
  ];
  writeFileSync(envFile, `${lines.join('\n')}\n`, { mode: 0o600 });
  const pids = [blue.pid, green.pid, ...(pooler ? [pooler.pid] : []), ...(emulator ? [emulator.pid] : [])];
  out.line('');
  out.line('--keep: everything is still running, with replication blue → green up. Drive it with the ordinary commands:');
  out.line(`  source ${envFile}`);
  out.line('  bgmig db sync status');
  out.line(`  bgmig db cutover --yes${pooler ? ' --pooler "$BGMIG_POOLER_URLS"' : ''}`);
  if (emulator) {
    out.line(`  bgmig status --suffix ${REHEARSAL_SUFFIX} --no-replication`);
    out.line(`  bgmig promote --suffix ${REHEARSAL_SUFFIX} --weight 25`);
    out.line(`  bgmig history --suffix ${REHEARSAL_SUFFIX}`);
  }
  out.line('When done:');
  out.line(`  kill ${pids.join(' ')} && rm -rf ${workspace}`);
}
