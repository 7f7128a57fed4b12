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
import { BgmigError, ExitCode } from '../core/errors.js';
import { OutputKey } from '../core/outputs.js';
import { formatMs } from '../core/units.js';
import { alarmNamesOf, alarmStates, targetHealth } from '../cli/health.js';
import { optionalOutput } from '../cli/stack.js';
import { rollbackTraffic } from '../cli/commands/rollback.js';
import { readGuardState, setGuardEnabled } from './guard-state.js';
import { isRolloutKey, readHistory } from './journal.js';
import { acquireLease, type HeldLease, releaseLease, renewLease } from './lease.js';
import { formatWeights, readListenerWeights, writeListenerWeights } from './listener.js';
import { dimensionsOf, readAlbMetrics } from './metrics.js';
import {
  type Baseline,
  type CheckResult,
  decideAfterPoll,
  decideResume,
  decideStart,
  judgePoll,
  type LeaseBody,
  leaseTtlMs,
  type PollVerdict,
  type RolloutPlan,
  type RolloutRecordView,
  weightsFor,
} from './plan.js';
import type { TrafficRecord } from './journal.js';
import type { TrafficSession } from './session.js';
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

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** The newest rollout's record, for --resume and status. */
export async function latestRollout(s: TrafficSession): Promise<RolloutRecordView | undefined> {
  const [entry] = await readHistory(await s.aws.s3(), s.bucket, { limit: 1, filter: isRolloutKey });
  const r = entry?.record as TrafficRecord | undefined;
  if (!r?.rolloutId || !r.plan) return undefined;
  return { rolloutId: r.rolloutId, kind: r.kind, at: r.at, plan: r.plan, stepIndex: r.stepIndex ?? -1 };
}

function commandsFor(suffix: string): { resume: string; rollback: string } {
  return { resume: `bgmig --suffix ${suffix} promote --resume`, rollback: `bgmig --suffix ${suffix} rollback` };
}

