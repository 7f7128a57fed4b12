/** The rehearsal's pure judgements: write pause and errors around a switch, buckets, and the verdict. */
import { describe, expect, it } from 'vitest';
import { bucketize, decideVerdict, switchImpact } from '../../src/rehearsal/summary.js';
import type { ClientError } from '../../src/rehearsal/timeline.js';

const err = (t: number, code = '57P01'): ClientError => ({ t, kind: 'write', code, message: 'x' });

describe('switchImpact', () => {
  it('is the longest gap between acknowledged writes that overlaps the switch, and the errors until writes resume', () => {
    const acks: Array<[number, 'blue' | 'green']> = [
      [100, 'blue'],
      [940, 'blue'], // the last write before the window
      [1000, 'blue'], // inside the window, before the pause
      [1050, 'blue'],
      [1800, 'green'], // first after the 750 ms pause
      [1900, 'green'],
      [5000, 'green'],
    ];
    const errors = [err(900), err(1100, '42501'), err(1200, '42501'), err(1850), err(3000)];
    const r = switchImpact({ acks, errors }, { start: 950, end: 1500 });
    expect(r.writePauseMs).toBe(750);
    // From the window's start until the first write after its end (1800): 1100, 1200 — not 900, 1850 or 3000.
    expect(r.errors).toBe(2);
    expect(r.errorCodes).toEqual(['42501']);
  });

  it('counts a pause that spans the whole window', () => {
    const r = switchImpact(
      {
        acks: [
          [100, 'blue'],
          [2100, 'green'],
        ],
        errors: [],
      },
      { start: 500, end: 1500 },
    );
    expect(r.writePauseMs).toBe(2000);
  });

  it('says n/a when the application did not write on one side of the switch', () => {
    expect(switchImpact({ acks: [[100, 'blue']], errors: [] }, { start: 500, end: 1500 }).writePauseMs).toBeNull();
    expect(switchImpact({ acks: [[2000, 'green']], errors: [] }, { start: 500, end: 1500 }).writePauseMs).toBeNull();
  });
});

describe('bucketize', () => {
  it('counts writes per serving code and errors per 100 ms', () => {
    const b = bucketize({
      acks: [
        [10, 'blue'],
        [99, 'green'],
        [100, 'blue'],
        [250, 'green'],
      ],
      errors: [err(150), err(160)],
      durationMs: 300,
    });
    expect(b).toEqual([
      { t: 0, blue: 1, green: 1, errors: 0 },
      { t: 100, blue: 1, green: 0, errors: 2 },
      { t: 200, blue: 0, green: 1, errors: 0 },
    ]);
  });
});

describe('decideVerdict', () => {
  const held = [{ name: 'db cutover', status: 'held' as const }];
  it('passes when every step that ran held and nothing was lost; skipped steps are listed, not failures', () => {
    const v = decideVerdict({
      steps: [...held, { name: 'promote', status: 'skipped', detail: 'no emulator' }],
      acknowledged: 1200,
      lost: 0,
      lossChecked: true,
      leftovers: [],
    });
    expect(v.pass).toBe(true);
    expect(v.line).toBe('PASS — 1 step(s) held, 1 skipped, 1,200 acknowledged writes, 0 lost');
  });

  it.each([
    ['a failed step', { steps: [{ name: 'db rollback', status: 'failed' as const, detail: 'exit 3' }] }, 'db rollback failed: exit 3'],
    ['a lost write', { lost: 1 }, '1 acknowledged write(s) lost'],
    ['no loss check', { lossChecked: false }, 'the row-by-row loss check did not run'],
    ['no write at all', { acknowledged: 0 }, 'the sample application acknowledged no write'],
    ['a slot left behind', { leftovers: ['slot bgmig_sub_blue_to_green on blue'] }, 'left behind: slot bgmig_sub_blue_to_green on blue'],
  ])('fails on %s', (_what, patch, reason) => {
    const v = decideVerdict({ steps: held, acknowledged: 10, lost: 0, lossChecked: true, leftovers: [], ...patch });
    expect(v.pass).toBe(false);
    expect(v.reasons).toContain(reason);
    expect(v.line.startsWith('FAIL — ')).toBe(true);
  });
});
