/**
 * Health of one color: its target group's target states and its CloudWatch alarms. Shared by promote's gates and
 * status, so both judge "healthy" the same way.
 */
import type { Color } from '../core/naming.js';
import { ColorOutputKey } from '../core/outputs.js';
import type { AlarmReading, AwsPorts } from '../aws/ports.js';
import { output, type StackInfo } from './stack.js';

export interface TargetHealthSummary {
  healthy: number;
  /** Targets that do not serve: unhealthy, unhealthy.draining, unavailable, unused. */
  unhealthy: number;
  draining: number;
  /** Registering targets whose first health checks have not passed yet. */
  initial: number;
  total: number;
  /** Every target: id:port and its state (and reason when not healthy). */
  targets: Array<{ id: string; state: string; reason?: string | undefined }>;
}

export async function targetHealth(aws: Pick<AwsPorts, 'targetHealth'>, targetGroupArn: string): Promise<TargetHealthSummary> {
  const descriptions = await aws.targetHealth.describe(targetGroupArn);
  const s: TargetHealthSummary = { healthy: 0, unhealthy: 0, draining: 0, initial: 0, total: 0, targets: [] };
  for (const d of descriptions) {
    const state = d.TargetHealth?.State ?? 'unknown';
    s.total++;
    if (state === 'healthy') s.healthy++;
    else if (state === 'draining') s.draining++;
    else if (state === 'initial') s.initial++;
    // Everything else counts against the color: unhealthy, unhealthy.draining, unavailable, and "unused" — a target
    // the load balancer will not send traffic to (stopped instance, AZ not enabled) is not capacity — and any
    // state this code does not know, which is no evidence of health.
    else s.unhealthy++;
    s.targets.push({ id: `${d.Target?.Id ?? '?'}:${d.Target?.Port ?? '?'}`, state, ...(d.TargetHealth?.Reason ? { reason: d.TargetHealth.Reason } : {}) });
  }
  return s;
}

/** An alarm's state; "MISSING" for an alarm the stack lists and CloudWatch does not have. */
export type AlarmState = AlarmReading;

export function alarmNamesOf(stack: StackInfo, color: Color): string[] {
  const raw = output(stack, ColorOutputKey[color].alarmNames);
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/**
 * States of the named alarms, in the given order. An alarm listed by the stack but missing in CloudWatch is
 * reported as "MISSING" (a deleted alarm cannot protect anything, so it counts as a problem).
 */
export async function alarmStates(aws: Pick<AwsPorts, 'alarms'>, alarmNames: string[]): Promise<AlarmState[]> {
  if (alarmNames.length === 0) return [];
  const found = new Map<string, AlarmState>();
  for (const a of await aws.alarms.describe(alarmNames)) found.set(a.name, a);
  return alarmNames.map((name) => found.get(name) ?? { name, state: 'MISSING' });
}
