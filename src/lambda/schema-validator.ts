/**
 * The schema-validator Lambda: reads the blue and green DB secrets, compares both catalogs (src/schema/validate.ts),
 * stores the report in the artifacts bucket (a timestamped copy and reports/latest.json) and returns it.
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
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { messageOf } from '../core/errors.js';
import { APP_DB_NAME, ValidatorEnv } from '../core/lambda-env.js';
import { ArtifactKeys } from '../core/outputs.js';
import { scrub } from '../core/redact.js';
import { describeTarget, parseSecretValue, targetFromSecret, type DbTarget } from '../db/connection.js';
import { lambdaSsl } from '../db/lambda-tls.js';
import type { ValidationReport, ValidatorEvent } from '../schema/report.js';
import { validateDatabases } from '../schema/validate.js';

const logger = new Logger({ serviceName: 'bgmig-schema-validator' });

// Created once per execution environment and reused across invocations. Both honour AWS_ENDPOINT_URL.
let secrets: SecretsManagerClient | undefined;
let s3: S3Client | undefined;

/** Bounds for one validation; the function's own timeout must exceed connect + statement time. */
const TIMEOUTS = { connectTimeoutMs: 10_000, statementTimeoutMs: 60_000, lockTimeoutMs: 10_000 } as const;

class HandlerError extends Error {}

function requireEnv(name: string): string {
  const v = process.env[name];
  if (!v) throw new HandlerError(`The function has no ${name} environment variable: redeploy the stack with this bgmig version.`);
  return v;
}

function stringList(v: unknown, field: string): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new HandlerError(`The event field ${field} must be a list of strings.`);
  return v as string[];
}

/** Accepts only the documented fields, each a list of strings. */
export function parseEvent(raw: unknown): ValidatorEvent {
  const e = (raw ?? {}) as Record<string, unknown>;
  if (typeof e !== 'object' || Array.isArray(e)) throw new HandlerError('The event must be a JSON object ({includeSchemas?, excludeSchemas?, ignoreCodes?}).');
  return { includeSchemas: stringList(e.includeSchemas, 'includeSchemas'), excludeSchemas: stringList(e.excludeSchemas, 'excludeSchemas'), ignoreCodes: stringList(e.ignoreCodes, 'ignoreCodes') };
}

async function readTarget(arn: string, color: 'blue' | 'green'): Promise<DbTarget> {
  secrets ??= new SecretsManagerClient({});
  let text: string | undefined;
  try {
    const res = await secrets.send(new GetSecretValueCommand({ SecretId: arn }));
    text = res.SecretString;
  } catch (e) {
    throw new HandlerError(`Cannot read the ${color} database secret ${arn} (${messageOf(e)}): check the function's secretsmanager:GetSecretValue permission.`);
  }
  if (!text) throw new HandlerError(`The ${color} database secret ${arn} has no string value: it must hold the RDS JSON {"username","password","host",…}.`);
  const secret = parseSecretValue(text, arn);
  // The application database: the secret's dbname when RDS wrote one, else the one bgmig creates on both clusters.
  // TLS verifying the certificate against the RDS bundle (or plain TCP under the explicit test/tunnel knob).
  return { ...targetFromSecret(secret, { database: secret.dbname ?? APP_DB_NAME }), ssl: lambdaSsl() };
}

function errorReport(message: string, started: number): ValidationReport {
  return { verdict: 'error', blue: null, green: null, differences: [], durationMs: Date.now() - started, generatedAt: new Date().toISOString(), error: message };
}

async function store(bucket: string, report: ValidationReport): Promise<void> {
  s3 ??= new S3Client({ forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL) });
  const body = JSON.stringify(report, null, 2);
  // The timestamped copy first: latest.json then always has a history entry behind it.
  for (const key of [ArtifactKeys.report(report.generatedAt), ArtifactKeys.latestReport]) {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/json' }));
  }
}

export const handler = async (event: unknown): Promise<ValidationReport> => {
  const started = Date.now();
  let report: ValidationReport;
  let bucket: string | undefined;
  const known: string[] = [];
  try {
    bucket = requireEnv(ValidatorEnv.ArtifactsBucket);
    const opts = parseEvent(event);
    const [blue, green] = await Promise.all([readTarget(requireEnv(ValidatorEnv.BlueSecretArn), 'blue'), readTarget(requireEnv(ValidatorEnv.GreenSecretArn), 'green')]);
    known.push(blue.password, green.password);
    if (blue.ssl === false) logger.warn('BGMIG_DB_SSL=disable: connecting without TLS (test/tunnel setting)');
    logger.info('validating', { blue: describeTarget(blue), green: describeTarget(green), ...opts });
    report = await validateDatabases(blue, green, { ...opts, ...TIMEOUTS, applicationName: 'bgmig-schema-validator' });
  } catch (e) {
    report = errorReport(scrub(messageOf(e), known), started);
  }
  if (bucket) {
    try {
      await store(bucket, report);
    } catch (e) {
      // Gates read reports/latest.json: a report that could not be stored must not look like a pass.
      const was = report.verdict === 'error' ? report.error : `verdict ${report.verdict}`;
      report = { ...report, verdict: 'error', error: `The validation finished (${was}) but the report could not be written to s3://${bucket}/reports/ (${messageOf(e)}): check the function's s3:PutObject permission.` };
    }
  }
  const log = { verdict: report.verdict, differences: report.differences.length, totals: report.totals, durationMs: report.durationMs, error: report.error };
  if (report.verdict === 'error') logger.error('validation failed', log);
  else logger.info('validation finished', log);
  return report;
};
