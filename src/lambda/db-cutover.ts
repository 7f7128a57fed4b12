/**
 * The cutover function `lambda-db-cutover-{suffix}`: runs the SQL side of every `bgmig db` step in AWS mode and
 * makes the switch through Route 53.
 *
 * Event `{operation, options}` (src/remote/db-cutover-contract.ts). It resolves the two admin targets from the
 * clusters' master secrets (ARNs in the environment, read at AWSCURRENT), runs the replication engine's operation
 * with a switch hook that UPSERTs the db record to the new active cluster's writer endpoint and waits for INSYNC,
 * and returns the report. Every failure becomes `{ok: false, error: {message, exitCode}}` — never an unhandled
 * exception — and logs are structured JSON (Powertools) that never carry a credential or a connection string.
 *
 * Two operations serve `rotate-secret-manual --app` in AWS mode: `setAppPassword` reads the named version of the
 * application secret (no password in the event) and applies it on both clusters with `db init`'s code (both or
 * neither, a SCRAM verifier); `checkAppLogin` logs in as the application role on both clusters with that version.
 *
 * Where it connects: to the host/port in each master secret when the secret has them (RDS-attached secrets hold
 * the cluster's writer endpoint), otherwise to the cluster endpoint from the environment; TLS verifying the RDS CA
 * (BGMIG_DB_SSL=disable only for local plain-TCP servers in tests). What the record names: always the cluster
 * endpoint from the environment — the name the applications must reach — never the connection address.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { functionDnsRecords, functionObjectStore, functionSecretVersions } from '../aws/in-function.js';
import type { DnsRecords, ObjectStore, SecretVersions } from '../aws/ports.js';
import { badInput, failure, firstLine, isBgmigError, messageOf, WHOLE_LINE } from '../core/errors.js';
import { APP_DB_NAME, APP_DB_USERNAME, CutoverEnv, requireEnv as requireLambdaEnv } from '../core/lambda-env.js';
import { ArtifactKeys } from '../core/outputs.js';
import type { Color } from '../core/naming.js';
import { scrub } from '../core/redact.js';
import { checkLogin, describeTarget, targetFromSecret, type DbTarget } from '../db/connection.js';
import { lambdaSsl } from '../db/lambda-tls.js';
import { initAppRole } from '../dbinit/app-role.js';
import {
  type ClusterEndpoints,
  type CnameResolver,
  type DbRecordRef,
  readActiveDatabase,
  switchActiveDatabase,
  waitUntilResolves,
} from '../dns/active-record.js';
import type { ClientTier, Executor, ProgressEvent, SwitchHookResult, SyncStatusReport, Targets } from '../replication/api.js';
import type { PoolerTierOptions } from '../pooler/tier.js';
import type { SecretVersionSelector } from '../schema/report.js';
import {
  type AuditRecord,
  CUTOVER_OPERATIONS,
  type CheckAppLoginReport,
  type CutoverEvent,
  type CutoverFailure,
  type CutoverOperation,
  type CutoverResult,
  type CutoverSuccess,
  type InitOptions,
  type SetAppPasswordOptions,
  type SetAppPasswordReport,
  isCutoverOperation,
} from '../remote/db-cutover-contract.js';
import { type SecretVersion, parseVersionSelector, readSecretVersion } from './secret-version.js';
import { poolerLabel, type PoolerRef } from '../pooler/admin.js';
import { PoolerEnv } from '../pooler/aws.js';

export type { CutoverEvent, CutoverResult } from '../remote/db-cutover-contract.js';

/** The subset of the Lambda context the handler uses. */
export interface LambdaContextLike {
  awsRequestId?: string;
  getRemainingTimeInMillis?: () => number;
}

