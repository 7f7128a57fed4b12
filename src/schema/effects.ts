/**
 * What an object does to a statement, read from its deparsed catalog text: the pure judgements the diff uses to
 * weigh a difference by its effect on blue's statements rather than by the kind of object that differs.
 *
 * Each function answers only what the text makes certain; "cannot tell" is always a possible answer, and the diff
 * then stays at "risky" instead of guessing "breaking" (or "safe").
 */
import type { Policy, RoleInfo, Table, Trigger } from './catalog.js';

// ------------------------------------------------------------------------------------------------- SQL text helpers

/** Removes `--` and `/* *\/` comments and empties string literals ('…', E'…', $tag$…$tag$), keeping the quotes. */
export function blankLiteralsAndComments(sql: string): string {
  let out = '';
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i];
    if (ch === '-' && sql[i + 1] === '-') {
      while (i < sql.length && sql[i] !== '\n') i++;
      out += ' ';
    } else if (ch === '/' && sql[i + 1] === '*') {
      let depth = 1;
      i += 2;
      while (i < sql.length && depth > 0) {
        if (sql[i] === '/' && sql[i + 1] === '*') {
          depth++;
          i += 2;
        } else if (sql[i] === '*' && sql[i + 1] === '/') {
          depth--;
          i += 2;
        } else i++;
      }
      out += ' ';
    } else if (ch === "'") {
      i++;
      while (i < sql.length) {
        if (sql[i] === "'" && sql[i + 1] === "'") i += 2;
        else if (sql[i] === "'") break;
        else if (sql[i] === '\\' && /[eE]$/.test(out)) i += 2;
        else i++;
      }
      i++;
      out += "''";
    } else if (ch === '$') {
      const m = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i));
      if (m) {
        const end = sql.indexOf(m[0], i + m[0].length);
        i = end < 0 ? sql.length : end + m[0].length;
        out += "''";
      } else {
        out += ch;
        i++;
      }
    } else {
      out += ch;
      i++;
    }
  }
  return out;
}

/** Splits at a separator that is at parenthesis depth 0 and outside double-quoted identifiers and literals. */
function splitTopLevel(text: string, separator: RegExp): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quote) {
      if (ch === quote && text[i + 1] === quote) i++;
      else if (ch === quote) quote = null;
      continue;
    }
    if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (depth === 0) {
      const m = separator.exec(text.slice(i));
      if (m && m.index === 0) {
        parts.push(text.slice(start, i));
        i += m[0].length - 1;
        start = i + 1;
      }
    }
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim());
}

/** `((a))` → `a`: strips parentheses that enclose the whole text. */
export function stripOuterParens(text: string): string {
  let t = text.trim();
  for (;;) {
    if (!t.startsWith('(') || !t.endsWith(')')) return t;
    // Only when the first parenthesis closes at the very end.
    let depth = 0;
    let quote: string | null = null;
    let closesAtEnd = false;
    for (let i = 0; i < t.length; i++) {
      const ch = t[i];
      if (quote) {
        if (ch === quote && t[i + 1] === quote) i++;
        else if (ch === quote) quote = null;
        continue;
      }
      if (ch === '"' || ch === "'") quote = ch;
      else if (ch === '(') depth++;
      else if (ch === ')') {
        depth--;
        if (depth === 0) {
          closesAtEnd = i === t.length - 1;
          break;
        }
      }
    }
    if (!closesAtEnd) return t;
    t = t.slice(1, -1).trim();
  }
}

/** `"Phone"` → `Phone`, `phone` → `phone`; null when the text is not a single identifier. */
function identifier(text: string): string | null {
  const q = /^"((?:[^"]|"")+)"$/.exec(text);
  if (q) return q[1].replace(/""/g, '"');
  return /^[a-z_][a-z0-9_$]*$/.test(text) ? text : null;
}

// -------------------------------------------------------------------------------------------------- CHECK constraints

export interface CheckShape {
  /** Columns the check requires to be non-NULL (top-level `col IS NOT NULL` conjuncts); `VALUE` for a domain check. */
  notNull: string[];
  /** Every top-level conjunct is such a NOT NULL test: the check is exactly "these columns are NOT NULL". */
  onlyNotNull: boolean;
  /** A top-level conjunct is the constant `false`: the check refuses every row. */
  alwaysFalse: boolean;
}

/**
 * Reads a pg_get_constraintdef text (`CHECK (((phone IS NOT NULL) AND (a <> ''::text))) NOT VALID`). A CHECK is
 * satisfied by NULL results, so only an explicit `IS NOT NULL` makes NULL fail; NOT VALID changes nothing for new
 * rows ("the constraint will still be enforced against subsequent inserts or updates",
 * https://www.postgresql.org/docs/15/sql-altertable.html).
 */
export function checkShape(definition: string): CheckShape {
  const m = /^CHECK \((.*)\)(?: NO INHERIT)?(?: NOT VALID)?$/s.exec(definition.trim());
  if (!m) return { notNull: [], onlyNotNull: false, alwaysFalse: false };
  const conjuncts = splitTopLevel(stripOuterParens(m[1]), /^ AND /).map(stripOuterParens);
  const notNull: string[] = [];
  let others = 0;
  let alwaysFalse = false;
  for (const c of conjuncts) {
    const nn = /^(.+) IS NOT NULL$/s.exec(c);
    const id = nn ? (nn[1] === 'VALUE' ? 'VALUE' : identifier(nn[1])) : null;
    if (id !== null) notNull.push(id);
    else {
      others++;
      if (c === 'false') alwaysFalse = true;
    }
  }
  return { notNull, onlyNotNull: others === 0 && notNull.length > 0, alwaysFalse };
}

