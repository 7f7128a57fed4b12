/** Validation reports for tests: pure data, so the fast layer can use them too. */
import type { ValidationReport } from '../../src/schema/report.js';

/** A validation report with the given verdict (for the promote gate and status). */
export function makeReport(verdict: ValidationReport['verdict'], generatedAt = new Date().toISOString()): ValidationReport {
  const summary = { serverVersion: '15.8', counts: { tables: 3, columns: 12 } };
  return {
    verdict,
    blue: summary,
    green: summary,
    differences:
      verdict === 'incompatible'
        ? [{ code: 'BC101', severity: 'breaking', object: 'public.orders.total', detail: 'column dropped on green', blue: 'numeric(12,2)', green: null }]
        : [],
    durationMs: 420,
    generatedAt,
    ...(verdict === 'error' ? { error: 'Could not connect to the green cluster.' } : {}),
  };
}

/** A compatible report with no differences, overridden field by field. */
export function reportWith(over: Partial<ValidationReport> = {}): ValidationReport {
  return { verdict: 'compatible', blue: null, green: null, differences: [], durationMs: 1, generatedAt: '2026-11-30T00:00:00.000Z', ...over };
}
