/**
 * The schema-validator Lambda: reads the blue and green DB secrets, compares both catalogs (src/schema/validate.ts),
 * stores the report in the artifacts bucket (a timestamped copy and reports/latest.json) and returns it.
 *
 * A second event kind, `{kind: 'connection-check', color, versionStage?, versionId?}` (src/schema/report.ts), proves
 * a login with one version of a colour's master secret: it reads that version itself, connects with the same code
 * and TLS settings as a validation, runs SELECT 1 and returns `{ok: true, latencyMs, …}` or `{ok: false, rejected,
 * error}`. It is the rotation's test step in AWS mode: the clusters sit in isolated subnets that only the functions
 * reach, and no password travels in the event or the result. A connection check writes nothing to the bucket.
 *
 * It never throws: a missing variable, an unreadable secret, an unreachable database or a failed upload all give a
 * report with verdict `error` and one sentence, so `bgmig validate` and the promote/cutover gates always get a
 * report. Logs are structured JSON (Powertools); no secret value, password or connection string is ever logged.
 *
 * Environment (src/core/lambda-env.ts): BLUE_SECRET_ARN, GREEN_SECRET_ARN, ARTIFACTS_BUCKET. TLS verifies the
 * server certificate against the RDS CA bundle (src/db/lambda-tls.ts; NODE_EXTRA_CA_CERTS adds it to the system
 * store as well). BGMIG_DB_SSL=disable switches to plain TCP: a test/tunnel knob for local servers, honoured only
 * when set explicitly, never set by the stack.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { functionObjectStore, functionSecretVersions } from '../aws/in-function.js';
import type { ObjectStore, SecretVersions } from '../aws/ports.js';
import { firstLine, messageOf, WHOLE_LINE } from '../core/errors.js';
import { APP_DB_NAME, requireEnv as requireLambdaEnv, ValidatorEnv } from '../core/lambda-env.js';
import { ArtifactKeys } from '../core/outputs.js';
import { scrub } from '../core/redact.js';
import { checkLogin, describeTarget, parseSecretValue, targetFromSecret, type DbSecretValue, type DbTarget } from '../db/connection.js';
import { lambdaSsl } from '../db/lambda-tls.js';
import type { ConnectionCheckEvent, ConnectionCheckResult, SecretVersionSelector, ValidationReport, ValidatorEvent } from '../schema/report.js';
import { validateDatabases } from '../schema/validate.js';
import { parseVersionSelector, readSecretVersion } from './secret-version.js';

/** What tests inject; the deployed function uses the defaults (ports over its environment, which may set AWS_ENDPOINT_URL). */
export interface ValidatorDeps {
  env?: NodeJS.ProcessEnv;
  secretVersions?: SecretVersions;
  objects?: ObjectStore;
  logger?: Logger;
}

/** Bounds for one validation; the function's own timeout must exceed connect + statement time. */
const TIMEOUTS = { connectTimeoutMs: 10_000, statementTimeoutMs: 60_000, lockTimeoutMs: 10_000 } as const;

class HandlerError extends Error {}

const requireEnv = (env: NodeJS.ProcessEnv, name: string): string => requireLambdaEnv(env, name, 'function');

function stringList(v: unknown, field: string): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new HandlerError(`The event field ${field} must be a list of strings.`);
  return v as string[];
}

/** Accepts only the documented fields, each a list of strings. */
export function parseEvent(raw: unknown): ValidatorEvent {
  const e = (raw ?? {}) as Record<string, unknown>;
  if (typeof e !== 'object' || Array.isArray(e)) throw new HandlerError('The event must be a JSON object ({includeSchemas?, excludeSchemas?, ignoreCodes?}).');
  if (e.kind !== undefined && e.kind !== 'validate')
    throw new HandlerError(`The event kind ${JSON.stringify(e.kind)} is not supported: use "validate" (or none) or "connection-check".`);
  return {
    includeSchemas: stringList(e.includeSchemas, 'includeSchemas'),
    excludeSchemas: stringList(e.excludeSchemas, 'excludeSchemas'),
    ignoreCodes: stringList(e.ignoreCodes, 'ignoreCodes'),
  };
}

