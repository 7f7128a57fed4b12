/**
 * The one implementation of "move traffic" on the stack's HTTPS listener, over the Listeners port so that the CLI
 * (src/deployed/traffic.ts wraps it) and the rollback guard Lambda share it. Reads the weighted forward action, writes
 * both target groups in ONE ModifyListener call (there is never an instant where traffic goes to neither), and
 * verifies the result.
 *
 * ModifyListener answers with the listener as modified ("Listeners: information about the modified listener",
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_ModifyListener.html): the emergency path
 * (rollback, the guard) verifies from that answer instead of a second DescribeListeners, one API call fewer on the
 * way back; promote steps verify with a fresh DescribeListeners.
 */
import type { Action, Listener, Listeners } from '../aws/ports.js';
import type { Weights } from '../core/config.js';
import { failure, refused } from '../core/errors.js';
import type { Color } from '../core/naming.js';
import { isAwsError } from '../core/aws-error.js';

/** The listener that carries production traffic and the two target groups it weighs. */
export interface TrafficTarget {
  listenerArn: string;
  targetGroupArn: Record<Color, string>;
}

export const ROLLBACK_WEIGHTS: Weights = { blue: 100, green: 0 };

export function formatWeights(w: Weights): string {
  return `blue ${w.blue} / green ${w.green}`;
}

export function sameWeights(a: Weights, b: Weights): boolean {
  return a.blue === b.blue && a.green === b.green;
}

function forwardOf(listener: Listener | undefined, t: TrafficTarget): Action {
  const forward = listener?.DefaultActions?.find((a) => a.Type === 'forward');
  if (!forward) {
    throw failure(
      `The HTTPS listener ${t.listenerArn} has no forward action (someone changed it outside bgmig): redeploy with \`bgmig deploy\` to restore it.`,
    );
  }
  return forward;
}

export async function describeForward(listeners: Listeners, t: TrafficTarget): Promise<Action> {
  let listener: Listener | undefined;
  try {
    listener = await listeners.describe(t.listenerArn);
  } catch (e) {
    if (isAwsError(e, 'ListenerNotFoundException')) {
      throw failure(`The stack's HTTPS listener ${t.listenerArn} no longer exists: redeploy the stack with \`bgmig deploy\`.`, e);
    }
    throw e;
  }
  return forwardOf(listener, t);
}

/** Percentages of a forward action. A plain forward to one target group counts as 100 % to that colour. */
export function weightsOf(forward: Action, t: TrafficTarget): Weights {
  const groups = forward.ForwardConfig?.TargetGroups ?? (forward.TargetGroupArn ? [{ TargetGroupArn: forward.TargetGroupArn, Weight: 1 }] : []);
  const known = new Set(Object.values(t.targetGroupArn));
  const foreign = groups.filter((g) => g.TargetGroupArn && !known.has(g.TargetGroupArn));
  if (foreign.length > 0) {
    throw failure(
      `The HTTPS listener forwards to a target group that is not this stack's (${foreign[0].TargetGroupArn}): someone changed it outside bgmig — redeploy with \`bgmig deploy\` before moving traffic.`,
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

export async function readListenerWeights(listeners: Listeners, t: TrafficTarget): Promise<Weights> {
  return weightsOf(await describeForward(listeners, t), t);
}

export interface WriteResult {
  before: Weights;
  after: Weights;
  changed: boolean;
  /** Milliseconds from the write call to the verified read-back. */
  verifyMs: number;
  /** AWS calls this write made (the benchmark counts them). */
  calls: number;
}

export interface WriteOptions {
  /**
   * The weights this command read when it started. Right before the write the live weights are read again and
   * must still equal these; otherwise another operator moved traffic in between and we stop instead of
   * overwriting their decision. Omit for writes whose target does not depend on what was read (rollback).
   */
  expected?: Weights | undefined;
  /**
   * 'describe' (default): read back with a fresh DescribeListeners. 'response': trust ModifyListener's answer,
   * which describes the listener after the change (the emergency path saves a call).
   */
  verify?: 'describe' | 'response';
}

/**
 * Sets the listener to `desired` in one ModifyListener call, then verifies and fails (exit 1) unless it took effect.
 * Raises a refused BgmigError (exit 3) when `expected` no longer matches the live weights.
 */
export async function writeListenerWeights(listeners: Listeners, t: TrafficTarget, desired: Weights, opts: WriteOptions = {}): Promise<WriteResult> {
  const current = await describeForward(listeners, t);
  let calls = 1;
  const live = weightsOf(current, t);
  if (opts.expected && !sameWeights(live, opts.expected)) {
    // ELBv2 has no conditional write; this check narrows the window to the two calls below.
    throw refused(
      `Traffic changed while this command ran (it read ${formatWeights(opts.expected)}, the listener now has ${formatWeights(live)}): someone else is moving traffic — check with \`bgmig status\` and re-run if still wanted.`,
      { expected: opts.expected, live },
    );
  }
  const started = Date.now();
  if (sameWeights(live, desired)) return { before: live, after: live, changed: false, verifyMs: 0, calls };
  const answered = await listeners.setDefaultActions(t.listenerArn, [
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
  ]);
  calls++;
  let after: Weights;
  if (opts.verify === 'response' && answered?.DefaultActions) after = weightsOf(forwardOf(answered, t), t);
  else {
    after = await readListenerWeights(listeners, t);
    calls++;
  }
  if (!sameWeights(after, desired)) {
    throw failure(
      `The listener reports ${formatWeights(after)} after bgmig wrote ${formatWeights(desired)}: traffic may not be where you expect — check with \`bgmig status\` and re-run.`,
      undefined,
      { desired, after },
    );
  }
  return { before: live, after, changed: true, verifyMs: Date.now() - started, calls };
}

/** Blue 100 / green 0: the one rollback used by `bgmig rollback`, the rollout's automatic rollback and the guard. */
export function rollbackListener(listeners: Listeners, t: TrafficTarget): Promise<WriteResult> {
  // No concurrency check: the target state does not depend on what anyone else set — blue takes everything.
  return writeListenerWeights(listeners, t, ROLLBACK_WEIGHTS, { verify: 'response' });
}
