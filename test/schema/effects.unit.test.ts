/** The pure judgements behind issue 11: CHECK shapes, trigger bodies, row-level security, partition coverage. */
import { aTable } from '../harness/catalog.js';
import { describe, expect, it } from 'vitest';
import type { Policy, RoleInfo, Table, Trigger } from '../../src/schema/catalog.js';
import { firstDifference } from '../../src/schema/diff.js';
import {
  blankLiteralsAndComments,
  checkShape,
  firesForApplication,
  firesForReplication,
  rlsAccess,
  triggerRefusal,
  withoutNotValid,
} from '../../src/schema/effects.js';
import { compareEdge, coverageOf, covers, describeCoverage } from '../../src/schema/partitions.js';
import { renderValidate as renderReport } from '../../src/cli/commands/validate.js';
import { schemaVerdict } from '../../src/schema/verdict.js';
import { type ValidationReport, rollbackBlockers } from '../../src/schema/report.js';

describe('checkShape', () => {
  it.each([
    ['CHECK ((phone IS NOT NULL)) NOT VALID', ['phone'], true],
    ['CHECK ((("Phone No" IS NOT NULL) AND (b IS NOT NULL)))', ['Phone No', 'b'], true],
    ["CHECK (((phone IS NOT NULL) AND (phone <> ''::text)))", ['phone'], false],
    ['CHECK ((a > 0))', [], false],
    // OR: NULL may pass through the other branch, so nothing is certain.
    ['CHECK (((a IS NOT NULL) OR (b IS NOT NULL)))', [], false],
    ['CHECK ((VALUE IS NOT NULL))', ['VALUE'], true],
    ['CHECK ((lower(name) IS NOT NULL))', [], false],
  ])('%s → %j (only NOT NULL: %s)', (def, cols, only) => {
    const s = checkShape(def);
    expect(s.notNull).toEqual(cols);
    expect(s.onlyNotNull).toBe(only);
  });
  it('a constant false conjunct refuses every row', () => expect(checkShape('CHECK (false) NOT VALID').alwaysFalse).toBe(true));
  it('withoutNotValid drops only the trailing marker', () => {
    expect(withoutNotValid('CHECK ((a > 0)) NOT VALID')).toBe('CHECK ((a > 0))');
    expect(withoutNotValid("CHECK ((note <> 'NOT VALID'::text))")).toBe("CHECK ((note <> 'NOT VALID'::text))");
  });
});

function trig(body: string, extra: Partial<Trigger> = {}): Trigger {
  return {
    name: 't',
    definition: '',
    enabled: 'O',
    timing: 'before',
    row: true,
    events: ['INSERT'],
    conditional: false,
    functionLanguage: 'plpgsql',
    functionBody: body,
    ...extra,
  };
}

describe('triggerRefusal', () => {
  it.each([
    ["begin raise exception 'no'; end", 'raises'],
    ["\n  -- frozen\n  BEGIN\n    RAISE 'writes are frozen: %', now();\n  END;\n", 'raises'],
    ["declare n int := 0; begin raise exception using message = 'x'; end", 'raises'],
    ["begin raise sqlstate '22012'; end", 'raises'],
    ["begin raise notice 'hello'; return new; end", null],
    ["begin if new.id < 0 then raise exception 'neg'; end if; return new; end", null],
    ['begin return null; end', 'skips'],
    ['begin return new; end', null],
    ["begin /* raise exception 'x'; */ return new; end", null],
    ["declare msg text := 'begin raise exception'; begin return new; end", null],
  ])('%j → %s', (body, expected) => expect(triggerRefusal(trig(body))).toBe(expected));
  it('a WHEN condition, another language, or an AFTER trigger returning NULL make it uncertain', () => {
    expect(triggerRefusal(trig("begin raise exception 'no'; end", { conditional: true }))).toBeNull();
    expect(triggerRefusal(trig('raise', { functionLanguage: 'c' }))).toBeNull();
    expect(triggerRefusal(trig('begin return null; end', { timing: 'after' }))).toBeNull();
    expect(triggerRefusal(trig('begin return null; end', { row: false }))).toBeNull();
  });
  it('fires for the application in origin sessions (O, A) and for replication apply in replica sessions (R, A)', () => {
    expect(['O', 'D', 'R', 'A'].map(firesForApplication)).toEqual([true, false, false, true]);
    expect(['O', 'D', 'R', 'A'].map(firesForReplication)).toEqual([false, false, true, true]);
  });
  it('blanks literals, dollar quotes and comments', () => {
    expect(blankLiteralsAndComments("a 'x;y' $q$ z $q$ -- c\n /* d /* e */ */ b")).toBe("a '' ''  \n   b");
  });
});

/** public.doc owned by `owner`, row-level security on, no columns. */
const baseTable = (extra: Partial<Table>): Table => aTable('doc', [], { owner: 'owner', rlsEnabled: true, ...extra });
const pol = (extra: Partial<Policy>): Policy => ({ name: 'p', command: 'ALL', permissive: true, roles: ['public'], using: 'true', withCheck: null, ...extra });

