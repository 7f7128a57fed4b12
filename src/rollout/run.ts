/**
 * The rollout loop behind `bgmig promote --steps … --bake …`: under the lease, for each step run the gates, set the
 * weights (verified), then bake — every interval read green's alarms, green's target health, both colours' ALB
 * metrics, the live weights and renew the lease; plan.ts judges each poll. A failing check rolls back through the
 * same code as `bgmig rollback`; traffic moved by someone else (a rollback, the guard) stops the rollout without
 * touching traffic. Ctrl-C / SIGTERM holds at the last step that was set (or rolls back with --on-interrupt
 * rollback). Every step, verdict and lease event is journaled, which is what `--resume` continues from.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Weights } from '../core/config.js';
import { firstLine, messageOf, refused, WHOLE_LINE } from '../core/errors.js';
import { names } from '../core/naming.js';
import { OutputKey } from '../core/outputs.js';
import { formatMs } from '../core/units.js';
import { sleep } from '../core/sleep.js';
import { alarmNamesOf, alarmStates, targetHealth } from '../deployed/health.js';
import { optionalOutput } from '../deployed/stack.js';
import { readGuardState, setGuardEnabled } from './guard-state.js';
import { isRolloutKey, readHistory } from './journal.js';
import { acquireLease, type HeldLease, releaseLease, renewLease } from './lease.js';
import { formatWeights, readListenerWeights, writeListenerWeights } from '../deployed/listener.js';
import { dimensionsOf, readAlbMetrics } from './metrics.js';
import {
  type Baseline,
  type CheckResult,
  decideAfterPoll,
  decideResume,
  decideRolloutStart,
  judgePoll,
  type LeaseBody,
  leaseTtlMs,
  type PollVerdict,
  type RolloutPlan,
  type RolloutRecordView,
  weightsFor,
} from './plan.js';
import type { TrafficRecord } from './journal.js';
import { rollbackTraffic, type TrafficSession } from './session.js';
import type { GateResult } from './gates.js';

/** Progress events (NDJSON with --json, one line each otherwise). */
export type RolloutEvent =
  | { event: 'start'; rolloutId: string; plan: RolloutPlan; live: Weights; resumed: boolean; skipped: number[] }
  | { event: 'gates'; step: number; of: number; gates: GateResult[] }
  | { event: 'step'; step: number; of: number; from: Weights; to: Weights; verifyMs: number }
  | { event: 'check'; step: number; of: number; status: PollVerdict['status']; bakeRemainingMs: number; inconclusiveStreak: number; checks: CheckResult[] }
  | { event: 'baked'; step: number; of: number }
  | { event: 'rollback'; step: number; of: number; check: CheckResult; from: Weights; to: Weights }
  | { event: 'interrupted'; action: 'hold' | 'rollback'; step: number; of: number; weights: Weights; resume: string; rollback: string }
  | { event: 'stopped'; step: number; of: number; check: CheckResult };

export interface RolloutResult {
  stack: string;
  rolloutId: string;
  outcome: 'completed' | 'held' | 'nothing-to-do';
  steps: number[];
  /** 1-based step reached (the last whose weights were set). */
  reached: number;
  weights: Weights;
  durationMs: number;
}

/** The gates of one step: provided by promote (they read the validator, target health and alarms). */
export type StepGates = (from: Weights, to: Weights) => Promise<{ gates: GateResult[]; validation?: { verdict: string; generatedAt: string } | undefined }>;

export interface RolloutRunOptions {
  plan: RolloutPlan;
  resume: boolean;
  gates: StepGates;
  /** Aborted on Ctrl-C / SIGTERM. */
  signal?: AbortSignal | undefined;
  /** Receives every progress event (the command renders them). */
  emit: (e: RolloutEvent) => void;
  /** For tests and the benchmark: when a poll's verdict is known. */
  onPoll?: ((v: PollVerdict) => void) | undefined;
}

/** The newest rollout's record, for --resume and status. */
export async function latestRollout(s: TrafficSession): Promise<RolloutRecordView | undefined> {
  const [entry] = await readHistory(s.aws.objects, s.bucket, { limit: 1, filter: isRolloutKey });
  const r = entry?.record as TrafficRecord | undefined;
  if (!r?.rolloutId || !r.plan) return undefined;
  return { rolloutId: r.rolloutId, kind: r.kind, at: r.at, plan: r.plan, stepIndex: r.stepIndex ?? -1 };
}

function commandsFor(suffix: string): { resume: string; rollback: string } {
  return { resume: `bgmig --suffix ${suffix} promote --resume`, rollback: `bgmig --suffix ${suffix} rollback` };
}

