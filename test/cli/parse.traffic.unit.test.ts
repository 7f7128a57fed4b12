/**
 * Flag parsing of the traffic verbs (history, status, validate, promote) through register(program, runF): what the
 * action would receive, and the malformed or contradictory flags each refuses with exit 2 before any action runs.
 */
import { describe, expect, it } from 'vitest';
import { register as registerHistory } from '../../src/cli/commands/history.js';
import { register as registerPromote } from '../../src/cli/commands/promote.js';
import { register as registerStatus } from '../../src/cli/commands/status.js';
import { register as registerValidate } from '../../src/cli/commands/validate.js';
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

describe('validate', () => {
  const BLUE = 'postgres://admin@blue.example:5432/app';
  const GREEN = 'postgres://admin@green.example:5432/app';
  /** Runs with BGMIG_SUFFIX / BGMIG_*_URL unset (or set to `env`), restoring them after. */
  async function parse(argv: string[], env: Record<string, string> = {}) {
    const keys = ['BGMIG_SUFFIX', 'BGMIG_BLUE_URL', 'BGMIG_GREEN_URL'];
    const saved = keys.map((k) => process.env[k]);
    for (const k of keys) delete process.env[k];
    Object.assign(process.env, env);
    try {
      return await parseVerb(registerValidate, ['validate', ...argv]);
    } finally {
      keys.forEach((k, i) => {
        if (saved[i] === undefined) delete process.env[k];
        else process.env[k] = saved[i];
      });
    }
  }

  it('--suffix: through the Lambda, with the schema options as its event', async () => {
    const p = await parse(['--suffix', 'prod', '--schema', 'public', '--schema', 'sales', '--exclude-schema', 'audit', '--ignore', 'IX101']);
    expect(p.exitCode).toBe(0);
    expect(p.opts).toEqual({
      mode: { kind: 'aws', suffix: 'prod' },
      event: { includeSchemas: ['public', 'sales'], excludeSchemas: ['audit'], ignoreCodes: ['IX101'] },
    });
  });

  it('URLs from the environment: direct mode, the targets parsed; a BGMIG_SUFFIX gives way to them', async () => {
    const p = await parse([], { BGMIG_SUFFIX: 'prod', BGMIG_BLUE_URL: BLUE, BGMIG_GREEN_URL: GREEN });
    expect(p.exitCode).toBe(0);
    expect(p.opts?.event).toEqual({});
    expect(p.opts?.mode).toMatchObject({ kind: 'direct', blue: { host: 'blue.example', database: 'app' }, green: { host: 'green.example' } });
  });

  it.each([
    [['--suffix', 'prod', '--blue-url', BLUE, '--green-url', GREEN], /--suffix and --blue-url\/--green-url cannot be used together: pass either --suffix/],
    [['--blue-url', BLUE], /--blue-url needs --green-url as well: direct mode compares both databases/],
    [[], /Nothing to validate: pass --suffix NAME/],
    [['--suffix', 'prod', '--ignore', 'XX999'], /--ignore XX999 is not a validator code/],
    [['--suffix', 'prod', '--schema', ' '], /--schema needs a schema name, got an empty one/],
    [['--suffix', 'prod', '--schema', 'public', '--exclude-schema', 'public'], /Schema public is both included \(--schema\) and excluded/],
    [['--blue-url', 'not a url', '--green-url', GREEN], /--blue-url/],
    [['--suffix', 'Bad_Suffix!'], /suffix/i],
  ])('refuses %j before the action (exit 2)', async (argv, message) => {
    const p = await parse(argv);
    expect(p.opts).toBeUndefined();
    expect(p.exitCode).toBe(2);
    expect(p.stderr).toMatch(message);
  });
});

describe('promote', () => {
  const promote = (...argv: string[]) => parseVerb(registerPromote, ['promote', '--suffix', 'shop-prod', ...argv]);
  const defaults = {
    suffix: 'shop-prod',
    weight: undefined,
    steps: undefined,
    bakeMs: undefined,
    intervalMs: 15_000,
    thresholds: {},
    onInterrupt: 'hold',
    guard: true,
    resume: false,
    forceUnlock: false,
    skipValidation: false,
    validate: false,
    dryRun: false,
    ignoredWithResume: [],
  };

  it('--weight: one step, nothing else set', async () => {
    const p = await promote('--weight', '30');
    expect(p.exitCode).toBe(0);
    expect(p.opts).toEqual({ ...defaults, weight: 30 });
  });

  it('--steps with bake, interval, thresholds and the switches', async () => {
    const p = await promote(
      ...['--steps', '10,25,50,100', '--bake', '5m', '--interval', '30s', '--max-5xx-ratio', '3', '--5xx-floor', '2%', '--latency-stat', 'p95'],
      ...['--min-requests', '20', '--metrics-grace', '0', '--on-interrupt', 'rollback', '--no-guard', '--skip-validation', '--dry-run'],
    );
    expect(p.exitCode).toBe(0);
    expect(p.opts).toEqual({
      ...defaults,
      steps: [10, 25, 50, 100],
      bakeMs: 300_000,
      intervalMs: 30_000,
      thresholds: { max5xxRatio: 3, floor5xxShare: 0.02, latencyStat: 'p95', minRequests: 20, metricsGraceMs: 0 },
      onInterrupt: 'rollback',
      guard: false,
      skipValidation: true,
      dryRun: true,
    });
  });

  it('--resume lists the rollout options it ignores; --force-unlock stands alone', async () => {
    expect((await promote('--resume', '--bake', '1m')).opts).toMatchObject({ resume: true, ignoredWithResume: ['--bake'] });
    expect((await promote('--force-unlock')).opts).toMatchObject({ forceUnlock: true, weight: undefined, steps: undefined });
  });

  it.each([
    [[], /promote needs one of --weight N \(one step\), --steps LIST \(a rollout\), --resume or --force-unlock/],
    [['--weight', '10', '--steps', '10,100'], /--weight and --steps cannot be used together: pick one/],
    [['--resume', '--force-unlock'], /--resume and --force-unlock cannot be used together/],
    [['--weight', '10', '--bake', '5m'], /--bake applies to a rollout \(--steps\), not to --weight/],
    [['--force-unlock', '--min-requests', '5'], /--min-requests applies to a rollout \(--steps\), not to --force-unlock/],
    [['--weight', '101'], /--weight must be a whole number from 0 to 100/],
    [['--weight', '12.5'], /--weight must be a whole number/],
    [['--steps', '50,10'], /--steps must increase strictly/],
    [['--steps', '10,100', '--interval', 'soon'], /--interval/],
    [['--steps', '10,100', '--bake', '10s', '--interval', '1m'], /--interval \(1m\) is longer than --bake \(10s\)/],
    [['--steps', '10,100', '--on-interrupt', 'panic'], /--on-interrupt must be "hold" or "rollback", got "panic"/],
    [['--steps', '10,100', '--max-5xx-ratio', '0.5'], /--max-5xx-ratio must be a number of at least 1/],
    [['--steps', '10,100', '--5xx-floor', '200'], /--5xx-floor must be a percentage from 0 to 100/],
    [['--steps', '10,100', '--latency-stat', 'p999x'], /--latency-stat must be a percentile/],
    [['--steps', '10,100', '--max-inconclusive', '0'], /--max-inconclusive must be a whole number from 1 to 1000/],
  ])('refuses %j before the action (exit 2)', async (argv, message) => {
    const p = await promote(...argv);
    expect(p.opts).toBeUndefined();
    expect(p.exitCode).toBe(2);
    expect(p.stderr).toMatch(message);
  });
});
