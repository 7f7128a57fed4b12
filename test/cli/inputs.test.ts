/**
 * Issue 16, kind 5: every input checked before anything happens. Malformed or contradictory input is exit 2 with
 * one sentence, before any synthesis, AWS call or connection; an option without effect in the chosen mode is named
 * in a warning. The AWS endpoint here is a dead port, so any call that slipped through would say "Cannot reach".
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBgmig, type RunResult } from '../harness/cli.js';

const DEAD = { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_ENDPOINT_URL: 'http://127.0.0.1:1' };
const CERT_EU = 'arn:aws:acm:eu-west-1:111122223333:certificate/0f1e2d3c-aaaa-bbbb-cccc-1234567890ab';
const dir = mkdtempSync(path.join(os.tmpdir(), 'bgmig-inputs-'));
const aFile = path.join(dir, 'a-file');
writeFileSync(aFile, 'x');

function expectBadInput(r: RunResult, message: RegExp): void {
  expect(r.code, r.stderr).toBe(2);
  const errors = r.stderr.split('\n').filter((l) => l.startsWith('error:'));
  expect(errors).toHaveLength(1);
  expect(errors[0]).toMatch(message);
  expect(r.stderr).not.toContain('Cannot reach'); // nothing was called
  expect(r.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
}

describe('paths', () => {
  it('synth --output naming a file is exit 2 with one sentence (was exit 1 "Unexpected failure: ENOTDIR")', async () => {
    expectBadInput(await runBgmig(['--suffix', 'demo', 'synth', '--output', aFile]), /--output .*a-file is a file, not a directory: name a directory/);
    expectBadInput(
      await runBgmig(['--suffix', 'demo', 'synth', '--output', path.join(aFile, 'sub', 'dir')]),
      /is inside .*a-file, which is a file, not a directory/,
    );
  });

  it('deploy --outputs-file in a missing directory or naming a directory is exit 2 before anything is deployed', async () => {
    const base = ['--suffix', 'demo', 'deploy', '--certificate-arn', CERT_EU.replace('eu-west-1', 'us-east-1')];
    expectBadInput(
      await runBgmig([...base, '--outputs-file', path.join(dir, 'missing', 'o.json')], { env: DEAD }),
      /--outputs-file .* is in .*missing, which is not an existing directory/,
    );
    expectBadInput(await runBgmig([...base, '--outputs-file', dir], { env: DEAD }), /--outputs-file .* is a directory: name a file/);
  });
});

describe('values that cannot work together', () => {
  it('a certificate from another region than the stack is exit 2 (synth and deploy)', async () => {
    for (const verb of ['synth', 'deploy']) {
      expectBadInput(
        await runBgmig(['--suffix', 'demo', '--region', 'us-east-1', verb, '--certificate-arn', CERT_EU], { env: DEAD }),
        /--certificate-arn is a certificate in eu-west-1, but the stack is in us-east-1: a load balancer can only use an ACM certificate from its own region/,
      );
    }
  });

  it('blue and green on one PostgreSQL server is refused the same way by db init and db sync', async () => {
    const env = { BGMIG_BLUE_URL: 'postgres://a:pw@127.0.0.1:5999/app', BGMIG_GREEN_URL: 'postgres://a:pw@127.0.0.1:5999/app2', BGMIG_APP_PASSWORD: 'x' };
    for (const args of [
      ['db', 'init'],
      ['db', 'sync', 'status'],
      ['db', 'sync', 'start', '--yes'],
    ]) {
      expectBadInput(
        await runBgmig(args, { env }),
        /--blue-url and --green-url point at the same PostgreSQL server \(127\.0\.0\.1:5999\): blue and green must be two different servers\./,
      );
    }
  });

  it('validate: a schema both included and excluded is exit 2', async () => {
    const env = { BGMIG_BLUE_URL: 'postgres://a:pw@127.0.0.1:1/app', BGMIG_GREEN_URL: 'postgres://a:pw@127.0.0.1:2/app' };
    expectBadInput(
      await runBgmig(['validate', '--schema', 'app', '--exclude-schema', 'app'], { env }),
      /Schema app is both included \(--schema\) and excluded \(--exclude-schema\)/,
    );
  });
});

describe('options with no effect are named in a warning', () => {
  it('deploy --require-approval any-change with --yes', async () => {
    const r = await runBgmig(
      ['--suffix', 'demo', '--yes', 'deploy', '--require-approval', 'any-change', '--certificate-arn', CERT_EU.replace('eu-west-1', 'us-east-1')],
      { env: DEAD },
    );
    expect(r.stderr).toMatch(/warning: --require-approval any-change has no effect with --yes \(every approval is answered yes\)\./);
  });

  it('status --interval without --watch', async () => {
    const r = await runBgmig(['--suffix', 'demo', 'status', '--interval', '2'], { env: DEAD });
    expect(r.stderr).toMatch(/warning: --interval has no effect without --watch: reading once\./);
  });
});
