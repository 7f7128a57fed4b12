/**
 * The pure decisions of issue 10 kinds 1, 2, 5 and 6, without a server: the publication's shape and what logical
 * replication can carry (carry.ts), the pairing of sequences through the column they serve (sequence-plan.ts), and
 * the way-back decision of `db cutover` (decideRollbackRisk).
 */
import { aCatalog, aColumn, aTable } from '../harness/catalog.js';
import { describe, expect, it } from 'vitest';
import { blockerName, decideRollbackRisk } from '../../src/cli/commands/db/switchover-gates.js';
import { hasEquality, judgeBothDirections, judgeDirection, subscriberKey, type CarryFacts, type TypeFacts } from '../../src/replication/carry.js';
import { pairSequences, sequenceMoves, sequenceTarget, type SequenceFacts } from '../../src/replication/sequence-plan.js';
import type { Catalog, Column, ColumnType, Constraint, Table } from '../../src/schema/catalog.js';
import type { RollbackBlocker } from '../../src/schema/report.js';

// ------------------------------------------------------------------------------------------------ synthetic input

const T = (name: string, extra: Partial<ColumnType> = {}): ColumnType => ({ name, base: name, typmod: -1, category: 'U', kind: 'b', isArray: false, ...extra });
const INT = T('integer', { category: 'N' });
const TEXT = T('text', { category: 'S' });
const JSON_T = T('json');
const DATE = T('date', { category: 'D' });

const col = aColumn;

function pk(...columns: string[]): Constraint {
  return { name: 'pk', kind: 'primary key', definition: `PRIMARY KEY (${columns.join(', ')})`, columns, validated: true, inherited: false };
}

/** A table; one with a primary-key constraint says it has a primary key. */
function table(name: string, columns: Column[], extra: Partial<Table> = {}): Table {
  const t = aTable(name, columns, extra);
  if (t.constraints.some((c) => c.kind === 'primary key')) t.hasPrimaryKey = true;
  return t;
}

const catalog = aCatalog;

const OIDS: Record<string, number> = { integer: 23, text: 25, json: 114, jsonb: 3802, point: 600, oid: 26, date: 1082 };
const TYPES = new Map<number, TypeFacts>([
  [23, { name: 'integer', kind: 'b', base: 0, element: null, attributes: null, defaultOpclass: true }],
  [25, { name: 'text', kind: 'b', base: 0, element: null, attributes: null, defaultOpclass: true }],
  [114, { name: 'json', kind: 'b', base: 0, element: null, attributes: null, defaultOpclass: false }],
  [3802, { name: 'jsonb', kind: 'b', base: 0, element: null, attributes: null, defaultOpclass: true }],
  [600, { name: 'point', kind: 'b', base: 0, element: null, attributes: null, defaultOpclass: false }],
  [26, { name: 'oid', kind: 'b', base: 0, element: null, attributes: null, defaultOpclass: true }],
  [1082, { name: 'date', kind: 'b', base: 0, element: null, attributes: null, defaultOpclass: true }],
  [199, { name: 'json[]', kind: 'b', base: 0, element: 114, attributes: null, defaultOpclass: true }],
  [1007, { name: 'integer[]', kind: 'b', base: 0, element: 23, attributes: null, defaultOpclass: true }],
  [90001, { name: 'public.doc', kind: 'd', base: 114, element: null, attributes: null, defaultOpclass: false }],
  [90002, { name: 'public.lo', kind: 'd', base: 26, element: null, attributes: null, defaultOpclass: false }],
  [90003, { name: 'public.place', kind: 'c', base: 0, element: null, attributes: [25, 600], defaultOpclass: true }],
  [90004, { name: 'public.pair', kind: 'c', base: 0, element: null, attributes: [23, 25], defaultOpclass: true }],
]);

/** Facts for a side: every column's type oid from its ColumnType name (or an explicit map), no LOs, admin may do all. */
function facts(c: Catalog, extra: Partial<CarryFacts> = {}, typeOf: Record<string, number> = {}): CarryFacts {
  const columnTypes = new Map(
    c.tables.map((t) => [`public.${t.name}`, new Map(t.columns.map((x) => [x.name, typeOf[`${t.name}.${x.name}`] ?? OIDS[x.type.base] ?? 25]))]),
  );
  return {
    unlogged: [],
    columnTypes,
    types: TYPES,
    largeObjects: 0,
    foreignKeys: [],
    sequences: [],
    admin: { role: 'admin', notOwned: [], cannotRead: [], cannotApply: [], rlsBlocks: [] },
    ...extra,
  };
}

