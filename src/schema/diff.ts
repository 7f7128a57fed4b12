/**
 * Compares two catalogs and classifies every difference from the blue application's point of view running
 * against green. Pure: catalogs in, differences out (sorted, stable). No I/O.
 *
 * Severity is the effect on blue's statements, not the kind of object that differs: state is compared beside
 * definitions (populated, valid, validated, enabled, detach pending), and what refuses a write — NOT NULL in any form,
 * row-level security per role, partition bounds, triggers and rules that always refuse — is judged by the pure
 * helpers of effects.ts and partitions.ts. The other direction (green's writes back into blue) is rollback.ts.
 *
 * Objects inside a schema that exists on only one side are not listed one by one: the schema difference (DS101 /
 * SA101) says it all, and a thousand DS102 lines would bury it.
 */
import type {
  Catalog,
  Column,
  CompositeType,
  Constraint,
  ConstraintKind,
  DomainType,
  EnumType,
  Index,
  Privilege,
  RoleInfo,
  Routine,
  Rule,
  Sequence,
  Table,
  Trigger,
  View,
} from './catalog.js';
import { qualify } from './catalog.js';
import { CODES, SEVERITY_ORDER, type Code } from './codes.js';
import { checkShape, firesForApplication, type RlsCommand, rlsAccess, triggerRefusal, withoutNotValid } from './effects.js';
import { coverageOf, covers, describeCoverage } from './partitions.js';
import type { Difference } from './report.js';
import { classifyTypeChange } from './type-compat.js';

export { canAssign, classifyTypeChange } from './type-compat.js';

class Collector {
  readonly out: Difference[] = [];
  add(code: Code, object: string, detail: string, blue: string | null, green: string | null): void {
    this.out.push({ code, severity: CODES[code].severity, object, detail, blue, green });
  }
}

/** What judging one table needs beyond the table: each side's roles (row-level security) and partitions. */
interface Sides {
  blueRoles: ReadonlyMap<string, RoleInfo>;
  greenRoles: ReadonlyMap<string, RoleInfo>;
  blueChildren: ReadonlyMap<string, Table[]>;
  greenChildren: ReadonlyMap<string, Table[]>;
  blueTables: ReadonlyMap<string, Table>;
}

/** Direct partitions per parent (`schema\0name`). */
export function partitionsByParent(tables: Table[]): Map<string, Table[]> {
  const m = new Map<string, Table[]>();
  for (const t of tables) {
    if (!t.partitionOf) continue;
    const k = key(t.partitionOf);
    const list = m.get(k);
    if (list) list.push(t);
    else m.set(k, [t]);
  }
  return m;
}

/**
 * Where two texts first differ, as two short excerpts (`…FROM t` / `…FROM t WHERE (t.id > 0)`), so a report says
 * what changed in a body or view definition without printing it whole. Whitespace runs compare as one space.
 */
export function firstDifference(a: string, b: string, width = 40): { blue: string; green: string } {
  const x = a.replace(/\s+/g, ' ').trim();
  const y = b.replace(/\s+/g, ' ').trim();
  let i = 0;
  while (i < x.length && i < y.length && x[i] === y[i]) i++;
  const start = Math.max(0, i - 15);
  const cut = (s: string) => `${start > 0 ? '…' : ''}${s.slice(start, start + width)}${s.length > start + width ? '…' : ''}` || '(empty)';
  return { blue: cut(x), green: cut(y) };
}

/** Every difference between blue and green, sorted (severity, object, code, detail). */
export function diffCatalogs(blue: Catalog, green: Catalog): Difference[] {
  const c = new Collector();
  const blueSchemas = new Map(blue.schemas.map((s) => [s.name, s]));
  const greenSchemas = new Map(green.schemas.map((s) => [s.name, s]));
  for (const [name, s] of blueSchemas) {
    const g = greenSchemas.get(name);
    if (!g) c.add('DS101', qualify(name), `schema ${qualify(name)} is missing on green: everything the blue application uses in it fails`, 'schema', null);
    else {
      if (s.comment !== g.comment) c.add('CM101', qualify(name), `comment on schema ${qualify(name)} changed`, s.comment, g.comment);
      // USAGE on a schema gates every object in it: a role that lost it fails on all of them.
      if (s.privileges && g.privileges) diffPrivileges(c, qualify(name), s.privileges, g.privileges);
    }
  }
  for (const name of greenSchemas.keys()) {
    if (!blueSchemas.has(name)) c.add('SA101', qualify(name), `schema ${qualify(name)} is new on green`, null, 'schema');
  }
  // Only objects of schemas present on both sides are compared one by one.
  const common = (o: { schema: string }) => blueSchemas.has(o.schema) && greenSchemas.has(o.schema);
  const pick = (cat: Catalog) => ({
    tables: cat.tables.filter(common),
    views: cat.views.filter(common),
    sequences: cat.sequences.filter(common),
    enums: cat.enums.filter(common),
    domains: cat.domains.filter(common),
    compositeTypes: cat.compositeTypes.filter(common),
    routines: cat.routines.filter(common),
    extensions: cat.extensions.filter(common),
  });
  const b = pick(blue);
  const g = pick(green);

  const sides: Sides = {
    blueRoles: new Map((blue.roles ?? []).map((r) => [r.name, r])),
    greenRoles: new Map((green.roles ?? []).map((r) => [r.name, r])),
    blueChildren: partitionsByParent(b.tables),
    greenChildren: partitionsByParent(g.tables),
    blueTables: new Map(b.tables.map((t) => [key(t), t])),
  };
  diffTables(c, b.tables, g.tables, sides);
  diffViews(c, b.views, g.views);
  diffSequences(c, b.sequences, g.sequences, b.tables);
  diffEnums(c, b.enums, g.enums);
  diffDomains(c, b.domains, g.domains);
  diffComposites(c, b.compositeTypes, g.compositeTypes);
  diffRoutines(c, b.routines, g.routines);

  const bx = new Map(b.extensions.map((e) => [e.name, e]));
  const gx = new Map(g.extensions.map((e) => [e.name, e]));
  for (const [name, e] of bx) {
    const o = gx.get(name);
    if (!o) c.add('DS109', qualify(name), `extension ${name} is missing on green: its types and functions are gone`, `${name} ${e.version}`, null);
    else if (o.version !== e.version)
      c.add('EX101', qualify(name), `extension ${name} is version ${o.version} on green, ${e.version} on blue`, e.version, o.version);
  }
  for (const [name, e] of gx) if (!bx.has(name)) c.add('SA110', qualify(name), `extension ${name} is new on green`, null, `${name} ${e.version}`);

  return sortDifferences(c.out);
}