export async function runRollout(s: TrafficSession, opts: RolloutRunOptions): Promise<RolloutResult> {
  const started = Date.now();
  const { aws, io, suffix } = s;
  const [elbv2, cw, s3] = await Promise.all([aws.elbv2(), aws.cloudwatch(), aws.s3()]);
  const live = await readListenerWeights(elbv2, s.target);

  // Where to start: a fresh plan from the first step above green's share, or the journal's held step.
  let plan = opts.plan;
  let rolloutId: string = randomUUID().slice(0, 8);
  let first: number;
  let rebake = false;
  let skipped: number[] = [];
  if (opts.resume) {
    const last = await latestRollout(s);
    const d = decideResume(last, live);
    if (!d.resume || !last) {
      throw new BgmigError(
        `Nothing to resume: ${d.detail} — start a new rollout with \`bgmig promote --steps …\`, or check \`bgmig history\`.`,
        ExitCode.Refused,
      );
    }
    plan = last.plan;
    rolloutId = last.rolloutId;
    first = d.fromIndex;
    rebake = d.rebake;
  } else {
    const d = decideStart(live, plan.steps);
    first = d.first;
    skipped = d.skipped;
  }
  const of = plan.steps.length;
  const result = (outcome: RolloutResult['outcome'], reached: number, weights: Weights): RolloutResult => ({
    stack: s.stack.name,
    rolloutId,
    outcome,
    steps: plan.steps,
    reached,
    weights,
    durationMs: Date.now() - started,
  });
  if (first >= of) {
    io.info(`Green already has ${live.green} %, at or above every step (${plan.steps.join(', ')}): nothing to do.`);
    return result('nothing-to-do', of, live);
  }

  // The lease: one rollout at a time.
  const who = await s.caller();
  const ttl = leaseTtlMs(plan.intervalMs);
  const leaseBody = (step: number, green: number, extra: Partial<LeaseBody> = {}): LeaseBody => {
    const now = Date.now();
    return {
      rolloutId,
      holder: who,
      host: hostname(),
      pid: process.pid,
      acquiredAt: held?.body.acquiredAt ?? new Date(now).toISOString(),
      renewedAt: new Date(now).toISOString(),
      expiresAt: new Date(now + ttl).toISOString(),
      step,
      steps: of,
      green,
      ...extra,
    };
  };
  let held: HeldLease | undefined;
  const acquired = await acquireLease(s3, s.bucket, leaseBody(first, live.green), Date.now());
  held = acquired.lease;
  if (acquired.tookOver) {
    await s.record({
      kind: 'lease-takeover',
      rolloutId,
      summary: `took over the expired lease of ${acquired.tookOver.holder} (rollout ${acquired.tookOver.rolloutId}, expired ${acquired.tookOver.expiresAt})`,
    });
  }
  await s.record({ kind: 'lease-acquire', rolloutId, summary: `rollout ${rolloutId} acquired the lease (expires after ${formatMs(ttl)} without renewal)` });

  const renew = async (step: number, green: number, extra: Partial<LeaseBody> = {}): Promise<boolean> => {
    if (!held) return false;
    const next = await renewLease(s3, s.bucket, held, leaseBody(step, green, extra));
    held = next;
    return next !== undefined;
  };

  let disarmed = false;
  let current = live;
  try {
    if (!plan.guard) {
      const events = await aws.eventbridge();
      const g = await readGuardState(events, suffix);
      if (g.deployed && g.enabled) {
        await setGuardEnabled(events, suffix, false);
        disarmed = true;
        io.warn(
          `--no-guard: the rollback guard (${g.ruleName}) is disabled until this promote ends; a green alarm will not roll back while no bgmig is watching.`,
        );
        await s.record({ kind: 'guard-disarm', rolloutId, summary: `--no-guard: rule ${g.ruleName} disabled for rollout ${rolloutId}` });
      }
    }
    opts.emit({ event: 'start', rolloutId, plan, live, resumed: opts.resume, skipped });
    await s.record({
      kind: opts.resume ? 'rollout-resume' : 'rollout-start',
      rolloutId,
      plan,
      stepIndex: first - (rebake ? 0 : 1),
      from: live,
      summary: opts.resume
        ? `resumed rollout ${rolloutId} at step ${first + 1}/${of} (green ${plan.steps[first]} %)${rebake ? ', its bake restarts' : ''}`
        : `rollout ${rolloutId} started: steps ${plan.steps.join(', ')} %, bake ${formatMs(plan.bakeMs)}, checks every ${formatMs(plan.intervalMs)}${skipped.length ? ` (green already at ${live.green} %: skipping ${skipped.join(', ')})` : ''}`,
    });

    let baseline: Baseline | undefined;
    for (let i = first; i < of; i++) {
      const to = weightsFor(plan.steps[i]);
      const stepNo = i + 1;
      if (opts.signal?.aborted) return await interrupted(i - 1);
      let stepStartedAt = Date.now();
      if (rebake && i === first) {
        io.debug(`resuming: step ${stepNo} is already set (${formatWeights(current)})`);
      } else {
        const g = await opts.gates(current, to).catch(async (e: unknown) => {
          await s.record({
            kind: 'rollout-abort',
            rolloutId,
            plan,
            stepIndex: i - 1,
            from: current,
            summary: `rollout ${rolloutId} stopped before step ${stepNo}/${of}: ${(e as Error).message}`,
          });
          throw e;
        });
        opts.emit({ event: 'gates', step: stepNo, of, gates: g.gates });
        const res = await writeListenerWeights(elbv2, s.target, to, { expected: current });
        stepStartedAt = Date.now();
        opts.emit({ event: 'step', step: stepNo, of, from: res.before, to: res.after, verifyMs: res.verifyMs });
        await s.record({
          kind: 'rollout-step',
          rolloutId,
          plan,
          stepIndex: i,
          from: res.before,
          to: res.after,
          gates: g.gates,
          validation: g.validation,
          summary: `rollout ${rolloutId} step ${stepNo}/${of}: ${formatWeights(res.before)} → ${formatWeights(res.after)} (verified)`,
        });
        current = res.after;
        if (!(await renew(stepNo, to.green)))
          return await stopped(i, { check: 'lease', status: 'fail', detail: 'the rollout lease was taken away (force-unlocked) and could not be renewed' });
      }

      // Bake: poll every interval until the bake time has passed.
      const bakeEnd = stepStartedAt + plan.bakeMs;
      let streak = 0;
      while (Date.now() < bakeEnd) {
        await sleep(Math.min(plan.intervalMs, bakeEnd - Date.now()), opts.signal);
        if (opts.signal?.aborted) return await interrupted(i);
        const verdict = await poll(stepStartedAt, to, baseline);
        baseline = verdict.baseline ?? baseline;
        const d = decideAfterPoll(verdict, streak, plan.thresholds);
        streak = d.inconclusiveStreak;
        const remaining = Math.max(0, bakeEnd - Date.now());
        opts.emit({ event: 'check', step: stepNo, of, status: verdict.status, bakeRemainingMs: remaining, inconclusiveStreak: streak, checks: verdict.checks });
        opts.onPoll?.(verdict);
        const summary = verdict.checks.map((c) => `${c.check} ${c.status}`).join(', ');
        if (d.action === 'rollback' && d.reason) return await rollBack(i, d.reason, verdict.checks);
        if (d.action === 'stop' && d.reason) return await stopped(i, d.reason);
        const lastCheck = { at: new Date().toISOString(), status: verdict.status, summary };
        if (!(await renew(stepNo, to.green, { bakeEndsAt: new Date(bakeEnd).toISOString(), lastCheck }))) {
          return await stopped(i, { check: 'lease', status: 'fail', detail: 'the rollout lease was taken away (force-unlocked) and could not be renewed' });
        }
      }
      if (plan.bakeMs > 0) opts.emit({ event: 'baked', step: stepNo, of });
    }
    await s.record({
      kind: 'rollout-complete',
      rolloutId,
      plan,
      stepIndex: of - 1,
      to: current,
      summary: `rollout ${rolloutId} completed: ${formatWeights(current)}`,
    });
    return result('completed', of, current);
  } finally {
    if (disarmed) {
      try {
        await setGuardEnabled(await aws.eventbridge(), suffix, true);
        await s.record({
          kind: 'guard-arm',
          rolloutId,
          summary: `rule ${(await readGuardState(await aws.eventbridge(), suffix)).ruleName} re-enabled after rollout ${rolloutId}`,
        });
      } catch (e) {
        io.warn(
          `the rollback guard could not be re-armed: ${(e as Error).message.split('\n')[0]} — re-arm it with \`aws events enable-rule --name rule-rollback-guard-${suffix}\`.`,
        );
      }
    }
    if (held && (await releaseLease(s3, s.bucket, held).catch(() => false))) {
      await s.record({ kind: 'lease-release', rolloutId, summary: `rollout ${rolloutId} released the lease` });
    }
  }

  async function poll(stepStartedAt: number, expected: Weights, carried: Baseline | undefined): Promise<PollVerdict> {
    const lbArn = optionalOutput(s.stack, OutputKey.LoadBalancerArn);
    const [liveNow, alarms, health, metrics] = await Promise.all([
      readListenerWeights(elbv2, s.target),
      alarmStates(aws, alarmNamesOf(s.stack, 'green')),
      targetHealth(aws, s.target.targetGroupArn.green),
      lbArn
        ? readAlbMetrics(cw, dimensionsOf(lbArn, s.target.targetGroupArn), new Date(stepStartedAt), new Date(), plan.thresholds.latencyStat)
        : Promise.resolve({
            green: { requests: null, errors5xx: null, latency: null },
            blue: { requests: null, errors5xx: null, latency: null },
            errors: ['the stack has no LoadBalancerArn output'],
          }),
    ]);
    const bad = health.targets.find((t) => t.state !== 'healthy' && t.state !== 'draining' && t.state !== 'initial');
    return judgePoll(
      {
        live: liveNow,
        expected,
        leaseHeld: held !== undefined,
        alarms,
        health: { healthy: health.healthy, unhealthy: health.unhealthy, sample: bad ? `${bad.id} ${bad.state}` : undefined },
        metrics,
      },
      plan.thresholds,
      carried,
    );
  }

  async function rollBack(i: number, check: CheckResult, checks: CheckResult[]): Promise<never> {
    const stepNo = i + 1;
    const { res } = await rollbackTraffic(s, {
      kind: 'rollout-rollback',
      rolloutId,
      plan,
      stepIndex: i,
      checks: checks.map((c) => ({ gate: c.check, status: c.status, detail: c.detail })),
      why: `rollout ${rolloutId} rolled back at step ${stepNo}/${of}: ${check.check} ${check.status === 'inconclusive' ? 'inconclusive too long' : 'failed'} (${check.detail})`,
    });
    opts.emit({ event: 'rollback', step: stepNo, of, check, from: res.before, to: res.after });
    throw new BgmigError(
      `Rolled back ${s.stack.name} to ${formatWeights(res.after)} at step ${stepNo}/${of} (green ${plan.steps[i]} %): the ${check.check} check ${check.status === 'inconclusive' ? 'stayed inconclusive' : 'failed'} — ${check.detail}; find out why green fails before promoting again (\`bgmig history --suffix ${suffix}\` has the record).`,
      ExitCode.Refused,
      { details: { rolloutId, outcome: 'rolled-back', step: stepNo, steps: plan.steps, check, checks, weights: res.after } },
    );
  }

  async function stopped(i: number, check: CheckResult): Promise<never> {
    const stepNo = i + 1;
    opts.emit({ event: 'stopped', step: stepNo, of, check });
    await s.record({
      kind: 'rollout-abort',
      rolloutId,
      plan,
      stepIndex: i,
      checks: [{ gate: check.check, status: check.status, detail: check.detail }],
      summary: `rollout ${rolloutId} stopped at step ${stepNo}/${of}: ${check.detail}`,
    });
    throw new BgmigError(
      `Rollout ${rolloutId} stopped at step ${stepNo}/${of} without touching traffic: ${check.detail} — see \`bgmig status --suffix ${suffix}\` and \`bgmig history --suffix ${suffix}\`.`,
      ExitCode.Refused,
      { details: { rolloutId, outcome: 'stopped', step: stepNo, steps: plan.steps, check } },
    );
  }

  async function interrupted(i: number): Promise<RolloutResult> {
    const cmds = commandsFor(suffix);
    const stepNo = Math.max(0, i + 1);
    if (plan.onInterrupt === 'rollback') {
      const { res } = await rollbackTraffic(s, {
        kind: 'rollout-rollback',
        rolloutId,
        plan,
        stepIndex: i,
        why: `rollout ${rolloutId} interrupted at step ${stepNo}/${of} (--on-interrupt rollback)`,
      });
      opts.emit({ event: 'interrupted', action: 'rollback', step: stepNo, of, weights: res.after, ...cmds });
      io.info(
        `Interrupted: rolled back to ${formatWeights(res.after)} (verified). Start again with \`bgmig --suffix ${suffix} promote --steps ${plan.steps.join(',')} …\`.`,
      );
      throw new BgmigError(
        `Rollout ${rolloutId} was interrupted at step ${stepNo}/${of} and rolled back to ${formatWeights(res.after)} (--on-interrupt rollback); nothing is left to resume.`,
        ExitCode.Refused,
        {
          details: { rolloutId, outcome: 'rolled-back', step: stepNo, steps: plan.steps, weights: res.after },
        },
      );
    }
    await s.record({
      kind: 'rollout-hold',
      rolloutId,
      plan,
      stepIndex: i,
      to: current,
      summary: `rollout ${rolloutId} interrupted: holding at step ${stepNo}/${of} (${formatWeights(current)})`,
    });
    opts.emit({ event: 'interrupted', action: 'hold', step: stepNo, of, weights: current, ...cmds });
    io.info(
      `Interrupted: traffic holds at ${formatWeights(current)} (step ${stepNo}/${of}); the rollback guard stays ${plan.guard ? 'armed' : 'as it was before --no-guard'}.`,
    );
    io.info(`  resume:    ${cmds.resume}`);
    io.info(`  roll back: ${cmds.rollback}`);
    return result('held', stepNo, current);
  }
}