export interface HandlerDeps {
  env?: NodeJS.ProcessEnv;
  secretVersions?: SecretVersions;
  dnsRecords?: DnsRecords;
  objects?: ObjectStore;
  /** Builds the engine over the two targets (default: the replication engine's LocalExecutor). */
  engine?: (targets: Targets) => Promise<Executor>;
  logger?: Logger;
  /** Upper bound on waiting for the Route 53 change to be INSYNC (default 60 s). */
  switchWaitMs?: number;
  /** GetChange poll interval (default 500 ms). */
  switchPollMs?: number;
  /** The VPC resolver's view of the db record (default node:dns); tests inject one. */
  resolveCname?: CnameResolver;
  /** Upper bound on waiting for the VPC resolver to answer the new writer after INSYNC (default 30 s). */
  resolveWaitMs?: number;
  /** The stack's pooler tasks (default: Cloud Map A records of POOLER_DISCOVERY_NAME with the admin secret). */
  poolers?: () => Promise<PoolerRef[]>;
  /**
   * How the poolers are repointed (default 'dns': their entry names the db record). Tests with local poolers use
   * 'file' (the ini rewrite proven in direct mode) to run the function's pooler orchestration end to end.
   */
  poolerMechanism?: 'dns' | 'file';
}

interface PoolerOps {
  clients: ClientTier | undefined;
  /** Refuses (exit 3, nothing changed) when a pooler cannot take part. */
  preflight(): Promise<void>;
  /** Releases poolers an earlier (killed) run left held onto `active`. */
  settle(active: Color): Promise<void>;
  /** Status: held poolers released when no switch is pending, a problem (degraded) while one is. */
  review(st: SyncStatusReport): Promise<SyncStatusReport>;
}

async function poolerOps(refs: PoolerRef[], targets: Targets, opts: PoolerTierOptions & { progress: (e: ProgressEvent) => void }): Promise<PoolerOps> {
  if (refs.length === 0) return { clients: undefined, preflight: async () => undefined, settle: async () => undefined, review: async (st) => st };
  const { PoolerTier, heldPoolerProblems, settleHeldPoolers } = await import('../pooler/tier.js');
  const settle = async (active: Color) => {
    for (const line of await settleHeldPoolers(targets, active, refs, opts)) opts.progress({ kind: 'log', level: 'info', text: line });
  };
  const tier = new PoolerTier(refs, targets, opts);
  return {
    clients: tier,
    preflight: () => tier.preflight(),
    settle,
    review: async (st) => {
      if (st.pending === null && st.active !== null) await settle(st.active);
      const held = await heldPoolerProblems(targets);
      return held.length > 0 ? { ...st, healthy: false, problems: [...st.problems, ...held] } : st;
    },
  };
}

/**
 * AWS mode's poolers (on paper: not deployed here): every task the Cloud Map name resolves to, with the admin
 * login from its secret. None when the stack was deployed without --pooler.
 */
async function stackPoolers(env: NodeJS.ProcessEnv, sm: SecretVersions): Promise<PoolerRef[]> {
  const name = env[PoolerEnv.DiscoveryName];
  const arn = env[PoolerEnv.AdminSecretArn];
  if (!name || !arn) return [];
  const admin = (await readSecretVersion(sm, arn, { versionStage: 'AWSCURRENT' }, 'cutover function', 'pooler admin')).value;
  const { promises } = await import('node:dns');
  let ips: string[];
  try {
    ips = (await promises.resolve4(name)).sort();
  } catch (e) {
    throw failure(
      `The cutover function cannot find the poolers (${name}: ${(e as { code?: string }).code ?? messageOf(e)}): check the pooler service in ECS; nothing was changed.`,
    );
  }
  const port = Number(env[PoolerEnv.Port] ?? 5432);
  return ips.map((host) => ({ host, port, user: admin.username, password: admin.password, label: poolerLabel(admin.username, host, port) }));
}

const MAX_PROGRESS = 500;

interface Resolved {
  targets: Targets;
  endpoints: ClusterEndpoints;
  record: DbRecordRef;
  passwords: string[];
}

const requireEnv = (env: NodeJS.ProcessEnv, name: string): string => requireLambdaEnv(env, name, 'cutover function');