interface Start {
  plan: RolloutPlan;
  rolloutId: string;
  /** Index of the first step to take. */
  first: number;
  /** Resuming a held step: its weights are set already, only its bake runs again. */
  rebake: boolean;
  skipped: number[];
}

/** Where a rollout starts: a fresh plan from the first step above green's share, or the journal's held step. */
async function resolveStart(s: TrafficSession, opts: RolloutRunOptions, live: Weights): Promise<Start> {
  if (!opts.resume) {
    const d = decideRolloutStart(live, opts.plan.steps);
    return { plan: opts.plan, rolloutId: randomUUID().slice(0, 8), first: d.first, rebake: false, skipped: d.skipped };
  }
  const last = await latestRollout(s);
  const d = decideResume(last, live);
  if (!d.resume || !last) {
    throw refused(`Nothing to resume: ${d.detail} — start a new rollout with \`bgmig promote --steps …\`, or check \`bgmig history\`.`);
  }
  return { plan: last.plan, rolloutId: last.rolloutId, first: d.fromIndex, rebake: d.rebake, skipped: [] };
}

const LEASE_LOST: CheckResult = { check: 'lease', status: 'fail', detail: 'the rollout lease was taken away (force-unlocked) and could not be renewed' };

/** One rollout run: its plan, lease and the weights it last set. Each method is one phase of the loop. */
class Rollout {
  private held: HeldLease | undefined;
  private current: Weights;
  private disarmed = false;
  private baseline: Baseline | undefined;
  private readonly started = Date.now();
  private readonly of: number;
  private readonly ttl: number;

  constructor(
    private readonly s: TrafficSession,
    private readonly opts: RolloutRunOptions,
    private readonly start: Start,
    private readonly live: Weights,
    private readonly who: string,
  ) {
    this.current = live;
    this.of = start.plan.steps.length;
    this.ttl = leaseTtlMs(start.plan.intervalMs);
  }

  private get plan(): RolloutPlan {
    return this.start.plan;
  }

  private get id(): string {
    return this.start.rolloutId;
  }

  result(outcome: RolloutResult['outcome'], reached: number, weights: Weights): RolloutResult {
    return { stack: this.s.stack.name, rolloutId: this.id, outcome, steps: this.plan.steps, reached, weights, durationMs: Date.now() - this.started };
  }

  private leaseBody(step: number, green: number, extra: Partial<LeaseBody> = {}): LeaseBody {
    const now = Date.now();
    return {
      rolloutId: this.id,
      holder: this.who,
      host: hostname(),
      pid: process.pid,
      acquiredAt: this.held?.body.acquiredAt ?? new Date(now).toISOString(),
      renewedAt: new Date(now).toISOString(),
      expiresAt: new Date(now + this.ttl).toISOString(),
      step,
      steps: this.of,
      green,
      ...extra,
    };
  }

  /** One rollout at a time: create the lease (or take over an expired one); raises the refusal naming the holder. */
  async acquire(): Promise<void> {
    const acquired = await acquireLease(
      this.s.aws.objects,
      this.s.bucket,
      this.leaseBody(this.start.rebake ? this.start.first + 1 : this.start.first, this.live.green),
      Date.now(),
    );
    this.held = acquired.lease;
    const old = acquired.tookOver;
    if (old) {
      await this.s.record({
        kind: 'lease-takeover',
        rolloutId: this.id,
        summary: `took over the expired lease of ${old.holder} (rollout ${old.rolloutId}, expired ${old.expiresAt})`,
      });
    }
    await this.s.record({
      kind: 'lease-acquire',
      rolloutId: this.id,
      summary: `rollout ${this.id} acquired the lease (expires after ${formatMs(this.ttl)} without renewal)`,
    });
  }

  private async renew(step: number, green: number, extra: Partial<LeaseBody> = {}): Promise<boolean> {
    if (!this.held) return false;
    this.held = await renewLease(this.s.aws.objects, this.s.bucket, this.held, this.leaseBody(step, green, extra));
    return this.held !== undefined;
  }

  /** --no-guard: disable the guard's rule for the duration of this promote (re-armed in release()). */
  async disarmIfAsked(): Promise<void> {
    if (this.plan.guard) return;
    const g = await readGuardState(this.s.aws.guardRule, this.s.suffix);
    if (!g.deployed || !g.enabled) return;
    await setGuardEnabled(this.s.aws.guardRule, this.s.suffix, false);
    this.disarmed = true;
    this.s.io.warn(
      `--no-guard: the rollback guard (${g.ruleName}) is disabled until this promote ends; a green alarm will not roll back while no bgmig is watching.`,
    );
    await this.s.record({ kind: 'guard-disarm', rolloutId: this.id, summary: `--no-guard: rule ${g.ruleName} disabled for rollout ${this.id}` });
  }

