/**
 * The cutover function's handler, in-process, against two real PostgreSQL 15 servers (logical WAL) with the master
 * secrets, the application secret and the Route 53 private zone/record served by moto.
 *
 * Addresses, and why: the master secrets carry 127.0.0.1 and each server's port (as RDS-attached secrets carry the
 * writer endpoint and port), while the BLUE/GREEN_CLUSTER_ENDPOINT variables carry distinctive Aurora-style host
 * names that do not resolve. The function must therefore connect through the secrets and write the record from the
 * endpoint variables: if it ever wrote a connection address into the record, or connected to an endpoint name,
 * these tests fail. The writers below play the application: at every (re)connect they read the record from moto
 * (their "DNS lookup"), map the endpoint it names to that server, and insert as the non-superuser bgmig_app role
 * with the password from the application secret, recording each acknowledged write.
 */
import { ChangeResourceRecordSetsCommand, CreateHostedZoneCommand, ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CreateVpcCommand, EC2Client } from '@aws-sdk/client-ec2';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import pg from 'pg';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dnsRecordsOver } from '../../src/aws/sdk.js';
import { CutoverEnv } from '../../src/core/lambda-env.js';
import type { Color } from '../../src/core/naming.js';
import type { ActiveReport, CutoverFailure, CutoverResult, CutoverSuccess } from '../../src/remote/db-cutover-contract.js';
import type { SwitchReport, SyncStatusReport } from '../../src/replication/api.js';
import { REPO_ROOT } from '../harness/cli.js';
import { startMoto, type Moto } from '../harness/moto.js';
import { startPostgres, type PgServer } from '../harness/postgres.js';

const execFileAsync = promisify(execFile);
const ENDPOINT: Record<Color, string> = {
  blue: 'aurora-blue-hx.cluster-c0ffee123456.us-east-1.rds.amazonaws.com',
  green: 'aurora-green-hx.cluster-c0ffee123456.us-east-1.rds.amazonaws.com',
};
const RECORD = 'db.hx.bgmig.internal';
const APP_PASSWORD = 'App-Secret-Pw-7f3a9c21';
const BUCKET = 's3-artifacts-hx-123456789012-us-east-1';

let moto: Moto;
let servers: Record<Color, PgServer>;
let r53: Route53Client;
let zoneId: string;
let handler: (event: unknown, ctx?: unknown) => Promise<CutoverResult>;
const logged: string[] = [];
let restoreStdout: (() => void) | undefined;

async function readRecord(): Promise<string | undefined> {
  const res = await r53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId, StartRecordName: RECORD, StartRecordType: 'CNAME', MaxItems: 1 }));
  const rr = res.ResourceRecordSets?.find((r) => r.Name?.replace(/\.$/, '') === RECORD && r.Type === 'CNAME');
  return rr?.ResourceRecords?.[0]?.Value?.replace(/\.$/, '');
}

async function call<T = unknown>(operation: string, options: Record<string, unknown> = {}): Promise<CutoverSuccess & { report: T }> {
  const r = await handler({ operation, options }, { awsRequestId: `test-${operation}` });
  if (!r.ok) throw new Error(`${operation} failed: ${r.error.message}`);
  return r as CutoverSuccess & { report: T };
}

function appClient(color: Color): pg.Client {
  const c = new pg.Client({ connectionString: servers[color].url('app', 'bgmig_app', APP_PASSWORD), connectionTimeoutMillis: 2000 });
  c.on('error', () => undefined);
  return c;
}

