/**
 * Flag parsing of the infrastructure verbs (synth, deploy, diff, destroy, bootstrap, rehearse, rotate-secret-manual) through
 * register(program, runF): what the action would receive, and the malformed or contradictory flags each refuses with
 * exit 2 before any action runs.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { register as registerBootstrap } from '../../src/cli/commands/bootstrap.js';
import { register as registerDeploy } from '../../src/cli/commands/deploy.js';
import { register as registerDestroy } from '../../src/cli/commands/destroy.js';
import { type DiffResult, exitCodeOf as diffExitCode, FAIL_ON_DIFFERENCES, register as registerDiff, renderDiff } from '../../src/cli/commands/diff.js';
import { register as registerRehearse } from '../../src/cli/commands/rehearse.js';
import { register as registerRotate } from '../../src/cli/commands/rotate-secret-manual.js';
import { register as registerSynth } from '../../src/cli/commands/synth.js';
import { emit } from '../../src/cli/verb.js';
import { parseVerb } from '../harness/parse.js';
import { memoryIo } from './support/memory-io.js';

const CERT = 'arn:aws:acm:us-east-1:111122223333:certificate/0f1e2d3c-aaaa-bbbb-cccc-1234567890ab';
/** A suffix no ./bgmig.<suffix>.json settings file exists for. */
const S = 'parse-infra';

function tmp(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'bgmig-parse-'));
}

describe('synth', () => {
  it('warns that --profile has no effect (synth calls no AWS API), once every input is good', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bgmig-parse-'));
    const config = path.join(dir, 'config');
    writeFileSync(config, '[profile ops]\nregion = us-east-1\n');
    const before = process.env.AWS_CONFIG_FILE;
    process.env.AWS_CONFIG_FILE = config;
    try {
      const p = await parseVerb(registerSynth, ['--profile', 'ops', 'synth', '--suffix', S, '--output', path.join(dir, 'out')]);
      expect(p.exitCode).toBe(0);
      expect(p.stderr).toMatch(/warning: --profile has no effect for synth \(it calls no AWS API\)\./);
    } finally {
      if (before === undefined) delete process.env.AWS_CONFIG_FILE;
      else process.env.AWS_CONFIG_FILE = before;
    }
  });

  it('checks every input up front: the config, the absolute output directory, --validate', async () => {
    const out = path.join(tmp(), 'assembly');
    const p = await parseVerb(registerSynth, ['synth', '--suffix', S, '--environment', 'prod', '--output', out, '--validate', '--cpu-threshold', '70']);
    expect(p.exitCode, p.stderr).toBe(0);
    expect(p.opts).toMatchObject({ suffix: S, outdir: out, validate: true, config: { suffix: S, environment: 'prod', thresholds: { cpuPercent: 70 } } });
    // No certificate: a warning (deploy refuses the placeholder), not a refusal.
    expect(p.stderr).toMatch(/no --certificate-arn/);
  });

  it('defaults: cdk.out under the working directory, no template validation', async () => {
    const p = await parseVerb(registerSynth, ['synth', '--suffix', S, '--certificate-arn', CERT]);
    expect(p.opts).toMatchObject({ outdir: path.resolve('cdk.out'), validate: false, config: { environment: 'dev', certificateArn: CERT } });
  });

  it('refuses --output naming a file, or a path inside one (exit 2, before synthesizing)', async () => {
    const file = path.join(tmp(), 'a-file');
    writeFileSync(file, 'x');
    for (const [output, words] of [
      [file, 'is a file, not a directory'],
      [path.join(file, 'sub'), `is inside ${file}, which is a file`],
    ] as const) {
      const p = await parseVerb(registerSynth, ['synth', '--suffix', S, '--output', output]);
      expect(p.opts).toBeUndefined();
      expect(p.exitCode).toBe(2);
      expect(p.stderr).toContain(words);
      // Every input is checked before any warning: the refusal is the only line (no placeholder-certificate warning).
      expect(p.stderr.split('\n').filter((l) => l.trim() !== '')).toHaveLength(1);
    }
  });

  it.each([
    [['--cpu-threshold', '500'], /--cpu-threshold must be a whole number from 1 to 100/],
    [['--test-cidr', '10.0.0.0/33'], /--test-cidr must be an IPv4 CIDR/],
    [['--certificate-arn', 'arn:aws:acm:eu-west-1:111122223333:certificate/x'], /certificate in eu-west-1, but the stack is in us-east-1/],
    [['--alarm-email', 'nobody'], /--alarm-email must be an e-mail address/],
  ])('refuses %j before the action (exit 2)', async (flags, message) => {
    const p = await parseVerb(registerSynth, ['synth', '--suffix', S, ...flags]);
    expect(p.opts).toBeUndefined();
    expect(p.exitCode).toBe(2);
    expect(p.stderr).toMatch(message);
  });

  it('refuses a missing --settings file (exit 2)', async () => {
    const p = await parseVerb(registerSynth, ['synth', '--suffix', S, '--settings', path.join(tmp(), 'missing.json')]);
    expect(p.exitCode).toBe(2);
    expect(p.stderr).toMatch(/Cannot read the settings file/);
  });
});

