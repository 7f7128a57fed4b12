/**
 * The cutover function's application-secret operations (the rotation's `--app` set and test steps in AWS mode),
 * handler in-process against two throwaway PostgreSQL servers, with the master and application secrets (and their
 * versions) served by moto. The function reads the version it is told about: no password in any event or result.
 */
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secretVersionsOver } from '../../src/aws/sdk.js';
import { CutoverEnv } from '../../src/core/lambda-env.js';
import type { Color } from '../../src/core/naming.js';
import type { CheckAppLoginReport, CutoverEvent, CutoverResult, SetAppPasswordReport } from '../../src/remote/db-cutover-contract.js';
import { makeHandler } from '../../src/lambda/db-cutover.js';
import { type Captured, captureProcessOutput } from '../harness/capture.js';
import { type Moto, startMoto } from '../harness/moto.js';
import { type PgServer, canLogin as canLoginAs, startPostgres } from '../harness/postgres.js';

const APP_USER = 'bgmig_app';
const INITIAL = 'App-Initial-Pw-3a4b5c6d';
const PENDING = 'App-Pending-Pw-7e8f9a0b';
const NEXT = 'App-Next-Pw-1c2d3e4f';
const STRANGER = 'Stranger-Pw-5a6b7c8d';

let moto: Moto;
let servers: Record<Color, PgServer>;
let sm: SecretsManagerClient;
let appArn: string;
let env: NodeJS.ProcessEnv;
let logs: Captured;
let currentId: string;

const secretsOf = () => Promise.resolve(sm);

/** Events are what a caller sends, malformed ones included: the handler checks them itself. */
async function call(event: unknown, e: NodeJS.ProcessEnv = env): Promise<CutoverResult> {
  return makeHandler({ env: e, secretVersions: secretVersionsOver(secretsOf) })(event as CutoverEvent);
}

async function ok<T>(event: unknown): Promise<T> {
  const r = await call(event);
  if (!r.ok) throw new Error(`failed: ${r.error.message}`);
  return r.report as T;
}

async function putPending(password: string, username = APP_USER): Promise<string> {
  const id = randomUUID();
  await sm.send(
    new PutSecretValueCommand({
      SecretId: appArn,
      ClientRequestToken: id,
      SecretString: JSON.stringify({ username, password }),
      VersionStages: ['AWSPENDING'],
    }),
  );
  return id;
}

/** A real login as the application role: true accepted, false rejected by PostgreSQL. */
function canLogin(color: Color, password: string): Promise<boolean> {
  return canLoginAs(servers[color], APP_USER, password, 'app');
}

beforeAll(async () => {
  const [b, g, m] = await Promise.all([startPostgres(), startPostgres(), startMoto()]);
  servers = { blue: b, green: g };
  moto = m;
  sm = new SecretsManagerClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  const secret = async (name: string, value: object) => sm.send(new CreateSecretCommand({ Name: name, SecretString: JSON.stringify(value) }));
  const master = (s: PgServer) => ({ username: 'postgres', password: s.password, engine: 'postgres', host: '127.0.0.1', port: s.port, dbname: 'postgres' });
  const [blueArn, greenArn, app] = await Promise.all([
    secret('secret-db-blue-ap', master(b)),
    secret('secret-db-green-ap', master(g)),
    secret('secret-db-app-ap', { username: APP_USER, password: INITIAL }),
  ]);
  appArn = app.ARN ?? '';
  currentId = app.VersionId ?? '';
  env = {
    ...moto.env,
    [CutoverEnv.BlueSecretArn]: blueArn.ARN,
    [CutoverEnv.GreenSecretArn]: greenArn.ARN,
    [CutoverEnv.AppSecretArn]: appArn,
    // Needed by the function's set-up; these operations never touch the record.
    [CutoverEnv.HostedZoneId]: 'Z0000000000000000000',
    [CutoverEnv.DbRecordName]: 'db.ap.bgmig.internal',
    [CutoverEnv.BlueClusterEndpoint]: 'aurora-blue-ap.cluster-c0ffee.us-east-1.rds.amazonaws.com',
    [CutoverEnv.GreenClusterEndpoint]: 'aurora-green-ap.cluster-c0ffee.us-east-1.rds.amazonaws.com',
    BGMIG_DB_SSL: 'disable',
  };
  logs = captureProcessOutput();
  await ok({ operation: 'init', options: {} });
});

afterAll(async () => {
  logs?.restore();
  await Promise.all([servers?.blue.stop(), servers?.green.stop(), moto?.stop()]);
});

