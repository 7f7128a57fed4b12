/**
 * Pure rollout decisions, beside the I/O that feeds them (src/rollout/run.ts): which steps a rollout still has
 * to take, which gates a traffic change needs, how one bake poll is judged (green's alarms, green's target health,
 * green against blue from the ALB's per-target-group metrics), when a run of inconclusive polls counts as a failure,
 * whether a held rollout can resume, and whether a lease is free. No AWS, no clock: every input is an observation.
 *
 * The metric comparison follows the canary-analysis idea of Argo Rollouts and Flagger (judge the new version against
 * the old one over the same window) with the ALB's own metrics, documented at
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html
 * (RequestCount and HTTPCode_Target_5XX_Count are Sum statistics; TargetResponseTime takes percentiles).
 */
import type { Weights } from '../core/config.js';
import { badInput } from '../core/errors.js';

/** Green's share at each step of a rollout, in percent: strictly increasing, each 1–100. */
export type Steps = readonly number[];

/**
 * Parses `--steps 10,25,50,100`. Raises a bad-input BgmigError (exit 2) for anything that is not a strictly
 * increasing list of whole percentages from 1 to 100.
 */
export function parseSteps(value: string): number[] {
  const parts = value.split(',').map((s) => s.trim());
  if (parts.length === 0 || parts.some((p) => !/^\d+$/.test(p))) {
    throw badInput(`--steps must be a comma-separated list of green percentages like 10,25,50,100, got "${value}".`);
  }
  const steps = parts.map(Number);
  for (let i = 0; i < steps.length; i++) {
    if (steps[i] < 1 || steps[i] > 100) throw badInput(`--steps: every step must be from 1 to 100 (green's share in percent), got ${steps[i]}.`);
    if (i > 0 && steps[i] <= steps[i - 1])
      throw badInput(`--steps must increase strictly (each step gives green more traffic), got ${steps[i - 1]} then ${steps[i]}.`);
  }
  return steps;
}

export function weightsFor(green: number): Weights {
  return { blue: 100 - green, green };
}

/**
 * The gates a change of weights needs. Raising green's share needs every gate; lowering it (or leaving it) is a move
 * toward safety and needs none — a firing green alarm is a reason to lower, never a reason to refuse (issue 16).
 */
export function gatesRequired(from: Weights, to: Weights): { required: boolean; reason: string } {
  if (to.green > from.green) return { required: true, reason: `green's share rises from ${from.green} % to ${to.green} %` };
  if (to.green < from.green)
    return { required: false, reason: `green's share falls from ${from.green} % to ${to.green} %: a move toward safety needs no gate` };
  return { required: false, reason: `green already has ${to.green} %` };
}

/** Where a rollout starts, given the live weights: the first step that gives green more than it has now. */
export interface RolloutStartDecision {
  /** Index into steps of the first step to take; steps.length when nothing is left. */
  first: number;
  /** Steps skipped because green already has at least that share (shown to the operator). */
  skipped: number[];
}

export function decideRolloutStart(live: Weights, steps: Steps): RolloutStartDecision {
  const first = steps.findIndex((s) => s > live.green);
  const at = first === -1 ? steps.length : first;
  return { first: at, skipped: steps.slice(0, at) };
}

/** Thresholds of the bake analysis. Ratios compare green with blue over the same window. */
export interface Thresholds {
  /** Green's 5xx share may be at most this multiple of blue's (default 2). */
  max5xxRatio: number;
  /** A green 5xx share at or below this fraction (0–1) always passes, whatever blue's is (default 0.01 = 1 %). */
  floor5xxShare: number;
  /** Green's latency statistic may be at most this multiple of blue's (default 1.5). */
  maxLatencyRatio: number;
  /** A green latency at or below this many seconds always passes (default 0.1 s). */
  latencyFloorSeconds: number;
  /** Each colour needs at least this many requests in the window for a metric verdict (default 50). */
  minRequests: number;
  /** This many inconclusive polls in a row fail the rollout (default 3). */
  maxInconclusive: number;
  /**
   * Milliseconds after a step's weights are set during which inconclusive polls do not count toward maxInconclusive
   * (default 120 000): the ALB sends CloudWatch one datapoint per minute and they arrive with a delay, so the first
   * polls of a step often see no green traffic yet. Alarms, target health and a conclusive failing metric still roll
   * back at once.
   */
  metricsGraceMs: number;
  /** The TargetResponseTime statistic compared: a percentile like p99 (default) or Average / Maximum. */
  latencyStat: string;
}

