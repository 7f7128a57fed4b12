/**
 * The two database-facing steps of a rotation, behind small interfaces so that the same step logic runs against
 * Aurora (RDS API), against any PostgreSQL over an admin connection (direct mode, tests), or through the Lambda
 * functions (src/remote/validator-client.ts and cutover-client.ts: AWS mode, where the clusters sit in isolated subnets).
 *
 * - PasswordApplier: the "set" step — make the database accept a password for a role.
 * - LoginTester: the "test" step — prove a login, distinguishing "the database rejected the credentials" (a
 *   rollback question) from "could not reach it" (retry later).
 *
 * Both receive Credentials: the username and password AND the secret version they come from. Local implementations
 * use the password; remote ones send only the version reference, and the function reads that version itself, so
 * no password travels in the event. Implementations never put a password in a message: errors go through
 * describeDbError/scrub.
 */
import { BgmigError, failure, messageOf, withExitCode } from '../core/errors.js';
import { scrub } from '../core/redact.js';
import type pg from 'pg';
import { type DbTarget, REJECTED_LOGIN_CODES, checkLogin, connect, describeDbError, describeTarget } from '../db/connection.js';
import { quoteIdent } from '../db/sql.js';
import { scramVerifier } from '../dbinit/app-role.js';
import { sleep } from '../core/sleep.js';

/** A password of the rotated role and the secret version that holds it (read by id and stage). */
export interface Credentials {
  username: string;
  password: string;
  versionId: string;
  /** The stage it was read at: AWSCURRENT or AWSPENDING. */
  stage: string;
}

export interface PasswordApplier {
  /** What it changes, for messages ("aurora-blue-demo", "bgmig_app on green (postgres@host:5432/app)"). */
  readonly target: string;
  /** The call it makes, for the plan (never a secret): "rds:ModifyDBCluster MasterUserPassword, ApplyImmediately". */
  readonly call: string;
  /**
   * `knownPasswords`: every password of this role the rotation knows (AWSCURRENT, AWSPENDING). An applier that
   * logs in as the rotated role itself may need whichever one the database holds right now.
   */
  apply(credentials: Credentials, knownPasswords?: readonly string[]): Promise<void>;
}

export type LoginResult = { ok: true } | { ok: false; rejected: boolean; reason: string };

export interface LoginTester {
  readonly target: string;
  readonly call: string;
  /**
   * `settle`: the password was just changed — allow the database the time it needs to apply it (Aurora takes a few
   * seconds after "available"). Probes of the current state pass false and get one attempt.
   */
  check(credentials: Credentials, opts?: { settle: boolean }): Promise<LoginResult>;
}

/** One database a rotation keeps in sync with the secret: how to set the password there and how to prove it. */
export interface DbSide {
  /** A short name for messages: the cluster identifier or colour. */
  name: string;
  applier: PasswordApplier;
  tester: LoginTester;
}

/** How long to keep proving a login after a password change (Aurora applies a master password asynchronously). */
export interface Settle {
  attempts: number;
  delayMs: number;
}

/**
 * Runs a login probe until it succeeds, up to `settle.attempts` times when the password was just changed, once
 * otherwise. Shared by the direct and the Lambda-backed testers so both wait the same way.
 */
export async function probeSettled(settle: Settle, opts: { settle: boolean }, probe: () => Promise<LoginResult>): Promise<LoginResult> {
  const attempts = opts.settle ? Math.max(1, settle.attempts) : 1;
  let last: LoginResult = { ok: false, rejected: false, reason: 'not tried' };
  for (let i = 0; i < attempts; i++) {
    if (i > 0) await sleep(settle.delayMs);
    last = await probe();
    if (last.ok) return last;
  }
  return last;
}

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

  async apply({ username, password }: Credentials, knownPasswords: readonly string[] = []): Promise<void> {
    const client = await this.connectAdmin(username, knownPasswords);
    try {
      // The passive side of a sync is fenced (default_transaction_read_only on its database): an admin session
      // opts out, as the replication engine's own sessions do, or ALTER ROLE fails there.
      await client.query('SET default_transaction_read_only = off');
      // Utility statements take no bind parameters; the verifier is base64 and '$' only, safe inside a literal.
      await client.query(`ALTER ROLE ${quoteIdent(username)} WITH PASSWORD '${scramVerifier(password)}'`);
    } catch (e) {
      const err = describeDbError(e, this.admin, 'set the password on');
      throw failure(scrub(err.message, [password]), e);
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
      const rejected = REJECTED_LOGIN_CODES.has((e as { cause?: { code?: string } }).cause?.code ?? '');
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
    /** Retries for a database that applies a new password asynchronously. */
    private readonly settle: Settle = { attempts: 1, delayMs: 0 },
  ) {
    this.target = `${label} (${where.host}:${where.port}/${where.database})`;
    this.call = `PostgreSQL login to ${where.host}:${where.port}/${where.database} as <user>, SELECT 1`;
  }

  async check({ username, password }: Credentials, opts: { settle: boolean } = { settle: false }): Promise<LoginResult> {
    const target: DbTarget = { ...this.where, user: username, password };
    return probeSettled(this.settle, opts, async () => {
      const r = await checkLogin(target, { applicationName: 'bgmig-rotation-test' });
      return r.ok ? { ok: true } : { ok: false, rejected: r.rejected, reason: r.error };
    });
  }
}

/** Turns an unexpected throw from an applier into a scrubbed failure (a last line of defence for custom appliers). */
export function applierFailure(side: DbSide, e: unknown, secrets: string[]): BgmigError {
  // No cause: the original message may hold a password, and --verbose prints the cause's stack.
  if (e instanceof BgmigError) return withExitCode(e.exitCode, scrub(e.message, secrets), e.details);
  return failure(`Setting the password on ${side.name} failed: ${scrub(messageOf(e), secrets)}`, e);
}