/** The report order: breaking → risky → safe, then by object, code and detail. */
export function sortDifferences(list: Difference[]): Difference[] {
  const rank = (d: Difference) => SEVERITY_ORDER.indexOf(d.severity);
  return [...list].sort((x, y) => rank(x) - rank(y) || cmp(x.object, y.object) || cmp(x.code, y.code) || cmp(x.detail, y.detail));
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const key = (o: { schema: string; name: string }) => `${o.schema}\u0000${o.name}`;
const qname = (o: { schema: string; name: string }) => qualify(o.schema, o.name);

function columnSignature(cols: Column[]): string {
  return cols
    .map((col) => `${col.name}:${col.type.name}`)
    .sort()
    .join(',');
}

// ------------------------------------------------------------------------------------------------- tables & columns

function diffTables(c: Collector, blue: Table[], green: Table[], sides: Sides): void {
  const gm = new Map(green.map((t) => [key(t), t]));
  const bm = new Map(blue.map((t) => [key(t), t]));
  const dropped = blue.filter((t) => !gm.has(key(t)));
  const added = green.filter((t) => !bm.has(key(t)));

  // Probable renames: a dropped and an added table in the same schema with identical columns, when the pairing is
  // unambiguous (exactly one candidate each way).
  const renamedTo = new Map<Table, Table>();
  for (const d of dropped) {
    const sig = columnSignature(d.columns);
    if (d.columns.length === 0) continue;
    const candidates = added.filter((a) => a.schema === d.schema && columnSignature(a.columns) === sig);
    if (candidates.length !== 1) continue;
    const back = dropped.filter((x) => x.schema === d.schema && columnSignature(x.columns) === sig);
    if (back.length !== 1) continue;
    renamedTo.set(d, candidates[0]);
  }
  const renamedTargets = new Set(renamedTo.values());
  for (const d of dropped) {
    const to = renamedTo.get(d);
    const what = d.partitionOf ? 'partition' : d.kind;
    if (to) {
      c.add(
        'BC101',
        qname(d),
        `${what} ${qname(d)} is probably renamed to ${qname(to)} on green (identical columns): statements naming ${qname(d)} fail`,
        qname(d),
        qname(to),
      );
    } else {
      const extra = d.partitionOf ? ` (of ${qname(d.partitionOf)}): rows in its range have nowhere to go` : ': every statement using it fails';
      c.add('DS102', qname(d), `${what} ${qname(d)} is missing on green${extra}`, describeTable(d), null);
    }
  }
  for (const a of added) {
    if (renamedTargets.has(a)) continue;
    const what = a.partitionOf ? `partition of ${qname(a.partitionOf)}` : a.kind;
    c.add('SA102', qname(a), `${what} ${qname(a)} is new on green`, null, describeTable(a));
  }
  for (const bt of blue) {
    const gt = gm.get(key(bt));
    if (gt) diffTable(c, bt, gt, sides);
  }
}

function describeTable(t: Table): string {
  return `${t.partitionOf ? 'partition' : t.kind} (${t.columns.length} columns)`;
}

function diffTable(c: Collector, b: Table, g: Table, sides: Sides): void {
  const t = qname(b);
  if (b.kind !== g.kind) c.add('TB101', t, `${t} is a ${g.kind} on green, a ${b.kind} on blue`, b.kind, g.kind);
  if (g.kind === 'partitioned table') {
    const bc = sideCoverage(b, g, sides.blueChildren, sides.blueTables);
    const gc = coverageOf(g, sides.greenChildren.get(key(g)) ?? []);
    const verdict = bc ? covers(bc, gc) : null;
    if (bc && verdict?.answer === 'no') {
      c.add(
        'TB104',
        t,
        `green's partitions of ${t} refuse ${verdict.missing} that blue's table accepts: blue's inserts of such rows fail (no partition found for row); add the partition or a DEFAULT partition`,
        describeCoverageOf(b, bc),
        describeCoverageOf(g, gc),
      );
    }
  }
  if (g.detachPending && !b.detachPending && g.partitionOf) {
    const parentName = qname(g.partitionOf);
    c.add(
      'ST110',
      t,
      `partition ${t} is DETACH PENDING on green (an interrupted DETACH PARTITION … CONCURRENTLY): ${parentName} routes no rows to it, so blue's inserts of its range fail; run ALTER TABLE ${parentName} DETACH PARTITION ${t} FINALIZE, or re-attach it`,
      'attached',
      'detach pending',
    );
  }
  if (b.logged !== g.logged) {
    c.add(
      'ST109',
      t,
      `${t} is ${g.logged ? 'logged' : 'UNLOGGED'} on green, ${b.logged ? 'logged' : 'UNLOGGED'} on blue: an unlogged table loses its rows on a crash and logical replication cannot carry it`,
      b.logged ? 'logged' : 'unlogged',
      g.logged ? 'logged' : 'unlogged',
    );
  }
  if (!sameList(b.options, g.options)) c.add('SP101', t, `storage parameters of ${t} changed on green`, showOptions(b.options), showOptions(g.options));
  if (b.rlsEnabled || g.rlsEnabled) diffRlsEffect(c, t, b, g, sides);
  if (b.rules.length || g.rules.length) diffRules(c, t, b.rules, g.rules);
  if (b.partitionKey !== g.partitionKey && b.kind === 'partitioned table' && g.kind === 'partitioned table') {
    c.add('TB102', t, `partition key of ${t} changed: rows route to other partitions`, b.partitionKey, g.partitionKey);
  }
  const bParent = b.partitionOf ? qname(b.partitionOf) : null;
  const gParent = g.partitionOf ? qname(g.partitionOf) : null;
  if (bParent !== gParent) {
    const detail =
      gParent === null
        ? `${t} is detached from ${bParent} on green: rows for its range are rejected through the parent`
        : bParent === null
          ? `${t} is attached as a partition of ${gParent} on green`
          : `${t} moved from partition of ${bParent} to partition of ${gParent}`;
    c.add(
      'TB102',
      t,
      detail,
      bParent && `partition of ${bParent} ${b.partitionBound ?? ''}`.trim(),
      gParent && `partition of ${gParent} ${g.partitionBound ?? ''}`.trim(),
    );
  } else if (bParent !== null && b.partitionBound !== g.partitionBound) {
    c.add('TB102', t, `partition bound of ${t} changed: rows outside the new bound are rejected or go elsewhere`, b.partitionBound, g.partitionBound);
  }
  if (b.replicaIdentity !== g.replicaIdentity || b.replicaIdentityIndex !== g.replicaIdentityIndex) {
    const show = (x: Table) => (x.replicaIdentity === 'index' ? `index ${x.replicaIdentityIndex ?? '?'}` : x.replicaIdentity);
    c.add('TB103', t, `replica identity of ${t} is ${show(g)} on green, ${show(b)} on blue`, show(b), show(g));
  }
  if (!b.rlsEnabled && g.rlsEnabled)
    c.add(
      'RL101',
      t,
      `row-level security is enabled on ${t} on green: rows no policy allows are invisible to the blue application's role`,
      'disabled',
      'enabled',
    );
  if (b.rlsEnabled && !g.rlsEnabled)
    c.add('RL102', t, `row-level security is disabled on ${t} on green: every row is visible to every role with SELECT`, 'enabled', 'disabled');
  if (b.rlsForced !== g.rlsForced)
    c.add(
      'RL103',
      t,
      `FORCE ROW LEVEL SECURITY on ${t} is ${g.rlsForced ? 'on' : 'off'} on green`,
      b.rlsForced ? 'forced' : 'not forced',
      g.rlsForced ? 'forced' : 'not forced',
    );
  if (b.comment !== g.comment) c.add('CM101', t, `comment on ${t} changed`, b.comment, g.comment);

  // A partition's columns are its parent's: the parent's differences are the ones to report, once.
  if (!(b.partitionOf && g.partitionOf)) diffColumns(c, t, b.columns, g.columns, g.privileges);
  diffConstraints(c, b, g);
  diffNotNullChecks(c, b, g);
  diffIndexes(c, b.schema, b.indexes, g.indexes);
  diffTriggers(c, t, b.triggers, g.triggers);
  diffPolicies(c, t, b, g);
  diffPrivileges(c, t, b.privileges, g.privileges);
}

function diffColumns(c: Collector, t: string, blue: Column[], green: Column[], greenTablePrivileges: Privilege[] = []): void {
  // Most tables are unchanged: the same columns in the same order need no maps, renames or order check.
  if (blue.length === green.length && blue.every((x, i) => x.name === green[i].name && sameColumn(x, green[i]))) return;
  const gm = new Map(green.map((x) => [x.name, x]));
  const bm = new Map(blue.map((x) => [x.name, x]));
  const dropped = blue.filter((x) => !gm.has(x.name));
  const added = green.filter((x) => !bm.has(x.name));

  // Probable renames: a dropped and an added column of the same type, unambiguous both ways; with several
  // candidates of one type, the one at the same position wins.
  const renamed = new Map<Column, Column>();
  for (const d of dropped) {
    const candidates = added.filter((a) => a.type.name === d.type.name && ![...renamed.values()].includes(a));
    const rivals = dropped.filter((x) => x.type.name === d.type.name);
    let match: Column | undefined;
    if (candidates.length === 1 && rivals.length === 1) match = candidates[0];
    else match = candidates.find((a) => a.position === d.position);
    if (match) renamed.set(d, match);
  }
  const renamedTargets = new Set(renamed.values());
  for (const d of dropped) {
    const to = renamed.get(d);
    const o = `${t}.${qualify(d.name)}`;
    if (to)
      c.add(
        'BC102',
        o,
        `column ${o} is probably renamed to ${qualify(to.name)} on green (same type ${d.type.name}): statements naming ${qualify(d.name)} fail`,
        `${d.name} ${d.type.name}`,
        `${to.name} ${to.type.name}`,
      );
    else c.add('DS103', o, `column ${o} is missing on green: statements naming it fail`, describeColumn(d), null);
  }
  for (const a of added) {
    if (renamedTargets.has(a)) continue;
    const o = `${t}.${qualify(a.name)}`;
    const required = a.notNull && a.default === null && a.identity === null && a.generated === null;
    if (required)
      c.add('MF103', o, `column ${o} is new on green, NOT NULL without a default: blue inserts, which do not name it, fail`, null, describeColumn(a));
    else c.add('SA103', o, `column ${o} is new on green (${a.notNull ? 'with a default' : 'nullable'})`, null, describeColumn(a));
  }
  for (const bc of blue) {
    const gc = gm.get(bc.name);
    // Most columns are unchanged: skip building names and classifying types for them.
    if (gc && !sameColumn(bc, gc)) diffColumn(c, `${t}.${qualify(bc.name)}`, bc, gc, greenTablePrivileges);
  }
  // Relative order of the columns both sides have (renames aside).
  const bOrder = blue.filter((x) => gm.has(x.name)).map((x) => x.name);
  const gOrder = green.filter((x) => bm.has(x.name)).map((x) => x.name);
  if (bOrder.join('\u0000') !== gOrder.join('\u0000')) {
    c.add('CO101', t, `columns of ${t} are in another order on green`, bOrder.map(qualifyName).join(', '), gOrder.map(qualifyName).join(', '));
  }
}

function sameColumn(a: Column, b: Column): boolean {
  return (
    a.type.name === b.type.name &&
    a.notNull === b.notNull &&
    a.default === b.default &&
    a.identity === b.identity &&
    a.generated === b.generated &&
    a.collation === b.collation &&
    a.comment === b.comment &&
    samePrivileges(a.privileges, b.privileges)
  );
}

function samePrivileges(a: Privilege[] | undefined, b: Privilege[] | undefined): boolean {
  if (!a || !b) return a === b;
  return a.length === b.length && a.every((p, i) => p.grantee === b[i].grantee && p.privilege === b[i].privilege && p.grantable === b[i].grantable);
}

function qualifyName(n: string): string {
  return qualify(n);
}

function describeColumn(x: Column): string {
  const parts = [x.type.name];
  if (x.notNull) parts.push('NOT NULL');
  if (x.identity) parts.push(`GENERATED ${x.identity.toUpperCase()} AS IDENTITY`);
  if (x.generated) parts.push(`GENERATED ALWAYS AS ${x.generated} STORED`);
  if (x.default !== null) parts.push(`DEFAULT ${x.default}`);
  return parts.join(' ');
}

function diffColumn(c: Collector, o: string, b: Column, g: Column, greenTablePrivileges: Privilege[] = []): void {
  if (!samePrivileges(b.privileges, g.privileges)) {
    // A column grant revoked while the role holds the privilege on the whole table changes nothing for it.
    const tableWide = new Set(greenTablePrivileges.map((p) => `${p.grantee}\u0000${p.privilege}`));
    const blueCol = (b.privileges ?? []).filter((p) => !tableWide.has(`${p.grantee}\u0000${p.privilege}`));
    const greenCol = (g.privileges ?? []).filter((p) => !tableWide.has(`${p.grantee}\u0000${p.privilege}`));
    diffPrivileges(c, o, blueCol, greenCol);
  }
  diffType(c, o, 'column', b.type, g.type);
  if (!b.notNull && g.notNull && !(g.identity && !b.identity)) {
    c.add('MF104', o, `column ${o} is NOT NULL on green: blue writes of NULL fail`, 'NULL allowed', 'NOT NULL');
  }
  if (b.notNull && !g.notNull) c.add('NN101', o, `column ${o} allows NULL on green: blue readers may get NULLs they never saw`, 'NOT NULL', 'NULL allowed');

  // Generated columns.
  if (b.generated === null && g.generated !== null)
    c.add('GC101', o, `column ${o} is generated on green: blue writes to it fail`, describeColumn(b), describeColumn(g));
  else if (b.generated !== null && g.generated !== b.generated) {
    c.add(
      'GC102',
      o,
      g.generated === null ? `column ${o} is no longer generated on green: nothing fills it` : `generation expression of ${o} changed`,
      b.generated,
      g.generated,
    );
  }

  // Identity.
  if (b.identity !== g.identity) {
    if (b.identity !== null && g.identity === null && g.default === null)
      c.add('ID101', o, `column ${o} lost its identity on green and has no default: blue inserts, which omit it, fail`, describeColumn(b), describeColumn(g));
    else if (g.identity === 'always')
      c.add('ID102', o, `column ${o} is GENERATED ALWAYS AS IDENTITY on green: blue inserts that supply a value fail`, describeColumn(b), describeColumn(g));
    else c.add('ID103', o, `identity of ${o} changed on green`, describeColumn(b), describeColumn(g));
  }

  // Defaults (identity and generated columns have none; their changes are reported above).
  const involved = b.identity !== null || g.identity !== null || b.generated !== null || g.generated !== null;
  if (!involved && b.default !== g.default) {
    if (b.default === null) c.add('DF104', o, `column ${o} has a default on green`, null, g.default);
    else if (g.default === null && g.notNull)
      c.add('DF103', o, `column ${o} lost its default on green and is NOT NULL: blue inserts that omit it fail`, b.default, null);
    else if (g.default === null) c.add('DF102', o, `column ${o} lost its default on green: blue inserts that omit it store NULL`, b.default, null);
    else c.add('DF101', o, `default of ${o} changed on green`, b.default, g.default);
  }
  if (b.collation !== g.collation)
    c.add('CL101', o, `collation of ${o} changed on green: sorting and uniqueness may differ`, b.collation ?? 'default', g.collation ?? 'default');
  if (b.comment !== g.comment) c.add('CM101', o, `comment on ${o} changed`, b.comment, g.comment);
}

function diffType(c: Collector, o: string, what: string, b: Column['type'], g: Column['type']): void {
  const compat = classifyTypeChange(b, g);
  if (compat.change === 'same') return;
  const detail = `${what} ${o} is ${g.name} on green, ${b.name} on blue: ${compat.reason}`;
  if (compat.change === 'lossless') c.add('CT103', o, detail, b.name, g.name);
  else if (compat.change === 'observable') c.add('CT102', o, detail, b.name, g.name);
  else c.add('CT101', o, detail, b.name, g.name);
}

// ------------------------------------------------------------------------------------------- constraints & indexes

const ADDED_CODE: Record<Exclude<ConstraintKind, 'primary key'>, Code> = { unique: 'MF105', check: 'MF106', 'foreign key': 'MF107', exclusion: 'MF108' };

function diffConstraints(c: Collector, b: Table, g: Table): void {
  // Both lists are sorted by name: identical lists (the common case) need no matching.
  if (
    b.constraints.length === g.constraints.length &&
    b.constraints.every(
      (x, i) =>
        x.name === g.constraints[i].name &&
        x.definition === g.constraints[i].definition &&
        x.kind === g.constraints[i].kind &&
        x.inherited === g.constraints[i].inherited,
    )
  )
    return;
  const t = qname(b);
  const own = (x: Constraint) => !x.inherited;
  const bpk = b.constraints.find((x) => x.kind === 'primary key');
  const gpk = g.constraints.find((x) => x.kind === 'primary key');
  if (bpk && !gpk && own(bpk))
    c.add('PK101', t, `primary key of ${t} is missing on green: blue upserts (ON CONFLICT) and row identity break`, bpk.definition, null);
  else if (bpk && gpk && bpk.definition !== gpk.definition && own(bpk))
    c.add('PK101', t, `primary key of ${t} changed on green: row identity and ON CONFLICT targets differ`, bpk.definition, gpk.definition);
  else if (!bpk && gpk && own(gpk)) c.add('PK102', t, `${t} has a primary key on green: blue writes of duplicate or NULL keys fail`, null, gpk.definition);

  const bl = b.constraints.filter((x) => x.kind !== 'primary key' && own(x));
  const gl = g.constraints.filter((x) => x.kind !== 'primary key' && own(x));
  const matchedB = new Set<Constraint>();
  const matchedG = new Set<Constraint>();
  // NOT VALID is state, not definition: it changes nothing for new rows, so it is compared on its own (ST105).
  const def = (x: Constraint) => withoutNotValid(x.definition);
  // Same kind and definition: the same constraint (perhaps under another name).
  for (const x of bl) {
    const y =
      gl.find((z) => !matchedG.has(z) && z.kind === x.kind && def(z) === def(x) && z.name === x.name) ??
      gl.find((z) => !matchedG.has(z) && z.kind === x.kind && def(z) === def(x));
    if (!y) continue;
    matchedB.add(x);
    matchedG.add(y);
    if (y.name !== x.name)
      c.add('CN102', `${t}.${qualify(x.name)}`, `${x.kind} constraint ${qualify(x.name)} on ${t} is named ${qualify(y.name)} on green`, x.name, y.name);
    if (y.validated !== x.validated) {
      c.add(
        'ST105',
        `${t}.${qualify(y.name)}`,
        `${x.kind} constraint ${qualify(y.name)} on ${t} is ${y.validated ? 'validated' : 'NOT VALID'} on green, ${x.validated ? 'validated' : 'NOT VALID'} on blue: new rows are checked alike`,
        x.validated ? 'validated' : 'NOT VALID',
        y.validated ? 'validated' : 'NOT VALID',
      );
    }
  }
  // Same name, other definition: changed.
  for (const x of bl) {
    if (matchedB.has(x)) continue;
    const y = gl.find((z) => !matchedG.has(z) && z.name === x.name && z.kind === x.kind);
    if (!y) continue;
    matchedB.add(x);
    matchedG.add(y);
    c.add(
      ADDED_CODE[x.kind as Exclude<ConstraintKind, 'primary key'>],
      `${t}.${qualify(x.name)}`,
      `${x.kind} constraint ${qualify(x.name)} on ${t} changed on green: existing writers may violate it`,
      x.definition,
      y.definition,
    );
  }
  for (const x of bl) {
    if (!matchedB.has(x)) c.add('CN101', `${t}.${qualify(x.name)}`, `${x.kind} constraint ${qualify(x.name)} on ${t} is missing on green`, x.definition, null);
  }
  for (const y of gl) {
    if (matchedG.has(y)) continue;
    const o = `${t}.${qualify(y.name)}`;
    const shape = y.kind === 'check' ? checkShape(y.definition) : null;
    // The check a partition's bound already implies (DETACH … CONCURRENTLY adds exactly that one).
    if (y.kind === 'check' && b.partitionConstraint && withoutNotValid(y.definition) === `CHECK (${b.partitionConstraint})`) {
      c.add(
        'CN103',
        o,
        `check constraint ${qualify(y.name)} on ${t} is new on green; it is what the partition bound of ${t} already guarantees on blue`,
        null,
        y.definition,
      );
      continue;
    }
    if (shape?.onlyNotNull) {
      // Exactly "these columns are NOT NULL": breaking where blue lets them be NULL (MF109, from diffNotNullChecks),
      // and nothing blue writes can violate it where blue's schema already guarantees it.
      if (shape.notNull.every((col) => notNullOn(b, col)))
        c.add(
          'CN103',
          o,
          `check constraint ${qualify(y.name)} on ${t} is new on green; blue's schema already keeps ${shape.notNull.map(qualifyName).join(', ')} non-NULL, so no blue write violates it`,
          null,
          y.definition,
        );
      continue;
    }
    c.add(
      ADDED_CODE[y.kind as Exclude<ConstraintKind, 'primary key'>],
      o,
      `${y.kind} constraint ${qualify(y.name)} on ${t} is new on green: existing writers may violate it`,
      null,
      y.definition,
    );
  }
}

/** The column is NOT NULL on this table, by its attribute or by a CHECK (col IS NOT NULL) of any validity. */
export function notNullOn(t: Table, column: string): boolean {
  const col = t.columns.find((x) => x.name === column);
  if (col?.notNull) return true;
  // A range partition's key is never NULL: its bound implies `key IS NOT NULL`.
  if (t.partitionConstraint && checkShape(`CHECK (${t.partitionConstraint})`).notNull.includes(column)) return true;
  return t.constraints.some((x) => x.kind === 'check' && x.definition.includes('IS NOT NULL') && checkShape(x.definition).notNull.includes(column));
}

/**
 * CHECK (col IS NOT NULL) on green — NOT VALID included, since new rows are still checked — refuses blue's writes of
 * NULL exactly as SET NOT NULL does (MF104): breaking wherever blue lets the column be NULL, and for a column new on
 * green without a default, which blue's inserts leave NULL.
 */
function diffNotNullChecks(c: Collector, b: Table, g: Table): void {
  const checks = g.constraints.filter((x) => x.kind === 'check' && !x.inherited && x.definition.includes('IS NOT NULL'));
  if (checks.length === 0) return;
  const t = qname(b);
  const reported = new Set<string>();
  for (const x of checks) {
    for (const column of checkShape(x.definition).notNull) {
      if (reported.has(column) || notNullOn(b, column)) continue;
      const onBlue = b.columns.find((y) => y.name === column);
      const onGreen = g.columns.find((y) => y.name === column);
      if (!onGreen || onGreen.notNull) continue; // a NOT NULL column is reported as such (MF104/MF103)
      const filled = onGreen.default !== null || onGreen.identity !== null || onGreen.generated !== null;
      if (!onBlue && filled) continue; // blue's inserts get the default
      reported.add(column);
      const o = `${t}.${qualify(column)}`;
      const how = `check ${qualify(x.name)} ${x.validated ? '' : '(NOT VALID: still checked for new rows) '}requires ${qualify(column)} IS NOT NULL on green`;
      c.add(
        'MF109',
        o,
        onBlue ? `${how}: blue's writes of NULL to ${o} fail` : `${how}, a column new on green without a default: blue's inserts, which do not name it, fail`,
        onBlue ? 'NULL allowed' : null,
        x.definition,
      );
    }
  }
}

function diffIndexes(c: Collector, schema: string, blueAll: Index[], greenAll: Index[]): void {
  const same = (x: Index, y: Index) =>
    x.name === y.name &&
    x.definition === y.definition &&
    x.constraintBacked === y.constraintBacked &&
    x.inherited === y.inherited &&
    x.valid === y.valid &&
    sameList(x.options, y.options);
  if (blueAll.length === greenAll.length && blueAll.every((x, i) => same(x, greenAll[i]))) return;
  const o = (i: Index) => qualify(schema, i.name);
  // Storage parameters of constraint-backed indexes (their constraint is compared, their WITH clause is not in it).
  const greenByName = new Map(greenAll.map((i) => [i.name, i]));
  for (const x of blueAll) {
    const y = greenByName.get(x.name);
    if (x.constraintBacked && y?.constraintBacked && !sameList(x.options, y.options))
      c.add('SP101', o(x), `storage parameters of index ${o(x)} changed on green`, showOptions(x.options), showOptions(y.options));
  }
  // Indexes backing a constraint are compared as the constraint; a partition's copy of its parent's index is
  // compared as the parent's index.
  const bl = blueAll.filter((i) => !i.constraintBacked && !i.inherited);
  const gl = greenAll.filter((i) => !i.constraintBacked && !i.inherited);
  const matchedB = new Set<Index>();
  const matchedG = new Set<Index>();
  const state = (x: Index, y: Index) => {
    if (!sameList(x.options, y.options))
      c.add('SP101', o(x), `storage parameters of index ${o(x)} changed on green`, showOptions(x.options), showOptions(y.options));
    if (x.valid && !y.valid) {
      const why = `index ${o(y)} is INVALID on green${y.ready ? '' : ' and not ready (it receives no inserts)'}: the planner ignores it`;
      // ON CONFLICT infers its arbiter only from valid unique indexes (infer_arbiter_indexes): blue's upserts fail.
      if (y.unique)
        c.add(
          'ST103',
          o(x),
          `${why}, and blue's INSERT … ON CONFLICT on its columns fails ("no unique or exclusion constraint matching the ON CONFLICT specification"); REINDEX it or recreate it`,
          'valid',
          y.ready ? 'invalid' : 'invalid, not ready',
        );
      else c.add('ST104', o(x), `${why}; queries that used it get slower until it is rebuilt (REINDEX)`, 'valid', y.ready ? 'invalid' : 'invalid, not ready');
    }
  };
  for (const x of bl) {
    const y =
      gl.find((z) => !matchedG.has(z) && z.definition === x.definition && z.name === x.name) ??
      gl.find((z) => !matchedG.has(z) && z.definition === x.definition);
    if (!y) continue;
    matchedB.add(x);
    matchedG.add(y);
    if (y.name !== x.name) c.add('IX103', o(x), `index ${o(x)} is named ${qualify(y.name)} on green`, x.name, y.name);
    state(x, y);
  }
  for (const x of bl) {
    if (matchedB.has(x)) continue;
    const y = gl.find((z) => !matchedG.has(z) && z.name === x.name);
    if (!y) continue;
    matchedB.add(x);
    matchedG.add(y);
    if (y.unique && !x.unique) c.add('MF101', o(x), `index ${o(x)} is unique on green: blue writes of duplicates fail`, x.definition, y.definition);
    else c.add('IX102', o(x), `index ${o(x)} has another definition on green`, x.definition, y.definition);
    state(x, y);
  }
  for (const x of bl) if (!matchedB.has(x)) c.add('IX101', o(x), `index ${o(x)} is missing on green: queries that used it get slower`, x.definition, null);
  for (const y of gl) {
    if (matchedG.has(y)) continue;
    if (y.unique) c.add('MF101', o(y), `unique index ${o(y)} is new on green: blue writes of duplicates fail`, null, y.definition);
    else c.add('SA104', o(y), `index ${o(y)} is new on green`, null, y.definition);
  }
}

// ------------------------------------------------------------------------------- triggers, policies, privileges

function diffTriggers(c: Collector, t: string, blue: Trigger[], green: Trigger[]): void {
  if (blue.length === 0 && green.length === 0) return;
  const gm = new Map(green.map((x) => [x.name, x]));
  const bm = new Map(blue.map((x) => [x.name, x]));
  const show = (x: Trigger) => (x.enabled === 'O' ? x.definition : `${x.definition} (${ENABLED[x.enabled] ?? x.enabled})`);
  for (const x of blue) {
    const o = `${t}.${qualify(x.name)}`;
    const y = gm.get(x.name);
    if (!y) c.add('TG102', o, `trigger ${qualify(x.name)} on ${t} is missing on green: its side effects stop`, show(x), null);
    else {
      if (x.definition !== y.definition) c.add('TG103', o, `trigger ${qualify(x.name)} on ${t} changed on green`, x.definition, y.definition);
      diffFiring(c, o, `trigger ${qualify(x.name)} on ${t}`, x.enabled, y.enabled);
    }
  }
  for (const y of green)
    if (!bm.has(y.name)) c.add('TG101', `${t}.${qualify(y.name)}`, `trigger ${qualify(y.name)} on ${t} is new on green: blue writes run it`, null, show(y));
  // Effect, whatever made it so (added, enabled, its function changed): a trigger that refuses every write it fires for.
  for (const y of green) {
    if (!firesForApplication(y.enabled)) continue;
    const refusal = triggerRefusal(y);
    if (refusal === null) continue;
    const x = bm.get(y.name);
    if (x && firesForApplication(x.enabled) && triggerRefusal(x) === refusal && x.events.join() === y.events.join()) continue;
    const events = y.events.filter((e) => e !== 'TRUNCATE' || refusal === 'raises').join('/');
    const effect =
      refusal === 'raises'
        ? `its function always raises an exception: blue's ${events} on ${t} fail`
        : `its function always returns NULL for a BEFORE ROW trigger: blue's ${events} on ${t} report success and change nothing`;
    c.add('TG104', `${t}.${qualify(y.name)}`, `trigger ${qualify(y.name)} fires for blue's writes on green and ${effect}`, x ? show(x) : null, show(y));
  }
}

const ENABLED: Record<string, string> = { O: 'enabled', D: 'disabled', R: 'enabled replica', A: 'enabled always' };

/**
 * A trigger's or rule's enabled state, judged by what it means for blue's statements: the application's sessions
 * run with session_replication_role = origin, where O and A fire and R and D do not.
 */
function diffFiring(c: Collector, o: string, what: string, blue: string, green: string): void {
  if (blue === green) return;
  const fb = firesForApplication(blue);
  const fg = firesForApplication(green);
  const states = `${ENABLED[green] ?? green} on green, ${ENABLED[blue] ?? blue} on blue`;
  if (fb && !fg)
    c.add('ST106', o, `${what} is ${states}: it no longer fires for blue's statements, its side effects stop`, ENABLED[blue] ?? blue, ENABLED[green] ?? green);
  else if (!fb && fg) c.add('ST107', o, `${what} is ${states}: blue's statements now run it`, ENABLED[blue] ?? blue, ENABLED[green] ?? green);
  else
    c.add(
      'ST108',
      o,
      `${what} is ${states}: the same for blue's sessions, different for logical-replication apply`,
      ENABLED[blue] ?? blue,
      ENABLED[green] ?? green,
    );
}

function diffRules(c: Collector, t: string, blue: Rule[], green: Rule[]): void {
  const gm = new Map(green.map((x) => [x.name, x]));
  const bm = new Map(blue.map((x) => [x.name, x]));
  const swallows = (r: Rule) => r.instead && r.event !== 'SELECT' && firesForApplication(r.enabled) && /DO INSTEAD NOTHING;?$/.test(r.definition);
  for (const x of blue) {
    const o = `${t}.${qualify(x.name)}`;
    const y = gm.get(x.name);
    if (!y) c.add('RU102', o, `rule ${qualify(x.name)} on ${t} is missing on green: what it did for blue's ${x.event} stops`, x.definition, null);
    else {
      if (x.definition !== y.definition)
        c.add('RU101', o, `rule ${qualify(x.name)} on ${t} changed on green: blue's ${y.event} runs rewritten otherwise`, x.definition, y.definition);
      diffFiring(c, o, `rule ${qualify(x.name)} on ${t}`, x.enabled, y.enabled);
    }
  }
  for (const y of green) {
    const o = `${t}.${qualify(y.name)}`;
    const x = bm.get(y.name);
    if (!x) c.add('RU101', o, `rule ${qualify(y.name)} on ${t} is new on green: blue's ${y.event} runs rewritten`, null, y.definition);
    if (swallows(y) && !(x && swallows(x)))
      c.add(
        'RU103',
        o,
        `rule ${qualify(y.name)} on ${t} is DO INSTEAD NOTHING ON ${y.event} on green: blue's ${y.event} statements report success and store nothing`,
        x?.definition ?? null,
        y.definition,
      );
  }
}

function diffPolicies(c: Collector, t: string, b: Table, g: Table): void {
  const show = (p: Table['policies'][number]) =>
    `${p.permissive ? 'PERMISSIVE' : 'RESTRICTIVE'} FOR ${p.command} TO ${p.roles.join(', ')}${p.using ? ` USING ${p.using}` : ''}${p.withCheck ? ` WITH CHECK ${p.withCheck}` : ''}`;
  const gm = new Map(g.policies.map((x) => [x.name, x]));
  const bm = new Map(b.policies.map((x) => [x.name, x]));
  for (const x of b.policies) {
    const o = `${t}.${qualify(x.name)}`;
    const y = gm.get(x.name);
    if (!y) c.add('RL105', o, `policy ${qualify(x.name)} on ${t} is missing on green: rows it allowed may become invisible`, show(x), null);
    else if (show(x) !== show(y)) c.add('RL106', o, `policy ${qualify(x.name)} on ${t} changed on green: other rows are visible or writable`, show(x), show(y));
  }
  for (const y of g.policies)
    if (!bm.has(y.name)) c.add('RL104', `${t}.${qualify(y.name)}`, `policy ${qualify(y.name)} on ${t} is new on green`, null, show(y));
}

const RLS_COMMANDS: RlsCommand[] = ['SELECT', 'INSERT', 'UPDATE', 'DELETE'];

/**
 * Row-level security by its effect: for every role that holds a command's privilege on both sides (the table's
 * users; a revoked privilege is PV101), what the policies let it do on blue and on green.
 */
function diffRlsEffect(c: Collector, t: string, b: Table, g: Table, sides: Sides): void {
  const refused: string[] = [];
  const filtered: string[] = [];
  for (const cmd of RLS_COMMANDS) {
    const greenHolders = new Set(g.privileges.filter((p) => p.privilege === cmd).map((p) => p.grantee));
    for (const p of b.privileges) {
      if (p.privilege !== cmd || !greenHolders.has(p.grantee)) continue;
      const role = p.grantee === 'PUBLIC' ? 'public' : p.grantee;
      const before = rlsAccess(b, sides.blueRoles, role, cmd);
      const after = rlsAccess(g, sides.greenRoles, role, cmd);
      if (before !== 'none' && after === 'none') refused.push(`${p.grantee} ${cmd}`);
      else if (before === 'all' && after === 'some') filtered.push(`${p.grantee} ${cmd}`);
    }
  }
  const show = (x: Table) =>
    `row level security ${x.rlsEnabled ? 'enabled' : 'disabled'}${x.rlsForced ? ', forced' : ''}, ${x.policies.length} polic${x.policies.length === 1 ? 'y' : 'ies'}`;
  // `app_rw SELECT, app_rw INSERT` → `app_rw (SELECT, INSERT)`.
  const byRole = (list: string[]) => {
    const m = new Map<string, string[]>();
    for (const x of list) {
      const at = x.lastIndexOf(' ');
      m.set(x.slice(0, at), [...(m.get(x.slice(0, at)) ?? []), x.slice(at + 1)]);
    }
    return [...m].map(([role, cmds]) => `${role} (${cmds.join(', ')})`).join(', ');
  };
  if (refused.length) {
    c.add(
      'RL107',
      t,
      `row-level security on green gives no policy that admits ${byRole(refused)} on ${t} (default deny): that role's INSERTs fail and its SELECT/UPDATE/DELETE see no rows; add a policy for it`,
      show(b),
      show(g),
    );
  }
  if (filtered.length)
    c.add(
      'RL108',
      t,
      `row-level security on green decides ${byRole(filtered)} on ${t} row by row through policy expressions: rows blue writes or reads may be refused or hidden`,
      show(b),
      show(g),
    );
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function showOptions(o: readonly string[]): string {
  return o.length ? o.join(', ') : 'defaults';
}

/**
 * The key values `x` accepts, comparable with `other` — the other side's partitioned table of the same name — or
 * null when they cannot be compared (a partition key change is TB102). A plain table accepts every value, except a
 * plain partition, which only ever holds its own bound: it is compared as its parent's one partition when the other
 * side sub-partitions it by the parent's key. `children`/`tables` are x's side's partitions per parent and tables by key.
 */
export function sideCoverage(
  x: Table,
  other: Table,
  children: ReadonlyMap<string, Table[]>,
  tables: ReadonlyMap<string, Table>,
): ReturnType<typeof coverageOf> | null {
  if (x.kind === 'partitioned table') return x.partitionKey === other.partitionKey ? coverageOf(x, children.get(key(x)) ?? []) : null;
  if (!x.partitionOf) return coverageOf(x, []);
  const parent = tables.get(key(x.partitionOf));
  return parent && parent.partitionKey === other.partitionKey ? coverageOf(parent, [x]) : null;
}

function describeCoverageOf(t: Table, cov: ReturnType<typeof coverageOf>): string {
  if (t.kind !== 'partitioned table') return `${t.kind}: every row`;
  return `PARTITION BY ${t.partitionKey ?? '?'}: ${cov.kind === 'all' ? 'every value' : describeCoverage(cov)}`;
}

function diffPrivileges(c: Collector, o: string, blue: Privilege[], green: Privilege[]): void {
  // Both lists are sorted by the reader: equal lists (the common case) need no grouping.
  if (
    blue.length === green.length &&
    blue.every((p, i) => p.grantee === green[i].grantee && p.privilege === green[i].privilege && p.grantable === green[i].grantable)
  )
    return;
  const byGrantee = (list: Privilege[]) => {
    const m = new Map<string, Set<string>>();
    for (const p of list) {
      const s = m.get(p.grantee) ?? new Set<string>();
      s.add(p.privilege);
      m.set(p.grantee, s);
    }
    return m;
  };
  const bm = byGrantee(blue);
  const gm = byGrantee(green);
  const grantees = [...new Set([...bm.keys(), ...gm.keys()])].sort();
  for (const role of grantees) {
    const bs = bm.get(role) ?? new Set<string>();
    const gs = gm.get(role) ?? new Set<string>();
    const lost = [...bs].filter((p) => !gs.has(p)).sort();
    const gained = [...gs].filter((p) => !bs.has(p)).sort();
    const show = (s: Set<string>) => (s.size ? `${role}: ${[...s].sort().join(', ')}` : `${role}: none`);
    if (lost.length)
      c.add('PV101', o, `role ${role} lost ${lost.join(', ')} on ${o} on green: those statements fail with permission denied`, show(bs), show(gs));
    if (gained.length) c.add('SA111', o, `role ${role} gained ${gained.join(', ')} on ${o} on green`, show(bs), show(gs));
  }
  // WITH GRANT OPTION on privileges both sides hold.
  const grantable = (list: Privilege[]) => new Set(list.filter((p) => p.grantable).map((p) => `${p.grantee}\u0000${p.privilege}`));
  const held = (list: Privilege[]) => new Set(list.map((p) => `${p.grantee}\u0000${p.privilege}`));
  const bg = grantable(blue);
  const gg = grantable(green);
  const bh = held(blue);
  const gh = held(green);
  const lostOption = [...bg].filter((k) => !gg.has(k) && gh.has(k)).sort();
  const gainedOption = [...gg].filter((k) => !bg.has(k) && bh.has(k)).sort();
  const name = (k: string) => k.replace('\u0000', ' ');
  if (lostOption.length)
    c.add(
      'PV102',
      o,
      `grant option on ${o} revoked on green for ${lostOption.map(name).join(', ')}: that role's GRANT of it to others fails`,
      lostOption.map(name).join(', '),
      null,
    );
  if (gainedOption.length)
    c.add('SA112', o, `grant option on ${o} given on green for ${gainedOption.map(name).join(', ')}`, null, gainedOption.map(name).join(', '));
}

// ------------------------------------------------------------------------------------------------------ views

function diffViews(c: Collector, blue: View[], green: View[]): void {
  const gm = new Map(green.map((v) => [key(v), v]));
  const bm = new Map(blue.map((v) => [key(v), v]));
  for (const b of blue) {
    const o = qname(b);
    const g = gm.get(key(b));
    if (!g) {
      c.add('DS104', o, `${b.kind} ${o} is missing on green: queries using it fail`, `${b.kind} (${b.columns.length} columns)`, null);
      continue;
    }
    const gcols = new Map(g.columns.map((x) => [x.name, x]));
    const broken: string[] = [];
    for (const col of b.columns) {
      const y = gcols.get(col.name);
      if (!y) broken.push(`${qualify(col.name)} missing`);
      else {
        const compat = classifyTypeChange(col.type, y.type);
        if (compat.change === 'narrowing' || compat.change === 'incompatible') broken.push(`${qualify(col.name)} ${col.type.name} → ${y.type.name}`);
      }
    }
    if (b.kind !== g.kind) c.add('VW101', o, `${o} is a ${g.kind} on green, a ${b.kind} on blue`, b.kind, g.kind);
    if (broken.length)
      c.add(
        'BC106',
        o,
        `${b.kind} ${o} changed its columns on green (${broken.join('; ')}): blue queries reading them fail`,
        b.columns.map((x) => x.name).join(', '),
        g.columns.map((x) => x.name).join(', '),
      );
    else if (b.definition !== g.definition) {
      const d = firstDifference(b.definition, g.definition);
      c.add(
        'VW101',
        o,
        `definition of ${b.kind} ${o} changed on green, same columns: the same query now returns other rows or values (blue: "${d.blue}", green: "${d.green}")`,
        b.definition,
        g.definition,
      );
    }
    if (b.kind === 'materialized view' && g.kind === 'materialized view' && b.populated !== g.populated) {
      if (!g.populated)
        c.add(
          'ST101',
          o,
          `materialized view ${o} has not been populated on green (WITH NO DATA): blue's SELECT on it fails until REFRESH MATERIALIZED VIEW runs`,
          'populated',
          'not populated',
        );
      else c.add('ST102', o, `materialized view ${o} is populated on green, not on blue`, 'not populated', 'populated');
    }
    if (!sameList(b.options, g.options)) diffViewOptions(c, o, b, g);
    if (b.rules.length || g.rules.length) diffRules(c, o, b.rules, g.rules);
    if (b.comment !== g.comment) c.add('CM101', o, `comment on ${o} changed`, b.comment, g.comment);
    diffIndexes(c, b.schema, b.indexes, g.indexes);
    diffTriggers(c, o, b.triggers, g.triggers);
    diffPrivileges(c, o, b.privileges, g.privileges);
  }
  for (const g of green)
    if (!bm.has(key(g))) c.add('SA105', qname(g), `${g.kind} ${qname(g)} is new on green`, null, `${g.kind} (${g.columns.length} columns)`);
}

/** The reloptions of a view: WITH CHECK OPTION and the security options are behaviour; the rest is storage. */
function diffViewOptions(c: Collector, o: string, b: View, g: View): void {
  const opt = (v: View, name: string) => v.options.find((x) => x.startsWith(`${name}=`))?.slice(name.length + 1) ?? null;
  const bCheck = opt(b, 'check_option');
  const gCheck = opt(g, 'check_option');
  if (bCheck !== gCheck && gCheck !== null && (bCheck === null || (bCheck === 'local' && gCheck === 'cascaded'))) {
    c.add(
      'VW102',
      o,
      `view ${o} is WITH ${gCheck.toUpperCase()} CHECK OPTION on green: blue's INSERT/UPDATE through it of rows the view does not show fail`,
      bCheck ? `WITH ${bCheck.toUpperCase()} CHECK OPTION` : 'no check option',
      `WITH ${gCheck.toUpperCase()} CHECK OPTION`,
    );
  }
  const security = ['security_invoker', 'security_barrier'];
  for (const name of security) {
    const x = opt(b, name) === 'true';
    const y = opt(g, name) === 'true';
    if (x === y) continue;
    const why =
      name === 'security_invoker'
        ? y
          ? "base tables are now checked with the querying role's privileges (and row-level security), not the view owner's: blue's role may get permission denied"
          : "base tables are now checked with the view owner's privileges"
        : 'functions in blue queries are no longer/now applied before the view’s own conditions';
    c.add('VW103', o, `${name} of view ${o} is ${y} on green: ${why}`, `${name}=${x}`, `${name}=${y}`);
  }
  const storage = (v: View) => v.options.filter((x) => !x.startsWith('check_option=') && !security.some((n) => x.startsWith(`${n}=`)));
  const bs = storage(b);
  const gs = storage(g);
  if (!sameList(bs, gs)) c.add('SP101', o, `storage parameters of ${b.kind} ${o} changed on green`, showOptions(bs), showOptions(gs));
}

// -------------------------------------------------------------------------------------------------- sequences

/** Parses `a.b`, `"A"."b"` (regclass text inside nextval('…'::regclass)) into raw name parts. */
export function parseQualifiedName(text: string): string[] {
  const parts: string[] = [];
  let i = 0;
  while (i < text.length) {
    if (text[i] === '"') {
      let s = '';
      i++;
      while (i < text.length) {
        if (text[i] === '"' && text[i + 1] === '"') {
          s += '"';
          i += 2;
        } else if (text[i] === '"') {
          i++;
          break;
        } else s += text[i++];
      }
      parts.push(s);
    } else {
      let s = '';
      while (i < text.length && text[i] !== '.') s += text[i++];
      parts.push(s.toLowerCase());
    }
    if (text[i] === '.') i++;
  }
  return parts;
}

/** The sequences a column default calls nextval() on, as [schema, name] pairs. */
export function sequencesUsedBy(defaultExpr: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const m of defaultExpr.matchAll(/nextval\('((?:[^']|'')+)'::regclass\)/g)) {
    const parts = parseQualifiedName(m[1].replace(/''/g, "'"));
    if (parts.length === 2) out.push([parts[0], parts[1]]);
    else if (parts.length === 1) out.push(['public', parts[0]]);
  }
  return out;
}