/** One version of the application secret, checked to name the role bgmig manages. */
async function readAppSecret(env: NodeJS.ProcessEnv, sm: SecretVersions, selector: SecretVersionSelector): Promise<SecretVersion> {
  const v = await readSecretVersion(sm, requireEnv(env, CutoverEnv.AppSecretArn), selector, 'cutover function', 'application');
  if (v.value.username !== APP_DB_USERNAME) {
    throw failure(`The application secret names user "${v.value.username}" but bgmig manages "${APP_DB_USERNAME}": fix the secret's username.`);
  }
  return v;
}

function recordEnv(env: NodeJS.ProcessEnv): { endpoints: ClusterEndpoints; record: DbRecordRef } {
  return {
    endpoints: { blue: requireEnv(env, CutoverEnv.BlueClusterEndpoint), green: requireEnv(env, CutoverEnv.GreenClusterEndpoint) },
    record: { hostedZoneId: requireEnv(env, CutoverEnv.HostedZoneId), recordName: requireEnv(env, CutoverEnv.DbRecordName) },
  };
}

async function resolve(env: NodeJS.ProcessEnv, sm: SecretVersions, logger: Logger): Promise<Resolved> {
  const { endpoints, record } = recordEnv(env);
  const ssl = lambdaSsl(env);
  const arns: Record<Color, string> = { blue: requireEnv(env, CutoverEnv.BlueSecretArn), green: requireEnv(env, CutoverEnv.GreenSecretArn) };
  const [blue, green] = await Promise.all(
    (['blue', 'green'] as const).map(async (color) => {
      // Explicit stage: read exactly the current version, never one a rotation has staged AWSPENDING.
      const secret = (await readSecretVersion(sm, arns[color], { versionStage: 'AWSCURRENT' }, 'cutover function', `${color} master`)).value;
      const host = secret.host ?? endpoints[color];
      if (secret.host && secret.host.toLowerCase() !== endpoints[color].toLowerCase()) {
        logger.warn("the master secret names another host than the cluster endpoint; connecting to the secret's host", {
          color,
          secretHost: secret.host,
          clusterEndpoint: endpoints[color],
        });
      }
      const t: DbTarget = { ...targetFromSecret(secret, { host, database: APP_DB_NAME }), ssl };
      return t;
    }),
  );
  return { targets: { blue, green }, endpoints, record, passwords: [blue.password, green.password] };
}

function schemaList(v: unknown): string[] {
  if (!Array.isArray(v) || !v.every((x): x is string => typeof x === 'string')) throw badInput('The option "schemas" must be a list of schema names.');
  return v;
}

/**
 * The application role's login on both clusters with one version of its secret, at the address the function uses
 * for the cluster (the master secret's host and port) and the application database. Both are tried even when the
 * first fails, so the report says exactly which side accepts the version.
 */
async function checkAppLogin(targets: Targets, app: SecretVersion): Promise<CheckAppLoginReport> {
  const as = (t: DbTarget): DbTarget => ({ ...t, database: APP_DB_NAME, user: app.value.username, password: app.value.password });
  const [blue, green] = await Promise.all([
    checkLogin(as(targets.blue), { applicationName: 'bgmig-app-login-check' }),
    checkLogin(as(targets.green), { applicationName: 'bgmig-app-login-check' }),
  ]);
  return { operation: 'checkAppLogin', versionId: app.versionId, stages: app.stages, blue, green };
}

function loginSummary(l: CheckAppLoginReport['blue']): Record<string, unknown> {
  return l.ok ? { ok: true, latencyMs: l.latencyMs, connectRevoked: l.connectRevoked } : { ok: false, rejected: l.rejected, error: l.error };
}

async function defaultEngine(targets: Targets): Promise<Executor> {
  const { LocalExecutor } = await import('../replication/executor.js');
  return new LocalExecutor(targets);
}

