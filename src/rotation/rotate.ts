/**
 * The rotation runner: Secrets Manager's protocol (create / set / test / finish) plus roll, one numbered step at a
 * time, each announced and confirmed, resumable from whatever an earlier run left behind.
 *
 * Invariants this file keeps (the tests check each):
 * - At most one password is ever generated per rotation: an existing AWSPENDING version is always reused.
 * - When a run stops on its own terms (rejected login, declined step, failed set on one of two databases), the
 *   databases are left accepting the AWSCURRENT password, or the operator is told exactly what differs and how to
 *   fix it (re-run to continue, or the rollback). Only a killed process can leave the window between set and finish
 *   open, and the next run closes it.
 * - No secret value reaches the Io: every message passes through scrub() with the passwords in play.
 */
import { randomUUID } from 'node:crypto';
import { failure, isBgmigError, messageOf, refused, restate, withExitCode } from '../core/errors.js';
import { scrub } from '../core/redact.js';
import type { DbSecretValue } from '../db/connection.js';
import {
  type RotationObservation,
  type PlanContext,
  STEPS,
  type RotationStartDecision,
  type StepName,
  decideRotationStart,
  describeStep,
  stepNumber,
} from './plan.js';
import type { ServiceRef, ServiceRoller } from './roll.js';
import { type SecretState, type SecretStore, Stage, type VersionValue } from './secret-store.js';
import { type Credentials, type DbSide, type LoginResult, applierFailure } from './targets.js';

/** The slice of Io the runner needs (tests may pass the real Io over memory streams). */
export interface RotationIo {
  info(text: string): void;
  warn(text: string): void;
  debug(text: string): void;
  error(text: string): void;
  confirm(question: string): Promise<boolean>;
}

export interface RotationSpec {
  /** What is rotated, for messages: "the blue master secret secret-db-blue-demo". */
  label: string;
  secret: SecretStore;
  databases: DbSide[];
  services: ServiceRef[];
  roller: ServiceRoller;
  /** The command line that resumes this rotation (for messages). */
  rerun: string;
}

/** Points where a test can simulate the process being killed (after the named step, or inside one). */
export type Checkpoint = StepName | 'finish:current-moved' | 'roll:deployed';

export interface RotationHooks {
  /** Called after each checkpoint; throwing here simulates the process dying at that point. */
  checkpoint?(at: Checkpoint): void | Promise<void>;
}

export type StepStatus = 'done' | 'already-done' | 'planned' | 'not-run';

export interface RotationReport {
  secret: string;
  dryRun: boolean;
  resumed: boolean;
  outcome: 'rotated' | 'planned';
  previousVersionId: string;
  currentVersionId: string;
  pendingVersionId: string | undefined;
  databases: string[];
  services: string[];
  /**
   * Every step with its status. A planned step (dry run) also carries its title, what it does (`detail`) and the API
   * calls it would make: the plan, which renderRotate prints (src/cli/commands/rotate-secret-manual.ts).
   */
  steps: Array<{ step: StepName; number: number; status: StepStatus; title?: string; detail?: string; calls?: string[] }>;
}

export interface RunOptions {
  dryRun: boolean;
}

/** A rotation run: create one per invocation. */
export class Rotation {
  /** Every password this run has seen, for scrubbing messages. */
  private readonly secrets: string[] = [];
  private readonly steps = new Map<StepName, { status: StepStatus; detail?: string }>();

  constructor(
    private readonly spec: RotationSpec,
    private readonly io: RotationIo,
    private readonly hooks: RotationHooks = {},
  ) {}

  async run(opts: RunOptions): Promise<RotationReport> {
    try {
      return await this.runInner(opts);
    } catch (e) {
      throw this.scrubbed(e);
    }
  }