function isConnectionCheck(raw: unknown): raw is Record<string, unknown> & { kind: 'connection-check' } {
  return !!raw && typeof raw === 'object' && (raw as { kind?: unknown }).kind === 'connection-check';
}

/** The connection check's event: a colour and an optional version selector, nothing else. */
export function parseConnectionCheck(raw: Record<string, unknown>): ConnectionCheckEvent {
  if (raw.color !== 'blue' && raw.color !== 'green') throw new HandlerError('The connection check needs "color": "blue" or "green".');
  let selector: SecretVersionSelector;
  try {
    selector = parseVersionSelector(raw);
  } catch (e) {
    throw new HandlerError(messageOf(e));
  }
  return {
    kind: 'connection-check',
    color: raw.color,
    ...(selector.versionStage !== undefined ? { versionStage: selector.versionStage } : {}),
    ...(selector.versionId !== undefined ? { versionId: selector.versionId } : {}),
  };
}

/**
 * Where the function connects for a secret: its host and port, the application database (the secret's dbname when
 * RDS wrote one, else the one bgmig creates on both clusters), TLS verifying the certificate against the RDS bundle
 * (or plain TCP under the explicit test/tunnel knob).
 */
function targetOf(secret: DbSecretValue, env: NodeJS.ProcessEnv): DbTarget {
  return { ...targetFromSecret(secret, { database: secret.dbname ?? APP_DB_NAME }), ssl: lambdaSsl(env) };
}

async function readTarget(secrets: SecretVersions, env: NodeJS.ProcessEnv, arn: string, color: 'blue' | 'green'): Promise<DbTarget> {
  let text: string | undefined;
  try {
    text = (await secrets.value(arn)).secretString;
  } catch (e) {
    throw new HandlerError(`Cannot read the ${color} database secret ${arn} (${messageOf(e)}): check the function's secretsmanager:GetSecretValue permission.`);
  }
  if (!text) throw new HandlerError(`The ${color} database secret ${arn} has no string value: it must hold the RDS JSON {"username","password","host",…}.`);
  return targetOf(parseSecretValue(text, arn), env);
}

function errorReport(message: string, started: number): ValidationReport {
  return {
    verdict: 'error',
    blue: null,
    green: null,
    differences: [],
    durationMs: Date.now() - started,
    generatedAt: new Date().toISOString(),
    error: message,
  };
}

async function store(s3: ObjectStore, bucket: string, report: ValidationReport): Promise<void> {
  const body = JSON.stringify(report, null, 2);
  // The timestamped copy first: latest.json then always has a history entry behind it.
  for (const key of [ArtifactKeys.report(report.generatedAt), ArtifactKeys.latestReport]) {
    await s3.put(bucket, key, body, { contentType: 'application/json' });
  }
}

/**
 * The connection check. Never throws: every failure is `{ok: false, rejected, error}` with one sentence, and neither
 * the result nor a log line carries the password (messages are scrubbed with it).
 */
