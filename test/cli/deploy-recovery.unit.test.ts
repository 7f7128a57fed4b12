/**
 * Issue 16, kind 3, the pure parts: which environment a deploy keeps (decideEnvironment), the settings file
 * (parsing, precedence, the default file) and the toolkit's messages reworded for bgmig. End to end on moto:
 * deploy-recovery.test.ts.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decideEnvironment, loadSettings, mergeStackOptions, parseSettings } from '../../src/cli/settings.js';
import { blockedReason, notDeployedReason, type StackInfo } from '../../src/deployed/stack.js';
import { ToolkitIoHost } from '../../src/cli/toolkit-io.js';
import { ExitCode } from '../../src/core/errors.js';
import { memoryIo } from './support/memory-io.js';

const CERT = 'arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-aaaa-bbbb-cccc-1234567890ab';

describe('decideEnvironment', () => {
  it('decideEnvironment: the whole table', () => {
    const d = (deployed: 'dev' | 'staging' | 'prod' | undefined, requested: 'dev' | 'staging' | 'prod', explicit: boolean, allowChange = false) =>
      decideEnvironment({ deployed, requested, explicit, allowChange, stack: 's' }).environment;
    expect(d(undefined, 'dev', false)).toBe('dev');
    expect(d('prod', 'dev', false)).toBe('prod');
    expect(d('staging', 'dev', false)).toBe('staging');
    expect(d('dev', 'prod', true)).toBe('prod'); // stronger: allowed
    expect(d('prod', 'prod', true)).toBe('prod');
    expect(() => d('prod', 'staging', true)).toThrow(/add --change-environment/);
    expect(d('prod', 'dev', true, true)).toBe('dev');
  });
});

describe('settings file', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bgmig-settings-'));

  it('parses every key into the stack options; flags on the command line win', () => {
    const s = parseSettings(
      JSON.stringify({
        suffix: 'shop',
        region: 'us-east-1',
        environment: 'prod',
        certificateArn: CERT,
        availabilityZones: ['us-east-1a', 'us-east-1b', 'us-east-1d'],
        haNat: true,
        blueImage: 'r/shop:1',
        containerPort: 8080,
        thresholds: { cpuPercent: 70, http5xxPerMinute: 5 },
      }),
      'bgmig.shop.json',
    );
    expect(s.values).toEqual({
      environment: 'prod',
      certificateArn: CERT,
      azs: 'us-east-1a,us-east-1b,us-east-1d',
      haNat: true,
      blueImage: 'r/shop:1',
      containerPort: '8080',
      cpuThreshold: '70',
      '5xxThreshold': '5',
    });
    const merged = mergeStackOptions({ environment: 'dev', blueImage: 'r/shop:2', haNat: false }, (k) => (k === 'blueImage' ? 'cli' : 'default'), s);
    expect(merged.values).toMatchObject({ environment: 'prod', blueImage: 'r/shop:2', haNat: true });
    expect([...merged.explicit].sort()).toEqual([
      '5xxThreshold',
      'azs',
      'blueImage',
      'certificateArn',
      'containerPort',
      'cpuThreshold',
      'environment',
      'haNat',
    ]);
  });

  it.each([
    ['{', /is not valid JSON/],
    ['[]', /must hold one JSON object/],
    ['{"certArn": "x"}', /unknown key "certArn" \(known: environment, certificateArn/],
    ['{"haNat": "yes"}', /"haNat" must be true or false, got "yes"/],
    ['{"availabilityZones": "us-east-1a"}', /"availabilityZones" must be a list of strings/],
    ['{"environment": "production"}', /"environment" must be one of dev, staging, prod, got "production"/],
    ['{"thresholds": {"cpu": 80}}', /unknown threshold "cpu"/],
    ['{"thresholds": {"cpuPercent": 80.5}}', /"thresholds.cpuPercent" must be a whole number/],
  ])('bad content %s is exit 2 naming the file and key', (text, message) => {
    let err: unknown;
    try {
      parseSettings(text, 'bgmig.x.json');
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ exitCode: ExitCode.BadInput });
    expect((err as Error).message).toMatch(/^Settings file bgmig\.x\.json/);
    expect((err as Error).message).toMatch(message);
  });

  it('the default file ./bgmig.<suffix>.json is used when present; suffix and region must match', () => {
    writeFileSync(path.join(dir, 'bgmig.shop.json'), JSON.stringify({ suffix: 'shop', region: 'eu-west-1', environment: 'prod' }));
    expect(loadSettings('shop', 'eu-west-1', undefined, dir)?.values).toEqual({ environment: 'prod' });
    expect(loadSettings('other', 'eu-west-1', undefined, dir)).toBeUndefined();
    expect(() => loadSettings('shop', 'us-east-1', undefined, dir)).toThrow(
      /is for region eu-west-1, but this command runs in us-east-1: pass --region eu-west-1/,
    );
    expect(() => loadSettings('other', 'eu-west-1', path.join(dir, 'bgmig.shop.json'), dir)).toThrow(/is for suffix "shop", not "other"/);
    expect(() => loadSettings('shop', 'eu-west-1', path.join(dir, 'missing.json'), dir)).toThrow(/Cannot read the settings file .*missing\.json \(ENOENT\)/);
  });
});

describe('toolkit messages worded for bgmig', () => {
  it('diff: approval wording becomes one line, the repeated security tables are dropped, "cdk bootstrap" goes to --verbose', () => {
    const host = new ToolkitIoHost(memoryIo().io, 'never', 'diff');
    expect(
      host.rewrite(
        'warn',
        'This deployment will make potentially sensitive changes according to your current security approval level.\nPlease confirm you intend to make the following modifications:\n',
      ),
    ).toEqual({
      level: 'info',
      text: 'These changes widen IAM or security-group permissions (see the tables below): `bgmig deploy` will ask for approval before applying them.',
    });
    expect(host.rewrite('info', 'IAM Statement Changes\n┌───┐')).toBeUndefined();
    expect(host.rewrite('info', 'Stack bgmig-x\nResources\n[+] AWS::IAM::Role')).toEqual({
      level: 'info',
      text: 'Stack bgmig-x\nResources\n[+] AWS::IAM::Role',
    });
    expect(
      host.rewrite('warn', "SSM parameter /cdk-bootstrap/hnb659fds/version not found. Has the environment been bootstrapped? Please run 'cdk bootstrap'"),
    ).toBeUndefined();
    // The diff's own text may name "CDK Bootstrap" resources: it is shown as is.
    const text = 'Parameters\n[+] Parameter BootstrapVersion: {"Description":"Version of the CDK Bootstrap resources in this environment"}';
    expect(host.rewrite('info', text)).toEqual({ level: 'info', text });
  });

  it("bootstrap names its own --execution-policy, not the CDK CLI's option", () => {
    const host = new ToolkitIoHost(memoryIo().io, 'never', 'bootstrap');
    const r = host.rewrite(
      'warn',
      "Using default execution policy of 'arn:aws:iam::aws:policy/AdministratorAccess'. Pass '--cloudformation-execution-policies' to customize.",
    );
    expect(r?.text).toBe(
      "Using default execution policy of 'arn:aws:iam::aws:policy/AdministratorAccess'. Pass --execution-policy ARN (repeatable) to `bgmig bootstrap` to restrict it.",
    );
  });
});

describe('the real state of a stack, in one sentence', () => {
  const stack = (status: string, statusReason?: string): StackInfo => ({ name: 'bgmig-x', status, statusReason, outputs: {} });
  it('nothing deployed: an unexecuted change set, a rolled-back creation', () => {
    expect(notDeployedReason(stack('REVIEW_IN_PROGRESS'), 'x')).toMatch(
      /^Stack bgmig-x has nothing deployed: it is REVIEW_IN_PROGRESS, an empty stack holding a change set that was never executed/,
    );
    expect(notDeployedReason(stack('ROLLBACK_COMPLETE', 'Resource creation cancelled'), 'x')).toMatch(
      /^Stack bgmig-x has nothing deployed: its creation failed and was rolled back \(ROLLBACK_COMPLETE: Resource creation cancelled\)/,
    );
    expect(notDeployedReason(stack('UPDATE_COMPLETE'), 'x')).toBeUndefined();
  });
  it('blocked until someone acts: a failed rollback, a failed delete', () => {
    expect(blockedReason(stack('UPDATE_ROLLBACK_FAILED', 'Resource handler returned message: …'))).toMatch(
      /run `aws cloudformation continue-update-rollback --stack-name bgmig-x`, then deploy again\.$/,
    );
    expect(blockedReason(stack('DELETE_FAILED'))).toMatch(/run `bgmig destroy` again/);
    expect(blockedReason(stack('UPDATE_ROLLBACK_COMPLETE'))).toBeUndefined();
  });
});
