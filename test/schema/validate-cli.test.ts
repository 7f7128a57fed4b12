/** `bgmig validate` as operators run it: the real executable, direct mode against real PostgreSQL. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBgmig } from '../harness/cli.js';
import { startPostgres, type PgServer } from '../harness/postgres.js';
import { type Pair, withPair } from './helpers.js';

let server: PgServer;
beforeAll(async () => {
  server = await startPostgres();
});
afterAll(async () => {
  await server?.stop();
});

const DROPPED_COLUMN = {
  base: 'create table orders (id int primary key, note text); create index orders_note on orders (note)',
  green: 'alter table orders drop column note',
};
const urls = (p: Pair) => ['--blue-url', server.url(p.blueDb), '--green-url', server.url(p.greenDb)];
/** The way the help recommends: URLs in the environment, so no password sits in the process list (nor a warning). */
const urlEnv = (p: Pair) => ({ env: { BGMIG_BLUE_URL: server.url(p.blueDb), BGMIG_GREEN_URL: server.url(p.greenDb) } });

function expectNoPassword(...texts: string[]): void {
  for (const t of texts) expect(t).not.toContain(server.password);
}

describe('bgmig validate (direct mode, subprocess)', () => {
  it('incompatible: exit 3, a table grouped by severity, both directions, no password in the output', async () => {
    await withPair(server, DROPPED_COLUMN, async (p) => {
      const r = await runBgmig(['validate'], urlEnv(p));
      expect(r.code, r.stderr).toBe(3);
      expect(r.stdout).toMatch(/^INCOMPATIBLE {2}1 breaking, 1 risky, 0 safe — \d+ ms$/m);
      expect(r.stdout).toContain('BREAKING (1)');
      expect(r.stdout).toMatch(/^ {2}DS103 {2}public\.orders\.note {2}column public\.orders\.note is missing on green: statements naming it fail$/m);
      expect(r.stdout).toContain('RISKY (1)');
      expect(r.stdout).toMatch(/IX101 {2}public\.orders_note/);
      expect(r.stdout.indexOf('BREAKING')).toBeLessThan(r.stdout.indexOf('RISKY'));
      // The rollback direction: a dropped nullable column holds nothing green could write that blue refuses.
      expect(r.stdout).toMatch(/^ROLLBACK POSSIBLE {2}0 breaking, 0 risky, 0 safe/m);
      expect(r.stderr).toBe('');
      expectNoPassword(r.stdout, r.stderr);
    });
  });

  it('--json: stdout is only the report, exit 3', async () => {
    await withPair(server, DROPPED_COLUMN, async (p) => {
      const r = await runBgmig(['validate', ...urls(p), '--json']);
      expect(r.code, r.stderr).toBe(3);
      const report = JSON.parse(r.stdout) as { verdict: string; differences: Array<{ code: string }>; rollback: { verdict: string; differences: unknown[] } };
      expect(report.verdict).toBe('incompatible');
      expect(report.differences.map((d) => d.code)).toEqual(['DS103', 'IX101']);
      // --json carries both directions.
      expect(report.rollback).toEqual({ verdict: 'compatible', differences: [], totals: { breaking: 0, risky: 0, safe: 0 }, ignored: 0 });
      expectNoPassword(r.stdout, r.stderr);
    });
  });

  it('compatible: exit 0; --ignore and --schema reach the validator', async () => {
    await withPair(server, DROPPED_COLUMN, async (p) => {
      const r = await runBgmig(['validate', ...urls(p), '--ignore', 'DS103', '--ignore', 'IX101', '--schema', 'public', '--json']);
      expect(r.code, r.stderr).toBe(0);
      const report = JSON.parse(r.stdout) as { verdict: string; ignored: number; options: unknown };
      expect(report).toMatchObject({
        verdict: 'compatible',
        ignored: 2,
        options: { includeSchemas: ['public'], excludeSchemas: [], ignoreCodes: ['DS103', 'IX101'] },
      });
    });
  });

  it('identical databases: exit 0 and says so', async () => {
    await withPair(server, { base: 'create table t (id int)' }, async (p) => {
      const r = await runBgmig(['validate', ...urls(p)]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^COMPATIBLE {2}0 breaking, 0 risky, 0 safe/m);
      expect(r.stdout).toContain('No differences: green has the same schema as blue.');
    });
  });

  it('the way back: compatible forward (exit 0) while the rollback verdict names the columns that block it', async () => {
    const ticket = (subject: number, labels: string) =>
      `create type ticket_state as enum (${labels}); create table ticket (id int primary key, subject varchar(${subject}), state ticket_state)`;
    await withPair(server, { blue: ticket(40, "'open', 'closed'"), green: ticket(200, "'open', 'closed', 'waiting_on_customer'") }, async (p) => {
      const r = await runBgmig(['validate'], urlEnv(p));
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^COMPATIBLE {2}0 breaking, 0 risky, 2 safe/m);
      expect(r.stdout).toMatch(/^ROLLBACK BLOCKED {2}2 breaking, 0 risky, 0 safe/m);
      expect(r.stdout).toMatch(
        /^ {2}RB101 {2}public\.ticket\.subject {2}public\.ticket\.subject is character varying\(200\) on green, character varying\(40\) on blue/m,
      );
      expect(r.stdout).toMatch(/^ {2}RB102 {2}public\.ticket\.state .*'waiting_on_customer'/m);
      expect(r.stdout).toContain('`db rollback` after cutover is impossible');
    });
  });

  it('URLs from BGMIG_BLUE_URL / BGMIG_GREEN_URL (keeps passwords out of the process list)', async () => {
    await withPair(server, DROPPED_COLUMN, async (p) => {
      const r = await runBgmig(['validate', '--json'], { env: { BGMIG_BLUE_URL: server.url(p.blueDb), BGMIG_GREEN_URL: server.url(p.greenDb) } });
      expect(r.code, r.stderr).toBe(3);
      expect((JSON.parse(r.stdout) as { verdict: string }).verdict).toBe('incompatible');
    });
  });

  it('wrong password: exit 1, one sentence, the password nowhere (human and --json)', async () => {
    await withPair(server, {}, async (p) => {
      const wrong = 'N0t-The-Right-Pa55';
      const args = ['validate', '--blue-url', server.url(p.blueDb, 'postgres', wrong), '--green-url', server.url(p.greenDb)];
      const human = await runBgmig(args);
      expect(human.code).toBe(1);
      // One machine contract (issue 16): the sentence on stderr; the partial report's side lines on stdout.
      expect(human.stderr).toContain(
        `error: Blue database: PostgreSQL rejected the credentials for postgres@127.0.0.1:${server.port}/${p.blueDb}: check the password in the secret or URL.`,
      );
      expect(human.stdout).toMatch(/blue unread; green postgres@/);
      const json = await runBgmig([...args, '--json']);
      expect(json.code).toBe(1);
      const doc = JSON.parse(json.stdout) as { error: { code: string; details: { report: { verdict: string; rollback?: unknown } } } };
      expect(doc.error.code).toBe('validation-error');
      expect(doc.error.details.report.verdict).toBe('error');
      expect(doc.error.details.report.rollback).toBeUndefined();
      expect(json.stderr).toMatch(/error: Blue database: PostgreSQL rejected the credentials/);
      for (const r of [human, json]) {
        expect(r.stdout + r.stderr).not.toContain(wrong);
        expectNoPassword(r.stdout, r.stderr);
      }
    });
  });

  it('bad input exits 2 before connecting', async () => {
    const url = server.url('postgres');
    const cases: Array<[string[], RegExp]> = [
      [['validate', '--blue-url', url], /--blue-url needs --green-url as well: direct mode compares both databases/],
      [['validate'], /Nothing to validate: pass --suffix NAME/],
      [
        ['--suffix', 'prod', 'validate', '--blue-url', url, '--green-url', url],
        /--suffix and --blue-url\/--green-url cannot be used together: pass either --suffix/,
      ],
      [['validate', '--blue-url', url, '--green-url', url, '--ignore', 'XX999'], /--ignore XX999 is not a validator code/],
      [['validate', '--blue-url', 'mysql://a@b/c', '--green-url', url], /--blue-url must start with postgres:\/\//],
      [['validate', '--blue-url', url, '--green-url', url, '--schema', ''], /--schema needs a schema name/],
    ];
    for (const [args, message] of cases) {
      const r = await runBgmig(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
      expectNoPassword(r.stdout, r.stderr);
    }
  });
});