describe('deploy', () => {
  it('passes the stack options, the approval level, the method and the checked outputs file', async () => {
    const outputs = path.join(tmp(), 'outputs.json');
    const p = await parseVerb(registerDeploy, [
      'deploy',
      '--suffix',
      S,
      '--certificate-arn',
      CERT,
      '--environment',
      'prod',
      '--require-approval',
      'any-change',
      '--method',
      'direct',
      '--outputs-file',
      outputs,
    ]);
    expect(p.exitCode, p.stderr).toBe(0);
    expect(p.opts).toMatchObject({
      suffix: S,
      stack: { certificateArn: CERT, environment: 'prod' },
      explicitEnvironment: true,
      changeEnvironment: false,
      requireApproval: 'any-change',
      outputsFile: outputs,
      method: 'direct',
    });
  });

  it('defaults: broadening approvals, change sets, the environment not stated', async () => {
    const p = await parseVerb(registerDeploy, ['deploy', '--suffix', S, '--certificate-arn', CERT]);
    expect(p.opts).toMatchObject({ requireApproval: 'broadening', method: 'change-set', explicitEnvironment: false, outputsFile: undefined });
  });

  it('refuses an unknown --require-approval level and an --outputs-file that is a directory (exit 2)', async () => {
    const level = await parseVerb(registerDeploy, ['deploy', '--suffix', S, '--require-approval', 'sometimes']);
    expect(level.exitCode).toBe(2);
    expect(level.stderr).toMatch(/--require-approval must be one of never, broadening, any-change, got "sometimes"/);
    const dir = tmp();
    const out = await parseVerb(registerDeploy, ['deploy', '--suffix', S, '--outputs-file', dir]);
    expect(out.opts).toBeUndefined();
    expect(out.exitCode).toBe(2);
    expect(out.stderr).toContain(`--outputs-file ${dir} is a directory`);
  });

  it('--require-approval with --yes is named as having no effect', async () => {
    const p = await parseVerb(registerDeploy, ['--yes', 'deploy', '--suffix', S, '--require-approval', 'any-change']);
    expect(p.exitCode).toBe(0);
    expect(p.stderr).toMatch(/--require-approval any-change/);
  });
});

describe('diff', () => {
  it('passes --fail and --change-environment; an --environment on the command line is explicit', async () => {
    const p = await parseVerb(registerDiff, ['diff', '--suffix', S, '--fail', '--change-environment', '--environment', 'staging']);
    expect(p.exitCode, p.stderr).toBe(0);
    expect(p.opts).toMatchObject({ suffix: S, fail: true, changeEnvironment: true, explicitEnvironment: true, stack: { environment: 'staging' } });
    const plain = await parseVerb(registerDiff, ['diff', '--suffix', S]);
    expect(plain.opts).toMatchObject({ fail: false, changeEnvironment: false, explicitEnvironment: false });
  });

  it('decides the exit code from the result alone (--fail rides along under a symbol): the --json document is unchanged', () => {
    const doc = { stack: 'bgmig-parse-infra', exists: true, differenceCount: 2, securityChanges: false };
    for (const [fail, code] of [
      [true, 1],
      [false, 0],
      [undefined, 0],
    ] as const) {
      const { io, stdout } = memoryIo({ json: true });
      const r: DiffResult = { ...doc, [FAIL_ON_DIFFERENCES]: fail };
      expect(emit(io, r, renderDiff, diffExitCode)).toBe(code);
      expect(stdout()).toBe(`${JSON.stringify(doc, null, 2)}\n`);
    }
    expect(diffExitCode({ ...doc, differenceCount: 0, [FAIL_ON_DIFFERENCES]: true })).toBe(0);
  });
});

describe('destroy', () => {
  it('passes the validated suffix; a missing one is exit 2', async () => {
    expect((await parseVerb(registerDestroy, ['destroy', '--suffix', S])).opts).toEqual({ suffix: S });
    const env = process.env.BGMIG_SUFFIX;
    delete process.env.BGMIG_SUFFIX;
    try {
      const p = await parseVerb(registerDestroy, ['destroy']);
      expect(p.opts).toBeUndefined();
      expect(p.exitCode).toBe(2);
    } finally {
      if (env !== undefined) process.env.BGMIG_SUFFIX = env;
    }
  });
});