function judge(
  pubTables: Table[],
  subTables: Table[],
  opts: {
    role?: 'forward' | 'reverse';
    pub?: Partial<CarryFacts>;
    sub?: Partial<CarryFacts>;
    pubTypes?: Record<string, number>;
    subTypes?: Record<string, number>;
  } = {},
) {
  const [pc, sc] = [catalog(pubTables), catalog(subTables)];
  return judgeDirection({
    role: opts.role ?? 'forward',
    pub: 'blue',
    sub: 'green',
    schemas: ['public'],
    pubCatalog: pc,
    subCatalog: sc,
    pubFacts: facts(pc, opts.pub, opts.pubTypes),
    subFacts: facts(sc, opts.sub, opts.subTypes),
  });
}

const problems = (j: { offenders: Array<{ problem: string; fix: string }> }) => j.offenders.map((o) => `${o.problem} — ${o.fix}`);

// ------------------------------------------------------------------------------------------------ equality

describe('hasEquality: what PostgreSQL type cache finds for REPLICA IDENTITY FULL matching', () => {
  it('follows domains, arrays and composites to a default btree/hash opclass', () => {
    expect(hasEquality(23, TYPES)).toBe(true);
    expect(hasEquality(3802, TYPES)).toBe(true);
    expect(hasEquality(114, TYPES)).toBe(false);
    expect(hasEquality(600, TYPES)).toBe(false);
    expect(hasEquality(199, TYPES)).toBe(false); // json[]: array_eq needs the element's equality
    expect(hasEquality(1007, TYPES)).toBe(true);
    expect(hasEquality(90001, TYPES)).toBe(false); // domain over json
    expect(hasEquality(90003, TYPES)).toBe(false); // composite holding a point
    expect(hasEquality(90004, TYPES)).toBe(true);
    expect(hasEquality(424242, TYPES)).toBe(true); // unknown: never refuse on a guess
  });
});

// ------------------------------------------------------------------------------------------------ kind 1: shape

