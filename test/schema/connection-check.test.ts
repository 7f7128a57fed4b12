/**
 * The validator function's connection check (the rotation's AWS-mode test step), handler in-process: the colour's
 * master secret and its versions are served by moto, the cluster is a throwaway PostgreSQL server. The check reads
 * exactly the version it is told about, logs in, and answers ok or one sentence — never the password, never a throw.
 */
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secretVersionsOver } from '../../src/aws/sdk.js';
import { ValidatorEnv } from '../../src/core/lambda-env.js';
import { scramVerifier } from '../../src/dbinit/app-role.js';
import { makeHandler } from '../../src/lambda/schema-validator.js';
import type { ConnectionCheckResult, ValidationReport } from '../../src/schema/report.js';
import { type Captured, captureProcessOutput } from '../harness/capture.js';
import { type Moto, startMoto } from '../harness/moto.js';
import { type PgServer, startPostgres } from '../harness/postgres.js';

const USER = 'bgmig_admin';
const CURRENT_PW = 'Current-Master-Pw-1b2c3d4e';
const PENDING_PW = 'Pending-Master-Pw-5f6a7b8c';
const WRONG_PW = 'Wrong-Pending-Pw-9d0e1f2a';

let server: PgServer;
let moto: Moto;
let sm: SecretsManagerClient;
let arn: string;
let currentId: string;
let pendingId: string;
let env: NodeJS.ProcessEnv;
let logs: Captured;

beforeAll(async () => {
  [server, moto] = await Promise.all([startPostgres(), startMoto()]);
  sm = new SecretsManagerClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  await server.sql(`CREATE ROLE ${USER} LOGIN PASSWORD '${scramVerifier(CURRENT_PW)}'`);
  const value = (password: string) =>
    JSON.stringify({ username: USER, password, engine: 'postgres', host: server.host, port: server.port, dbname: 'postgres' });
  const created = await sm.send(new CreateSecretCommand({ Name: 'secret-db-blue-cc', SecretString: value(CURRENT_PW) }));
  arn = created.ARN ?? '';
  currentId = created.VersionId ?? '';
  pendingId = randomUUID();
  await sm.send(new PutSecretValueCommand({ SecretId: arn, ClientRequestToken: pendingId, SecretString: value(PENDING_PW), VersionStages: ['AWSPENDING'] }));
  env = {
    ...moto.env,
    [ValidatorEnv.BlueSecretArn]: arn,
    [ValidatorEnv.GreenSecretArn]: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:nope-AbCdEf',
    [ValidatorEnv.ArtifactsBucket]: 'no-bucket',
    BGMIG_DB_SSL: 'disable',
  };
  logs = captureProcessOutput();
});

afterAll(async () => {
  logs?.restore();
  await Promise.all([server?.stop(), moto?.stop()]);
});

const handler = (e: NodeJS.ProcessEnv = env) => makeHandler({ env: e, secretVersions: secretVersionsOver(async () => sm) });
const check = async (event: Record<string, unknown>, e?: NodeJS.ProcessEnv) =>
  (await handler(e)({ kind: 'connection-check', ...event })) as ConnectionCheckResult;

function expectFailure(r: ConnectionCheckResult, rejected: boolean): string {
  expect(r.ok).toBe(false);
  if (r.ok) return '';
  expect(r.rejected).toBe(rejected);
  expect(r.error.split('\n')).toHaveLength(1);
  expect(r.error).toMatch(/[.?]$/);
  for (const pw of [CURRENT_PW, PENDING_PW, WRONG_PW]) expect(JSON.stringify(r)).not.toContain(pw);
  return r.error;
}