export const DEFAULT_THRESHOLDS: Thresholds = {
  max5xxRatio: 2,
  floor5xxShare: 0.01,
  maxLatencyRatio: 1.5,
  latencyFloorSeconds: 0.1,
  minRequests: 50,
  maxInconclusive: 3,
  metricsGraceMs: 120_000,
  latencyStat: 'p99',
};

/** One colour's ALB figures over the window; null = the metric could not be read (not "zero"). */
export interface ColorFigures {
  requests: number | null;
  errors5xx: number | null;
  /** Seconds, the configured statistic of TargetResponseTime; null when unread or no datapoint. */
  latency: number | null;
}

export interface MetricsObservation {
  green: ColorFigures;
  blue: ColorFigures;
  /** Why a metric could not be read (one line), when one could not. */
  errors: string[];
}

/** Blue's figures used as the comparison baseline, kept from an earlier poll when blue has no traffic now (green 100). */
export interface Baseline {
  share5xx: number;
  latency: number | null;
  /** Where the baseline comes from, e.g. "this window" or "step 3 (green 50 %)". */
  from: string;
}

export interface PollObservation {
  /** Live weights read this poll. */
  live: Weights;
  /** What the rollout set at this step. */
  expected: Weights;
  /** False when the lease could not be renewed (someone force-unlocked it). */
  leaseHeld: boolean;
  /** Green's alarms (name + state). */
  alarms: Array<{ name: string; state: string }>;
  /** Green's target health counts, plus one non-serving target as an example. */
  health: { healthy: number; unhealthy: number; sample?: string | undefined };
  metrics: MetricsObservation;
}

export type CheckName = 'traffic' | 'lease' | 'green-alarms' | 'green-health' | '5xx-ratio' | 'latency-ratio';
export type CheckStatus = 'pass' | 'fail' | 'inconclusive';

export interface CheckResult {
  check: CheckName;
  status: CheckStatus;
  /** One clause with the figures, e.g. "green 7.0 % 5xx (7/100) vs blue 0.5 % (1/200), limit 2.0 %". */
  detail: string;
}

/**
 * A poll's verdict. `stop`: traffic or the lease changed under the rollout (someone rolled back, force-unlocked or
 * moved traffic): the rollout stops without touching traffic. `fail`: roll back. `inconclusive`: a metric could not
 * be judged (too few requests, unreadable); `pass`: every check passed.
 */
export interface PollVerdict {
  status: 'pass' | 'fail' | 'inconclusive' | 'stop';
  checks: CheckResult[];
  /** The first check that decided a fail or stop. */
  decisive?: CheckResult | undefined;
  /** The baseline to carry to later polls (blue's figures when they were conclusive this window). */
  baseline?: Baseline | undefined;
}

const pct = (x: number) => `${(x * 100).toFixed(x < 0.01 ? 2 : 1)} %`;
const secs = (x: number) => (x < 1 ? `${Math.round(x * 1000)} ms` : `${x.toFixed(2)} s`);