describe('publication shape (kind 1)', () => {
  const tagLink = () => table('tag_link', [col('tag_id', INT, { notNull: true }), col('item_id', INT, { notNull: true })], { replicaIdentity: 'full' });

  it('publishes a FULL-identity table without a column list, both ways', () => {
    const both = judgeBothDirections(
      'blue',
      'green',
      ['public'],
      { blue: catalog([tagLink()]), green: catalog([tagLink()]) },
      { blue: facts(catalog([tagLink()])), green: facts(catalog([tagLink()])) },
    );
    expect(both.offenders).toEqual([]);
    expect(both.current.tables).toEqual([{ schema: 'public', name: 'tag_link', columns: null }]);
    expect(both.next.tables).toEqual([{ schema: 'public', name: 'tag_link', columns: null }]);
  });

  it('decides the rules by colour, so a rollback (green → blue running) judges the same as the cutover did', () => {
    const g = table('note', [col('id', INT), col('t', TEXT), col('extra', TEXT)], { constraints: [pk('id')] });
    const b = table('note', [col('id', INT), col('t', TEXT)], { constraints: [pk('id')] });
    const catalogs = { blue: catalog([b]), green: catalog([g]) };
    const f = { blue: facts(catalogs.blue), green: facts(catalogs.green) };
    const cut = judgeBothDirections('blue', 'green', ['public'], catalogs, f);
    const back = judgeBothDirections('green', 'blue', ['public'], catalogs, f);
    expect(cut.offenders).toEqual([]);
    expect(back.offenders).toEqual([]);
    expect(back.current.tables).toEqual([{ schema: 'public', name: 'note', columns: ['id', 't'] }]);
    expect(cut.next.tables).toEqual(back.current.tables);
    // A column blue has and green lacks is refused whichever side runs the stream now.
    expect(
      judgeBothDirections('green', 'blue', ['public'], { blue: catalogs.green, green: catalogs.blue }, { blue: f.green, green: f.blue }).offenders.map(
        (o) => o.problem,
      ),
    ).toEqual(['column public.note.extra is missing on green']);
  });

  it('uses a column list only where the subscriber lacks columns, and only when it covers the identity', () => {
    const greenNote = table('note', [col('id', INT, { notNull: true }), col('t', TEXT), col('extra', TEXT)], { constraints: [pk('id')] });
    const blueNote = table('note', [col('id', INT, { notNull: true }), col('t', TEXT)], { constraints: [pk('id')] });
    const rev = judge([greenNote], [blueNote], { role: 'reverse' });
    expect(rev.offenders).toEqual([]);
    expect(rev.tables).toEqual([{ schema: 'public', name: 'note', columns: ['id', 't'] }]);

    const fullGreen = table('wide', [col('id', INT), col('a', TEXT), col('b', TEXT)], { replicaIdentity: 'full' });
    const fullBlue = table('wide', [col('id', INT), col('a', TEXT)], { replicaIdentity: 'full' });
    expect(problems(judge([fullGreen], [fullBlue], { role: 'reverse' }))).toEqual([
      "table public.wide is REPLICA IDENTITY FULL on blue and has column(s) b that green lacks: a publication column list cannot cover a FULL identity, so blue's UPDATE and DELETE on it would fail — give public.wide a primary key (or REPLICA IDENTITY USING INDEX) on blue, or add the column(s) on green",
    ]);
    // The identity itself missing on the subscriber: a list cannot carry it either.
    const keyed = table('k', [col('id', INT), col('code', TEXT)], { constraints: [pk('id', 'code')] });
    const noCode = table('k', [col('id', INT)], { constraints: [pk('id')] });
    expect(problems(judge([keyed], [noCode], { role: 'reverse' })).join('\n')).toContain(
      'the replica-identity columns of public.k on blue do not all exist on green',
    );
  });

  it('refuses FULL matching over a column without an equality operator (json, point, domains and arrays of them)', () => {
    const ev = () =>
      table(
        'ev',
        [col('id', INT), col('payload', JSON_T), col('tags', T('json[]', { base: 'json', isArray: true })), col('d', T('public.doc', { kind: 'd' }))],
        { replicaIdentity: 'full' },
      );
    const p = problems(judge([ev()], [ev()], { pubTypes: { 'ev.tags': 199, 'ev.d': 90001 }, subTypes: { 'ev.tags': 199, 'ev.d': 90001 } }));
    expect(p).toHaveLength(3);
    expect(p[0]).toBe(
      'table public.ev is matched on green by comparing every column (REPLICA IDENTITY FULL, no key), but column payload is json, which has no equality operator, so green cannot apply UPDATE or DELETE — give public.ev a primary key or a unique index used as replica identity (REPLICA IDENTITY USING INDEX) on both sides, or make the column jsonb',
    );
    expect(p[1]).toContain('column tags is json[]');
    expect(p[2]).toContain('column d is public.doc');
    // With a key on the subscriber, rows are found through it: no equality needed.
    const keyed = { ...ev(), replicaIdentity: 'default' as const, constraints: [pk('id')], hasPrimaryKey: true };
    expect(judge([ev()], [keyed], { pubTypes: { 'ev.tags': 199, 'ev.d': 90001 }, subTypes: { 'ev.tags': 199, 'ev.d': 90001 } }).offenders).toEqual([]);
  });

  it('refuses a table without replica identity on either side, and a partition without one', () => {
    const loose = table('loose', [col('id', INT), col('v', TEXT)]);
    const keyed = table('loose', [col('id', INT), col('v', TEXT)], { constraints: [pk('id')] });
    expect(problems(judge([loose], [keyed]))[0]).toBe(
      'table public.loose on blue has no replica identity, so its UPDATE and DELETE would fail once it is published — add a primary key or run ALTER TABLE public.loose REPLICA IDENTITY FULL on blue',
    );
    const root = table('m', [col('id', INT), col('at', DATE)], { kind: 'partitioned table', replicaIdentity: 'full' });
    const part = table('m_2026', [col('id', INT), col('at', DATE)], { partitionOf: { schema: 'public', name: 'm' } });
    const j = judgeDirection({
      role: 'forward',
      pub: 'blue',
      sub: 'green',
      schemas: ['public'],
      pubCatalog: catalog([root, part]),
      subCatalog: catalog([root, part]),
      pubFacts: facts(catalog([root, part])),
      subFacts: facts(catalog([root, part])),
    });
    expect(problems(j)).toEqual([
      'partition public.m_2026 of public.m on blue has no replica identity, so UPDATE and DELETE on it would fail once public.m is published — add a primary key on public.m or run ALTER TABLE public.m_2026 REPLICA IDENTITY FULL on blue',
    ]);
  });
});

