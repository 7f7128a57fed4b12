/** The pure parts: type compatibility, codes, rename heuristics, ordering, name parsing (no database). */
import { aCatalog, aColumn, aTable } from '../harness/catalog.js';
import { describe, expect, it } from 'vitest';
import { type Catalog, type Column, type ColumnType, qualify } from '../../src/schema/catalog.js';
import { type Code, CODES, isCode } from '../../src/schema/codes.js';
import { canAssign, classifyTypeChange, diffCatalogs, parseQualifiedName, sequencesUsedBy, sortDifferences } from '../../src/schema/diff.js';
import type { Difference } from '../../src/schema/report.js';

// Type descriptors as the reader produces them (typmods as PostgreSQL stores them).
const T = {
  int2: { name: 'smallint', base: 'smallint', typmod: -1, category: 'N', kind: 'b', isArray: false },
  int4: { name: 'integer', base: 'integer', typmod: -1, category: 'N', kind: 'b', isArray: false },
  int8: { name: 'bigint', base: 'bigint', typmod: -1, category: 'N', kind: 'b', isArray: false },
  text: { name: 'text', base: 'text', typmod: -1, category: 'S', kind: 'b', isArray: false },
  varchar: (n?: number): ColumnType => ({
    name: n === undefined ? 'character varying' : `character varying(${n})`,
    base: 'character varying',
    typmod: n === undefined ? -1 : n + 4,
    category: 'S',
    kind: 'b',
    isArray: false,
  }),
  char: (n: number): ColumnType => ({ name: `character(${n})`, base: 'character', typmod: n + 4, category: 'S', kind: 'b', isArray: false }),
  numeric: (p?: number, s = 0): ColumnType => ({
    name: p === undefined ? 'numeric' : `numeric(${p},${s})`,
    base: 'numeric',
    typmod: p === undefined ? -1 : ((p << 16) | s) + 4,
    category: 'N',
    kind: 'b',
    isArray: false,
  }),
  float4: { name: 'real', base: 'real', typmod: -1, category: 'N', kind: 'b', isArray: false },
  float8: { name: 'double precision', base: 'double precision', typmod: -1, category: 'N', kind: 'b', isArray: false },
  ts: (p = -1): ColumnType => ({
    name: p < 0 ? 'timestamp without time zone' : `timestamp(${p}) without time zone`,
    base: 'timestamp without time zone',
    typmod: p,
    category: 'D',
    kind: 'b',
    isArray: false,
  }),
  tstz: { name: 'timestamp with time zone', base: 'timestamp with time zone', typmod: -1, category: 'D', kind: 'b', isArray: false },
  date: { name: 'date', base: 'date', typmod: -1, category: 'D', kind: 'b', isArray: false },
  json: { name: 'json', base: 'json', typmod: -1, category: 'U', kind: 'b', isArray: false },
  jsonb: { name: 'jsonb', base: 'jsonb', typmod: -1, category: 'U', kind: 'b', isArray: false },
  mood: { name: 'public.mood', base: 'public.mood', typmod: -1, category: 'E', kind: 'e', isArray: false },
  arr: (t: ColumnType): ColumnType => ({ ...t, name: `${t.name}[]`, isArray: true }),
} satisfies Record<string, ColumnType | ((...a: never[]) => ColumnType)>;

