/**
 * `bgmig db init`: the application role (APP_DB_USERNAME) with the SAME password on both databases, the
 * application database (APP_DB_NAME) created when missing, and the grants the application needs — both or
 * neither, idempotent (a re-run sets the password again and re-applies the grants).
 *
 * How "both or neither" is kept:
 * 1. Both servers are reached and inspected before anything changes (a wrong password or an unreachable host
 *    changes nothing anywhere).
 * 2. The database is created where missing (CREATE DATABASE cannot run in a transaction); if that fails on the
 *    second server, the database created on the first is dropped.
 * 3. Role, password and grants run in one transaction per server, both open at once; any error rolls both back.
 * 4. Commit the first, then the second. If the second commit fails, the first is compensated: a role bgmig created
 *    is dropped (DROP OWNED + DROP ROLE), a role that existed gets its previous password verifier back (when the
 *    admin may read pg_authid — a superuser; Aurora's rds_superuser may not, and then the report says so), and a
 *    database bgmig created is dropped.
 *
 * The password never appears in SQL text: the client computes a SCRAM-SHA-256 verifier and sends that
 * (`PASSWORD 'SCRAM-SHA-256$…'`), so server statement logs (log_statement, pgaudit) never see the clear password.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import type pg from 'pg';
import { type BgmigError, ExitCode, badInput, failure, isBgmigError, messageOf, refused } from '../core/errors.js';
import { APP_DB_NAME, APP_DB_USERNAME } from '../core/lambda-env.js';
import type { Color } from '../core/naming.js';
import { scrub } from '../core/redact.js';
import { connect, describeDbError, describeTarget, type DbTarget, withDatabase } from '../db/connection.js';
import { readFenceWith } from '../replication/fence.js';
import { quoteIdent, quoteLiteral } from '../db/sql.js';

export interface AppRoleTargets {
  blue: DbTarget;
  green: DbTarget;
}

export interface AppRoleOptions {
  /** Role name (default APP_DB_USERNAME). */
  role?: string;
  /** Application database (default APP_DB_NAME), created when missing. */
  database?: string;
  /** Schemas the application uses (default ["public"]); created when missing. */
  schemas?: string[];
  statementTimeoutMs?: number;
  lockTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** Fault injection for tests: called after a side's transaction committed. */
  afterCommit?: (color: Color) => Promise<void>;
}

export interface AppRoleSideReport {
  color: Color;
  /** user@host:port/database of the admin connection (no password). */
  server: string;
  roleCreated: boolean;
  databaseCreated: boolean;
  schemas: string[];
  /** Tables and sequences the grants covered at the time of the run (default privileges cover future ones). */
  tables: number;
  sequences: number;
  /** A login as the role with the password succeeded after the change; null: not tried, the side is fenced. */
  loginVerified: boolean | null;
  /** The side is fenced by a running sync (passive): CONNECT is given to the role when it becomes active. */
  fenced: boolean;
}

export interface AppRoleReport {
  operation: 'init';
  role: string;
  database: string;
  schemas: string[];
  blue: AppRoleSideReport;
  green: AppRoleSideReport;
  durationMs: number;
}

const IDENT_MAX = 63;

/** Checks the password bgmig is about to set (bad input, nothing changed). */
export function validateAppPassword(password: string): void {
  if (password.length < 8) throw badInput('The application password must be at least 8 characters long.');
  if (password.length > 1024) throw badInput('The application password must be at most 1024 characters long.');
  // Printable ASCII only: SCRAM normalises non-ASCII passwords with SASLprep, which the client side would have to
  // reproduce exactly; Secrets Manager's generated passwords are ASCII anyway.
  if (!/^[\x21-\x7e]+$/.test(password)) throw badInput('The application password must be printable ASCII without spaces.');
}

