// The unit layer's promise (no server, emulator or subprocess) is kept by the harness, not by review.
import { describe, expect, it } from 'vitest';
import { runBgmig } from './cli.js';
import { startMoto, startPrivateMoto } from './moto.js';
import { startPostgres, startPrivatePostgres } from './postgres.js';

describe('the unit layer', () => {
  it('runs with BGMIG_TEST_LAYER=unit', () => {
    expect(process.env.BGMIG_TEST_LAYER).toBe('unit');
  });

  it('refuses to start moto, PostgreSQL or the bgmig executable, naming the way out', async () => {
    await expect(startMoto()).rejects.toThrow(/moto started in the unit layer: .*name the file \*\.test\.ts/);
    await expect(startPrivateMoto()).rejects.toThrow(/unit layer/);
    await expect(startPostgres()).rejects.toThrow(/PostgreSQL started in the unit layer/);
    await expect(startPrivatePostgres({ logical: true })).rejects.toThrow(/unit layer/);
    expect(() => runBgmig(['--help'])).toThrow(/bgmig run as a subprocess in the unit layer/);
  });
});
