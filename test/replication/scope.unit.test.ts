/**
 * The pure scope decision (src/replication/scope.ts) and the pure gate decision (src/replication/gates.ts): what
 * the current catalogs say must be carried against what the live publication and subscription carry, and every
 * reason the gates refuse before anything is fenced.
 */
import { aCatalog, aColumn, aTable } from '../harness/catalog.js';
import { describe, expect, it } from 'vitest';
import type { Catalog, Column, ColumnType, Table } from '../../src/schema/catalog.js';
import { decideScope, scopeTablesOf, type LiveScope } from '../../src/replication/scope.js';
import { decideGates, type SwitchoverGateObservation } from '../../src/replication/gates.js';
import { decideHealth, likelyCauses } from '../../src/replication/health.js';

const int8: ColumnType = { name: 'bigint', base: 'bigint', typmod: -1, category: 'N', kind: 'b', isArray: false };
const text: ColumnType = { name: 'text', base: 'text', typmod: -1, category: 'S', kind: 'b', isArray: false };

/** id is a bigint, every other column text. */
const col = (name: string, extra: Partial<Column> = {}): Column => aColumn(name, name === 'id' ? int8 : text, extra);

/** A table with a primary key on id; columns by name (see col) or given. */
function table(name: string, columns: string[] | Column[], extra: Partial<Table> = {}): Table {
  return aTable(
    name,
    columns.map((c) => (typeof c === 'string' ? col(c) : c)),
    {
      constraints: [{ name: `${name}_pkey`, kind: 'primary key', definition: 'PRIMARY KEY (id)', columns: ['id'] } as Table['constraints'][number]],
      hasPrimaryKey: true,
      ...extra,
    },
  );
}

const catalog = (tables: Table[]): Catalog => aCatalog(tables);

const live = (published: Record<string, string[]>, subscribed: string[]): LiveScope => ({
  published: new Map(Object.entries(published)),
  subscribed: new Set(subscribed),
});

describe('decideScope', () => {
  const orders = table('orders', ['id', 'note']);

  it('nothing to say when the publication carries every table and column in scope', () => {
    const c = catalog([orders]);
    expect(
      decideScope({
        from: 'blue',
        to: 'green',
        tables: { blue: scopeTablesOf(c, ['public']), green: scopeTablesOf(c, ['public']) },
        live: live({ 'public.orders': ['id', 'note'] }, ['public.orders']),
      }),
    ).toEqual([]);
  });

  it('a table created on both sides after sync start (the issue example: notification_sent) is named, refreshable', () => {
    const c = catalog([orders, table('notification_sent', ['id', 'account_id', 'sent_at'])]);
    const d = decideScope({
      from: 'blue',
      to: 'green',
      tables: { blue: scopeTablesOf(c, ['public']), green: scopeTablesOf(c, ['public']) },
      live: live({ 'public.orders': ['id', 'note'] }, ['public.orders']),
    });
    expect(d).toHaveLength(1);
    expect(d[0]).toMatchObject({ kind: 'table_not_published', table: 'public.notification_sent', refreshable: true });
    expect(d[0].problem).toContain('rows written to it on blue never reach green');
    expect(d[0].fix).toContain('bgmig db sync refresh');
  });

  it('a column both sides have outside a column list, a table published but not subscribed', () => {
    // green lacks `extra` → the reverse publication (green→blue) has a column list; `priority` came later on both.
    const green = catalog([table('orders', ['id', 'note', 'extra', 'priority']), table('tags', ['id'])]);
    const blue = catalog([table('orders', ['id', 'note', 'priority']), table('tags', ['id'])]);
    const d = decideScope({
      from: 'green',
      to: 'blue',
      tables: { blue: scopeTablesOf(blue, ['public']), green: scopeTablesOf(green, ['public']) },
      live: live({ 'public.orders': ['id', 'note'], 'public.tags': ['id'] }, ['public.orders']),
    });
    // green's own column `extra` is not drift towards blue (an expand migration; the rollback verdict covers it).
    expect(d.map((x) => [x.kind, x.table, x.columns])).toEqual([
      ['columns_not_published', 'public.orders', ['priority']],
      ['table_not_subscribed', 'public.tags', []],
    ]);
  });

  it('a table or column on the publisher only cannot be refreshed in: create it on the subscriber first', () => {
    const blue = catalog([table('orders', ['id', 'note', 'region']), table('audit', ['id'])]);
    const green = catalog([table('orders', ['id', 'note'])]);
    const d = decideScope({
      from: 'blue',
      to: 'green',
      tables: { blue: scopeTablesOf(blue, ['public']), green: scopeTablesOf(green, ['public']) },
      live: live({ 'public.orders': ['id', 'note'] }, ['public.orders']),
    });
    expect(d.map((x) => [x.kind, x.table, x.refreshable])).toEqual([
      ['table_missing_on_subscriber', 'public.audit', false],
      ['column_missing_on_subscriber', 'public.orders', false],
    ]);
    expect(d[1].problem).toContain('public.orders.region exists on blue but not on green');
  });

  it('generated columns, unlogged tables and other schemas are not in scope', () => {
    const blue = catalog([
      table('orders', [col('id'), col('note'), col('total', { generated: 'id * 2' })]),
      { ...table('x', ['id']), schema: 'other' },
      table('scratch', ['id'], { logged: false }),
    ]);
    const green = catalog([table('orders', [col('id'), col('note'), col('total', { generated: 'id * 2' })]), table('scratch', ['id'], { logged: false })]);
    expect(
      decideScope({
        from: 'blue',
        to: 'green',
        tables: { blue: scopeTablesOf(blue, ['public']), green: scopeTablesOf(green, ['public']) },
        live: live({ 'public.orders': ['id', 'note'] }, ['public.orders']),
      }),
    ).toEqual([]);
  });
});

