/**
 * The database switch in AWS mode: the Route 53 private record (names(s).dbRecord, a CNAME with TTL 5 s) that both
 * services use to reach the active database. Writing it (UPSERT to the active cluster's writer endpoint, then
 * waiting until Route 53 reports the change INSYNC, bounded) is the cutover's switch step; reading it back tells
 * which colour is live — the cutover function, `deploy` (preserve the live database), `promote` and `status` use it.
 *
 * Everything takes the DnsRecords port (src/aws/ports.ts) so the Lambda (its own client) and the CLI share it.
 */
import { DB_RECORD_TTL_SECONDS } from '../core/config.js';
import type { DnsRecords } from '../aws/ports.js';
import { failure } from '../core/errors.js';
import type { Color } from '../core/naming.js';
import { OutputKey } from '../core/outputs.js';
import { sleep } from '../core/sleep.js';

export interface DbRecordRef {
  /** Z123… or /hostedzone/Z123… (as CloudFormation outputs it). */
  hostedZoneId: string;
  /** db.{suffix}.bgmig.internal (with or without the trailing dot). */
  recordName: string;
}

/** Writer endpoints of the two clusters (stack outputs Blue/GreenClusterEndpoint). */
export interface ClusterEndpoints {
  blue: string;
  green: string;
}

export interface DbRecord {
  name: string;
  type: string;
  ttl: number | undefined;
  /** The CNAME target without its trailing dot. */
  value: string;
}

/** The db record as read from Route 53, and the colour it names. */
export interface ActiveDatabaseRecord {
  recordName: string;
  /** What the record points at today; undefined when the record does not exist. */
  value: string | undefined;
  ttl: number | undefined;
  /** The colour whose writer endpoint the record names; undefined when missing or pointing elsewhere. */
  color: Color | undefined;
  state: 'blue' | 'green' | 'missing' | 'unknown';
}

export interface RecordSwitchResult {
  recordName: string;
  value: string;
  ttl: number;
  changeId: string;
  /** INSYNC when Route 53 confirmed the change within the bound. */
  status: string;
  /** From the UPSERT to INSYNC. */
  waitedMs: number;
}

export interface RecordSwitchOptions {
  ttl?: number;
  /** Upper bound on waiting for INSYNC (default 60 s). */
  waitTimeoutMs?: number;
  /** GetChange poll interval (default 1 s; Route 53 usually reports INSYNC within seconds). */
  pollMs?: number;
  comment?: string;
}

