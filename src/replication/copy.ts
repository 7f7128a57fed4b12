/**
 * Following an initial copy (sync start, sync refresh): tables done out of the total, rows copied against the
 * publisher's estimate (pg_class.reltuples, https://www.postgresql.org/docs/15/catalog-pg-class.html), percentage and
 * time left; bounded, and given up — naming the tables and the likely cause — when a table copy keeps failing
 * (pg_stat_subscription_stats.sync_error_count rising while pg_subscription_rel says the table is not ready). A copy
 * held up by a transaction open on the publisher (each table-copy worker creates a slot and waits for it) names it.
 */
import { failure } from '../core/errors.js';
import type { Color } from '../core/naming.js';
import type { Catalog } from '../schema/catalog.js';
import type { ProgressFn, SyncStartReport } from './api.js';
import { blockerFix, describeBlockers, walsendersBlocked } from './blockers.js';
import { likelyCauses } from './health.js';
import type { Session } from './session.js';
import { sleep } from '../core/sleep.js';

export interface CopyLook {
  tablesDone: number;
  tablesTotal: number;
  /** Tables not ready yet (qualified). */
  notReady: string[];
  /** Rows of the finished tables (publisher estimate) plus rows in flight (pg_stat_progress_copy). */
  rowsCopied: number;
  bytesCopied: number;
  syncErrorCount: number;
}

/** Pure: percentage and seconds left from rows done/total and the time spent (null when not computable). */
export function copyEstimate(rowsCopied: number, rowsTotal: number | null, elapsedMs: number): { percent: number | null; etaSeconds: number | null } {
  if (rowsTotal === null || rowsTotal <= 0) return { percent: null, etaSeconds: null };
  const done = Math.min(rowsCopied, rowsTotal);
  const percent = Math.round((done / rowsTotal) * 1000) / 10;
  if (done <= 0 || elapsedMs < 500) return { percent, etaSeconds: null };
  const eta = ((rowsTotal - done) * elapsedMs) / done / 1000;
  return { percent, etaSeconds: Math.max(0, Math.round(eta)) };
}

/**
 * Rows to copy, estimated on the publisher: reltuples where the table was analyzed (or vacuumed), otherwise its
 * heap size at ~100 bytes a row (PostgreSQL 14+ reports -1 for a table never analyzed).
 */
export async function estimateRows(pub: Session, tables: readonly string[]): Promise<Map<string, number>> {
  if (tables.length === 0) return new Map();
  const r = await pub.q<{ t: string; n: string }>(
    `
    SELECT t, (CASE WHEN c.reltuples >= 0 THEN c.reltuples ELSE pg_relation_size(c.oid) / 100 END)::bigint AS n
      FROM unnest($1::text[]) t JOIN pg_class c ON c.oid = to_regclass(t)`,
    [tables],
    `estimate the rows to copy on ${pub.color}`,
  );
  return new Map(r.rows.map((x) => [x.t, Number(x.n)]));
}

export async function lookAtCopy(sub: Session, subName: string, estimates: Map<string, number>): Promise<CopyLook> {
  const r = await sub.q<{ t: string; state: string; inflight: string | null; bytes: string | null }>(
    `
    SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS t, sr.srsubstate AS state,
           (SELECT sum(p.tuples_processed) FROM pg_stat_progress_copy p WHERE p.relid = sr.srrelid) AS inflight,
           (SELECT sum(p.bytes_processed) FROM pg_stat_progress_copy p WHERE p.relid = sr.srrelid) AS bytes
      FROM pg_subscription_rel sr JOIN pg_subscription su ON su.oid = sr.srsubid
      JOIN pg_class c ON c.oid = sr.srrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE su.subname = $1 AND n.nspname <> 'bgmig'`,
    [subName],
  );
  const e = await sub.q<{ n: string | null }>(`SELECT st.sync_error_count AS n FROM pg_stat_subscription_stats st WHERE st.subname = $1`, [subName]);
  let rows = 0;
  let bytes = 0;
  const notReady: string[] = [];
  for (const x of r.rows) {
    if (x.state === 'r' || x.state === 's') rows += estimates.get(x.t) ?? 0;
    else {
      notReady.push(x.t);
      rows += Number(x.inflight ?? 0);
      bytes += Number(x.bytes ?? 0);
    }
  }
  return {
    tablesDone: r.rows.length - notReady.length,
    tablesTotal: r.rows.length,
    notReady: notReady.sort(),
    rowsCopied: rows,
    bytesCopied: bytes,
    syncErrorCount: Number(e.rows[0]?.n ?? 0),
  };
}

export interface WatchCopyOptions {
  wait: boolean;
  timeoutMs: number;
  /** Give up once this many table-copy errors were recorded since the watch began (default 3). */
  maxCopyErrors?: number | undefined;
  /** Both catalogs, to name the likely cause of a failing copy. */
  catalogs?: Record<Color, Catalog> | undefined;
  schemas: readonly string[];
  /** The tables this copy moves (qualified); default: those not ready at the first look. */
  tables?: readonly string[] | undefined;
  /** What the operator runs to follow the copy ("`bgmig db sync status`"). */
  follow?: string;
}