// ------------------------------------------------------------------------------------------------ kind 2: carry

describe('what logical replication carries (kind 2)', () => {
  it('refuses a generated column that is plain on the subscriber; generated on both is carried', () => {
    const gen = col('total', INT, { generated: '(qty * price)' });
    const blue = table('line', [col('id', INT), col('qty', INT), col('price', INT), gen], { constraints: [pk('id')] });
    const plainGreen = table('line', [col('id', INT), col('qty', INT), col('price', INT), col('total', INT)], { constraints: [pk('id')] });
    expect(problems(judge([blue], [plainGreen]))).toEqual([
      "column public.line.total is generated on blue but a plain column on green: generated columns are not replicated, so green's column would be NULL (or its default) in every replicated row — make it GENERATED ALWAYS AS ((qty * price)) STORED on green too",
    ]);
    expect(judge([blue], [blue]).offenders).toEqual([]);
    expect(problems(judge([plainGreen], [blue]))[0]).toContain('column public.line.total is generated on green but not on blue');
  });

  it("refuses a subscriber key with columns the publisher's identity does not send; FULL sends them", () => {
    const blue = table('invoice', [col('id', INT), col('issued_on', DATE)], { constraints: [pk('id')] });
    const green = table('invoice', [col('id', INT), col('issued_on', DATE)], { constraints: [pk('id', 'issued_on')] });
    expect(problems(judge([blue], [green]))).toEqual([
      "the key of public.invoice on green (id, issued_on) has column(s) issued_on that blue's replica identity (id) does not send, so every UPDATE and DELETE would fail on green's apply worker — give public.invoice the same primary key on both sides, or run ALTER TABLE public.invoice REPLICA IDENTITY FULL on blue",
    ]);
    expect(judge([{ ...blue, replicaIdentity: 'full' }], [green]).offenders).toEqual([]);
    expect(subscriberKey(green)).toEqual(['id', 'issued_on']);
    // A subscriber without any key needs FULL on the publisher.
    const bare = table('invoice', [col('id', INT), col('issued_on', DATE)], { replicaIdentity: 'full' });
    expect(problems(judge([blue], [bare]))[0]).toContain(
      'table public.invoice on green has no primary key or replica-identity index and public.invoice on blue is not REPLICA IDENTITY FULL',
    );
  });

  it('refuses large-object references when the publisher holds large objects (oid and domains over it)', () => {
    const t = table('attachment', [col('id', INT), col('body', T('oid')), col('thumb', T('public.lo', { kind: 'd' }))], { constraints: [pk('id')] });
    const p = problems(judge([t], [t], { pub: { largeObjects: 2 }, pubTypes: { 'attachment.thumb': 90002 } }));
    expect(p).toHaveLength(2);
    expect(p[0]).toContain('column public.attachment.body holds large-object references (oid) and blue has 2 large object(s)');
    expect(p[1]).toContain('column public.attachment.thumb holds large-object references (public.lo)');
    expect(judge([t], [t], { pub: { largeObjects: 0 } }).offenders).toEqual([]);
  });

  it('refuses unlogged tables, TRUNCATE across foreign keys from unreplicated tables, and what the admin may not do', () => {
    const t = table('cache', [col('k', TEXT)], { constraints: [pk('k')] });
    expect(problems(judge([t], [t], { pub: { unlogged: ['public.cache'] } }))[0]).toContain('table public.cache is UNLOGGED on blue');
    const fk = { constraint: 'audit_fk', from: 'public.audit', to: 'public.cache' };
    expect(problems(judge([t], [t], { sub: { foreignKeys: [fk] } }))[0]).toContain(
      'foreign key audit_fk of public.audit on green references public.cache, but public.audit is not replicated from blue',
    );
    // A foreign key inside the replicated set is carried: TRUNCATE … CASCADE reaches both tables.
    const audit = table('audit', [col('id', INT)], { constraints: [pk('id')] });
    expect(judge([t, audit], [t, audit], { sub: { foreignKeys: [fk] } }).offenders).toEqual([]);
    const admin = { role: 'rds_admin', notOwned: ['public.cache'], cannotRead: ['public.cache'], cannotApply: ['public.cache'], rlsBlocks: ['public.cache'] };
    const p = problems(judge([t], [t], { pub: { admin }, sub: { admin } }));
    expect(p).toEqual([
      'table public.cache on blue is not owned by rds_admin, and only its owner can add it to a publication — GRANT the owning role to rds_admin on blue (or make rds_admin the owner)',
      'rds_admin cannot SELECT from public.cache on blue, so the initial copy would fail — GRANT SELECT ON public.cache TO rds_admin on blue',
      'rds_admin lacks INSERT, UPDATE, DELETE or TRUNCATE on public.cache on green, so the apply worker would fail — GRANT INSERT, UPDATE, DELETE, TRUNCATE ON public.cache TO rds_admin on green',
      "public.cache has row-level security enabled on green and rds_admin does not bypass it, so the apply worker cannot write into it — give rds_admin BYPASSRLS (or make it the table's owner without FORCE ROW LEVEL SECURITY) on green",
    ]);
  });

  it('refuses uniqueness only green enforces, unless blue already enforces it on a subset of the columns', () => {
    const uq = (name: string, ...columns: string[]): Constraint => ({
      name,
      kind: 'unique',
      definition: `UNIQUE (${columns.join(', ')})`,
      columns,
      validated: true,
      inherited: false,
    });
    const ix = (name: string, def: string, extra: Partial<Table['indexes'][number]> = {}): Table['indexes'][number] => {
      const base: Partial<Table['indexes'][number]> = {
        name,
        definition: def,
        unique: true,
        primary: false,
        partial: false,
        expression: false,
        constraintBacked: false,
        valid: true,
        inherited: false,
      };
      return { ...base, ...extra } as Table['indexes'][number];
    };
    const cols = [col('id', INT), col('email', TEXT), col('org', INT)];
    const green = table('m', cols, {
      constraints: [pk('id'), uq('m_email_org', 'email', 'org')],
      indexes: [ix('m_email', 'CREATE UNIQUE INDEX ON public.m USING btree (email)')],
    });
    // Blue keeps email unique through an index: both of green's rules follow from it.
    const blueIndexed = table('m', cols, { constraints: [pk('id')], indexes: [ix('m_email_key', 'CREATE UNIQUE INDEX ON public.m USING btree (email)')] });
    expect(judge([blueIndexed], [green]).offenders).toEqual([]);
    // Blue keeps nothing unique but the key: both are refused.
    const blueBare = table('m', cols, { constraints: [pk('id')] });
    expect(problems(judge([blueBare], [green])).map((p) => p.split(' exists only')[0])).toEqual([
      'unique constraint m_email_org of public.m',
      'unique index m_email of public.m',
    ]);
    // A partial or expression index is compared by its definition.
    const greenLower = table('m', cols, {
      constraints: [pk('id')],
      indexes: [ix('m_lower', 'CREATE UNIQUE INDEX ON public.m USING btree (lower(email))', { expression: true })],
    });
    expect(judge([blueIndexed], [greenLower]).offenders).toHaveLength(1);
  });

  it('refuses values the subscriber rejects going forward, and leaves the reverse to the rollback verdict', () => {
    const blue = table('t', [col('id', INT), col('s', T('character varying(200)', { base: 'character varying', typmod: 204 })), col('n', TEXT)], {
      constraints: [pk('id')],
    });
    const green = table(
      't',
      [
        col('id', INT),
        col('s', T('character varying(40)', { base: 'character varying', typmod: 44 })),
        col('n', TEXT, { notNull: true }),
        col('src', TEXT, { notNull: true }),
      ],
      { constraints: [pk('id')] },
    );
    const p = problems(judge([blue], [green]));
    expect(p).toEqual([
      'column public.t.s is character varying(200) on blue but character varying(40) on green, which cannot hold every value — change it on green to character varying(200) or a wider type',
      'column public.t.n is NOT NULL on green but nullable on blue, so a NULL written on blue would stop replication — make it NOT NULL on blue first, or nullable on green',
      'column public.t.src exists only on green, is NOT NULL and has no default, so every row from blue would be refused — give it a default on green or make it nullable',
    ]);
    // With a default the subscriber fills the column itself.
    const withDefault = { ...green, columns: green.columns.map((c) => (c.name === 'src' ? { ...c, default: "'blue'::text" } : c)) };
    expect(problems(judge([blue], [withDefault]))).toHaveLength(2);
    // The reverse direction does not judge values (that is the validator's rollback verdict, accepted at cutover).
    expect(judge([blue], [green], { role: 'reverse' }).offenders.filter((o) => o.problem.includes('cannot hold every value'))).toEqual([]);
  });
});