function diffSequences(c: Collector, blue: Sequence[], green: Sequence[], blueTables: Table[]): void {
  // Which blue column defaults call nextval() on which sequence.
  const usedBy = new Map<string, string[]>();
  for (const t of blueTables) {
    for (const col of t.columns) {
      if (!col.default) continue;
      for (const [schema, name] of sequencesUsedBy(col.default)) {
        const k = key({ schema, name });
        usedBy.set(k, [...(usedBy.get(k) ?? []), `${qname(t)}.${qualify(col.name)}`]);
      }
    }
  }
  const gm = new Map(green.map((s) => [key(s), s]));
  const bm = new Map(blue.map((s) => [key(s), s]));
  // Identity sequences are paired through the column they serve: their names may differ (a renamed table keeps
  // its old identity sequence name), what matters is the column's values.
  const served = (s: Sequence) => (s.ownedBy ? `${s.ownedBy.schema}\u0000${s.ownedBy.table}\u0000${s.ownedBy.column}` : '');
  const greenIdentity = new Map(green.filter((s) => s.identity && s.ownedBy).map((s) => [served(s), s]));
  for (const b of blue) {
    const o = qname(b);
    if (b.identity) {
      const g = b.ownedBy ? greenIdentity.get(served(b)) : undefined;
      if (g && b.ownedBy)
        diffSequenceOptions(
          c,
          qualify(b.ownedBy.schema, b.ownedBy.table, b.ownedBy.column),
          `identity of column ${qualify(b.ownedBy.schema, b.ownedBy.table, b.ownedBy.column)}`,
          b,
          g,
          false,
        );
      continue;
    }
    const g = gm.get(key(b));
    if (!g) {
      const users = usedBy.get(key(b));
      if (users)
        c.add(
          'SQ101',
          o,
          `sequence ${o} is missing on green but the default of ${users.join(', ')} calls nextval on it: blue inserts fail`,
          describeSequence(b),
          null,
        );
      else c.add('DS107', o, `sequence ${o} is missing on green: blue calls to nextval on it fail`, describeSequence(b), null);
      continue;
    }
    diffSequenceOptions(c, o, `sequence ${o}`, b, g, true);
    diffPrivileges(c, o, b.privileges, g.privileges);
  }
  for (const g of green) if (!g.identity && !bm.has(key(g))) c.add('SA106', qname(g), `sequence ${qname(g)} is new on green`, null, describeSequence(g));

  function diffSequenceOptions(c: Collector, o: string, what: string, b: Sequence, g: Sequence, compareOwner: boolean): void {
    const owner = (s: Sequence) => (s.ownedBy ? qualify(s.ownedBy.schema, s.ownedBy.table, s.ownedBy.column) : null);
    const narrowed = b.dataType !== g.dataType || b.min !== g.min || b.max !== g.max || b.cycle !== g.cycle || (compareOwner && owner(b) !== owner(g));
    const stepped = b.increment !== g.increment || b.cache !== g.cache || b.start !== g.start;
    if (narrowed) c.add('SQ102', o, `${what} changed on green (type, bounds, cycle or owner)`, describeSequence(b), describeSequence(g));
    else if (stepped)
      c.add('SQ103', o, `${what} steps differently on green (increment, cache or start): no statement fails`, describeSequence(b), describeSequence(g));
    // State against definition: the value blue's sequence has reached must fit green's bounds, or carrying it over
    // at cutover (setval) fails and so does every insert after it.
    if (b.lastValue !== null && (BigInt(b.lastValue) > BigInt(g.max) || BigInt(b.lastValue) < BigInt(g.min))) {
      c.add(
        'SQ104',
        o,
        `${what} has reached ${b.lastValue} on blue, outside green's bounds ${g.min}..${g.max}: setting it on green at cutover fails, and so do inserts`,
        `last value ${b.lastValue}`,
        `MINVALUE ${g.min} MAXVALUE ${g.max}`,
      );
    }
  }
}