function summarize(operation: CutoverOperation, report: unknown): Record<string, unknown> {
  const r = (report ?? {}) as Record<string, unknown>;
  const keep = ['outcome', 'active', 'from', 'to', 'pauseMs', 'clientsFollowMs', 'holdMs', 'state', 'healthy', 'direction', 'durationMs', 'error', 'resumed'];
  const out: Record<string, unknown> = { operation };
  for (const k of keep) if (r[k] !== undefined) out[k] = r[k];
  return out;
}

/** Operations that change something: each leaves an audit record in the artifacts bucket, succeeded or not. */
const AUDITED: ReadonlySet<string> = new Set<CutoverOperation>(['init', 'setAppPassword', 'syncStart', 'syncStop', 'syncRefresh', 'cutover', 'rollback']);

/** One invocation's running state: what the result and the scrub need whichever way the invocation ends. */
interface Invocation {
  /** Date.now() when the invocation started (durationMs counts from it). */
  started: number;
  /** The event's operation as received (may be anything until checked). */
  operation: unknown;
  /** The progress events so far, the last MAX_PROGRESS. */
  progress: ProgressEvent[];
  /** Every secret value read so far: scrubbed from logs, the report and errors. */
  known: string[];
}

/** What an operation runs with: the environment, the clients, the resolved targets and the handler's options. */
interface OperationScope {
  env: NodeJS.ProcessEnv;
  deps: HandlerDeps;
  logger: Logger;
  sm: SecretVersions;
  r53: DnsRecords;
  resolved: Resolved;
  engine: (targets: Targets) => Promise<Executor>;
  run: Invocation;
}

/** What an operation produced: its report and, after a change, the db record as read back. */
interface OperationOutcome {
  report: unknown;
  dns?: CutoverSuccess['dns'];
}

/**
 * The checked operation and options of an event. Raises a BgmigError (exit 2) for an unknown operation or options
 * that are not an object.
 */
function parseEvent(event: CutoverEvent, operation: unknown): { operation: CutoverOperation; options: Record<string, unknown> } {
  if (!isCutoverOperation(operation)) {
    throw badInput(`Unknown operation "${String(operation)}": expected one of ${CUTOVER_OPERATIONS.join(', ')}.`);
  }
  const options = (event.options ?? {}) as Record<string, unknown>;
  if (typeof options !== 'object' || Array.isArray(options)) throw badInput('The event\'s "options" must be an object.');
  return { operation, options };
}

/** `active`: the db record and which cluster it names (Route 53 only; no database, no audit). */
async function activeOperation(env: NodeJS.ProcessEnv, r53: DnsRecords, logger: Logger, run: Invocation): Promise<CutoverSuccess> {
  const { endpoints, record } = recordEnv(env);
  const report = { ...(await readActiveDatabase(r53, record, endpoints)), endpoints };
  logger.info('operation finished', { operation: 'active', record: report.value, recordColor: report.color });
  return { ok: true, operation: 'active', report, progress: run.progress, durationMs: Date.now() - run.started } as CutoverSuccess;
}

/** Resolves the two admin targets (resolve()), adds their passwords to `run.known` and logs where they are. */
async function resolveTargets(env: NodeJS.ProcessEnv, sm: SecretVersions, logger: Logger, run: Invocation): Promise<Resolved> {
  const resolved = await resolve(env, sm, logger);
  run.known = resolved.passwords;
  logger.info('targets resolved', {
    blue: describeTarget(resolved.targets.blue),
    green: describeTarget(resolved.targets.green),
    tls: resolved.targets.blue.ssl !== false,
  });
  return resolved;
}

/** The engine's progress callback: keeps the last MAX_PROGRESS events in `run.progress` and logs each, scrubbed. */
function progressSink(run: Invocation, logger: Logger): (e: ProgressEvent) => void {
  return (e) => {
    run.progress.push(e);
    if (run.progress.length > MAX_PROGRESS) run.progress.shift();
    const safe = e.kind === 'log' ? { ...e, text: scrub(e.text, run.known) } : e.kind === 'step' && e.detail ? { ...e, detail: scrub(e.detail, run.known) } : e;
    logger.info('progress', { event: safe });
  };
}