/** PostgreSQL's SCRAM-SHA-256 password verifier (what pg_authid.rolpassword stores). */
export function scramVerifier(password: string, salt: Buffer = randomBytes(16), iterations = 4096): string {
  const salted = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/** A side's connection that an earlier step opened; its absence is a bug in this module, never an input error. */
function opened(c: pg.Client | undefined, s: SideState, which: string): pg.Client {
  if (!c) throw new Error(`internal error: the ${which} connection to ${s.color} was never opened`);
  return c;
}

interface SideState {
  color: Color;
  fenced: boolean;
  target: DbTarget;
  admin?: pg.Client;
  app?: pg.Client;
  roleExisted: boolean;
  /** The previous verifier when readable (superuser), for compensation. */
  previousVerifier: string | undefined;
  databaseExisted: boolean;
  databaseCreated: boolean;
  inTx: boolean;
  committed: boolean;
  tables: number;
  sequences: number;
}

/** A maintenance database to run CREATE DATABASE from (the target's own, unless that is the app database). */
function maintenanceTarget(t: DbTarget, appDb: string): DbTarget {
  return t.database === appDb ? withDatabase(t, 'postgres') : t;
}

async function endQuietly(c: pg.Client | undefined): Promise<void> {
  if (c) await c.end().catch(() => undefined);
}

/** Connection settings of every admin connection db init opens. */
interface ConnOpts {
  statementTimeoutMs: number;
  lockTimeoutMs: number;
  connectTimeoutMs: number;
  applicationName: string;
}

/** What every step needs: the names, the connection settings, and how a side's error becomes one sentence. */
interface Run {
  role: string;
  database: string;
  schemas: string[];
  copts: ConnOpts;
  /** The side's error as a failure (exit 1) naming the side, the step and the cause; secrets scrubbed. */
  fail: (side: SideState, doing: string, e: unknown) => BgmigError;
}

/**
 * Sets the application role with `password` on both servers (see the module comment for "both or neither").
 * Returns what was done per side. Throws bad input (exit 2) for an invalid password or name, refused (exit 3) for a
 * superuser application role, and a failure (exit 1) naming the side and step for any database error — after
 * undoing what was done (the undo is named in the same sentence).
 */
export async function initAppRole(targets: AppRoleTargets, password: string, opts: AppRoleOptions = {}): Promise<AppRoleReport> {
  const started = Date.now();
  validateAppPassword(password);
  const { role, database, schemas } = checkedNames(opts);
  const copts: ConnOpts = {
    statementTimeoutMs: opts.statementTimeoutMs ?? 60_000,
    lockTimeoutMs: opts.lockTimeoutMs ?? 5_000,
    connectTimeoutMs: opts.connectTimeoutMs ?? 10_000,
    applicationName: 'bgmig db init',
  };
  const secrets = [password, targets.blue.password, targets.green.password];
  const sides: SideState[] = (['blue', 'green'] as const).map((color) => newSide(color, targets[color]));
  const run: Run = {
    role,
    database,
    schemas,
    copts,
    fail: (side, doing, e) =>
      failure(
        scrub(`db init failed on ${side.color} (${describeTarget(side.target)}) while ${doing}: ${describeDbError(e, side.target, 'reach').message}`, secrets),
        e,
      ),
  };

  try {
    // 1. Reach and inspect both before changing anything.
    await Promise.all(sides.map((s) => inspectSide(s, run)));
    // 2. The application database where missing (not transactional: undone by hand on failure).
    for (const s of sides) await createDatabase(s, run);
    // 3. Role, password and grants: one open transaction per side.
    const verifier = scramVerifier(password);
    for (const s of sides) await grantInTransaction(s, verifier, run);
    // 4. Commit both; compensate the first if the second does not commit.
    for (const s of sides) await commitSide(s, run, opts.afterCommit);
  } catch (e) {
    const undo = await undoAll(sides, role, database, copts);
    await endAll(sides);
    const base = isBgmigError(e) ? e : failure(scrub(`db init failed: ${messageOf(e)}`, secrets), e);
    if (undo.length === 0) throw base;
    throw sameKind(base, `${base.message.replace(/\.?$/, '')}; ${undo.join('; ')}.`, e);
  }
  await endAll(sides);

  // Prove the password works on both (after commit; a failure here is reported, not undone).
  const verified = await Promise.all(sides.map((s) => verifyLogin(s, run, password)));
  const side = (s: SideState, i: number): AppRoleSideReport => ({
    color: s.color,
    server: describeTarget(s.target),
    roleCreated: !s.roleExisted,
    databaseCreated: s.databaseCreated,
    schemas,
    tables: s.tables,
    sequences: s.sequences,
    loginVerified: verified[i],
    fenced: s.fenced,
  });
  return { operation: 'init', role, database, schemas, blue: side(sides[0], 0), green: side(sides[1], 1), durationMs: Date.now() - started };
}

/** The role, database and schema names (defaults applied, schemas deduplicated); bad input when one is no PostgreSQL name. */
function checkedNames(opts: AppRoleOptions): { role: string; database: string; schemas: string[] } {
  const role = opts.role ?? APP_DB_USERNAME;
  const database = opts.database ?? APP_DB_NAME;
  const schemas = opts.schemas && opts.schemas.length > 0 ? [...new Set(opts.schemas)] : ['public'];
  for (const n of [role, database, ...schemas]) {
    if (n.length === 0 || n.length > IDENT_MAX) throw badInput(`"${n}" is not a valid PostgreSQL name (1 to ${IDENT_MAX} characters).`);
  }
  return { role, database, schemas };
}

function newSide(color: Color, target: DbTarget): SideState {
  return {
    color,
    fenced: false,
    target,
    roleExisted: false,
    previousVerifier: undefined,
    databaseExisted: false,
    databaseCreated: false,
    inTx: false,
    committed: false,
    tables: 0,
    sequences: 0,
  };
}

/** An error of the same kind (exit code) as `base`, with another message. */
function sameKind(base: BgmigError, message: string, cause: unknown): BgmigError {
  if (base.exitCode === ExitCode.Refused) return refused(message, undefined, cause);
  if (base.exitCode === ExitCode.BadInput) return badInput(message, cause);
  return failure(message, cause);
}

/**
 * Step 1 for one side: opens the admin connection and reads whether the database and role exist, whether the admin
 * may create roles (failure when not) and whether the role is a superuser (refused). Changes nothing.
 */
async function inspectSide(s: SideState, run: Run): Promise<void> {
  const { role, database } = run;
  try {
    s.admin = await connect(maintenanceTarget(s.target, database), run.copts);
  } catch (e) {
    throw run.fail(s, 'connecting', e);
  }
  try {
    const r = await s.admin.query(
      `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS db,
              EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $2) AS role,
              (SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user) AS can_create_role,
              (SELECT rolsuper FROM pg_roles WHERE rolname = $2) AS role_is_super`,
      [database, role],
    );
    const row = r.rows[0] as { db: boolean; role: boolean; can_create_role: boolean; role_is_super: boolean | null };
    s.databaseExisted = row.db;
    s.roleExisted = row.role;
    if (!row.can_create_role) {
      throw failure(
        `db init needs an admin that may create roles, but ${describeTarget(s.target)} on ${s.color} has neither SUPERUSER nor CREATEROLE: use the cluster's master user.`,
      );
    }
    if (row.role_is_super) {
      throw refused(`Role ${role} on ${s.color} is a superuser: the application role must not be one — drop or alter it and re-run db init.`);
    }
    if (s.roleExisted) {
      // Readable by a superuser only; on Aurora (rds_superuser) this is denied and compensation cannot restore it.
      s.previousVerifier = await s.admin
        .query('SELECT rolpassword FROM pg_authid WHERE rolname = $1', [role])
        .then((x) => (x.rows[0] as { rolpassword: string | null } | undefined)?.rolpassword ?? undefined)
        .catch(() => undefined);
    }
  } catch (e) {
    if (isBgmigError(e)) throw e;
    throw run.fail(s, 'inspecting the server', e);
  }
}

/** Step 2 for one side: CREATE DATABASE where it was missing (one created concurrently since step 1 is fine). */
async function createDatabase(s: SideState, run: Run): Promise<void> {
  if (s.databaseExisted) return;
  try {
    await opened(s.admin, s, 'admin').query(`CREATE DATABASE ${quoteIdent(run.database)}`);
    s.databaseCreated = true;
  } catch (e) {
    // Created concurrently since the inspection: fine.
    if ((e as { code?: string }).code === '42P04') return;
    throw run.fail(s, `creating database ${run.database}`, e);
  }
}

/**
 * Step 3 for one side: opens the application-database connection and, in a transaction left open for step 4, sets
 * the role and its password verifier and grants what the application needs; counts the tables and sequences covered.
 */
async function grantInTransaction(s: SideState, verifier: string, run: Run): Promise<void> {
  const { role, database, schemas } = run;
  try {
    const app = await connect(withDatabase(s.target, database), run.copts);
    s.app = app;
    // A fenced side starts sessions read-only; roles and grants are per server and must be set on both.
    await s.app.query('SET default_transaction_read_only = off');
    await s.app.query('BEGIN');
    s.inTx = true;
    // Serialise concurrent db init runs on this server.
    await s.app.query("SELECT pg_advisory_xact_lock(hashtext('bgmig db init'))");
    const exists = (await s.app.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role])).rowCount === 1;
    if (exists) await s.app.query(`ALTER ROLE ${quoteIdent(role)} WITH LOGIN PASSWORD ${quoteLiteral(verifier)}`);
    else await s.app.query(`CREATE ROLE ${quoteIdent(role)} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION PASSWORD ${quoteLiteral(verifier)}`);
    s.roleExisted = exists;
    const r = quoteIdent(role);
    // A side fenced by bgmig (the passive side of a running sync) must keep refusing the application: the fence
    // revoked CONNECT and records whom to give it back to at unfence (bgmig.fence). There, record the role
    // instead of granting CONNECT now; it gets CONNECT when that side becomes active.
    s.fenced = (await readFenceWith((sql) => app.query(sql))).fenced;
    if (s.fenced) {
      await s.app.query('INSERT INTO bgmig.fence (grantee) VALUES ($1) ON CONFLICT DO NOTHING', [role]);
      await s.app.query(`GRANT TEMPORARY ON DATABASE ${quoteIdent(database)} TO ${r}`);
    } else {
      await s.app.query(`GRANT CONNECT, TEMPORARY ON DATABASE ${quoteIdent(database)} TO ${r}`);
    }
    for (const schema of schemas) {
      const sc = quoteIdent(schema);
      await s.app.query(`CREATE SCHEMA IF NOT EXISTS ${sc}`);
      await s.app.query(`GRANT USAGE, CREATE ON SCHEMA ${sc} TO ${r}`);
      await s.app.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${sc} TO ${r}`);
      await s.app.query(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA ${sc} TO ${r}`);
      // Objects the admin (migrations run as the master user) creates later; the role's own objects are its own.
      await s.app.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA ${sc} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${r}`);
      await s.app.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA ${sc} GRANT USAGE, SELECT ON SEQUENCES TO ${r}`);
    }
    const counts = await s.app.query(
      `SELECT count(*) FILTER (WHERE c.relkind IN ('r','p','v','m','f'))::int AS tables, count(*) FILTER (WHERE c.relkind = 'S')::int AS sequences
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ANY($1::text[])`,
      [schemas],
    );
    s.tables = (counts.rows[0] as { tables: number }).tables;
    s.sequences = (counts.rows[0] as { sequences: number }).sequences;
  } catch (e) {
    throw run.fail(s, `creating role ${role} and its grants`, e);
  }
}

