// The rollout's pure decisions: steps, gates needed, poll verdicts, inconclusive streaks, resume, lease expiry, gates.
import { describe, expect, it } from 'vitest';
import { resolvePromoteOptions } from '../../src/cli/commands/promote.js';
import { ExitCode, isBgmigError } from '../../src/core/errors.js';
import { decideGuard } from '../../src/rollout/guard.js';
import { judgeGates } from '../../src/rollout/gates.js';
import { isRolloutKey, journalKey, toHistoryEntry } from '../../src/rollout/journal.js';
import { dimensionsOf } from '../../src/rollout/metrics.js';
import {
  DEFAULT_THRESHOLDS,
  decideAfterPoll,
  decideResume,
  decideRolloutStart,
  gatesRequired,
  judgeLease,
  judgePoll,
  leaseTtlMs,
  parseSteps,
  type PollObservation,
  type RolloutPlan,
} from '../../src/rollout/plan.js';
import { makeReport } from '../harness/reports.js';

const T = DEFAULT_THRESHOLDS;
function obs(over: Partial<PollObservation> = {}, metrics: Partial<PollObservation['metrics']> = {}): PollObservation {
  return {
    live: { blue: 75, green: 25 },
    expected: { blue: 75, green: 25 },
    leaseHeld: true,
    alarms: [{ name: 'alarm-green-cpu-x', state: 'OK' }],
    health: { healthy: 2, unhealthy: 0 },
    metrics: { green: { requests: 1000, errors5xx: 2, latency: 0.2 }, blue: { requests: 3000, errors5xx: 6, latency: 0.18 }, errors: [], ...metrics },
    ...over,
  };
}

function badInputOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (isBgmigError(e) && e.exitCode === ExitCode.BadInput) return e.message;
    throw e;
  }
  throw new Error('no error');
}

describe('parseSteps', () => {
  it('accepts strictly increasing percentages', () => {
    expect(parseSteps('10,25,50,100')).toEqual([10, 25, 50, 100]);
    expect(parseSteps(' 5 , 100 ')).toEqual([5, 100]);
  });
  it.each([
    ['10,10,50', /increase strictly.*10 then 10/],
    ['50,25', /increase strictly/],
    ['0,50', /from 1 to 100.*got 0/],
    ['10,101', /got 101/],
    ['10,abc', /comma-separated list/],
    ['', /comma-separated list/],
    ['12.5,50', /comma-separated list/],
  ])('rejects %j with exit 2', (v, msg) => {
    expect(badInputOf(() => parseSteps(v))).toMatch(msg);
  });
});

describe('gatesRequired (issue 16: a move toward safety needs no gate)', () => {
  it('raising green needs the gates; lowering or keeping it does not', () => {
    expect(gatesRequired({ blue: 75, green: 25 }, { blue: 50, green: 50 }).required).toBe(true);
    expect(gatesRequired({ blue: 75, green: 25 }, { blue: 90, green: 10 })).toEqual({
      required: false,
      reason: "green's share falls from 25 % to 10 %: a move toward safety needs no gate",
    });
    expect(gatesRequired({ blue: 0, green: 100 }, { blue: 100, green: 0 }).required).toBe(false);
    expect(gatesRequired({ blue: 75, green: 25 }, { blue: 75, green: 25 }).required).toBe(false);
  });
});

describe('decideRolloutStart', () => {
  it('starts at the first step above the live share and lists what it skips', () => {
    expect(decideRolloutStart({ blue: 100, green: 0 }, [10, 25, 50, 100])).toEqual({ first: 0, skipped: [] });
    expect(decideRolloutStart({ blue: 75, green: 25 }, [10, 25, 50, 100])).toEqual({ first: 2, skipped: [10, 25] });
    expect(decideRolloutStart({ blue: 70, green: 30 }, [10, 25, 50, 100])).toEqual({ first: 2, skipped: [10, 25] });
    expect(decideRolloutStart({ blue: 0, green: 100 }, [10, 100])).toEqual({ first: 2, skipped: [10, 100] });
  });
});