async function canWrite(color: Color): Promise<boolean> {
  const c = appClient(color);
  try {
    await c.connect();
    await c.query("INSERT INTO public.items (k, v) VALUES ('probe-' || gen_random_uuid(), 'probe')");
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** What a resolver inside the VPC answers for the record (here: moto's current record). */
async function vpcResolver(): Promise<string[]> {
  const v = await readRecord();
  return v ? [v] : [];
}

/** Application writers: resolve the record at every connect, insert, record acknowledged keys. */
function startWriters(n: number) {
  const acked: string[] = [];
  const errors: string[] = [];
  let stop = false;
  const loops = Array.from({ length: n }, async (_, w) => {
    let i = 0;
    let client: pg.Client | undefined;
    while (!stop) {
      try {
        if (!client) {
          const value = await readRecord();
          const color: Color | undefined = value === ENDPOINT.blue ? 'blue' : value === ENDPOINT.green ? 'green' : undefined;
          if (!color) throw new Error(`record names ${value}`);
          client = appClient(color);
          await client.connect();
        }
        const k = `w${w}-${i++}`;
        await client.query('INSERT INTO public.items (k, v) VALUES ($1, $2)', [k, 'x']);
        acked.push(k);
      } catch (e) {
        const code = (e as { code?: string }).code;
        if (code === '23505') errors.push(`duplicate key: ${(e as Error).message}`);
        await client?.end().catch(() => undefined);
        client = undefined;
        await new Promise((r) => setTimeout(r, 20));
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    await client?.end().catch(() => undefined);
  });
  return {
    acked,
    errors,
    stop: async () => {
      stop = true;
      await Promise.all(loops);
    },
  };
}

async function keysOn(color: Color): Promise<Set<string>> {
  const r = await servers[color].sql("SELECT k FROM public.items WHERE k NOT LIKE 'probe-%'", 'app');
  return new Set(r.rows.map((x: { k: string }) => x.k));
}

async function waitStreaming(timeoutMs = 30_000): Promise<SyncStatusReport> {
  const deadline = Date.now() + timeoutMs;
  let last: SyncStatusReport | undefined;
  while (Date.now() < deadline) {
    const now: SyncStatusReport = (await call<SyncStatusReport>('syncStatus')).report;
    last = now;
    if (now.state === 'streaming' && now.healthy) return now;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`sync not streaming: ${JSON.stringify(last?.problems ?? last)}`);
}

async function waitKeys(color: Color, keys: string[], timeoutMs = 20_000): Promise<Set<string>> {
  const deadline = Date.now() + timeoutMs;
  let have = await keysOn(color);
  while (Date.now() < deadline && !keys.every((k) => have.has(k))) {
    await new Promise((r) => setTimeout(r, 200));
    have = await keysOn(color);
  }
  return have;
}

beforeAll(async () => {
  const [b, g, m] = await Promise.all([startPostgres({ logical: true }), startPostgres({ logical: true }), startMoto()]);
  servers = { blue: b, green: g };
  moto = m;
  const cfg = { region: 'us-east-1', endpoint: moto.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } };
  r53 = new Route53Client(cfg);
  const sm = new SecretsManagerClient(cfg);
  const vpc = await new EC2Client(cfg).send(new CreateVpcCommand({ CidrBlock: '10.9.0.0/16' }));
  const zone = await r53.send(
    new CreateHostedZoneCommand({
      Name: 'hx.bgmig.internal',
      CallerReference: `t-${Date.now()}`,
      VPC: { VPCId: vpc.Vpc!.VpcId!, VPCRegion: 'us-east-1' },
      HostedZoneConfig: { PrivateZone: true },
    }),
  );
  zoneId = zone.HostedZone!.Id!; // "/hostedzone/Z…": the function must accept CloudFormation's form
  await r53.send(
    new ChangeResourceRecordSetsCommand({
      HostedZoneId: zoneId,
      ChangeBatch: { Changes: [{ Action: 'UPSERT', ResourceRecordSet: { Name: RECORD, Type: 'CNAME', TTL: 5, ResourceRecords: [{ Value: ENDPOINT.blue }] } }] },
    }),
  );
  const secret = async (name: string, value: object) => (await sm.send(new CreateSecretCommand({ Name: name, SecretString: JSON.stringify(value) }))).ARN!;
  const master = (s: PgServer) => ({ username: 'postgres', password: s.password, engine: 'postgres', host: '127.0.0.1', port: s.port, dbname: 'postgres' });
  const [blueArn, greenArn, appArn] = await Promise.all([
    secret('secret-db-blue-hx', master(b)),
    secret('secret-db-green-hx', master(g)),
    secret('secret-db-app-hx', { username: 'bgmig_app', password: APP_PASSWORD }),
  ]);
  await new S3Client({ ...cfg, forcePathStyle: true }).send(new CreateBucketCommand({ Bucket: BUCKET }));
  Object.assign(process.env, {
    ...moto.env,
    [CutoverEnv.ArtifactsBucket]: BUCKET,
    [CutoverEnv.BlueSecretArn]: blueArn,
    [CutoverEnv.GreenSecretArn]: greenArn,
    [CutoverEnv.AppSecretArn]: appArn,
    [CutoverEnv.HostedZoneId]: zoneId,
    [CutoverEnv.DbRecordName]: RECORD,
    [CutoverEnv.BlueClusterEndpoint]: ENDPOINT.blue,
    [CutoverEnv.GreenClusterEndpoint]: ENDPOINT.green,
    BGMIG_DB_SSL: 'disable',
    POWERTOOLS_LOG_LEVEL: 'INFO',
  });
  // Capture the function's structured logs (Powertools writes JSON lines to stdout).
  const orig = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    logged.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString());
    return (orig as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stdout.write;
  restoreStdout = () => (process.stdout.write = orig);
  // The VPC resolver of the function is played by moto's record (node:dns cannot see a private zone here).
  const { makeHandler } = await import('../../src/lambda/db-cutover.js');
  handler = makeHandler({ resolveCname: vpcResolver }) as unknown as typeof handler;
});

afterAll(async () => {
  restoreStdout?.();
  await Promise.all([servers?.blue.stop(), servers?.green.stop(), moto?.stop()]);
});

describe('cutover function handler (local PostgreSQL, moto Route 53 + Secrets Manager)', () => {
  it('reads the active database from the record', async () => {
    const r = await call<ActiveReport>('active');
    expect(r.report).toMatchObject({ color: 'blue', state: 'blue', value: ENDPOINT.blue, ttl: 5, endpoints: ENDPOINT });
  });

  it('init: the application role from the app secret on both servers, loginable on both', async () => {
    const r = await call<{ blue: { roleCreated: boolean; loginVerified: boolean }; green: { roleCreated: boolean; loginVerified: boolean } }>('init', {
      schemas: ['public'],
    });
    expect(r.report.blue).toMatchObject({ roleCreated: true, loginVerified: true });
    expect(r.report.green).toMatchObject({ roleCreated: true, loginVerified: true });
    for (const color of ['blue', 'green'] as const) {
      const c = appClient(color);
      await c.connect();
      expect((await c.query('SELECT current_user AS u')).rows[0].u).toBe('bgmig_app');
      await c.end();
    }
    // The application's schema (as migrations would create it, same on both sides).
    for (const s of [servers.blue, servers.green]) {
      await s.sql('CREATE TABLE public.items (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, k text NOT NULL, v text)', 'app');
    }
    await servers.blue.sql("INSERT INTO public.items (k, v) SELECT 'seed-' || g, 'seed' FROM generate_series(1, 500) g", 'app');
  });

  let writers: ReturnType<typeof startWriters>;

  it('sync start: replication blue → green, record unchanged', async () => {
    const r = await call<{ direction: string; active: Color }>('syncStart', { schemas: ['public'] });
    expect(r.report).toMatchObject({ direction: 'blue_to_green', active: 'blue' });
    expect(r.dns).toMatchObject({ color: 'blue' });
    await waitStreaming();
    expect((await keysOn('green')).size).toBe(500);
    expect(await readRecord()).toBe(ENDPOINT.blue);
    expect(await canWrite('blue')).toBe(true);
    expect(await canWrite('green')).toBe(false);
  });

  it('a Route 53 failure after the unfence: green active and writable, blue stays fenced; re-running the cutover retries the record (the forward path)', async () => {
    const { makeHandler } = await import('../../src/lambda/db-cutover.js');
    const real = new Route53Client({ region: 'us-east-1', endpoint: moto.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
    const send = real.send.bind(real) as (cmd: unknown) => Promise<unknown>;
    let refused = 0;
    // Refuse the UPSERT to green (a fault moto cannot produce).
    (real as unknown as { send: (cmd: unknown) => Promise<unknown> }).send = async (cmd: unknown) => {
      const c = cmd as {
        constructor: { name: string };
        input?: { ChangeBatch?: { Changes?: Array<{ ResourceRecordSet?: { ResourceRecords?: Array<{ Value?: string }> } }> } };
      };
      if (
        c.constructor.name === 'ChangeResourceRecordSetsCommand' &&
        c.input?.ChangeBatch?.Changes?.[0]?.ResourceRecordSet?.ResourceRecords?.[0]?.Value === ENDPOINT.green
      ) {
        refused++;
        throw Object.assign(new Error('User is not authorized to perform route53:ChangeResourceRecordSets'), { name: 'AccessDenied' });
      }
      return send(cmd);
    };
    const h = makeHandler({ dnsRecords: dnsRecordsOver(async () => real), resolveCname: vpcResolver });
    const r = await h({ operation: 'cutover', options: { maxPauseMs: 10_000 } });
    expect(refused).toBeGreaterThanOrEqual(1);
    expect(r.ok).toBe(false);
    // Exactly one side takes writes: green (which holds everything); blue stays fenced; nothing is undone.
    expect((r as CutoverFailure).error.message).toMatch(/made green active and writable \(blue stays fenced\).*not authorized.*run `bgmig db cutover` again/);
    expect(await readRecord()).toBe(ENDPOINT.blue);
    expect(await canWrite('green')).toBe(true);
    expect(await canWrite('blue')).toBe(false);
    // The forward path: the same operation again, with Route 53 answering.
    const again = await call<SwitchReport>('cutover', { maxPauseMs: 10_000 });
    expect(again.report).toMatchObject({ outcome: 'completed', active: 'green', resumed: true });
    expect(await readRecord()).toBe(ENDPOINT.green);
    // Back to blue for what follows.
    expect((await call<SwitchReport>('rollback', { maxPauseMs: 10_000 })).report).toMatchObject({ outcome: 'completed', active: 'blue' });
    expect(await readRecord()).toBe(ENDPOINT.blue);
    expect(await canWrite('blue')).toBe(true);
    expect(await canWrite('green')).toBe(false);
    await waitStreaming();
  });

  it('Route 53 propagation is outside the write pause: with the change PENDING for 3 s, green takes writes before it is INSYNC', async () => {
    const { makeHandler } = await import('../../src/lambda/db-cutover.js');
    const real = new Route53Client({ region: 'us-east-1', endpoint: moto.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
    const send = real.send.bind(real) as (cmd: unknown) => Promise<unknown>;
    const PENDING_MS = 3_000;
    let upsertAt = 0;
    let insyncAt = 0;
    // moto answers INSYNC at once; AWS does not. This client keeps the change PENDING for 3 s (fault injection).
    (real as unknown as { send: (cmd: unknown) => Promise<unknown> }).send = async (cmd: unknown) => {
      const c = cmd as { constructor: { name: string }; input?: { Id?: string } };
      if (c.constructor.name === 'ChangeResourceRecordSetsCommand') {
        const out = (await send(cmd)) as { ChangeInfo: Record<string, unknown> };
        upsertAt = performance.now();
        return { ...out, ChangeInfo: { ...out.ChangeInfo, Status: 'PENDING' } };
      }
      if (c.constructor.name === 'GetChangeCommand') {
        const done = performance.now() - upsertAt >= PENDING_MS;
        if (done && insyncAt === 0) insyncAt = performance.now();
        return { ChangeInfo: { Id: c.input?.Id, Status: done ? 'INSYNC' : 'PENDING', SubmittedAt: new Date() } };
      }
      return send(cmd);
    };
    // The VPC's resolver keeps serving the old answer until the change is in sync.
    const resolver = async () => (insyncAt > 0 ? vpcResolver() : [ENDPOINT.blue]);
    const h = makeHandler({ dnsRecords: dnsRecordsOver(async () => real), resolveCname: resolver, switchPollMs: 100 });
    let firstGreenWrite = 0;
    let probing = true;
    const probe = (async () => {
      while (probing) {
        if (firstGreenWrite === 0 && (await canWrite('green'))) firstGreenWrite = performance.now();
        await new Promise((res) => setTimeout(res, 25));
      }
    })();
    const r = await h({ operation: 'cutover', options: { maxPauseMs: 2_000 } });
    probing = false;
    await probe;
    expect(r.ok, JSON.stringify((r as CutoverFailure).error)).toBe(true);
    const report = (r as CutoverSuccess).report as SwitchReport;
    expect(report).toMatchObject({ outcome: 'completed', active: 'green' });
    // The write pause (fence → unfence) is far below the 3 s the change stayed PENDING, and within --max-pause 2 s.
    expect(report.pauseMs as number).toBeLessThan(2_000);
    expect(insyncAt).toBeGreaterThan(0);
    expect(firstGreenWrite).toBeGreaterThan(0);
    expect(firstGreenWrite).toBeLessThan(insyncAt);
    // The unfence is a step before the switch; clients resolve the new writer only after the PENDING time.
    const names = report.steps.map((x) => x.step);
    expect(names.indexOf('unfence green')).toBeLessThan(names.indexOf('switch'));
    expect(report.clientsFollowMs as number).toBeGreaterThanOrEqual(PENDING_MS - 100);
    expect(report.clientsFollowMs as number).toBeGreaterThan(report.pauseMs as number);
    expect(report.steps.find((x) => x.step === 'switch')?.detail).toMatch(/INSYNC after \d+ ms, resolved in the VPC \d+ ms after INSYNC/);
    console.info(`write pause ${report.pauseMs} ms; clients resolve green ${report.clientsFollowMs} ms after the fence (change PENDING ${PENDING_MS} ms)`);
    expect(await readRecord()).toBe(ENDPOINT.green);
    expect(await canWrite('blue')).toBe(false);
    // Back to blue for what follows.
    expect((await call<SwitchReport>('rollback', { maxPauseMs: 10_000 })).report).toMatchObject({ outcome: 'completed', active: 'blue' });
    await waitStreaming();
  });

  it('cutover under concurrent application writes: record names green, green writable, blue not', async () => {
    writers = startWriters(4);
    await new Promise((r) => setTimeout(r, 700));
    const before = writers.acked.length;
    const r = await call<SwitchReport>('cutover', { maxPauseMs: 10_000 });
    expect(r.report).toMatchObject({ operation: 'cutover', outcome: 'completed', active: 'green' });
    expect(await readRecord()).toBe(ENDPOINT.green);
    expect(r.dns).toMatchObject({ color: 'green', value: ENDPOINT.green });
    expect(await canWrite('green')).toBe(true);
    expect(await canWrite('blue')).toBe(false);
    await new Promise((r2) => setTimeout(r2, 700));
    expect(writers.acked.length).toBeGreaterThan(before);
    // Writes land on green now (the writers followed the record).
    const last = writers.acked[writers.acked.length - 1];
    expect((await keysOn('green')).has(last)).toBe(true);
    console.info(`cutover pause ${r.report.pauseMs} ms, ${writers.acked.length} acknowledged writes so far`);
  });

  it('rollback: record names blue again; every acknowledged write is on both sides', async () => {
    const r = await call<SwitchReport>('rollback', { maxPauseMs: 10_000 });
    expect(r.report).toMatchObject({ operation: 'rollback', outcome: 'completed', active: 'blue' });
    expect(await readRecord()).toBe(ENDPOINT.blue);
    expect(await canWrite('blue')).toBe(true);
    expect(await canWrite('green')).toBe(false);
    await new Promise((r2) => setTimeout(r2, 700));
    await writers.stop();
    const acked = [...writers.acked];
    expect(acked.length).toBeGreaterThan(50);
    expect(writers.errors).toEqual([]); // identity values never collided across the switches
    const onBlue = await keysOn('blue');
    expect(acked.filter((k) => !onBlue.has(k))).toEqual([]);
    const onGreen = await waitKeys('green', acked);
    expect(acked.filter((k) => !onGreen.has(k))).toEqual([]);
    const counts = await Promise.all(
      ['blue', 'green'].map((c) => servers[c as Color].sql("SELECT count(*)::int AS n FROM public.items WHERE k NOT LIKE 'probe-%'", 'app')),
    );
    expect(counts[0].rows[0].n).toBe(counts[1].rows[0].n);
    console.info(`rollback pause ${r.report.pauseMs} ms, ${acked.length} acknowledged writes, all on both sides`);
  });

  it('syncRefresh: a table created on both sides after sync start is published, and the function starts its copy (REPL-LIVE)', async () => {
    for (const c of ['blue', 'green'] as const)
      await servers[c].sql('BEGIN READ WRITE; CREATE TABLE public.late_table (id int PRIMARY KEY, v text); COMMIT', 'app');
    await servers.blue.sql(`INSERT INTO public.late_table VALUES (1, 'a'), (2, 'b'), (3, 'c')`, 'app');
    const r = await call<{ added: string[]; recopied: string[]; copy: { finished: boolean } | null }>('syncRefresh', {});
    expect(r.report.added).toEqual(['public.late_table']);
    expect(r.report.recopied).toEqual([]);
    const until = Date.now() + 20_000;
    let n = 0;
    while (Date.now() < until && n < 3) {
      n = (await servers.green.sql('SELECT count(*)::int AS n FROM public.late_table', 'app')).rows[0].n as number;
      if (n < 3) await new Promise((res) => setTimeout(res, 100));
    }
    expect(n).toBe(3);
  });

  it('sync stop: replication objects gone, blue active and writable, record unchanged', async () => {
    const r = await call<{ active: Color }>('syncStop', {});
    expect(r.report.active).toBe('blue');
    expect(await readRecord()).toBe(ENDPOINT.blue);
    expect(await canWrite('blue')).toBe(true);
    for (const s of [servers.blue, servers.green]) {
      const x = await s.sql(
        'SELECT (SELECT count(*) FROM pg_subscription)::int AS subs, (SELECT count(*) FROM pg_replication_slots)::int AS slots, (SELECT count(*) FROM pg_publication)::int AS pubs',
        'app',
      );
      expect(x.rows[0]).toEqual({ subs: 0, slots: 0, pubs: 0 });
    }
  });

  it('a secret without host: the function connects to the cluster endpoint from the environment (init re-run on a fenced green keeps it fenced)', async () => {
    const { makeHandler } = await import('../../src/lambda/db-cutover.js');
    const sm = new SecretsManagerClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
    const noHost = await sm.send(
      new CreateSecretCommand({
        Name: 'secret-db-blue-nohost',
        SecretString: JSON.stringify({ username: 'postgres', password: servers.blue.password, port: servers.blue.port }),
      }),
    );
    const h = makeHandler({ env: { ...process.env, [CutoverEnv.BlueSecretArn]: noHost.ARN!, [CutoverEnv.BlueClusterEndpoint]: '127.0.0.1' } });
    const r = await h({ operation: 'init', options: {} });
    expect(r.ok ? 'ok' : r.error.message).toBe('ok');
    // Green is still fenced after sync stop (passive): a re-run of init must not let the application in there.
    const report = (r as CutoverSuccess).report as {
      blue: { fenced: boolean; loginVerified: boolean | null };
      green: { fenced: boolean; loginVerified: boolean | null };
    };
    expect(report.green).toMatchObject({ fenced: true, loginVerified: null });
    expect(report.blue).toMatchObject({ fenced: false, loginVerified: true });
    expect(await canWrite('green')).toBe(false);
    expect(await canWrite('blue')).toBe(true);
    const bad = makeHandler({
      env: { ...process.env, [CutoverEnv.BlueSecretArn]: noHost.ARN!, [CutoverEnv.BlueClusterEndpoint]: 'aurora-blue-nohost.invalid' },
    });
    const f = await bad({ operation: 'init', options: {} });
    expect(f.ok).toBe(false);
    if (!f.ok) expect(f.error.message).toMatch(/aurora-blue-nohost\.invalid/);
  });

  it('failures are structured results, one sentence, never a password', async () => {
    const unknown = await handler({ operation: 'explode', options: {} });
    expect(unknown).toMatchObject({ ok: false, error: { exitCode: 2 } });

    const { makeHandler } = await import('../../src/lambda/db-cutover.js');
    const missing = await makeHandler({ env: { ...process.env, [CutoverEnv.HostedZoneId]: '' } })({ operation: 'syncStatus', options: {} });
    expect(missing).toMatchObject({
      ok: false,
      error: { exitCode: 1, message: expect.stringMatching(/has no HOSTED_ZONE_ID environment variable: redeploy the stack/) },
    });

    const noSecret = await makeHandler({
      env: { ...process.env, [CutoverEnv.GreenSecretArn]: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:nope-AbCdEf' },
    })({ operation: 'cutover', options: {} });
    expect(noSecret).toMatchObject({
      ok: false,
      error: { message: expect.stringMatching(/could not read the green master secret \(ResourceNotFoundException/) },
    });

    const sm = new SecretsManagerClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
    const wrongPw = 'Wrong-Master-Pw-5521';
    const bad = await sm.send(
      new CreateSecretCommand({
        Name: 'secret-db-green-bad',
        SecretString: JSON.stringify({ username: 'postgres', password: wrongPw, host: '127.0.0.1', port: servers.green.port }),
      }),
    );
    const r = await makeHandler({ env: { ...process.env, [CutoverEnv.GreenSecretArn]: bad.ARN! } })({ operation: 'cutover', options: {} });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.message).toMatch(/rejected the credentials/);
      expect(r.error.message.split('\n')).toHaveLength(1);
      expect(JSON.stringify(r)).not.toContain(wrongPw);
    }
    const otherUser = await sm.send(
      new CreateSecretCommand({ Name: 'secret-db-app-other', SecretString: JSON.stringify({ username: 'someone', password: 'Some-Pw-12345' }) }),
    );
    const wrongUser = await makeHandler({ env: { ...process.env, [CutoverEnv.AppSecretArn]: otherUser.ARN! } })({ operation: 'init', options: {} });
    expect(wrongUser).toMatchObject({
      ok: false,
      error: { exitCode: 1, message: 'The application secret names user "someone" but bgmig manages "bgmig_app": fix the secret\'s username.' },
    });

    // Without the knob the function insists on TLS: a plain-TCP server is refused, not silently used.
    const tlsEnv = { ...process.env };
    delete tlsEnv.BGMIG_DB_SSL;
    const tls = await makeHandler({ env: tlsEnv })({ operation: 'syncStatus', options: {} });
    expect(tls.ok).toBe(true);
    const st = (tls as CutoverSuccess).report as SyncStatusReport;
    expect(st.sides.blue.reachable).toBe(false);
    expect(st.sides.blue.error).toMatch(/TLS to postgres@127\.0\.0\.1:\d+\/app failed \(The server does not support SSL connections\)/);

    const thrown = await makeHandler({ env: { ...process.env, BGMIG_DB_SSL: 'sometimes' } })({ operation: 'syncStatus', options: {} });
    expect(thrown).toMatchObject({ ok: false, error: { message: expect.stringMatching(/BGMIG_DB_SSL="sometimes" is not supported/) } });
  });

  it('the shipped bundle (dist/lambda/db-cutover/index.mjs) loads and runs: active, syncStatus, init', async () => {
    // A private copy: other test runs rebuild dist/ concurrently.
    const src = path.join(REPO_ROOT, 'dist', 'lambda', 'db-cutover', 'index.mjs');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bgmig-dbc-bundle-'));
    const copy = path.join(dir, 'index.mjs');
    for (let i = 0; ; i++) {
      try {
        copyFileSync(src, copy);
        break;
      } catch (e) {
        if (i >= 20) throw e;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    try {
      // Run it in its own Node process, as Lambda does (and without the test runner's module transform).
      const script = `const { handler } = await import(${JSON.stringify(pathToFileURL(copy).href)});
        const out = [];
        for (const event of JSON.parse(process.argv[1])) out.push(await handler(event));
        process.stderr.write(JSON.stringify(out));`;
      const events = [
        { operation: 'active', options: {} },
        { operation: 'syncStatus', options: {} },
        { operation: 'init', options: {} },
      ];
      const t0 = Date.now();
      const { stderr, stdout } = await execFileAsync(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(events)], {
        env: process.env,
        maxBuffer: 20 * 1024 * 1024,
      });
      const [active, status, init] = JSON.parse(stderr.slice(stderr.indexOf('[{'))) as CutoverResult[];
      expect(active).toMatchObject({ ok: true, report: { color: 'blue', value: ENDPOINT.blue } });
      expect(status).toMatchObject({ ok: true, operation: 'syncStatus', report: { active: 'blue' } });
      expect(init).toMatchObject({ ok: true, report: { blue: { roleCreated: false, loginVerified: true } } });
      // Its logs: structured JSON lines, no secret anywhere.
      const lines = stdout.split('\n').filter((l) => l.startsWith('{'));
      expect(lines.length).toBeGreaterThan(3);
      for (const l of lines) expect(JSON.parse(l)).toMatchObject({ service: 'bgmig-db-cutover' });
      for (const secret of [servers.blue.password, servers.green.password, APP_PASSWORD]) expect(stdout + stderr).not.toContain(secret);
      console.info(
        `bundle process: ${Date.now() - t0} ms for 3 invocations (active ${active.durationMs} ms, syncStatus ${status.durationMs} ms, init ${init.durationMs} ms)`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('every state-changing operation left an audit record in journal/, failures included, with no password', async () => {
    const s3 = new S3Client({
      region: 'us-east-1',
      endpoint: moto.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    });
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'journal/' }));
    const keys = (listed.Contents ?? []).map((o) => o.Key!).sort();
    const docs = await Promise.all(
      keys.map(async (Key) => (await (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key }))).Body!.transformToString()) as string),
    );
    const records = docs.map((d) => JSON.parse(d) as CutoverResult & { requestId?: string; recordedAt: string });
    const ops = records.map((r) => r.operation);
    for (const op of ['init', 'syncStart', 'cutover', 'rollback', 'syncRefresh', 'syncStop']) expect(ops, keys.join(', ')).toContain(op);
    // Reads leave no record.
    expect(ops).not.toContain('syncStatus');
    expect(ops).not.toContain('active');
    // The cutover whose Route 53 change failed after the unfence is on record as a failure, beside the completed
    // ones (the one that finished it is marked resumed).
    const cutovers = records.filter((r) => r.operation === 'cutover');
    expect(
      cutovers
        .filter((c) => !c.ok)
        .map((c) => (c as CutoverFailure).error.message)
        .join(' '),
    ).toMatch(/made green active and writable \(blue stays fenced\)/);
    const done = cutovers.filter((c) => c.ok).map((c) => (c as unknown as CutoverSuccess).report as SwitchReport);
    expect(done.map((r) => r.outcome)).toEqual(expect.arrayContaining(['completed']));
    expect(done.some((r) => r.resumed)).toBe(true);
    for (const k of keys) expect(k).toMatch(/^journal\/\d{4}-\d\d-\d\dT[\d-]+Z-[a-zA-Z]+\.json$/);
    const all = docs.join('\n');
    for (const secret of [APP_PASSWORD, servers.blue.password, servers.green.password]) expect(all).not.toContain(secret);
  });

  it('the function logged structured JSON and never a password', () => {
    const lines = logged
      .join('')
      .split('\n')
      .filter((l) => l.includes('"service":"bgmig-db-cutover"'));
    expect(lines.length).toBeGreaterThan(10);
    for (const l of lines) expect(() => JSON.parse(l)).not.toThrow();
    const all = logged.join('');
    for (const secret of [servers.blue.password, servers.green.password, APP_PASSWORD, 'Wrong-Master-Pw-5521']) expect(all).not.toContain(secret);
    expect(lines.some((l) => l.includes('"message":"database record switched"'))).toBe(true);
  });
});
