/** Flag parsing of every verb through register(program, runF): what the action would receive, no action run. */
import { describe, expect, it } from 'vitest';
import { register as registerRollback } from '../../src/cli/commands/rollback.js';
import { parseVerb } from '../harness/parse.js';

describe('rollback', () => {
  it('passes the validated suffix', async () => {
    const p = await parseVerb(registerRollback, ['rollback', '--suffix', 'shop-prod']);
    expect(p.exitCode).toBe(0);
    expect(p.opts).toEqual({ suffix: 'shop-prod' });
  });

  it('refuses a missing suffix before the action (exit 2)', async () => {
    const env = process.env.BGMIG_SUFFIX;
    delete process.env.BGMIG_SUFFIX;
    try {
      const p = await parseVerb(registerRollback, ['rollback']);
      expect(p.opts).toBeUndefined();
      expect(p.exitCode).toBe(2);
      expect(p.stderr).toMatch(/--suffix/);
    } finally {
      if (env !== undefined) process.env.BGMIG_SUFFIX = env;
    }
  });
});
