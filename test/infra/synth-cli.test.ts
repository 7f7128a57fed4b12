/** `bgmig synth` as operators run it: the real executable in a subprocess, no AWS credentials anywhere. */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type RunResult, runBgmig } from '../harness/cli.js';

const CERT = 'arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-1234-5678-9abc-def012345678';
const work = mkdtempSync(path.join(tmpdir(), 'bgmig-synth-cli-'));
/** No credentials of any kind: synth must not need them. */
const NO_AWS = { AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined, AWS_REGION: undefined, AWS_DEFAULT_REGION: undefined };

let human: RunResult;
let json: RunResult;
const humanOut = path.join(work, 'human');
const jsonOut = path.join(work, 'json');

beforeAll(async () => {
  // Sequential: two CDK synths at once would compete for the two cores with everything else.
  human = await runBgmig(['synth', '--suffix', 'demo', '--output', humanOut], { env: NO_AWS, timeoutMs: 300_000 });
  json = await runBgmig(['synth', '--suffix', 'demo', '--certificate-arn', CERT, '--environment', 'prod', '--validate', '--json', '--output', jsonOut], { env: NO_AWS, timeoutMs: 300_000 });
  process.stderr.write(`synth-cli: bgmig synth ${human.durationMs} ms (validation off), ${json.durationMs} ms (--validate)\n`);
  // ~5 s + ~10 s on an idle machine; generous because two cores are shared with PostgreSQL and moto suites.
}, 600_000);

describe('bgmig synth', () => {
  it('synth --suffix demo: exit 0, template at DIR/bgmig-demo.template.json and a summary with stack, nag result and resource counts', () => {
    expect(human.code, human.stderr).toBe(0);
    const template = path.join(humanOut, 'bgmig-demo.template.json');
    expect(existsSync(template)).toBe(true);
    expect(existsSync(path.join(humanOut, 'manifest.json'))).toBe(true);
    const resources = Object.values((JSON.parse(readFileSync(template, 'utf8')) as { Resources: Record<string, { Type: string }> }).Resources);
    expect(human.stdout).toMatch(/^Synthesized bgmig-demo \(dev\) in \d+\.\d s$/m);
    expect(human.stdout).toContain(`template: ${template}`);
    expect(human.stdout).toMatch(/cdk-nag \(AwsSolutions, NIST\.800\.53\.R5\): 0 unacknowledged finding\(s\), \d+ acknowledged with reasons/);
    expect(human.stdout).toContain(`${resources.length} resources:`);
    const rdsClusters = resources.filter((r) => r.Type === 'AWS::RDS::DBCluster').length;
    expect(human.stdout).toMatch(new RegExp(`AWS::RDS::DBCluster\\s+${rdsClusters}$`, 'm'));
    expect(human.stdout).toMatch(/CDK template validation: skipped/);
  });

  it('the placeholder certificate gives exactly one warning line on stderr', () => {
    const lines = human.stderr.split('\n').filter((l) => l.trim() !== '' && !/NodeVersionSupportWarning|AWS SDK/.test(l));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^warning: no --certificate-arn: .*placeholder.*deploy refuses\.$/);
  });

  it('--json puts only the machine document on stdout; --validate runs CDK template validation; a real ARN gives no warning', () => {
    expect(json.code, json.stderr).toBe(0);
    const doc = JSON.parse(json.stdout) as {
      stack: string; template: string; environment: string; certificatePlaceholder: boolean;
      resources: { total: number; byType: Record<string, number> }; nag: { packs: string[]; unacknowledged: number; acknowledged: number }; templateValidation: string;
    };
    expect(doc).toMatchObject({ stack: 'bgmig-demo', environment: 'prod', certificatePlaceholder: false, templateValidation: 'on', template: path.join(jsonOut, 'bgmig-demo.template.json') });
    expect(doc.nag).toMatchObject({ packs: ['AwsSolutions', 'NIST.800.53.R5'], unacknowledged: 0 });
    expect(doc.nag.acknowledged).toBeGreaterThan(40);
    expect(Object.values(doc.resources.byType).reduce((a, b) => a + b, 0)).toBe(doc.resources.total);
    expect(json.stderr).not.toMatch(/warning/);
    const report = JSON.parse(readFileSync(path.join(jsonOut, 'validation-report.json'), 'utf8')) as { pluginReports: Array<{ pluginName: string; conclusion: string }> };
    expect(report.pluginReports.find((p) => p.pluginName === 'CloudFormation Validate')?.conclusion).toBe('success');
    const template = readFileSync(doc.template, 'utf8');
    expect(template).toContain(CERT);
    expect(template).toMatch(/"DeletionProtection": true/);
  });

  it('bad suffix, environment or certificate ARN: exit 2, one sentence on stderr, nothing synthesized', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--suffix', 'Bad_Suffix'], /^error: Suffix "Bad_Suffix" is invalid: .*\.\)?$/],
      [['--suffix', 'demo', '--environment', 'production'], /^error: --environment must be one of dev, staging, prod, got "production"\.$/],
      [['--suffix', 'demo', '--certificate-arn', 'arn:aws:iam::123:role/x'], /^error: --certificate-arn "arn:aws:iam::123:role\/x" is not an ACM certificate ARN .*\.$/],
      [['--suffix', `a${'b'.repeat(40)}`], /^error: Suffix "ab+" is 41 characters; the limit is \d+ .*\.$/],
    ];
    for (const [args, message] of cases) {
      const out = path.join(work, `bad-${cases.findIndex((c) => c[0] === args)}`);
      const r = await runBgmig(['synth', ...args, '--output', out], { env: NO_AWS });
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(message);
      expect(r.stdout).toBe('');
      expect(existsSync(out)).toBe(false);
    }
  });

  it('synth --help explains the options and shows an example', async () => {
    const r = await runBgmig(['synth', '--help']);
    expect(r.code).toBe(0);
    for (const opt of ['--environment', '--certificate-arn', '--azs', '--ha-nat', '--blue-image', '--green-image', '--container-port', '--health-check-path', '--test-cidr', '--alarm-email', '--cost-center', '--cpu-threshold', '--validate', '--output']) {
      expect(r.stdout).toContain(opt);
    }
    expect(r.stdout).toContain('$ bgmig synth --suffix demo');
  });
});