describe('rlsAccess', () => {
  const roles = new Map<string, RoleInfo>([
    ['app', { name: 'app', bypassRls: false, memberOf: ['writers'] }],
    ['admin', { name: 'admin', bypassRls: true, memberOf: [] }],
  ]);
  it('default deny without a policy; the owner, BYPASSRLS roles and disabled RLS are exempt', () => {
    const t = baseTable({});
    expect(rlsAccess(t, roles, 'app', 'INSERT')).toBe('none');
    expect(rlsAccess(t, roles, 'owner', 'INSERT')).toBe('all');
    expect(rlsAccess({ ...t, rlsForced: true }, roles, 'owner', 'INSERT')).toBe('none');
    expect(rlsAccess(t, roles, 'admin', 'INSERT')).toBe('all');
    // A member of the owning role counts as the owner (has_privs_of_role).
    expect(rlsAccess({ ...t, owner: 'writers' }, roles, 'app', 'INSERT')).toBe('all');
    expect(rlsAccess({ ...t, owner: 'writers', rlsForced: true }, roles, 'app', 'INSERT')).toBe('none');
    expect(rlsAccess({ ...t, rlsEnabled: false }, roles, 'app', 'INSERT')).toBe('all');
  });
  it('policies apply by command and by role membership', () => {
    expect(rlsAccess(baseTable({ policies: [pol({ command: 'SELECT' })] }), roles, 'app', 'INSERT')).toBe('none');
    expect(rlsAccess(baseTable({ policies: [pol({ command: 'SELECT' })] }), roles, 'app', 'SELECT')).toBe('all');
    expect(rlsAccess(baseTable({ policies: [pol({ roles: ['writers'] })] }), roles, 'app', 'INSERT')).toBe('all');
    expect(rlsAccess(baseTable({ policies: [pol({ roles: ['others'] })] }), roles, 'app', 'INSERT')).toBe('none');
  });
  it('expressions decide row by row (some); constant false refuses (none)', () => {
    expect(rlsAccess(baseTable({ policies: [pol({ using: '(owner = CURRENT_USER)' })] }), roles, 'app', 'SELECT')).toBe('some');
    expect(rlsAccess(baseTable({ policies: [pol({ using: 'true', withCheck: 'false' })] }), roles, 'app', 'INSERT')).toBe('none');
    expect(rlsAccess(baseTable({ policies: [pol({}), pol({ name: 'r', permissive: false, using: 'false' })] }), roles, 'app', 'SELECT')).toBe('none');
    expect(rlsAccess(baseTable({ policies: [pol({}), pol({ name: 'r', permissive: false, using: '(a > 0)' })] }), roles, 'app', 'SELECT')).toBe('some');
  });
});

const parent = (key: string): Table => baseTable({ name: 'ev', kind: 'partitioned table', partitionKey: key, rlsEnabled: false });
const part = (bound: string): Table => baseTable({ name: 'p', partitionOf: { schema: 'public', name: 'ev' }, partitionBound: bound, rlsEnabled: false });

describe('partition coverage', () => {
  it('plain tables and DEFAULT partitions accept everything; complete hash partitioning too', () => {
    expect(coverageOf(baseTable({}), []).kind).toBe('all');
    expect(coverageOf(parent('RANGE (at)'), [part("FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')"), part('DEFAULT')]).kind).toBe('all');
    expect(
      coverageOf(parent('HASH (id)'), [
        part('FOR VALUES WITH (modulus 2, remainder 0)'),
        part('FOR VALUES WITH (modulus 4, remainder 1)'),
        part('FOR VALUES WITH (modulus 4, remainder 3)'),
      ]).kind,
    ).toBe('all');
    expect(coverageOf(parent('HASH (id)'), [part('FOR VALUES WITH (modulus 2, remainder 0)')]).kind).toBe('hash');
  });
  it('range: touching partitions merge; a shrunk or missing range is reported', () => {
    const blue = coverageOf(parent('RANGE (at)'), [
      part("FOR VALUES FROM ('2025-01-01') TO ('2025-07-01')"),
      part("FOR VALUES FROM ('2025-07-01') TO ('2026-01-01')"),
    ]);
    expect(describeCoverage(blue)).toBe("FROM ('2025-01-01') TO ('2026-01-01')");
    const green = coverageOf(parent('RANGE (at)'), [part("FOR VALUES FROM ('2025-01-01') TO ('2025-07-01')")]);
    expect(covers(blue, green)).toEqual({
      answer: 'no',
      missing: "key values in FROM ('2025-01-01') TO ('2026-01-01') not all inside FROM ('2025-01-01') TO ('2025-07-01')",
    });
    expect(covers(green, blue)).toEqual({ answer: 'yes' });
    expect(covers({ kind: 'all' }, green).answer).toBe('no');
  });
  it('range bounds compare numbers as numbers (bigint exactly) and MINVALUE/MAXVALUE as infinities', () => {
    expect(compareEdge({ literal: '9' }, { literal: '10' })).toBe(-1);
    expect(compareEdge({ literal: '9223372036854775806' }, { literal: '9223372036854775807' })).toBe(-1);
    expect(compareEdge('MINVALUE', { literal: '-5' })).toBe(-1);
    expect(compareEdge({ literal: '5' }, 'MAXVALUE')).toBe(-1);
    const all = coverageOf(parent('RANGE (n)'), [part('FOR VALUES FROM (MINVALUE) TO (0)'), part('FOR VALUES FROM (0) TO (MAXVALUE)')]);
    expect(covers(coverageOf(parent('RANGE (n)'), [part('FOR VALUES FROM (10) TO (20)')]), all)).toEqual({ answer: 'yes' });
  });
  it('list: lost values and NULL are named; multi-column range keys are unknown', () => {
    const blue = coverageOf(parent('LIST (region)'), [part("FOR VALUES IN ('eu', 'uk', NULL)")]);
    const green = coverageOf(parent('LIST (region)'), [part("FOR VALUES IN ('eu')")]);
    expect(covers(blue, green)).toEqual({ answer: 'no', missing: "key values 'uk', NULL" });
    expect(coverageOf(parent('RANGE (a, b)'), [part('FOR VALUES FROM (1, MINVALUE) TO (10, MAXVALUE)')]).kind).toBe('unknown');
  });
});

