/**
 * What deploy, diff, destroy and bootstrap share around @aws-cdk/toolkit-lib: the stack config from options plus
 * the live state (so a template never moves traffic or the database), the toolkit's AWS environment (same region,
 * endpoint and credentials as bgmig's own clients), the bootstrap check, and toolkit errors in one sentence.
 *
 * toolkit-lib and aws-cdk-lib are imported lazily (through src/cli/cdk.ts): rollback/status/promote never load them.
 */
import type { ICloudAssemblySource, IIoHost, Toolkit } from '@aws-cdk/toolkit-lib';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { StackConfig } from '../core/config.js';
import { BgmigError, failure, firstLine, messageOf, refused } from '../core/errors.js';
import type { AwsClients } from '../aws/clients.js';
import type { AwsPorts } from '../aws/ports.js';
import type { Io } from './io.js';
import { readLiveState } from '../deployed/live-state.js';
import type { StackInfo } from '../deployed/stack.js';
import { formatWeights } from '../deployed/traffic.js';

/** Builds the toolkit (production: src/cli/cdk.ts createToolkit). Injectable so tests can use their own. */
export type ToolkitFactory = (ioHost: IIoHost) => Promise<Toolkit>;
/**
 * Builds the cloud assembly for a config (production: src/cli/cdk.ts assemblySource). Validation is on unless the
 * caller only needs the stack's identity (destroy), where CDK's template validator would cost 5–6 s for nothing.
 */
export type AssemblyFactory = (toolkit: Toolkit, config: StackConfig, opts: { outdir: string; validate?: boolean }) => Promise<ICloudAssemblySource>;

export interface ToolkitDeps {
  io: Io;
  aws: AwsClients;
  createToolkit?: ToolkitFactory;
  assembly?: AssemblyFactory;
}

export const defaultAssemblyFactory: AssemblyFactory = async (toolkit, config, opts) =>
  (await import('./cdk.js')).assemblySource(toolkit, config, { outdir: opts.outdir, validate: opts.validate ?? true });

export const CDK_TOOLKIT_STACK = 'CDKToolkit';

/**
 * Puts the live weights and active database into the config (aws/aws-cdk#36649: CloudFormation resets a
 * listener's weights to the template's on every update). A new stack keeps the defaults (blue 100, blue DB).
 */
export async function withLiveState(
  aws: Pick<AwsPorts, 'listeners' | 'dnsRecords'>,
  io: Io,
  config: StackConfig,
  stack: StackInfo | undefined,
): Promise<StackConfig> {
  if (!stack) return config;
  const live = await readLiveState(aws, stack);
  if (live.weights.blue + live.weights.green !== 100) {
    throw refused(
      `The live listener weights are ${formatWeights(live.weights)} (not 100 in total): fix traffic first with \`bgmig rollback\` or \`bgmig promote\`, then deploy.`,
    );
  }
  io.info(
    `Preserving live traffic (${formatWeights(live.weights)})${live.activeDatabase ? ` and the active database (${live.activeDatabase})` : ''} in the template.`,
  );
  return { ...config, weights: live.weights, activeDatabase: live.activeDatabase ?? config.activeDatabase };
}

/** The account the credentials belong to (for the bootstrap environment and messages). */
export async function callerAccount(aws: Pick<AwsPorts, 'identity'>): Promise<string> {
  const { account } = await aws.identity.caller();
  if (!account) throw failure('AWS did not say which account these credentials belong to: check your credentials.');
  return account;
}

/** Fails with how to bootstrap when the region has no CDK toolkit stack. */
export async function requireBootstrapped(aws: Pick<AwsPorts, 'stacks' | 'region'>, account: string): Promise<void> {
  let ok = false;
  try {
    const status = (await aws.stacks.describe(CDK_TOOLKIT_STACK))?.StackStatus ?? '';
    ok = /_COMPLETE$/.test(status) && !/^(DELETE|ROLLBACK)_COMPLETE$/.test(status);
  } catch (e) {
    if (!/does not exist/i.test(messageOf(e))) throw e;
  }
  if (!ok) {
    throw failure(
      `aws://${account}/${aws.region} is not bootstrapped for the CDK (no ${CDK_TOOLKIT_STACK} stack): run \`bgmig bootstrap --region ${aws.region}\` once, then deploy again.`,
    );
  }
}

/**
 * The toolkit builds its own SDK clients from the environment: give it bgmig's region, endpoint and (for
 * --profile/--role-arn) the same resolved credentials, so it acts as the same identity on the same endpoint.
 */
export async function prepareToolkitEnvironment(aws: AwsClients): Promise<void> {
  process.env.AWS_REGION = aws.region;
  process.env.AWS_DEFAULT_REGION = aws.region;
  if (aws.endpoint) process.env.AWS_ENDPOINT_URL = aws.endpoint;
  const provider = await aws.credentialProvider();
  if (provider) {
    const c = await provider();
    process.env.AWS_ACCESS_KEY_ID = c.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = c.secretAccessKey;
    if (c.sessionToken) process.env.AWS_SESSION_TOKEN = c.sessionToken;
    else delete process.env.AWS_SESSION_TOKEN;
    delete process.env.AWS_PROFILE;
  }
}

/** A fresh assembly directory, removed afterwards. */
export async function withOutdir<T>(fn: (outdir: string) => Promise<T>): Promise<T> {
  const outdir = mkdtempSync(path.join(os.tmpdir(), 'bgmig-cdk-'));
  try {
    return await fn(outdir);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** Turns a toolkit failure into one sentence (the toolkit's own error lines were already shown). */
export function toolkitFailure(e: unknown, what: string, stackName: string): BgmigError {
  if (e instanceof BgmigError) return e;
  const first = (
    messageOf(e)
      .split('\n')
      .find((l) => l.trim() !== '') ?? 'unknown error'
  )
    .replace(/^❌\s*/, '')
    .trim();
  if (/bootstrap/i.test(first)) {
    return failure(`${what} failed because the environment is not bootstrapped (${first}): run \`bgmig bootstrap\`, then retry.`, e);
  }
  return failure(`${what} of ${stackName} failed: ${firstLine(first, 300)} — see the events above (or run \`bgmig status\`) and retry.`, e);
}