async function connectionCheck(raw: Record<string, unknown>, secrets: SecretVersions, env: NodeJS.ProcessEnv, logger: Logger): Promise<ConnectionCheckResult> {
  const known: string[] = [];
  let result: ConnectionCheckResult;
  let color: string = String(raw.color);
  try {
    const ev = parseConnectionCheck(raw);
    color = ev.color;
    const arn = requireEnv(env, ev.color === 'blue' ? ValidatorEnv.BlueSecretArn : ValidatorEnv.GreenSecretArn);
    const version = await readSecretVersion(secrets, arn, ev, 'validator function', `${ev.color} master`);
    known.push(version.value.password);
    const target = targetOf(version.value, env);
    if (target.ssl === false) logger.warn('BGMIG_DB_SSL=disable: connecting without TLS (test/tunnel setting)');
    logger.info('connection check', { color: ev.color, versionId: version.versionId, stages: version.stages, target: describeTarget(target) });
    const login = await checkLogin(target, { connectTimeoutMs: TIMEOUTS.connectTimeoutMs, applicationName: 'bgmig-connection-check' });
    result = login.ok
      ? { ok: true, latencyMs: login.latencyMs, versionId: version.versionId, target: describeTarget(target) }
      : { ok: false, rejected: login.rejected, error: `Login with version ${version.versionId} of the ${ev.color} master secret failed — ${login.error}` };
  } catch (e) {
    result = { ok: false, rejected: false, error: messageOf(e) };
  }
  if (!result.ok) result = { ...result, error: firstLine(scrub(result.error, known), WHOLE_LINE) };
  if (result.ok) logger.info('connection check passed', { color, latencyMs: result.latencyMs, versionId: result.versionId });
  else logger.warn('connection check failed', { color, rejected: result.rejected, error: result.error });
  return result;
}

export function makeHandler(deps: ValidatorDeps = {}): (event: unknown) => Promise<ValidationReport | ConnectionCheckResult> {
  const env = deps.env ?? process.env;
  const logger = deps.logger ?? new Logger({ serviceName: 'bgmig-schema-validator' });
  // Created once per execution environment and reused across invocations. Both honour AWS_ENDPOINT_URL.
  const secrets = deps.secretVersions ?? functionSecretVersions();
  const s3 = deps.objects ?? functionObjectStore(Boolean(env.AWS_ENDPOINT_URL));

  return async (event: unknown): Promise<ValidationReport | ConnectionCheckResult> => {
    if (isConnectionCheck(event)) return connectionCheck(event, secrets, env, logger);
    return validate(event);
  };

  async function validate(event: unknown): Promise<ValidationReport> {
    const started = Date.now();
    let report: ValidationReport;
    let bucket: string | undefined;
    const known: string[] = [];
    try {
      bucket = requireEnv(env, ValidatorEnv.ArtifactsBucket);
      const opts = parseEvent(event);
      const sm = secrets;
      const [blue, green] = await Promise.all([
        readTarget(sm, env, requireEnv(env, ValidatorEnv.BlueSecretArn), 'blue'),
        readTarget(sm, env, requireEnv(env, ValidatorEnv.GreenSecretArn), 'green'),
      ]);
      known.push(blue.password, green.password);
      if (blue.ssl === false) logger.warn('BGMIG_DB_SSL=disable: connecting without TLS (test/tunnel setting)');
      logger.info('validating', { blue: describeTarget(blue), green: describeTarget(green), ...opts });
      report = await validateDatabases(blue, green, { ...opts, ...TIMEOUTS, applicationName: 'bgmig-schema-validator' });
    } catch (e) {
      report = errorReport(scrub(messageOf(e), known), started);
    }
    if (bucket) {
      try {
        await store(s3, bucket, report);
      } catch (e) {
        // Gates read reports/latest.json: a report that could not be stored must not look like a pass.
        const was = report.verdict === 'error' ? report.error : `verdict ${report.verdict}`;
        report = {
          ...report,
          verdict: 'error',
          error: `The validation finished (${was}) but the report could not be written to s3://${bucket}/reports/ (${messageOf(e)}): check the function's s3:PutObject permission.`,
        };
      }
    }
    const log = {
      verdict: report.verdict,
      differences: report.differences.length,
      totals: report.totals,
      // The second direction (green's writes back into blue), which `db cutover` gates on.
      rollbackVerdict: report.rollback?.verdict,
      rollbackTotals: report.rollback?.totals,
      durationMs: report.durationMs,
      error: report.error,
    };
    if (report.verdict === 'error') logger.error('validation failed', log);
    else logger.info('validation finished', log);
    return report;
  }
}

/** The Lambda entry point (index.handler in the bundle). */
export const handler = makeHandler();