describe('judgePoll', () => {
  it('passes when every check passes, with the figures in the details', () => {
    const v = judgePoll(obs(), T);
    expect(v.status).toBe('pass');
    expect(v.checks.map((c) => [c.check, c.status])).toEqual([
      ['green-alarms', 'pass'],
      ['green-health', 'pass'],
      ['5xx-ratio', 'pass'],
      ['latency-ratio', 'pass'],
    ]);
    expect(v.checks[2].detail).toBe('green 0.20 % 5xx (2/1000), at or below the 1.0 % floor');
    expect(v.checks[3].detail).toBe('green p99 200 ms vs blue 180 ms, limit 270 ms (1.5× blue)');
    expect(v.baseline).toEqual({ share5xx: 0.002, latency: 0.18, from: 'this window' });
  });

  it('fails on a green alarm in ALARM, naming it', () => {
    const v = judgePoll(
      obs({
        alarms: [
          { name: 'alarm-green-5xx-x', state: 'ALARM' },
          { name: 'alarm-green-cpu-x', state: 'OK' },
        ],
      }),
      T,
    );
    expect(v.status).toBe('fail');
    expect(v.decisive).toEqual({ check: 'green-alarms', status: 'fail', detail: '1 green alarm(s) in ALARM (alarm-green-5xx-x)' });
  });

  it('fails on an unhealthy green target, and on no healthy target', () => {
    expect(judgePoll(obs({ health: { healthy: 1, unhealthy: 1, sample: 'i-1:80 unused' } }), T).decisive?.detail).toBe(
      'green has 1 healthy and 1 unhealthy target(s) (i-1:80 unused)',
    );
    expect(judgePoll(obs({ health: { healthy: 0, unhealthy: 0 } }), T).status).toBe('fail');
  });

  it('fails when green 5xx share exceeds max(ratio × blue, floor), passes just under it', () => {
    const fail = judgePoll(obs({}, { green: { requests: 100, errors5xx: 7, latency: 0.2 }, blue: { requests: 200, errors5xx: 1, latency: 0.2 } }), T);
    expect(fail.decisive).toEqual({
      check: '5xx-ratio',
      status: 'fail',
      detail: 'green 7.0 % 5xx (7/100) vs blue 0.50 % (1/200), limit 1.0 % (2× blue, floor 1.0 %)',
    });
    // blue 3 %: limit 6 %; green 5.9 % passes.
    const pass = judgePoll(obs({}, { green: { requests: 1000, errors5xx: 59, latency: 0.2 }, blue: { requests: 1000, errors5xx: 30, latency: 0.2 } }), T);
    expect(pass.checks.find((c) => c.check === '5xx-ratio')?.status).toBe('pass');
  });

  it('fails on latency above ratio × blue; a latency under the floor always passes', () => {
    const slow = judgePoll(obs({}, { green: { requests: 1000, errors5xx: 0, latency: 0.9 }, blue: { requests: 1000, errors5xx: 0, latency: 0.3 } }), T);
    expect(slow.decisive?.check).toBe('latency-ratio');
    expect(slow.decisive?.detail).toBe('green p99 900 ms vs blue 300 ms, limit 450 ms (1.5× blue)');
    const fast = judgePoll(obs({}, { green: { requests: 1000, errors5xx: 0, latency: 0.09 }, blue: { requests: 1000, errors5xx: 0, latency: 0.01 } }), T);
    expect(fast.status).toBe('pass');
  });

  it('is inconclusive with too few requests, and when a metric cannot be read', () => {
    const few = judgePoll(obs({}, { green: { requests: 12, errors5xx: 3, latency: 0.2 } }), T);
    expect(few.status).toBe('inconclusive');
    expect(few.checks.find((c) => c.check === '5xx-ratio')?.detail).toBe('green served 12 request(s) in the window, fewer than the 50 needed for a verdict');
    const unread = judgePoll(
      obs(
        {},
        {
          green: { requests: null, errors5xx: null, latency: null },
          blue: { requests: null, errors5xx: null, latency: null },
          errors: ['RequestCount/HTTPCode_Target_5XX_Count: Throttling'],
        },
      ),
      T,
    );
    expect(unread.status).toBe('inconclusive');
    expect(unread.checks.find((c) => c.check === '5xx-ratio')?.detail).toContain('could not be read (RequestCount/HTTPCode_Target_5XX_Count: Throttling)');
  });

  it('compares with the carried baseline when blue has no traffic (green 100), inconclusive without one', () => {
    const at100 = obs(
      { live: { blue: 0, green: 100 }, expected: { blue: 0, green: 100 } },
      { green: { requests: 1000, errors5xx: 50, latency: 0.2 }, blue: { requests: 0, errors5xx: 0, latency: null } },
    );
    expect(judgePoll(at100, T).status).toBe('inconclusive');
    const v = judgePoll(at100, T, { share5xx: 0.004, latency: 0.2, from: 'step 3 (green 50 %)' });
    expect(v.decisive?.detail).toBe('green 5.0 % 5xx (50/1000) vs blue 0.40 % (baseline from step 3 (green 50 %)), limit 1.0 % (2× blue, floor 1.0 %)');
  });

  it('stops (no rollback by the rollout) when traffic moved under it or the lease was lost', () => {
    const rolled = judgePoll(obs({ live: { blue: 100, green: 0 } }), T);
    expect(rolled.status).toBe('stop');
    expect(rolled.decisive?.detail).toMatch(/^traffic was rolled back to blue \(the listener has blue 100 \/ green 0, the rollout set blue 75 \/ green 25\)/);
    expect(judgePoll(obs({ live: { blue: 60, green: 40 } }), T).decisive?.detail).toMatch(/^someone else moved traffic/);
    expect(judgePoll(obs({ leaseHeld: false }), T).decisive?.check).toBe('lease');
  });
});

