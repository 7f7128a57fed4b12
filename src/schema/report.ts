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
}

export interface DatabaseSummary {
  serverVersion: string;
  /** Object counts by kind (tables, columns, indexes, views, …). */
  counts: Record<string, number>;
  /** user@host:port/database that was read (never a password). Absent in reports of older versions. */
  target?: string;
}

/** What the validator Lambda accepts (all optional); `bgmig validate` passes its options through it. */
export interface ValidatorEvent {
  /** Only these schemas (exact names). */
  includeSchemas?: string[];
  /** Never these schemas. */
  excludeSchemas?: string[];
  /** Difference codes to leave out of the report (and the verdict). */
  ignoreCodes?: string[];
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
}
