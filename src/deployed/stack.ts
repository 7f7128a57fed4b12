/**
 * Locates the deployed bgmig stack and its resources through the stack's outputs (see src/core/outputs.ts).
 */
import { failure } from '../core/errors.js';
import { names } from '../core/naming.js';
import type { OutputKey } from '../core/outputs.js';
import type { AwsPorts } from '../aws/ports.js';
import { isAwsError } from '../core/aws-error.js';
import { sleep } from '../core/sleep.js';

export interface StackInfo {
  name: string;
  status: string;
  statusReason?: string | undefined;
  lastUpdated?: Date | undefined;
  /** CloudFormation termination protection (destroy refuses while it is on). */
  terminationProtection?: boolean | undefined;
  outputs: Partial<Record<string, string>>;
}

/** Describes bgmig-{suffix}; undefined when it does not exist. */
export async function findStack(aws: Pick<AwsPorts, 'stacks'>, suffix: string): Promise<StackInfo | undefined> {
  const name = names(suffix).stack;
  try {
    const s = await aws.stacks.describe(name);
    if (!s || s.StackStatus === 'DELETE_COMPLETE') return undefined;
    const outputs: Record<string, string> = {};
    for (const o of s.Outputs ?? []) if (o.OutputKey && o.OutputValue !== undefined) outputs[o.OutputKey] = o.OutputValue;
    return {
      name,
      status: s.StackStatus ?? 'UNKNOWN',
      statusReason: s.StackStatusReason,
      lastUpdated: s.LastUpdatedTime ?? s.CreationTime,
      terminationProtection: s.EnableTerminationProtection,
      outputs,
    };
  } catch (e) {
    if (isAwsError(e, 'ValidationError') && /does not exist/i.test((e as { message?: string }).message ?? '')) return undefined;
    throw e;
  }
}

/**
 * CloudFormation's state for a stack that exists only to hold a CREATE change set never executed (a deploy declined
 * at the approval prompt, or interrupted before executing): it has no resources and no outputs, and a new CREATE
 * change set replaces it. https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-updating-stacks-changesets-create.html
 */
export const REVIEW_IN_PROGRESS = 'REVIEW_IN_PROGRESS';

/** True for a stack that is only an unexecuted change set (nothing deployed). */
export function isUnexecutedChangeSet(s: Pick<StackInfo, 'status'> | undefined): boolean {
  return s?.status === REVIEW_IN_PROGRESS;
}

/** A stack whose creation failed and was rolled back: it has no resources and cannot be updated, only replaced. */
export function isFailedCreation(s: Pick<StackInfo, 'status'> | undefined): boolean {
  return s?.status === 'ROLLBACK_COMPLETE' || s?.status === 'ROLLBACK_FAILED' || s?.status === 'CREATE_FAILED';
}

/** One sentence naming what the stack really is when it has nothing deployed (undefined for a deployed stack). */
export function notDeployedReason(s: StackInfo, suffix: string): string | undefined {
  if (isUnexecutedChangeSet(s)) {
    return `Stack ${s.name} has nothing deployed: it is ${REVIEW_IN_PROGRESS}, an empty stack holding a change set that was never executed (a declined or interrupted deploy) — run \`bgmig deploy --suffix ${suffix}\` again, which replaces it.`;
  }
  if (isFailedCreation(s)) {
    return `Stack ${s.name} has nothing deployed: its creation failed and was rolled back (${s.status}${s.statusReason ? `: ${s.statusReason}` : ''}) — fix the cause and run \`bgmig deploy --suffix ${suffix}\` again, which replaces it.`;
  }
  return undefined;
}

/**
 * One sentence for a stack CloudFormation will not update until someone acts (undefined otherwise): a rollback that
 * failed must be continued, a failed delete retried. https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/troubleshooting.html#troubleshooting-errors-update-rollback-failed
 */
export function blockedReason(s: StackInfo): string | undefined {
  if (s.status === 'UPDATE_ROLLBACK_FAILED') {
    return `Stack ${s.name} is UPDATE_ROLLBACK_FAILED${s.statusReason ? ` (${s.statusReason})` : ''}: CloudFormation accepts no deploy until the rollback is continued — fix the resource it names, run \`aws cloudformation continue-update-rollback --stack-name ${s.name}\`, then deploy again.`;
  }
  if (s.status === 'DELETE_FAILED') {
    return `Stack ${s.name} is DELETE_FAILED${s.statusReason ? ` (${s.statusReason})` : ''}: a delete was started and did not finish — fix what it names and run \`bgmig destroy\` again; it cannot be deployed over.`;
  }
  return undefined;
}

