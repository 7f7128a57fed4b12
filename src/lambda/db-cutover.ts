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
import type { Route53Client } from '@aws-sdk/client-route-53';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { BgmigError, ExitCode, isBgmigError, messageOf } from '../core/errors.js';
import { APP_DB_NAME, APP_DB_USERNAME, CutoverEnv, requireEnv as requireLambdaEnv } from '../core/lambda-env.js';
import { ArtifactKeys } from '../core/outputs.js';
import type { Color } from '../core/naming.js';
import { scrub } from '../core/redact.js';
import { checkLogin, describeTarget, targetFromSecret, type DbTarget } from '../db/connection.js';
import { lambdaSsl } from '../db/lambda-tls.js';
import { initAppRole } from '../dbinit/app-role.js';
import { type ClusterEndpoints, type CnameResolver, type DbRecordRef, readActiveDatabase, switchActiveDatabase, waitUntilResolves } from '../dns/switch.js';
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
  secrets?: () => Promise<SecretsManagerClient>;
  route53?: () => Promise<Route53Client>;
  s3?: () => Promise<S3Client>;
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
async function stackPoolers(env: NodeJS.ProcessEnv, sm: SecretsManagerClient): Promise<PoolerRef[]> {
  const name = env[PoolerEnv.DiscoveryName];
  const arn = env[PoolerEnv.AdminSecretArn];
  if (!name || !arn) return [];
  const admin = (await readSecretVersion(sm, arn, { versionStage: 'AWSCURRENT' }, 'cutover function', 'pooler admin')).value;
  const { promises } = await import('node:dns');
  let ips: string[];
  try {
    ips = (await promises.resolve4(name)).sort();
  } catch (e) {
    throw new BgmigError(
      `The cutover function cannot find the poolers (${name}: ${(e as { code?: string }).code ?? messageOf(e)}): check the pooler service in ECS; nothing was changed.`,
      ExitCode.Failure,
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
async function readAppSecret(env: NodeJS.ProcessEnv, sm: SecretsManagerClient, selector: SecretVersionSelector): Promise<SecretVersion> {
  const v = await readSecretVersion(sm, requireEnv(env, CutoverEnv.AppSecretArn), selector, 'cutover function', 'application');
  if (v.value.username !== APP_DB_USERNAME) {
    throw new BgmigError(
      `The application secret names user "${v.value.username}" but bgmig manages "${APP_DB_USERNAME}": fix the secret's username.`,
      ExitCode.Failure,
    );
  }
  return v;
}

function recordEnv(env: NodeJS.ProcessEnv): { endpoints: ClusterEndpoints; record: DbRecordRef } {
  return {
    endpoints: { blue: requireEnv(env, CutoverEnv.BlueClusterEndpoint), green: requireEnv(env, CutoverEnv.GreenClusterEndpoint) },
    record: { hostedZoneId: requireEnv(env, CutoverEnv.HostedZoneId), recordName: requireEnv(env, CutoverEnv.DbRecordName) },
  };
}

async function resolve(env: NodeJS.ProcessEnv, sm: SecretsManagerClient, logger: Logger): Promise<Resolved> {
  const { endpoints, record } = recordEnv(env);
  const ssl = lambdaSsl(env);
  const arns: Record<Color, string> = { blue: requireEnv(env, CutoverEnv.BlueSecretArn), green: requireEnv(env, CutoverEnv.GreenSecretArn) };
  const [blue, green] = await Promise.all(
    (['blue', 'green'] as const).map(async (color) => {
      // Explicit stage: read exactly the current version (see FIELD-NOTES on stage moves).
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
  if (!Array.isArray(v) || !v.every((x): x is string => typeof x === 'string'))
    throw new BgmigError('The option "schemas" must be a list of schema names.', ExitCode.BadInput);
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

export function makeHandler(deps: HandlerDeps = {}) {
  const env = deps.env ?? process.env;
  const logger = deps.logger ?? new Logger({ serviceName: 'bgmig-db-cutover' });
  let smClient: Promise<SecretsManagerClient> | undefined;
  let r53Client: Promise<Route53Client> | undefined;
  const secrets = () => (smClient ??= deps.secrets ? deps.secrets() : import('@aws-sdk/client-secrets-manager').then((m) => new m.SecretsManagerClient({})));
  const route53 = () => (r53Client ??= deps.route53 ? deps.route53() : import('@aws-sdk/client-route-53').then((m) => new m.Route53Client({})));
  let s3Client: Promise<S3Client> | undefined;
  const s3 = () => (s3Client ??= deps.s3 ? deps.s3() : import('@aws-sdk/client-s3').then((m) => new m.S3Client({})));

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
      const { PutObjectCommand } = await import('@aws-sdk/client-s3');
      const body = JSON.stringify({ ...doc, requestId, recordedAt: new Date().toISOString() }, null, 2);
      await (await s3()).send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/json' }));
      return { bucket, key };
    } catch (e) {
      const error = messageOf(e).split('\n')[0];
      logger.warn('could not write the audit record', { bucket, key, error });
      return { bucket, key, error };
    }
  };
  const engine = deps.engine ?? defaultEngine;

  return async function handler(event: CutoverEvent, context?: LambdaContextLike): Promise<CutoverResult> {
    const started = Date.now();
    const progress: ProgressEvent[] = [];
    const operation = (event as Partial<CutoverEvent> | null)?.operation;
    let known: string[] = [];
    if (context?.awsRequestId) logger.appendKeys({ requestId: context.awsRequestId });
    try {
      if (!isCutoverOperation(operation)) {
        throw new BgmigError(`Unknown operation "${String(operation)}": expected one of ${CUTOVER_OPERATIONS.join(', ')}.`, ExitCode.BadInput);
      }
      const options = (event.options ?? {}) as Record<string, unknown>;
      if (typeof options !== 'object' || Array.isArray(options)) throw new BgmigError('The event\'s "options" must be an object.', ExitCode.BadInput);
      // Options are plain JSON without secrets (schemas, durations, sizes): safe to log.
      logger.info('operation started', { operation, options });

      const r53 = await route53();
      if (operation === 'active') {
        const { endpoints, record } = recordEnv(env);
        const report = { ...(await readActiveDatabase(r53, record, endpoints)), endpoints };
        logger.info('operation finished', { operation, record: report.value, recordColor: report.color });
        return { ok: true, operation, report, progress, durationMs: Date.now() - started } as CutoverSuccess;
      }
      const sm = await secrets();
      const resolved = await resolve(env, sm, logger);
      known = resolved.passwords;
      logger.info('targets resolved', {
        blue: describeTarget(resolved.targets.blue),
        green: describeTarget(resolved.targets.green),
        tls: resolved.targets.blue.ssl !== false,
      });

      const onProgress = (e: ProgressEvent) => {
        progress.push(e);
        if (progress.length > MAX_PROGRESS) progress.shift();
        const safe = e.kind === 'log' ? { ...e, text: scrub(e.text, known) } : e.kind === 'step' && e.detail ? { ...e, detail: scrub(e.detail, known) } : e;
        logger.info('progress', { event: safe });
      };
      // Runs after the new side is unfenced (outside the write pause): UPSERT, wait for INSYNC, then measure when
      // the VPC's resolver — what the applications and poolers use — answers the new writer.
      const onSwitch = async (active: Color): Promise<SwitchHookResult> => {
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

      let report: unknown;
      let dns: CutoverSuccess['dns'];
      switch (operation) {
        case 'init': {
          const app = (await readAppSecret(env, sm, { versionStage: 'AWSCURRENT' })).value;
          known = [...known, app.password];
          const o = options as InitOptions;
          report = await initAppRole(resolved.targets, app.password, { role: APP_DB_USERNAME, database: APP_DB_NAME, schemas: o.schemas });
          break;
        }
        case 'setAppPassword': {
          const o = options as SetAppPasswordOptions;
          const selector = parseVersionSelector(options);
          const schemas = o.schemas === undefined ? undefined : schemaList(o.schemas);
          const app = await readAppSecret(env, sm, selector);
          known = [...known, app.value.password];
          logger.info('applying an application secret version', { versionId: app.versionId, stages: app.stages });
          const appRole = await initAppRole(resolved.targets, app.value.password, { role: APP_DB_USERNAME, database: APP_DB_NAME, schemas });
          report = { operation: 'setAppPassword', versionId: app.versionId, stages: app.stages, appRole } satisfies SetAppPasswordReport;
          break;
        }
        case 'checkAppLogin': {
          const app = await readAppSecret(env, sm, parseVersionSelector(options));
          known = [...known, app.value.password];
          report = await checkAppLogin(resolved.targets, app);
          logger.info('application login checked', {
            versionId: app.versionId,
            blue: loginSummary((report as CheckAppLoginReport).blue),
            green: loginSummary((report as CheckAppLoginReport).green),
          });
          break;
        }
        default: {
          const ex = await engine(resolved.targets);
          // The stack's poolers hold client queries through the switch (followed by DNS: released after the hook).
          const refs = ['cutover', 'rollback', 'syncStatus'].includes(operation) ? await (deps.poolers ?? (() => stackPoolers(env, sm)))() : [];
          known = [...known, ...refs.map((p) => p.password)];
          const pool = await poolerOps(refs, resolved.targets, {
            mechanism: deps.poolerMechanism ?? 'dns',
            followName: resolved.record.recordName,
            progress: onProgress,
          });
          if (operation === 'syncStart') report = await ex.syncStart({ ...options, waitForCopy: false }, { progress: onProgress });
          else if (operation === 'syncStatus') report = await pool.review(await ex.syncStatus(options));
          else if (operation === 'syncStop') report = await ex.syncStop(options, { progress: onProgress });
          // The copy of refreshed tables may outlast the function: it returns once the copy has started (REPL-LIVE).
          else if (operation === 'syncRefresh') {
            if (!ex.syncRefresh) throw new BgmigError('This engine cannot refresh replication.', ExitCode.Failure);
            report = await ex.syncRefresh({ ...options, waitForCopy: false }, { progress: onProgress });
          } else {
            await pool.preflight();
            const cb = { progress: onProgress, onSwitch, clients: pool.clients };
            const r = operation === 'cutover' ? await ex.cutover(options, cb) : await ex.rollback(options, cb);
            await pool.settle(r.active);
            report = r;
          }
          if (operation !== 'syncStatus') {
            // Informational read-back: the operation's outcome stands even if this read fails.
            dns = await readActiveDatabase(r53, resolved.record, resolved.endpoints).catch((e: unknown) => {
              logger.warn('could not read the database record back', { error: messageOf(e).split('\n')[0] });
              return undefined;
            });
          }
        }
      }
      const result = { ok: true, operation, report, progress, ...(dns ? { dns } : {}), durationMs: Date.now() - started } as CutoverSuccess;
      logger.info('operation finished', {
        ...summarize(operation, report),
        ...(dns ? { record: dns.value, recordColor: dns.color } : {}),
        durationMs: result.durationMs,
      });
      // A final scrub of the whole document: no report may carry a password, whatever the engine put in it.
      const scrubbed = JSON.parse(scrub(JSON.stringify(result), known)) as CutoverSuccess;
      const record = await audit(operation, scrubbed, context?.awsRequestId);
      return record ? { ...scrubbed, audit: record } : scrubbed;
    } catch (e) {
      const err = isBgmigError(e)
        ? e
        : new BgmigError(`The cutover function failed unexpectedly: ${messageOf(e).split('\n')[0]}`, ExitCode.Failure, { cause: e });
      const failure: CutoverFailure = {
        ok: false,
        operation: String(operation),
        error: {
          message: scrub(err.message, known),
          exitCode: err.exitCode,
          ...(err.details ? { details: JSON.parse(scrub(JSON.stringify(err.details), known)) as Record<string, unknown> } : {}),
        },
        progress: JSON.parse(scrub(JSON.stringify(progress), known)) as ProgressEvent[],
        durationMs: Date.now() - started,
      };
      logger.error('operation failed', {
        operation: String(operation),
        message: failure.error.message,
        exitCode: failure.error.exitCode,
        durationMs: failure.durationMs,
      });
      const record = await audit(String(operation), failure, context?.awsRequestId);
      return record ? { ...failure, audit: record } : failure;
    }
  };
}

/** The Lambda entry point (index.handler in the bundle). */
export const handler = makeHandler();
