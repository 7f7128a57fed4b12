/**
 * The pure health decision (src/replication/health.ts): progress over a window, not an instant's liveness. Each case
 * is a sequence of observations as the views report them; the verdict must not depend on whether the apply worker
 * happened to be up at the last look.
 */
import { describe, expect, it } from 'vitest';
import { decideHealth, inactiveSlots, lsnToBigInt, type StreamObservation } from '../../src/replication/health.js';

const ctx = { subscription: 'bgmig_sub_blue_to_green', from: 'blue', to: 'green' } as const;

function obs(
  atMs: number,
  o: {
    cur: string;
    confirmed: string | null;
    pid?: number | null;
    apply?: number;
    sync?: number;
    notReady?: string[];
    enabled?: boolean;
    exists?: boolean;
    slotActive?: boolean;
    slot?: boolean;
  },
): StreamObservation {
  return {
    atMs,
    subscriber: {
      exists: o.exists ?? true,
      enabled: o.enabled ?? true,
      workerPid: o.pid === undefined ? 4242 : o.pid,
      applyErrorCount: o.apply ?? 0,
      syncErrorCount: o.sync ?? 0,
      receivedLsn: null,
      tablesNotReady: o.notReady ?? [],
    },
    publisher: {
      currentLsn: o.cur,
      slot: o.slot === false ? null : { active: o.slotActive ?? true, confirmedFlushLsn: o.confirmed, walRetainedBytes: 1000 },
    },
  };
}

describe('lsnToBigInt', () => {
  it('reads both halves as hex', () => {
    expect(lsnToBigInt('0/16B3748')).toBe(0x16b3748n);
    expect(lsnToBigInt('1/0')).toBe(1n << 32n);
    expect(lsnToBigInt('16/B374D848') > lsnToBigInt('16/B374D847')).toBe(true);
    expect(() => lsnToBigInt('nope')).toThrow();
  });
});

