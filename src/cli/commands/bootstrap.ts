/**
 * `bgmig bootstrap`: prepares the account/region for CDK deployments (the CDKToolkit stack: asset bucket,
 * deployment roles) with @aws-cdk/toolkit-lib. Needed once per account and region, before the first deploy.
 */
import type { Command } from 'commander';
import { ExitCode } from '../../core/errors.js';
import { action } from '../context.js';
import { ToolkitIoHost } from '../toolkit-io.js';
import { callerAccount, CDK_TOOLKIT_STACK, defaultToolkitFactory, prepareToolkitEnvironment, toolkitFailure, type ToolkitDeps } from '../toolkit-session.js';

export interface BootstrapResult {
  environment: string;
  toolkitStack: string;
  durationMs: number;
}

export async function runBootstrap(deps: ToolkitDeps): Promise<ExitCode> {
  const started = Date.now();
  const { io, aws } = deps;
  const account = await callerAccount(aws);
  const environment = `aws://${account}/${aws.region}`;
  await prepareToolkitEnvironment(aws);
  const ioHost = new ToolkitIoHost(io, 'never');
  const toolkit = await (deps.createToolkit ?? defaultToolkitFactory)(ioHost);
  const { BootstrapEnvironments } = await import('@aws-cdk/toolkit-lib');
  io.info(`Bootstrapping ${environment}…`);
  try {
    await toolkit.bootstrap(BootstrapEnvironments.fromList([environment]), {});
  } catch (e) {
    ioHost.dispose();
    throw toolkitFailure(e, 'Bootstrap', CDK_TOOLKIT_STACK);
  }
  const result: BootstrapResult = { environment, toolkitStack: CDK_TOOLKIT_STACK, durationMs: Date.now() - started };
  io.result(result, () => `${io.style.green('✔')} ${environment} is bootstrapped (${CDK_TOOLKIT_STACK}); you can now run \`bgmig deploy\`.`);
  return ExitCode.Ok;
}

export function register(program: Command): void {
  program
    .command('bootstrap')
    .description('prepare the account and region for CDK deployments (once per account/region)')
    .addHelpText(
      'after',
      `
Example:
  $ bgmig bootstrap --region eu-west-1 --profile prod-admin`,
    )
    .action(action(async (ctx) => runBootstrap(ctx)));
}
