/**
 * The rollback direction: after `db cutover` green takes the writes and logical replication carries them back to
 * blue, so that `db rollback` can make blue the writer again without losing any. Reverse replication publishes on
 * green, per table, the columns blue has (a column list), and blue's apply worker writes them into blue's schema.
 * Whatever green may write that blue's schema refuses stops that apply worker, and with it any rollback.
 * Pure: two catalogs in, RB differences out (sorted like the forward ones). No I/O.
 *
 * What the apply worker meets on blue (https://www.postgresql.org/docs/15/logical-replication-architecture.html and
 * …-restrictions.html): column types (values are sent as text and converted by blue's input functions: a longer
 * string, a bigger number, an unknown enum label fail), NOT NULL, CHECK, UNIQUE / PRIMARY KEY / EXCLUDE (enforced
 * as for any write) and partition bounds (rows are routed on blue). Foreign keys are not: the worker runs with
 * session_replication_role = replica, so their triggers do not fire. Columns green has and blue lacks are not
 * published at all, so they stop nothing but are left behind by a rollback.
 */
import type { Catalog, Column, DomainType, EnumType, Table } from './catalog.js';
import { qualify } from './catalog.js';
import { CODES, type Code } from './codes.js';
import { notNullOn, partitionsByParent, sideCoverage, sortDifferences } from './diff.js';
import { checkShape, firesForReplication, triggerRefusal, withoutNotValid } from './effects.js';
import { coverageOf, covers, describeCoverage } from './partitions.js';
import type { Difference } from './report.js';
import { classifyTypeChange } from './type-compat.js';

const key = (o: { schema: string; name: string }) => `${o.schema}\u0000${o.name}`;
const qname = (o: { schema: string; name: string }) => qualify(o.schema, o.name);

/** Every RB difference: what green's writes, replicated back, would meet in blue's schema. */
export function diffRollback(blue: Catalog, green: Catalog): Difference[] {
  const out: Difference[] = [];
  const add = (code: Code, table: string, column: string | null, detail: string, b: string | null, g: string | null) => {
    out.push({
      code,
      severity: CODES[code].severity,
      object: column === null ? table : `${table}.${qualify(column)}`,
      detail,
      blue: b,
      green: g,
      table,
      column,
    });
  };
  const common = new Set(blue.schemas.map((s) => s.name).filter((n) => green.schemas.some((s) => s.name === n)));
  const inScope = (t: { schema: string }) => common.has(t.schema);
  const gm = new Map(green.tables.filter(inScope).map((t) => [key(t), t]));
  const bm = new Map(blue.tables.filter(inScope).map((t) => [key(t), t]));
  const enums = { blue: byName(blue.enums), green: byName(green.enums) };
  const domains = { blue: byName(blue.domains), green: byName(green.domains) };
  const blueChildren = partitionsByParent(blue.tables);
  const greenChildren = partitionsByParent(green.tables);
  const greenTables = new Map(green.tables.map((t) => [key(t), t]));
  const ctx: Ctx = { add, enums, domains };

  for (const bt of bm.values()) {
    const gt = gm.get(key(bt));
    if (!gt) continue; // nothing of green's replicates into a table green lacks
    const t = qname(bt);
    if (bt.kind === 'partitioned table') {
      // What green may write (its table's key values) must fit blue's partitions.
      const blueCov = coverageOf(bt, blueChildren.get(key(bt)) ?? []);
      const greenCov = sideCoverage(gt, bt, greenChildren, greenTables);
      const verdict = greenCov ? covers(greenCov, blueCov) : null;
      if (greenCov && verdict?.answer === 'no') {
        add(
          'RB104',
          t,
          null,
          `blue's partitions of ${t} refuse ${verdict.missing} that green's table accepts: once green writes such a row, reverse replication stops and rollback after cutover is impossible`,
          describeCoverage(blueCov),
          describeCoverage(greenCov),
        );
      }
    }
    // The apply worker runs with session_replication_role = replica: ENABLE ALWAYS and ENABLE REPLICA triggers fire.
    for (const tr of bt.triggers) {
      if (!firesForReplication(tr.enabled)) continue;
      const refusal = triggerRefusal(tr);
      if (refusal === null) continue;
      add(
        'RB107',
        t,
        null,
        `trigger ${qualify(tr.name)} on blue's ${t} fires for replication apply (${tr.enabled === 'A' ? 'ENABLE ALWAYS' : 'ENABLE REPLICA'}) and ${refusal === 'raises' ? `always raises an exception: reverse replication stops at green’s first ${tr.events.join('/')} on it` : 'always returns NULL: green’s rows are silently dropped on blue'}`,
        tr.definition,
        null,
      );
    }
    // A partition's columns and constraints are its parent's: judged once, there.
    if (bt.partitionOf && gt.partitionOf) continue;
    // Most tables are unchanged: identical columns and constraints can only differ through an enum or a domain
    // they use, so only those columns are looked at.
    if (sameShape(bt, gt)) {
      for (let i = 0; i < bt.columns.length; i++) {
        const bc = bt.columns[i];
        if (bc.type.kind === 'e' || bc.type.kind === 'd') judgeColumn(ctx, t, bt, gt, bc, gt.columns[i]);
      }
      continue;
    }
    const greenCols = new Map(gt.columns.map((c) => [c.name, c]));
    for (const bc of bt.columns) {
      if (bc.generated !== null) continue; // computed on blue, never written by replication
      // A generated column on green is not published (PostgreSQL 15 never replicates generated columns): for
      // blue's plain column it is as if green lacked it.
      const gc = greenCols.get(bc.name)?.generated == null ? greenCols.get(bc.name) : undefined;
      if (!gc) {
        if (notNullOn(bt, bc.name) && bc.default === null && bc.identity === null) {
          const why = greenCols.has(bc.name) ? 'is a generated column on green, which replication does not carry' : 'does not exist on green';
          add(
            'RB103',
            t,
            bc.name,
            `column ${t}.${qualify(bc.name)} is NOT NULL on blue without a default and ${why}: every row green inserts arrives without it, which stops reverse replication`,
            describe(bc),
            greenCols.has(bc.name) ? describe(greenCols.get(bc.name) as Column) : null,
          );
        }
        continue;
      }
      judgeColumn(ctx, t, bt, gt, bc, gc);
    }
    for (const gc of gt.columns) {
      if (!bt.columns.some((c) => c.name === gc.name)) {
        add(
          'RB106',
          t,
          gc.name,
          `column ${t}.${qualify(gc.name)} exists only on green: reverse replication does not carry it, so what green writes there is left behind by a rollback`,
          null,
          describe(gc),
        );
      }
    }
    judgeConstraints(ctx, t, bt, gt);
  }
  for (const gt of gm.values()) {
    if (!bm.has(key(gt)) && !gt.partitionOf) {
      add(
        'RB106',
        qname(gt),
        null,
        `table ${qname(gt)} exists only on green: reverse replication does not carry it, so its rows are left behind by a rollback`,
        null,
        `${gt.kind} (${gt.columns.length} columns)`,
      );
    }
  }
  return sortDifferences(out);
}