function describeSequence(s: Sequence): string {
  return `${s.dataType} START ${s.start} INCREMENT ${s.increment} MINVALUE ${s.min} MAXVALUE ${s.max} CACHE ${s.cache}${s.cycle ? ' CYCLE' : ''}${s.ownedBy ? ` OWNED BY ${qualify(s.ownedBy.schema, s.ownedBy.table, s.ownedBy.column)}` : ''}`;
}

// ---------------------------------------------------------------------------------------------------- types

function diffEnums(c: Collector, blue: EnumType[], green: EnumType[]): void {
  const gm = new Map(green.map((x) => [key(x), x]));
  const bm = new Map(blue.map((x) => [key(x), x]));
  const show = (values: string[]) => values.map((v) => `'${v.replace(/'/g, "''")}'`).join(', ');
  for (const b of blue) {
    const o = qname(b);
    const g = gm.get(key(b));
    if (!g) {
      c.add('DS108', o, `enum ${o} is missing on green: columns and casts using it fail`, `enum (${show(b.values)})`, null);
      continue;
    }
    const removed = b.values.filter((v) => !g.values.includes(v));
    const added = g.values.filter((v) => !b.values.includes(v));
    const renamedFrom = new Set<string>();
    const renamedTo = new Set<string>();
    // A value removed and another added at the same index (and only that) is a rename.
    if (removed.length === added.length) {
      for (const r of removed) {
        const i = b.values.indexOf(r);
        const a = g.values[i];
        if (a !== undefined && added.includes(a) && !renamedTo.has(a)) {
          renamedFrom.add(r);
          renamedTo.add(a);
          c.add('BC103', o, `enum value '${r}' of ${o} is probably renamed to '${a}' on green: blue writes of '${r}' fail`, `'${r}'`, `'${a}'`);
        }
      }
    }
    for (const r of removed)
      if (!renamedFrom.has(r)) c.add('DS105', o, `enum value '${r}' of ${o} is missing on green: blue writes of it fail`, `'${r}'`, null);
    for (const a of added)
      if (!renamedTo.has(a))
        c.add('SA107', o, `enum value '${a}' of ${o} is new on green (blue never writes it, but blue readers may meet it)`, null, `'${a}'`);
    const bOrder = b.values.filter((v) => g.values.includes(v));
    const gOrder = g.values.filter((v) => b.values.includes(v));
    if (bOrder.join('\u0000') !== gOrder.join('\u0000'))
      c.add('EN101', o, `values of enum ${o} are in another order on green: comparisons and ORDER BY change`, show(b.values), show(g.values));
  }
  for (const g of green) if (!bm.has(key(g))) c.add('SA108', qname(g), `enum ${qname(g)} is new on green`, null, `enum (${show(g.values)})`);
}