describe('decideAfterPoll', () => {
  const inc = judgePoll(obs({}, { green: { requests: 3, errors5xx: 0, latency: null } }), T);
  it('counts inconclusive polls in a row and fails at the limit', () => {
    expect(decideAfterPoll(inc, 0, T)).toMatchObject({ action: 'continue', inconclusiveStreak: 1 });
    expect(decideAfterPoll(inc, 1, T)).toMatchObject({ action: 'continue', inconclusiveStreak: 2 });
    const d = decideAfterPoll(inc, 2, T);
    expect(d.action).toBe('rollback');
    expect(d.reason?.detail).toMatch(/^3 inconclusive poll\(s\) in a row \(limit 3\): green served 3 request\(s\)/);
    expect(decideAfterPoll(inc, 0, { ...T, maxInconclusive: 1 }).action).toBe('rollback');
  });
  it('within the metrics grace after a step, inconclusive polls do not count; a failure still rolls back at once', () => {
    expect(decideAfterPoll(inc, 2, T, 60_000)).toEqual({ action: 'continue', inconclusiveStreak: 0 });
    expect(decideAfterPoll(inc, 2, T, 120_000).action).toBe('rollback');
    expect(decideAfterPoll(judgePoll(obs({ alarms: [{ name: 'a', state: 'ALARM' }] }), T), 0, T, 1000).action).toBe('rollback');
  });
  it('a conclusive pass resets the streak; a fail rolls back at once; a stop stops', () => {
    expect(decideAfterPoll(judgePoll(obs(), T), 2, T)).toEqual({ action: 'continue', inconclusiveStreak: 0 });
    expect(decideAfterPoll(judgePoll(obs({ alarms: [{ name: 'a', state: 'ALARM' }] }), T), 0, T).action).toBe('rollback');
    expect(decideAfterPoll(judgePoll(obs({ leaseHeld: false }), T), 0, T).action).toBe('stop');
  });
});

describe('decideResume', () => {
  const plan: RolloutPlan = { steps: [10, 25, 50, 100], bakeMs: 1000, intervalMs: 100, thresholds: T, onInterrupt: 'hold', guard: true };
  const held = { rolloutId: 'r1', kind: 'rollout-hold', at: '2026-11-30T03:00:00Z', plan, stepIndex: 1 };
  it('resumes a held rollout at its step, re-baking it, when traffic is where it was left', () => {
    expect(decideResume(held, { blue: 75, green: 25 })).toEqual({
      resume: true,
      fromIndex: 1,
      rebake: true,
      detail: 'rollout r1 holds green at 25 % (step 2/4); its bake restarts',
    });
  });
  it('refuses when traffic moved since, when the rollout ended, or when there is none', () => {
    expect(decideResume(held, { blue: 100, green: 0 })).toMatchObject({
      resume: false,
      detail: expect.stringMatching(/now has blue 100 \/ green 0 \(rolled back or moved since\)/),
    });
    expect(decideResume({ ...held, kind: 'rollout-rollback' }, { blue: 75, green: 25 })).toMatchObject({ resume: false });
    expect(decideResume(undefined, { blue: 100, green: 0 })).toMatchObject({ resume: false, detail: 'the journal has no rollout to resume' });
  });
  it('a rollout that died mid-step (newest record is a step) resumes too', () => {
    expect(decideResume({ ...held, kind: 'rollout-step', stepIndex: 2 }, { blue: 50, green: 50 })).toMatchObject({ resume: true, fromIndex: 2 });
  });
});

