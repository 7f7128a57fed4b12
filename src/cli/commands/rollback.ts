/**
 * `bgmig rollback`: the emergency button. Blue 100 / green 0 at once, no gates, no prompt, no lease (a running
 * rollout notices at its next poll and stops), verified from ModifyListener's answer, idempotent, journaled.
 * Three AWS calls put blue at 100 % (DescribeStacks, DescribeListeners, ModifyListener); the journal record
 * (GetCallerIdentity, PutObject) is written after that and never delays it. It loads only the CloudFormation,
 * ELBv2, STS and S3 clients: no CDK, no toolkit, no validator.
 */
import type { ChalkInstance } from 'chalk';
import type { Command } from 'commander';
import type { AwsPorts } from '../../aws/ports.js';
import type { Weights } from '../../core/config.js';
import { requireStack } from '../../deployed/stack.js';
import { formatWeights, weightBar } from '../../deployed/traffic.js';
import { action } from '../context.js';
import type { Io } from '../io.js';
import { emit, type RunF } from '../verb.js';

export interface RollbackOptions {
  /** The validated environment suffix (the stack is bgmig-<suffix>). */
  suffix: string;
}

export interface RollbackResult {
  stack: string;
  /** Weights read before the move, in percent. */
  before: Weights;
  /** Weights verified after the move (always blue 100 / green 0), in percent. */
  after: Weights;
  /** False when blue already had 100 % (nothing was written). */
  changed: boolean;
  durationMs: number;
  /** The journal record (undefined when it could not be written; a warning says so). */
  journalKey?: string | undefined;
}

/**
 * Puts blue at 100 % on the stack's listener and journals it. Throws BgmigError when the stack or listener is
 * missing (exit 1) and the AWS error otherwise (mapped to "cannot reach"/throttling by the caller's action()).
 */
export async function runRollback(opts: RollbackOptions, deps: { io: Io; aws: AwsPorts }): Promise<RollbackResult> {
  const started = Date.now();
  const stack = await requireStack(deps.aws, opts.suffix);
  const { TrafficSession, rollbackTraffic } = await import('../../rollout/session.js');
  const s = TrafficSession.open(deps.aws, deps.io, stack, opts.suffix);
  const { res, journalKey } = await rollbackTraffic(s, { kind: 'rollback', why: 'bgmig rollback' });
  return { stack: stack.name, before: res.before, after: res.after, changed: res.changed, durationMs: Date.now() - started, journalKey };
}

export function renderRollback(r: RollbackResult, style: ChalkInstance): string {
  return r.changed
    ? `${style.green('✔')} Rolled back ${r.stack}: ${formatWeights(r.before)} → ${formatWeights(r.after)} (verified by read-back, ${r.durationMs} ms)\n  ${weightBar(r.after, { blue: style.blue, green: style.green })}`
    : `${style.green('✔')} ${r.stack} already sends all traffic to blue (${formatWeights(r.after)}, verified): nothing to do.`;
}

export function register(
  program: Command,
  runF: RunF<RollbackOptions> = async (opts, ctx) => emit(ctx.io, await runRollback(opts, ctx), renderRollback),
): void {
  program
    .command('rollback')
    .description('send all traffic back to blue at once (blue 100 / green 0): no gates, no prompt, verified by read-back')
    .addHelpText(
      'after',
      `
Example:
  $ bgmig rollback --suffix shop-prod
  ✔ Rolled back bgmig-shop-prod: blue 70 / green 30 → blue 100 / green 0 (verified by read-back, 412 ms)

Safe to run repeatedly: when blue already has 100 %, it verifies and exits 0. Never refused: a running
\`promote --steps\` rollout notices at its next poll and stops. Every run is journaled (\`bgmig history\`).`,
    )
    .action(action(async (ctx) => runF({ suffix: ctx.suffix() }, ctx)));
}
