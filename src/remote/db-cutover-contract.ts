/**
 * The cutover function's wire contract, shared by the handler (src/lambda/db-cutover.ts) and the CLI's remote
 * executor (src/remote/cutover-client.ts). Pure types and checks: no SDK, no pg, so the CLI can import it cheaply.
 *
 * Event: `{operation, options}`. Result: `{ok: true, operation, report, progress, dns?}` or
 * `{ok: false, operation, error: {message, exitCode, details?}}` — the function never throws for an operation
 * failure, so Lambda reports no FunctionError for them; a FunctionError means the function itself crashed
 * (timeout, out of memory, a bundle that does not load).
 */
import type { LoginCheck } from '../db/connection.js';
import type { ActiveDatabaseRecord } from '../dns/active-record.js';
import type { AppRoleReport } from '../dbinit/app-role.js';
import type { SecretVersionSelector } from '../schema/report.js';
import type {
  SwitchoverOptions,
  ProgressEvent,
  SwitchReport,
  SyncStartOptions,
  SyncStartReport,
  SyncStatusOptions,
  SyncStatusReport,
  SyncRefreshOptions,
  SyncRefreshReport,
  SyncStopOptions,
  SyncStopReport,
} from '../replication/api.js';

/** `init`: the application role on both clusters (password from the app secret, AWSCURRENT). */
export interface InitOptions {
  /** Schemas the application uses (default ["public"]). */
  schemas?: string[] | undefined;
}

/**
 * `setAppPassword`: the rotation's set step for the application secret (`rotate-secret-manual --app`). The function
 * reads the named version of the app secret itself (no password in the event), applies it to the application role
 * on both clusters with the same code as `init` (both or neither; a SCRAM verifier, never the clear password) and
 * proves the login. Without a selector it applies AWSCURRENT, which is what a rollback needs.
 */
export interface SetAppPasswordOptions extends SecretVersionSelector {
  /** Schemas whose grants are re-applied with the password (default ["public"], as `init`). */
  schemas?: string[] | undefined;
}

export interface SetAppPasswordReport {
  operation: 'setAppPassword';
  /** The version that was applied, as Secrets Manager answered it. */
  versionId: string;
  stages: string[];
  appRole: AppRoleReport;
}

/** `checkAppLogin`: the rotation's test step for the application secret — a login as the role on both clusters. */
export type CheckAppLoginOptions = SecretVersionSelector;

export interface CheckAppLoginReport {
  operation: 'checkAppLogin';
  versionId: string;
  stages: string[];
  /** Per cluster; `connectRevoked` marks a side fenced by a running sync (the password was still accepted). */
  blue: LoginCheck;
  green: LoginCheck;
}

/** `active`: reads the Route 53 record (which colour the applications reach). */
export type ActiveOptions = Record<string, never>;

export interface ActiveReport extends ActiveDatabaseRecord {
  endpoints: { blue: string; green: string };
}

export interface CutoverOperations {
  init: { options: InitOptions; report: AppRoleReport };
  syncStart: { options: SyncStartOptions; report: SyncStartReport };
  syncStatus: { options: SyncStatusOptions; report: SyncStatusReport };
  syncStop: { options: SyncStopOptions; report: SyncStopReport };
  syncRefresh: { options: SyncRefreshOptions; report: SyncRefreshReport };
  cutover: { options: SwitchoverOptions; report: SwitchReport };
  rollback: { options: SwitchoverOptions; report: SwitchReport };
  active: { options: ActiveOptions; report: ActiveReport };
  setAppPassword: { options: SetAppPasswordOptions; report: SetAppPasswordReport };
  checkAppLogin: { options: CheckAppLoginOptions; report: CheckAppLoginReport };
}

export type CutoverOperation = keyof CutoverOperations;

export const CUTOVER_OPERATIONS: readonly CutoverOperation[] = [
  'init',
  'syncStart',
  'syncStatus',
  'syncStop',
  'syncRefresh',
  'cutover',
  'rollback',
  'active',
  'setAppPassword',
  'checkAppLogin',
];

export interface CutoverEvent<O extends CutoverOperation = CutoverOperation> {
  operation: O;
  options?: CutoverOperations[O]['options'];
}

export interface CutoverSuccess<O extends CutoverOperation = CutoverOperation> {
  ok: true;
  operation: O;
  report: CutoverOperations[O]['report'];
  /** Progress events the engine emitted (the last 500), for the caller to replay. */
  progress: ProgressEvent[];
  /** The record as read back after the operation (cutover, rollback, syncStart, syncStop). */
  dns?: ActiveDatabaseRecord | undefined;
  durationMs: number;
  /** Where the audit record of this operation went (state-changing operations, when the bucket is configured). */
  audit?: AuditRecord | undefined;
}

/** The audit record's S3 key, or why it could not be written (the operation's outcome stands either way). */
export interface AuditRecord {
  bucket: string;
  key: string;
  error?: string | undefined;
}

export interface CutoverFailure {
  ok: false;
  operation: string;
  error: { message: string; exitCode: number; details?: Record<string, unknown> | undefined };
  progress: ProgressEvent[];
  durationMs: number;
  audit?: AuditRecord | undefined;
}

export type CutoverResult<O extends CutoverOperation = CutoverOperation> = CutoverSuccess<O> | CutoverFailure;

export function isCutoverOperation(v: unknown): v is CutoverOperation {
  return typeof v === 'string' && (CUTOVER_OPERATIONS as readonly string[]).includes(v);
}

/** Structural check of a result decoded from the function's payload. */
export function isCutoverResult(v: unknown): v is CutoverResult {
  if (!v || typeof v !== 'object') return false;
  const r = v as Partial<CutoverSuccess> & Partial<CutoverFailure>;
  if (r.ok === true) return typeof r.operation === 'string' && r.report !== undefined && r.report !== null && typeof r.report === 'object';
  if (r.ok === false) return !!r.error && typeof r.error.message === 'string' && typeof r.error.exitCode === 'number';
  return false;
}
