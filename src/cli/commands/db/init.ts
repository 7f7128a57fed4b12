/**
 * `bgmig db init`: the application role (bgmig_app) with the same password on both databases, the application
 * database when missing, and its grants — both or neither, idempotent (src/dbinit/app-role.ts).
 *
 * AWS mode (--suffix): the password is the application secret's (secret-db-app-{s}, AWSCURRENT) and the SQL runs in
 * the cutover function, which reads that secret itself: the password never reaches this machine.
 * Direct mode (--blue-url --green-url, admin URLs): the password comes from stdin (--app-password-stdin) or from
 * BGMIG_APP_PASSWORD — never from an argument, which `ps` would show. It is never printed.
 */
import type { Command } from 'commander';
import type { AwsPorts } from '../../../aws/ports.js';
import { badInput, ExitCode } from '../../../core/errors.js';
import { APP_DB_NAME, APP_DB_USERNAME } from '../../../core/lambda-env.js';
import { names } from '../../../core/naming.js';
import { type AppRoleReport, type AppRoleSideReport, initAppRole } from '../../../dbinit/app-role.js';
import { action, collect } from '../../context.js';
import type { Io } from '../../io.js';
import { emit, type FailureOf, type RunF } from '../../verb.js';
import { type ModeFlags, type Where, whereOf, withModeOptions } from './common.js';

export interface DbInitOptions {
  where: Where;
  /** Direct mode: the application database — the one the URLs name, or APP_DB_NAME when they name `postgres`. */
  database?: string | undefined;
  /** --app-password-stdin (direct mode): read the password from standard input, else BGMIG_APP_PASSWORD. */
  appPasswordStdin: boolean;
  /** --schema (repeatable): the schemas the application uses (undefined: public). */
  schemas?: string[] | undefined;
}

export interface DbInitDeps {
  io: Io;
  aws: AwsPorts;
  env?: NodeJS.ProcessEnv;
  /** Reads all of stdin (tests pass a string). */
  readStdin?: () => Promise<string>;
}

export const APP_PASSWORD_ENV = 'BGMIG_APP_PASSWORD';

export interface DbInitResult extends AppRoleReport {
  mode: 'direct' | 'aws';
  /** Where the password came from (never the password). */
  passwordSource: string;
}

/**
 * Flags → options (exit 2, one sentence, before anything is reached): --app-password-stdin outside direct mode,
 * where the databases are (both URLs, two servers; or the suffix — `suffix` is --suffix/BGMIG_SUFFIX as given), and
 * the same application database name on both sides.
 */
