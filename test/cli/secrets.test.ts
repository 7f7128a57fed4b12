/**
 * Issue 16, kind 6: secrets never on a command line. `rotate-secret-manual` reads its admin URLs from the
 * environment (BGMIG_DB_URL, BGMIG_BLUE_URL/BGMIG_GREEN_URL) or standard input (--urls-stdin), as `validate` and
 * `db` do; a password typed as an argument is named in a warning. End to end: the real executable, moto for
 * Secrets Manager/ECS/CloudFormation, real PostgreSQL servers that the rotation changes and logs in to.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseStdinUrls, resolveOptions } from '../../src/cli/commands/rotate-secret-manual.js';
import { ExitCode } from '../../src/core/errors.js';
import { type Fixture, provisionFixture } from '../harness/aws-fixture.js';
import { runBgmig } from '../harness/cli.js';
import { type Moto, startMoto } from '../harness/moto.js';
import { type PgServer, startPostgres } from '../harness/postgres.js';
import { APP_USER, MASTER_USER, canLogin, makeServiceStable, passwordAt, setSecret, snapshotSecret, versionWith } from '../rotation/helpers.js';

describe('choosing the URLs (pure)', () => {
  it('environment URLs for another rotation do not pick a mode or refuse: BGMIG_BLUE_URL while rotating a colour', () => {
    const env = { blueUrl: 'postgres://a:b@h/d', greenUrl: 'postgres://a:b@h2/d', sources: { blueUrl: 'env', greenUrl: 'env' } };
    expect(resolveOptions({ color: 'blue', ...env })).toMatchObject({ mode: 'aws', urls: {} });
    expect(resolveOptions({ app: true, ...env })).toMatchObject({ mode: 'direct', urls: { blueUrl: 'postgres://a:b@h/d', greenUrl: 'postgres://a:b@h2/d' } });
    // BGMIG_DB_URL (a colour's) is ignored by --app; typed on the command line it is still a contradiction.
    expect(resolveOptions({ app: true, dbUrl: 'postgres://a:b@h/d', sources: { dbUrl: 'env' } }).mode).toBe('aws');
    expect(() => resolveOptions({ app: true, dbUrl: 'postgres://a:b@h/d', sources: { dbUrl: 'cli' } })).toThrow(
      expect.objectContaining({ exitCode: ExitCode.BadInput }),
    );
    expect(() => resolveOptions({ color: 'blue', blueUrl: 'postgres://a:b@h/d' })).toThrow(/--blue-url\/--green-url belong to --app/);
  });

  it('--urls-stdin: one URL for a colour, blue=/green= lines for --app, one sentence otherwise without echoing a URL', () => {
    expect(parseStdinUrls('postgres://a:pw@h/d\n', false)).toEqual({ dbUrl: 'postgres://a:pw@h/d' });
    expect(parseStdinUrls('\ngreen=postgres://g:pw@h/d\nblue=postgres://b:pw@h/d\n', true)).toEqual({
      blueUrl: 'postgres://b:pw@h/d',
      greenUrl: 'postgres://g:pw@h/d',
    });
    for (const [text, app, msg] of [
      ['', false, /exactly one admin URL line.*got 0/],
      ['postgres://a:pw@h/d\npostgres://b:pw@h/d', false, /got 2 line/],
      ['blue=postgres://b:pw@h/d', true, /the green one is missing/],
      ['postgres://b:pw@h/d\ngreen=postgres://g:pw@h/d', true, /a line had neither prefix/],
      ['blue=postgres://b:pw@h/d\nblue=postgres://c:pw@h/d\ngreen=x', true, /two blue= lines/],
    ] as const) {
      let err: unknown;
      try {
        parseStdinUrls(text, app);
      } catch (e) {
        err = e;
      }
      expect(err, text).toMatchObject({ exitCode: ExitCode.BadInput, message: expect.stringMatching(msg) });
      expect((err as Error).message).not.toContain('pw@');
    }
  });
});

describe('rotate-secret-manual with URLs from the environment and stdin (real executable)', () => {
  let moto: Moto;
  let blue: PgServer;
  let green: PgServer;
  let fx: Fixture;
  const MASTER_PW = 'initial-master-Pw-31c9';
  const APP_PW = 'initial-app-Pw-d41f';

  beforeAll(async () => {
    [moto, blue, green] = await Promise.all([startMoto(), startPostgres(), startPostgres()]);
    fx = await provisionFixture(moto, 'sec');
    await blue.sql(`CREATE ROLE ${MASTER_USER} LOGIN CREATEROLE PASSWORD '${MASTER_PW}'`);
    for (const s of [blue, green]) await s.sql(`CREATE ROLE ${APP_USER} LOGIN PASSWORD '${APP_PW}'`);
    await setSecret(fx, fx.secretArn.blue, {
      username: MASTER_USER,
      password: MASTER_PW,
      engine: 'postgres',
      host: blue.host,
      port: blue.port,
      dbname: 'postgres',
    });
    await setSecret(fx, fx.secretArn.app, { username: APP_USER, password: APP_PW, engine: 'postgres', dbname: 'postgres' });
    await makeServiceStable(fx, 'blue');
    await makeServiceStable(fx, 'green');
  });
  afterAll(async () => {
    await Promise.all([moto?.stop(), blue?.stop(), green?.stop()]);
  });

  it('BGMIG_DB_URL: the blue master secret rotates in direct mode with no password in argv, and nothing warns', async () => {
    const args = ['rotate-secret-manual', '--suffix', 'sec', '--color', 'blue', '--yes'];
    const r = await runBgmig(args, { env: { ...fx.env, BGMIG_DB_URL: blue.url() } });
    expect(r.code, r.stderr).toBe(0);
    expect(args.join(' ')).not.toContain(blue.password);
    expect(r.stderr).not.toMatch(/warning: the password/);
    const after = await snapshotSecret(fx, fx.secretArn.blue);
    const current = await passwordAt(fx, fx.secretArn.blue, versionWith(after, 'AWSCURRENT') ?? '', 'AWSCURRENT');
    expect(current).not.toBe(MASTER_PW);
    // Direct mode really ran: ALTER ROLE on this server, proved by logging in with the new password.
    expect(await canLogin(blue, MASTER_USER, current)).toBe(true);
    expect(await canLogin(blue, MASTER_USER, MASTER_PW)).toBe(false);
    expect(r.stdout + r.stderr).not.toContain(current);
  });

  it('--app --urls-stdin: the application secret rotates on both servers from two stdin lines', async () => {
    const input = `blue=${blue.url()}\ngreen=${green.url()}\n`;
    const r = await runBgmig(['rotate-secret-manual', '--suffix', 'sec', '--app', '--urls-stdin', '--yes'], { env: fx.env, input });
    expect(r.code, r.stderr).toBe(0);
    const after = await snapshotSecret(fx, fx.secretArn.app);
    const current = await passwordAt(fx, fx.secretArn.app, versionWith(after, 'AWSCURRENT') ?? '', 'AWSCURRENT');
    for (const s of [blue, green]) {
      expect(await canLogin(s, APP_USER, current)).toBe(true);
      expect(await canLogin(s, APP_USER, APP_PW)).toBe(false);
    }
  });

  it('a password typed as --db-url is named in a warning (the dry run still runs); a malformed BGMIG_DB_URL is exit 2 before any call', async () => {
    const typed = await runBgmig(['rotate-secret-manual', '--suffix', 'sec', '--color', 'blue', '--db-url', blue.url(), '--dry-run'], { env: fx.env });
    expect(typed.code, typed.stderr).toBe(0);
    expect(typed.stderr).toMatch(
      /warning: the password in --db-url is visible to every user of this machine \(ps\) and in your shell history: pass it through BGMIG_DB_URL instead\./,
    );
    expect(typed.stderr).not.toContain(blue.password);

    const bad = await runBgmig(['rotate-secret-manual', '--suffix', 'sec', '--color', 'blue', '--dry-run'], {
      env: { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_ENDPOINT_URL: 'http://127.0.0.1:1', BGMIG_DB_URL: 'mysql://x' },
    });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error: --db-url must start with postgres:\/\/ or postgresql:\/\//m);
    expect(bad.stderr).not.toContain('Cannot reach');
  });

  it('validate and db commands warn about a typed password the same way', async () => {
    const url = 'postgres://admin:typed-Pw-1@127.0.0.1:1/app';
    const r = await runBgmig(['db', 'sync', 'status', '--blue-url', url, '--green-url', url.replace('/app', '/other')]);
    expect(r.stderr).toMatch(/warning: the password in --blue-url is visible .* pass it through BGMIG_BLUE_URL instead\./);
    expect(r.stderr).toMatch(/warning: the password in --green-url is visible/);
    expect(r.stderr).not.toContain('typed-Pw-1');
    const quiet = await runBgmig(['db', 'sync', 'status'], { env: { BGMIG_BLUE_URL: url, BGMIG_GREEN_URL: url.replace('/app', '/other') } });
    expect(quiet.stderr).not.toMatch(/warning: the password/);
  });

  it('--urls-stdin together with a typed URL is a contradiction (exit 2)', async () => {
    const r = await runBgmig(
      ['rotate-secret-manual', '--suffix', 'sec', '--color', 'blue', '--urls-stdin', '--db-url', 'postgres://a@127.0.0.1/x', '--dry-run'],
      { env: fx.env, input: blue.url() },
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--urls-stdin and --db-url cannot be used together/);
  });
});