describe('classifyTypeChange / canAssign', () => {
  const cases: Array<[string, ColumnType, ColumnType, string, boolean]> = [
    ['same type', T.int4, T.int4, 'same', true],
    ['smallint → integer', T.int2, T.int4, 'lossless', true],
    ['integer → bigint', T.int4, T.int8, 'lossless', true],
    ['bigint → integer', T.int8, T.int4, 'narrowing', false],
    ['integer → numeric', T.int4, T.numeric(), 'observable', true],
    ['bigint → numeric(10,0)', T.int8, T.numeric(10, 0), 'narrowing', false],
    ['integer → double precision', T.int4, T.float8, 'observable', true],
    ['bigint → double precision', T.int8, T.float8, 'narrowing', false],
    ['real → double precision', T.float4, T.float8, 'observable', true],
    ['double precision → real', T.float8, T.float4, 'narrowing', false],
    ['numeric → integer', T.numeric(), T.int4, 'narrowing', false],
    ['varchar(10) → varchar(20)', T.varchar(10), T.varchar(20), 'lossless', true],
    ['varchar(20) → varchar(10)', T.varchar(20), T.varchar(10), 'narrowing', false],
    ['varchar(20) → varchar', T.varchar(20), T.varchar(), 'lossless', true],
    ['varchar → varchar(20)', T.varchar(), T.varchar(20), 'narrowing', false],
    ['varchar(20) → text', T.varchar(20), T.text, 'lossless', true],
    ['text → varchar(20)', T.text, T.varchar(20), 'narrowing', false],
    ['text → varchar', T.text, T.varchar(), 'lossless', true],
    ['char(3) → text', T.char(3), T.text, 'observable', true],
    ['char(3) → char(5)', T.char(3), T.char(5), 'observable', true],
    ['text → char(5)', T.text, T.char(5), 'narrowing', false],
    ['numeric(10,2) → numeric(12,2)', T.numeric(10, 2), T.numeric(12, 2), 'lossless', true],
    ['numeric(10,2) → numeric(12,4)', T.numeric(10, 2), T.numeric(12, 4), 'observable', true],
    ['numeric(10,2) → numeric(10,4)', T.numeric(10, 2), T.numeric(10, 4), 'narrowing', false],
    ['numeric(10,2) → numeric(10,1)', T.numeric(10, 2), T.numeric(10, 1), 'narrowing', false],
    ['numeric(10,2) → numeric', T.numeric(10, 2), T.numeric(), 'lossless', true],
    ['numeric → numeric(10,2)', T.numeric(), T.numeric(10, 2), 'narrowing', false],
    ['timestamp(3) → timestamp', T.ts(3), T.ts(), 'lossless', true],
    ['timestamp → timestamp(0)', T.ts(), T.ts(0), 'narrowing', false],
    ['timestamp → timestamptz', T.ts(), T.tstz, 'observable', true],
    ['timestamptz → timestamp', T.tstz, T.ts(), 'observable', true],
    ['date → timestamp', T.date, T.ts(), 'observable', true],
    ['timestamp → date', T.ts(), T.date, 'narrowing', false],
    ['json → jsonb', T.json, T.jsonb, 'observable', true],
    ['integer → text (text accepts every value, but another family)', T.int4, T.text, 'incompatible', true],
    ['text → integer', T.text, T.int4, 'incompatible', false],
    ['enum → text', T.mood, T.text, 'incompatible', true],
    ['text → enum', T.text, T.mood, 'incompatible', false],
    ['integer[] → bigint[]', T.arr(T.int4), T.arr(T.int8), 'lossless', true],
    ['bigint[] → integer[]', T.arr(T.int8), T.arr(T.int4), 'narrowing', false],
    ['integer → integer[]', T.int4, T.arr(T.int4), 'incompatible', false],
  ];
  for (const [name, blue, green, change, assignable] of cases) {
    it(`${name}: ${change}, ${assignable ? 'assignable' : 'not assignable'}`, () => {
      const r = classifyTypeChange(blue, green);
      expect(r.change).toBe(change);
      expect(r.assignable).toBe(assignable);
      expect(canAssign(blue, green)).toBe(assignable);
      expect(r.reason.length).toBeGreaterThan(5);
    });
  }
});

describe('codes', () => {
  it('every code has a severity that matches its family, a meaning and a unique id', () => {
    const ALL_CODES = Object.keys(CODES) as Code[];
    expect(new Set(ALL_CODES).size).toBe(ALL_CODES.length);
    for (const code of ALL_CODES) {
      expect(code).toMatch(/^[A-Z]{2}\d{3}$/);
      expect(CODES[code].meaning).toMatch(/\.$/);
      if (/^(BC|DS)/.test(code)) expect(CODES[code].severity).toBe('breaking');
      if (code.startsWith('SA')) expect(CODES[code].severity).toBe('safe');
    }
    expect(isCode('DS103')).toBe(true);
    expect(isCode('XX999')).toBe(false);
    expect(isCode('toString')).toBe(false);
  });

  it('keeps the Atlas codes for the findings Atlas names', () => {
    expect(CODES.BC101.meaning).toMatch(/Table probably renamed/);
    expect(CODES.BC102.meaning).toMatch(/Column probably renamed/);
    expect(CODES.DS101.meaning).toBe('Schema dropped.');
    expect(CODES.DS103.meaning).toBe('Column dropped.');
    expect(CODES.MF103.seeAlso).toMatch(/adding-required-field/);
  });
});

// ------------------------------------------------------------------------------------------------ synthetic catalogs

const col = (name: string, type: ColumnType, position: number, extra: Partial<Column> = {}): Column => aColumn(name, type, { position, ...extra });
const table = aTable;
/** No tables unless given; schema public owned by pg_database_owner (PostgreSQL 15's default). */
const catalog = (extra: Partial<Catalog>): Catalog => aCatalog([], { schemas: [{ name: 'public', owner: 'pg_database_owner', comment: null }], ...extra });

const codes = (d: Difference[]) => d.map((x) => `${x.code} ${x.object}`);

