/**
 * Issue 16, kinds 2, 4 and 5 at the program level, through the real executable: typo suggestions never name a
 * command that changes things, --json errors (parse errors included) are {"error": {...}} with stable keys, every
 * subcommand's help shows the global options and the exit codes, colour follows TERM/FORCE_COLOR/NO_COLOR, and
 * every global input is checked (exit 2, one sentence) before anything is called.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { profilesIn, validateRegion } from '../../src/cli/global-inputs.js';
import { colorLevel } from '../../src/cli/io.js';
import { buildProgram } from '../../src/cli/main.js';
import { closest, isSafeCommand, safeSuggestion } from '../../src/cli/suggest.js';
import { runBgmig } from '../harness/cli.js';

const ERROR_KEYS = ['code', 'details', 'exitCode', 'kind', 'message'];
/** Nothing listens on port 1: AWS calls fail at once (ECONNREFUSED), so a test sees the checks that come first. */
const DEAD = { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_ENDPOINT_URL: 'http://127.0.0.1:1' };

describe('typo suggestions', () => {
  it('`bgmig histroy` never suggests destroy; a read-only command is still suggested', async () => {
    const r = await runBgmig(['histroy']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command 'histroy'/);
    expect(r.stderr).not.toMatch(/destroy/);
    const s = await runBgmig(['statsu']);
    expect(s.stderr).toMatch(/\(Did you mean status\?\)/);
  });

  it('no command that changes something is ever suggested, at any level', async () => {
    for (const [args, word] of [
      [['destory'], 'destroy'],
      [['rollbak'], 'rollback'],
      [['promte'], 'promote'],
      [['db', 'cutovr'], 'cutover'],
      [['db', 'sync', 'stpo'], 'stop'],
    ] as const) {
      const r = await runBgmig([...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).not.toMatch(new RegExp(`Did you mean ${word}`));
    }
    const ok = await runBgmig(['db', 'sync', 'statsu']);
    expect(ok.stderr).toMatch(/Did you mean status\?/);
  });

  it('an option that turns a gate off is never suggested; others are', async () => {
    const gate = await runBgmig(['promote', '--weight', '10', '--skip-valdation']);
    expect(gate.code).toBe(2);
    expect(gate.stderr).not.toMatch(/--skip-validation/);
    const yes = await runBgmig(['rollback', '--yse']);
    expect(yes.stderr).not.toMatch(/Did you mean --yes/);
    const fine = await runBgmig(['status', '--wacth']);
    expect(fine.stderr).toMatch(/Did you mean --watch\?/);
  });

  it('the safe-command list names only commands that change no workload, and the program has them all', () => {
    const program = buildProgram();
    const paths: string[] = [];
    const walk = (c: typeof program, prefix: string) => {
      for (const s of c.commands) {
        const p = prefix ? `${prefix} ${s.name()}` : s.name();
        paths.push(p);
        walk(s, p);
      }
    };
    walk(program, '');
    const unsafe = paths.filter((p) => !isSafeCommand(p));
    for (const mutating of [
      'deploy',
      'destroy',
      'bootstrap',
      'promote',
      'rollback',
      'rotate-secret-manual',
      'db init',
      'db sync start',
      'db sync stop',
      'db cutover',
      'db rollback',
    ]) {
      expect(unsafe).toContain(mutating);
    }
    expect(closest('histroy', ['destroy', 'status'])).toBe('destroy');
    expect(safeSuggestion('histroy', ['destroy', 'status'], isSafeCommand)).toBe('');
    expect(safeSuggestion('histroy', ['destroy', 'history'], isSafeCommand)).toBe('\n(Did you mean history?)');
  });
});

describe('--json error contract', () => {
  it('a flag-parsing error is {"error": {...}} on stdout with exit 2 and every key', async () => {
    for (const args of [
      ['--json', 'statsu'],
      ['--json', 'status', '--interval'],
      ['--json', 'deploy', '--method', 'sideways'],
      ['--json', 'status', '--nope'],
    ]) {
      const r = await runBgmig(args);
      expect(r.code, args.join(' ')).toBe(2);
      const doc = JSON.parse(r.stdout) as { error: Record<string, unknown> };
      expect(Object.keys(doc.error).sort(), args.join(' ')).toEqual(ERROR_KEYS);
      expect(doc.error).toMatchObject({ exitCode: 2, kind: 'bad-input', details: null });
      expect(typeof doc.error.code).toBe('string');
      // The sentence is on stderr too.
      expect(r.stderr).toMatch(/^error: /m);
    }
  });

  it('a command failure under --json has the same keys (null when they do not apply)', async () => {
    const r = await runBgmig(['--json', '--suffix', 'x', 'rollback'], { env: DEAD });
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout) as { error: Record<string, unknown> };
    expect(Object.keys(doc.error).sort()).toEqual(ERROR_KEYS);
    expect(doc.error).toMatchObject({ exitCode: 1, kind: 'failure', code: null, details: null });
    expect(r.stderr).toMatch(/^error: Cannot reach the AWS endpoint http:\/\/127\.0\.0\.1:1/m);
  });
});