// ------------------------------------------------------------------------------------------------ kind 5: sequences

function seq(key: string, last: string | null, serves: SequenceFacts['serves'], extra: Partial<SequenceFacts> = {}): SequenceFacts {
  return { key, schema: 'public', last, increment: '1', min: '1', max: '9223372036854775807', serves, ...extra };
}

describe('sequences paired through the column they serve (kind 5)', () => {
  const oldColumns = new Map([
    ['public.account', new Set(['id', 'email'])],
    ['public.item', new Set(['id'])],
    ['public.ledger', new Set(['no'])],
  ]);

  it("pairs blue's users_id_seq with green's account_id_seq through public.account.id", () => {
    const plan = pairSequences({
      from: 'blue',
      to: 'green',
      oldColumns,
      old: [
        seq('public.users_id_seq', '50', [{ table: 'public.account', column: 'id', how: 'identity' }]),
        seq('public.invoice_no', '500', [{ table: 'public.ledger', column: 'no', how: 'default' }]),
        seq('public.counter', '7', []),
      ],
      neu: [
        seq('public.account_id_seq', null, [{ table: 'public.account', column: 'id', how: 'identity' }]),
        seq('public.ledger_no', '3', [{ table: 'public.ledger', column: 'no', how: 'default' }]),
        seq('public.counter', null, []),
      ],
    });
    expect(plan.offenders).toEqual([]);
    expect(plan.pairs.map((p) => [p.neu.key, p.old.key, p.via, p.kind])).toEqual([
      ['public.account_id_seq', 'public.users_id_seq', 'column', 'identity'],
      ['public.counter', 'public.counter', 'name', 'standalone'],
      ['public.ledger_no', 'public.invoice_no', 'column', 'standalone'],
    ]);
    expect(sequenceMoves(plan)).toEqual([
      { sequence: 'public.account_id_seq', source: 'public.users_id_seq', kind: 'identity', from: '50', to: '1050', set: '1050' },
      { sequence: 'public.counter', kind: 'standalone', from: '7', to: '1007', set: '1007' },
      { sequence: 'public.ledger_no', source: 'public.invoice_no', kind: 'standalone', from: '500', to: '1500', set: '1500' },
    ]);
  });

  it('refuses a new-side sequence that cannot be set: no counterpart, two counterparts, out of bounds, other direction', () => {
    const plan = pairSequences({
      from: 'blue',
      to: 'green',
      oldColumns,
      old: [
        seq('public.a_seq', '10', [{ table: 'public.account', column: 'id', how: 'owned' }]),
        seq('public.b_seq', '20', [{ table: 'public.account', column: 'id', how: 'default' }]),
        seq('public.ledger_seq', '-5', [{ table: 'public.ledger', column: 'no', how: 'owned' }], { increment: '-1', min: '-100', max: '-1' }),
      ],
      neu: [
        seq('public.account_id_seq', null, [{ table: 'public.account', column: 'id', how: 'identity' }]),
        seq('public.item_id_seq', null, [{ table: 'public.item', column: 'id', how: 'identity' }]),
        seq('public.ledger_no', null, [{ table: 'public.ledger', column: 'no', how: 'owned' }]),
        // A green-only table's sequence is not about replicated rows: nothing to pair, nothing to refuse.
        seq('public.fresh_id_seq', null, [{ table: 'public.fresh', column: 'id', how: 'identity' }]),
      ],
    });
    expect(plan.pairs).toEqual([]);
    expect(problems(plan)).toEqual([
      'sequence public.account_id_seq serves public.account.id on green, which public.a_seq and public.b_seq serve on blue — make one sequence serve the column on blue',
      "sequence public.item_id_seq serves public.item.id on green, but no sequence serves that column on blue, so bgmig cannot tell where green's sequence must continue — give the column on blue the same identity or nextval default, or drop the default on green",
      'sequence public.ledger_no on green counts up but public.ledger_seq on blue counts down — give public.ledger_no the same direction (ALTER SEQUENCE public.ledger_no INCREMENT BY -1)',
    ]);
    const locked = pairSequences({
      from: 'blue',
      to: 'green',
      oldColumns,
      old: [seq('public.item_id_seq', '15', [{ table: 'public.item', column: 'id', how: 'identity' }])],
      neu: [seq('public.item_id_seq', null, [{ table: 'public.item', column: 'id', how: 'identity' }], { notSettableBy: 'rds_admin' })],
    });
    expect(problems(locked)).toEqual([
      'rds_admin may not set sequence public.item_id_seq on green (setval needs UPDATE on it) — GRANT UPDATE ON SEQUENCE public.item_id_seq TO rds_admin on green',
    ]);
    const small = pairSequences({
      from: 'blue',
      to: 'green',
      oldColumns,
      old: [seq('public.item_id_seq', '150', [{ table: 'public.item', column: 'id', how: 'identity' }])],
      neu: [seq('public.item_id_seq', null, [{ table: 'public.item', column: 'id', how: 'identity' }], { max: '100' })],
    });
    expect(problems(small)).toEqual([
      "sequence public.item_id_seq on blue is at 150, at or beyond the maximum 100 of public.item_id_seq on green — widen public.item_id_seq on green (ALTER SEQUENCE public.item_id_seq AS bigint MAXVALUE …) and its column's type",
    ]);
  });

  it("judges the next switch's sequences with the rest, before anything is created", () => {
    const item = table('item', [col('id', INT)], { constraints: [pk('id')] });
    const catalogs = { blue: catalog([item]), green: catalog([item]) };
    const f = {
      blue: facts(catalogs.blue, { sequences: [] }),
      green: facts(catalogs.green, { sequences: [seq('public.item_id_seq', null, [{ table: 'public.item', column: 'id', how: 'identity' }])] }),
    };
    expect(judgeBothDirections('blue', 'green', ['public'], catalogs, f).offenders.map((o) => o.problem)).toEqual([
      "sequence public.item_id_seq serves public.item.id on green, but no sequence serves that column on blue, so bgmig cannot tell where green's sequence must continue",
    ]);
    // The way back sets blue's sequences from green's: blue has none serving item.id, so nothing to set there.
    expect(judgeBothDirections('green', 'blue', ['public'], catalogs, f).offenders).toEqual([]);
  });

  it('sets a target with headroom, never backwards, and never at the bound itself', () => {
    const b = { min: 1n, max: 9_223_372_036_854_775_807n };
    expect(sequenceTarget({ last: 100n, inc: 1n }, 1n, b)).toBe(1100n);
    expect(sequenceTarget({ last: 100n, inc: 1n }, 5000n, b)).toBeNull();
    expect(sequenceTarget({ last: 95n, inc: 1n }, null, { min: 1n, max: 100n })).toBe(95n);
  });
});

