/** The HTML timeline is a pure rendering of what the rehearsal observed: check it shows what happened, safely. */
import { describe, expect, it } from 'vitest';
import { renderReport, timelineSvg } from '../../src/rehearsal/report.js';
import type { RehearsalResult } from '../../src/rehearsal/run.js';
import type { TimelineData } from '../../src/rehearsal/timeline.js';

const data: TimelineData = {
  acks: [
    [1000, 'blue'], // during set-up: before the chart starts
    [3050, 'blue'],
    [3150, 'blue'],
    [4250, 'green'],
  ],
  errors: [{ t: 3700, kind: 'write', code: '57P01', message: 'terminating connection' }],
  reads: [3060],
  weights: [
    [0, { blue: 100, green: 0 }],
    [3900, { blue: 50, green: 50 }],
    [4100, { blue: 100, green: 0 }],
  ],
  active: [
    [0, 'blue'],
    [3800, 'green'],
  ],
  markers: [
    { label: 'start blue and green PostgreSQL', kind: 'setup', start: 0, end: 2000, outcome: 'ok' },
    { label: 'db cutover <&>', kind: 'command', start: 3400, end: 3650, outcome: 'ok' },
  ],
  events: [[4000, 'alarm-green-5xx → ALARM']],
  durationMs: 5000,
};

const result: RehearsalResult = {
  verdict: { pass: true, reasons: [], line: 'PASS — 1 step(s) held, 3 acknowledged writes, 0 lost' },
  environment: {
    postgres: 'PostgreSQL 16.14 (embedded)',
    emulator: 'moto 5.2.1',
    emulatorEndpoint: 'http://127.0.0.1:1',
    pooler: null,
    workspace: '/tmp/x',
    kept: false,
  },
  skipped: [],
  steps: [
    {
      name: 'db cutover',
      command: 'bgmig db cutover --yes',
      status: 'held',
      durationMs: 250,
      impact: { writePauseMs: 1100, errors: 1, errorCodes: ['57P01'] },
    },
  ],
  acknowledged: 3,
  lost: 0,
  clientErrors: 1,
  errorSamples: [{ code: '57P01', count: 1, message: 'terminating connection' }],
  rollbackLatencyMs: 100,
  rollbackBy: 'rollout',
  durationMs: 1500,
};

describe('rehearsal report', () => {
  it('draws writes per 100 ms by serving colour, errors, weights, the active database and commands', () => {
    const svg = timelineSvg(data, 1000);
    // From half a second before the first command: one bar per non-empty 100 ms bucket and colour — buckets 30 and
    // 31 (blue), 42 (green) — and not the write made during set-up.
    expect(svg.match(/fill="#2b6cb0"\/>/g)).toHaveLength(2);
    expect(svg.match(/fill="#2f855a"\/>/g)).toHaveLength(1);
    expect(svg).not.toContain('start blue and green PostgreSQL');
    expect(svg).toContain('<title>1 error(s) at 3.7 s</title>');
    expect(svg).toContain('<title>green from 3.8 s</title>');
    expect(svg).toContain('<title>alarm-green-5xx → ALARM at 4.0 s</title>');
    // Labels are escaped, never markup.
    expect(svg).toContain('db cutover &lt;&amp;&gt;');
    expect(svg).not.toContain('<&>');
  });

  it('is one self-contained page: the verdict, the figures, the steps, no script and no external resource', () => {
    const html = renderReport(result, data);
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('PASS — 1 step(s) held, 3 acknowledged writes, 0 lost');
    expect(html).toContain('1.1 s / 1');
    expect(html).toContain('rollback latency after the alarm 100 ms');
    expect(html).not.toMatch(/<script|<link|src=|https?:\/\/(?!www\.w3\.org)/);
  });
});