  async announce(): Promise<void> {
    const { plan, first, rebake, skipped } = this.start;
    this.opts.emit({ event: 'start', rolloutId: this.id, plan, live: this.live, resumed: this.opts.resume, skipped });
    const skipping = skipped.length ? ` (green already at ${this.live.green} %: skipping ${skipped.join(', ')})` : '';
    await this.s.record({
      kind: this.opts.resume ? 'rollout-resume' : 'rollout-start',
      rolloutId: this.id,
      plan,
      stepIndex: first - (rebake ? 0 : 1),
      from: this.live,
      summary: this.opts.resume
        ? `resumed rollout ${this.id} at step ${first + 1}/${this.of} (green ${plan.steps[first]} %)${rebake ? ', its bake restarts' : ''}`
        : `rollout ${this.id} started: steps ${plan.steps.join(', ')} %, bake ${formatMs(plan.bakeMs)}, checks every ${formatMs(plan.intervalMs)}${skipping}`,
    });
  }

  /** Every step from the first: gates, verified weights, bake. Resolves when the last step has baked. */
  async steps(): Promise<RolloutResult> {
    for (let i = this.start.first; i < this.of; i++) {
      if (this.opts.signal?.aborted) return this.interrupted(i - 1);
      const to = weightsFor(this.plan.steps[i]);
      let stepStartedAt = Date.now();
      if (this.start.rebake && i === this.start.first) this.s.io.debug(`resuming: step ${i + 1} is already set (${formatWeights(this.current)})`);
      else {
        await this.setStep(i, to);
        stepStartedAt = Date.now();
        if (!(await this.renew(i + 1, to.green))) return this.stopped(i, LEASE_LOST);
      }
      const baked = await this.bake(i, to, stepStartedAt);
      if (baked) return baked;
    }
    await this.s.record({
      kind: 'rollout-complete',
      rolloutId: this.id,
      plan: this.plan,
      stepIndex: this.of - 1,
      to: this.current,
      summary: `rollout ${this.id} completed: ${formatWeights(this.current)}`,
    });
    return this.result('completed', this.of, this.current);
  }

  private async setStep(i: number, to: Weights): Promise<void> {
    const stepNo = i + 1;
    const { s, plan, of } = { s: this.s, plan: this.plan, of: this.of };
    const g = await this.opts.gates(this.current, to).catch(async (e: unknown) => {
      const summary = `rollout ${this.id} stopped before step ${stepNo}/${of}: ${(e as Error).message}`;
      await s.record({ kind: 'rollout-abort', rolloutId: this.id, plan, stepIndex: i - 1, from: this.current, summary });
      throw e;
    });
    this.opts.emit({ event: 'gates', step: stepNo, of, gates: g.gates });
    const res = await writeListenerWeights(this.s.aws.listeners, s.target, to, { expected: this.current });
    this.opts.emit({ event: 'step', step: stepNo, of, from: res.before, to: res.after, verifyMs: res.verifyMs });
    await s.record({
      kind: 'rollout-step',
      rolloutId: this.id,
      plan,
      stepIndex: i,
      from: res.before,
      to: res.after,
      gates: g.gates,
      validation: g.validation,
      summary: `rollout ${this.id} step ${stepNo}/${of}: ${formatWeights(res.before)} → ${formatWeights(res.after)} (verified)`,
    });
    this.current = res.after;
  }

  /** Polls every interval until the bake time has passed; a result (or a throw) ends the rollout early. */
  private async bake(i: number, to: Weights, stepStartedAt: number): Promise<RolloutResult | undefined> {
    const { plan, of } = this;
    const stepNo = i + 1;
    const bakeEnd = stepStartedAt + plan.bakeMs;
    let streak = 0;
    while (Date.now() < bakeEnd) {
      await sleep(Math.min(plan.intervalMs, bakeEnd - Date.now()), this.opts.signal);
      if (this.opts.signal?.aborted) return this.interrupted(i);
      const verdict = await this.poll(stepStartedAt, to);
      this.baseline = verdict.baseline ?? this.baseline;
      const d = decideAfterPoll(verdict, streak, plan.thresholds, Date.now() - stepStartedAt);
      streak = d.inconclusiveStreak;
      const bakeRemainingMs = Math.max(0, bakeEnd - Date.now());
      this.opts.emit({ event: 'check', step: stepNo, of, status: verdict.status, bakeRemainingMs, inconclusiveStreak: streak, checks: verdict.checks });
      this.opts.onPoll?.(verdict);
      if (d.action === 'rollback' && d.reason) return this.rollBack(i, d.reason, verdict.checks);
      if (d.action === 'stop' && d.reason) return this.stopped(i, d.reason);
      const lastCheck = { at: new Date().toISOString(), status: verdict.status, summary: verdict.checks.map((c) => `${c.check} ${c.status}`).join(', ') };
      if (!(await this.renew(stepNo, to.green, { bakeEndsAt: new Date(bakeEnd).toISOString(), lastCheck }))) return this.stopped(i, LEASE_LOST);
    }
    if (plan.bakeMs > 0) this.opts.emit({ event: 'baked', step: stepNo, of });
    return undefined;
  }

