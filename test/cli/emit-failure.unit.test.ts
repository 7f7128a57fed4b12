/**
 * The one machine contract for a result that is also a failure (verb.ts `emit` with a FailureOf): human → the
 * rendering on stdout and one sentence on stderr; --json → exactly one `{"error": {…}}` document on stdout, the
 * result in details.report — for db init, db sync stop, db cutover/rollback and validate alike.
 */
import { describe, expect, it } from 'vitest';
import { type DbInitResult, exitCodeOf as initExit, loginNotVerified, renderDbInit } from '../../src/cli/commands/db/init.js';
import { exitCodeOf as stopExit, leftBehindFailure, renderDbSyncStop } from '../../src/cli/commands/db/sync-stop.js';
import { emitValidation } from '../../src/cli/commands/validate.js';
import { emit } from '../../src/cli/verb.js';
import { ExitCode } from '../../src/core/errors.js';
import type { SyncStopReport } from '../../src/replication/api.js';
import type { ValidationReport } from '../../src/schema/report.js';
import { memoryIo } from './support/memory-io.js';

const side = (color: 'blue' | 'green', loginVerified: boolean) => ({
  color,
  server: `admin@${color}:5432/postgres`,
  roleCreated: true,
  databaseCreated: false,
  schemas: ['public'],
  tables: 2,
  sequences: 1,
  loginVerified,
  fenced: false,
});

const INIT: DbInitResult = {
  operation: 'init',
  durationMs: 40,
  mode: 'direct',
  passwordSource: 'BGMIG_APP_PASSWORD',
  role: 'bgmig_app',
  database: 'app',
  schemas: ['public'],
  blue: side('blue', true),
  green: side('green', false),
};

const STOP: SyncStopReport = {
  active: 'blue',
  dropped: { subscriptions: [], slots: ['s on blue'], publications: [] },
  passiveFenced: true,
  unreachable: ['green'],
  left: [{ side: 'green', object: 'subscription s', remove: 'DROP SUBSCRIPTION s;' }],
  durationMs: 5,
};

const ERROR_REPORT = { verdict: 'error', error: 'blue could not be reached', differences: [] } as unknown as ValidationReport;

function errorDocOf(stdout: string): { error: Record<string, unknown> & { details: { report: unknown } } } {
  const doc = JSON.parse(stdout) as { error: Record<string, unknown> & { details: { report: unknown } } };
  expect(Object.keys(doc)).toEqual(['error']);
  return doc;
}

describe('a result that is also a failure: one contract', () => {
  it('--json: exactly one error document, the result in details.report, the sentence also on stderr', () => {
    for (const [write, code, report] of [
      [(io: ReturnType<typeof memoryIo>['io']) => emit(io, INIT, renderDbInit, initExit, loginNotVerified), 'login-not-verified', INIT],
      [(io: ReturnType<typeof memoryIo>['io']) => emit(io, STOP, renderDbSyncStop, stopExit, leftBehindFailure), 'objects-left-behind', STOP],
      [(io: ReturnType<typeof memoryIo>['io']) => emitValidation(io, ERROR_REPORT), 'validation-error', ERROR_REPORT],
    ] as const) {
      const m = memoryIo({ json: true });
      expect(write(m.io)).toBe(ExitCode.Failure);
      const doc = errorDocOf(m.stdout());
      expect(doc.error).toMatchObject({ exitCode: 1, kind: 'failure', code });
      expect(doc.error.details).toEqual({ report: JSON.parse(JSON.stringify(report)) });
      expect(m.stderr()).toContain(`error: ${doc.error.message as string}`);
    }
  });

  it('human: the rendering on stdout, the one sentence on stderr', () => {
    const m = memoryIo();
    expect(emit(m.io, INIT, renderDbInit, initExit, loginNotVerified)).toBe(ExitCode.Failure);
    expect(m.stdout()).toContain('LOGIN NOT VERIFIED');
    expect(m.stderr()).toBe('error: The role was set on both databases but logging in as bgmig_app failed on green: check pg_hba.conf for that role.\n');
  });

  it('a result that is no failure is the document itself', () => {
    const m = memoryIo({ json: true });
    const ok = { ...INIT, green: side('green', true) };
    expect(emit(m.io, ok, renderDbInit, initExit, loginNotVerified)).toBe(ExitCode.Ok);
    expect(JSON.parse(m.stdout())).toEqual(JSON.parse(JSON.stringify(ok)));
    expect(m.stderr()).toBe('');
  });
});