/** Step 4 for one side: COMMIT its open transaction (then the test fault hook, when given). */
async function commitSide(s: SideState, run: Run, afterCommit: AppRoleOptions['afterCommit']): Promise<void> {
  try {
    await opened(s.app, s, 'application').query('COMMIT');
    s.inTx = false;
    s.committed = true;
    if (afterCommit) await afterCommit(s.color);
  } catch (e) {
    throw run.fail(s, 'committing', e);
  }
}

/** Logs in as the role with the password: true/false; null on a fenced side, where applications may not connect. */
async function verifyLogin(s: SideState, run: Run, password: string): Promise<boolean | null> {
  if (s.fenced) return null; // applications may not connect to the passive side: nothing to prove there
  try {
    const c = await connect(
      { ...withDatabase(s.target, run.database), user: run.role, password },
      { connectTimeoutMs: run.copts.connectTimeoutMs, applicationName: 'bgmig db init check' },
    );
    await c.end().catch(() => undefined);
    return true;
  } catch {
    return false;
  }
}

async function endAll(sides: SideState[]): Promise<void> {
  await Promise.all(sides.flatMap((s) => [endQuietly(s.app), endQuietly(s.admin)]));
}

/** Rolls back open transactions and compensates committed sides; returns what it did, in words. */
async function undoAll(sides: SideState[], role: string, database: string, copts: ConnOpts): Promise<string[]> {
  const said: string[] = [];
  for (const s of sides) {
    if (s.inTx && s.app) {
      await s.app.query('ROLLBACK').catch(() => undefined);
      s.inTx = false;
    }
  }
  for (const s of sides) {
    if (s.committed) {
      let c: pg.Client | undefined;
      try {
        c = await connect(withDatabase(s.target, database), copts);
        await c.query('SET default_transaction_read_only = off');
        if (!s.roleExisted) {
          await c.query('BEGIN');
          await c.query(`DROP OWNED BY ${quoteIdent(role)}`);
          await c.query(`DROP ROLE ${quoteIdent(role)}`);
          await c.query('COMMIT');
          said.push(`the role created on ${s.color} was dropped again`);
        } else if (s.previousVerifier) {
          await c.query(`ALTER ROLE ${quoteIdent(role)} WITH PASSWORD ${quoteLiteral(s.previousVerifier)}`);
          said.push(`the previous password of ${role} on ${s.color} was restored`);
        } else {
          said.push(
            `${role} on ${s.color} already had the new password and its previous one could not be read back (not a superuser) — re-run db init to make both sides match`,
          );
        }
      } catch (e) {
        said.push(`undoing the change on ${s.color} failed too (${describeDbError(e, s.target).message.replace(/\.$/, '')}) — re-run db init`);
      } finally {
        await endQuietly(c);
      }
    }
  }
  for (const s of sides) {
    if (!s.databaseCreated) continue;
    await endQuietly(s.app);
    s.app = undefined;
    try {
      await opened(s.admin, s, 'admin').query(`DROP DATABASE IF EXISTS ${quoteIdent(database)} WITH (FORCE)`);
      said.push(`database ${database} created on ${s.color} was dropped again`);
    } catch (e) {
      said.push(`dropping database ${database} created on ${s.color} failed (${describeDbError(e, s.target).message.replace(/\.$/, '')})`);
    }
  }
  return said;
}
