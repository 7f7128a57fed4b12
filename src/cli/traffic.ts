/**
 * Live traffic weights on the stack's HTTPS listener: read them, and write them in ONE ModifyListener call that is
 * guarded by a concurrency check and verified by read-back. Used by promote, rollback, status and deploy, so that
 * there is exactly one implementation of "move traffic" in bgmig.
 */
import type { Action, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { Weights } from '../core/config.js';
import { BgmigError, ExitCode } from '../core/errors.js';
import type { Color } from '../core/naming.js';
import { OutputKey } from '../core/outputs.js';
import type { AwsClients } from './aws.js';
import { output, type StackInfo } from './stack.js';

/** The listener that carries production traffic and the two target groups it weighs. */
export interface TrafficTarget {
  listenerArn: string;
  targetGroupArn: Record<Color, string>;
}

export function trafficTarget(stack: StackInfo): TrafficTarget {
  return {
    listenerArn: output(stack, OutputKey.HttpsListenerArn),
    targetGroupArn: { blue: output(stack, OutputKey.BlueTargetGroupArn), green: output(stack, OutputKey.GreenTargetGroupArn) },
  };
}

export function formatWeights(w: Weights): string {
  return `blue ${w.blue} / green ${w.green}`;
}

export function sameWeights(a: Weights, b: Weights): boolean {
  return a.blue === b.blue && a.green === b.green;
}

async function describeForward(elbv2: ElasticLoadBalancingV2Client, t: TrafficTarget): Promise<Action> {
  const { DescribeListenersCommand } = await import('@aws-sdk/client-elastic-load-balancing-v2');
  let res;
  try {
    res = await elbv2.send(new DescribeListenersCommand({ ListenerArns: [t.listenerArn] }));
  } catch (e) {
    if ((e as { name?: string }).name === 'ListenerNotFoundException') {
      throw new BgmigError(`The stack's HTTPS listener ${t.listenerArn} no longer exists: redeploy the stack with \`bgmig deploy\`.`, ExitCode.Failure, { cause: e });
    }
    throw e;
  }
  const forward = res.Listeners?.[0]?.DefaultActions?.find((a) => a.Type === 'forward');
  if (!forward) {
    throw new BgmigError(
      `The HTTPS listener ${t.listenerArn} has no forward action (someone changed it outside bgmig): redeploy with \`bgmig deploy\` to restore it.`,
      ExitCode.Failure,
    );
  }
  return forward;
}

/** The listener's current weights. A plain forward to one target group counts as 100 % to that color. */
export async function readWeights(aws: AwsClients, t: TrafficTarget): Promise<Weights> {
  return weightsOf(await describeForward(await aws.elbv2(), t), t);
}

function weightsOf(forward: Action, t: TrafficTarget): Weights {
  const groups = forward.ForwardConfig?.TargetGroups ?? (forward.TargetGroupArn ? [{ TargetGroupArn: forward.TargetGroupArn, Weight: 1 }] : []);
  const known = new Set(Object.values(t.targetGroupArn));
  const foreign = groups.filter((g) => g.TargetGroupArn && !known.has(g.TargetGroupArn));
  if (foreign.length > 0) {
    throw new BgmigError(
      `The HTTPS listener forwards to a target group that is not this stack's (${foreign[0].TargetGroupArn}): someone changed it outside bgmig — redeploy with \`bgmig deploy\` before moving traffic.`,
      ExitCode.Failure,
    );
  }
  const raw = {
    blue: groups.find((g) => g.TargetGroupArn === t.targetGroupArn.blue)?.Weight ?? 0,
    green: groups.find((g) => g.TargetGroupArn === t.targetGroupArn.green)?.Weight ?? 0,
  };
  // ALB weights are relative (0–999); bgmig always writes percentages, but report someone else's 1:1 as 50/50.
  const total = raw.blue + raw.green;
  if (total === 0) return { blue: 0, green: 0 };
  if (total === 100) return raw;
  const blue = Math.round((raw.blue * 100) / total);
  return { blue, green: 100 - blue };
}

export interface WriteResult {
  before: Weights;
  after: Weights;
  changed: boolean;
  /** Milliseconds from the write call to the verified read-back. */
  verifyMs: number;
}

export interface WriteOptions {
  /**
   * The weights this command read when it started. Right before the write the live weights are read again and
   * must still equal these; otherwise another operator moved traffic in between and we stop instead of
   * overwriting their decision. Omit for writes whose target does not depend on what was read (rollback).
   */
  expected?: Weights;
}

/**
 * Sets the listener to `desired` in one ModifyListener call (both target groups in one forward action, so there is
 * never an instant where traffic goes to neither), then reads it back and fails unless it took effect.
 */
export async function writeWeights(aws: AwsClients, t: TrafficTarget, desired: Weights, opts: WriteOptions = {}): Promise<WriteResult> {
  const elbv2 = await aws.elbv2();
  const { ModifyListenerCommand } = await import('@aws-sdk/client-elastic-load-balancing-v2');
  const current = await describeForward(elbv2, t);
  const live = weightsOf(current, t);
  if (opts.expected && !sameWeights(live, opts.expected)) {
    // ELBv2 has no conditional write; this check narrows the window to the two calls below.
    throw new BgmigError(
      `Traffic changed while this command ran (it read ${formatWeights(opts.expected)}, the listener now has ${formatWeights(live)}): someone else is moving traffic — check with \`bgmig status\` and re-run if still wanted.`,
      ExitCode.Refused,
      { details: { expected: opts.expected, live } },
    );
  }
  const started = Date.now();
  if (!sameWeights(live, desired)) {
    await elbv2.send(
      new ModifyListenerCommand({
        ListenerArn: t.listenerArn,
        DefaultActions: [
          {
            Type: 'forward',
            ForwardConfig: {
              TargetGroups: [
                { TargetGroupArn: t.targetGroupArn.blue, Weight: desired.blue },
                { TargetGroupArn: t.targetGroupArn.green, Weight: desired.green },
              ],
              // Keep whatever stickiness the template configured.
              ...(current.ForwardConfig?.TargetGroupStickinessConfig ? { TargetGroupStickinessConfig: current.ForwardConfig.TargetGroupStickinessConfig } : {}),
            },
          },
        ],
      }),
    );
  }
  const after = await readWeights(aws, t);
  if (!sameWeights(after, desired)) {
    throw new BgmigError(
      `The listener reports ${formatWeights(after)} after bgmig wrote ${formatWeights(desired)}: traffic may not be where you expect — check with \`bgmig status\` and re-run.`,
      ExitCode.Failure,
      { details: { desired, after } },
    );
  }
  return { before: live, after, changed: !sameWeights(live, desired), verifyMs: Date.now() - started };
}

/** A weight bar for humans: `blue ██████████ 70 % │ green ████ 30 %` (one block per 7 %, at least one when > 0). */
export function weightBar(w: Weights, paint: { blue: (s: string) => string; green: (s: string) => string } = { blue: (s) => s, green: (s) => s }): string {
  const blocks = (n: number) => (n === 0 ? '' : '█'.repeat(Math.max(1, Math.round(n / 7))));
  const side = (c: Color) => `${c} ${paint[c](blocks(w[c]))}${w[c] > 0 ? ' ' : ''}${w[c]} %`;
  return `${side('blue')} │ ${side('green')}`;
}
