/**
 * `bgmig db init`'s SQL (src/dbinit/app-role.ts) against two real PostgreSQL 15 servers: the role with the same
 * password on both, the database created when missing, the grants working for a non-superuser application,
 * idempotency, both-or-neither when the second server fails (before and after the first committed), and no
 * password in any message.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import { PassThrough } from 'node:stream';
import { AwsClients } from '../../src/aws/clients.js';
import { dbInitOptions, renderDbInit, runDbInit } from '../../src/cli/commands/db/init.js';
import { Io } from '../../src/cli/io.js';
import { BgmigError } from '../../src/core/errors.js';
import { parseDbUrl, type DbTarget } from '../../src/db/connection.js';
import { initAppRole, scramVerifier } from '../../src/dbinit/app-role.js';
import { fence, readFence, unfence } from '../../src/replication/fence.js';
import { ensureSchema } from '../../src/replication/journal.js';
import { openSession } from '../../src/replication/session.js';
import { runBgmig } from '../harness/cli.js';
import { canLogin as canLoginAs, startPostgres, type PgServer } from '../harness/postgres.js';

let blue: PgServer;
let green: PgServer;
const PW1 = 'Init-Pass-0001-xyz';
const PW2 = 'Init-Pass-0002-abc';

function admin(s: PgServer, user = 'postgres', password = s.password): DbTarget {
  return parseDbUrl(s.url('postgres', user, password), '--url');
}

function canLogin(s: PgServer, password: string, database = 'app'): Promise<boolean> {
  return canLoginAs(s, 'bgmig_app', password, database);
}

async function state(s: PgServer): Promise<{ role: boolean; db: boolean }> {
  const r = await s.sql(
    "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname='bgmig_app') AS role, EXISTS (SELECT 1 FROM pg_database WHERE datname='app') AS db",
  );
  return r.rows[0] as { role: boolean; db: boolean };
}

async function reset(s: PgServer): Promise<void> {
  await s.sql('DROP DATABASE IF EXISTS app WITH (FORCE)');
  await s.sql("DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname='bgmig_app') THEN DROP OWNED BY bgmig_app; DROP ROLE bgmig_app; END IF; END $$");
  await s.sql("DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname='weakadmin') THEN DROP ROLE weakadmin; END IF; END $$");
}

beforeAll(async () => {
  [blue, green] = await Promise.all([startPostgres(), startPostgres()]);
});
afterAll(async () => {
  await Promise.all([blue?.stop(), green?.stop()]);
});
beforeEach(async () => {
  await Promise.all([reset(blue), reset(green)]);
});

describe('db init (app role SQL)', () => {
  it('computes exactly the SCRAM-SHA-256 verifier PostgreSQL computes for the same salt', async () => {
    await blue.sql("CREATE ROLE scram_probe PASSWORD 'pencil-Probe-42'");
    try {
      const stored = (await blue.sql("SELECT rolpassword FROM pg_authid WHERE rolname = 'scram_probe'")).rows[0].rolpassword as string;
      const m = /^SCRAM-SHA-256\$(\d+):([^$]+)\$/.exec(stored);
      expect(m).not.toBeNull();
      expect(scramVerifier('pencil-Probe-42', Buffer.from(m![2], 'base64'), Number(m![1]))).toBe(stored);
    } finally {
      await blue.sql('DROP ROLE scram_probe');
    }
  });

  it('creates the database and the role with the same password on both, with working grants', async () => {
    const report = await initAppRole({ blue: admin(blue), green: admin(green) }, PW1);
    expect(report.role).toBe('bgmig_app');
    expect(report.database).toBe('app');
    for (const side of [report.blue, report.green]) {
      expect(side).toMatchObject({ roleCreated: true, databaseCreated: true, loginVerified: true, schemas: ['public'] });
    }
    expect(JSON.stringify(report)).not.toContain(PW1);
    expect(await canLogin(blue, PW1)).toBe(true);
    expect(await canLogin(green, PW1)).toBe(true);

    // A table created later by the admin (migrations) is usable by the app through the default privileges;
    // the app may create its own tables; it is not a superuser.
    await blue.sql('CREATE TABLE public.orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, item text)', 'app');
    const app = new pg.Client({ connectionString: blue.url('app', 'bgmig_app', PW1) });
    await app.connect();
    try {
      await app.query("INSERT INTO public.orders (item) VALUES ('a')");
      await app.query("UPDATE public.orders SET item = 'b'");
      expect((await app.query('SELECT count(*)::int AS n FROM public.orders')).rows[0].n).toBe(1);
      await app.query('CREATE TABLE public.own (id int)');
      const r = await app.query("SELECT rolsuper, rolcreaterole, rolcreatedb, rolreplication FROM pg_roles WHERE rolname = 'bgmig_app'");
      expect(r.rows[0]).toEqual({ rolsuper: false, rolcreaterole: false, rolcreatedb: false, rolreplication: false });
    } finally {
      await app.end();
    }
    // The server never saw the clear password: only the verifier is stored.
    const stored = await blue.sql("SELECT rolpassword FROM pg_authid WHERE rolname='bgmig_app'");
    expect(stored.rows[0].rolpassword).toMatch(/^SCRAM-SHA-256\$4096:/);
  });

  it("on a side fenced by a running sync, records the role for the unfence instead of opening CONNECT (the engine's fence reader)", async () => {
    await green.sql('CREATE DATABASE app');
    const s = await openSession('green', parseDbUrl(green.url('app'), '--green-url'));
    try {
      await ensureSchema(s);
      await fence(s);
      const report = await initAppRole({ blue: admin(blue), green: admin(green) }, PW1);
      expect(report.blue).toMatchObject({ fenced: false, loginVerified: true });
      expect(report.green).toMatchObject({ fenced: true, loginVerified: null });
      // The passive side keeps refusing the application; the role waits in bgmig.fence for its CONNECT.
      expect((await readFence(s)).connectRevokedFrom).toContain('bgmig_app');
      const refusedLogin = await canLogin(green, PW1).catch((e: unknown) => e);
      expect((refusedLogin as { code?: string }).code).toBe('42501'); // insufficient_privilege: CONNECT withheld
      await unfence(s);
      expect(await canLogin(green, PW1)).toBe(true);
    } finally {
      await s.client.end();
    }
  });

  it('is idempotent: a re-run updates the password and re-applies grants, creating nothing new', async () => {
    await initAppRole({ blue: admin(blue), green: admin(green) }, PW1);
    await blue.sql('CREATE TABLE public.t1 (id int PRIMARY KEY)', 'app');
    await blue.sql('ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM bgmig_app', 'app');
    await blue.sql('CREATE TABLE public.t2 (id int PRIMARY KEY)', 'app');
    const again = await initAppRole({ blue: admin(blue), green: admin(green) }, PW2);
    expect(again.blue).toMatchObject({ roleCreated: false, databaseCreated: false, loginVerified: true, tables: 2 });
    expect(again.green).toMatchObject({ roleCreated: false, databaseCreated: false, loginVerified: true });
    expect(await canLogin(blue, PW1)).toBe(false);
    expect(await canLogin(green, PW1)).toBe(false);
    expect(await canLogin(blue, PW2)).toBe(true);
    expect(await canLogin(green, PW2)).toBe(true);
    const g = await blue.sql("SELECT has_table_privilege('bgmig_app', 'public.t2', 'INSERT') AS ins", 'app');
    expect(g.rows[0].ins).toBe(true);
  });

  it('both or neither: green failing inside its transaction leaves blue untouched (role and database)', async () => {
    // Green's admin may create roles but does not own green's app database: GRANT … ON DATABASE fails there.
    await green.sql("CREATE ROLE weakadmin LOGIN CREATEROLE PASSWORD 'weak-admin-pw'");
    await green.sql('CREATE DATABASE app');
    const err = await initAppRole({ blue: admin(blue), green: admin(green, 'weakadmin', 'weak-admin-pw') }, PW1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BgmigError);
    const msg = (err as BgmigError).message;
    expect(msg).toMatch(/db init failed on green/);
    expect(msg).toMatch(/database app created on blue was dropped again/);
    expect(msg).not.toContain(PW1);
    expect(msg).not.toContain('weak-admin-pw');
    expect(await state(blue)).toEqual({ role: false, db: false });
    expect((await state(green)).role).toBe(false);
  });

  it('both or neither: a failure after blue committed drops the role blue got', async () => {
    const err = await initAppRole({ blue: admin(blue), green: admin(green) }, PW1, {
      afterCommit: async (c) => {
        if (c === 'blue') throw new Error('injected: green commit lost');
      },
    }).catch((e: unknown) => e);
    expect((err as BgmigError).message).toMatch(/the role created on blue was dropped again/);
    expect(await state(blue)).toEqual({ role: false, db: false });
    expect(await state(green)).toEqual({ role: false, db: false });
  });

  it("both or neither: for an existing role, a failure after blue committed restores blue's previous password", async () => {
    await initAppRole({ blue: admin(blue), green: admin(green) }, PW1);
    const err = await initAppRole({ blue: admin(blue), green: admin(green) }, PW2, {
      afterCommit: async (c) => {
        if (c === 'blue') throw new Error('injected');
      },
    }).catch((e: unknown) => e);
    expect((err as BgmigError).message).toMatch(/previous password of bgmig_app on blue was restored/);
    expect((err as BgmigError).message).not.toContain(PW2);
    expect(await canLogin(blue, PW1)).toBe(true);
    expect(await canLogin(green, PW1)).toBe(true);
    expect(await canLogin(blue, PW2)).toBe(false);
  });

  it('an unreachable or misconfigured green changes nothing on blue, and says so without a password', async () => {
    const err = await initAppRole({ blue: admin(blue), green: admin(green, 'postgres', 'wrong-password-zz') }, PW1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BgmigError);
    expect((err as BgmigError).message).toMatch(/green .*rejected the credentials/);
    expect((err as BgmigError).message).not.toContain('wrong-password-zz');
    expect(await state(blue)).toEqual({ role: false, db: false });
  });

  it('refuses a weak password as bad input before connecting', async () => {
    const err = await initAppRole({ blue: admin(blue), green: admin(green) }, 'short').catch((e: unknown) => e);
    expect((err as BgmigError).exitCode).toBe(2);
  });
});

describe('bgmig db init (command, direct mode, in-process)', () => {
  function memIo() {
    let text = '';
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    stdout.on('data', (d: Buffer) => (text += d.toString()));
    stderr.on('data', (d: Buffer) => (text += d.toString()));
    return { io: new Io({ json: false, color: false, verbose: true, yes: true }, { stdout, stderr, stdin: new PassThrough() }), out: () => text };
  }
  const aws = new AwsClients({ region: 'us-east-1' });

  it('takes the password from stdin, prints the result, never the password or a URL with it', async () => {
    const { io, out } = memIo();
    const r = await runDbInit(dbInitOptions({ blueUrl: blue.url('postgres'), greenUrl: green.url('postgres'), appPasswordStdin: true }, undefined), {
      io,
      aws,
      env: {},
      readStdin: async () => `${PW1}\n`,
    });
    io.result(r, () => renderDbInit(r));
    const text = out();
    expect(text).toMatch(/Application role bgmig_app is ready on both databases with the same password \(from stdin; never printed\)/);
    expect(text).toMatch(/blue {3}postgres@127\.0\.0\.1:\d+\/postgres {2}role created, database created, 0 tables, 0 sequences granted, login verified/);
    for (const secret of [PW1, blue.password, green.password]) expect(text).not.toContain(secret);
    expect(JSON.stringify(r)).not.toContain(PW1);
    expect(await canLogin(green, PW1)).toBe(true);
  });

  it('takes the password from BGMIG_APP_PASSWORD', async () => {
    const { io } = memIo();
    const r = await runDbInit(dbInitOptions({ blueUrl: blue.url('postgres'), greenUrl: green.url('postgres') }, undefined), {
      io,
      aws,
      env: { BGMIG_APP_PASSWORD: PW2 },
    });
    expect(r.passwordSource).toBe('BGMIG_APP_PASSWORD');
    expect(await canLogin(blue, PW2)).toBe(true);
  });

  it('bad input, exit 2, nothing changed: no password, one URL only, stdin with --suffix, neither mode', async () => {
    const { io } = memIo();
    // Flags are checked by dbInitOptions (what `register` calls), the password by runDbInit: both before any change.
    const cases: Array<[Parameters<typeof dbInitOptions>[0], string | undefined, RegExp]> = [
      [
        { blueUrl: blue.url('postgres'), greenUrl: green.url('postgres') },
        undefined,
        /needs the application password: pipe it with --app-password-stdin or set BGMIG_APP_PASSWORD/,
      ],
      [{ blueUrl: blue.url('postgres') }, undefined, /--blue-url needs --green-url as well: direct mode takes both admin URLs/],
      [{ appPasswordStdin: true }, 'demo', /--app-password-stdin is for direct mode/],
      [{}, undefined, /Pass --suffix NAME \(AWS mode\) or --blue-url and --green-url/],
      [{ blueUrl: 'mysql://x', greenUrl: green.url('postgres') }, undefined, /--blue-url must start with postgres:\/\//],
    ];
    for (const [opts, suffix, re] of cases) {
      const e = await (async () => runDbInit(dbInitOptions(opts, suffix), { io, aws, env: {} }))().catch((x: unknown) => x);
      expect(e).toBeInstanceOf(BgmigError);
      expect((e as BgmigError).exitCode).toBe(2);
      expect((e as BgmigError).message).toMatch(re);
    }
    expect(await state(blue)).toEqual({ role: false, db: false });
  });
});

describe('bgmig db init (the real executable, direct mode)', () => {
  it('reads URLs from BGMIG_BLUE_URL/BGMIG_GREEN_URL and the password from stdin; --verbose output carries no secret', async () => {
    const env = { BGMIG_BLUE_URL: blue.url('app'), BGMIG_GREEN_URL: green.url('app') };
    const r = await runBgmig(['db', 'init', '--app-password-stdin', '--verbose'], { env, input: `${PW1}\n` });
    expect(r.stderr + r.stdout).not.toMatch(/error:/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Application role bgmig_app is ready on both databases with the same password \(from stdin; never printed\)\./);
    expect(r.stdout).toMatch(/green {2}postgres@127\.0\.0\.1:\d+\/app {2}role created, database created/);
    for (const secret of [PW1, blue.password, green.password]) expect(r.stdout + r.stderr).not.toContain(secret);
    expect(await canLogin(blue, PW1)).toBe(true);

    const j = await runBgmig(['db', 'init', '--json'], { env: { ...env, BGMIG_APP_PASSWORD: PW2 } });
    expect(j.code).toBe(0);
    const report = JSON.parse(j.stdout) as { mode: string; passwordSource: string; blue: { roleCreated: boolean } };
    expect(report).toMatchObject({ mode: 'direct', passwordSource: 'BGMIG_APP_PASSWORD', blue: { roleCreated: false } });
    expect(j.stdout + j.stderr).not.toContain(PW2);
    expect(await canLogin(green, PW2)).toBe(true);
  });

  it('refuses a password given as an argument (exit 2) and says how to pass it when none is given', async () => {
    const env = { BGMIG_BLUE_URL: blue.url('app'), BGMIG_GREEN_URL: green.url('app') };
    const argv = await runBgmig(['db', 'init', '--app-password', PW1], { env });
    expect(argv.code).toBe(2);
    const none = await runBgmig(['db', 'init'], { env });
    expect(none.code).toBe(2);
    expect(none.stderr.trim()).toBe(
      'error: Direct mode needs the application password: pipe it with --app-password-stdin or set BGMIG_APP_PASSWORD (it is never taken from an argument).',
    );
    expect(await state(blue)).toEqual({ role: false, db: false });
  });
});
