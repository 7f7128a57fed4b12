/**
 * src/dns/active-record.ts: the Route 53 switch and "which database is live", against moto (private zone, UPSERT,
 * GetChange, read-back) and with aws-sdk-client-mock for what moto cannot do (a change that stays PENDING, a
 * read-back that disagrees).
 */
import {
  ChangeResourceRecordSetsCommand,
  CreateHostedZoneCommand,
  GetChangeCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { CreateVpcCommand, EC2Client } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BgmigError } from '../../src/core/errors.js';
import { OutputKey } from '../../src/core/outputs.js';
import { dnsRecordsOver } from '../../src/aws/sdk.js';
import { colorOfEndpoint, readActiveDatabase, readActiveDatabaseFromOutputs, switchActiveDatabase, upsertDbRecord } from '../../src/dns/active-record.js';
import { startMoto, type Moto } from '../harness/moto.js';

const endpoints = { blue: 'aurora-blue-s.cluster-x.us-east-1.rds.amazonaws.com', green: 'aurora-green-s.cluster-x.us-east-1.rds.amazonaws.com' };

it('colorOfEndpoint compares without case or trailing dot', () => {
  expect(colorOfEndpoint('AURORA-GREEN-S.cluster-x.us-east-1.rds.amazonaws.com.', endpoints)).toBe('green');
  expect(colorOfEndpoint('elsewhere.example.com', endpoints)).toBeUndefined();
  expect(colorOfEndpoint(undefined, endpoints)).toBeUndefined();
});

describe('against moto', () => {
  let moto: Moto;
  let r53: Route53Client;
  const records = dnsRecordsOver(async () => r53);
  let zoneId: string;
  const record = 'db.s.bgmig.internal';
  beforeAll(async () => {
    moto = await startMoto();
    const cfg = { region: 'us-east-1', endpoint: moto.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } };
    r53 = new Route53Client(cfg);
    const vpc = await new EC2Client(cfg).send(new CreateVpcCommand({ CidrBlock: '10.8.0.0/16' }));
    const z = await r53.send(
      new CreateHostedZoneCommand({
        Name: 's.bgmig.internal',
        CallerReference: 'dns-test',
        VPC: { VPCId: vpc.Vpc!.VpcId!, VPCRegion: 'us-east-1' },
        HostedZoneConfig: { PrivateZone: true },
      }),
    );
    zoneId = z.HostedZone!.Id!;
  });
  afterAll(async () => moto?.stop());

  it('reports a missing record, then each switch reads back as the colour it names', async () => {
    const ref = { hostedZoneId: zoneId, recordName: record };
    expect(await readActiveDatabase(records, ref, endpoints)).toMatchObject({ state: 'missing', color: undefined, value: undefined });
    const g = await switchActiveDatabase(records, ref, endpoints, 'green', { pollMs: 10 });
    expect(g).toMatchObject({ color: 'green', value: endpoints.green, ttl: 5, status: 'INSYNC', recordName: record });
    expect(await readActiveDatabase(records, ref, endpoints)).toMatchObject({ state: 'green', color: 'green', value: endpoints.green, ttl: 5 });
    await switchActiveDatabase(records, { hostedZoneId: zoneId.replace('/hostedzone/', ''), recordName: `${record}.` }, endpoints, 'blue', { pollMs: 10 });
    const outputs = {
      [OutputKey.HostedZoneId]: zoneId,
      [OutputKey.DbRecordName]: record,
      [OutputKey.BlueClusterEndpoint]: endpoints.blue,
      [OutputKey.GreenClusterEndpoint]: endpoints.green,
    };
    expect(await readActiveDatabaseFromOutputs(records, outputs)).toMatchObject({ state: 'blue', color: 'blue' });
  });

  it('a record that names neither cluster is "unknown"; a stack without the outputs is one sentence', async () => {
    const ref = { hostedZoneId: zoneId, recordName: record };
    await upsertDbRecord(records, ref, 'somewhere-else.example.com', { pollMs: 10 });
    expect(await readActiveDatabase(records, ref, endpoints)).toMatchObject({ state: 'unknown', color: undefined, value: 'somewhere-else.example.com' });
    const e = await readActiveDatabaseFromOutputs(records, { [OutputKey.HostedZoneId]: zoneId }, 'bgmig-s').catch((x: unknown) => x);
    expect((e as BgmigError).message).toBe('bgmig-s has no output DbRecordName: it was deployed by an older bgmig — redeploy it with `bgmig deploy`.');
  });
});

