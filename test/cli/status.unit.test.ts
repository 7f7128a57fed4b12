/** status's pure policies: why a snapshot is degraded, the validation line, and the exit code. */
import { describe, expect, it } from 'vitest';
import { degradedReasons, exitCodeOf, type StatusObservation, type StatusSnapshot, validationSection } from '../../src/cli/commands/status.js';
import type { TargetHealthSummary } from '../../src/deployed/health.js';
import { reportWith } from '../harness/reports.js';

const targets = (healthy: number, unhealthy = 0): TargetHealthSummary => ({
  healthy,
  unhealthy,
  draining: 0,
  initial: 0,
  total: healthy + unhealthy,
  targets: [],
});

const healthy: StatusObservation = {
  stack: { name: 'bgmig-shop', status: 'UPDATE_COMPLETE' },
  weights: { blue: 100, green: 0 },
  targets: { blue: targets(2), green: targets(2) },
  alarms: [
    { name: 'alarm-blue-5xx-shop', state: 'OK' },
    { name: 'alarm-green-5xx-shop', state: 'INSUFFICIENT_DATA' },
  ],
  clusters: [
    { color: 'blue', identifier: 'db-blue', status: 'available' },
    { color: 'green', identifier: 'db-green', status: 'available' },
  ],
  replication: { available: false, hint: 'skipped' },
  rollout: undefined,
  errors: {},
};

describe('degradedReasons', () => {
  it('is empty for a healthy read (an alarm without data is not a reason)', () => {
    expect(degradedReasons(healthy)).toEqual([]);
  });

  it('names a failed stack, unhealthy targets, a colour with traffic and nothing healthy, alarms and clusters', () => {
    expect(degradedReasons({ ...healthy, stack: { name: 'bgmig-shop', status: 'UPDATE_ROLLBACK_FAILED' } })).toEqual([
      'stack bgmig-shop is UPDATE_ROLLBACK_FAILED',
    ]);
    expect(degradedReasons({ ...healthy, targets: { blue: targets(1, 2), green: targets(2) } })).toEqual(['2 unhealthy blue target(s)']);
    expect(degradedReasons({ ...healthy, weights: { blue: 70, green: 30 }, targets: { blue: targets(2), green: targets(0) } })).toEqual([
      'green takes 30 % of traffic but has no healthy target',
    ]);
    // No traffic, nothing healthy: not a reason (green is simply idle).
    expect(degradedReasons({ ...healthy, targets: { blue: targets(2), green: targets(0) } })).toEqual([]);
    expect(degradedReasons({ ...healthy, alarms: [{ name: 'alarm-green-5xx-shop', state: 'ALARM' }] })).toEqual(['alarm-green-5xx-shop is in ALARM']);
    expect(degradedReasons({ ...healthy, clusters: [{ color: 'green', identifier: 'db-green', status: 'stopped' }] })).toEqual([
      'green cluster db-green is stopped',
    ]);
  });

  it("adds replication's and the rollout's reasons, then one machine key per section that could not be read, in that order", () => {
    const r = degradedReasons({
      ...healthy,
      weights: { blue: 50, green: 50 },
      alarms: [{ name: 'alarm-green-5xx-shop', state: 'ALARM' }],
      replication: { available: true, degraded: ['subscription is disabled'], lines: [], data: null },
      rollout: { guard: { ruleName: 'rule', deployed: true, enabled: false, targets: [], armed: false, summary: 'disarmed' } },
      errors: { 'targets.green': 'AccessDenied', validation: 'not JSON' },
      targets: { blue: targets(2) },
    });
    expect(r).toEqual([
      'alarm-green-5xx-shop is in ALARM',
      'subscription is disabled',
      'the rollback guard is disarmed while green has 50 % of traffic',
      'could not read targets.green',
      'could not read validation',
    ]);
  });
});

describe('validationSection', () => {
  const report = reportWith;

  it('counts breaking differences through the one verdict reading (totals, or the differences of an older report)', () => {
    const d = { code: 'DS103', severity: 'breaking' as const, object: 'public.t.c', detail: 'missing', blue: 'text', green: null };
    expect(validationSection(report({ verdict: 'incompatible', differences: [d, { ...d, severity: 'safe' }] }))).toEqual({
      verdict: 'incompatible',
      generatedAt: '2026-11-30T00:00:00.000Z',
      differences: 2,
      breaking: 1,
      rollback: 'not judged',
    });
  });

  it('says whether rollback after cutover is possible or blocked', () => {
    const rb = {
      code: 'RB101',
      severity: 'breaking' as const,
      object: 'public.t.c',
      detail: 'wider',
      blue: 'varchar(10)',
      green: 'text',
      table: 'public.t',
      column: 'c',
    };
    const back = (differences: (typeof rb)[]) => ({
      verdict: differences.length ? ('incompatible' as const) : ('compatible' as const),
      differences,
      totals: { breaking: differences.length, risky: 0, safe: 0 },
      ignored: 0,
    });
    expect(validationSection(report({ rollback: back([]) })).rollback).toBe('possible');
    expect(validationSection(report({ rollback: back([rb]) })).rollback).toBe('blocked (1 blocker(s))');
  });
});

describe('exitCodeOf', () => {
  it('is 0 when healthy and 3 when degraded', () => {
    expect(exitCodeOf({ healthy: true } as StatusSnapshot)).toBe(0);
    expect(exitCodeOf({ healthy: false } as StatusSnapshot)).toBe(3);
  });
});