describe('lease', () => {
  const body = {
    rolloutId: 'r',
    holder: 'arn:aws:sts::1:assumed-role/op/alice',
    host: 'h',
    pid: 1,
    acquiredAt: '2026-11-30T03:00:00.000Z',
    renewedAt: '2026-11-30T03:01:00.000Z',
    expiresAt: '2026-11-30T03:03:00.000Z',
    step: 2,
    steps: 4,
    green: 25,
  };
  it('is held until it expires, then expired', () => {
    expect(judgeLease(body, Date.parse('2026-11-30T03:02:59.999Z')).state).toBe('held');
    expect(judgeLease(body, Date.parse('2026-11-30T03:03:00.000Z')).state).toBe('expired');
  });
  it('lives four polls, at least two minutes', () => {
    expect(leaseTtlMs(1000)).toBe(120_000);
    expect(leaseTtlMs(60_000)).toBe(240_000);
  });
});

describe('judgeGates', () => {
  const healthy = { healthy: 2, unhealthy: 0, targets: [] };
  it('passes in order with a compatible report', () => {
    const v = judgeGates({
      report: makeReport('compatible', '2026-11-30T00:00:00Z'),
      skipValidation: false,
      health: healthy,
      alarms: [{ name: 'a', state: 'OK' }],
    });
    expect(v.refusal).toBeUndefined();
    expect(v.gates.map((g) => g.gate)).toEqual(['validation', 'green-health', 'green-alarms']);
  });
  it('refuses at the first failing gate and does not judge the later ones', () => {
    const v = judgeGates({ report: makeReport('incompatible'), skipValidation: false, health: { healthy: 0, unhealthy: 0, targets: [] }, alarms: [] });
    expect(v.refusal?.gate).toBe('validation');
    expect(v.gates).toHaveLength(1);
    expect(judgeGates({ skipValidation: true, health: healthy, alarms: [{ name: 'g', state: 'ALARM' }] }).refusal).toMatchObject({
      gate: 'green-alarms',
      detail: '1 green alarm(s) in ALARM (g)',
    });
  });
  it('reports alarms missing in CloudWatch as a warning, not a refusal', () => {
    expect(judgeGates({ skipValidation: true, health: healthy, alarms: [{ name: 'gone', state: 'MISSING' }] }).missingAlarms).toEqual(['gone']);
  });
});

describe('decideGuard', () => {
  const cfg = { greenAlarmNames: ['alarm-green-5xx-x', 'alarm-green-cpu-x'] };
  const ev = (name: string, state: string) => ({
    source: 'aws.cloudwatch',
    'detail-type': 'CloudWatch Alarm State Change',
    detail: { alarmName: name, state: { value: state, reason: 'Threshold Crossed' } },
  });
  it('rolls back for a green alarm entering ALARM while green has traffic', () => {
    expect(decideGuard(ev('alarm-green-5xx-x', 'ALARM'), cfg, { blue: 75, green: 25 })).toEqual({
      act: 'rollback',
      reason: 'alarm-green-5xx-x entered ALARM (Threshold Crossed)',
    });
  });
  it('does nothing at green 0, for OK transitions, for blue alarms and for other events', () => {
    expect(decideGuard(ev('alarm-green-5xx-x', 'ALARM'), cfg, { blue: 100, green: 0 }).act).toBe('noop');
    expect(decideGuard(ev('alarm-green-5xx-x', 'OK'), cfg, undefined).act).toBe('ignore');
    expect(decideGuard(ev('alarm-blue-5xx-x', 'ALARM'), cfg, undefined).act).toBe('ignore');
    expect(decideGuard({ ...ev('alarm-green-5xx-x', 'ALARM'), source: 'aws.ec2' }, cfg, undefined).act).toBe('ignore');
  });
});