describe('cutover function: setAppPassword and checkAppLogin', () => {
  let pendingId: string;

  it('checkAppLogin: AWSCURRENT accepted on both, a pending version not yet applied rejected on both', async () => {
    const cur = await ok<CheckAppLoginReport>({ operation: 'checkAppLogin', options: { versionStage: 'AWSCURRENT', versionId: currentId } });
    expect(cur).toMatchObject({ operation: 'checkAppLogin', versionId: currentId, blue: { ok: true, connectRevoked: false }, green: { ok: true } });
    pendingId = await putPending(PENDING);
    const pend = await ok<CheckAppLoginReport>({ operation: 'checkAppLogin', options: { versionStage: 'AWSPENDING', versionId: pendingId } });
    expect(pend).toMatchObject({ versionId: pendingId, blue: { ok: false, rejected: true }, green: { ok: false, rejected: true } });
    if (!pend.blue.ok)
      expect(pend.blue.error).toMatch(/^PostgreSQL rejected the credentials for bgmig_app@127\.0\.0\.1:\d+\/app: check the password in the secret or URL\.$/);
  });

  it('setAppPassword applies exactly the named version on both clusters; the login check then accepts it', async () => {
    const r = await ok<SetAppPasswordReport>({ operation: 'setAppPassword', options: { versionStage: 'AWSPENDING', versionId: pendingId } });
    expect(r).toMatchObject({ operation: 'setAppPassword', versionId: pendingId, stages: ['AWSPENDING'] });
    expect(r.appRole.blue).toMatchObject({ roleCreated: false, loginVerified: true });
    expect(r.appRole.green).toMatchObject({ roleCreated: false, loginVerified: true });
    for (const c of ['blue', 'green'] as const) {
      expect(await canLogin(c, PENDING)).toBe(true);
      expect(await canLogin(c, INITIAL)).toBe(false);
    }
    const check = await ok<CheckAppLoginReport>({ operation: 'checkAppLogin', options: { versionStage: 'AWSPENDING', versionId: pendingId } });
    expect(check).toMatchObject({ blue: { ok: true }, green: { ok: true } });
    // A rollback re-applies AWSCURRENT the same way (no selector = AWSCURRENT).
    const back = await ok<SetAppPasswordReport>({ operation: 'setAppPassword', options: {} });
    expect(back.versionId).toBe(currentId);
    for (const c of ['blue', 'green'] as const) expect(await canLogin(c, INITIAL)).toBe(true);
  });

  it('both or neither: when green cannot take the change (a lock held there), blue keeps its password too', async () => {
    const nextId = await putPending(NEXT);
    // Another db init/rotation holding the serialising lock on green: green's transaction cannot proceed.
    const holder = await servers.green.connect('app');
    await holder.query('BEGIN');
    await holder.query("SELECT pg_advisory_xact_lock(hashtext('bgmig db init'))");
    try {
      const r = await call({ operation: 'setAppPassword', options: { versionStage: 'AWSPENDING', versionId: nextId } });
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.error.message).toMatch(/^db init failed on green .* while creating role bgmig_app and its grants: .*lock/);
        expect(r.error.message.split('\n')).toHaveLength(1);
      }
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }
    for (const c of ['blue', 'green'] as const) {
      expect(await canLogin(c, INITIAL)).toBe(true);
      expect(await canLogin(c, NEXT)).toBe(false);
    }
  });

  it('both or neither: an unreachable green changes nothing on blue', async () => {
    const nextId = await putPending(NEXT);
    const closed = await sm.send(
      new CreateSecretCommand({
        Name: 'secret-db-green-closed',
        SecretString: JSON.stringify({ username: 'postgres', password: servers.green.password, host: '127.0.0.1', port: 1 }),
      }),
    );
    const r = await call(
      { operation: 'setAppPassword', options: { versionId: nextId, versionStage: 'AWSPENDING' } },
      { ...env, [CutoverEnv.GreenSecretArn]: closed.ARN },
    );
    expect(r).toMatchObject({ ok: false, error: { exitCode: 1, message: expect.stringMatching(/^db init failed on green .*connection refused/) } });
    expect(await canLogin('blue', INITIAL)).toBe(true);
    expect(await canLogin('blue', NEXT)).toBe(false);
  });

  it('refuses bad selectors, a version naming another user, and a version/stage mismatch — one sentence, nothing changed', async () => {
    expect(await call({ operation: 'setAppPassword', options: { versionId: 'nope' } })).toMatchObject({ ok: false, error: { exitCode: 2 } });
    expect(await call({ operation: 'checkAppLogin', options: { versionStage: 42 } })).toMatchObject({ ok: false, error: { exitCode: 2 } });
    const strangerId = await putPending(STRANGER, 'someone_else');
    expect(await call({ operation: 'setAppPassword', options: { versionId: strangerId, versionStage: 'AWSPENDING' } })).toMatchObject({
      ok: false,
      error: { message: 'The application secret names user "someone_else" but bgmig manages "bgmig_app": fix the secret\'s username.' },
    });
    const mismatch = await call({ operation: 'setAppPassword', options: { versionId: currentId, versionStage: 'AWSPENDING' } });
    expect(mismatch.ok).toBe(false);
    for (const c of ['blue', 'green'] as const) expect(await canLogin(c, INITIAL)).toBe(true);
  });

  it('a side fenced by a running sync (CONNECT revoked) still proves the password: authentication comes first', async () => {
    await servers.green.sql(`REVOKE CONNECT ON DATABASE app FROM PUBLIC; REVOKE CONNECT ON DATABASE app FROM ${APP_USER}`);
    try {
      const r = await ok<CheckAppLoginReport>({ operation: 'checkAppLogin', options: { versionStage: 'AWSCURRENT' } });
      expect(r).toMatchObject({ blue: { ok: true, connectRevoked: false }, green: { ok: true, connectRevoked: true } });
      const wrongId = await putPending(NEXT);
      const wrong = await ok<CheckAppLoginReport>({ operation: 'checkAppLogin', options: { versionStage: 'AWSPENDING', versionId: wrongId } });
      expect(wrong).toMatchObject({ green: { ok: false, rejected: true } });
    } finally {
      await servers.green.sql(`GRANT CONNECT ON DATABASE app TO PUBLIC; GRANT CONNECT ON DATABASE app TO ${APP_USER}`);
    }
  });

  it('no password in any result or log line', async () => {
    const results = JSON.stringify([
      await call({ operation: 'checkAppLogin', options: { versionStage: 'AWSCURRENT' } }),
      await call({ operation: 'setAppPassword', options: { versionStage: 'AWSCURRENT' } }),
    ]);
    const text = logs.text() + results;
    for (const pw of [INITIAL, PENDING, NEXT, STRANGER, servers.blue.password, servers.green.password]) expect(text).not.toContain(pw);
    expect(logs.text()).toContain('"message":"application login checked"');
  });
});