function judge5xx(m: MetricsObservation, t: Thresholds, baseline: Baseline | undefined): { result: CheckResult; baseline?: Baseline } {
  const g = m.green;
  const b = m.blue;
  if (g.requests === null || g.errors5xx === null)
    return {
      result: { check: '5xx-ratio', status: 'inconclusive', detail: `green's request metrics could not be read${m.errors[0] ? ` (${m.errors[0]})` : ''}` },
    };
  if (g.requests < t.minRequests) {
    return {
      result: {
        check: '5xx-ratio',
        status: 'inconclusive',
        detail: `green served ${g.requests} request(s) in the window, fewer than the ${t.minRequests} needed for a verdict`,
      },
    };
  }
  const gShare = g.errors5xx / g.requests;
  let base: Baseline | undefined;
  let newBaseline: Baseline | undefined;
  if (b.requests !== null && b.errors5xx !== null && b.requests >= t.minRequests) {
    base = { share5xx: b.errors5xx / b.requests, latency: b.latency, from: 'this window' };
    newBaseline = base;
  } else if (baseline) base = baseline;
  const greenText = `green ${pct(gShare)} 5xx (${g.errors5xx}/${g.requests})`;
  if (gShare <= t.floor5xxShare) {
    return {
      result: { check: '5xx-ratio', status: 'pass', detail: `${greenText}, at or below the ${pct(t.floor5xxShare)} floor` },
      ...(newBaseline ? { baseline: newBaseline } : {}),
    };
  }
  if (!base) {
    return {
      result: {
        check: '5xx-ratio',
        status: 'inconclusive',
        detail: `${greenText} but blue served too few requests (${b.requests ?? 'unread'}) to compare with, and no earlier baseline`,
      },
    };
  }
  const limit = Math.max(base.share5xx * t.max5xxRatio, t.floor5xxShare);
  const blueText =
    base.from === 'this window' && b.requests !== null && b.errors5xx !== null
      ? `blue ${pct(base.share5xx)} (${b.errors5xx}/${b.requests})`
      : `blue ${pct(base.share5xx)} (baseline from ${base.from})`;
  const status: CheckStatus = gShare > limit ? 'fail' : 'pass';
  return {
    result: { check: '5xx-ratio', status, detail: `${greenText} vs ${blueText}, limit ${pct(limit)} (${t.max5xxRatio}× blue, floor ${pct(t.floor5xxShare)})` },
    ...(newBaseline ? { baseline: newBaseline } : {}),
  };
}

function judgeLatency(m: MetricsObservation, t: Thresholds, base: Baseline | undefined): CheckResult {
  const g = m.green;
  const stat = t.latencyStat;
  if (g.requests !== null && g.requests < t.minRequests) {
    return {
      check: 'latency-ratio',
      status: 'inconclusive',
      detail: `green served ${g.requests} request(s), fewer than the ${t.minRequests} needed for a verdict`,
    };
  }
  if (g.latency === null)
    return {
      check: 'latency-ratio',
      status: 'inconclusive',
      detail: `green's ${stat} TargetResponseTime could not be read${m.errors[0] ? ` (${m.errors[0]})` : ' (no datapoint)'}`,
    };
  const greenText = `green ${stat} ${secs(g.latency)}`;
  if (g.latency <= t.latencyFloorSeconds)
    return { check: 'latency-ratio', status: 'pass', detail: `${greenText}, at or below the ${secs(t.latencyFloorSeconds)} floor` };
  const blue = base?.latency ?? null;
  if (blue === null)
    return {
      check: 'latency-ratio',
      status: 'inconclusive',
      detail: `${greenText} but blue's ${stat} is unknown (too few requests or unread), nothing to compare with`,
    };
  const limit = Math.max(blue * t.maxLatencyRatio, t.latencyFloorSeconds);
  return {
    check: 'latency-ratio',
    status: g.latency > limit ? 'fail' : 'pass',
    detail: `${greenText} vs blue ${secs(blue)}${base && base.from !== 'this window' ? ` (baseline from ${base.from})` : ''}, limit ${secs(limit)} (${t.maxLatencyRatio}× blue)`,
  };
}

/**
 * Judges one bake poll. Order matters for the decisive check: first whether the rollout still owns traffic (a
 * rollback or another operator wins: stop), then the lease, then green's alarms, green's targets, and the metrics.
 */
