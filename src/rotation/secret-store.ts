/**
 * The Secrets Manager side of a rotation: version stages, the pending version, the stage moves of the finish step,
 * and the marker that says a finished rotation still has to roll its services.
 *
 * Every value is read by explicit VersionId (after DescribeSecret says which version holds which stage) and the
 * returned VersionId is checked: a plain GetSecretValue can return a stale version right after a stage move (seen
 * on moto, and Secrets Manager is eventually consistent too), and a rotation must never act on the wrong password.
 */
import type { SecretVersions } from '../aws/ports.js';
import { failure } from '../core/errors.js';
import { GENERATED_PASSWORD_LENGTH, meetsPasswordPolicy, PASSWORD_EXCLUDED_CHARACTERS } from '../core/password-policy.js';
import { type DbSecretValue, parseSecretValue } from '../db/connection.js';

export const Stage = { Current: 'AWSCURRENT', Pending: 'AWSPENDING', Previous: 'AWSPREVIOUS' } as const;

/**
 * A custom staging label put on the new version just before AWSCURRENT moves and removed once the services have
 * rolled: the only durable trace of "finished but not yet rolled" (AWSCURRENT/AWSPREVIOUS alone look exactly like
 * a completed rotation). A staging label rather than a tag because moving labels is the permission the operator
 * role already has for rotation (secretsmanager:UpdateSecretVersionStage).
 */
export const ROLL_PENDING_STAGE = 'BGMIG_ROLL_PENDING';

export interface SecretState {
  arn: string;
  name: string;
  /** Version id → its staging labels. */
  stages: Record<string, string[]>;
  currentVersionId: string;
  /** The version labelled AWSPENDING, if any (it may be the current version when a finish was interrupted). */
  pendingVersionId: string | undefined;
  previousVersionId: string | undefined;
  /** Version id of a finished rotation whose services have not rolled yet (ROLL_PENDING_STAGE). */
  rollPendingVersionId: string | undefined;
}

export interface VersionValue {
  versionId: string;
  value: DbSecretValue;
}

function versionWith(stages: Record<string, string[]>, stage: string): string | undefined {
  return Object.entries(stages).find(([, labels]) => labels.includes(stage))?.[0];
}

export class SecretStore {
  constructor(
    private readonly versions: SecretVersions,
    /** ARN or name, as the stack outputs give it. */
    readonly secretId: string,
  ) {}

  async state(): Promise<SecretState> {
    const d = await this.versions.describe(this.secretId);
    const stages = d.stages;
    const currentVersionId = versionWith(stages, Stage.Current);
    const name = d.name ?? this.secretId;
    if (!currentVersionId) {
      throw failure(`Secret ${name} has no AWSCURRENT version: restore one (aws secretsmanager update-secret-version-stage) before rotating.`);
    }
    return {
      arn: d.arn ?? this.secretId,
      name,
      stages,
      currentVersionId,
      pendingVersionId: versionWith(stages, Stage.Pending),
      previousVersionId: versionWith(stages, Stage.Previous),
      rollPendingVersionId: versionWith(stages, ROLL_PENDING_STAGE),
    };
  }

  /** Reads one version by id and stage, checking that Secrets Manager answered with exactly that version. */
  async read(versionId: string, stage: string): Promise<VersionValue> {
    const res = await this.versions.value(this.secretId, { versionId, versionStage: stage });
    if (res.versionId !== versionId || !res.stages.includes(stage)) {
      throw failure(
        `Secrets Manager returned version ${res.versionId ?? '?'} when asked for ${stage} version ${versionId} of ${this.secretId}: wait a few seconds and re-run (the run resumes where it stopped).`,
      );
    }
    if (res.secretString === undefined)
      throw failure(`Secret ${this.secretId} version ${versionId} has no string value: it must hold {"username","password",…}.`);
    return { versionId, value: parseSecretValue(res.secretString, this.secretId) };
  }

  /** Secrets Manager's own generator (the password never exists anywhere before it is stored as AWSPENDING). */
  async generatePassword(): Promise<string> {
    const pw = (await this.versions.randomPassword(GENERATED_PASSWORD_LENGTH, PASSWORD_EXCLUDED_CHARACTERS)) ?? '';
    // Trust but verify: a password with a URL-breaking character would pass the test step and then break clients.
    if (!meetsPasswordPolicy(pw)) {
      throw failure('Secrets Manager GetRandomPassword returned a password that does not meet the requested rules: re-run to generate another.');
    }
    return pw;
  }

  /** Stores a new version staged AWSPENDING only (AWSCURRENT untouched). The token makes a retried call idempotent. */
  async putPending(value: DbSecretValue, clientRequestToken: string): Promise<string> {
    return (await this.versions.putValue(this.secretId, JSON.stringify(value), clientRequestToken, [Stage.Pending])) ?? clientRequestToken;
  }

  /** Labels `versionId` ROLL_PENDING_STAGE (taking the label from `fromVersionId` if an older rotation left it). */
  async setRollPending(versionId: string, fromVersionId: string | undefined): Promise<void> {
    if (fromVersionId === versionId) return;
    await this.versions.moveStage(this.secretId, ROLL_PENDING_STAGE, { to: versionId, from: fromVersionId });
  }

  async clearRollPending(fromVersionId: string): Promise<void> {
    await this.versions.moveStage(this.secretId, ROLL_PENDING_STAGE, { from: fromVersionId });
  }

  /** Moves AWSCURRENT from one version to another (Secrets Manager relabels the old one AWSPREVIOUS). */
  async moveCurrent(toVersionId: string, fromVersionId: string): Promise<void> {
    await this.versions.moveStage(this.secretId, Stage.Current, { to: toVersionId, from: fromVersionId });
  }

  async removePending(fromVersionId: string): Promise<void> {
    await this.versions.moveStage(this.secretId, Stage.Pending, { from: fromVersionId });
  }
}
