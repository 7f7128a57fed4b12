/** Promote's gates as a pure policy (src/rollout/gates.ts): order, first refusal, texts, and the report reading. */
import { describe, expect, it } from 'vitest';
import { describeReport, judgeGates } from '../../src/rollout/gates.js';
import type { Difference } from '../../src/schema/report.js';
import { reportWith } from '../harness/reports.js';

const diff = (severity: Difference['severity'], object: string): Difference => ({
  code: 'DS103',
  severity,
  object,
  detail: `${object} differs`,
  blue: 'a',
  green: null,
});
const report = reportWith;
const healthy = { healthy: 2, unhealthy: 0, targets: [] };

describe('judgeGates', () => {
  it('passes validation, green-health and green-alarms in that order, each with its figures', () => {
    const v = judgeGates({
      report: report({ differences: [diff('safe', 'public.ix')] }),
      skipValidation: false,
      health: healthy,
      alarms: [{ name: 'a', state: 'OK' }],
    });
    expect(v).toEqual({
      gates: [
        { gate: 'validation', status: 'passed', detail: 'compatible (2026-11-30T00:00:00.000Z, 1 difference(s), none breaking)' },
        { gate: 'green-health', status: 'passed', detail: '2 healthy, 0 unhealthy' },
        { gate: 'green-alarms', status: 'passed', detail: '1 alarm(s), none in ALARM' },
      ],
      missingAlarms: [],
    });
  });

  it('refuses without a report, and on an incompatible or error report, saying what to do', () => {
    expect(judgeGates({ skipValidation: false, health: healthy, alarms: [] }).refusal).toEqual({
      gate: 'validation',
      detail: 'there is no validation report',
      todo: 'run `bgmig validate` first',
    });
    const bad = judgeGates({
      report: report({ verdict: 'incompatible', differences: [diff('safe', 'public.ix'), diff('breaking', 'public.t.c'), diff('breaking', 'public.t.d')] }),
      skipValidation: false,
      health: healthy,
      alarms: [],
    });
    expect(bad.refusal?.detail).toBe(
      'the latest validation report (2026-11-30T00:00:00.000Z) is incompatible: 2 breaking difference(s), e.g. public.t.c: public.t.c differs',
    );
    expect(bad.refusal?.todo).toMatch(/--skip-validation if you accept the risk/);
    expect(bad.gates).toEqual([{ gate: 'validation', status: 'refused', detail: bad.refusal?.detail }]);
  });

  it('an error verdict is an outage, not a refusal: its cause and what to fix, never a hint to turn the gate off', () => {
    const error = judgeGates({ report: report({ verdict: 'error', error: 'timeout' }), skipValidation: false, health: healthy, alarms: [] });
    expect(error.refusal).toBeUndefined();
    expect(error.outage?.detail).toBe(
      'the latest validation report (2026-11-30T00:00:00.000Z) is error: the validator could not compare the schemas (timeout)',
    );
    expect(error.outage?.todo).toMatch(/re-run `bgmig validate`/);
    expect(error.outage?.todo).not.toMatch(/--skip-validation|--force/);
    expect(error.gates).toEqual([{ gate: 'validation', status: 'failed', detail: error.outage?.detail }]);
  });

  it('--skip-validation marks the gate skipped and judges the others', () => {
    const v = judgeGates({ skipValidation: true, health: healthy, alarms: [] });
    expect(v.gates[0]).toEqual({ gate: 'validation', status: 'skipped', detail: 'skipped by --skip-validation' });
    expect(v.refusal).toBeUndefined();
  });

  it('refuses green with no healthy target, or any unhealthy one, naming one that does not serve', () => {
    const v = judgeGates({
      skipValidation: true,
      health: {
        healthy: 1,
        unhealthy: 1,
        targets: [
          { id: '10.0.0.1:80', state: 'healthy' },
          { id: '10.0.0.2:80', state: 'unhealthy', reason: 'Target.Timeout' },
        ],
      },
      alarms: [],
    });
    expect(v.refusal).toEqual({
      gate: 'green-health',
      detail: "green's target group has 1 healthy and 1 unhealthy target(s) (10.0.0.2:80 unhealthy: Target.Timeout)",
      todo: 'fix the green service (its ECS events and logs say why) until all its targets are healthy, then re-run',
    });
    expect(judgeGates({ skipValidation: true, health: { healthy: 0, unhealthy: 0, targets: [] }, alarms: [] }).refusal?.detail).toBe(
      "green's target group has 0 healthy and 0 unhealthy target(s)",
    );
  });

  it('refuses a green alarm in ALARM; a missing alarm is a warning, not counted as one that exists', () => {
    expect(
      judgeGates({
        skipValidation: true,
        health: healthy,
        alarms: [
          { name: 'g5xx', state: 'ALARM' },
          { name: 'gmem', state: 'ALARM' },
        ],
      }).refusal,
    ).toEqual({
      gate: 'green-alarms',
      detail: '2 green alarm(s) in ALARM (g5xx, gmem)',
      todo: 'investigate and resolve them before shifting more traffic to green',
    });
    const v = judgeGates({
      skipValidation: true,
      health: healthy,
      alarms: [
        { name: 'a', state: 'OK' },
        { name: 'gone', state: 'MISSING' },
      ],
    });
    expect(v.missingAlarms).toEqual(['gone']);
    expect(v.gates[2].detail).toBe('1 alarm(s), none in ALARM');
  });
});

describe('describeReport', () => {
  it('counts breaking differences from the report totals when present (the one verdict reading)', () => {
    const r = report({ verdict: 'incompatible', differences: [diff('breaking', 'public.t.c')], totals: { breaking: 1, risky: 0, safe: 0 } });
    expect(describeReport(r)).toBe('1 breaking difference(s), e.g. public.t.c: public.t.c differs');
  });

  it('reads a compatible report by its differences', () => {
    expect(describeReport(report())).toBe('0 difference(s), none breaking');
  });
});