/** Describes bgmig-{suffix}, or fails with how to deploy it (naming the real state of a stack with nothing deployed). */
export async function requireStack(aws: Pick<AwsPorts, 'stacks' | 'region'>, suffix: string): Promise<StackInfo> {
  const s = await findStack(aws, suffix);
  const empty = s ? notDeployedReason(s, suffix) : undefined;
  if (empty) throw failure(empty);
  if (!s) {
    throw failure(
      `Stack ${names(suffix).stack} does not exist in ${aws.region}: deploy it first with \`bgmig deploy --suffix ${suffix}\` (or check --suffix/--region).`,
    );
  }
  return s;
}

export function output(stack: StackInfo, key: OutputKey): string {
  const v = stack.outputs[key];
  if (v === undefined || v === '') {
    // Say what the stack really is: an older template is only one reason for a missing output.
    const state =
      /_COMPLETE$/.test(stack.status) && !isFailedCreation(stack)
        ? 'it was deployed by an older bgmig — redeploy it with `bgmig deploy`'
        : `it is ${stack.status}${stack.statusReason ? ` (${stack.statusReason})` : ''}, not a finished deployment — see \`bgmig status\` and finish or redeploy it with \`bgmig deploy\``;
    throw failure(`Stack ${stack.name} has no output ${key}: ${state}.`);
  }
  return v;
}

export function optionalOutput(stack: StackInfo, key: OutputKey): string | undefined {
  const v = stack.outputs[key];
  return v === undefined || v === '' ? undefined : v;
}

/**
 * Deletes a stack that has nothing deployed (an unexecuted change set, or a rolled-back creation) and waits until it
 * is gone (at most `timeoutMs`, polling every second). Its change sets go with it. Fails with one sentence when it
 * is still there after the bound. Never call it for a stack with resources.
 */
export async function deleteEmptyStack(aws: Pick<AwsPorts, 'stacks'>, stack: StackInfo, timeoutMs = 120_000): Promise<void> {
  if (!isUnexecutedChangeSet(stack) && !isFailedCreation(stack)) {
    throw failure(`Refusing to delete ${stack.name} (${stack.status}): it has deployed resources.`);
  }
  await aws.stacks.delete(stack.name);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let status: string | undefined;
    try {
      status = (await aws.stacks.describe(stack.name))?.StackStatus;
    } catch (e) {
      if (isAwsError(e, 'ValidationError') && /does not exist/i.test((e as Error).message)) return;
      throw e;
    }
    if (status === undefined || status === 'DELETE_COMPLETE') return;
    if (status === 'DELETE_FAILED')
      throw failure(`Deleting the empty stack ${stack.name} failed (DELETE_FAILED): see its events in the CloudFormation console, then retry.`);
    if (Date.now() > deadline)
      throw failure(
        `The empty stack ${stack.name} is still ${status} after ${Math.round(timeoutMs / 1000)} s: check it in the CloudFormation console, then retry.`,
      );
    await sleep(1_000);
  }
}

/** The name of the change set the CDK toolkit creates (aws-cdk's default `cdk-deploy-change-set`). */
export const CDK_CHANGE_SET = 'cdk-deploy-change-set';

/** Deletes bgmig's unexecuted change set from a deployed stack, if one was left (a declined update). True if deleted. */
export async function deleteLeftoverChangeSet(aws: Pick<AwsPorts, 'stacks'>, stackName: string): Promise<boolean> {
  try {
    const status = await aws.stacks.changeSetStatus(stackName, CDK_CHANGE_SET);
    if (status === 'EXECUTE_COMPLETE' || status === 'EXECUTE_IN_PROGRESS') return false;
  } catch (e) {
    if (isAwsError(e, 'ChangeSetNotFoundException', 'ChangeSetNotFound', 'ValidationError')) return false;
    throw e;
  }
  await aws.stacks.deleteChangeSet(stackName, CDK_CHANGE_SET);
  return true;
}