describe('validator connection check (handler in-process, moto secrets, local PostgreSQL)', () => {
  it('AWSCURRENT accepted: ok with the latency, the version read and the target (no password)', async () => {
    const r = await check({ color: 'blue', versionStage: 'AWSCURRENT', versionId: currentId });
    expect(r).toMatchObject({ ok: true, versionId: currentId, target: `${USER}@${server.host}:${server.port}/postgres` });
    if (r.ok) expect(r.latencyMs).toBeGreaterThanOrEqual(0);
    // Without a selector it reads AWSCURRENT.
    expect(await check({ color: 'blue' })).toMatchObject({ ok: true, versionId: currentId });
  });

  it('AWSPENDING before the set step: rejected, one sentence; after the password is applied: ok', async () => {
    const before = await check({ color: 'blue', versionStage: 'AWSPENDING', versionId: pendingId });
    expect(expectFailure(before, true)).toBe(
      `Login with version ${pendingId} of the blue master secret failed — PostgreSQL rejected the credentials for ${USER}@${server.host}:${server.port}/postgres: check the password in the secret or URL.`,
    );
    await server.sql(`ALTER ROLE ${USER} PASSWORD '${scramVerifier(PENDING_PW)}'`);
    expect(await check({ color: 'blue', versionStage: 'AWSPENDING', versionId: pendingId })).toMatchObject({ ok: true, versionId: pendingId });
    expect(await check({ color: 'blue', versionStage: 'AWSPENDING' })).toMatchObject({ ok: true, versionId: pendingId });
    expectFailure(await check({ color: 'blue', versionStage: 'AWSCURRENT' }), true);
  });

  it('a wrong pending password: ok false, rejected, and the password is nowhere in the result', async () => {
    const wrongId = randomUUID();
    await sm.send(
      new PutSecretValueCommand({
        SecretId: arn,
        ClientRequestToken: wrongId,
        SecretString: JSON.stringify({ username: USER, password: WRONG_PW, host: server.host, port: server.port, dbname: 'postgres' }),
        VersionStages: ['AWSPENDING'],
      }),
    );
    const r = await check({ color: 'blue', versionStage: 'AWSPENDING', versionId: wrongId });
    expect(expectFailure(r, true)).toContain(`version ${wrongId}`);
  });

  it('a version that does not hold the stage asked for is not used', async () => {
    const r = await check({ color: 'blue', versionStage: 'AWSPENDING', versionId: currentId });
    expect(expectFailure(r, false)).toMatch(/(could not read the blue master secret|answered version)/);
  });

  it('TLS is verified unless the test knob says otherwise: a plain-TCP server is refused, not used', async () => {
    const tls = { ...env };
    delete tls.BGMIG_DB_SSL;
    const r = await check({ color: 'blue', versionStage: 'AWSPENDING' }, tls);
    expect(expectFailure(r, false)).toMatch(
      /TLS to bgmig_admin@127\.0\.0\.1:\d+\/postgres failed \(The server does not support SSL connections\): pass the RDS CA bundle or check sslmode\.$/,
    );
  });

  it('bad events, a missing secret or variable, an unreachable server: one sentence each, never a throw', async () => {
    expect(expectFailure(await check({ color: 'red' }), false)).toBe('The connection check needs "color": "blue" or "green".');
    expect(expectFailure(await check({ color: 'blue', versionId: 'x' }), false)).toMatch(/^The event field versionId must be a secret version id/);
    expect(expectFailure(await check({ color: 'green' }), false)).toMatch(
      /^The validator function could not read the green master secret \(ResourceNotFoundException/,
    );
    expect(expectFailure(await check({ color: 'blue' }, { ...env, [ValidatorEnv.BlueSecretArn]: '' }), false)).toBe(
      'The function has no BLUE_SECRET_ARN environment variable: redeploy the stack with this bgmig version.',
    );
    const closed = await sm.send(
      new CreateSecretCommand({
        Name: 'secret-db-green-cc',
        SecretString: JSON.stringify({ username: USER, password: PENDING_PW, host: '127.0.0.1', port: 1, dbname: 'postgres' }),
      }),
    );
    const r = await check({ color: 'green' }, { ...env, [ValidatorEnv.GreenSecretArn]: closed.ARN ?? '' });
    expect(expectFailure(r, false)).toMatch(/connection refused/);
  });

  it('validation events still work as before, and an unknown kind is an error report', async () => {
    const report = (await handler()({ kind: 'explode' })) as ValidationReport;
    expect(report.verdict).toBe('error');
    expect(report.error).toContain('The event kind "explode" is not supported: use "validate" (or none) or "connection-check".');
  });

  it('logged structured JSON lines about the checks, and never a password', () => {
    const text = logs.text();
    const lines = text.split('\n').filter((l) => l.includes('"service":"bgmig-schema-validator"'));
    expect(lines.some((l) => l.includes('"message":"connection check passed"'))).toBe(true);
    expect(lines.some((l) => l.includes('"message":"connection check failed"'))).toBe(true);
    for (const l of lines) expect(() => JSON.parse(l)).not.toThrow();
    for (const pw of [CURRENT_PW, PENDING_PW, WRONG_PW]) expect(text).not.toContain(pw);
  });
});