/**
 * The switch hook of cutover and rollback: UPSERTs the db record to `active`'s writer endpoint, waits for INSYNC,
 * then for the VPC resolver to answer it; returns the step's detail and when clients follow (epoch ms, if seen).
 */
function switchHook(s: OperationScope): (active: Color) => Promise<SwitchHookResult> {
  const { r53, resolved, deps, logger } = s;
  // Runs after the new side is unfenced (outside the write pause): UPSERT, wait for INSYNC, then measure when
  // the VPC's resolver — what the applications and poolers use — answers the new writer.
  return async (active) => {
    const res = await switchActiveDatabase(r53, resolved.record, resolved.endpoints, active, {
      waitTimeoutMs: deps.switchWaitMs ?? 60_000,
      pollMs: deps.switchPollMs ?? 500,
    });
    const seen = await waitUntilResolves(resolved.record.recordName, resolved.endpoints[active], {
      resolve: deps.resolveCname,
      timeoutMs: deps.resolveWaitMs ?? 30_000,
    });
    logger.info('database record switched', {
      active,
      record: res.recordName,
      value: res.value,
      ttl: res.ttl,
      changeId: res.changeId,
      status: res.status,
      waitedMs: res.waitedMs,
      resolvedAfterMs: seen.resolvedAt === undefined ? null : seen.waitedMs + res.waitedMs,
      resolverAnswer: seen.last,
    });
    const resolvedText =
      seen.resolvedAt === undefined
        ? `the VPC resolver still answered ${seen.last} after ${seen.waitedMs} ms more (clients follow within the record's TTL)`
        : `resolved in the VPC ${seen.waitedMs} ms after INSYNC`;
    return { detail: `${res.recordName} → ${res.value}: INSYNC after ${res.waitedMs} ms, ${resolvedText}`, clientsFollowAt: seen.resolvedAt };
  };
}

/** `init`: the application role on both clusters with the application secret's AWSCURRENT password. */
async function initOperation(s: OperationScope, options: Record<string, unknown>): Promise<OperationOutcome> {
  const app = (await readAppSecret(s.env, s.sm, { versionStage: 'AWSCURRENT' })).value;
  s.run.known = [...s.run.known, app.password];
  const o = options as InitOptions;
  return { report: await initAppRole(s.resolved.targets, app.password, { role: APP_DB_USERNAME, database: APP_DB_NAME, schemas: o.schemas }) };
}

/** `setAppPassword`: the named version of the application secret applied on both clusters (both or neither). */
async function setAppPasswordOperation(s: OperationScope, options: Record<string, unknown>): Promise<OperationOutcome> {
  const o = options as SetAppPasswordOptions;
  const selector = parseVersionSelector(options);
  const schemas = o.schemas === undefined ? undefined : schemaList(o.schemas);
  const app = await readAppSecret(s.env, s.sm, selector);
  s.run.known = [...s.run.known, app.value.password];
  s.logger.info('applying an application secret version', { versionId: app.versionId, stages: app.stages });
  const appRole = await initAppRole(s.resolved.targets, app.value.password, { role: APP_DB_USERNAME, database: APP_DB_NAME, schemas });
  return { report: { operation: 'setAppPassword', versionId: app.versionId, stages: app.stages, appRole } satisfies SetAppPasswordReport };
}

/** `checkAppLogin`: a login as the application role on both clusters with the named version of its secret. */
async function checkAppLoginOperation(s: OperationScope, options: Record<string, unknown>): Promise<OperationOutcome> {
  const app = await readAppSecret(s.env, s.sm, parseVersionSelector(options));
  s.run.known = [...s.run.known, app.value.password];
  const report = await checkAppLogin(s.resolved.targets, app);
  s.logger.info('application login checked', {
    versionId: app.versionId,
    blue: loginSummary(report.blue),
    green: loginSummary(report.green),
  });
  return { report };
}

