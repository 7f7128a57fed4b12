/**
 * Which partition-key values a table accepts, from its partitions' bounds, and whether one side accepts every value
 * the other does. Pure; reads the text of pg_get_expr(relpartbound) (deparsed in UTC with ISO dates by the reader,
 * so literals of both databases compare).
 *
 * A plain table accepts every row. A partitioned table accepts a row only when a partition's bound contains its key
 * ("an INSERT … fails if no partition accepts the row: no partition of relation … found for row",
 * https://www.postgresql.org/docs/15/ddl-partitioning.html); a DEFAULT partition takes everything else, NULL keys
 * included. Range partitions never take NULL keys; list partitions take NULL only when they list it.
 *
 * Limits (answered "unknown", which the diff reports as risky rather than breaking): multi-column range keys,
 * strategies that differ between the sides, and sub-partitions (a partition that is itself partitioned is taken
 * to accept its whole bound).
 */
import type { Table } from './catalog.js';

/** A range bound value: a literal's text (quotes removed) or ±infinity. */
type Edge = { literal: string } | 'MINVALUE' | 'MAXVALUE';

export type Coverage =
  | { kind: 'all' }
  | { kind: 'range'; intervals: Array<[Edge, Edge]> }
  | { kind: 'list'; values: Set<string>; nulls: boolean }
  | { kind: 'hash'; covered: number }
  | { kind: 'unknown'; why: string };

/** Splits `a, 'b, c', NULL` at top-level commas (outside quotes and parentheses). */
function items(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  let depth = 0;
  let quote = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quote) {
      cur += ch;
      if (ch === "'" && text[i + 1] === "'") cur += text[++i];
      else if (ch === "'") quote = false;
      continue;
    }
    if (ch === "'") quote = true;
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  if (cur.trim() !== '') out.push(cur.trim());
  return out;
}

/** `'2025-01-01'::date` or `'x'` → its text; `10` → `10`. */
function literal(text: string): string {
  const m = /^'((?:[^']|'')*)'(?:::.+)?$/.exec(text.trim());
  return m ? m[1].replace(/''/g, "'") : text.trim();
}

function edge(text: string): Edge {
  const t = text.trim();
  if (t === 'MINVALUE' || t === 'MAXVALUE') return t;
  return { literal: literal(t) };
}

const NUMBER = /^-?\d+(\.\d+)?$/;

/** Orders two bound values: numbers numerically, anything else as text (ISO dates and timestamps sort as text). */
export function compareEdge(a: Edge, b: Edge): number {
  if (a === b) return 0;
  if (a === 'MINVALUE' || b === 'MAXVALUE') return -1;
  if (a === 'MAXVALUE' || b === 'MINVALUE') return 1;
  const x = a.literal;
  const y = b.literal;
  if (NUMBER.test(x) && NUMBER.test(y)) {
    // Integers exactly (bigint keys exceed double precision), decimals as numbers.
    if (!x.includes('.') && !y.includes('.')) {
      const bx = BigInt(x);
      const by = BigInt(y);
      return bx < by ? -1 : bx > by ? 1 : 0;
    }
    return Math.sign(Number(x) - Number(y));
  }
  return x < y ? -1 : x > y ? 1 : 0;
}

/** The key values `table` accepts. `partitions` are its direct partitions (tables whose partitionOf is it). */
export function coverageOf(table: Table, partitions: Table[]): Coverage {
  if (table.kind !== 'partitioned table') return { kind: 'all' };
  const strategy = (table.partitionKey ?? '').split(' ')[0];
  // A partition left DETACH PENDING takes no rows through the parent.
  const bounds = partitions.filter((p) => !p.detachPending).map((p) => p.partitionBound ?? '');
  if (bounds.includes('DEFAULT')) return { kind: 'all' };
  if (strategy === 'RANGE') {
    const intervals: Array<[Edge, Edge]> = [];
    for (const b of bounds) {
      const m = /^FOR VALUES FROM \((.*)\) TO \((.*)\)$/s.exec(b);
      if (!m) return { kind: 'unknown', why: `unreadable bound ${b}` };
      const from = items(m[1]);
      const to = items(m[2]);
      if (from.length !== 1 || to.length !== 1) return { kind: 'unknown', why: 'multi-column range key' };
      intervals.push([edge(from[0]), edge(to[0])]);
    }
    return { kind: 'range', intervals: merge(intervals) };
  }
  if (strategy === 'LIST') {
    const values = new Set<string>();
    let nulls = false;
    for (const b of bounds) {
      const m = /^FOR VALUES IN \((.*)\)$/s.exec(b);
      if (!m) return { kind: 'unknown', why: `unreadable bound ${b}` };
      for (const v of items(m[1])) {
        if (v === 'NULL') nulls = true;
        else values.add(literal(v));
      }
    }
    return { kind: 'list', values, nulls };
  }
  if (strategy === 'HASH') {
    // Each partition takes 1/modulus of the hash space (remainders are unique per modulus, and moduli divide each other).
    let covered = 0;
    for (const b of bounds) {
      const m = /modulus (\d+), remainder (\d+)/.exec(b);
      if (!m) return { kind: 'unknown', why: `unreadable bound ${b}` };
      covered += 1 / Number(m[1]);
    }
    return covered >= 1 - 1e-9 ? { kind: 'all' } : { kind: 'hash', covered };
  }
  return { kind: 'unknown', why: `partition strategy ${strategy || '?'}` };
}

