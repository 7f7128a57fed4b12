/**
 * The two database-facing steps of a rotation, behind small interfaces so that the same step logic runs against
 * Aurora (RDS API), against any PostgreSQL over an admin connection (direct mode, tests), or through a Lambda.
 *
 * - PasswordApplier: the "set" step — make the database accept a password for a role.
 * - LoginTester: the "test" step — prove a login with a username/password, distinguishing "the database rejected
 *   the credentials" (a rollback question) from "could not reach it" (retry later).
 *
 * Implementations never put a password in a message: errors go through describeDbError/scrub.
 */
import { BgmigError, ExitCode, messageOf } from '../core/errors.js';
import { scrub } from '../core/redact.js';
import type pg from 'pg';
import { type DbTarget, connect, describeDbError, describeTarget } from '../db/connection.js';
import { quoteIdent, scramVerifier } from '../dbinit/app-role.js';

export interface PasswordApplier {
  /** What it changes, for messages ("aurora-blue-demo", "bgmig_app on green (postgres@host:5432/app)"). */
  readonly target: string;
  /** The call it makes, for the plan (never a secret): "rds:ModifyDBCluster MasterUserPassword, ApplyImmediately". */
  readonly call: string;
  /**
   * `knownPasswords`: every password of this role the rotation knows (AWSCURRENT, AWSPENDING). An applier that
   * logs in as the rotated role itself may need whichever one the database holds right now.
   */
  apply(username: string, password: string, knownPasswords?: readonly string[]): Promise<void>;
}

export type LoginResult = { ok: true } | { ok: false; rejected: boolean; reason: string };

export interface LoginTester {
  readonly target: string;
  readonly call: string;
  /**
   * `settle`: the password was just changed — allow the database the time it needs to apply it (Aurora takes a few
   * seconds after "available"). Probes of the current state pass false and get one attempt.
   */
  check(username: string, password: string, opts?: { settle: boolean }): Promise<LoginResult>;
}

/** One database a rotation keeps in sync with the secret: how to set the password there and how to prove it. */
export interface DbSide {
  /** A short name for messages: the cluster identifier or colour. */
  name: string;
  applier: PasswordApplier;
  tester: LoginTester;
}

/** PostgreSQL SQLSTATEs meaning "these credentials are not accepted" (as opposed to an unreachable server). */
const REJECTED_CODES = new Set(['28P01', '28000']);

/**
 * Direct mode "set": ALTER ROLE … PASSWORD over an admin connection (what ModifyDBCluster does for the master
 * user on Aurora; for the application role it is the only way). The client sends a SCRAM-SHA-256 verifier, not
 * the password, so server statement logs (log_statement, pgaudit) never see it — the same technique as `db init`.
 */
export class SqlPasswordApplier implements PasswordApplier {
  readonly target: string;
  readonly call: string;
  constructor(
    private readonly admin: DbTarget,
    label: string,
  ) {
    this.target = `${label} (${describeTarget(admin)})`;
    this.call = `SQL on ${describeTarget(admin)}: ALTER ROLE <user> PASSWORD '<SCRAM-SHA-256 verifier>'`;
  }

  async apply(username: string, password: string, knownPasswords: readonly string[] = []): Promise<void> {
    const client = await this.connectAdmin(username, knownPasswords);
    try {
      // Utility statements take no bind parameters; the verifier is base64 and '$' only, safe inside a literal.
      await client.query(`ALTER ROLE ${quoteIdent(username)} WITH PASSWORD '${scramVerifier(password)}'`);
    } catch (e) {
      const err = describeDbError(e, this.admin, 'set the password on');
      throw new BgmigError(scrub(err.message, [password]), ExitCode.Failure, { cause: e });
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  /**
   * On Aurora the usual admin is the master user — the very role being rotated. After the set step its URL's
   * password is stale (a rollback, a retried set), so when PostgreSQL rejects it, the role's other known passwords
   * are tried. Never for a different admin role: those passwords are not its own.
   */
  private async connectAdmin(username: string, knownPasswords: readonly string[]): Promise<pg.Client> {
    try {
      return await connect(this.admin, { applicationName: 'bgmig-rotation' });
    } catch (e) {
      const rejected = REJECTED_CODES.has(((e as { cause?: { code?: string } }).cause?.code) ?? '');
      if (!rejected || this.admin.user !== username) throw e;
      for (const pw of knownPasswords) {
        if (pw === this.admin.password) continue;
        try {
          return await connect({ ...this.admin, password: pw }, { applicationName: 'bgmig-rotation' });
        } catch {
          /* not this one */
        }
      }
      throw e;
    }
  }
}

/** Direct "test": a real login as the rotated role at the given host/port/database, then SELECT 1. */
export class DirectLoginTester implements LoginTester {
  readonly target: string;
  readonly call: string;
  constructor(
    private readonly where: Omit<DbTarget, 'user' | 'password'>,
    label: string,
    /** Retries for a database that applies a new password asynchronously (Aurora after ModifyDBCluster). */
    private readonly settle: { attempts: number; delayMs: number } = { attempts: 1, delayMs: 0 },
  ) {
    this.target = `${label} (${where.host}:${where.port}/${where.database})`;
    this.call = `PostgreSQL login to ${where.host}:${where.port}/${where.database} as <user>, SELECT 1`;
  }

  async check(username: string, password: string, opts: { settle: boolean } = { settle: false }): Promise<LoginResult> {
    const target: DbTarget = { ...this.where, user: username, password };
    let last: LoginResult = { ok: false, rejected: false, reason: 'not tried' };
    const attempts = opts.settle ? Math.max(1, this.settle.attempts) : 1;
    for (let i = 0; i < attempts; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, this.settle.delayMs));
      last = await loginOnce(target);
      if (last.ok) return last;
    }
    return last;
  }
}

async function loginOnce(target: DbTarget): Promise<LoginResult> {
  const { default: pgmod } = await import('pg');
  const client = new pgmod.Client({
    host: target.host,
    port: target.port,
    database: target.database,
    user: target.user,
    password: target.password,
    ssl: target.ssl === false ? false : { rejectUnauthorized: true, ...(target.ssl.ca ? { ca: target.ssl.ca } : {}) },
    connectionTimeoutMillis: 10_000,
    application_name: 'bgmig-rotation-test',
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return { ok: true };
  } catch (e) {
    const code = (e as { code?: string }).code ?? '';
    const reason = describeDbError(e, target, 'log in to').message;
    return { ok: false, rejected: REJECTED_CODES.has(code), reason: scrub(reason, [target.password]) };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Turns an unexpected throw from an applier into a scrubbed failure (a last line of defence for custom appliers). */
export function applierFailure(side: DbSide, e: unknown, secrets: string[]): BgmigError {
  if (e instanceof BgmigError) return new BgmigError(scrub(e.message, secrets), e.exitCode, { cause: e });
  return new BgmigError(`Setting the password on ${side.name} failed: ${scrub(messageOf(e), secrets)}`, ExitCode.Failure, { cause: e });
}