describe('help', () => {
  it('every subcommand shows the global options (--suffix first among them) and the exit codes', async () => {
    const program = buildProgram();
    const paths: string[][] = [];
    const walk = (c: typeof program, prefix: string[]) => {
      for (const s of c.commands) {
        paths.push([...prefix, s.name()]);
        walk(s, [...prefix, s.name()]);
      }
    };
    walk(program, []);
    expect(paths.length).toBeGreaterThan(15);
    // A few at a time: two cores are shared with every other suite.
    const results = [];
    for (let i = 0; i < paths.length; i += 4) results.push(...(await Promise.all(paths.slice(i, i + 4).map((p) => runBgmig([...p, '--help'])))));
    results.forEach((r, i) => {
      const name = (paths[i] ?? []).join(' ');
      expect(r.code, name).toBe(0);
      expect(r.stdout, name).toMatch(/Global Options:\n\s+--suffix <name>/); // the first global option
      expect(r.stdout, name).toContain('--call-timeout <duration>');
      expect(r.stdout, name).toMatch(/Exit codes/);
    });
  });
});

describe('colour', () => {
  it('colorLevel: --no-color, FORCE_COLOR, NO_COLOR, TERM=dumb, TTY — in that order', () => {
    expect(colorLevel(true, {}, true)).toBe(1);
    expect(colorLevel(true, {}, false)).toBe(0);
    expect(colorLevel(true, { TERM: 'dumb' }, true)).toBe(0);
    expect(colorLevel(true, { NO_COLOR: '1' }, true)).toBe(0);
    expect(colorLevel(true, { FORCE_COLOR: '1' }, false)).toBe(1);
    expect(colorLevel(true, { FORCE_COLOR: '3', TERM: 'dumb' }, false)).toBe(3);
    expect(colorLevel(true, { FORCE_COLOR: '0' }, true)).toBe(0);
    expect(colorLevel(false, { FORCE_COLOR: '1' }, true)).toBe(0);
  });

  it('the executable: FORCE_COLOR=1 colours a piped error, TERM=dumb and NO_COLOR do not', async () => {
    const args = ['--suffix', 'x', 'rollback'];
    const forced = await runBgmig(args, { env: { ...DEAD, FORCE_COLOR: '1' } });
    expect(forced.stderr).toContain('\x1b[31merror:\x1b[39m');
    for (const env of [{ TERM: 'dumb' }, { NO_COLOR: '1' }, { FORCE_COLOR: '0' }]) {
      const r = await runBgmig(args, { env: { ...DEAD, ...env } });
      expect(r.code).toBe(1);
      expect(r.stderr).not.toContain('\x1b[');
    }
  });
});

describe('global inputs are checked before anything happens (exit 2, one sentence)', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bgmig-profiles-'));
  const config = path.join(dir, 'config');
  writeFileSync(config, '[default]\nregion = us-east-1\n[profile ops-admin]\nregion = eu-west-1\n[sso-session corp]\nsso_region = us-east-1\n');
  const credentials = path.join(dir, 'credentials');
  writeFileSync(credentials, '[ci]\naws_access_key_id = x\n');
  const profEnv = { ...DEAD, AWS_CONFIG_FILE: config, AWS_SHARED_CREDENTIALS_FILE: credentials };

  it('profiles from the config file ([profile x], [default]) and the credentials file ([x]), not sso-sessions', () => {
    expect([...profilesIn('[default]\n[profile a]\n[sso-session s]\n[services t]\n', '[b]\n')].sort()).toEqual(['a', 'b', 'default']);
  });

  it.each([
    [['--region', 'us-eats-1'], /--region "us-eats-1" is not an AWS region \(did you mean us-east-1\?\)/],
    [['--region', 'us-est-1'], /--region "us-est-1" is not an AWS region: pass one like us-east-1/], // us-east-1 and us-west-1 tie: no guess
    [['--profile', 'ops-admn'], /--profile names the profile "ops-admn", which is in neither .* \(did you mean ops-admin\?\)/],
    [['--role-arn', 'operator'], /--role-arn must be an IAM role ARN like arn:aws:iam::111122223333:role\/NAME, got "operator"/],
    [['--endpoint-url', 'localhost:5000'], /--endpoint-url \/ AWS_ENDPOINT_URL must be an http\(s\) URL/],
  ])('%j', async (flags, message) => {
    const r = await runBgmig([...flags, '--suffix', 'x', 'rollback'], { env: profEnv });
    expect(r.code, r.stderr).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
    expect(r.stderr).not.toContain('Cannot reach'); // nothing was called
  });

  it('AWS_PROFILE naming a missing profile is caught too; existing profiles pass the check', async () => {
    const r = await runBgmig(['--suffix', 'x', 'rollback'], { env: { ...profEnv, AWS_PROFILE: 'nope' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/AWS_PROFILE names the profile "nope"/);
    for (const p of ['ops-admin', 'ci', 'default']) {
      const ok = await runBgmig(['--profile', p, '--suffix', 'x', 'rollback'], { env: profEnv });
      expect(ok.stderr, p).not.toMatch(/names the profile/);
    }
  });

  it('a region newer than this bgmig can be allowed explicitly', () => {
    expect(() => validateRegion('xx-newland-1', {})).toThrow(/BGMIG_EXTRA_REGIONS=xx-newland-1/);
    expect(validateRegion('xx-newland-1', { BGMIG_EXTRA_REGIONS: 'xx-newland-1' })).toBe('xx-newland-1');
  });
});

describe('--version', () => {
  it('includes the commit the build came from', async () => {
    const r = await runBgmig(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+ \(commit [0-9a-f]{12}(-dirty)?\)$/);
  });
});