  private async runInner(opts: RunOptions): Promise<RotationReport> {
    const { spec, io } = this;
    const state = await spec.secret.state();
    io.debug(`${state.name}: versions ${JSON.stringify(state.stages)}`);
    const current = await this.readCurrent(state);
    const observation = await this.observe(state, current);
    const decision = decideRotationStart(observation);
    const ctx = this.planContext(state);

    io.info(`Rotating ${spec.label} (${spec.databases.map((d) => d.name).join(', ')}; services ${spec.services.map((s) => s.service).join(', ')}).`);
    if (decision.resumed) io.info(`Resuming an earlier rotation at step ${stepNumber(decision.start)} (${decision.start}).`);
    for (const step of STEPS) {
      const why = decision.done[step];
      if (why !== undefined) {
        this.steps.set(step, { status: 'already-done', detail: why });
        io.info(`  ${stepNumber(step)}. ${step} — already done: ${why}`);
      }
    }

    if (opts.dryRun) return this.plan(state, decision, ctx);

    if (decision.start === 'create') await this.preflight(current);

    let pendingVersionId = state.pendingVersionId;
    // The window in which the database may hold a password that AWSCURRENT does not: set done, AWSCURRENT not moved.
    let setApplied = state.pendingVersionId !== undefined && state.pendingVersionId !== state.currentVersionId && decision.done.set !== undefined;
    for (const step of STEPS.slice(STEPS.indexOf(decision.start))) {
      const d = describeStep(step, { ...ctx, pendingVersionId });
      io.info(`Step ${stepNumber(step)}/${STEPS.length} ${d.title}: ${d.does}.`);
      for (const call of d.calls) io.debug(`  ${call}`);
      const go = await io.confirm(`Run step ${stepNumber(step)} (${step})?`);
      if (!go) return this.declined(step, setApplied, current, pendingVersionId);
      const started = Date.now();
      switch (step) {
        case 'create':
          pendingVersionId = await this.create(current);
          break;
        case 'set':
          setApplied = true;
          await this.set(current, this.must(pendingVersionId));
          break;
        case 'test':
          await this.test(current, this.must(pendingVersionId));
          break;
        case 'finish':
          await this.finish(state.currentVersionId, this.must(pendingVersionId));
          break;
        case 'roll':
          await this.roll();
          break;
      }
      const detail = `${Date.now() - started} ms`;
      this.steps.set(step, { status: 'done', detail });
      io.info(`  ✓ ${step} done (${detail}).`);
      await this.hooks.checkpoint?.(step);
    }

    const after = await spec.secret.state();
    return this.report({
      dryRun: false,
      resumed: decision.resumed,
      outcome: 'rotated',
      state: after,
      previousVersionId: after.previousVersionId ?? state.currentVersionId,
    });
  }

  /** Reads AWSCURRENT by its version id (never a plain GetSecretValue: see secret-store.ts). */
  private async readCurrent(state: SecretState): Promise<VersionValue> {
    const v = await this.spec.secret.read(state.currentVersionId, Stage.Current);
    this.secrets.push(v.value.password);
    return v;
  }

  private async readPending(pendingVersionId: string, current: VersionValue): Promise<VersionValue> {
    const v = await this.spec.secret.read(pendingVersionId, Stage.Pending);
    this.secrets.push(v.value.password);
    if (v.value.username !== current.value.username) {
      throw refused(
        `The pending version ${pendingVersionId} of ${this.spec.label} names user "${v.value.username}" but AWSCURRENT names "${current.value.username}": bgmig rotates passwords only — remove AWSPENDING from that version and re-run.`,
      );
    }
    return v;
  }

  /** Read-only probes that tell where an earlier run stopped. */
  private async observe(state: SecretState, current: VersionValue): Promise<RotationObservation> {
    let pendingAccepted: boolean[] | undefined;
    if (state.pendingVersionId !== undefined && state.pendingVersionId !== state.currentVersionId) {
      const pending = await this.readPending(state.pendingVersionId, current);
      pendingAccepted = [];
      for (const db of this.spec.databases) {
        const r = await db.tester.check(credentials(pending, Stage.Pending));
        this.io.debug(`${db.name} ${r.ok ? 'accepts' : 'does not accept'} the pending password${r.ok ? '' : ` (${r.reason})`}`);
        if (!r.ok && !r.rejected) {
          throw failure(
            `An earlier rotation of ${this.spec.label} left a pending version, and ${db.name} cannot be reached to tell which steps are done (${r.reason}): fix the connection and re-run.`,
          );
        }
        pendingAccepted.push(r.ok);
      }
    }
    return {
      currentVersionId: state.currentVersionId,
      pendingVersionId: state.pendingVersionId,
      rollPendingVersionId: state.rollPendingVersionId,
      pendingAccepted,
    };
  }

