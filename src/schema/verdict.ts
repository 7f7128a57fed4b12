/**
 * `schemaVerdict`: the one reading of a validation report (verdicts, counts per severity, rollback blockers, a
 * one-line summary) that promote's gates, `db cutover` and `status` share instead of counting themselves. Pure.
 */
import { type RollbackBlocker, rollbackBlockers, type Severity, type ValidationReport, type Verdict } from './report.js';

/** What a gate or `status` needs from a validation report, read one way everywhere. */
export interface SchemaVerdict {
  /** The blue application on green's schema: `none` when no report exists. */
  verdict: Verdict | 'none';
  /** Differences per severity of that direction (after ignoring), computed when an old report lacks `totals`. */
  totals: Record<Severity, number>;
  /**
   * Green's writes back into blue's schema (what `db cutover` weighs): `unknown` when the report has none (no
   * report, an error report, or one from a bgmig older than the rollback verdict).
   */
  rollback: Verdict | 'unknown';
  /** The columns that make rollback after cutover impossible once green uses them; undefined when `rollback` is unknown. */
  blockers: RollbackBlocker[] | undefined;
  generatedAt: string | null;
  /** One line for status and refusals: `incompatible (2 breaking, 1 risky); rollback blocked by 1 blocker(s): public.ticket.subject (2026-…)`. */
  summary: string;
}

/** Reads a report (or its absence) into the verdicts promote, db cutover and status gate on. Pure. */
export function schemaVerdict(report: ValidationReport | undefined): SchemaVerdict {
  if (!report) {
    return {
      verdict: 'none',
      totals: { breaking: 0, risky: 0, safe: 0 },
      rollback: 'unknown',
      blockers: undefined,
      generatedAt: null,
      summary: 'no validation report: run `bgmig validate`',
    };
  }
  const totals = report.totals ?? { breaking: 0, risky: 0, safe: 0 };
  if (!report.totals) for (const d of report.differences) totals[d.severity]++;
  const blockers = rollbackBlockers(report);
  const rollback: SchemaVerdict['rollback'] = blockers === undefined ? 'unknown' : (report.rollback?.verdict ?? 'unknown');
  const forward =
    report.verdict === 'error' ? `error (${report.error ?? 'no detail'})` : `${report.verdict} (${totals.breaking} breaking, ${totals.risky} risky)`;
  const back =
    rollback === 'unknown'
      ? 'rollback not judged'
      : blockers && blockers.length > 0
        ? `rollback blocked by ${blockers.length} blocker(s): ${blockers
            .slice(0, 3)
            .map((b) => (b.column === null ? b.table : `${b.table}.${b.column}`))
            .join(', ')}${blockers.length > 3 ? ', …' : ''}`
        : 'rollback possible';
  return { verdict: report.verdict, totals, rollback, blockers, generatedAt: report.generatedAt, summary: `${forward}; ${back} (${report.generatedAt})` };
}