/** Follows the copy until every table is ready (see the module comment); throws BgmigError(1) when it gives up. */
export async function watchCopy(sub: Session, pub: Session, subName: string, opts: WatchCopyOptions, progress: ProgressFn): Promise<SyncStartReport['copy']> {
  const t0 = performance.now();
  const maxErrors = opts.maxCopyErrors ?? 3;
  const follow = opts.follow ?? '`bgmig db sync status`';
  let last = await lookAtCopy(sub, subName, new Map());
  const estimates = await estimateRows(pub, [...(opts.tables ?? last.notReady)]);
  const rowsTotal = [...estimates.values()].reduce((a, b) => a + b, 0) || null;
  // What this copy moves: the tables not ready when it began (all of them for sync start, the new ones for refresh).
  const copied = new Set(opts.tables ?? last.notReady);
  const errors0 = last.syncErrorCount;
  let lastProgressAt = performance.now();
  let lastRows = -1;
  let announced = '';
  const emit = (l: CopyLook) => {
    const { percent, etaSeconds } = copyEstimate(l.rowsCopied, rowsTotal, performance.now() - t0);
    progress({
      kind: 'copy',
      tablesDone: l.tablesDone,
      tablesTotal: l.tablesTotal,
      rowsCopied: l.rowsCopied,
      bytesCopied: l.bytesCopied,
      rowsTotal,
      percent: l.tablesDone === l.tablesTotal ? 100 : percent,
      etaSeconds: l.tablesDone === l.tablesTotal ? 0 : etaSeconds,
    });
  };
  emit(last);
  while (opts.wait && last.tablesDone < last.tablesTotal) {
    if (performance.now() - t0 > opts.timeoutMs) {
      throw failure(
        `The initial copy did not finish within ${Math.round(opts.timeoutMs / 1000)} s (${last.tablesDone}/${last.tablesTotal} tables; still copying: ${last.notReady.slice(0, 5).join(', ')}): replication keeps going — follow it with ${follow}.`,
      );
    }
    const failures = last.syncErrorCount - errors0;
    if (failures >= maxErrors) {
      const causes = opts.catalogs ? likelyCauses(opts.catalogs, pub.color, sub.color, opts.schemas, last.notReady) : [];
      const klass = causeClass(causes);
      throw failure(
        `The copy of ${last.notReady.join(', ')} into ${sub.color} failed ${failures} times (${klass}): ${causes.length > 0 ? `likely cause: ${causes.join('; ')}` : `the error is in ${sub.color}'s server log ("logical replication table synchronization worker")`}. Replication of the other tables keeps going; fix the cause on ${sub.color} and the copy retries by itself (follow it with ${follow}), or end it with \`bgmig db sync stop\`.`,
        undefined,
        { tables: last.notReady, failures, causes },
      );
    }
    await sleep(250);
    last = await lookAtCopy(sub, subName, estimates);
    emit(last);
    if (last.rowsCopied !== lastRows) {
      lastRows = last.rowsCopied;
      lastProgressAt = performance.now();
    } else if (performance.now() - lastProgressAt > 3_000) {
      // No row moved for 3 s: a table-copy worker may be waiting for a transaction open on the publisher.
      const blockers = await walsendersBlocked(pub).catch(() => []);
      const key = blockers.map((b) => b.pid).join(',');
      if (blockers.length > 0 && key !== announced) {
        announced = key;
        progress({
          kind: 'log',
          level: 'warn',
          text: `the copy waits for transactions open on ${pub.color}: ${describeBlockers(blockers)} — ${blockerFix(pub.color, blockers)}`,
        });
      }
    }
  }
  const totals = opts.wait ? await copiedTotals(sub, subName, copied) : { rows: last.rowsCopied, bytes: last.bytesCopied };
  return {
    finished: last.tablesDone === last.tablesTotal,
    tablesDone: last.tablesDone,
    tablesTotal: last.tablesTotal,
    durationMs: Math.round(performance.now() - t0),
    rows: totals.rows,
    bytes: totals.bytes,
  };
}

/** Pure: the SQLSTATE class a list of likely causes points to, in words. */
export function causeClass(causes: readonly string[]): string {
  const text = causes.join(' ');
  if (/unique|CHECK|NOT NULL/.test(text))
    return "integrity constraint violation, SQLSTATE class 23: a constraint on the subscriber rejects the publisher's rows";
  if (/lacks column/.test(text)) return 'undefined column, SQLSTATE 42703: the subscriber lacks a column the publisher sends';
  if (/trigger .* raises an exception/.test(text)) return "raise_exception, SQLSTATE P0001: a trigger on the subscriber rejects the publisher's rows";
  return 'cause not visible in the catalogs';
}

/** Rows and on-disk bytes of the subscribed tables once copied (what the copy moved, measured on arrival). */
async function copiedTotals(sub: Session, subName: string, only: ReadonlySet<string>): Promise<{ rows: number; bytes: number }> {
  const r = await sub.q<{ rel: string }>(
    `
    SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS rel FROM pg_subscription_rel sr JOIN pg_subscription su ON su.oid = sr.srsubid
      JOIN pg_class c ON c.oid = sr.srrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE su.subname = $1 AND n.nspname <> 'bgmig'`,
    [subName],
  );
  const rels = only.size > 0 ? r.rows.filter((x) => only.has(x.rel)) : r.rows;
  if (rels.length === 0) return { rows: 0, bytes: 0 };
  const sql = rels.map((x) => `SELECT (SELECT count(*) FROM ${x.rel}) AS n, pg_table_size('${x.rel.replace(/'/g, "''")}'::regclass) AS b`).join(' UNION ALL ');
  const t = await sub.q<{ n: string; b: string }>(`SELECT sum(n)::bigint AS n, sum(b)::bigint AS b FROM (${sql}) x`);
  return { rows: Number(t.rows[0].n), bytes: Number(t.rows[0].b) };
}