  /** Before a fresh rotation: the databases must accept AWSCURRENT now, or a rollback could not restore a working state. */
  private async preflight(current: VersionValue): Promise<void> {
    for (const db of this.spec.databases) {
      const r = await db.tester.check(credentials(current, Stage.Current));
      if (r.ok) continue;
      if (r.rejected) {
        throw refused(
          `${db.name} does not accept the AWSCURRENT password of ${this.spec.label} (${r.reason}): they are already out of sync — restore the password that AWSCURRENT holds (see docs/runbooks/credential-rotation.md, "Out of sync") before rotating.`,
        );
      }
      throw failure(`Cannot check ${db.name} before rotating (${r.reason}): fix the connection and re-run; nothing was changed.`);
    }
  }

  private async create(current: VersionValue): Promise<string> {
    const password = await this.spec.secret.generatePassword();
    this.secrets.push(password);
    const value: DbSecretValue = { ...current.value, password };
    const versionId = await this.spec.secret.putPending(value, randomUUID());
    // Prove what was stored: the pending version must now be readable by id with exactly this password.
    const after = await this.spec.secret.state();
    if (after.pendingVersionId !== versionId || after.currentVersionId !== current.versionId) {
      throw failure(
        `After storing the pending version ${versionId}, ${after.name} shows AWSPENDING on ${after.pendingVersionId ?? 'no version'}: re-run to resume.`,
      );
    }
    const stored = await this.spec.secret.read(versionId, Stage.Pending);
    if (stored.value.password !== password) throw failure(`The pending version ${versionId} does not hold the generated password: re-run to resume.`);
    this.io.info(`  pending version ${versionId} created (AWSCURRENT still ${current.versionId}).`);
    return versionId;
  }

  /** Both or neither: when a later database fails, the earlier ones get the AWSCURRENT password back. */
  private async set(current: VersionValue, pendingVersionId: string): Promise<void> {
    const pending = await this.readPending(pendingVersionId, current);
    const applied: DbSide[] = [];
    for (const db of this.spec.databases) {
      try {
        await db.applier.apply(credentials(pending, Stage.Pending), this.secrets);
      } catch (e) {
        const cause = applierFailure(db, e, this.secrets);
        if (applied.length === 0) throw cause;
        const restored = await this.restore(applied, current);
        if (!restored.ok) {
          throw failure(
            `Setting the password on ${db.name} failed (${cause.message}) and restoring ${restored.failed} to the AWSCURRENT password failed too (${restored.reason}): re-run \`${this.spec.rerun}\` to apply the pending password everywhere, or run the rollback in docs/runbooks/credential-rotation.md.`,
            e,
          );
        }
        throw failure(
          `Setting the password on ${db.name} failed (${cause.message}); ${applied.map((a) => a.name).join(', ')} got the AWSCURRENT password back, so nothing changed: fix the cause and re-run (the same pending password is used).`,
          e,
        );
      }
      applied.push(db);
      this.io.info(`  ${db.name}: password applied.`);
    }
  }

  private async test(current: VersionValue, pendingVersionId: string): Promise<void> {
    const pending = await this.readPending(pendingVersionId, current);
    for (const db of this.spec.databases) {
      const r = await this.testLogin(db, credentials(pending, Stage.Pending));
      if (r.ok) {
        this.io.info(`  ${db.name}: login with the pending password succeeded.`);
        continue;
      }
      if (!r.rejected) {
        throw failure(
          `Could not test the login on ${db.name} (${r.reason}); the database may hold the pending password while AWSCURRENT has the old one: re-run \`${this.spec.rerun}\` once it is reachable (it resumes here), or roll back as in docs/runbooks/credential-rotation.md.`,
        );
      }
      this.io.error(`${db.name} rejected the pending password (${r.reason}).`);
      this.io.info(
        `Rollback: re-apply the AWSCURRENT password (version ${current.versionId}) to ${this.spec.databases.map((d) => d.name).join(' and ')} and remove AWSPENDING, so the database and AWSCURRENT agree again.`,
      );
      const go = await this.io.confirm('Roll back now?');
      if (!go) {
        throw failure(
          `${db.name} rejected the pending password and the rollback was declined: the database and AWSCURRENT may now differ — re-run \`${this.spec.rerun}\` (it retries from the set step) or roll back as in docs/runbooks/credential-rotation.md.`,
        );
      }
      await this.rollback(current, pendingVersionId);
      throw failure(
        `${db.name} rejected the pending password, so the rotation was rolled back: the database accepts the AWSCURRENT password again and AWSPENDING was removed — find out why the password was rejected, then run the rotation again.`,
      );
    }
  }

