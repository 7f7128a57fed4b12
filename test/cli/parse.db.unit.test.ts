/**
 * Flag parsing of every `bgmig db` verb through its register(parent, runF): the options the action would receive, and
 * exit 2 with one sentence before the action for contradictory or malformed flags. No database, no AWS, no process.
 */
import type { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { register as registerCutover } from '../../src/cli/commands/db/cutover.js';
import { register as registerInit } from '../../src/cli/commands/db/init.js';
import { register as registerRollback } from '../../src/cli/commands/db/rollback.js';
import { register as registerRefresh } from '../../src/cli/commands/db/sync-refresh.js';
import { register as registerStart } from '../../src/cli/commands/db/sync-start.js';
import { register as registerStatus } from '../../src/cli/commands/db/sync-status.js';
import { register as registerStop } from '../../src/cli/commands/db/sync-stop.js';
import type { RunF } from '../../src/cli/verb.js';
import { APP_DB_NAME } from '../../src/core/lambda-env.js';
import { parseVerb } from '../harness/parse.js';

/** A db verb registers under `db` (or `db sync`); the harness hands it the program. */
const underDb =
  <O>(register: (db: Command, runF: RunF<O>) => void) =>
  (program: Command, runF: RunF<O>) =>
    register(program.command('db'), runF);
const underSync =
  <O>(register: (sync: Command, runF: RunF<O>) => void) =>
  (program: Command, runF: RunF<O>) =>
    register(program.command('db').command('sync'), runF);

const BLUE = 'postgres://admin@blue.example:5432/app';
const GREEN = 'postgres://admin@green.example:5432/app';
const direct = ['--blue-url', BLUE, '--green-url', GREEN];
const MiB = 1024 * 1024;

const ENV = ['BGMIG_BLUE_URL', 'BGMIG_GREEN_URL', 'BGMIG_SUFFIX', 'BGMIG_POOLER_URLS', 'BGMIG_APP_PASSWORD'] as const;
let saved: Partial<Record<(typeof ENV)[number], string>> = {};
beforeEach(() => {
  saved = {};
  for (const k of ENV) {
    saved[k] = process.env[k];
    delete process.env[k];
  }
});
afterEach(() => {
  for (const k of ENV) if (saved[k] !== undefined) process.env[k] = saved[k];
});

/** Expects exit 2 before the action, with `message` on stderr. */
async function refusesBeforeAction<O>(register: (program: Command, runF: RunF<O>) => void, argv: string[], message: RegExp): Promise<void> {
  const p = await parseVerb(register, argv);
  expect(p.opts).toBeUndefined();
  expect(p.exitCode).toBe(2);
  expect(p.stderr).toMatch(message);
}

describe('db cutover', () => {
  const reg = underDb(registerCutover);

  it('direct mode: URLs → two targets; durations, sizes and the accepted columns parsed', async () => {
    const p = await parseVerb(reg, [
      'db',
      'cutover',
      ...direct,
      '--max-pause',
      '5s',
      '--max-lag',
      '64MB',
      '--on-switch',
      './repoint.sh',
      '--accept-rollback-risk',
      'public.ticket.subject,public.ticket.state',
    ]);
    expect(p.exitCode).toBe(0);
    expect(p.opts).toMatchObject({
      where: { kind: 'direct', targets: { blue: { host: 'blue.example', port: 5432, database: 'app' }, green: { host: 'green.example' } } },
      maxPauseMs: 5000,
      maxLagBytes: 64 * MiB,
      onSwitch: './repoint.sh',
      skipValidation: false,
      acceptRollbackRisk: ['public.ticket.subject', 'public.ticket.state'],
    });
  });

  it('AWS mode with the defaults: 10 s pause, 16 MiB lag, validation on', async () => {
    const p = await parseVerb(reg, ['db', 'cutover', '--suffix', 'shop-prod', '--skip-validation']);
    expect(p.exitCode).toBe(0);
    expect(p.opts).toEqual({ where: { kind: 'aws', suffix: 'shop-prod' }, maxPauseMs: 10_000, maxLagBytes: 16 * MiB, skipValidation: true });
  });

  it('the URLs come from the environment as well', async () => {
    process.env.BGMIG_BLUE_URL = BLUE;
    process.env.BGMIG_GREEN_URL = GREEN;
    const p = await parseVerb(reg, ['db', 'cutover']);
    expect(p.opts?.where.kind).toBe('direct');
  });

  it('--blue-url without --green-url: exit 2 before the action', async () => {
    await refusesBeforeAction(reg, ['db', 'cutover', '--blue-url', BLUE], /--blue-url needs --green-url as well: direct mode takes both admin URLs/);
  });

  it('--on-switch in AWS mode: exit 2', async () => {
    await refusesBeforeAction(reg, ['db', 'cutover', '--suffix', 'shop-prod', '--on-switch', './x.sh'], /--on-switch is for direct mode/);
  });

  it('a malformed --max-pause or --max-lag: exit 2', async () => {
    await refusesBeforeAction(reg, ['db', 'cutover', '--suffix', 'shop-prod', '--max-pause', 'soon'], /--max-pause/);
    await refusesBeforeAction(reg, ['db', 'cutover', '--suffix', 'shop-prod', '--max-lag', 'lots'], /--max-lag must be a size like 16MB/);
  });

  it('both URLs on one server (the same database too): exit 2', async () => {
    await refusesBeforeAction(
      reg,
      ['db', 'cutover', '--blue-url', BLUE, '--green-url', BLUE],
      /--blue-url and --green-url point at the same PostgreSQL server \(blue\.example:5432, database app\)/,
    );
    await refusesBeforeAction(
      reg,
      ['db', 'cutover', '--blue-url', BLUE, '--green-url', 'postgres://admin@blue.example:5432/other'],
      /point at the same PostgreSQL server \(blue\.example:5432\)/,
    );
  });

  it('--pooler in AWS mode, and neither mode: exit 2', async () => {
    await refusesBeforeAction(
      reg,
      ['db', 'cutover', '--suffix', 'shop-prod', '--pooler', 'postgres://pgbouncer@pool:6432/pgbouncer'],
      /--pooler is for direct mode/,
    );
    await refusesBeforeAction(reg, ['db', 'cutover'], /Say where the databases are/);
  });

  it('a bad --pooler-pause-timeout: exit 2', async () => {
    await refusesBeforeAction(reg, ['db', 'cutover', ...direct, '--pooler-pause-timeout', 'x'], /--pooler-pause-timeout/);
  });
});

describe('db rollback', () => {
  const reg = underDb(registerRollback);

  it('--force and the pooler flags', async () => {
    const p = await parseVerb(reg, [
      'db',
      'rollback',
      ...direct,
      '--force',
      '--pooler',
      'postgres://pgbouncer@pool-a:6432/pgbouncer',
      '--pooler-pause-timeout',
      '3s',
    ]);
    expect(p.exitCode).toBe(0);
    expect(p.opts).toMatchObject({ force: true, pooler: ['postgres://pgbouncer@pool-a:6432/pgbouncer'], poolerPauseMs: 3000, maxPauseMs: 10_000 });
  });

  it('takes no --skip-validation, and refuses --on-switch in AWS mode', async () => {
    const p = await parseVerb(reg, ['db', 'rollback', '--suffix', 'shop-prod', '--skip-validation']);
    expect(p.opts).toBeUndefined();
    expect(p.exitCode).not.toBe(0);
    await refusesBeforeAction(reg, ['db', 'rollback', '--suffix', 'shop-prod', '--on-switch', './x.sh'], /--on-switch is for direct mode/);
  });
});

describe('db sync start', () => {
  const reg = underSync(registerStart);

  it('schemas (repeatable, default public) and --slot-wait', async () => {
    const p = await parseVerb(reg, ['db', 'sync', 'start', ...direct, '--schema', 'app', '--schema', 'audit', '--slot-wait', '45s']);
    expect(p.opts).toMatchObject({ schemas: ['app', 'audit'], slotWaitMs: 45_000, where: { kind: 'direct' } });
    const d = await parseVerb(reg, ['db', 'sync', 'start', '--suffix', 'shop-prod']);
    expect(d.opts).toEqual({ where: { kind: 'aws', suffix: 'shop-prod' }, schemas: ['public'] });
  });

  it('a bad --slot-wait, one URL: exit 2', async () => {
    await refusesBeforeAction(reg, ['db', 'sync', 'start', ...direct, '--slot-wait', 'forever'], /--slot-wait/);
    await refusesBeforeAction(reg, ['db', 'sync', 'start', '--green-url', GREEN], /--green-url needs --blue-url as well: direct mode takes both admin URLs/);
  });
});

describe('db sync status', () => {
  const reg = underSync(registerStatus);

  it('reads once by default (2 s interval), or watches with its bounds', async () => {
    const once = await parseVerb(reg, ['db', 'sync', 'status', '--suffix', 'shop-prod']);
    expect(once.opts).toEqual({ where: { kind: 'aws', suffix: 'shop-prod' }, maxLagBytes: 16 * MiB, watch: false, intervalMs: 2000 });
    const w = await parseVerb(reg, [
      'db',
      'sync',
      'status',
      ...direct,
      '--watch',
      '--interval',
      '5',
      '--until',
      'healthy',
      '--timeout',
      '10m',
      '--max-lag',
      '1MB',
    ]);
    expect(w.opts).toMatchObject({ watch: true, intervalMs: 5000, until: 'healthy', timeoutMs: 600_000, maxLagBytes: MiB });
  });

  it('a bad --until, --interval or --max-lag: exit 2', async () => {
    await refusesBeforeAction(reg, ['db', 'sync', 'status', '--suffix', 'x', '--watch', '--until', 'done'], /--until must be healthy or degraded/);
    await refusesBeforeAction(reg, ['db', 'sync', 'status', '--suffix', 'x', '--watch', '--interval', '0.5'], /--interval must be a whole number/);
    await refusesBeforeAction(reg, ['db', 'sync', 'status', '--suffix', 'x', '--max-lag', 'big'], /--max-lag/);
  });

  it('watch bounds without --watch: a warning, and one reading', async () => {
    const p = await parseVerb(reg, ['db', 'sync', 'status', '--suffix', 'x', '--until', 'healthy']);
    expect(p.exitCode).toBe(0);
    expect(p.opts?.watch).toBe(false);
    expect(p.stderr).toMatch(/--until has no effect without --watch/);
  });
});

describe('db sync refresh and stop', () => {
  it('refresh: --dry-run and --recopy (repeatable)', async () => {
    const p = await parseVerb(underSync(registerRefresh), ['db', 'sync', 'refresh', ...direct, '--dry-run', '--recopy', 'public.a', '--recopy', 'public.b']);
    expect(p.opts).toMatchObject({ dryRun: true, recopy: ['public.a', 'public.b'] });
    await refusesBeforeAction(underSync(registerRefresh), ['db', 'sync', 'refresh'], /Say where the databases are/);
  });

  it('stop: --unfence-passive, default off', async () => {
    const reg = underSync(registerStop);
    expect((await parseVerb(reg, ['db', 'sync', 'stop', '--suffix', 'x', '--unfence-passive'])).opts).toEqual({
      where: { kind: 'aws', suffix: 'x' },
      unfencePassive: true,
    });
    expect((await parseVerb(reg, ['db', 'sync', 'stop', ...direct])).opts).toMatchObject({ unfencePassive: false });
    await refusesBeforeAction(reg, ['db', 'sync', 'stop', '--suffix', 'Not_A_Suffix'], /Suffix "Not_A_Suffix" is invalid/);
  });
});

describe('db init', () => {
  const reg = underDb(registerInit);

  it('direct mode: the application database is the one the URLs name (APP_DB_NAME when they name postgres), schemas repeatable', async () => {
    const p = await parseVerb(reg, ['db', 'init', ...direct, '--app-password-stdin', '--schema', 'app']);
    expect(p.opts).toMatchObject({ where: { kind: 'direct' }, database: 'app', appPasswordStdin: true, schemas: ['app'] });
    const maintenance = await parseVerb(reg, [
      'db',
      'init',
      '--blue-url',
      BLUE.replace('/app', '/postgres'),
      '--green-url',
      GREEN.replace('/app', '/postgres'),
    ]);
    expect(maintenance.opts?.database).toBe(APP_DB_NAME);
    const aws = await parseVerb(reg, ['db', 'init', '--suffix', 'shop-prod']);
    expect(aws.opts).toEqual({ where: { kind: 'aws', suffix: 'shop-prod' }, appPasswordStdin: false });
  });

  it('exit 2 before the action: stdin in AWS mode, different database names, one URL, neither mode, same server', async () => {
    await refusesBeforeAction(reg, ['db', 'init', '--suffix', 'shop-prod', '--app-password-stdin'], /--app-password-stdin is for direct mode/);
    await refusesBeforeAction(
      reg,
      ['db', 'init', '--blue-url', BLUE, '--green-url', 'postgres://admin@green.example:5432/shop'],
      /the application database must have the same name on both/,
    );
    await refusesBeforeAction(reg, ['db', 'init', '--blue-url', BLUE], /--blue-url needs --green-url as well: direct mode takes both admin URLs/);
    await refusesBeforeAction(reg, ['db', 'init'], /Pass --suffix NAME \(AWS mode\) or --blue-url and --green-url \(direct mode\)/);
    await refusesBeforeAction(reg, ['db', 'init', '--blue-url', BLUE, '--green-url', BLUE], /point at the same PostgreSQL server/);
  });
});
