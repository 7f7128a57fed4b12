/**
 * `bgmig rollback`: the emergency button. Blue 100 / green 0 at once, no gates, no prompt, verified by read-back,
 * idempotent. It loads only the CloudFormation and ELBv2 clients: no CDK, no toolkit, no validator.
 */
import type { Command } from 'commander';
import type { Weights } from '../../core/config.js';
import type { ExitCode } from '../../core/errors.js';
import type { AwsClients } from '../aws.js';
import { action } from '../context.js';
import type { Io } from '../io.js';
import { requireStack } from '../stack.js';
import { formatWeights, trafficTarget, weightBar, writeWeights } from '../traffic.js';

export interface RollbackOptions {
  suffix: string;
}

export interface RollbackResult {
  stack: string;
  before: Weights;
  after: Weights;
  changed: boolean;
  durationMs: number;
}

export const ROLLBACK_WEIGHTS: Weights = { blue: 100, green: 0 };

export async function runRollback(opts: RollbackOptions, deps: { io: Io; aws: AwsClients }): Promise<ExitCode> {
  const started = Date.now();
  const { io, aws } = deps;
  const stack = await requireStack(aws, opts.suffix);
  // No concurrency check: the target state does not depend on what anyone else set — blue takes everything.
  const res = await writeWeights(aws, trafficTarget(stack), ROLLBACK_WEIGHTS);
  const result: RollbackResult = { stack: stack.name, before: res.before, after: res.after, changed: res.changed, durationMs: Date.now() - started };
  io.result(result, () =>
    res.changed
      ? `${io.style.green('✔')} Rolled back ${stack.name}: ${formatWeights(res.before)} → ${formatWeights(res.after)} (verified by read-back, ${result.durationMs} ms)\n  ${weightBar(res.after, { blue: io.style.blue, green: io.style.green })}`
      : `${io.style.green('✔')} ${stack.name} already sends all traffic to blue (${formatWeights(res.after)}, verified): nothing to do.`,
  );
  return 0;
}

export function register(program: Command): void {
  program
    .command('rollback')
    .description('send all traffic back to blue at once (blue 100 / green 0): no gates, no prompt, verified by read-back')
    .addHelpText(
      'after',
      `
Example:
  $ bgmig rollback --suffix shop-prod
  ✔ Rolled back bgmig-shop-prod: blue 70 / green 30 → blue 100 / green 0 (verified by read-back, 412 ms)

Safe to run repeatedly: when blue already has 100 %, it verifies and exits 0.`,
    )
    .action(action(async (ctx) => runRollback({ suffix: ctx.suffix() }, ctx)));
}