/** Sorts and joins touching or overlapping ranges (bounds are [from, to)). */
function merge(intervals: Array<[Edge, Edge]>): Array<[Edge, Edge]> {
  const sorted = [...intervals].sort((a, b) => compareEdge(a[0], b[0]));
  const out: Array<[Edge, Edge]> = [];
  for (const [from, to] of sorted) {
    const last = out[out.length - 1];
    if (last && compareEdge(from, last[1]) <= 0) {
      if (compareEdge(to, last[1]) > 0) last[1] = to;
    } else out.push([from, to]);
  }
  return out;
}

const showEdge = (e: Edge) => (typeof e === 'string' ? e : NUMBER.test(e.literal) ? e.literal : `'${e.literal}'`);

/** Human text of a coverage (`FROM ('2025-01-01') TO ('2026-01-01')`, `IN ('a', 'b')`). */
export function describeCoverage(c: Coverage): string {
  switch (c.kind) {
    case 'all':
      return 'every value';
    case 'range':
      return c.intervals.length === 0 ? 'no value (no partition)' : c.intervals.map(([f, t]) => `FROM (${showEdge(f)}) TO (${showEdge(t)})`).join(', ');
    case 'list':
      return c.values.size === 0 && !c.nulls
        ? 'no value (no partition)'
        : `IN (${[...[...c.values].sort().map((v) => (NUMBER.test(v) ? v : `'${v}'`)), ...(c.nulls ? ['NULL'] : [])].join(', ')})`;
    case 'hash':
      return `${Math.round(c.covered * 100)} % of the hash space`;
    case 'unknown':
      return `unknown (${c.why})`;
  }
}

/**
 * Whether `to` accepts every key value `from` accepts: `yes`, `no` with the first values it refuses (one phrase), or
 * `unknown` when the two cannot be compared.
 */
export function covers(from: Coverage, to: Coverage): { answer: 'yes' } | { answer: 'no'; missing: string } | { answer: 'unknown'; why: string } {
  if (to.kind === 'all') return { answer: 'yes' };
  if (to.kind === 'unknown') return { answer: 'unknown', why: to.why };
  if (from.kind === 'unknown') return { answer: 'unknown', why: from.why };
  const nullsRefused = to.kind !== 'list' || !to.nulls;
  if (from.kind === 'all') return { answer: 'no', missing: `key values outside ${describeCoverage(to)}${nullsRefused ? ' and NULL keys' : ''}` };
  if (from.kind === 'range' && to.kind === 'range') {
    for (const [f, t] of from.intervals) {
      // The merged target intervals are disjoint and sorted: [f, t) must lie inside one of them.
      const inside = to.intervals.some(([a, b]) => compareEdge(a, f) <= 0 && compareEdge(t, b) <= 0);
      if (!inside) return { answer: 'no', missing: `key values in FROM (${showEdge(f)}) TO (${showEdge(t)}) not all inside ${describeCoverage(to)}` };
    }
    return { answer: 'yes' };
  }
  if (from.kind === 'list' && to.kind === 'list') {
    const lost = [...from.values].filter((v) => !to.values.has(v)).sort();
    if (from.nulls && !to.nulls) lost.push('NULL');
    return lost.length === 0
      ? { answer: 'yes' }
      : {
          answer: 'no',
          missing: `key values ${lost
            .slice(0, 5)
            .map((v) => (v === 'NULL' || NUMBER.test(v) ? v : `'${v}'`))
            .join(', ')}${lost.length > 5 ? ', …' : ''}`,
        };
  }
  if (from.kind === 'hash' && to.kind === 'hash')
    return to.covered >= from.covered ? { answer: 'unknown', why: 'hash partitions differ' } : { answer: 'no', missing: 'part of the hash space' };
  return { answer: 'unknown', why: 'the partition strategies differ' };
}