/** What the judging helpers share: where findings go, and each side's enums and domains by qualified name. */
interface Ctx {
  add: (code: Code, table: string, column: string | null, detail: string, b: string | null, g: string | null) => void;
  enums: { blue: Map<string, EnumType>; green: Map<string, EnumType> };
  domains: { blue: Map<string, DomainType>; green: Map<string, DomainType> };
}

function judgeColumn(ctx: Ctx, t: string, bt: Table, gt: Table, bc: Column, gc: Column): void {
  const o = `${t}.${qualify(bc.name)}`;
  if (bc.type.name === gc.type.name) {
    // Same type name: an enum or a domain may still differ in what it holds.
    const typeName = bc.type.base;
    const be = ctx.enums.blue.get(typeName);
    const ge = ctx.enums.green.get(typeName);
    if (be && ge) {
      const only = ge.values.filter((v) => !be.values.includes(v));
      if (only.length)
        ctx.add(
          'RB102',
          t,
          bc.name,
          `${o} is of enum ${typeName}, whose label${only.length > 1 ? 's' : ''} ${only.map((v) => `'${v}'`).join(', ')} exist${only.length > 1 ? '' : 's'} only on green: once green writes ${only.length > 1 ? 'one' : 'it'}, reverse replication stops and rollback after cutover is impossible`,
          be.values.join(', '),
          ge.values.join(', '),
        );
    }
    const bd = ctx.domains.blue.get(typeName);
    const gd = ctx.domains.green.get(typeName);
    if (bd && gd) judgeDomain(ctx, t, bc.name, o, bd, gd);
  } else {
    const compat = classifyTypeChange(gc.type, bc.type);
    if (!compat.assignable) {
      ctx.add(
        'RB101',
        t,
        bc.name,
        `${o} is ${gc.type.name} on green, ${bc.type.name} on blue: ${compat.reason} on blue, so once green writes such a value, reverse replication stops and rollback after cutover is impossible`,
        bc.type.name,
        gc.type.name,
      );
    }
  }
  if (notNullOn(bt, bc.name) && !notNullOn(gt, gc.name)) {
    ctx.add(
      'RB103',
      t,
      bc.name,
      `${o} is NOT NULL on blue but allows NULL on green: once green writes a NULL there, reverse replication stops and rollback after cutover is impossible`,
      'NOT NULL',
      'NULL allowed',
    );
  }
}