  /**
   * The test step's probe. A tester that could not run at all (a Lambda that does not exist, crashed or answered no
   * result) throws its own one sentence; here it gains what matters at this point: the database may already hold
   * the pending password, and how to go on.
   */
  private async testLogin(db: DbSide, pending: Credentials): Promise<LoginResult> {
    try {
      return await db.tester.check(pending, { settle: true });
    } catch (e) {
      const why = scrub(messageOf(e), this.secrets).replace(/\.$/, '');
      throw restate(
        `${why}; step 3 (test) could not run, and ${db.name} may hold the pending password while AWSCURRENT has the old one: fix that and re-run \`${this.spec.rerun}\` (it resumes here), or roll back as in docs/runbooks/credential-rotation.md.`,
        e,
      );
    }
  }

  private async finish(previousCurrentId: string, pendingVersionId: string): Promise<void> {
    const { secret } = this.spec;
    // The marker goes first: once AWSCURRENT has moved, only it tells a later run that the services still need a roll.
    let state = await secret.state();
    await secret.setRollPending(pendingVersionId, state.rollPendingVersionId);
    if (state.currentVersionId !== pendingVersionId) {
      await secret.moveCurrent(pendingVersionId, previousCurrentId);
      await this.hooks.checkpoint?.('finish:current-moved');
      state = await secret.state();
    }
    if (state.pendingVersionId !== undefined) await secret.removePending(state.pendingVersionId);
    const after = await secret.state();
    if (after.currentVersionId !== pendingVersionId || after.pendingVersionId !== undefined) {
      throw failure(
        `After the stage moves ${after.name} shows AWSCURRENT on ${after.currentVersionId} and AWSPENDING on ${after.pendingVersionId ?? 'none'}: re-run \`${this.spec.rerun}\` to finish.`,
      );
    }
    // Read the new AWSCURRENT back by id: it must be the password the databases now accept.
    const cur = await secret.read(pendingVersionId, Stage.Current);
    this.secrets.push(cur.value.password);
    this.io.info(`  AWSCURRENT is now ${pendingVersionId}${after.previousVersionId ? `; AWSPREVIOUS is ${after.previousVersionId}` : ''}.`);
  }

  private async roll(): Promise<void> {
    const { roller, services, secret } = this.spec;
    const deployments: Array<string | undefined> = [];
    for (const s of services) {
      deployments.push(await roller.forceNewDeployment(s));
      this.io.info(`  ${s.service}: new deployment started.`);
    }
    await this.hooks.checkpoint?.('roll:deployed');
    await Promise.all(services.map((s, i) => roller.waitStable(s, deployments[i])));
    for (const s of services) this.io.info(`  ${s.service}: stable.`);
    const state = await secret.state();
    if (state.rollPendingVersionId !== undefined) await secret.clearRollPending(state.rollPendingVersionId);
  }

  /** Re-applies AWSCURRENT everywhere, proves the login, then drops AWSPENDING so a new run starts fresh. */
  private async rollback(current: VersionValue, pendingVersionId: string): Promise<void> {
    const restored = await this.restore(this.spec.databases, current);
    if (!restored.ok) {
      throw failure(
        `The rollback could not restore the AWSCURRENT password on ${restored.failed} (${restored.reason}): apply it by hand as in docs/runbooks/credential-rotation.md ("Roll back").`,
      );
    }
    await this.spec.secret.removePending(pendingVersionId);
    this.io.info(
      `  rolled back: ${this.spec.databases.map((d) => d.name).join(' and ')} accept AWSCURRENT (${current.versionId}); AWSPENDING removed from ${pendingVersionId}.`,
    );
  }

  private async restore(dbs: DbSide[], current: VersionValue): Promise<{ ok: true } | { ok: false; failed: string; reason: string }> {
    for (const db of dbs) {
      try {
        await db.applier.apply(credentials(current, Stage.Current), this.secrets);
        const r = await db.tester.check(credentials(current, Stage.Current), { settle: true });
        if (!r.ok) return { ok: false, failed: db.name, reason: r.reason };
      } catch (e) {
        return { ok: false, failed: db.name, reason: applierFailure(db, e, this.secrets).message };
      }
    }
    return { ok: true };
  }

