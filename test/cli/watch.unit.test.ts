/**
 * Issue 16, kind 4: the pure part of the one --watch contract (src/cli/watch.ts) — the stop decision, the flag
 * checks and the loop over scripted observations. The executable against moto: watch.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { BgmigError, ExitCode } from '../../src/core/errors.js';
import { decideWatch, type Observation, parseWatchFlags, runWatch, type WatchLine } from '../../src/cli/watch.js';
import { memoryIo } from './support/memory-io.js';

const KEYS = ['at', 'error', 'exitCode', 'result', 'round', 'verdict'];

describe('decideWatch', () => {
  const base = { round: 1, elapsedMs: 0, intervalMs: 1000 };
  it('stops at the first observation with the --until verdict, not at another', () => {
    expect(decideWatch({ ...base, verdict: 'healthy', until: 'healthy' })).toEqual({ stop: true, reason: 'until' });
    expect(decideWatch({ ...base, verdict: 'degraded', until: 'healthy' })).toEqual({ stop: false });
    expect(decideWatch({ ...base, verdict: 'degraded', until: 'degraded' })).toEqual({ stop: true, reason: 'until' });
    // A failed read is neither healthy nor degraded: keep watching.
    expect(decideWatch({ ...base, verdict: 'error', until: 'degraded' })).toEqual({ stop: false });
  });
  it('stops when the next round would start after --timeout, and not before', () => {
    expect(decideWatch({ ...base, verdict: 'degraded', elapsedMs: 8_900, timeoutMs: 10_000 })).toEqual({ stop: false });
    expect(decideWatch({ ...base, verdict: 'degraded', elapsedMs: 9_100, timeoutMs: 10_000 })).toEqual({ stop: true, reason: 'timeout' });
    expect(decideWatch({ ...base, verdict: 'healthy', elapsedMs: 1e9 })).toEqual({ stop: false }); // no timeout: forever
  });
});

describe('parseWatchFlags', () => {
  it('rejects a bad --interval, --until or --timeout with one sentence (exit 2)', () => {
    const { io } = memoryIo();
    expect(() => parseWatchFlags({ watch: true, interval: '0' }, io, { intervalSeconds: 5 })).toThrow(
      /--interval must be a whole number of seconds from 1 to 3600, got "0"/,
    );
    expect(() => parseWatchFlags({ watch: true, interval: '1.5' }, io, { intervalSeconds: 5 })).toThrow(BgmigError);
    expect(() => parseWatchFlags({ watch: true, until: 'green' }, io, { intervalSeconds: 5 })).toThrow(/--until must be healthy or degraded, got "green"/);
    expect(() => parseWatchFlags({ watch: true, timeout: 'forever' }, io, { intervalSeconds: 5 })).toThrow(/--timeout must be a duration/);
  });
  it('warns that --interval/--until/--timeout have no effect without --watch, and reads once', () => {
    const { io, stderr } = memoryIo();
    const w = parseWatchFlags({ interval: '2', until: 'healthy' }, io, { intervalSeconds: 5 });
    expect(w.watch).toBe(false);
    expect(stderr()).toBe('warning: --interval, --until have no effect without --watch: reading once.\n');
  });
});

function script(codes: (ExitCode | 'throw')[]): () => Promise<Observation> {
  let i = 0;
  return async () => {
    const c = codes[Math.min(i++, codes.length - 1)];
    if (c === 'throw') throw new BgmigError('Cannot reach AWS in us-east-1: check your network, then retry.', ExitCode.Failure);
    return { result: { n: i }, text: `reading ${i}`, exitCode: c as ExitCode };
  };
}

describe('runWatch', () => {
  const toError = (e: unknown) => e as BgmigError;
  it('--json: one JSON document per line with every key, --until healthy exits 0 at the first healthy round', async () => {
    const { io, stdout, stderr } = memoryIo({ json: true });
    const code = await runWatch(
      script([ExitCode.Refused, 'throw', ExitCode.Ok, ExitCode.Refused]),
      io,
      { intervalMs: 10, until: 'healthy', subject: 'test' },
      toError,
    );
    expect(code).toBe(ExitCode.Ok);
    const lines = stdout()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as WatchLine);
    expect(lines.map((l) => l.verdict)).toEqual(['degraded', 'error', 'healthy']);
    for (const l of lines) expect(Object.keys(l).sort()).toEqual(KEYS);
    expect(lines[1]).toMatchObject({
      exitCode: 1,
      result: null,
      error: { message: expect.stringMatching(/^Cannot reach/), exitCode: 1, kind: 'failure', code: null, details: null },
    });
    expect(lines[0]).toMatchObject({ round: 1, exitCode: 3, result: { n: 1 }, error: null });
    expect(stderr()).toContain('test is healthy (round 3');
    // The failed round's sentence is on stderr too.
    expect(stderr()).toMatch(/^error: Cannot reach AWS in us-east-1/m);
  });

  it('off a terminal a failed read goes to stderr, and stdout keeps only the round line', async () => {
    const { io, stdout, stderr } = memoryIo();
    await runWatch(script(['throw', ExitCode.Ok]), io, { intervalMs: 5, until: 'healthy', subject: 'test' }, toError);
    expect(stdout()).not.toContain('Cannot reach');
    expect(stdout()).toMatch(/test: error; refreshing/);
    expect(stderr()).toMatch(/^error: Cannot reach AWS in us-east-1/m);
  });

  it('--timeout ends the watch with the last verdict and says so', async () => {
    const { io, stdout, stderr } = memoryIo();
    const code = await runWatch(script([ExitCode.Refused]), io, { intervalMs: 20, until: 'healthy', timeoutMs: 70, subject: 'bgmig-x status' }, toError);
    expect(code).toBe(ExitCode.Refused);
    expect(stdout()).toContain('reading 1');
    expect(stdout()).not.toContain('\x1b['); // not a terminal: no cursor movement
    expect(stderr()).toMatch(/warning: bgmig-x status is still degraded after --timeout 70 ms \(waited for healthy\): exiting with the last verdict\./);
  });

  it('Ctrl-C (abort) stops at once, even while a read waits, with the last verdict', async () => {
    const { io } = memoryIo({ json: true });
    const ac = new AbortController();
    let reads = 0;
    const read = async (): Promise<Observation> => {
      reads++;
      if (reads === 2) {
        setTimeout(() => ac.abort(), 20);
        return new Promise(() => undefined); // hangs
      }
      return { result: {}, text: '', exitCode: ExitCode.Refused };
    };
    const started = Date.now();
    expect(await runWatch(read, io, { intervalMs: 10, signal: ac.signal, subject: 's' }, toError)).toBe(ExitCode.Refused);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
