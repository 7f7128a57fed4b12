/**
 * The artifact that ships: dist/lambda/schema-validator/index.mjs (built by the global setup), run in a child
 * process the way Lambda runs it (import, call handler), with its secrets and bucket served by moto and its
 * databases by a throwaway PostgreSQL.
 */
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { lambdaBundleDir } from '../../src/core/paths.js';
import type { ValidationReport } from '../../src/schema/report.js';
import { startMoto, type Moto } from '../harness/moto.js';
import { startPostgres, type PgServer } from '../harness/postgres.js';
import { withPair } from './helpers.js';

const BUCKET = 'artifacts-bgmig-test';
let server: PgServer;
let moto: Moto;
let tmp: string;
let bundle: string;

beforeAll(async () => {
  [server, moto] = await Promise.all([startPostgres(), startMoto()]);
  tmp = mkdtempSync(path.join(os.tmpdir(), 'bgmig-validator-'));
  // Other test runs in this checkout rebuild dist/ (rm -rf, then build): take a private copy of the bundle the
  // global setup built, waiting out a rebuild in progress.
  const built = path.join(lambdaBundleDir('schema-validator'), 'index.mjs');
  for (let i = 0; i < 120 && !existsSync(built); i++) await new Promise((r) => setTimeout(r, 250));
  bundle = path.join(tmp, 'index.mjs');
  copyFileSync(built, bundle);
});
afterAll(async () => {
  await Promise.all([server?.stop(), moto?.stop()]);
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});
beforeEach(async () => {
  await moto.reset();
});

const clientConfig = () => ({ endpoint: moto.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });

async function createSecret(name: string, value: Record<string, unknown>): Promise<string> {
  const sm = new SecretsManagerClient(clientConfig());
  const res = await sm.send(new CreateSecretCommand({ Name: name, SecretString: JSON.stringify(value) }));
  return res.ARN ?? '';
}

interface Invocation {
  report: ValidationReport;
  stdout: string;
  stderr: string;
  code: number | null;
}

/**
 * Imports the bundle in a fresh Node process and calls its handler once; the report comes back through a file.
 * The SDK's Node-20 deprecation notice is silenced (Lambda runs Node 22) so that every output line is a log line.
 */
function invokeBundle(env: Record<string, string>, event: unknown): Promise<Invocation> {
  const out = path.join(tmp, `report-${Date.now()}-${Math.random().toString(36).slice(2)}.json`);
  const script = `const { handler } = await import(${JSON.stringify(pathToFileURL(bundle).href)});
const report = await handler(JSON.parse(process.env.TEST_EVENT));
(await import('node:fs')).writeFileSync(process.env.TEST_OUT, JSON.stringify(report));`;
  const childEnv: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    ...moto.env,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    TEST_EVENT: JSON.stringify(event),
    TEST_OUT: out,
    ...env,
  };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      try {
        resolve({ report: JSON.parse(readFileSync(out, 'utf8')) as ValidationReport, stdout, stderr, code });
      } catch (e) {
        reject(new Error(`the handler returned no report (exit ${code}): ${stderr}\n${stdout}\n${String(e)}`));
      }
    });
  });
}

async function s3Objects(): Promise<Record<string, ValidationReport>> {
  const s3 = new S3Client({ ...clientConfig(), forcePathStyle: true });
  const list = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'reports/' }));
  const out: Record<string, ValidationReport> = {};
  for (const o of list.Contents ?? []) {
    const res = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: o.Key }));
    out[o.Key ?? ''] = JSON.parse((await res.Body?.transformToString('utf8')) ?? '') as ValidationReport;
  }
  return out;
}

/** Every log line (stdout, and stderr where Powertools puts warnings and errors) is one JSON object; none carries a secret. */
function expectCleanJsonLogs(run: Invocation, secrets: string[]): Array<Record<string, unknown>> {
  const text = `${run.stdout}\n${run.stderr}`;
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  for (const s of secrets) expect(text).not.toContain(s);
  return parsed;
}

