/**
 * `bgmig bootstrap`: prepares the account/region for CDK deployments (the CDKToolkit stack: asset bucket,
 * deployment roles) with @aws-cdk/toolkit-lib. Needed once per account and region, before the first deploy.
 */
import type { ChalkInstance } from 'chalk';
import type { Command } from 'commander';
import { badInput } from '../../core/errors.js';
import { boundedToolkitFactory } from '../cdk.js';
import { action, collect } from '../context.js';
import { ToolkitIoHost } from '../toolkit-io.js';
import { CDK_TOOLKIT_STACK, callerAccount, prepareToolkitEnvironment, type ToolkitDeps, toolkitFailure } from '../toolkit-session.js';
import { emit, type RunF } from '../verb.js';

export interface BootstrapOptions {
  /** IAM managed-policy ARNs for CloudFormation's deployment role (empty: CDK's AdministratorAccess). */
  executionPolicies: string[];
}

export interface BootstrapResult {
  /** aws://ACCOUNT/REGION. */
  environment: string;
  toolkitStack: string;
  durationMs: number;
}

const POLICY_ARN_RE = /^arn:aws[a-z-]*:iam::(aws|\d{12}):policy\/[\w+=,.@/-]+$/;

/** --execution-policy values: IAM managed-policy ARNs (exit 2 otherwise, before anything is called). */
export function validateExecutionPolicies(arns: string[]): string[] {
  for (const a of arns) {
    if (!POLICY_ARN_RE.test(a))
      throw badInput(`--execution-policy must be an IAM managed-policy ARN like arn:aws:iam::aws:policy/AdministratorAccess, got "${a}".`);
  }
  return arns;
}

/**
 * Bootstraps the credentials' account in the region of `deps.aws` (GetCallerIdentity, then the toolkit's own
 * calls). Throws the toolkit's failure in one sentence (exit 1), or "Cannot reach" when a toolkit call hit
 * --call-timeout.
 */
export async function runBootstrap(opts: BootstrapOptions, deps: ToolkitDeps): Promise<BootstrapResult> {
  const started = Date.now();
  const { io, aws } = deps;
  const account = await callerAccount(aws);
  const environment = `aws://${account}/${aws.region}`;
  await prepareToolkitEnvironment(aws);
  const ioHost = new ToolkitIoHost(io, 'never', 'bootstrap');
  const bounded = boundedToolkitFactory(aws);
  const toolkit = await (deps.createToolkit ?? bounded.create)(ioHost);
  const { BootstrapEnvironments, BootstrapStackParameters } = await import('@aws-cdk/toolkit-lib');
  io.info(`Bootstrapping ${environment}…`);
  const policies = opts.executionPolicies;
  try {
    await toolkit.bootstrap(
      BootstrapEnvironments.fromList([environment]),
      policies.length > 0 ? { parameters: BootstrapStackParameters.withExisting({ cloudFormationExecutionPolicies: policies }) } : {},
    );
  } catch (e) {
    ioHost.dispose();
    throw bounded.bound.failure() ?? toolkitFailure(e, 'Bootstrap', CDK_TOOLKIT_STACK);
  }
  return { environment, toolkitStack: CDK_TOOLKIT_STACK, durationMs: Date.now() - started };
}

/** One line naming the bootstrapped environment and what to run next. */
export function renderBootstrap(r: BootstrapResult, style: ChalkInstance): string {
  return `${style.green('✔')} ${r.environment} is bootstrapped (${r.toolkitStack}); you can now run \`bgmig deploy\`.`;
}

export function register(
  program: Command,
  runF: RunF<BootstrapOptions> = async (opts, ctx) => emit(ctx.io, await runBootstrap(opts, ctx), renderBootstrap),
): void {
  program
    .command('bootstrap')
    .description('prepare the account and region for CDK deployments (once per account/region)')
    .option('--execution-policy <arn>', "managed policy CloudFormation's deployment role gets (repeatable; default: CDK's AdministratorAccess)", collect)
    .addHelpText(
      'after',
      `
Example:
  $ bgmig bootstrap --region eu-west-1 --profile prod-admin
  $ bgmig bootstrap --region eu-west-1 --execution-policy arn:aws:iam::111122223333:policy/bgmig-deploy`,
    )
    .action(action<{ executionPolicy?: string[] }>(async (ctx, o) => runF({ executionPolicies: validateExecutionPolicies(o.executionPolicy ?? []) }, ctx)));
}
