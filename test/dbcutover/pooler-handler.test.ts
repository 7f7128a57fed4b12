/**
 * The cutover function drives poolers' admin consoles (issue 13, AWS mode's orchestration) — in-process against two
 * real PostgreSQL 15 servers, two real PgBouncer 1.18 poolers, and Secrets Manager + Route 53 served by moto.
 *
 * What is real here: the handler resolving targets from the secrets, holding both poolers before the fence,
 * releasing them after the unfence, the Route 53 switch after that, and clients that only know the poolers seeing
 * no error. What is not: on AWS the poolers follow the db record by DNS (`dns` repoint, on paper — no resolver here
 * can move a name between two local servers), so these poolers are repointed by their ini file (`file`, the
 * mechanism proven in direct mode), selected through the handler's `poolerMechanism` dependency.
 */
import { ChangeResourceRecordSetsCommand, CreateHostedZoneCommand, ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CreateVpcCommand, EC2Client } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dnsRecordsOver, secretVersionsOver } from '../../src/aws/sdk.js';
import { CutoverEnv } from '../../src/core/lambda-env.js';
import type { Color } from '../../src/core/naming.js';
import { parsePoolerUrl } from '../../src/pooler/tier.js';
import type { CutoverResult, CutoverSuccess } from '../../src/remote/db-cutover-contract.js';
import type { SwitchReport, SyncStatusReport } from '../../src/replication/api.js';
import { startMoto, type Moto } from '../harness/moto.js';
import { startPostgres, type PgServer } from '../harness/postgres.js';
import { ADMIN_PASSWORD, startPgBouncer, type Bouncer } from '../pooler/pgbouncer.js';
import { moreAcks, startWorkload } from '../pooler/workload.js';

const ENDPOINT: Record<Color, string> = {
  blue: 'aurora-blue-px.cluster-c0ffee123456.us-east-1.rds.amazonaws.com',
  green: 'aurora-green-px.cluster-c0ffee123456.us-east-1.rds.amazonaws.com',
};
const RECORD = 'db.px.bgmig.internal';
const APP_PASSWORD = 'App-Pooled-Pw-88c1e0';

let moto: Moto;
let servers: Record<Color, PgServer>;
let poolers: Bouncer[];
let r53: Route53Client;
let handler: (event: unknown) => Promise<CutoverResult>;

async function readRecord(): Promise<string | undefined> {
  const zones = await r53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId, StartRecordName: RECORD, StartRecordType: 'CNAME', MaxItems: 1 }));
  return zones.ResourceRecordSets?.[0]?.ResourceRecords?.[0]?.Value?.replace(/\.$/, '');
}
let zoneId: string;

async function call<T>(operation: string, options: Record<string, unknown> = {}): Promise<CutoverSuccess & { report: T }> {
  const r = await handler({ operation, options });
  if (!r.ok) throw new Error(`${operation} failed: ${r.error.message}`);
  return r as CutoverSuccess & { report: T };
}

const entryPorts = async () => Promise.all(poolers.map(async (p) => (await p.entry('app'))?.port));

beforeAll(async () => {
  const [b, g, m] = await Promise.all([startPostgres({ logical: true }), startPostgres({ logical: true }), startMoto()]);
  servers = { blue: b, green: g };
  moto = m;
  const cfg = { region: 'us-east-1', endpoint: moto.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } };
  r53 = new Route53Client(cfg);
  const sm = new SecretsManagerClient(cfg);
  const vpc = await new EC2Client(cfg).send(new CreateVpcCommand({ CidrBlock: '10.7.0.0/16' }));
  zoneId = (
    await r53.send(
      new CreateHostedZoneCommand({
        Name: 'px.bgmig.internal',
        CallerReference: `p-${Date.now()}`,
        VPC: { VPCId: vpc.Vpc!.VpcId!, VPCRegion: 'us-east-1' },
        HostedZoneConfig: { PrivateZone: true },
      }),
    )
  ).HostedZone!.Id!;
  await r53.send(
    new ChangeResourceRecordSetsCommand({
      HostedZoneId: zoneId,
      ChangeBatch: { Changes: [{ Action: 'UPSERT', ResourceRecordSet: { Name: RECORD, Type: 'CNAME', TTL: 5, ResourceRecords: [{ Value: ENDPOINT.blue }] } }] },
    }),
  );
  const secret = async (name: string, value: object) => (await sm.send(new CreateSecretCommand({ Name: name, SecretString: JSON.stringify(value) }))).ARN!;
  const master = (s: PgServer) => ({ username: 'postgres', password: s.password, engine: 'postgres', host: '127.0.0.1', port: s.port, dbname: 'postgres' });
  const env = {
    ...process.env,
    [CutoverEnv.BlueSecretArn]: await secret('secret-db-blue-px', master(b)),
    [CutoverEnv.GreenSecretArn]: await secret('secret-db-green-px', master(g)),
    [CutoverEnv.AppSecretArn]: await secret('secret-db-app-px', { username: 'bgmig_app', password: APP_PASSWORD }),
    [CutoverEnv.HostedZoneId]: zoneId,
    [CutoverEnv.DbRecordName]: RECORD,
    [CutoverEnv.BlueClusterEndpoint]: ENDPOINT.blue,
    [CutoverEnv.GreenClusterEndpoint]: ENDPOINT.green,
    BGMIG_DB_SSL: 'disable',
    POWERTOOLS_LOG_LEVEL: 'WARN',
  };
  const { makeHandler } = await import('../../src/lambda/db-cutover.js');
  handler = makeHandler({
    env,
    secretVersions: secretVersionsOver(async () => sm),
    dnsRecords: dnsRecordsOver(async () => r53),
    resolveCname: async () => [(await readRecord()) ?? ''],
    poolers: async () => (poolers ?? []).map((p) => parsePoolerUrl(p.adminUrl, 'test', { BGMIG_POOLER_PASSWORD: ADMIN_PASSWORD })),
    poolerMechanism: 'file',
  }) as unknown as typeof handler;
}, 120_000);

