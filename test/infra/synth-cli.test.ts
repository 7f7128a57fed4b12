/** `bgmig synth` as operators run it: the real executable in a subprocess, no AWS credentials anywhere. */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type RunResult, runBgmig } from '../harness/cli.js';

const work = mkdtempSync(path.join(tmpdir(), 'bgmig-synth-cli-'));
/** No credentials of any kind: synth must not need them. */
const NO_AWS = { AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined, AWS_REGION: undefined, AWS_DEFAULT_REGION: undefined };

let json: RunResult;
const jsonOut = path.join(work, 'json');

beforeAll(async () => {
  // One synth, the expensive path: nag and CDK's template validation. Option parsing, the human summary and the
  // certificate warning's condition are unit tests (naming.unit.test.ts, checks.unit.test.ts).
  json = await runBgmig(['synth', '--suffix', 'demo', '--environment', 'prod', '--validate', '--json', '--output', jsonOut], {
    env: NO_AWS,
    timeoutMs: 300_000,
  });
  process.stderr.write(`synth-cli: bgmig synth --validate ${json.durationMs} ms\n`);
  // ~8 s on an idle machine; generous because two cores are shared with PostgreSQL and moto suites.
}, 600_000);

describe('bgmig synth', () => {
  it('--json puts only the machine document on stdout; --validate runs CDK template validation; the template is at DIR/bgmig-demo.template.json', () => {
    expect(json.code, json.stderr).toBe(0);
    const doc = JSON.parse(json.stdout) as {
      stack: string;
      template: string;
      environment: string;
      certificatePlaceholder: boolean;
      resources: { total: number; byType: Record<string, number> };
      nag: { packs: string[]; unacknowledged: number; acknowledged: number };
      templateValidation: string;
    };
    expect(doc).toMatchObject({
      stack: 'bgmig-demo',
      environment: 'prod',
      certificatePlaceholder: true,
      templateValidation: 'on',
      template: path.join(jsonOut, 'bgmig-demo.template.json'),
    });
    expect(existsSync(path.join(jsonOut, 'manifest.json'))).toBe(true);
    expect(doc.nag).toMatchObject({ packs: ['AwsSolutions', 'NIST.800.53.R5'], unacknowledged: 0 });
    expect(doc.nag.acknowledged).toBeGreaterThan(40);
    const resources = Object.values((JSON.parse(readFileSync(doc.template, 'utf8')) as { Resources: Record<string, { Type: string }> }).Resources);
    expect(doc.resources.total).toBe(resources.length);
    expect(Object.values(doc.resources.byType).reduce((a, b) => a + b, 0)).toBe(doc.resources.total);
    expect(doc.resources.byType['AWS::RDS::DBCluster']).toBe(resources.filter((r) => r.Type === 'AWS::RDS::DBCluster').length);
    const report = JSON.parse(readFileSync(path.join(jsonOut, 'validation-report.json'), 'utf8')) as {
      pluginReports: Array<{ pluginName: string; conclusion: string }>;
    };
    expect(report.pluginReports.find((p) => p.pluginName === 'CloudFormation Validate')?.conclusion).toBe('success');
    expect(readFileSync(doc.template, 'utf8')).toMatch(/"DeletionProtection": true/);
  });

  it('the placeholder certificate gives exactly one warning line on stderr', () => {
    // stderr also carries the progress line ("Synthesizing bgmig-demo …"); warnings and errors are what count here.
    const lines = json.stderr.split('\n').filter((l) => /^(warning|error):/.test(l));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^warning: no --certificate-arn: .*placeholder.*deploy refuses\.$/);
  });

  it('bad input: exit 2, one sentence on stderr, nothing on stdout, nothing synthesized', async () => {
    const out = path.join(work, 'bad');
    const r = await runBgmig(['synth', '--suffix', 'Bad_Suffix', '--output', out], { env: NO_AWS });
    expect(r.code).toBe(2);
    const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^error: Suffix "Bad_Suffix" is invalid: .*\.\)?$/);
    expect(r.stdout).toBe('');
    expect(existsSync(out)).toBe(false);
  });

  it('--output naming a file: exit 2 and exactly one line on stderr (the inputs are checked before any warning)', async () => {
    const file = path.join(work, 'a-file');
    writeFileSync(file, 'x');
    const r = await runBgmig(['synth', '--suffix', 'demo', '--output', file], { env: NO_AWS });
    expect(r.code).toBe(2);
    const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^error: --output .* is a file, not a directory/);
    expect(r.stdout).toBe('');
  });

  it('synth --help explains the options and shows an example', async () => {
    const r = await runBgmig(['synth', '--help']);
    expect(r.code).toBe(0);
    for (const opt of [
      '--environment',
      '--certificate-arn',
      '--azs',
      '--ha-nat',
      '--blue-image',
      '--green-image',
      '--container-port',
      '--health-check-path',
      '--test-cidr',
      '--alarm-email',
      '--cost-center',
      '--cpu-threshold',
      '--validate',
      '--output',
    ]) {
      expect(r.stdout).toContain(opt);
    }
    expect(r.stdout).toContain('$ bgmig synth --suffix demo');
  });
});
