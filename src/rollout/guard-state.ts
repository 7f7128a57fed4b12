/**
 * Whether the rollback guard is armed: its EventBridge rule (rule-rollback-guard-{suffix}) exists, is ENABLED and
 * has the guard function as a target. `promote --no-guard` disarms it for the duration of that promote (DisableRule)
 * and re-arms it when the promote ends, journaling both.
 */
import type { GuardRule } from '../aws/ports.js';
import { names } from '../core/naming.js';
import { isAwsError } from '../core/aws-error.js';

export interface GuardState {
  ruleName: string;
  /** The rule exists (a stack deployed before the guard has none). */
  deployed: boolean;
  enabled: boolean;
  /** ARNs of the rule's targets. */
  targets: string[];
  /** deployed, enabled and targeting the guard function. */
  armed: boolean;
  /** One sentence for status. */
  summary: string;
}

function isNotFound(e: unknown): boolean {
  return isAwsError(e, 'ResourceNotFoundException');
}

export async function readGuardState(rule: GuardRule, suffix: string): Promise<GuardState> {
  const n = names(suffix);
  const ruleName = n.rollbackGuardRule;
  let state: string | undefined;
  try {
    state = await rule.state(ruleName);
  } catch (e) {
    if (!isNotFound(e)) throw e;
    return {
      ruleName,
      deployed: false,
      enabled: false,
      targets: [],
      armed: false,
      summary: `not deployed (no rule ${ruleName}): redeploy with \`bgmig deploy\` to add it`,
    };
  }
  const targets = await rule.targets(ruleName);
  const enabled = state === 'ENABLED';
  const targeted = targets.some((a) => a.endsWith(`:function:${n.rollbackGuardFunction}`));
  const armed = enabled && targeted;
  const summary = armed
    ? `armed (rule ${ruleName} enabled → ${n.rollbackGuardFunction})`
    : !enabled
      ? `DISARMED: rule ${ruleName} is ${state ?? 'unknown'} — re-arm with \`aws events enable-rule --name ${ruleName}\``
      : `DISARMED: rule ${ruleName} has no target ${n.rollbackGuardFunction} — redeploy with \`bgmig deploy\``;
  return { ruleName, deployed: true, enabled, targets, armed, summary };
}

/** Enables or disables the guard's rule (no-op when it does not exist: the caller reports that). */
export async function setGuardEnabled(rule: GuardRule, suffix: string, enabled: boolean): Promise<void> {
  await rule.setEnabled(names(suffix).rollbackGuardRule, enabled);
}