// ------------------------------------------------------------------------------------------------ kind 6: way back

describe('the way back before the way forward (kind 6)', () => {
  const blockers: RollbackBlocker[] = [
    { table: 'public.ticket', column: 'subject', code: 'RB101', sentence: 'green allows 200 characters, blue 40.' },
    { table: 'public.ticket', column: 'state', code: 'RB102', sentence: "label 'waiting_on_customer' only on green." },
    { table: '"Sales"."Order"', column: 'Total', code: 'RB101', sentence: 'more digits on green.' },
  ];

  it('refuses every blocker not accepted by name, and treats an unknown name as bad input', () => {
    expect(blockers.map(blockerName)).toEqual(['public.ticket.subject', 'public.ticket.state', '"Sales"."Order"."Total"']);
    expect(decideRollbackRisk(blockers, []).refuse).toHaveLength(3);
    const part = decideRollbackRisk(blockers, ['public.ticket.subject', ' public.ticket.state ']);
    expect(part.refuse.map(blockerName)).toEqual(['"Sales"."Order"."Total"']);
    expect(part.accepted).toEqual(['public.ticket.state', 'public.ticket.subject']);
    const all = decideRollbackRisk(blockers, ['public.ticket.subject', 'public.ticket.state', '"Sales"."Order"."Total"']);
    expect(all.refuse).toEqual([]);
    expect(decideRollbackRisk(blockers, ['public.ticket.subjct']).unknown).toEqual(['public.ticket.subjct']);
    expect(decideRollbackRisk([], [''])).toEqual({ refuse: [], accepted: [], unknown: [] });
  });
});