export function judgePoll(o: PollObservation, t: Thresholds, carried?: Baseline): PollVerdict {
  const checks: CheckResult[] = [];
  if (o.live.blue !== o.expected.blue || o.live.green !== o.expected.green) {
    const who = o.live.green === 0 ? 'traffic was rolled back to blue' : 'someone else moved traffic';
    const c: CheckResult = {
      check: 'traffic',
      status: 'fail',
      detail: `${who} (the listener has blue ${o.live.blue} / green ${o.live.green}, the rollout set blue ${o.expected.blue} / green ${o.expected.green})`,
    };
    return { status: 'stop', checks: [c], decisive: c };
  }
  if (!o.leaseHeld) {
    const c: CheckResult = { check: 'lease', status: 'fail', detail: 'the rollout lease was taken away (force-unlocked) and could not be renewed' };
    return { status: 'stop', checks: [c], decisive: c };
  }
  const fired = o.alarms.filter((a) => a.state === 'ALARM');
  checks.push(
    fired.length > 0
      ? { check: 'green-alarms', status: 'fail', detail: `${fired.length} green alarm(s) in ALARM (${fired.map((a) => a.name).join(', ')})` }
      : { check: 'green-alarms', status: 'pass', detail: `${o.alarms.length} alarm(s), none in ALARM` },
  );
  checks.push(
    o.health.healthy === 0 || o.health.unhealthy > 0
      ? {
          check: 'green-health',
          status: 'fail',
          detail: `green has ${o.health.healthy} healthy and ${o.health.unhealthy} unhealthy target(s)${o.health.sample ? ` (${o.health.sample})` : ''}`,
        }
      : { check: 'green-health', status: 'pass', detail: `${o.health.healthy} healthy, 0 unhealthy` },
  );
  const fivexx = judge5xx(o.metrics, t, carried);
  checks.push(fivexx.result);
  checks.push(judgeLatency(o.metrics, t, fivexx.baseline ?? carried));
  const failed = checks.find((c) => c.status === 'fail');
  const status = failed ? 'fail' : checks.some((c) => c.status === 'inconclusive') ? 'inconclusive' : 'pass';
  return { status, checks, decisive: failed, baseline: fivexx.baseline };
}

/** What the loop does after a poll. */
export interface PollDecision {
  action: 'continue' | 'rollback' | 'stop';
  /** Inconclusive polls in a row, counting this one. */
  inconclusiveStreak: number;
  /** The check that decided a rollback or stop, with its figures. */
  reason?: CheckResult | undefined;
}

/**
 * N inconclusive polls in a row count as a failure: a rollout that cannot see green must not keep moving traffic.
 * `sinceStepMs` is the time since the step's weights were set; within `metricsGraceMs` an inconclusive poll does not
 * count (the step's metrics cannot have arrived yet). A plan journaled before the grace existed has none.
 */
export function decideAfterPoll(v: PollVerdict, streak: number, t: Thresholds, sinceStepMs = Number.POSITIVE_INFINITY): PollDecision {
  if (v.status === 'stop') return { action: 'stop', inconclusiveStreak: streak, reason: v.decisive };
  if (v.status === 'fail') return { action: 'rollback', inconclusiveStreak: 0, reason: v.decisive };
  if (v.status === 'pass') return { action: 'continue', inconclusiveStreak: 0 };
  if (sinceStepMs < (t.metricsGraceMs ?? 0)) return { action: 'continue', inconclusiveStreak: 0 };
  const n = streak + 1;
  if (n >= t.maxInconclusive) {
    const inc = v.checks.filter((c) => c.status === 'inconclusive');
    return {
      action: 'rollback',
      inconclusiveStreak: n,
      reason: {
        check: inc[0]?.check ?? '5xx-ratio',
        status: 'inconclusive',
        detail: `${n} inconclusive poll(s) in a row (limit ${t.maxInconclusive}): ${inc.map((c) => c.detail).join('; ')}`,
      },
    };
  }
  return { action: 'continue', inconclusiveStreak: n };
}