function diffDomains(c: Collector, blue: DomainType[], green: DomainType[]): void {
  const gm = new Map(green.map((x) => [key(x), x]));
  const bm = new Map(blue.map((x) => [key(x), x]));
  for (const b of blue) {
    const o = qname(b);
    const g = gm.get(key(b));
    if (!g) {
      c.add('DS108', o, `domain ${o} is missing on green: columns and casts using it fail`, `domain over ${b.baseType.name}`, null);
      continue;
    }
    diffType(c, o, 'domain', b.baseType, g.baseType);
    if (!b.notNull && g.notNull) c.add('MF104', o, `domain ${o} is NOT NULL on green: blue writes of NULL fail`, 'NULL allowed', 'NOT NULL');
    if (b.notNull && !g.notNull) c.add('NN101', o, `domain ${o} allows NULL on green`, 'NOT NULL', 'NULL allowed');
    if (b.default !== g.default) {
      if (b.default === null) c.add('DF104', o, `domain ${o} has a default on green`, null, g.default);
      else if (g.default === null) c.add('DF102', o, `domain ${o} lost its default on green`, b.default, null);
      else c.add('DF101', o, `default of domain ${o} changed on green`, b.default, g.default);
    }
    const gc = new Map(g.constraints.map((x) => [x.name, withoutNotValid(x.definition)]));
    const bc = new Map(b.constraints.map((x) => [x.name, withoutNotValid(x.definition)]));
    const gDefs = new Set(gc.values());
    const bDefs = new Set(bc.values());
    for (const [name, def] of bc) {
      if (gDefs.has(def)) continue;
      const y = gc.get(name);
      if (y !== undefined && !bDefs.has(y)) c.add('DM102', o, `check ${qualify(name)} of domain ${o} changed on green: blue writes may violate it`, def, y);
      else c.add('CN101', o, `check ${qualify(name)} of domain ${o} is missing on green`, def, null);
    }
    for (const [name, def] of gc) {
      if (bDefs.has(def)) continue;
      const x = bc.get(name);
      if (x !== undefined && !gDefs.has(x)) continue; // reported as changed above
      c.add('DM102', o, `check ${qualify(name)} of domain ${o} is new on green: blue writes may violate it`, null, def);
    }
    // CHECK (VALUE IS NOT NULL) refuses NULL like the domain's NOT NULL does (MF104); NOT VALID changes nothing
    // for new values. (A domain check is not applied to a NULL that an outer join or a missing column produces,
    // but blue's INSERT of NULL into a column of the domain is refused.)
    const blueNotNull = b.notNull || b.constraints.some((x) => checkShape(x.definition).notNull.includes('VALUE'));
    const greenCheck = g.constraints.find((x) => checkShape(x.definition).notNull.includes('VALUE'));
    if (!blueNotNull && !g.notNull && greenCheck) {
      c.add(
        'MF109',
        o,
        `check ${qualify(greenCheck.name)} of domain ${o} requires VALUE IS NOT NULL on green: blue's writes of NULL to columns of ${o} fail`,
        'NULL allowed',
        greenCheck.definition,
      );
    }
  }
  for (const g of green) if (!bm.has(key(g))) c.add('SA108', qname(g), `domain ${qname(g)} is new on green`, null, `domain over ${g.baseType.name}`);
}

