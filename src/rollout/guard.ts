/**
 * The rollback guard's logic, shared by the Lambda (src/lambda/rollback-guard.ts, a thin shell) and tests: given a
 * "CloudWatch Alarm State Change" event from EventBridge
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-and-eventbridge.html), decide whether
 * to roll back (a green alarm entered ALARM while green has traffic), then set blue 100 / green 0 on exactly the
 * configured listener with the same code as `bgmig rollback` and journal what it did. Green at 0 is a no-op.
 */
import type { Listeners, ObjectStore } from '../aws/ports.js';
import type { Weights } from '../core/config.js';
import { RollbackGuardEnv, requireEnv } from '../core/lambda-env.js';
import { appendRecord, type TrafficRecord } from './journal.js';
import { formatWeights, rollbackListener, type TrafficTarget } from '../deployed/listener.js';
import { firstLine, messageOf, WHOLE_LINE } from '../core/errors.js';

/** The part of EventBridge's alarm state change event the guard reads. */
export interface AlarmStateChangeEvent {
  source: string;
  'detail-type': string;
  time?: string | undefined;
  resources?: string[] | undefined;
  detail: {
    alarmName: string;
    state: { value: string; reason?: string | undefined; timestamp?: string | undefined };
    previousState?: { value: string } | undefined;
  };
}

export interface GuardConfig {
  suffix: string;
  target: TrafficTarget;
  greenAlarmNames: string[];
  bucket: string;
}

/** Reads the function's environment (RollbackGuardEnv); raises an Error naming the missing variable. */
export function guardConfigFrom(env: NodeJS.ProcessEnv): GuardConfig {
  const need = (k: string) => requireEnv(env, k, 'rollback guard');
  return {
    suffix: need(RollbackGuardEnv.Suffix),
    target: {
      listenerArn: need(RollbackGuardEnv.ListenerArn),
      targetGroupArn: { blue: need(RollbackGuardEnv.BlueTargetGroupArn), green: need(RollbackGuardEnv.GreenTargetGroupArn) },
    },
    greenAlarmNames: need(RollbackGuardEnv.GreenAlarmNames)
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== ''),
    bucket: need(RollbackGuardEnv.ArtifactsBucket),
  };
}

export type GuardDecision = { act: 'rollback'; reason: string } | { act: 'noop'; reason: string } | { act: 'ignore'; reason: string };

/** Pure: what the guard does for this event and these live weights. */
export function decideGuard(event: AlarmStateChangeEvent, cfg: Pick<GuardConfig, 'greenAlarmNames'>, live: Weights | undefined): GuardDecision {
  if (event.source !== 'aws.cloudwatch' || event['detail-type'] !== 'CloudWatch Alarm State Change') {
    return { act: 'ignore', reason: `not an alarm state change (${event.source} / ${event['detail-type']})` };
  }
  const name = event.detail?.alarmName;
  if (!cfg.greenAlarmNames.includes(name)) return { act: 'ignore', reason: `${name} is not one of green's alarms` };
  if (event.detail.state?.value !== 'ALARM') return { act: 'ignore', reason: `${name} went to ${event.detail.state?.value}, not ALARM` };
  if (live && live.green === 0) return { act: 'noop', reason: `${name} is in ALARM but green already has 0 % (${formatWeights(live)})` };
  return { act: 'rollback', reason: `${name} entered ALARM${event.detail.state.reason ? ` (${event.detail.state.reason})` : ''}` };
}

export interface GuardResult {
  action: GuardDecision['act'];
  reason: string;
  before?: Weights | undefined;
  after?: Weights | undefined;
  journalKey?: string | undefined;
  journalError?: string | undefined;
  durationMs: number;
}

export interface GuardDeps {
  listeners: Listeners;
  objects: ObjectStore;
  /** Who the journal names (the function's ARN or name). */
  who: string;
  now?: () => Date;
}

/**
 * Handles one event. The rollback itself is the decisive part; the journal write that follows is best-effort
 * (reported in the result and the log, never undoing a rollback).
 */
export async function runGuard(event: AlarmStateChangeEvent, cfg: GuardConfig, deps: GuardDeps): Promise<GuardResult> {
  const started = Date.now();
  const now = deps.now ?? (() => new Date());
  const pre = decideGuard(event, cfg, undefined);
  if (pre.act === 'ignore') return { action: 'ignore', reason: pre.reason, durationMs: Date.now() - started };
  let decision: GuardDecision = pre;
  let before: Weights | undefined;
  let after: Weights | undefined;
  // rollbackListener reads before it writes and does nothing when blue already has everything: one read, no race.
  const res = await rollbackListener(deps.listeners, cfg.target);
  before = res.before;
  after = res.after;
  if (!res.changed) decision = decideGuard(event, cfg, res.before);
  const record: TrafficRecord = {
    type: 'traffic',
    kind: decision.act === 'rollback' ? 'guard-rollback' : 'guard-noop',
    source: 'rollback-guard',
    suffix: cfg.suffix,
    at: now().toISOString(),
    who: deps.who,
    summary:
      decision.act === 'rollback'
        ? `Rollback guard: ${decision.reason}; set ${formatWeights(before)} → ${formatWeights(after)} (verified)`
        : `Rollback guard: ${decision.reason}; nothing to do`,
    from: before,
    to: after,
    alarm: { name: event.detail.alarmName, state: event.detail.state.value, reason: event.detail.state.reason },
  };
  try {
    const key = await appendRecord(deps.objects, cfg.bucket, record);
    return { action: decision.act, reason: decision.reason, before, after, journalKey: key, durationMs: Date.now() - started };
  } catch (e) {
    return {
      action: decision.act,
      reason: decision.reason,
      before,
      after,
      journalError: firstLine(messageOf(e), WHOLE_LINE),
      durationMs: Date.now() - started,
    };
  }
}
