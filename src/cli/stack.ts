/**
 * Locates the deployed bgmig stack and its resources through the stack's outputs (see src/core/outputs.ts).
 */
import { BgmigError, ExitCode } from '../core/errors.js';
import { names } from '../core/naming.js';
import type { OutputKey } from '../core/outputs.js';
import type { AwsClients } from './aws.js';

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
export async function findStack(aws: AwsClients, suffix: string): Promise<StackInfo | undefined> {
  const name = names(suffix).stack;
  const cfn = await aws.cloudformation();
  const { DescribeStacksCommand } = await import('@aws-sdk/client-cloudformation');
  try {
    const res = await cfn.send(new DescribeStacksCommand({ StackName: name }));
    const s = res.Stacks?.[0];
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
    const err = e as { name?: string; message?: string };
    if (err.name === 'ValidationError' && /does not exist/i.test(err.message ?? '')) return undefined;
    throw e;
  }
}

/** Describes bgmig-{suffix}, or fails with how to deploy it. */
export async function requireStack(aws: AwsClients, suffix: string): Promise<StackInfo> {
  const s = await findStack(aws, suffix);
  if (!s) {
    throw new BgmigError(
      `Stack ${names(suffix).stack} does not exist in ${aws.region}: deploy it first with \`bgmig deploy --suffix ${suffix}\` (or check --suffix/--region).`,
      ExitCode.Failure,
    );
  }
  return s;
}

export function output(stack: StackInfo, key: OutputKey): string {
  const v = stack.outputs[key];
  if (v === undefined || v === '') {
    throw new BgmigError(
      `Stack ${stack.name} has no output ${key}: it was deployed by an older bgmig — redeploy it with \`bgmig deploy\`.`,
      ExitCode.Failure,
    );
  }
  return v;
}

export function optionalOutput(stack: StackInfo, key: OutputKey): string | undefined {
  const v = stack.outputs[key];
  return v === undefined || v === '' ? undefined : v;
}
