/**
 * Pure rotation logic: the five steps, what each one does (for prompts and --dry-run), and where a run starts given
 * what it observes — so an interrupted rotation continues at the right step and never generates a second password.
 */
import { GENERATED_PASSWORD_LENGTH } from '../core/password-policy.js';

export const STEPS = ['create', 'set', 'test', 'finish', 'roll'] as const;
export type StepName = (typeof STEPS)[number];

export function stepNumber(step: StepName): number {
  return STEPS.indexOf(step) + 1;
}

/** What a run knows before it changes anything. */
export interface RotationObservation {
  currentVersionId: string;
  /** The version staged AWSPENDING (may equal currentVersionId when a finish stopped between its two stage moves). */
  pendingVersionId: string | undefined;
  /** Set by finish before AWSCURRENT moves, cleared by roll once every service is stable. */
  rollPendingVersionId: string | undefined;
  /**
   * Per database: does it accept the pending password right now? Only probed when a distinct pending version
   * exists (undefined otherwise).
   */
  pendingAccepted: boolean[] | undefined;
}

export interface RotationStartDecision {
  start: StepName;
  /** Why the steps before `start` count as done (shown to the operator). Empty for a fresh rotation. */
  done: Partial<Record<StepName, string>>;
  /** True when this run continues an earlier one. */
  resumed: boolean;
}

export function decideRotationStart(o: RotationObservation): RotationStartDecision {
  if (o.pendingVersionId !== undefined && o.pendingVersionId === o.currentVersionId) {
    // AWSCURRENT already moved to the pending version; only the AWSPENDING label is left to remove.
    return {
      start: 'finish',
      resumed: true,
      done: {
        create: `version ${o.pendingVersionId} exists`,
        set: 'the new password is already AWSCURRENT',
        test: 'the new password is already AWSCURRENT',
      },
    };
  }
  if (o.pendingVersionId !== undefined) {
    const accepted = o.pendingAccepted ?? [];
    if (accepted.length > 0 && accepted.every(Boolean)) {
      return {
        start: 'finish',
        resumed: true,
        done: {
          create: `pending version ${o.pendingVersionId} exists`,
          set: 'the database already accepts the pending password',
          test: 'a login with the pending password just succeeded',
        },
      };
    }
    return { start: 'set', resumed: true, done: { create: `pending version ${o.pendingVersionId} exists (no new password is generated)` } };
  }
  if (o.rollPendingVersionId !== undefined) {
    const done = `AWSCURRENT is version ${o.currentVersionId}`;
    return { start: 'roll', resumed: true, done: { create: done, set: done, test: done, finish: done } };
  }
  return { start: 'create', resumed: false, done: {} };
}

export interface PlanContext {
  secretName: string;
  /** Version ids as known when planning ("<new>" before create). */
  currentVersionId: string;
  pendingVersionId: string | undefined;
  databases: Array<{ name: string; setCall: string; testCall: string }>;
  services: Array<{ cluster: string; service: string }>;
}

export interface StepDescription {
  step: StepName;
  title: string;
  /** One sentence: what the step changes and how it is verified. */
  does: string;
  /** The API calls / SQL it makes (no secret values). */
  calls: string[];
}

export function describeStep(step: StepName, c: PlanContext): StepDescription {
  const pending = c.pendingVersionId ?? '<new version>';
  const dbNames = c.databases.map((d) => d.name).join(' and ');
  switch (step) {
    case 'create':
      return {
        step,
        title: 'create',
        does: `generate a ${GENERATED_PASSWORD_LENGTH}-character password with Secrets Manager and store it in ${c.secretName} as a new version staged AWSPENDING (AWSCURRENT is untouched)`,
        calls: [
          `secretsmanager:GetRandomPassword --password-length ${GENERATED_PASSWORD_LENGTH} --exclude-characters <connection-string characters> --require-each-included-type`,
          `secretsmanager:PutSecretValue --secret-id ${c.secretName} --client-request-token <new uuid> --version-stages AWSPENDING`,
        ],
      };
    case 'set':
      return {
        step,
        title: 'set',
        does: `apply the pending password to ${dbNames}${c.databases.length > 1 ? ' (both or neither: if one fails the other is restored)' : ''}`,
        calls: [
          `secretsmanager:GetSecretValue --secret-id ${c.secretName} --version-id ${pending} --version-stage AWSPENDING`,
          ...c.databases.map((d) => d.setCall),
        ],
      };
    case 'test':
      return {
        step,
        title: 'test',
        does: `prove a login with the pending credentials on ${dbNames}; if it is rejected, stop and offer the rollback (re-apply the AWSCURRENT password)`,
        calls: c.databases.map((d) => d.testCall),
      };
    case 'finish':
      return {
        step,
        title: 'finish',
        does: `move AWSCURRENT of ${c.secretName} to ${pending} (the old version becomes AWSPREVIOUS) and remove AWSPENDING`,
        calls: [
          `secretsmanager:UpdateSecretVersionStage --secret-id ${c.secretName} --version-stage BGMIG_ROLL_PENDING --move-to-version-id ${pending}`,
          `secretsmanager:UpdateSecretVersionStage --secret-id ${c.secretName} --version-stage AWSCURRENT --move-to-version-id ${pending} --remove-from-version-id ${c.currentVersionId}`,
          `secretsmanager:UpdateSecretVersionStage --secret-id ${c.secretName} --version-stage AWSPENDING --remove-from-version-id ${pending}`,
        ],
      };
    case 'roll':
      return {
        step,
        title: 'roll',
        does: `force a new deployment of ${c.services.map((s) => s.service).join(' and ')} so its tasks read the new secret, and wait until stable`,
        calls: [
          ...c.services.map((s) => `ecs:UpdateService --cluster ${s.cluster} --service ${s.service} --force-new-deployment`),
          `ecs:DescribeServices until one deployment and runningCount = desiredCount`,
          `secretsmanager:UpdateSecretVersionStage --secret-id ${c.secretName} --version-stage BGMIG_ROLL_PENDING --remove-from-version-id <version>`,
        ],
      };
  }
}