/** Z123 from /hostedzone/Z123. */
export function normalizeZoneId(id: string): string {
  return id.replace(/^\/?hostedzone\//, '');
}

/** Lowercase, no trailing dot: how record names and CNAME targets are compared. */
export function normalizeHost(name: string): string {
  return name.trim().replace(/\.$/, '').toLowerCase();
}

/** Which colour a CNAME target names (by the clusters' writer endpoints), or undefined. */
export function colorOfEndpoint(value: string | undefined, endpoints: ClusterEndpoints): Color | undefined {
  if (value === undefined) return undefined;
  const v = normalizeHost(value);
  if (v === normalizeHost(endpoints.blue)) return 'blue';
  if (v === normalizeHost(endpoints.green)) return 'green';
  return undefined;
}

/** Reads the CNAME record; undefined when it does not exist. */
export async function readDbRecord(r53: DnsRecords, ref: DbRecordRef): Promise<DbRecord | undefined> {
  const want = normalizeHost(ref.recordName);
  const rr = await r53.firstFrom(normalizeZoneId(ref.hostedZoneId), want, 'CNAME');
  if (!rr || normalizeHost(rr.Name ?? '') !== want || rr.Type !== 'CNAME') return undefined;
  const value = rr.ResourceRecords?.[0]?.Value;
  if (value === undefined) return undefined;
  return { name: want, type: rr.Type, ttl: rr.TTL, value: normalizeHost(value) };
}

/** Reads the live active database: the record and the colour it names. */
export async function readActiveDatabase(r53: DnsRecords, ref: DbRecordRef, endpoints: ClusterEndpoints): Promise<ActiveDatabaseRecord> {
  const rec = await readDbRecord(r53, ref);
  const color = colorOfEndpoint(rec?.value, endpoints);
  return {
    recordName: normalizeHost(ref.recordName),
    value: rec?.value,
    ttl: rec?.ttl,
    color,
    state: rec === undefined ? 'missing' : (color ?? 'unknown'),
  };
}

/** The record reference and endpoints from the bgmig stack's outputs (throws naming the missing output). */
export function dbRecordFromOutputs(outputs: Partial<Record<string, string>>, stackName = 'the stack'): { ref: DbRecordRef; endpoints: ClusterEndpoints } {
  const get = (k: OutputKey): string => {
    const v = outputs[k];
    if (v === undefined || v === '') {
      throw failure(`${stackName} has no output ${k}: it was deployed by an older bgmig — redeploy it with \`bgmig deploy\`.`);
    }
    return v;
  };
  return {
    ref: { hostedZoneId: get(OutputKey.HostedZoneId), recordName: get(OutputKey.DbRecordName) },
    endpoints: { blue: get(OutputKey.BlueClusterEndpoint), green: get(OutputKey.GreenClusterEndpoint) },
  };
}

/** "Read the live active database" for commands that hold the stack outputs (deploy, promote, status). */
export async function readActiveDatabaseFromOutputs(
  r53: DnsRecords,
  outputs: Partial<Record<string, string>>,
  stackName?: string,
): Promise<ActiveDatabaseRecord> {
  const { ref, endpoints } = dbRecordFromOutputs(outputs, stackName);
  return readActiveDatabase(r53, ref, endpoints);
}

/** UPSERTs the CNAME to `host` (TTL 5 s) and waits, bounded, until Route 53 reports the change INSYNC. */
export async function upsertDbRecord(r53: DnsRecords, ref: DbRecordRef, host: string, opts: RecordSwitchOptions = {}): Promise<RecordSwitchResult> {
  // The record's TTL is short, so applications that resolve at connect follow a switch within seconds.
  const ttl = opts.ttl ?? DB_RECORD_TTL_SECONDS;
  const waitTimeoutMs = opts.waitTimeoutMs ?? 60_000;
  const pollMs = opts.pollMs ?? 1_000;
  const value = normalizeHost(host);
  const recordName = normalizeHost(ref.recordName);
  const started = Date.now();
  const res = await r53.upsert(
    normalizeZoneId(ref.hostedZoneId),
    { Name: recordName, Type: 'CNAME', TTL: ttl, ResourceRecords: [{ Value: value }] },
    opts.comment ?? `bgmig: ${recordName} -> ${value}`,
  );
  const changeId = res.id;
  let status = res.status ?? 'PENDING';
  while (status !== 'INSYNC') {
    if (Date.now() - started >= waitTimeoutMs) {
      throw failure(
        `Route 53 change ${changeId} (${recordName} -> ${value}) was still ${status} after ${Math.round(waitTimeoutMs / 1000)} s: the record is written but not yet confirmed everywhere — check it with \`bgmig db sync status\`.`,
      );
    }
    await sleep(Math.min(pollMs, Math.max(0, waitTimeoutMs - (Date.now() - started))));
    status = (await r53.change(changeId)).status ?? status;
  }
  return { recordName, value, ttl, changeId, status, waitedMs: Date.now() - started };
}

/**
 * Switches the record to `color`'s writer endpoint, waits for INSYNC and reads it back: fails (one sentence) when
 * the read-back does not name that endpoint.
 */
export async function switchActiveDatabase(
  r53: DnsRecords,
  ref: DbRecordRef,
  endpoints: ClusterEndpoints,
  color: Color,
  opts: RecordSwitchOptions = {},
): Promise<RecordSwitchResult & { color: Color }> {
  const host = endpoints[color];
  if (!host) throw failure(`No writer endpoint is known for the ${color} cluster: the switch cannot be made.`);
  const result = await upsertDbRecord(r53, ref, host, opts);
  const back = await readDbRecord(r53, ref);
  if (back?.value !== normalizeHost(host)) {
    throw failure(
      `Route 53 reports the change INSYNC but ${result.recordName} reads back as ${back?.value ?? 'missing'} instead of ${normalizeHost(host)}: check the hosted zone ${normalizeZoneId(ref.hostedZoneId)}.`,
    );
  }
  return { ...result, color };
}

/** Answers the CNAME targets of a name, as the VPC's resolver sees it (node:dns; injectable for tests). */
export type CnameResolver = (name: string) => Promise<string[]>;

export interface ResolveWait {
  /** performance.now() when the resolver first answered the expected host; undefined if it did not in time. */
  resolvedAt: number | undefined;
  /** From the call to that answer (or to giving up). */
  waitedMs: number;
  /** The last answer (normalized), or the last resolver error code. */
  last: string;
}

/**
 * Polls the resolver until `name` resolves to `expected` (what clients inside the VPC then get), bounded. Never
 * throws: it is a measurement of what clients see, made after the record change was confirmed INSYNC
 * (https://docs.aws.amazon.com/Route53/latest/APIReference/API_GetChange.html); resolvers may still serve the old
 * answer for up to the record's TTL.
 */
export async function waitUntilResolves(
  name: string,
  expected: string,
  opts: { resolve?: CnameResolver; timeoutMs?: number; pollMs?: number } = {},
): Promise<ResolveWait> {
  const resolve: CnameResolver =
    opts.resolve ??
    (async (n) => {
      const { promises } = await import('node:dns');
      return new promises.Resolver({ timeout: 1_000, tries: 1 }).resolveCname(n);
    });
  const started = performance.now();
  const until = started + (opts.timeoutMs ?? 30_000);
  const want = normalizeHost(expected);
  let last = '';
  for (;;) {
    try {
      const answers = (await resolve(normalizeHost(name))).map(normalizeHost);
      last = answers.join(',') || 'no answer';
      if (answers.includes(want)) {
        const now = performance.now();
        return { resolvedAt: now, waitedMs: Math.round(now - started), last };
      }
    } catch (e) {
      last = (e as { code?: string }).code ?? 'resolver error';
    }
    if (performance.now() > until) return { resolvedAt: undefined, waitedMs: Math.round(performance.now() - started), last };
    await sleep(opts.pollMs ?? 200);
  }
}