describe('decideHealth', () => {
  it('applying when everything written at the first look is confirmed by the last', () => {
    const d = decideHealth([obs(0, { cur: '0/3000', confirmed: '0/2000' }), obs(600, { cur: '0/5000', confirmed: '0/3000' })], ctx);
    expect(d).toMatchObject({ verdict: 'applying', applying: true, healthy: true, problems: [] });
  });

  it('applying when the drain marker written after the first look is applied, though the slot has not confirmed (its feedback lags)', () => {
    const marked = { ...obs(400, { cur: '0/3100', confirmed: '0/2000' }), markerApplied: true };
    const d = decideHealth([obs(0, { cur: '0/3000', confirmed: '0/2000' }), marked], ctx);
    expect(d).toMatchObject({ verdict: 'applying', applying: true, healthy: true, problems: [] });
    expect(d.evidence).toMatchObject({ markerApplied: true, pendingBytes: 0x1100 });
  });

  it('a marker not (yet) applied proves nothing: the slot decides, as without one', () => {
    const looks = [obs(0, { cur: '0/40000', confirmed: '0/2000' }), { ...obs(5000, { cur: '0/40000', confirmed: '0/2000' }), markerApplied: false }];
    expect(decideHealth(looks, ctx)).toMatchObject({ verdict: 'stalled', applying: false, evidence: { markerApplied: false } });
  });

  it('the marker cannot hide a failing worker: errors in the window decide before it (it cannot pass the failing transaction anyway)', () => {
    const looks = [
      obs(0, { cur: '0/3000', confirmed: '0/2000', apply: 1 }),
      { ...obs(600, { cur: '0/3100', confirmed: '0/2000', apply: 2 }), markerApplied: true },
    ];
    expect(decideHealth(looks, ctx).verdict).toBe('failing');
  });

  it('applying at once when the slot already confirmed the current position (an idle stream)', () => {
    expect(decideHealth([obs(0, { cur: '0/3000', confirmed: '0/3000' })], ctx).verdict).toBe('applying');
  });

  it('a worker that fails and restarts is failing whether it is up or down at the last look (the issue example)', () => {
    const up = decideHealth(
      [obs(0, { cur: '0/9000', confirmed: '0/2000', pid: null, apply: 4 }), obs(1000, { cur: '0/9100', confirmed: '0/2000', pid: 777, apply: 5 })],
      ctx,
    );
    const down = decideHealth(
      [obs(0, { cur: '0/9000', confirmed: '0/2000', pid: 777, apply: 5 }), obs(1000, { cur: '0/9100', confirmed: '0/2000', pid: null, apply: 5 })],
      ctx,
    );
    for (const d of [up, down]) {
      expect(d.verdict).toBe('failing');
      expect(d.healthy).toBe(false);
      expect(d.applying).toBe(false);
      expect(d.problems[0]).toContain('the apply worker of bgmig_sub_blue_to_green on green');
      expect(d.problems[0]).toContain("green's server log");
    }
    expect(up.evidence.applyErrorsInWindow).toBe(1);
    expect(down.evidence.applyErrorsInWindow).toBe(0);
  });

  it('past errors on a stream that now applies are a note, not a problem', () => {
    const d = decideHealth([obs(0, { cur: '0/3000', confirmed: '0/2000', apply: 3 }), obs(500, { cur: '0/3000', confirmed: '0/3000', apply: 3 })], ctx);
    expect(d.verdict).toBe('applying');
    expect(d.notes.join(' ')).toContain('3 apply error(s) happened earlier');
  });

  it('catching up while the confirmed position moves, stalled when it does not (no error: a lock on the subscriber)', () => {
    const moving = decideHealth([obs(0, { cur: '0/90000', confirmed: '0/1000' }), obs(1000, { cur: '0/99000', confirmed: '0/8000' })], ctx);
    expect(moving).toMatchObject({ verdict: 'catching_up', healthy: true, applying: false });
    const stuck = decideHealth([obs(0, { cur: '0/90000', confirmed: '0/1000' }), obs(1000, { cur: '0/99000', confirmed: '0/1000' })], ctx);
    expect(stuck).toMatchObject({ verdict: 'stalled', healthy: false, applying: false });
    expect(stuck.problems[0]).toContain('a lock or a long transaction on green');
  });

  it('a large transaction still arriving (received position moving, nothing confirmed yet) is catching up, not stalled', () => {
    const a = obs(0, { cur: '0/90000', confirmed: '0/1000' });
    const b = obs(1000, { cur: '0/99000', confirmed: '0/1000' });
    const withReceived = (o: StreamObservation, lsn: string): StreamObservation => ({
      ...o,
      subscriber: o.subscriber ? { ...o.subscriber, receivedLsn: lsn } : null,
    });
    expect(decideHealth([withReceived(a, '0/20000'), withReceived(b, '0/50000')], ctx).verdict).toBe('catching_up');
    expect(decideHealth([withReceived(a, '0/20000'), withReceived(b, '0/20000')], ctx).verdict).toBe('stalled');
  });

  it('a few kilobytes unconfirmed without error or movement is feedback timing, not a stall (but not proven applying either)', () => {
    const d = decideHealth([obs(0, { cur: '0/3000', confirmed: '0/2000' }), obs(1000, { cur: '0/3000', confirmed: '0/2000' })], ctx);
    expect(d).toMatchObject({ verdict: 'catching_up', healthy: true, applying: false });
  });

  it('a table copy that keeps failing is copy_failing and names the tables', () => {
    const d = decideHealth(
      [
        obs(0, { cur: '0/3000', confirmed: '0/3000', sync: 2, notReady: ['public.seed'] }),
        obs(1000, { cur: '0/3000', confirmed: '0/3000', sync: 3, notReady: ['public.seed'] }),
      ],
      ctx,
    );
    expect(d.verdict).toBe('copy_failing');
    expect(d.problems[0]).toContain('public.seed');
    expect(d.evidence.syncErrorsInWindow).toBe(1);
  });

  it('a copy without errors is copying and healthy', () => {
    const d = decideHealth(
      [obs(0, { cur: '0/3000', confirmed: '0/2000', notReady: ['public.seed'] }), obs(300, { cur: '0/3000', confirmed: '0/2000', notReady: ['public.seed'] })],
      ctx,
    );
    expect(d).toMatchObject({ verdict: 'copying', healthy: true });
  });

  it('not running: no worker seen at any look and nothing confirmed', () => {
    const d = decideHealth([obs(0, { cur: '0/3000', confirmed: '0/2000', pid: null }), obs(1000, { cur: '0/3000', confirmed: '0/2000', pid: null })], ctx);
    expect(d.verdict).toBe('not_running');
  });

  it('disabled, missing subscription, missing slot, unreadable side', () => {
    expect(decideHealth([obs(0, { cur: '0/3000', confirmed: '0/2000', enabled: false })], ctx).verdict).toBe('disabled');
    expect(decideHealth([obs(0, { cur: '0/3000', confirmed: '0/2000', exists: false })], ctx).verdict).toBe('missing');
    const noSlot = decideHealth([obs(0, { cur: '0/3000', confirmed: null, slot: false })], ctx);
    expect(noSlot.verdict).toBe('missing');
    expect(noSlot.problems[0]).toContain('replication slot bgmig_sub_blue_to_green is missing on blue');
    expect(decideHealth([{ atMs: 0, subscriber: null, publisher: null }], ctx).verdict).toBe('unknown');
  });

  it('is stable: the same failing stream, observed ten times at different phases, is failing every time', () => {
    const verdicts = Array.from({ length: 10 }, (_, i) => {
      const errors = 3 + Math.floor(i / 3);
      return decideHealth(
        [
          obs(0, { cur: '0/9000', confirmed: '0/2000', pid: i % 2 === 0 ? 10 : null, apply: errors }),
          obs(1000, { cur: '0/9400', confirmed: '0/2000', pid: i % 3 === 0 ? null : 11, apply: errors + (i % 2) }),
        ],
        ctx,
      ).verdict;
    });
    expect(new Set(verdicts)).toEqual(new Set(['failing']));
  });
});

describe('inactiveSlots', () => {
  const s = (name: string, active: boolean, walRetainedBytes = 100) => ({ side: 'blue' as const, name, active, walRetainedBytes });
  it('a slot inactive at every look and retaining WAL; not one that was active once or appeared meanwhile', () => {
    const looks = [
      [s('a', false), s('b', true), s('c', false, 0)],
      [s('a', false), s('b', false), s('c', false, 0), s('d', false)],
    ];
    expect(inactiveSlots(looks).map((x) => x.name)).toEqual(['a']);
  });
});