describe('schema-validator Lambda bundle', () => {
  it('reads both secrets, validates, writes the timestamped and latest report to S3 and returns it', async () => {
    await withPair(
      server,
      {
        base: 'create table orders (id int primary key, note text, code varchar(10))',
        green: 'alter table orders drop column note; alter table orders alter column code type varchar(20)',
      },
      async (p) => {
        const secret = (db: string) => ({
          username: 'postgres',
          password: server.password,
          host: '127.0.0.1',
          port: server.port,
          dbname: db,
          engine: 'postgres',
        });
        const [blueArn, greenArn] = await Promise.all([
          createSecret('secret-db-blue-t', secret(p.blueDb)),
          createSecret('secret-db-green-t', secret(p.greenDb)),
        ]);
        const s3 = new S3Client({ ...clientConfig(), forcePathStyle: true });
        await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));

        const run = await invokeBundle(
          { BLUE_SECRET_ARN: blueArn, GREEN_SECRET_ARN: greenArn, ARTIFACTS_BUCKET: BUCKET, BGMIG_DB_SSL: 'disable' },
          { includeSchemas: ['public'] },
        );
        expect(run.code).toBe(0);
        const r = run.report;
        expect(r.verdict).toBe('incompatible');
        expect(r.differences.map((d) => `${d.code} ${d.severity} ${d.object}`)).toEqual(['DS103 breaking public.orders.note', 'CT103 safe public.orders.code']);
        // Both directions from the shipped bundle: the widened column blocks rollback after cutover.
        expect(r.rollback?.verdict).toBe('incompatible');
        expect(r.rollback?.differences.map((d) => `${d.code} ${d.table} ${d.column}`)).toEqual(['RB101 public.orders code']);
        expect(r.blue?.target).toBe(`postgres@127.0.0.1:${server.port}/${p.blueDb}`);
        expect(r.options?.includeSchemas).toEqual(['public']);

        const objects = await s3Objects();
        const stamped = `reports/${r.generatedAt.replace(/[:.]/g, '-')}.json`;
        expect(Object.keys(objects).sort()).toEqual([stamped, 'reports/latest.json'].sort());
        expect(objects['reports/latest.json']).toEqual(r);
        expect(objects[stamped]).toEqual(r);

        const logs = expectCleanJsonLogs(run, [server.password]);
        expect(logs.map((l) => l.message)).toEqual(expect.arrayContaining(['validating', 'validation finished']));
        expect(logs.every((l) => l.service === 'bgmig-schema-validator')).toBe(true);
        expect(logs.find((l) => l.message === 'validation finished')).toMatchObject({
          rollbackVerdict: 'incompatible',
          rollbackTotals: { breaking: 1, risky: 0, safe: 0 },
        });
      },
    );
  });

  it('verifies TLS by default: a server without TLS gives an error report (stored as latest), no exception', async () => {
    await withPair(server, {}, async (p) => {
      const secret = (db: string) => ({ username: 'postgres', password: server.password, host: '127.0.0.1', port: server.port, dbname: db });
      const [blueArn, greenArn] = await Promise.all([createSecret('b', secret(p.blueDb)), createSecret('g', secret(p.greenDb))]);
      await new S3Client({ ...clientConfig(), forcePathStyle: true }).send(new CreateBucketCommand({ Bucket: BUCKET }));
      const run = await invokeBundle({ BLUE_SECRET_ARN: blueArn, GREEN_SECRET_ARN: greenArn, ARTIFACTS_BUCKET: BUCKET }, {});
      expect(run.code).toBe(0);
      expect(run.report.verdict).toBe('error');
      expect(run.report.error).toMatch(
        /^Blue database: TLS to postgres@127\.0\.0\.1:\d+\/blue_\S+ failed \(The server does not support SSL connections\): pass the RDS CA bundle or check sslmode\./,
      );
      expect((await s3Objects())['reports/latest.json']).toEqual(run.report);
      const logs = expectCleanJsonLogs(run, [server.password]);
      expect(logs.find((l) => l.message === 'validation failed')?.level).toBe('ERROR');
    });
  });

  it('a wrong password in the secret gives an error report without the password anywhere', async () => {
    await withPair(server, {}, async (p) => {
      const wrong = 'Wr0ng-Passw0rd-In-Secret';
      const blueArn = await createSecret('b', { username: 'postgres', password: wrong, host: '127.0.0.1', port: server.port, dbname: p.blueDb });
      const greenArn = await createSecret('g', { username: 'postgres', password: server.password, host: '127.0.0.1', port: server.port, dbname: p.greenDb });
      await new S3Client({ ...clientConfig(), forcePathStyle: true }).send(new CreateBucketCommand({ Bucket: BUCKET }));
      const run = await invokeBundle({ BLUE_SECRET_ARN: blueArn, GREEN_SECRET_ARN: greenArn, ARTIFACTS_BUCKET: BUCKET, BGMIG_DB_SSL: 'disable' }, {});
      expect(run.report.verdict).toBe('error');
      expect(run.report.error).toBe(
        `Blue database: PostgreSQL rejected the credentials for postgres@127.0.0.1:${server.port}/${p.blueDb}: check the password in the secret or URL.`,
      );
      const everything = run.stdout + run.stderr + JSON.stringify(await s3Objects());
      expect(everything).not.toContain(wrong);
      expect(everything).not.toContain(server.password);
    });
  });

  it('a missing secret, a missing variable or a bad event give error reports, never an exception', async () => {
    await new S3Client({ ...clientConfig(), forcePathStyle: true }).send(new CreateBucketCommand({ Bucket: BUCKET }));
    const noSecret = await invokeBundle(
      { BLUE_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:nope', GREEN_SECRET_ARN: 'x', ARTIFACTS_BUCKET: BUCKET },
      {},
    );
    expect(noSecret.code).toBe(0);
    expect(noSecret.report.verdict).toBe('error');
    expect(noSecret.report.error).toMatch(/^Cannot read the (blue|green) database secret .*: check the function's secretsmanager:GetSecretValue permission\.$/);

    const noVar = await invokeBundle({ ARTIFACTS_BUCKET: BUCKET }, {});
    expect(noVar.report).toMatchObject({
      verdict: 'error',
      error: 'The function has no BLUE_SECRET_ARN environment variable: redeploy the stack with this bgmig version.',
    });

    const badKnob = await invokeBundle({ BLUE_SECRET_ARN: 'a', GREEN_SECRET_ARN: 'b', ARTIFACTS_BUCKET: BUCKET, BGMIG_DB_SSL: 'require' }, {});
    expect(badKnob.report.verdict).toBe('error');

    const badEvent = await invokeBundle({ BLUE_SECRET_ARN: 'a', GREEN_SECRET_ARN: 'b', ARTIFACTS_BUCKET: BUCKET }, { includeSchemas: 'public' });
    expect(badEvent.report).toMatchObject({ verdict: 'error', error: 'The event field includeSchemas must be a list of strings.' });
    // The last of them is what gates will read.
    expect((await s3Objects())['reports/latest.json']).toEqual(badEvent.report);
  });

  it("answers a connection check (the rotation's AWS-mode test step) from the shipped bundle, without a password in any output", async () => {
    const arn = await createSecret('secret-db-blue-cc', {
      username: 'postgres',
      password: server.password,
      host: '127.0.0.1',
      port: server.port,
      dbname: 'postgres',
    });
    const wrong = 'Wr0ng-Bundle-Passw0rd';
    const sm = new SecretsManagerClient(clientConfig());
    const pending = await sm.send(
      new PutSecretValueCommand({
        SecretId: arn,
        SecretString: JSON.stringify({ username: 'postgres', password: wrong, host: '127.0.0.1', port: server.port, dbname: 'postgres' }),
        VersionStages: ['AWSPENDING'],
      }),
    );
    const env = { BLUE_SECRET_ARN: arn, GREEN_SECRET_ARN: 'g', ARTIFACTS_BUCKET: BUCKET, BGMIG_DB_SSL: 'disable' };
    const ok = await invokeBundle(env, { kind: 'connection-check', color: 'blue', versionStage: 'AWSCURRENT' });
    expect(ok.report as unknown).toMatchObject({ ok: true, target: `postgres@127.0.0.1:${server.port}/postgres` });
    const rejected = await invokeBundle(env, { kind: 'connection-check', color: 'blue', versionStage: 'AWSPENDING', versionId: pending.VersionId });
    expect(rejected.report as unknown).toMatchObject({
      ok: false,
      rejected: true,
      error: expect.stringMatching(/PostgreSQL rejected the credentials for postgres@127\.0\.0\.1:\d+\/postgres/),
    });
    for (const run of [ok, rejected]) expectCleanJsonLogs(run, [server.password, wrong]);
    expect(JSON.stringify(rejected.report)).not.toContain(wrong);
  });

  it('a bucket it cannot write to turns the verdict into error (a gate must not read a stale pass)', async () => {
    await withPair(server, {}, async (p) => {
      const secret = (db: string) => ({ username: 'postgres', password: server.password, host: '127.0.0.1', port: server.port, dbname: db });
      const [blueArn, greenArn] = await Promise.all([createSecret('b', secret(p.blueDb)), createSecret('g', secret(p.greenDb))]);
      const run = await invokeBundle(
        { BLUE_SECRET_ARN: blueArn, GREEN_SECRET_ARN: greenArn, ARTIFACTS_BUCKET: 'no-such-bucket-here', BGMIG_DB_SSL: 'disable' },
        {},
      );
      expect(run.report.verdict).toBe('error');
      expect(run.report.error).toMatch(
        /^The validation finished \(verdict compatible\) but the report could not be written to s3:\/\/no-such-bucket-here\/reports\/ \(.+\): check the function's s3:PutObject permission\.$/,
      );
      expect(run.report.blue?.serverVersion).toMatch(/^15\./);
    });
  });
});