/** The plan a rollout runs, as stored in the journal and the lease (so `--resume` can continue it). */
export interface RolloutPlan {
  steps: number[];
  bakeMs: number;
  intervalMs: number;
  thresholds: Thresholds;
  onInterrupt: 'hold' | 'rollback';
  guard: boolean;
}

/** The newest journal record of a rollout, as `--resume` sees it. */
export interface RolloutRecordView {
  rolloutId: string;
  kind: string;
  at: string;
  plan: RolloutPlan;
  /** Index of the step whose weights were set last (-1 before the first). */
  stepIndex: number;
}

export const TERMINAL_ROLLOUT_KINDS: ReadonlySet<string> = new Set(['rollout-complete', 'rollout-rollback', 'rollout-abort']);

export type ResumeDecision = { resume: true; fromIndex: number; rebake: boolean; detail: string } | { resume: false; detail: string };

/**
 * Whether `promote --resume` can continue the newest rollout, and from which step. It continues only when that
 * rollout did not end and traffic is still exactly where it left it: anything else (a rollback, another operator)
 * means the journal no longer describes the listener, and resuming would overwrite someone's decision.
 */
export function decideResume(last: RolloutRecordView | undefined, live: Weights): ResumeDecision {
  if (!last) return { resume: false, detail: 'the journal has no rollout to resume' };
  if (TERMINAL_ROLLOUT_KINDS.has(last.kind))
    return { resume: false, detail: `the newest rollout (${last.rolloutId}) already ended (${last.kind.replace('rollout-', '')} at ${last.at})` };
  const held = last.stepIndex >= 0 ? last.plan.steps[last.stepIndex] : 0;
  if (live.green !== held) {
    return {
      resume: false,
      detail: `rollout ${last.rolloutId} stopped with green at ${held} % but the listener now has blue ${live.blue} / green ${live.green} (rolled back or moved since)`,
    };
  }
  if (last.stepIndex < 0) return { resume: true, fromIndex: 0, rebake: false, detail: `rollout ${last.rolloutId} had not set its first step yet` };
  // The interrupted bake restarts in full: the time green spent unwatched does not count toward it.
  return {
    resume: true,
    fromIndex: last.stepIndex,
    rebake: true,
    detail: `rollout ${last.rolloutId} holds green at ${held} % (step ${last.stepIndex + 1}/${last.plan.steps.length}); its bake restarts`,
  };
}

/** The lease as stored (rollout/lease.json in the artifacts bucket). */
export interface LeaseBody {
  rolloutId: string;
  /** The STS caller ARN of the holder. */
  holder: string;
  host: string;
  pid: number;
  acquiredAt: string;
  renewedAt: string;
  expiresAt: string;
  /** 1-based step and the step count; 0 before the first step. */
  step: number;
  steps: number;
  green: number;
  bakeEndsAt?: string | undefined;
  lastCheck?: { at: string; status: string; summary: string } | undefined;
}

export type LeaseVerdict = { state: 'held'; lease: LeaseBody; ageMs: number } | { state: 'expired'; lease: LeaseBody; expiredMs: number };

/** A lease counts until its expiry; one its holder stopped renewing may be taken over (conditionally, by ETag). */
export function judgeLease(lease: LeaseBody, nowMs: number): LeaseVerdict {
  const expires = Date.parse(lease.expiresAt);
  if (Number.isFinite(expires) && expires > nowMs) return { state: 'held', lease, ageMs: nowMs - Date.parse(lease.acquiredAt) };
  return { state: 'expired', lease, expiredMs: nowMs - (Number.isFinite(expires) ? expires : 0) };
}

/** How long a lease lives without renewal: four polls, at least two minutes (a validator run between steps fits). */
export function leaseTtlMs(intervalMs: number): number {
  return Math.max(120_000, 4 * intervalMs);
}