  private async poll(stepStartedAt: number, expected: Weights): Promise<PollVerdict> {
    const { s } = this;
    const lbArn = optionalOutput(s.stack, OutputKey.LoadBalancerArn);
    const unread = { requests: null, errors5xx: null, latency: null };
    const [liveNow, alarms, health, metrics] = await Promise.all([
      readListenerWeights(s.aws.listeners, s.target),
      alarmStates(s.aws, alarmNamesOf(s.stack, 'green')),
      targetHealth(s.aws, s.target.targetGroupArn.green),
      lbArn
        ? readAlbMetrics(s.aws.metrics, dimensionsOf(lbArn, s.target.targetGroupArn), new Date(stepStartedAt), new Date(), this.plan.thresholds.latencyStat)
        : Promise.resolve({ green: unread, blue: unread, errors: ['the stack has no LoadBalancerArn output'] }),
    ]);
    const bad = health.targets.find((t) => t.state !== 'healthy' && t.state !== 'draining' && t.state !== 'initial');
    const sample = bad ? `${bad.id} ${bad.state}` : undefined;
    return judgePoll(
      {
        live: liveNow,
        expected,
        leaseHeld: this.held !== undefined,
        alarms,
        health: { healthy: health.healthy, unhealthy: health.unhealthy, sample },
        metrics,
      },
      this.plan.thresholds,
      this.baseline,
    );
  }

  /** A failing check: blue 100 / green 0 through the same code as `bgmig rollback`, then exit 3 with the figures. */
  private async rollBack(i: number, check: CheckResult, checks: CheckResult[]): Promise<never> {
    const { plan, of, id } = this;
    const stepNo = i + 1;
    const inconclusive = check.status === 'inconclusive';
    const { res } = await rollbackTraffic(this.s, {
      kind: 'rollout-rollback',
      rolloutId: id,
      plan,
      stepIndex: i,
      checks: checks.map((c) => ({ gate: c.check, status: c.status, detail: c.detail })),
      why: `rollout ${id} rolled back at step ${stepNo}/${of}: ${check.check} ${inconclusive ? 'inconclusive too long' : 'failed'} (${check.detail})`,
    });
    this.opts.emit({ event: 'rollback', step: stepNo, of, check, from: res.before, to: res.after });
    throw refused(
      `Rolled back ${this.s.stack.name} to ${formatWeights(res.after)} at step ${stepNo}/${of} (green ${plan.steps[i]} %): the ${check.check} check ${inconclusive ? 'stayed inconclusive' : 'failed'} — ${check.detail}; find out why green fails before promoting again (\`bgmig history --suffix ${this.s.suffix}\` has the record).`,
      { rolloutId: id, outcome: 'rolled-back', step: stepNo, steps: plan.steps, check, checks, weights: res.after },
    );
  }

  /** Traffic or the lease changed under the rollout: stop without touching traffic (someone else decided). */
  private async stopped(i: number, moved: CheckResult): Promise<never> {
    const { plan, of, id } = this;
    const stepNo = i + 1;
    const suffix = this.s.suffix;
    const check = moved.check === 'traffic' ? { ...moved, detail: `${moved.detail}${await this.whoMovedTraffic()}` } : moved;
    this.opts.emit({ event: 'stopped', step: stepNo, of, check });
    const checks = [{ gate: check.check, status: check.status, detail: check.detail }];
    await this.s.record({
      kind: 'rollout-abort',
      rolloutId: id,
      plan,
      stepIndex: i,
      checks,
      summary: `rollout ${id} stopped at step ${stepNo}/${of}: ${check.detail}`,
    });
    throw refused(
      `Rollout ${id} stopped at step ${stepNo}/${of} without touching traffic: ${check.detail} — see \`bgmig status --suffix ${suffix}\` and \`bgmig history --suffix ${suffix}\`.`,
      { rolloutId: id, outcome: 'stopped', step: stepNo, steps: plan.steps, check },
    );
  }