describe('metric dimensions and history entries', () => {
  it('derives the ALB dimension values from the ARNs', () => {
    expect(
      dimensionsOf('arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/alb-x/50dc6c495c0c9188', {
        blue: 'arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/tg-blue-x/73e2d6bc24d8a067',
        green: 'arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/tg-green-x/943f017f100becff',
      }),
    ).toEqual({
      loadBalancer: 'app/alb-x/50dc6c495c0c9188',
      targetGroup: { blue: 'targetgroup/tg-blue-x/73e2d6bc24d8a067', green: 'targetgroup/tg-green-x/943f017f100becff' },
    });
  });
  it('finds rollout records by key alone (resume reads one object, not the whole journal)', () => {
    expect(isRolloutKey(journalKey('2026-11-30T03:00:00.000Z', 'rollout-hold'))).toBe(true);
    expect(isRolloutKey(journalKey('2026-11-30T03:00:00.000Z', 'rollback'))).toBe(false);
    expect(isRolloutKey('journal/2026-11-30T03-00-00-000Z-cutover.json')).toBe(false);
    expect(journalKey('2026-11-30T03:00:00.000Z', 'promote')).toMatch(/^journal\/2026-11-30T03-00-00-000Z-traffic-promote-[0-9a-f]{6}\.json$/);
  });
  it('normalises a cutover-function record into a history line', () => {
    const e = toHistoryEntry('journal/2026-11-30T03-00-01-002Z-cutover.json', { ok: true, operation: 'cutover', durationMs: 812, requestId: 'abc' });
    expect(e).toMatchObject({ at: '2026-11-30T03:00:01.002Z', source: 'db-cutover', kind: 'db-cutover', summary: 'database cutover succeeded (812 ms)' });
  });
});

describe('promote flags', () => {
  const base = { interval: '15s', onInterrupt: 'hold', guard: true, resume: false, forceUnlock: false, skipValidation: false, validate: false, dryRun: false };
  it('needs exactly one form, and rollout options only with a rollout', () => {
    expect(badInputOf(() => resolvePromoteOptions('x', base))).toMatch(/needs one of --weight N/);
    expect(badInputOf(() => resolvePromoteOptions('x', { ...base, weight: '10', steps: '10,100' }))).toBe(
      '--weight and --steps cannot be used together: pick one.',
    );
    expect(badInputOf(() => resolvePromoteOptions('x', { ...base, weight: '10', bake: '5m' }))).toBe('--bake applies to a rollout (--steps), not to --weight.');
    expect(badInputOf(() => resolvePromoteOptions('x', { ...base, steps: '10,100', bake: '10s', interval: '1m' }))).toMatch(
      /--interval \(1m\) is longer than --bake/,
    );
    expect(badInputOf(() => resolvePromoteOptions('x', { ...base, steps: '10,100', latencyStat: 'p999x' }))).toMatch(/--latency-stat must be a percentile/);
    expect(badInputOf(() => resolvePromoteOptions('x', { ...base, steps: '10,100', onInterrupt: 'panic' }))).toMatch(
      /--on-interrupt must be "hold" or "rollback"/,
    );
  });
  it('--resume keeps the journaled plan: rollout options given with it are listed to be warned about', () => {
    expect(resolvePromoteOptions('x', { ...base, resume: true, bake: '1m', latencyStat: 'p95', interval: '5s' }).ignoredWithResume).toEqual([
      '--bake',
      '--latency-stat',
      '--interval',
    ]);
    expect(resolvePromoteOptions('x', { ...base, resume: true }).ignoredWithResume).toEqual([]);
  });
  it('parses thresholds with their units; --bake 0 means no waiting', () => {
    const o = resolvePromoteOptions('x', {
      ...base,
      steps: '10,100',
      bake: '0',
      max5xxRatio: '3',
      '5xxFloor': '0.5',
      latencyFloor: '250ms',
      minRequests: '20',
      maxInconclusive: '5',
      latencyStat: 'p95',
      metricsGrace: '30s',
    });
    expect(o.bakeMs).toBe(0);
    expect(o.thresholds).toEqual({
      max5xxRatio: 3,
      floor5xxShare: 0.005,
      latencyFloorSeconds: 0.25,
      minRequests: 20,
      maxInconclusive: 5,
      latencyStat: 'p95',
      metricsGraceMs: 30_000,
    });
  });
});
