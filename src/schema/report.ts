/**
 * The validation report: one type shared by the validator Lambda, `bgmig validate`, `promote`'s gate,
 * `status` and `db cutover`'s gate. Stored as JSON in the artifacts bucket (see ArtifactKeys).
 */
export type Severity = 'breaking' | 'risky' | 'safe';
export type Verdict = 'compatible' | 'incompatible' | 'error';

export interface Difference {
  /** Stable code, e.g. "BC102" style (see src/schema/codes.ts). */
  code: string;
  severity: Severity;
  /** Qualified object name, e.g. `public.orders.total`. */
  object: string;
  /** One-line reason, from the blue application's point of view running against green. */
  detail: string;
  /** The blue side's description of the object, or null when absent on blue. */
  blue: string | null;
  /** The green side's description of the object, or null when absent on green. */
  green: string | null;
  /** Rollback differences only: the qualified table (`public.ticket`) the finding is about, for `rollbackBlockers`. */
  table?: string;
  /** Rollback differences only: the column's raw name, or null when the finding is about the whole table. */
  column?: string | null;
}

/**
 * The rollback verdict: can green's writes, replicated back to blue after `db cutover` (a publication on green
 * whose column lists hold only the columns blue has, applied on blue by a subscription), always be applied to
 * blue's schema? `incompatible` when a breaking RB code says some value green may write stops the reverse stream.
 */
export interface RollbackVerdict {
  verdict: Verdict;
  /** RB codes, sorted like `differences`; severities are the rollback's. */
  differences: Difference[];
  totals: Record<Severity, number>;
  /** How many of them `ignoreCodes` left out. */
  ignored: number;
}

export interface DatabaseSummary {
  serverVersion: string;
  /** Object counts by kind (tables, columns, indexes, views, …). */
  counts: Record<string, number>;
  /** user@host:port/database that was read (never a password). Absent in reports of older versions. */
  target?: string;
}

/**
 * What the validator Lambda accepts for a validation (all optional; `kind` absent or "validate"); `bgmig validate`
 * passes its options through it. The other event kind is ConnectionCheckEvent below.
 */
export interface ValidatorEvent {
  /** Only these schemas (exact names). */
  includeSchemas?: string[];
  /** Never these schemas. */
  excludeSchemas?: string[];
  /** Difference codes to leave out of the report (and the verdict). */
  ignoreCodes?: string[];
}

/**
 * The validator's second event kind: prove a login with one version of a colour's master secret (the rotation's
 * test step in AWS mode — the clusters sit in isolated subnets that only the functions reach). The function reads
 * that version itself, so no password travels in the event or the result. Without versionId/versionStage it reads
 * AWSCURRENT; with both, Secrets Manager must answer with that version holding that stage.
 */
export interface ConnectionCheckEvent {
  kind: 'connection-check';
  color: 'blue' | 'green';
  versionStage?: string;
  versionId?: string;
}

/**
 * What a connection check returns; it never throws. `rejected`: PostgreSQL refused the credentials (as opposed to
 * a secret that could not be read or a server that could not be reached), which is what decides whether the
 * rotation offers its rollback.
 */
export type ConnectionCheckResult = { ok: true; latencyMs: number; versionId: string; target: string } | { ok: false; rejected: boolean; error: string };

/** Which version of a secret an operation reads (the functions read it themselves: no password on the wire). */
export interface SecretVersionSelector {
  versionStage?: string | undefined;
  versionId?: string | undefined;
}

/** Structural check of a connection-check result decoded from the function's payload. */
export function isConnectionCheckResult(v: unknown): v is ConnectionCheckResult {
  if (!v || typeof v !== 'object') return false;
  const r = v as Record<string, unknown>;
  if (r.ok === true) return typeof r.latencyMs === 'number' && typeof r.versionId === 'string' && typeof r.target === 'string';
  if (r.ok === false) return typeof r.error === 'string' && typeof r.rejected === 'boolean';
  return false;
}

export interface ValidationReport {
  verdict: Verdict;
  blue: DatabaseSummary | null;
  green: DatabaseSummary | null;
  differences: Difference[];
  durationMs: number;
  /** ISO-8601 time the report was produced. */
  generatedAt: string;
  /** Present when verdict is "error": one sentence, never a credential. */
  error?: string;
  /** Differences per severity, after ignoring (absent in reports of older versions). */
  totals?: Record<Severity, number>;
  /** The options the report was produced with (absent in reports of older versions). */
  options?: { includeSchemas: string[]; excludeSchemas: string[]; ignoreCodes: string[] };
  /** How many differences `ignoreCodes` left out. */
  ignored?: number;
  /**
   * The second direction (absent in reports of older versions and in error reports): green's writes into blue's
   * schema, what `db cutover` weighs before making green the writer. `verdict`/`differences` above stay the first
   * direction, the blue application on green's schema.
   */
  rollback?: RollbackVerdict;
}

/** One column (or table) that makes rollback after cutover impossible once green uses it. */
export interface RollbackBlocker {
  /** Qualified table name as psql shows it (`public.ticket`, `"Sales"."Order Lines"`). */
  table: string;
  /** Raw column name, or null when the whole table is concerned (partition bounds). */
  column: string | null;
  /** RB101 … RB104. */
  code: string;
  /** One sentence: what green may write that blue cannot hold, and what stops. */
  sentence: string;
}

/**
 * The blockers of rollback after cutover in a report: its breaking rollback differences (after `ignoreCodes`), in
 * report order. Pure, no I/O; `db cutover` calls it on the report it gates on.
 *
 * Returns undefined when the report carries no rollback verdict — an `error` report, or one written by a bgmig
 * older than the rollback verdict — so the caller cannot mistake "not judged" for "nothing blocks".
 */
export function rollbackBlockers(report: ValidationReport): RollbackBlocker[] | undefined {
  if (report.verdict === 'error' || !report.rollback) return undefined;
  return report.rollback.differences
    .filter((d) => d.severity === 'breaking')
    .map((d) => ({ table: d.table ?? d.object, column: d.column ?? null, code: d.code, sentence: d.detail }));
}