  /**
   * ", by bgmig rollback (arn…) at …" from the newest rollback/promote/guard record of the last minute; "" when none
   * appears. The other writer journals right after its verified write, so this waits a moment for the record.
   */
  private async whoMovedTraffic(): Promise<string> {
    const since = new Date(Date.now() - 60_000).toISOString();
    for (let attempt = 0; attempt < 4; attempt++) {
      try {
        const recent = await readHistory(this.s.aws.objects, this.s.bucket, { limit: 5 });
        const other = recent.find((e) => ['rollback', 'guard-rollback', 'promote'].includes(e.kind) && e.at >= since);
        if (other) return `, by ${other.kind === 'guard-rollback' ? 'the rollback guard' : `bgmig ${other.kind}`} (${other.who}) at ${other.at}`;
      } catch {
        return '';
      }
      await sleep(500);
    }
    return '';
  }

  /** Ctrl-C / SIGTERM: hold where traffic is (default) or roll back; either way say how to resume and roll back. */
  private async interrupted(i: number): Promise<RolloutResult> {
    const { plan, of, id, current } = this;
    const { io, suffix } = this.s;
    const cmds = commandsFor(suffix);
    const stepNo = Math.max(0, i + 1);
    if (plan.onInterrupt === 'rollback') {
      const why = `rollout ${id} interrupted at step ${stepNo}/${of} (--on-interrupt rollback)`;
      const { res } = await rollbackTraffic(this.s, { kind: 'rollout-rollback', rolloutId: id, plan, stepIndex: i, why });
      this.opts.emit({ event: 'interrupted', action: 'rollback', step: stepNo, of, weights: res.after, ...cmds });
      io.info(
        `Interrupted: rolled back to ${formatWeights(res.after)} (verified). Start again with \`bgmig --suffix ${suffix} promote --steps ${plan.steps.join(',')} …\`.`,
      );
      throw refused(
        `Rollout ${id} was interrupted at step ${stepNo}/${of} and rolled back to ${formatWeights(res.after)} (--on-interrupt rollback); nothing is left to resume.`,
        { rolloutId: id, outcome: 'rolled-back', step: stepNo, steps: plan.steps, weights: res.after },
      );
    }
    const summary = `rollout ${id} interrupted: holding at step ${stepNo}/${of} (${formatWeights(current)})`;
    await this.s.record({ kind: 'rollout-hold', rolloutId: id, plan, stepIndex: i, to: current, summary });
    this.opts.emit({ event: 'interrupted', action: 'hold', step: stepNo, of, weights: current, ...cmds });
    const guard = plan.guard ? 'the rollback guard stays armed' : 'the rollback guard is re-armed as this promote exits';
    io.info(`Interrupted: traffic holds at ${formatWeights(current)} (step ${stepNo}/${of}); ${guard}.`);
    io.info(`  resume:    ${cmds.resume}`);
    io.info(`  roll back: ${cmds.rollback}`);
    return this.result('held', stepNo, current);
  }

  /** Always: re-arm a guard --no-guard disarmed, release the lease if it is still ours. */
  async release(): Promise<void> {
    const { s, id } = this;
    if (this.disarmed) {
      try {
        await setGuardEnabled(s.aws.guardRule, s.suffix, true);
        await s.record({ kind: 'guard-arm', rolloutId: id, summary: `rule ${names(s.suffix).rollbackGuardRule} re-enabled after rollout ${id}` });
      } catch (e) {
        s.io.warn(
          `the rollback guard could not be re-armed: ${firstLine(messageOf(e), WHOLE_LINE)} — re-arm it with \`aws events enable-rule --name ${names(s.suffix).rollbackGuardRule}\`.`,
        );
      }
    }
    if (this.held && (await releaseLease(s.aws.objects, s.bucket, this.held).catch(() => false))) {
      await s.record({ kind: 'lease-release', rolloutId: id, summary: `rollout ${id} released the lease` });
    }
  }
}

export async function runRollout(s: TrafficSession, opts: RolloutRunOptions): Promise<RolloutResult> {
  const live = await readListenerWeights(s.aws.listeners, s.target);
  const start = await resolveStart(s, opts, live);
  const r = new Rollout(s, opts, start, live, await s.caller());
  if (start.first >= start.plan.steps.length) {
    s.io.info(`Green already has ${live.green} %, at or above every step (${start.plan.steps.join(', ')}): nothing to do.`);
    return r.result('nothing-to-do', start.plan.steps.length, live);
  }
  await r.acquire();
  try {
    await r.disarmIfAsked();
    await r.announce();
    return await r.steps();
  } finally {
    await r.release();
  }
}
