/**
 * `bgmig rollback`: the emergency button. Blue 100 / green 0 at once, no gates, no prompt, no lease (a running
 * rollout notices at its next poll and stops), verified from ModifyListener's answer, idempotent, journaled.
 * Three AWS calls put blue at 100 % (DescribeStacks, DescribeListeners, ModifyListener); the journal record
 * (GetCallerIdentity, PutObject) is written after that and never delays it. It loads only the CloudFormation,
 * ELBv2, STS and S3 clients: no CDK, no toolkit, no validator.
 */
import type { Command } from 'commander';
import type { Weights } from '../../core/config.js';
import type { ExitCode } from '../../core/errors.js';
import { rollbackListener, type WriteResult } from '../../rollout/listener.js';
import type { RecordInput, TrafficSession } from '../../rollout/session.js';
import type { AwsClients } from '../aws.js';
import { action } from '../context.js';
import type { Io } from '../io.js';
import { requireStack } from '../stack.js';
import { formatWeights, weightBar } from '../traffic.js';

export interface RollbackOptions {
  suffix: string;
}

export interface RollbackResult {
  stack: string;
  before: Weights;
  after: Weights;
  changed: boolean;
  durationMs: number;
  /** The journal record (undefined when it could not be written; a warning says so). */
  journalKey?: string | undefined;
}

/**
 * The one rollback: blue 100 / green 0 on the session's listener, then a journal record. Used by this command and by
 * promote's automatic rollback (kind 'rollout-rollback', with the check that decided it).
 */
export async function rollbackTraffic(
  s: TrafficSession,
  record: Omit<RecordInput, 'from' | 'to' | 'summary'> & { why: string },
): Promise<{ res: WriteResult; journalKey: string | undefined }> {
  const res = await rollbackListener(await s.aws.elbv2(), s.target);
  const { why, ...rest } = record;
  const journalKey = await s.record({
    ...rest,
    from: res.before,
    to: res.after,
    summary: res.changed
      ? `${why}: ${formatWeights(res.before)} → ${formatWeights(res.after)} (verified)`
      : `${why}: blue already had 100 % (verified), nothing changed`,
  });
  return { res, journalKey };
}

export async function runRollback(opts: RollbackOptions, deps: { io: Io; aws: AwsClients }): Promise<ExitCode> {
  const started = Date.now();
  const { io, aws } = deps;
  const stack = await requireStack(aws, opts.suffix);
  const { TrafficSession } = await import('../../rollout/session.js');
  const s = TrafficSession.open(aws, io, stack, opts.suffix);
  const { res, journalKey } = await rollbackTraffic(s, { kind: 'rollback', why: 'bgmig rollback' });
  const result: RollbackResult = {
    stack: stack.name,
    before: res.before,
    after: res.after,
    changed: res.changed,
    durationMs: Date.now() - started,
    journalKey,
  };
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

Safe to run repeatedly: when blue already has 100 %, it verifies and exits 0. Never refused: a running
\`promote --steps\` rollout notices at its next poll and stops. Every run is journaled (\`bgmig history\`).`,
    )
    .action(action(async (ctx) => runRollback({ suffix: ctx.suffix() }, ctx)));
}