afterAll(async () => {
  await Promise.all((poolers ?? []).map((p) => p.stop()));
  await Promise.all([servers?.blue.stop(), servers?.green.stop(), moto?.stop()]);
});

describe('cutover function with poolers', () => {
  it('init, schema, sync start, and two poolers in front of blue', async () => {
    await call('init', { schemas: ['public'] });
    for (const s of [servers.blue, servers.green]) {
      await s.sql('CREATE TABLE public.orders (id serial PRIMARY KEY, writer int NOT NULL, n int NOT NULL, note text)', 'app');
      await s.sql('GRANT SELECT, INSERT ON public.orders TO bgmig_app; GRANT USAGE ON SEQUENCE public.orders_id_seq TO bgmig_app', 'app');
    }
    await call('syncStart', { schemas: ['public'] });
    const until = Date.now() + 30_000;
    let st: SyncStatusReport;
    do {
      await new Promise((r) => setTimeout(r, 200));
      st = (await call<SyncStatusReport>('syncStatus')).report;
    } while (!(st.state === 'streaming' && st.healthy) && Date.now() < until);
    expect(st.state).toBe('streaming');
    const opts = { databases: { app: { host: '127.0.0.1', port: servers.blue.port, dbname: 'app' } }, users: { bgmig_app: APP_PASSWORD } };
    poolers = await Promise.all([startPgBouncer(opts), startPgBouncer(opts)]);
  });

  it('cutover then rollback with clients on the poolers: held, repointed, released before the record moves; no client error, nothing lost', async () => {
    const w = startWorkload(
      poolers.map((p) => p.url('app', 'bgmig_app', APP_PASSWORD)),
      { writers: 4, readers: 2 },
    );
    let cut: SwitchReport;
    let back: SwitchReport;
    try {
      await moreAcks(w, 100);
      const c = await call<SwitchReport>('cutover', { maxPauseMs: 10_000 });
      cut = c.report;
      expect(cut).toMatchObject({ outcome: 'completed', active: 'green' });
      expect(await entryPorts()).toEqual([servers.green.port, servers.green.port]);
      expect(await readRecord()).toBe(ENDPOINT.green);
      expect(JSON.stringify(c)).not.toContain(ADMIN_PASSWORD);
      await moreAcks(w, 100);
      back = (await call<SwitchReport>('rollback', { maxPauseMs: 10_000 })).report;
      expect(back).toMatchObject({ outcome: 'completed', active: 'blue' });
      expect(await entryPorts()).toEqual([servers.blue.port, servers.blue.port]);
      expect(await readRecord()).toBe(ENDPOINT.blue);
      await moreAcks(w, 100);
    } finally {
      await w.stop();
    }
    expect(w.errors).toEqual([]);
    for (const r of [cut, back]) {
      const steps = r.steps.map((s) => s.step);
      expect(steps.indexOf('hold clients')).toBeLessThan(steps.findIndex((s) => s.startsWith('fence ')));
      expect(steps.findIndex((s) => s.startsWith('unfence '))).toBeLessThan(steps.indexOf('switch'));
      // Released first (clients follow at the RESUME), then the record.
      expect(r.steps.find((s) => s.step === 'switch')?.detail).toMatch(/^2 pooler\(s\) resumed on (green|blue) in \d+ ms; db\.px\.bgmig\.internal → .*INSYNC/);
      expect(r.holdMs).toBeGreaterThan(0);
    }
    const onBlue = new Set((await servers.blue.sql('SELECT id FROM public.orders', 'app')).rows.map((x: { id: number }) => x.id));
    expect(w.acks.filter((id) => !onBlue.has(id))).toEqual([]);
    const st = (await call<SyncStatusReport>('syncStatus')).report;
    expect(st.problems).toEqual([]);
    console.info(
      `function-driven poolers: ${w.acks.length} writes, 0 errors; cutover pause ${cut!.pauseMs} ms held ${cut!.holdMs} ms; rollback pause ${back!.pauseMs} ms held ${back!.holdMs} ms`,
    );
  });
});