describe('diffCatalogs (synthetic)', () => {
  it('identical catalogs: no differences', () => {
    const c = catalog({ tables: [table('t', [col('id', T.int4, 1)])] });
    expect(diffCatalogs(c, structuredClone(c))).toEqual([]);
  });

  it('two dropped columns of one type and two added: paired by position', () => {
    const blue = catalog({ tables: [table('t', [col('id', T.int4, 1), col('a', T.text, 2), col('b', T.text, 3)])] });
    const green = catalog({ tables: [table('t', [col('id', T.int4, 1), col('x', T.text, 2), col('y', T.text, 3)])] });
    expect(codes(diffCatalogs(blue, green))).toEqual(['BC102 public.t.a', 'BC102 public.t.b']);
  });

  it('a dropped column with two same-typed candidates at other positions is a drop, not a guessed rename', () => {
    const blue = catalog({ tables: [table('t', [col('id', T.int4, 1), col('a', T.text, 2)])] });
    const green = catalog({ tables: [table('t', [col('id', T.int4, 1), col('x', T.text, 3), col('y', T.text, 4)])] });
    expect(codes(diffCatalogs(blue, green))).toEqual(['DS103 public.t.a', 'SA103 public.t.x', 'SA103 public.t.y']);
  });

  it('a renamed NOT NULL column is reported once, as the rename', () => {
    const blue = catalog({ tables: [table('t', [col('a', T.text, 1, { notNull: true })])] });
    const green = catalog({ tables: [table('t', [col('b', T.text, 1, { notNull: true })])] });
    expect(codes(diffCatalogs(blue, green))).toEqual(['BC102 public.t.a']);
  });

  it('a table in a schema only blue has is covered by DS101 alone', () => {
    const blue = catalog({
      schemas: [
        { name: 'public', owner: 'x', comment: null },
        { name: 'Old', owner: 'x', comment: null },
      ],
      tables: [table('t', [col('id', T.int4, 1)], { schema: 'Old' })],
    });
    expect(codes(diffCatalogs(blue, catalog({})))).toEqual(['DS101 "Old"']);
  });

  it('extension version change → EX101 risky', () => {
    const blue = catalog({ extensions: [{ name: 'postgis', schema: 'public', version: '3.3.2' }] });
    const green = catalog({ extensions: [{ name: 'postgis', schema: 'public', version: '3.4.0' }] });
    expect(diffCatalogs(blue, green)).toEqual([
      {
        code: 'EX101',
        severity: 'risky',
        object: 'postgis',
        detail: 'extension postgis is version 3.4.0 on green, 3.3.2 on blue',
        blue: '3.3.2',
        green: '3.4.0',
      },
    ]);
  });

  it('sorts breaking → risky → safe, then object, code, detail', () => {
    const d = (code: string, severity: Difference['severity'], object: string): Difference => ({ code, severity, object, detail: '', blue: null, green: null });
    const sorted = sortDifferences([
      d('SA102', 'safe', 'a'),
      d('IX101', 'risky', 'b'),
      d('DS103', 'breaking', 'z'),
      d('CT101', 'breaking', 'a'),
      d('DS102', 'breaking', 'a'),
    ]);
    expect(sorted.map((x) => `${x.code} ${x.object}`)).toEqual(['CT101 a', 'DS102 a', 'DS103 z', 'IX101 b', 'SA102 a']);
  });
});

describe('names', () => {
  it('qualify quotes only what needs quoting', () => {
    expect(qualify('public', 'orders', 'total')).toBe('public.orders.total');
    expect(qualify('Sales', 'Order Lines', 'Qty')).toBe('"Sales"."Order Lines"."Qty"');
    expect(qualify('public', 'user')).toBe('public."user"');
    expect(qualify('a"b')).toBe('"a""b"');
  });

  it('parseQualifiedName reads regclass text', () => {
    expect(parseQualifiedName('public.orders_id_seq')).toEqual(['public', 'orders_id_seq']);
    expect(parseQualifiedName('"Sales"."Order ""Lines"" seq"')).toEqual(['Sales', 'Order "Lines" seq']);
    expect(parseQualifiedName('Foo')).toEqual(['foo']);
  });

  it('sequencesUsedBy finds every nextval in a default', () => {
    expect(sequencesUsedBy(`nextval('"Sales"."Orders_id_seq"'::regclass)`)).toEqual([['Sales', 'Orders_id_seq']]);
    expect(sequencesUsedBy(`(nextval('public.a'::regclass) + nextval('b'::regclass))`)).toEqual([
      ['public', 'a'],
      ['public', 'b'],
    ]);
    expect(sequencesUsedBy(`now()`)).toEqual([]);
  });
});