function diffComposites(c: Collector, blue: CompositeType[], green: CompositeType[]): void {
  const gm = new Map(green.map((x) => [key(x), x]));
  const bm = new Map(blue.map((x) => [key(x), x]));
  const show = (t: CompositeType) => `(${t.attributes.map((a) => `${a.name} ${a.type.name}`).join(', ')})`;
  for (const b of blue) {
    const o = qname(b);
    const g = gm.get(key(b));
    if (!g) {
      c.add('DS108', o, `composite type ${o} is missing on green: columns and functions using it fail`, show(b), null);
      continue;
    }
    const ga = new Map(g.attributes.map((a) => [a.name, a]));
    const ba = new Map(b.attributes.map((a) => [a.name, a]));
    for (const a of b.attributes) {
      const y = ga.get(a.name);
      const ao = `${o}.${qualify(a.name)}`;
      if (!y) c.add('CP101', ao, `attribute ${qualify(a.name)} of composite type ${o} is missing on green`, `${a.name} ${a.type.name}`, null);
      else diffType(c, ao, 'attribute', a.type, y.type);
    }
    for (const y of g.attributes)
      if (!ba.has(y.name))
        c.add('CP102', `${o}.${qualify(y.name)}`, `attribute ${qualify(y.name)} of composite type ${o} is new on green`, null, `${y.name} ${y.type.name}`);
  }
  for (const g of green) if (!bm.has(key(g))) c.add('SA108', qname(g), `composite type ${qname(g)} is new on green`, null, show(g));
}