/** A constraint definition without the trailing ` NOT VALID` (validation is state, compared on its own). */
export function withoutNotValid(definition: string): string {
  return definition.endsWith(' NOT VALID') ? definition.slice(0, -' NOT VALID'.length) : definition;
}

// ---------------------------------------------------------------------------------------------------------- triggers

/** How a trigger's function treats every row it fires for, when the body makes that certain. */
export type TriggerRefusal = 'raises' | 'skips';

const RAISE_LEVELS = /^raise\s+(debug|log|info|notice|warning)\b/;

/**
 * Whether a trigger refuses every write it fires for: its PL/pgSQL function's first statement raises an exception
 * (`RAISE EXCEPTION …`, or `RAISE '…'`, whose level defaults to EXCEPTION), or — for a BEFORE … FOR EACH ROW trigger
 * on INSERT/UPDATE/DELETE — returns NULL, which silently skips the row ("the trigger manager skips the rest of the
 * operation for this row", https://www.postgresql.org/docs/15/trigger-definition.html). A WHEN condition, a body in
 * another language, or any statement before it makes it uncertain: null.
 */
export function triggerRefusal(t: Trigger): TriggerRefusal | null {
  if (t.conditional || t.functionLanguage !== 'plpgsql') return null;
  const first = firstStatement(t.functionBody);
  if (first === null) return null;
  if (/^raise\b/.test(first) && !RAISE_LEVELS.test(first) && first !== 'raise') return 'raises';
  const writes = t.events.some((e) => e !== 'TRUNCATE');
  if (t.timing === 'before' && t.row && writes && /^return\s+null$/.test(first)) return 'skips';
  return null;
}

/** The first statement of a PL/pgSQL block's body, lower-cased, literals emptied; null when there is none. */
function firstStatement(body: string): string | null {
  const text = blankLiteralsAndComments(body).toLowerCase();
  const begin = /\bbegin\b/.exec(text);
  if (!begin) return null;
  const rest = text.slice(begin.index + begin[0].length);
  const end = rest.indexOf(';');
  if (end < 0) return null;
  const stmt = rest.slice(0, end).replace(/\s+/g, ' ').trim();
  return stmt === '' ? null : stmt;
}

/** Whether a trigger fires for the application's statements (session_replication_role origin): O and A do. */
export function firesForApplication(enabled: string): boolean {
  return enabled === 'O' || enabled === 'A';
}

/** Whether it fires in a logical-replication apply worker (session_replication_role replica): R and A do. */
export function firesForReplication(enabled: string): boolean {
  return enabled === 'R' || enabled === 'A';
}

// ------------------------------------------------------------------------------------------------ row-level security

export type RlsCommand = 'SELECT' | 'INSERT' | 'UPDATE' | 'DELETE';

/**
 * What row-level security lets one role's command do on a table: `all` (not subject, or a permissive policy that is
 * always true and no restrictive one), `none` (default deny: no permissive policy applies, or every one that does
 * is constant false, or a restrictive one is), `some` (policy expressions decide row by row).
 * https://www.postgresql.org/docs/15/ddl-rowsecurity.html: "If no policy exists for the table, a default-deny policy
 * is used"; table owners (and members of the owning role) are exempt unless FORCE ROW LEVEL SECURITY; superusers and
 * BYPASSRLS roles always are. Role membership is taken as inheriting (a NOINHERIT member is judged like a member).
 */
export function rlsAccess(t: Table, roles: ReadonlyMap<string, RoleInfo>, role: string, command: RlsCommand): 'all' | 'some' | 'none' {
  if (!t.rlsEnabled) return 'all';
  const info = roles.get(role);
  // Ownership is checked as privileges of the owning role (check_enable_rls → object_ownercheck →
  // has_privs_of_role), so its members are exempt too, unless FORCE ROW LEVEL SECURITY.
  if (!t.rlsForced && (role === t.owner || info?.memberOf.includes(t.owner))) return 'all';
  if (info?.bypassRls) return 'all';
  const groups = new Set(['public', role, ...(info?.memberOf ?? [])]);
  const applies = (p: Policy) => (p.command === 'ALL' || p.command === command) && p.roles.some((r) => groups.has(r));
  const relevant = t.policies.filter(applies);
  const exprs = (p: Policy): Array<string | null> =>
    command === 'INSERT' ? [p.withCheck ?? p.using] : command === 'UPDATE' ? [p.using, p.withCheck ?? p.using] : [p.using];
  const constant = (p: Policy, value: 'true' | 'false') => exprs(p).every((e) => e === value || (value === 'true' && e === null));
  const permissive = relevant.filter((p) => p.permissive && !exprs(p).some((e) => e === 'false'));
  const restrictive = relevant.filter((p) => !p.permissive);
  if (permissive.length === 0 || restrictive.some((p) => exprs(p).some((e) => e === 'false'))) return 'none';
  if (permissive.some((p) => constant(p, 'true')) && restrictive.every((p) => constant(p, 'true'))) return 'all';
  return 'some';
}
