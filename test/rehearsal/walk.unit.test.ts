/**
 * The rehearsal's step runner counts each verb through the verb's own exit-code decision: a result an operator's run
 * would exit non-zero on fails the step (and so the rehearsal's verdict), whatever the verb printed before.
 */
import { describe, expect, it } from 'vitest';
import type { DbInitResult } from '../../src/cli/commands/db/init.js';
import { ExitCode } from '../../src/core/errors.js';
import { emitDbInit } from '../../src/rehearsal/run.js';
import { decideVerdict } from '../../src/rehearsal/summary.js';
import { Walk } from '../../src/rehearsal/walk.js';

function walk(): { walk: Walk; lines: string[] } {
  const lines: string[] = [];
  return { walk: new Walk({ line: (t) => lines.push(t) }, { verbose: false, endpoint: () => undefined }), lines };
}

const side = (color: 'blue' | 'green', loginVerified: boolean | null): DbInitResult['blue'] => ({
  color,
  server: `postgres@127.0.0.1:5432/app`,
  roleCreated: true,
  databaseCreated: false,
  schemas: ['public'],
  tables: 3,
  sequences: 1,
  loginVerified,
  fenced: false,
});

const initResult = (greenLogin: boolean): DbInitResult => ({
  mode: 'direct',
  passwordSource: 'BGMIG_APP_PASSWORD',
  operation: 'init',
  role: 'bgmig_app',
  database: 'app',
  schemas: ['public'],
  blue: side('blue', true),
  green: side('green', greenLogin),
  durationMs: 12,
});

describe('Walk.command', () => {
  it('fails the step when the verb decides a non-zero exit code, with the error sentence it reported as detail', async () => {
    const { walk: w } = walk();
    const r = await w.command('x', 'bgmig x', async (io) => {
      io.error('it went wrong.');
      return ExitCode.Failure;
    });
    expect(r.held).toBe(false);
    expect(w.steps[0]).toMatchObject({ name: 'x', status: 'failed', exitCode: 1, detail: 'it went wrong.' });
  });

  it('holds on an expected exit code', async () => {
    const { walk: w } = walk();
    const r = await w.command('promote', 'bgmig promote', async () => ExitCode.Refused, { expect: [3] });
    expect(r.held).toBe(true);
    expect(w.steps[0]).toMatchObject({ status: 'held', exitCode: 3 });
  });

  it('maps a thrown error to its exit code without an AWS client bag', async () => {
    const { walk: w, lines } = walk();
    await w.command('y', 'bgmig y', async () => {
      throw new Error('boom');
    });
    expect(w.steps[0]).toMatchObject({ status: 'failed', exitCode: 1 });
    expect(w.steps[0]?.detail).toContain('boom');
    expect(lines.some((l) => l.includes('✗ exit 1'))).toBe(true);
  });
});

describe('the db init step', () => {
  it('holds when both logins are verified', async () => {
    const { walk: w } = walk();
    const r = await w.command('db init', 'bgmig db init', async (io) => emitDbInit(io, initResult(true)));
    expect(r.held).toBe(true);
    expect(w.steps[0]).toMatchObject({ status: 'held', exitCode: 0 });
  });

  it('fails — and fails the rehearsal — when a login could not be verified (db init exits 1 for an operator)', async () => {
    const { walk: w, lines } = walk();
    const r = await w.command('db init', 'bgmig db init', async (io) => emitDbInit(io, initResult(false)));
    expect(r.held).toBe(false);
    expect(w.steps[0]).toMatchObject({
      status: 'failed',
      exitCode: 1,
      detail: 'The role was set on both databases but logging in as bgmig_app failed on green: check pg_hba.conf for that role.',
    });
    expect(lines.some((l) => l.includes('LOGIN NOT VERIFIED'))).toBe(true);
    expect(decideVerdict({ steps: w.steps, acknowledged: 10, lost: 0, lossChecked: true, leftovers: [] }).pass).toBe(false);
  });
});