function judgeDomain(ctx: Ctx, t: string, column: string, o: string, bd: DomainType, gd: DomainType): void {
  const compat = classifyTypeChange(gd.baseType, bd.baseType);
  if (!compat.assignable)
    ctx.add(
      'RB101',
      t,
      column,
      `${o} is of domain ${qname(bd)}, over ${gd.baseType.name} on green and ${bd.baseType.name} on blue: ${compat.reason}, so once green writes such a value, reverse replication stops`,
      bd.baseType.name,
      gd.baseType.name,
    );
  const nn = (d: DomainType) => d.notNull || d.constraints.some((x) => checkShape(x.definition).notNull.includes('VALUE'));
  if (nn(bd) && !nn(gd))
    ctx.add(
      'RB103',
      t,
      column,
      `${o} is of domain ${qname(bd)}, NOT NULL on blue but not on green: once green writes a NULL there, reverse replication stops`,
      'NOT NULL',
      'NULL allowed',
    );
  const greenDefs = new Set(gd.constraints.map((x) => withoutNotValid(x.definition)));
  const lost = bd.constraints.filter((x) => !greenDefs.has(withoutNotValid(x.definition)) && !checkShape(x.definition).onlyNotNull);
  if (lost.length)
    ctx.add(
      'RB105',
      t,
      column,
      `${o} is of domain ${qname(bd)}, whose check${lost.length > 1 ? 's' : ''} ${lost.map((x) => qualify(x.name)).join(', ')} green does not have: values green accepts may be refused on blue and stop reverse replication`,
      lost.map((x) => x.definition).join('; '),
      null,
    );
}

function judgeConstraints(ctx: Ctx, t: string, bt: Table, gt: Table): void {
  // The apply worker checks CHECK, UNIQUE, PRIMARY KEY and EXCLUDE on blue, not FOREIGN KEY (replica role).
  const greenDefs = new Set(gt.constraints.map((x) => `${x.kind}\u0000${withoutNotValid(x.definition)}`));
  for (const x of bt.constraints) {
    if (x.inherited || x.kind === 'foreign key') continue;
    if (greenDefs.has(`${x.kind}\u0000${withoutNotValid(x.definition)}`)) continue;
    if (x.kind === 'check' && checkShape(x.definition).onlyNotNull) continue; // NOT NULL: RB103 per column
    ctx.add(
      'RB105',
      t,
      x.columns.length === 1 ? x.columns[0] : null,
      `${x.kind} constraint ${qualify(x.name)} on blue's ${t} is missing or different on green: green's writes may violate it, which stops reverse replication`,
      x.definition,
      null,
    );
  }
  const greenIdx = new Set(gt.indexes.filter((i) => i.unique).map((i) => i.definition));
  for (const i of bt.indexes) {
    if (!i.unique || i.constraintBacked || i.inherited || greenIdx.has(i.definition)) continue;
    ctx.add(
      'RB105',
      t,
      null,
      `unique index ${qualify(bt.schema, i.name)} on blue's ${t} is missing or different on green: green may write duplicates that stop reverse replication`,
      i.definition,
      null,
    );
  }
}

/** Same columns (name, type, nullability, default, generated) in the same order, same constraints and unique indexes. */
function sameShape(b: Table, g: Table): boolean {
  if (b.columns.length !== g.columns.length || b.constraints.length !== g.constraints.length || b.indexes.length !== g.indexes.length) return false;
  for (let i = 0; i < b.columns.length; i++) {
    const x = b.columns[i];
    const y = g.columns[i];
    if (x.name !== y.name || x.type.name !== y.type.name || x.notNull !== y.notNull || x.generated !== y.generated || x.default !== y.default) return false;
  }
  for (let i = 0; i < b.constraints.length; i++) {
    if (b.constraints[i].definition !== g.constraints[i].definition || b.constraints[i].kind !== g.constraints[i].kind) return false;
  }
  for (let i = 0; i < b.indexes.length; i++) {
    if (b.indexes[i].definition !== g.indexes[i].definition || b.indexes[i].unique !== g.indexes[i].unique) return false;
  }
  return true;
}

function byName<T extends EnumType | DomainType>(list: T[]): Map<string, T> {
  return new Map(list.map((x) => [qualify(x.schema, x.name), x]));
}

function describe(c: Column): string {
  return `${c.type.name}${c.notNull ? ' NOT NULL' : ''}${c.default !== null ? ` DEFAULT ${c.default}` : ''}`;
}