// ------------------------------------------------------------------------------------------------- routines

function diffRoutines(c: Collector, blue: Routine[], green: Routine[]): void {
  const sig = (r: Routine) => `${key(r)}(${r.argumentTypes})`;
  const o = (r: Routine) => `${qname(r)}(${r.argumentTypes})`;
  const gm = new Map(green.map((r) => [sig(r), r]));
  const bm = new Map(blue.map((r) => [sig(r), r]));
  const greenByName = new Map<string, Routine[]>();
  for (const r of green) greenByName.set(key(r), [...(greenByName.get(key(r)) ?? []), r]);
  const consumed = new Set<Routine>();
  for (const b of blue) {
    const g = gm.get(sig(b));
    if (!g) {
      // Other overloads under the same name that blue does not have: the signature changed.
      const others = (greenByName.get(key(b)) ?? []).filter((r) => !bm.has(sig(r)));
      if (others.length > 0) {
        for (const x of others) consumed.add(x);
        c.add(
          'BC104',
          o(b),
          `${b.kind} ${o(b)} has another signature on green (${others.map(o).join('; ')}): blue calls fail`,
          `${b.kind} ${o(b)}`,
          others.map((x) => `${x.kind} ${o(x)}`).join('; '),
        );
      } else c.add('DS106', o(b), `${b.kind} ${o(b)} is missing on green: blue calls fail`, `${b.kind} ${o(b)}`, null);
      continue;
    }
    if (b.kind !== g.kind) {
      c.add('BC104', o(b), `${o(b)} is a ${g.kind} on green, a ${b.kind} on blue: blue calls use the wrong syntax`, b.kind, g.kind);
      continue;
    }
    if (b.returns !== g.returns)
      c.add('BC105', o(b), `${b.kind} ${o(b)} returns ${g.returns ?? 'nothing'} on green, ${b.returns ?? 'nothing'} on blue`, b.returns, g.returns);
    if (b.arguments !== g.arguments) c.add('FN102', o(b), `argument names or defaults of ${o(b)} changed on green`, b.arguments, g.arguments);
    const behaviour = (r: Routine) => [
      r.volatility.toUpperCase(),
      r.securityDefiner ? 'SECURITY DEFINER' : 'SECURITY INVOKER',
      r.strict ? 'STRICT' : 'CALLED ON NULL INPUT',
      `LANGUAGE ${r.language}`,
      `PARALLEL ${r.parallel.toUpperCase()}`,
      r.leakproof ? 'LEAKPROOF' : 'NOT LEAKPROOF',
      r.config.length ? `SET ${r.config.join(', ')}` : 'no SET',
    ];
    const bb = behaviour(b);
    const gb = behaviour(g);
    const changed = bb.map((v, i) => (v !== gb[i] ? `${v} → ${gb[i]}` : null)).filter((x): x is string => x !== null);
    // A body is the same when only whitespace differs (re-indenting a function does not change what it does).
    if (b.body.replace(/\s+/g, ' ').trim() !== g.body.replace(/\s+/g, ' ').trim()) {
      const d = firstDifference(b.body, g.body);
      changed.push(`body: "${d.blue}" → "${d.green}"`);
    }
    if (b.privileges && g.privileges) diffPrivileges(c, o(b), b.privileges, g.privileges);
    if (changed.length) {
      c.add(
        'FN101',
        o(b),
        `${b.kind} ${o(b)} does something else on green under the same signature (${changed.join('; ')}): blue's calls get the new behaviour`,
        `${bb.join(' ')} body md5 ${b.bodyHash}`,
        `${gb.join(' ')} body md5 ${g.bodyHash}`,
      );
    }
  }
  for (const g of green) if (!bm.has(sig(g)) && !consumed.has(g)) c.add('SA109', o(g), `${g.kind} ${o(g)} is new on green`, null, `${g.kind} ${o(g)}`);
}
