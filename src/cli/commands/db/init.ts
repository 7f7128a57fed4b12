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
import { BgmigError, ExitCode, badInput } from '../../../core/errors.js';
import { APP_DB_NAME, APP_DB_USERNAME } from '../../../core/lambda-env.js';
import { names, validateSuffix } from '../../../core/naming.js';
import { parseDbUrl } from '../../../db/connection.js';
import { type AppRoleReport, type AppRoleSideReport, initAppRole } from '../../../dbinit/app-role.js';
import type { AwsClients } from '../../../aws/clients.js';
import { action, collect } from '../../context.js';
import { remoteExecutorFor } from '../../db-remote.js';
import { withModeOptions } from './common.js';
import { distinctServers } from '../../flag-rules.js';
import type { Io } from '../../io.js';
import { requireStack } from '../../stack.js';

export interface DbInitOptions {
  blueUrl?: string | undefined;
  greenUrl?: string | undefined;
  appPasswordStdin?: boolean | undefined;
  schema?: string[] | undefined;
}

export interface DbInitDeps {
  io: Io;
  aws: AwsClients;
  /** --suffix / BGMIG_SUFFIX as given (validated here). */
  suffix: string | undefined;
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

export async function runDbInit(opts: DbInitOptions, deps: DbInitDeps): Promise<DbInitResult> {
  const { io } = deps;
  const schemas = opts.schema && opts.schema.length > 0 ? opts.schema : undefined;
  const direct = opts.blueUrl !== undefined || opts.greenUrl !== undefined;
  let result: DbInitResult;
  if (direct) {
    if (!opts.blueUrl || !opts.greenUrl) throw badInput('Direct mode needs both --blue-url and --green-url (or BGMIG_BLUE_URL and BGMIG_GREEN_URL).');
    const blue = parseDbUrl(opts.blueUrl, '--blue-url');
    const green = parseDbUrl(opts.greenUrl, '--green-url');
    distinctServers(blue, green);
    // The application database: the one the URLs name (the same URLs serve every db command), or APP_DB_NAME when
    // they name the maintenance database.
    const named = (t: { database: string }) => (t.database === 'postgres' ? APP_DB_NAME : t.database);
    if (named(blue) !== named(green)) {
      throw badInput(
        `--blue-url names database "${blue.database}" and --green-url "${green.database}": the application database must have the same name on both.`,
      );
    }
    const { password, source } = await directPassword(opts, deps);
    io.debug(
      `db init (direct): blue ${blue.user}@${blue.host}:${blue.port}, green ${green.user}@${green.host}:${green.port}, database ${named(blue)}, password from ${source}`,
    );
    const report = await initAppRole({ blue, green }, password, { schemas, database: named(blue) });
    result = { mode: 'direct', passwordSource: source, ...report };
  } else {
    if (opts.appPasswordStdin) {
      throw badInput('--app-password-stdin is for direct mode: with --suffix the password is the one in the application secret.');
    }
    if (deps.suffix === undefined || deps.suffix === '') {
      throw badInput('Pass --suffix NAME (AWS mode) or --blue-url and --green-url (direct mode).');
    }
    const suffix = validateSuffix(deps.suffix);
    const stack = await requireStack(deps.aws, suffix);
    const ex = remoteExecutorFor(deps.aws, stack, suffix);
    io.debug(`db init (aws): running in ${names(suffix).cutoverFunction}`);
    const report = await ex.init({ schemas }, { progress: (e) => (e.kind === 'log' ? io.debug(e.text) : undefined) });
    result = { mode: 'aws', passwordSource: `${names(suffix).appDbSecret} (AWSCURRENT)`, ...report };
  }
  return result;
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

export function register(db: Command): void {
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
    .action(
      action<DbInitOptions & { suffix?: string }>(async (ctx, opts) => {
        const r = await runDbInit(opts, { io: ctx.io, aws: ctx.aws, suffix: opts.suffix });
        const failedOn = [r.blue, r.green].find((s) => s.loginVerified === false);
        ctx.io.result(r, () => renderDbInit(r));
        if (failedOn && r.mode === 'direct') {
          throw new BgmigError(
            `The role was set on both databases but logging in as ${r.role} failed on ${failedOn.color}: check pg_hba.conf for that role.`,
            ExitCode.Failure,
          );
        }
        return ExitCode.Ok;
      }),
    );
}