export function dbInitOptions(
  flags: ModeFlags & { appPasswordStdin?: boolean | undefined; schema?: string[] | undefined },
  suffix: string | undefined,
): DbInitOptions {
  if (flags.appPasswordStdin && flags.blueUrl === undefined && flags.greenUrl === undefined) {
    throw badInput('--app-password-stdin is for direct mode: with --suffix the password is the one in the application secret.');
  }
  const where = whereOf(flags, suffix === '' ? undefined : suffix, 'Pass --suffix NAME (AWS mode) or --blue-url and --green-url (direct mode).');
  const schemas = flags.schema && flags.schema.length > 0 ? flags.schema : undefined;
  const opts: DbInitOptions = { where, appPasswordStdin: flags.appPasswordStdin ?? false, ...(schemas ? { schemas } : {}) };
  if (where.kind === 'aws') return opts;
  const { blue, green } = where.targets;
  // The application database: the one the URLs name (the same URLs serve every db command), or APP_DB_NAME when
  // they name the maintenance database.
  const named = (t: { database: string }) => (t.database === 'postgres' ? APP_DB_NAME : t.database);
  if (named(blue) !== named(green)) {
    throw badInput(
      `--blue-url names database "${blue.database}" and --green-url "${green.database}": the application database must have the same name on both.`,
    );
  }
  return { ...opts, database: named(blue) };
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

async function directPassword(opts: DbInitOptions, deps: DbInitDeps): Promise<{ password: string; source: string }> {
  const env = deps.env ?? process.env;
  if (opts.appPasswordStdin) {
    const stdin = deps.io.streams.stdin;
    if (!deps.readStdin && stdin.isTTY) {
      throw badInput('--app-password-stdin reads the password from standard input: pipe it in (e.g. `printf %s "$PW" | bgmig db init …`).');
    }
    const raw = deps.readStdin ? await deps.readStdin() : await readAll(stdin);
    const password = raw.replace(/\r?\n$/, '');
    if (password === '') throw badInput('--app-password-stdin was given but standard input was empty.');
    return { password, source: 'stdin' };
  }
  const fromEnv = env[APP_PASSWORD_ENV];
  if (fromEnv) return { password: fromEnv, source: APP_PASSWORD_ENV };
  throw badInput(
    `Direct mode needs the application password: pipe it with --app-password-stdin or set ${APP_PASSWORD_ENV} (it is never taken from an argument).`,
  );
}

/**
 * Sets the application role on both databases: in-process with the password from stdin or BGMIG_APP_PASSWORD
 * (direct mode; exit 2 when there is none), or in the cutover function with the application secret (AWS mode).
 * Returns both sides' reports (a login that could not be verified included: see exitCodeOf); throws what
 * initAppRole throws (src/dbinit/app-role.ts), and a failure when the stack is missing.
 */
export async function runDbInit(opts: DbInitOptions, deps: DbInitDeps): Promise<DbInitResult> {
  const { io } = deps;
  if (opts.where.kind === 'direct') {
    const { blue, green } = opts.where.targets;
    const database = opts.database ?? APP_DB_NAME;
    const { password, source } = await directPassword(opts, deps);
    io.debug(
      `db init (direct): blue ${blue.user}@${blue.host}:${blue.port}, green ${green.user}@${green.host}:${green.port}, database ${database}, password from ${source}`,
    );
    const report = await initAppRole({ blue, green }, password, { schemas: opts.schemas, database });
    return { mode: 'direct', passwordSource: source, ...report };
  }
  const { suffix } = opts.where;
  const [{ requireStack }, { remoteExecutorFor }] = await Promise.all([import('../../../deployed/stack.js'), import('../../../remote/cutover-client.js')]);
  const stack = await requireStack(deps.aws, suffix);
  const ex = remoteExecutorFor(deps.aws, stack, suffix);
  io.debug(`db init (aws): running in ${names(suffix).cutoverFunction}`);
  const report = await ex.init({ schemas: opts.schemas }, { progress: (e) => (e.kind === 'log' ? io.debug(e.text) : undefined) });
  return { mode: 'aws', passwordSource: `${names(suffix).appDbSecret} (AWSCURRENT)`, ...report };
}

/**
 * Direct mode: the role was set on both sides but a login as it failed on one (pg_hba, network) — the one sentence
 * saying so, else undefined. (AWS mode verifies from inside the VPC, where this machine's view does not apply.)
 */
export function loginFailure(r: DbInitResult): string | undefined {
  const failedOn = [r.blue, r.green].find((s) => s.loginVerified === false);
  if (!failedOn || r.mode !== 'direct') return undefined;
  return `The role was set on both databases but logging in as ${r.role} failed on ${failedOn.color}: check pg_hba.conf for that role.`;
}

/** A login not verified is a failure as well as a result (code "login-not-verified"): see loginFailure. */
export const loginNotVerified: FailureOf<DbInitResult> = { sentence: loginFailure, code: 'login-not-verified' };

/** 1 when a direct-mode login could not be verified (loginFailure), else 0. */
export function exitCodeOf(r: DbInitResult): ExitCode {
  return loginFailure(r) === undefined ? ExitCode.Ok : ExitCode.Failure;
}

function sideLine(s: AppRoleSideReport): string {
  const parts = [
    s.roleCreated ? 'role created' : 'role updated',
    s.databaseCreated ? 'database created' : 'database present',
    `${s.tables} table${s.tables === 1 ? '' : 's'}, ${s.sequences} sequence${s.sequences === 1 ? '' : 's'} granted`,
    s.loginVerified === null
      ? 'fenced (passive side of the sync): the role may connect once it is active'
      : s.loginVerified
        ? 'login verified'
        : 'LOGIN NOT VERIFIED (check pg_hba / network from here)',
  ];
  return `  ${s.color.padEnd(5)}  ${s.server}  ${parts.join(', ')}`;
}

export function renderDbInit(r: DbInitResult): string {
  return [
    `Application role ${r.role} is ready on both databases with the same password (from ${r.passwordSource}; never printed).`,
    sideLine(r.blue),
    sideLine(r.green),
    `Grants: CONNECT, TEMPORARY on database ${r.database}; USAGE, CREATE on schema ${r.schemas.join(', ')}; SELECT, INSERT, UPDATE, DELETE on tables;`,
    `        USAGE, SELECT on sequences; the same by default on tables and sequences created later.`,
  ].join('\n');
}

/**
 * The default action: the result, or — when a login could not be verified — the result written as every error is
 * (verb.ts `emit` with loginNotVerified: the report, the sentence on stderr; with --json one error document
 * carrying the report), exit 1.
 */
const dbInitAction: RunF<DbInitOptions> = async (opts, ctx) => emit(ctx.io, await runDbInit(opts, ctx), renderDbInit, exitCodeOf, loginNotVerified);

export function register(db: Command, runF: RunF<DbInitOptions> = dbInitAction): void {
  withModeOptions(
    db
      .command('init')
      .description(
        `create the application role ${APP_DB_USERNAME} with the same password on both databases, the ${APP_DB_NAME} database, and its grants (both or neither; re-runnable)`,
      ),
  )
    .option('--app-password-stdin', `direct mode: read the application password from standard input (else ${APP_PASSWORD_ENV})`, false)
    .option('--schema <name>', 'schema the application uses (repeatable; default public)', collect)
    .addHelpText(
      'after',
      `
AWS mode (--suffix): the password is secret-db-app-<suffix> (AWSCURRENT) and the SQL runs in lambda-db-cutover-<suffix>.

Examples:
  $ bgmig db init --suffix shop-prod
  $ printf %s "$APP_PASSWORD" | BGMIG_BLUE_URL=postgres://… BGMIG_GREEN_URL=postgres://… bgmig db init --app-password-stdin`,
    )
    .action(action<ModeFlags & { appPasswordStdin?: boolean; schema?: string[] }>(async (ctx, o) => runF(dbInitOptions(o, o.suffix), ctx)));
}