/**
 * The replication engine's operations (syncStart, syncStatus, syncStop, syncRefresh, cutover, rollback), with the
 * stack's poolers where they take part; after any but syncStatus, the db record read back (informational).
 */
async function engineOperation(s: OperationScope, operation: CutoverOperation, options: Record<string, unknown>): Promise<OperationOutcome> {
  const { env, deps, sm, resolved, run } = s;
  const onProgress = progressSink(run, s.logger);
  const ex = await s.engine(resolved.targets);
  // The stack's poolers hold client queries through the switch (followed by DNS: released after the hook).
  const refs = ['cutover', 'rollback', 'syncStatus'].includes(operation) ? await (deps.poolers ?? (() => stackPoolers(env, sm)))() : [];
  run.known = [...run.known, ...refs.map((p) => p.password)];
  const pool = await poolerOps(refs, resolved.targets, {
    mechanism: deps.poolerMechanism ?? 'dns',
    followName: resolved.record.recordName,
    progress: onProgress,
  });
  let report: unknown;
  if (operation === 'syncStart') report = await ex.syncStart({ ...options, waitForCopy: false }, { progress: onProgress });
  else if (operation === 'syncStatus') report = await pool.review(await ex.syncStatus(options));
  else if (operation === 'syncStop') report = await ex.syncStop(options, { progress: onProgress });
  // The copy of refreshed tables may outlast the function: it returns once the copy has started.
  else if (operation === 'syncRefresh') {
    if (!ex.syncRefresh) throw failure('This engine cannot refresh replication.');
    report = await ex.syncRefresh({ ...options, waitForCopy: false }, { progress: onProgress });
  } else {
    await pool.preflight();
    const cb = { progress: onProgress, onSwitch: switchHook(s), clients: pool.clients };
    const r = operation === 'cutover' ? await ex.cutover(options, cb) : await ex.rollback(options, cb);
    await pool.settle(r.active);
    report = r;
  }
  if (operation === 'syncStatus') return { report };
  // Informational read-back: the operation's outcome stands even if this read fails.
  const dns = await readActiveDatabase(s.r53, resolved.record, resolved.endpoints).catch((e: unknown) => {
    s.logger.warn('could not read the database record back', { error: firstLine(messageOf(e), WHOLE_LINE) });
    return undefined;
  });
  return { report, dns };
}

/** Runs one operation other than `active` over the resolved targets. */
function runOperation(s: OperationScope, operation: CutoverOperation, options: Record<string, unknown>): Promise<OperationOutcome> {
  switch (operation) {
    case 'init':
      return initOperation(s, options);
    case 'setAppPassword':
      return setAppPasswordOperation(s, options);
    case 'checkAppLogin':
      return checkAppLoginOperation(s, options);
    default:
      return engineOperation(s, operation, options);
  }
}

/** The success document of an operation, logged and then scrubbed whole of every known secret. */
function successOf(run: Invocation, operation: CutoverOperation, { report, dns }: OperationOutcome, logger: Logger): CutoverSuccess {
  const result = { ok: true, operation, report, progress: run.progress, ...(dns ? { dns } : {}), durationMs: Date.now() - run.started } as CutoverSuccess;
  logger.info('operation finished', {
    ...summarize(operation, report),
    ...(dns ? { record: dns.value, recordColor: dns.color } : {}),
    durationMs: result.durationMs,
  });
  // A final scrub of the whole document: no report may carry a password, whatever the engine put in it.
  return JSON.parse(scrub(JSON.stringify(result), run.known)) as CutoverSuccess;
}

