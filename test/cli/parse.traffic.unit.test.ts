/**
 * Flag parsing of the traffic verbs (history, status, validate, promote) through register(program, runF): what the
 * action would receive, and the malformed or contradictory flags each refuses with exit 2 before any action runs.
 */
import { describe, expect, it } from 'vitest';
import { register as registerHistory } from '../../src/cli/commands/history.js';
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
