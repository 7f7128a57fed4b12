/**
 * `bgmig bootstrap`: prepares the account/region for CDK deployments (the CDKToolkit stack: asset bucket,
 * deployment roles) with @aws-cdk/toolkit-lib. Needed once per account and region, before the first deploy.
 */
import type { Command } from 'commander';
import { badInput, ExitCode } from '../../core/errors.js';
import { action, collect } from '../context.js';
import { ToolkitIoHost } from '../toolkit-io.js';
import { boundedToolkitFactory } from '../cdk.js';
import { callerAccount, CDK_TOOLKIT_STACK, prepareToolkitEnvironment, toolkitFailure, type ToolkitDeps } from '../toolkit-session.js';

export interface BootstrapResult {
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

export async function runBootstrap(deps: ToolkitDeps, opts: { executionPolicies?: string[] } = {}): Promise<ExitCode> {
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
  const policies = opts.executionPolicies ?? [];
  try {
    await toolkit.bootstrap(
      BootstrapEnvironments.fromList([environment]),
      policies.length > 0 ? { parameters: BootstrapStackParameters.withExisting({ cloudFormationExecutionPolicies: policies }) } : {},
    );
  } catch (e) {
    ioHost.dispose();
    throw bounded.bound.failure() ?? toolkitFailure(e, 'Bootstrap', CDK_TOOLKIT_STACK);
  }
  const result: BootstrapResult = { environment, toolkitStack: CDK_TOOLKIT_STACK, durationMs: Date.now() - started };
  io.result(result, () => `${io.style.green('✔')} ${environment} is bootstrapped (${CDK_TOOLKIT_STACK}); you can now run \`bgmig deploy\`.`);
  return ExitCode.Ok;
}

export function register(program: Command): void {
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
    .action(
      action<{ executionPolicy?: string[] }>(async (ctx, o) => runBootstrap(ctx, { executionPolicies: validateExecutionPolicies(o.executionPolicy ?? []) })),
    );
}
