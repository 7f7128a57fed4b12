/**
 * `bgmig history`: one timeline per stack, newest first — every promote step, rollback, rollout start/hold/abort/
 * completion, rollback-guard action and lease event bgmig journaled, joined with the cutover function's database
 * records (all under journal/ in the artifacts bucket).
 */
import type { AwsPorts } from '../../aws/ports.js';
import type { ChalkInstance } from 'chalk';
import type { Command } from 'commander';
import { OutputKey } from '../../core/outputs.js';
import type { HistoryEntry } from '../../rollout/journal.js';
import { action, parseIntStrict } from '../context.js';
import { output, requireStack } from '../../deployed/stack.js';
import { formatWeights } from '../../deployed/traffic.js';
import { emit, type RunF } from '../verb.js';

export interface HistoryOptions {
  /** The validated environment suffix (the stack is bgmig-<suffix>). */
  suffix: string;
  /** Newest N entries (default 50). */
  limit?: number | undefined;
}

/** The --json document: the stack, its artifacts bucket, and the journal entries newest first (without raw records). */
export interface HistoryResult {
  stack: string;
  bucket: string;
  entries: Array<Omit<HistoryEntry, 'record'>>;
}

/**
 * Reads the newest journal entries of the stack (s3://<artifacts bucket>/journal/). Throws BgmigError when the stack
 * or its bucket output is missing (exit 1); AWS errors propagate to action().
 */
export async function runHistory(opts: HistoryOptions, deps: { aws: AwsPorts }): Promise<HistoryResult> {
  const { aws } = deps;
  const stack = await requireStack(aws, opts.suffix);
  const bucket = output(stack, OutputKey.ArtifactsBucketName);
  const { readHistory } = await import('../../rollout/journal.js');
  const entries = await readHistory(aws.objects, bucket, { limit: opts.limit ?? 50 });
  return { stack: stack.name, bucket, entries: entries.map(({ record: _record, ...e }) => e) };
}

/** One line per entry, newest first; rollbacks and aborts in red, holds, disarms and forced actions in yellow. */
export function renderHistory(r: HistoryResult, st: ChalkInstance): string {
  if (r.entries.length === 0) return `No journal records yet for ${r.stack} (s3://${r.bucket}/journal/).`;
  const color = (kind: string) => (/rollback|abort/.test(kind) ? st.red(kind) : /hold|disarm|force|takeover|noop/.test(kind) ? st.yellow(kind) : kind);
  return [
    `${st.bold(r.stack)} — ${r.entries.length} event(s), newest first`,
    ...r.entries.map((e) => {
      const moved = e.from && e.to ? `  [${formatWeights(e.from)} → ${formatWeights(e.to)}]` : '';
      return `${e.at}  ${color(e.kind.padEnd(18))} ${e.summary}${moved}  ${st.dim(`by ${e.who}`)}`;
    }),
  ].join('\n');
}

export function register(program: Command, runF: RunF<HistoryOptions> = async (opts, ctx) => emit(ctx.io, await runHistory(opts, ctx), renderHistory)): void {
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
    .action(action<{ limit: string }>(async (ctx, o) => runF({ suffix: ctx.suffix(), limit: parseIntStrict(o.limit, '--limit', 1, 100_000) }, ctx)));
}