/** The failure document of an error (a BgmigError keeps its exit code; anything else is exit 1), scrubbed and logged. */
function failureOf(run: Invocation, e: unknown, logger: Logger): CutoverFailure {
  const { known } = run;
  const err = isBgmigError(e) ? e : failure(`The cutover function failed unexpectedly: ${firstLine(messageOf(e), WHOLE_LINE)}`, e);
  const doc: CutoverFailure = {
    ok: false,
    operation: String(run.operation),
    error: {
      message: scrub(err.message, known),
      exitCode: err.exitCode,
      ...(err.details ? { details: JSON.parse(scrub(JSON.stringify(err.details), known)) as Record<string, unknown> } : {}),
    },
    progress: JSON.parse(scrub(JSON.stringify(run.progress), known)) as ProgressEvent[],
    durationMs: Date.now() - run.started,
  };
  logger.error('operation failed', {
    operation: String(run.operation),
    message: doc.error.message,
    exitCode: doc.error.exitCode,
    durationMs: doc.durationMs,
  });
  return doc;
}

/**
 * Builds the Lambda handler over `deps` (defaults: process.env, SDK clients created on first use, the replication
 * engine). The handler takes a CutoverEvent and resolves to a CutoverResult — never rejects: a failure is
 * `{ok: false, error}` with the BgmigError's exit code (exit 1 for anything unexpected).
 */
export function makeHandler(deps: HandlerDeps = {}) {
  const env = deps.env ?? process.env;
  const logger = deps.logger ?? new Logger({ serviceName: 'bgmig-db-cutover' });
  // Their clients are created once per execution environment, on first use.
  const secretVersions = deps.secretVersions ?? functionSecretVersions();
  const dnsRecords = deps.dnsRecords ?? functionDnsRecords();
  const objects = deps.objects ?? functionObjectStore(false);

  /**
   * Appends the (already scrubbed) result to journal/ — the record an engineer reads after an incident: what ran,
   * when, with which outcome, pause and steps. The authoritative state of a run lives in the databases' bgmig
   * schema, so a failed write is logged and reported but never changes the operation's outcome.
   */
  const audit = async (operation: string, doc: CutoverResult, requestId: string | undefined): Promise<AuditRecord | undefined> => {
    const bucket = env[CutoverEnv.ArtifactsBucket];
    if (!bucket || !AUDITED.has(operation)) return undefined;
    const key = ArtifactKeys.journal(new Date().toISOString(), operation);
    try {
      const body = JSON.stringify({ ...doc, requestId, recordedAt: new Date().toISOString() }, null, 2);
      await objects.put(bucket, key, body, { contentType: 'application/json' });
      return { bucket, key };
    } catch (e) {
      const error = firstLine(messageOf(e), WHOLE_LINE);
      logger.warn('could not write the audit record', { bucket, key, error });
      return { bucket, key, error };
    }
  };
  const engine = deps.engine ?? defaultEngine;

  return async function handler(event: CutoverEvent, context?: LambdaContextLike): Promise<CutoverResult> {
    const run: Invocation = { started: Date.now(), operation: (event as Partial<CutoverEvent> | null)?.operation, progress: [], known: [] };
    if (context?.awsRequestId) logger.appendKeys({ requestId: context.awsRequestId });
    try {
      const { operation, options } = parseEvent(event, run.operation);
      // Options are plain JSON without secrets (schemas, durations, sizes): safe to log.
      logger.info('operation started', { operation, options });
      const r53 = dnsRecords;
      if (operation === 'active') return await activeOperation(env, r53, logger, run);
      const sm = secretVersions;
      const resolved = await resolveTargets(env, sm, logger, run);
      const outcome = await runOperation({ env, deps, logger, sm, r53, resolved, engine, run }, operation, options);
      const scrubbed = successOf(run, operation, outcome, logger);
      const record = await audit(operation, scrubbed, context?.awsRequestId);
      return record ? { ...scrubbed, audit: record } : scrubbed;
    } catch (e) {
      const doc = failureOf(run, e, logger);
      const record = await audit(String(run.operation), doc, context?.awsRequestId);
      return record ? { ...doc, audit: record } : doc;
    }
  };
}

/** The Lambda entry point (index.handler in the bundle). */
export const handler = makeHandler();
