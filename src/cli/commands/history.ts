/**
 * `bgmig history`: one timeline per stack, newest first — every promote step, rollback, rollout start/hold/abort/
 * completion, rollback-guard action and lease event bgmig journaled, joined with the cutover function's database
 * records (all under journal/ in the artifacts bucket).
 */
import type { Command } from 'commander';
import { ExitCode } from '../../core/errors.js';
import { OutputKey } from '../../core/outputs.js';
import type { HistoryEntry } from '../../rollout/journal.js';
import type { AwsClients } from '../../aws/clients.js';
import { action, parseIntStrict } from '../context.js';
import type { Io } from '../io.js';
import { output, requireStack } from '../stack.js';
import { formatWeights } from '../traffic.js';

export interface HistoryOptions {
  suffix: string;
  /** Newest N entries (default 50). */
  limit?: number | undefined;
}

export interface HistoryResult {
  stack: string;
  bucket: string;
  entries: Array<Omit<HistoryEntry, 'record'>>;
}

export async function runHistory(opts: HistoryOptions, deps: { io: Io; aws: AwsClients }): Promise<ExitCode> {
  const { io, aws } = deps;
  const stack = await requireStack(aws, opts.suffix);
  const bucket = output(stack, OutputKey.ArtifactsBucketName);
  const { readHistory } = await import('../../rollout/journal.js');
  const entries = await readHistory(await aws.s3(), bucket, { limit: opts.limit ?? 50 });
  const result: HistoryResult = { stack: stack.name, bucket, entries: entries.map(({ record: _record, ...e }) => e) };
  io.result(result, () => {
    if (entries.length === 0) return `No journal records yet for ${stack.name} (s3://${bucket}/journal/).`;
    const st = io.style;
    const color = (kind: string) => (/rollback|abort/.test(kind) ? st.red(kind) : /hold|disarm|force|takeover|noop/.test(kind) ? st.yellow(kind) : kind);
    return [
      `${st.bold(stack.name)} — ${entries.length} event(s), newest first`,
      ...entries.map((e) => {
        const moved = e.from && e.to ? `  [${formatWeights(e.from)} → ${formatWeights(e.to)}]` : '';
        return `${e.at}  ${color(e.kind.padEnd(18))} ${e.summary}${moved}  ${st.dim(`by ${e.who}`)}`;
      }),
    ].join('\n');
  });
  return ExitCode.Ok;
}

export function register(program: Command): void {
  program
    .command('history')
    .description("the stack's timeline, newest first: promote steps, rollbacks, rollouts, guard actions, lease events, database cutovers")
    .option('--limit <n>', 'show the newest N events', '50')
    .addHelpText(
      'after',
      `
Example:
  $ bgmig history --suffix shop-prod --limit 5
  2026-11-30T03:12:09.114Z  guard-rollback     Rollback guard: alarm-green-5xx-shop-prod entered ALARM …  [blue 50 / green 50 → blue 100 / green 0]`,
    )
    .action(action<{ limit: string }>(async (ctx, o) => runHistory({ suffix: ctx.suffix(), limit: parseIntStrict(o.limit, '--limit', 1, 100_000) }, ctx)));
}
