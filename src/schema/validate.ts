/**
 * The validation itself, shared by the Lambda and `bgmig validate --blue-url/--green-url`: connect to both
 * databases (read-only, bounded), read both catalogs in parallel, diff, and build the report. Never throws for a
 * database problem: an unreachable server, bad credentials or a timeout give a report with verdict `error` and one
 * sentence, so callers always have a report to store, print and gate on.
 */
import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import { messageOf } from '../core/errors.js';
import { connect, describeDbError, describeTarget, DEFAULT_TIMEOUTS, type DbTarget } from '../db/connection.js';
import { type Catalog, catalogCounts, qualify } from './catalog.js';
import { diffCatalogs } from './diff.js';
import { readCatalog } from './read-catalog.js';
import { diffRollback } from './rollback.js';
import type { DatabaseSummary, Difference, Severity, ValidationReport, ValidatorEvent } from './report.js';

export interface ValidatorOptions extends ValidatorEvent {
  connectTimeoutMs?: number;
  /** Bounds every catalog query; a timeout gives an error report. */
  statementTimeoutMs?: number;
  lockTimeoutMs?: number;
  applicationName?: string;
}

type Side = 'blue' | 'green';

/** Connects, reads the catalog and always closes the connection. Failures become one scrubbed sentence. */
async function readSide(side: Side, target: DbTarget, opts: ValidatorOptions): Promise<Catalog> {
  let client: pg.Client | undefined;
  try {
    client = await connect(target, {
      connectTimeoutMs: opts.connectTimeoutMs ?? DEFAULT_TIMEOUTS.connectTimeoutMs,
      statementTimeoutMs: opts.statementTimeoutMs ?? DEFAULT_TIMEOUTS.statementTimeoutMs,
      lockTimeoutMs: opts.lockTimeoutMs ?? DEFAULT_TIMEOUTS.lockTimeoutMs,
      readOnly: true,
      applicationName: opts.applicationName ?? 'bgmig-validator',
    });
    return await readCatalog(client, { includeSchemas: opts.includeSchemas, excludeSchemas: opts.excludeSchemas });
  } catch (e) {
    const err = describeDbError(e, target, 'read the catalog of');
    throw new SideError(side, err.message);
  } finally {
    await client?.end().catch(() => undefined);
  }
}

class SideError extends Error {
  constructor(
    readonly side: Side,
    message: string,
  ) {
    super(`${side === 'blue' ? 'Blue' : 'Green'} database: ${message}`);
  }
}

function summary(c: Catalog, target: DbTarget): DatabaseSummary {
  return { serverVersion: c.serverVersion, counts: catalogCounts(c), target: describeTarget(target) };
}

function totals(list: Difference[]): Record<Severity, number> {
  const t: Record<Severity, number> = { breaking: 0, risky: 0, safe: 0 };
  for (const d of list) t[d.severity]++;
  return t;
}

/** Compares blue with green and returns the report (verdict `error` instead of throwing on database failures). */
export async function validateDatabases(blue: DbTarget, green: DbTarget, opts: ValidatorOptions = {}): Promise<ValidationReport> {
  const started = performance.now();
  const options = { includeSchemas: opts.includeSchemas ?? [], excludeSchemas: opts.excludeSchemas ?? [], ignoreCodes: opts.ignoreCodes ?? [] };
  const finish = (r: Omit<ValidationReport, 'durationMs' | 'generatedAt' | 'options'>): ValidationReport => ({
    ...r,
    durationMs: Math.round(performance.now() - started),
    generatedAt: new Date().toISOString(),
    options,
  });

  const [b, g] = await Promise.allSettled([readSide('blue', blue, opts), readSide('green', green, opts)]);
  if (b.status === 'rejected' || g.status === 'rejected') {
    const errors = [b, g].filter((x): x is PromiseRejectedResult => x.status === 'rejected').map((x) => messageOf(x.reason));
    return finish({
      verdict: 'error',
      blue: b.status === 'fulfilled' ? summary(b.value, blue) : null,
      green: g.status === 'fulfilled' ? summary(g.value, green) : null,
      differences: [],
      error: errors.join(' '),
    });
  }
  return buildReport(b.value, g.value, { blue, green, ...options }, finish);
}

function buildReport(
  blue: Catalog,
  green: Catalog,
  ctx: { blue: DbTarget; green: DbTarget; includeSchemas: string[]; excludeSchemas: string[]; ignoreCodes: string[] },
  finish: (r: Omit<ValidationReport, 'durationMs' | 'generatedAt' | 'options'>) => ValidationReport,
): ValidationReport {
  const summaries = { blue: summary(blue, ctx.blue), green: summary(green, ctx.green) };
  // A --schema naming a schema neither database has is a typo, not a clean bill of health.
  const known = new Set([...blue.schemas, ...green.schemas].map((s) => s.name));
  const unknown = ctx.includeSchemas.filter((s) => !known.has(s));
  if (unknown.length > 0) {
    return finish({
      verdict: 'error',
      ...summaries,
      differences: [],
      error: `Schema ${unknown.map((s) => qualify(s)).join(', ')} exists in neither database: check the schema names (they are case-sensitive).`,
    });
  }
  const ignore = new Set(ctx.ignoreCodes);
  // Both directions from the same two catalogs: blue's application on green, and green's writes back into blue.
  const all = diffCatalogs(blue, green);
  const differences = all.filter((d) => !ignore.has(d.code));
  const t = totals(differences);
  const back = diffRollback(blue, green);
  const backKept = back.filter((d) => !ignore.has(d.code));
  const bt = totals(backKept);
  return finish({
    verdict: t.breaking > 0 ? 'incompatible' : 'compatible',
    ...summaries,
    differences,
    totals: t,
    ignored: all.length - differences.length,
    rollback: { verdict: bt.breaking > 0 ? 'incompatible' : 'compatible', differences: backKept, totals: bt, ignored: back.length - backKept.length },
  });
}