describe('bootstrap', () => {
  it('collects repeated --execution-policy ARNs (none: CDK default)', async () => {
    expect((await parseVerb(registerBootstrap, ['bootstrap'])).opts).toEqual({ executionPolicies: [] });
    const arns = ['arn:aws:iam::aws:policy/PowerUserAccess', 'arn:aws:iam::111122223333:policy/bgmig-deploy'];
    const p = await parseVerb(registerBootstrap, ['bootstrap', '--execution-policy', arns[0] ?? '', '--execution-policy', arns[1] ?? '']);
    expect(p.opts).toEqual({ executionPolicies: arns });
  });

  it('refuses a value that is not an IAM managed-policy ARN (exit 2)', async () => {
    const p = await parseVerb(registerBootstrap, ['bootstrap', '--execution-policy', 'AdministratorAccess']);
    expect(p.opts).toBeUndefined();
    expect(p.exitCode).toBe(2);
    expect(p.stderr).toMatch(/--execution-policy must be an IAM managed-policy ARN/);
  });
});

describe('rehearse', () => {
  it('defaults: the pooler when installed, nothing kept, no report', async () => {
    expect((await parseVerb(registerRehearse, ['rehearse'])).opts).toEqual({ keep: false, report: undefined, pgBin: undefined, pooler: true });
  });

  it('--keep, --report, --pg-bin and --no-pooler', async () => {
    const p = await parseVerb(registerRehearse, ['rehearse', '--keep', '--report', 'r.html', '--pg-bin', '/usr/lib/postgresql/16/bin', '--no-pooler']);
    expect(p.opts).toEqual({ keep: true, report: 'r.html', pgBin: '/usr/lib/postgresql/16/bin', pooler: false });
  });
});

describe('rotate-secret-manual', () => {
  /** Runs with the URL variables unset (the developer's shell must not pick the mode). */
  async function parseRotate(argv: string[], env: Record<string, string> = {}) {
    const keys = ['BGMIG_DB_URL', 'BGMIG_BLUE_URL', 'BGMIG_GREEN_URL'] as const;
    const saved = keys.map((k) => process.env[k]);
    for (const k of keys) delete process.env[k];
    Object.assign(process.env, env);
    try {
      return await parseVerb(registerRotate, ['rotate-secret-manual', '--suffix', S, ...argv]);
    } finally {
      keys.forEach((k, i) => {
        const v = saved[i];
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      });
    }
  }

  it("passes the command's own --color (not the global --no-color), --dry-run and --wait-timeout", async () => {
    const p = await parseRotate(['--color', 'blue', '--dry-run', '--wait-timeout', '90s']);
    expect(p.exitCode, p.stderr).toBe(0);
    expect(p.opts).toMatchObject({ suffix: S, color: 'blue', app: false, dryRun: true, waitTimeout: '90s', dbUrl: undefined });
  });

  it('reads the URLs from the environment and says where each came from', async () => {
    const url = 'postgres://admin@127.0.0.1:5433/postgres';
    const p = await parseRotate(['--app'], { BGMIG_BLUE_URL: url, BGMIG_GREEN_URL: url });
    expect(p.opts).toMatchObject({ app: true, blueUrl: url, greenUrl: url, sources: { blueUrl: 'env', greenUrl: 'env' } });
  });

  it.each([
    [['--app', '--color', 'blue'], /--app rotates the application secret used by both colours: drop --color/],
    [['--app', '--db-url', 'postgres://a@h/db'], /--app applies the password on both clusters/],
    [['--app', '--blue-url', 'postgres://a@h/db'], /--blue-url needs --green-url as well: --app changes both clusters together/],
    [['--color', 'blue', '--green-url', 'postgres://a@h/db'], /--blue-url\/--green-url belong to --app/],
    [['--color', 'purple'], /--color/],
    [['--color', 'blue', '--wait-timeout', 'soon'], /--wait-timeout/],
    [['--color', 'blue', '--db-url', 'mysql://a@h/db'], /--db-url/],
    [['--color', 'blue', '--urls-stdin', '--db-url', 'postgres://a@h/db'], /--urls-stdin/],
  ])('refuses %j before the action (exit 2)', async (argv, message) => {
    const p = await parseRotate(argv);
    expect(p.opts).toBeUndefined();
    expect(p.exitCode).toBe(2);
    expect(p.stderr).toMatch(message);
  });
});