describe('report helpers', () => {
  it('firstDifference shows where two texts part', () => {
    expect(firstDifference('SELECT t.id FROM t;', 'SELECT t.id FROM t WHERE (t.id > 0);')).toEqual({
      blue: '…ECT t.id FROM t;',
      green: '…ECT t.id FROM t WHERE (t.id > 0);',
    });
    expect(firstDifference(`${'x'.repeat(100)} a`, `${'x'.repeat(100)} b`).green).toBe(`…${'x'.repeat(14)} b`);
  });

  const report: ValidationReport = {
    verdict: 'compatible',
    blue: { serverVersion: '15.10', counts: { tables: 1, columns: 2 } },
    green: { serverVersion: '15.10', counts: { tables: 1, columns: 2 } },
    differences: [
      { code: 'CT103', severity: 'safe', object: 'public.ticket.subject', detail: 'widened', blue: 'character varying(40)', green: 'character varying(200)' },
    ],
    durationMs: 5,
    generatedAt: '2026-11-30T00:00:00.000Z',
    totals: { breaking: 0, risky: 0, safe: 1 },
    rollback: {
      verdict: 'incompatible',
      differences: [
        {
          code: 'RB101',
          severity: 'breaking',
          object: 'public.ticket.subject',
          detail: 'longer subjects stop reverse replication',
          blue: null,
          green: null,
          table: 'public.ticket',
          column: 'subject',
        },
        {
          code: 'RB106',
          severity: 'risky',
          object: 'public.ticket.note',
          detail: 'left behind',
          blue: null,
          green: null,
          table: 'public.ticket',
          column: 'note',
        },
      ],
      totals: { breaking: 1, risky: 1, safe: 0 },
      ignored: 0,
    },
  };
  it('rollbackBlockers lists the breaking rollback differences only', () => {
    expect(rollbackBlockers(report)).toEqual([
      { table: 'public.ticket', column: 'subject', code: 'RB101', sentence: 'longer subjects stop reverse replication' },
    ]);
  });
  it('schemaVerdict reads a report one way for every gate: blockers, counts, and an old report without the rollback verdict', () => {
    expect(schemaVerdict(report)).toEqual({
      verdict: 'compatible',
      totals: { breaking: 0, risky: 0, safe: 1 },
      rollback: 'incompatible',
      blockers: [{ table: 'public.ticket', column: 'subject', code: 'RB101', sentence: 'longer subjects stop reverse replication' }],
      generatedAt: '2026-11-30T00:00:00.000Z',
      summary: 'compatible (0 breaking, 0 risky); rollback blocked by 1 blocker(s): public.ticket.subject (2026-11-30T00:00:00.000Z)',
    });
    // A report written before issue 11: no totals (counted here), no rollback verdict ("not judged", never "possible").
    const { totals: _t, rollback: _r, ...old } = report;
    const v = schemaVerdict({ ...old, verdict: 'incompatible', differences: [{ ...report.differences[0], severity: 'breaking' }] });
    expect(v).toMatchObject({ verdict: 'incompatible', totals: { breaking: 1, risky: 0, safe: 0 }, rollback: 'unknown', blockers: undefined });
    expect(v.summary).toBe('incompatible (1 breaking, 0 risky); rollback not judged (2026-11-30T00:00:00.000Z)');
  });
  it('the human report shows both directions', () => {
    const plain = new Proxy({}, { get: () => plainStyle }) as Parameters<typeof renderReport>[1];
    const text = renderReport(report, plain);
    expect(text).toMatch(/^COMPATIBLE {2}0 breaking, 0 risky, 1 safe/);
    expect(text).toMatch(/ROLLBACK BLOCKED {2}1 breaking, 1 risky, 0 safe/);
    expect(text).toMatch(/ROLLBACK BREAKING \(1\)\n {2}RB101/);
    expect(text).toMatch(/db rollback` after cutover is impossible/);
  });
});

/** A style whose every colour/weight is the identity (and chains). */
function plainStyle(t: string): string {
  return t;
}
Object.assign(plainStyle, { bold: plainStyle });