describe('with aws-sdk-client-mock', () => {
  let mock: ReturnType<typeof mockClient>;
  const client = () => dnsRecordsOver(async () => new Route53Client({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } }));
  beforeAll(() => {
    mock = mockClient(Route53Client);
  });
  afterAll(() => mock.restore());
  const ref = { hostedZoneId: '/hostedzone/Z1', recordName: 'db.s.bgmig.internal' };

  it('polls GetChange until INSYNC', async () => {
    mock.reset();
    mock.on(ChangeResourceRecordSetsCommand).resolves({ ChangeInfo: { Id: '/change/C1', Status: 'PENDING', SubmittedAt: new Date() } });
    mock
      .on(GetChangeCommand)
      .resolvesOnce({ ChangeInfo: { Id: 'C1', Status: 'PENDING', SubmittedAt: new Date() } })
      .resolves({ ChangeInfo: { Id: 'C1', Status: 'INSYNC', SubmittedAt: new Date() } });
    const r = await upsertDbRecord(client(), ref, endpoints.green, { pollMs: 5 });
    expect(r).toMatchObject({ status: 'INSYNC', changeId: 'C1', value: endpoints.green });
    expect(mock.commandCalls(GetChangeCommand)).toHaveLength(2);
    const change = mock.commandCalls(ChangeResourceRecordSetsCommand)[0].args[0].input;
    expect(change.HostedZoneId).toBe('Z1');
    expect(change.ChangeBatch?.Changes?.[0]).toMatchObject({
      Action: 'UPSERT',
      ResourceRecordSet: { Name: 'db.s.bgmig.internal', Type: 'CNAME', TTL: 5, ResourceRecords: [{ Value: endpoints.green }] },
    });
  });

  it('a change that stays PENDING fails after the bound, in one sentence', async () => {
    mock.reset();
    mock.on(ChangeResourceRecordSetsCommand).resolves({ ChangeInfo: { Id: '/change/C2', Status: 'PENDING', SubmittedAt: new Date() } });
    mock.on(GetChangeCommand).resolves({ ChangeInfo: { Id: 'C2', Status: 'PENDING', SubmittedAt: new Date() } });
    // The change never leaves PENDING: returning at all is the bound at work, and the sentence names it.
    const e = await upsertDbRecord(client(), ref, endpoints.green, { pollMs: 20, waitTimeoutMs: 200 }).catch((x: unknown) => x);
    expect((e as BgmigError).message).toMatch(
      /^Route 53 change C2 \(db\.s\.bgmig\.internal -> aurora-green-s\.cluster-x\.us-east-1\.rds\.amazonaws\.com\) was still PENDING after 0 s: /,
    );
  });

  it('a read-back that disagrees fails the switch', async () => {
    mock.reset();
    mock.on(ChangeResourceRecordSetsCommand).resolves({ ChangeInfo: { Id: '/change/C3', Status: 'INSYNC', SubmittedAt: new Date() } });
    mock.on(ListResourceRecordSetsCommand).resolves({
      ResourceRecordSets: [{ Name: 'db.s.bgmig.internal.', Type: 'CNAME', TTL: 5, ResourceRecords: [{ Value: endpoints.blue }] }],
      IsTruncated: false,
      MaxItems: 1,
    });
    const e = await switchActiveDatabase(client(), ref, endpoints, 'green').catch((x: unknown) => x);
    expect((e as BgmigError).message).toMatch(/reads back as aurora-blue-s\.cluster-x\.us-east-1\.rds\.amazonaws\.com instead of aurora-green-s/);
  });
});

describe('waitUntilResolves (what clients in the VPC get)', () => {
  it('polls until the resolver answers the expected host (case and trailing dot ignored), through resolver errors', async () => {
    const answers: Array<string[] | Error> = [Object.assign(new Error('nodata'), { code: 'ENODATA' }), [endpoints.blue], [`${endpoints.green.toUpperCase()}.`]];
    const { waitUntilResolves } = await import('../../src/dns/active-record.js');
    let calls = 0;
    const r = await waitUntilResolves('db.s.bgmig.internal.', endpoints.green, {
      pollMs: 1,
      resolve: async (name) => {
        expect(name).toBe('db.s.bgmig.internal');
        const a = answers[Math.min(calls++, answers.length - 1)];
        if (a instanceof Error) throw a;
        return a;
      },
    });
    expect(calls).toBe(3);
    expect(r.resolvedAt).toBeGreaterThan(0);
    expect(r.last).toBe(endpoints.green);
  });

  it('gives up after its bound without throwing, saying what the resolver still answers', async () => {
    const { waitUntilResolves } = await import('../../src/dns/active-record.js');
    const r = await waitUntilResolves('db.s.bgmig.internal', endpoints.green, { pollMs: 5, timeoutMs: 40, resolve: async () => [endpoints.blue] });
    expect(r.resolvedAt).toBeUndefined();
    expect(r.last).toBe(endpoints.blue);
    expect(r.waitedMs).toBeGreaterThanOrEqual(40);
  });
});
