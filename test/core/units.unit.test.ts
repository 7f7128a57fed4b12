import { describe, expect, it } from 'vitest';
import { BgmigError, ExitCode } from '../../src/core/errors.js';
import { formatBytes, formatMs, parseDuration, parseSize } from '../../src/core/units.js';

describe('parseDuration', () => {
  it.each([
    ['250ms', 250],
    ['10s', 10_000],
    ['1.5s', 1500],
    ['2m', 120_000],
  ])('parses %s', (input, ms) => expect(parseDuration(input, '--max-pause')).toBe(ms));

  it.each(['10', '10h', '-5s', 'abc', '', '0s'])('rejects %j as bad input naming the option', (input) => {
    try {
      parseDuration(input, '--max-pause');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(BgmigError);
      expect((e as BgmigError).exitCode).toBe(ExitCode.BadInput);
      expect((e as BgmigError).message).toContain('--max-pause');
    }
  });
});

describe('parseSize', () => {
  it.each([
    ['16MB', 16 * 1024 ** 2],
    ['512kB', 512 * 1024],
    ['1GB', 1024 ** 3],
    ['100', 100],
  ])('parses %s', (input, bytes) => expect(parseSize(input, '--max-lag')).toBe(bytes));

  it('rejects garbage with exit 2', () => {
    expect(() => parseSize('lots', '--max-lag')).toThrowError(/--max-lag must be a size/);
  });
});

describe('formatting', () => {
  it('formats bytes and durations for humans', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(16 * 1024 ** 2)).toBe('16 MB');
    expect(formatMs(140)).toBe('140 ms');
    expect(formatMs(2500)).toBe('2.5 s');
  });
});
