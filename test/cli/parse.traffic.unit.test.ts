/**
 * Flag parsing of the traffic verbs (history, status, validate, promote) through register(program, runF): what the
 * action would receive, and the malformed or contradictory flags each refuses with exit 2 before any action runs.
 */
import { describe, expect, it } from 'vitest';
import { register as registerHistory } from '../../src/cli/commands/history.js';
import { register as registerStatus } from '../../src/cli/commands/status.js';
import { parseVerb } from '../harness/parse.js';

describe('history', () => {
  it('passes the suffix and --limit as a number (default 50)', async () => {
    expect((await parseVerb(registerHistory, ['history', '--suffix', 'shop-prod'])).opts).toEqual({ suffix: 'shop-prod', limit: 50 });
    const p = await parseVerb(registerHistory, ['history', '--suffix', 'shop-prod', '--limit', '5']);
    expect(p.exitCode).toBe(0);
    expect(p.opts).toEqual({ suffix: 'shop-prod', limit: 5 });
  });

  it.each([['0'], ['abc'], ['2.5'], ['100001']])('refuses --limit %s before the action (exit 2)', async (limit) => {
    const p = await parseVerb(registerHistory, ['history', '--suffix', 'shop-prod', '--limit', limit]);
    expect(p.opts).toBeUndefined();
    expect(p.exitCode).toBe(2);
    expect(p.stderr).toMatch(/--limit must be a whole number from 1 to 100000/);
  });
});

describe('status', () => {
  it('reads once by default (interval 5 s, replication on)', async () => {
    const p = await parseVerb(registerStatus, ['status', '--suffix', 'shop-prod']);
    expect(p.exitCode).toBe(0);
    expect(p.opts).toEqual({ suffix: 'shop-prod', watch: false, intervalSeconds: 5, until: undefined, timeoutMs: undefined, replication: true });
  });

  it('--watch with --interval, --until, --timeout and --no-replication', async () => {
    const p = await parseVerb(registerStatus, [
      'status',
      '--suffix',
      's',
      '--watch',
      '--interval',
      '2',
      '--until',
      'healthy',
      '--timeout',
      '10m',
      '--no-replication',
    ]);
    expect(p.opts).toEqual({ suffix: 's', watch: true, intervalSeconds: 2, until: 'healthy', timeoutMs: 600_000, replication: false });
  });

  it('--until without --watch is not refused: a warning names it and status reads once', async () => {
    const p = await parseVerb(registerStatus, ['status', '--suffix', 's', '--until', 'healthy']);
    expect(p.exitCode).toBe(0);
    expect(p.opts).toMatchObject({ watch: false, until: 'healthy' });
    expect(p.stderr).toMatch(/--until has no effect without --watch: reading once/);
  });

  it.each([
    [['--interval', '0'], /--interval must be a whole number of seconds from 1 to 3600, got "0"/],
    [['--interval', '1.5'], /--interval must be a whole number of seconds/],
    [['--until', 'green'], /--until must be healthy or degraded, got "green"/],
    [['--timeout', 'soon'], /--timeout/],
  ])('refuses %j before the action (exit 2)', async (flags, message) => {
    const p = await parseVerb(registerStatus, ['status', '--suffix', 's', '--watch', ...flags]);
    expect(p.opts).toBeUndefined();
    expect(p.exitCode).toBe(2);
    expect(p.stderr).toMatch(message);
  });
});
