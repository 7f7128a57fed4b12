/**
 * Reading one exact version of a DB secret inside the Lambda functions (validator and cutover share this).
 *
 * The rotation asks the functions to act on a version it names (AWSPENDING before the finish step, AWSCURRENT for a
 * rollback), so that the password never travels through the operator's machine or the event. Every read names its
 * stage and/or id explicitly and checks that Secrets Manager answered with exactly that version: a plain read can
 * return a stale version right after a stage move (seen on moto; Secrets Manager is eventually consistent too), and
 * acting on the wrong password would desynchronise a database from its secret.
 */
import type { SecretValue, SecretVersions } from '../aws/ports.js';
import { awsErrorName } from '../core/aws-error.js';
import { badInput, failure, firstLine, messageOf } from '../core/errors.js';
import { type DbSecretValue, parseSecretValue } from '../db/connection.js';
import type { SecretVersionSelector } from '../schema/report.js';

export interface SecretVersion {
  value: DbSecretValue;
  versionId: string;
  stages: string[];
}

// Secrets Manager's own limits: version ids are 32–64 characters (a UUID by default), staging labels 1–256.
const VERSION_ID = /^[A-Za-z0-9-]{32,64}$/;
const STAGE = /^[^\s]{1,256}$/;

/** Checks the selector of an event (exit 2, nothing read): an event is caller input. */
export function parseVersionSelector(raw: Record<string, unknown>): SecretVersionSelector {
  const { versionId, versionStage } = raw;
  if (versionId !== undefined && (typeof versionId !== 'string' || !VERSION_ID.test(versionId))) {
    throw badInput('The event field versionId must be a secret version id (32 to 64 letters, digits or hyphens).');
  }
  if (versionStage !== undefined && (typeof versionStage !== 'string' || !STAGE.test(versionStage))) {
    throw badInput('The event field versionStage must be a staging label such as AWSPENDING or AWSCURRENT.');
  }
  return { versionId, versionStage };
}

/**
 * Reads `selector`'s version of `arn` (AWSCURRENT when it names none). `fn` and `what` word the one-sentence error:
 * "The cutover function could not read the green master secret (…): …".
 */
export async function readSecretVersion(sm: SecretVersions, arn: string, selector: SecretVersionSelector, fn: string, what: string): Promise<SecretVersion> {
  const versionStage = selector.versionStage ?? (selector.versionId === undefined ? 'AWSCURRENT' : undefined);
  const asked = [selector.versionId ? `version ${selector.versionId}` : undefined, versionStage ? `stage ${versionStage}` : undefined]
    .filter(Boolean)
    .join(' at ');
  let res: SecretValue;
  try {
    res = await sm.value(arn, { versionId: selector.versionId, versionStage });
  } catch (e) {
    const name = awsErrorName(e) ?? 'Error';
    throw failure(
      `The ${fn} could not read the ${what} secret (${name}: ${firstLine(messageOf(e))}): check that it exists and that the function's role may read it.`,
      e,
    );
  }
  const stages = res.stages;
  if ((selector.versionId !== undefined && res.versionId !== selector.versionId) || (versionStage !== undefined && !stages.includes(versionStage))) {
    throw failure(
      `Secrets Manager answered version ${res.versionId ?? '?'} (${stages.join(', ') || 'no stage'}) of the ${what} secret when asked for ${asked}: wait a few seconds and retry.`,
    );
  }
  if (res.secretString === undefined || res.versionId === undefined) {
    throw failure(`The ${what} secret has no string value at ${asked}: it must hold the RDS JSON document {"username","password",…}.`);
  }
  return { value: parseSecretValue(res.secretString, `the ${what} secret`), versionId: res.versionId, stages };
}