describe('likelyCauses', () => {
  it('names a subscriber-only unique index, a NOT NULL column the publisher does not send, and a missing column', () => {
    const blue = catalog([table('seed', ['id', 'payload', 'gone'])]);
    const green = catalog([
      table('seed', [col('id'), col('payload'), col('must', { notNull: true })], {
        indexes: [
          {
            name: 'seed_payload_key',
            definition: 'CREATE UNIQUE INDEX seed_payload_key ON public.seed USING btree (payload)',
            unique: true,
          } as Table['indexes'][number],
        ],
      }),
    ]);
    const c = likelyCauses({ blue, green }, 'blue', 'green', ['public'], ['public.seed']);
    expect(c.join('\n')).toContain('green lacks column public.seed.gone that blue sends');
    expect(c.join('\n')).toContain('public.seed.must on green is NOT NULL without a default');
    expect(c.join('\n')).toContain('unique index seed_payload_key on public.seed (payload)');
  });
});

describe('decideGates', () => {
  const fence = (fenced: boolean) => ({ fenced, readOnlyDefault: fenced, connectRevokedFrom: [] });
  const applying = decideHealth(
    [
      {
        atMs: 0,
        subscriber: { exists: true, enabled: true, workerPid: 1, applyErrorCount: 0, syncErrorCount: 0, receivedLsn: null, tablesNotReady: [] },
        publisher: { currentLsn: '0/10', slot: { active: true, confirmedFlushLsn: '0/10', walRetainedBytes: 0 } },
      },
    ],
    { subscription: 's', from: 'blue', to: 'green' },
  );
  const failing = decideHealth(
    [
      {
        atMs: 0,
        subscriber: { exists: true, enabled: true, workerPid: null, applyErrorCount: 7, syncErrorCount: 0, receivedLsn: null, tablesNotReady: [] },
        publisher: { currentLsn: '0/900', slot: { active: false, confirmedFlushLsn: '0/10', walRetainedBytes: 2000 } },
      },
      {
        atMs: 5000,
        subscriber: { exists: true, enabled: true, workerPid: 9, applyErrorCount: 8, syncErrorCount: 0, receivedLsn: null, tablesNotReady: [] },
        publisher: { currentLsn: '0/990', slot: { active: true, confirmedFlushLsn: '0/10', walRetainedBytes: 2100 } },
      },
    ],
    { subscription: 's', from: 'blue', to: 'green' },
  );
  const base: SwitchoverGateObservation = {
    op: 'cutover',
    from: 'blue',
    to: 'green',
    subscription: 's',
    health: applying,
    causes: [],
    notReadyTables: [],
    lagBytes: 0,
    longTransactions: [],
    fence: { from: fence(false), to: fence(true) },
    scope: [],
    carry: [],
  };
  const limits = { maxLagBytes: 1024, maxTransactionAgeMs: 30_000 };

  it('passes a proven stream with nothing else in the way', () => {
    expect(decideGates(base, limits)).toEqual([]);
  });

  it('refuses to fence blue for a stream that is not applying, with the likely cause', () => {
    const o = decideGates({ ...base, health: failing, causes: ['green has unique index x on public.orders (note) that blue lacks'] }, limits);
    expect(o).toHaveLength(1);
    expect(o[0].problem).toMatch(/^blue is not fenced for a stream that is not applying: the apply worker of s on green is failing/);
    expect(o[0].fix).toContain('unique index x');
  });

  it('names drift, lag, long transactions and fences, each with its fix', () => {
    const o = decideGates(
      {
        ...base,
        lagBytes: 4096,
        longTransactions: [{ pid: 12, role: 'app_rw', application: 'billing', ageSeconds: 95 }],
        fence: { from: fence(true), to: fence(false) },
        scope: [
          {
            kind: 'table_not_published',
            table: 'public.n',
            columns: [],
            problem: 'table public.n … not replicated',
            fix: 'run `bgmig db sync refresh`',
            refreshable: true,
          },
        ],
      },
      limits,
    );
    expect(o.map((x) => x.problem)).toEqual([
      'replication lag is 4.0 kB, above --max-lag 1.0 kB',
      'a transaction on blue has been open for 95 s (pid 12, role app_rw, application billing)',
      'green is not fenced, so applications may have written to it',
      'blue (the active side) is fenced',
      'table public.n … not replicated',
    ]);
    expect(o[1].fix).toContain('pg_terminate_backend(12)');
  });
});
