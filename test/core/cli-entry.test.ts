import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, runBgmig } from '../harness/cli.js';

const VERBS = ['synth', 'deploy', 'diff', 'destroy', 'bootstrap', 'status', 'validate', 'promote', 'rollback', 'rotate-secret-manual', 'db'];

describe('the bgmig executable', () => {
  it('--help lists every verb and the exit codes, exit 0', async () => {
    const r = await runBgmig(['--help']);
    expect(r.code).toBe(0);
    for (const v of VERBS) expect(r.stdout).toMatch(new RegExp(`^  ${v}\\b`, 'm'));
    expect(r.stdout).toContain('Exit codes:');
  });

  it('--version prints the package version and the commit it was built from', async () => {
    const r = await runBgmig(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+ \(commit ([0-9a-f]{12}(-dirty)?|unknown)\)$/);
  });

  it('an unknown command is bad input: exit 2, one line, no stack trace', async () => {
    const r = await runBgmig(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command 'frobnicate'/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('an unknown option is bad input: exit 2', async () => {
    const r = await runBgmig(['--no-such-option']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown option/);
  });

  it('every verb and db subcommand has its own help with an example, exit 0', async () => {
    const subcommands = [
      ['db', 'init'],
      ['db', 'sync', 'start'],
      ['db', 'sync', 'status'],
      ['db', 'sync', 'stop'],
      ['db', 'cutover'],
      ['db', 'rollback'],
    ];
    for (const v of [...VERBS.map((x) => [x]), ...subcommands]) {
      const r = await runBgmig([...v, '--help']);
      expect(r.code, v.join(' ')).toBe(0);
      expect(r.stdout, v.join(' ')).toMatch(/Example/i);
    }
  });

  it('--help loads neither aws-cdk-lib, the CDK toolkit nor any AWS SDK (fast start)', () => {
    // ESM imports of CommonJS packages go through the CJS loader, so require.cache lists them.
    const script = `
      import { createRequire } from 'node:module';
      const require = createRequire(import.meta.url);
      const { main } = await import('./dist/cli/main.js');
      const out = process.stdout.write.bind(process.stdout);
      process.stdout.write = () => true;
      await main(['node', 'bgmig', '--help']);
      process.stdout.write = out;
      const heavy = Object.keys(require.cache).filter((p) => /aws-cdk-lib|@aws-cdk[\\/]toolkit-lib|@aws-sdk|[\\/]pg[\\/]/.test(p));
      out(JSON.stringify(heavy.map((p) => p.replace(/.*node_modules[\\/]/, '')).slice(0, 5)));
    `;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: REPO_ROOT, encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual([]);
  });
});
