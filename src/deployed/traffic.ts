/**
 * Live traffic weights on the stack's HTTPS listener for CLI commands: locate the listener from the stack's outputs
 * and delegate to src/deployed/listener.ts, the one implementation of "move traffic" that promote, rollback, status,
 * deploy and the rollback guard Lambda all use.
 */
import type { Weights } from '../core/config.js';
import { OutputKey } from '../core/outputs.js';
import { readListenerWeights, type TrafficTarget, type WriteOptions, type WriteResult, writeListenerWeights } from './listener.js';
import type { AwsPorts } from '../aws/ports.js';
import { output, type StackInfo } from './stack.js';

export { formatWeights, sameWeights, type TrafficTarget, type WriteOptions, type WriteResult } from './listener.js';

export function trafficTarget(stack: StackInfo): TrafficTarget {
  return {
    listenerArn: output(stack, OutputKey.HttpsListenerArn),
    targetGroupArn: { blue: output(stack, OutputKey.BlueTargetGroupArn), green: output(stack, OutputKey.GreenTargetGroupArn) },
  };
}

/** The listener's current weights. A plain forward to one target group counts as 100 % to that color. */
export async function readWeights(aws: Pick<AwsPorts, 'listeners'>, t: TrafficTarget): Promise<Weights> {
  return readListenerWeights(aws.listeners, t);
}

/**
 * Sets the listener to `desired` in one ModifyListener call (both target groups in one forward action, so there is
 * never an instant where traffic goes to neither), then reads it back and fails unless it took effect.
 */
export async function writeWeights(aws: Pick<AwsPorts, 'listeners'>, t: TrafficTarget, desired: Weights, opts: WriteOptions = {}): Promise<WriteResult> {
  return writeListenerWeights(aws.listeners, t, desired, opts);
}

/** A weight bar for humans: `blue ██████████ 70 % │ green ████ 30 %` (one block per 7 %, at least one when > 0). */
export function weightBar(w: Weights, paint: { blue: (s: string) => string; green: (s: string) => string } = { blue: (s) => s, green: (s) => s }): string {
  const blocks = (n: number) => (n === 0 ? '' : '█'.repeat(Math.max(1, Math.round(n / 7))));
  const side = (c: 'blue' | 'green') => `${c} ${paint[c](blocks(w[c]))}${w[c] > 0 ? ' ' : ''}${w[c]} %`;
  return `${side('blue')} │ ${side('green')}`;
}