  /** The operator said no: stop cleanly, and if the database may differ from AWSCURRENT, offer to close the gap. */
  private async declined(step: StepName, setApplied: boolean, current: VersionValue, pendingVersionId: string | undefined): Promise<never> {
    const resumeHint = `re-run \`${this.spec.rerun}\` to continue from step ${stepNumber(step)} (${step})`;
    if (setApplied && pendingVersionId !== undefined && (step === 'test' || step === 'finish')) {
      this.io.warn(`The database already has the pending password while AWSCURRENT still holds the old one.`);
      if (await this.io.confirm('Roll back (re-apply the AWSCURRENT password and remove AWSPENDING)?')) {
        await this.rollback(current, pendingVersionId);
        throw refused(`Stopped before step ${stepNumber(step)} (${step}) and rolled back: the database and AWSCURRENT agree; nothing else changed.`);
      }
      throw refused(
        `Stopped before step ${stepNumber(step)} (${step}) with the pending password on the database: ${resumeHint}, or roll back as in docs/runbooks/credential-rotation.md.`,
      );
    }
    throw refused(`Stopped before step ${stepNumber(step)} (${step}) at the operator's request: ${resumeHint}.`);
  }

  /** The dry run: the steps from where a run would start, marked planned; the report carries the plan (not printed here). */
  private plan(state: SecretState, decision: RotationStartDecision, ctx: PlanContext): RotationReport {
    for (const step of STEPS.slice(STEPS.indexOf(decision.start))) this.steps.set(step, { status: 'planned', detail: describeStep(step, ctx).does });
    return this.report({
      dryRun: true,
      resumed: decision.resumed,
      outcome: 'planned',
      state,
      previousVersionId: state.previousVersionId ?? state.currentVersionId,
      ctx,
    });
  }

  private planContext(state: SecretState): PlanContext {
    return {
      secretName: state.name,
      currentVersionId: state.currentVersionId,
      pendingVersionId: state.pendingVersionId,
      databases: this.spec.databases.map((d) => ({ name: d.name, setCall: d.applier.call, testCall: d.tester.call })),
      services: this.spec.services,
    };
  }

  private report(r: {
    dryRun: boolean;
    resumed: boolean;
    outcome: RotationReport['outcome'];
    state: SecretState;
    previousVersionId: string;
    ctx?: PlanContext;
  }): RotationReport {
    return {
      secret: r.state.name,
      dryRun: r.dryRun,
      resumed: r.resumed,
      outcome: r.outcome,
      previousVersionId: r.previousVersionId,
      currentVersionId: r.state.currentVersionId,
      pendingVersionId: r.state.pendingVersionId,
      databases: this.spec.databases.map((d) => d.name),
      services: this.spec.services.map((s) => s.service),
      steps: STEPS.map((step) => {
        const s = this.steps.get(step);
        return {
          step,
          number: stepNumber(step),
          status: s?.status ?? 'not-run',
          ...(s?.detail !== undefined ? { detail: s.detail } : {}),
          ...(r.ctx && s?.status === 'planned' ? { title: describeStep(step, r.ctx).title, calls: describeStep(step, r.ctx).calls } : {}),
        };
      }),
    };
  }

  private must(pendingVersionId: string | undefined): string {
    if (pendingVersionId === undefined) throw failure('Internal error: no pending version at a step that needs one; re-run to resume.');
    return pendingVersionId;
  }

  /**
   * Last line of defence: a message or a cause (whose stack --verbose prints) that contains a password is replaced
   * by a scrubbed error without the cause.
   */
  private scrubbed(e: unknown): unknown {
    if (!leaks(e, this.secrets)) return e;
    // No cause: the original message may hold a secret, and --verbose prints the cause.
    if (isBgmigError(e)) return withExitCode(e.exitCode, scrub(e.message, this.secrets), e.details);
    return failure(`Unexpected failure: ${scrub(messageOf(e), this.secrets)}`);
  }
}

/** The credentials of a version read at `stage` (remote testers and appliers send only the version reference). */
function credentials(v: VersionValue, stage: string): Credentials {
  return { username: v.value.username, password: v.value.password, versionId: v.versionId, stage };
}

function leaks(e: unknown, secrets: string[]): boolean {
  let cur: unknown = e;
  for (let i = 0; i < 8 && cur !== undefined && cur !== null; i++) {
    const text = cur instanceof Error ? `${cur.message}\n${cur.stack ?? ''}` : String(cur);
    if (secrets.some((s) => s.length >= 4 && text.includes(s))) return true;
    cur = cur instanceof Error ? cur.cause : undefined;
  }
  return false;
}
