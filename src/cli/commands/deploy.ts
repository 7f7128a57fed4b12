/**
 * `bgmig deploy`: synthesizes the embedded app in-process and deploys it with @aws-cdk/toolkit-lib. A deploy never
 * moves live traffic or the database: the live listener weights and the active database are read first and
 * synthesized into the template, and the weights are read again afterwards to prove it.
 */
import type { ChalkInstance } from 'chalk';
import type { Command } from 'commander';
import { Option } from 'commander';
import type { StackConfig, Weights } from '../../core/config.js';
import { OutputKey } from '../../core/outputs.js';
import { badInput, failure, isBgmigError, refused } from '../../core/errors.js';
import { type Color, names } from '../../core/naming.js';
import { addStackOptions, boundedToolkitFactory, stackConfigFromOptions, type StackOptionValues, unwrapSynthError } from '../cdk.js';
import { action } from '../context.js';
import { checkOutputFile, noEffect } from '../flag-rules.js';
import { decideEnvironment, isEnvironment, resolveStackOptions } from '../settings.js';
import {
  blockedReason,
  CDK_CHANGE_SET,
  deleteEmptyStack,
  deleteLeftoverChangeSet,
  findStack,
  isUnexecutedChangeSet,
  notDeployedReason,
  REVIEW_IN_PROGRESS,
  type StackInfo,
} from '../../deployed/stack.js';
import { parseRequireApproval, type RequireApproval, ToolkitIoHost } from '../toolkit-io.js';
import {
  callerAccount,
  defaultAssemblyFactory,
  prepareToolkitEnvironment,
  requireBootstrapped,
  toolkitFailure,
  type ToolkitDeps,
  withLiveState,
  withOutdir,
} from '../toolkit-session.js';
import { formatWeights, readWeights, sameWeights, trafficTarget } from '../../deployed/traffic.js';
import { emit, type RunF } from '../verb.js';

export type DeploymentMethodName = 'change-set' | 'direct';

export interface DeployOptions {
  suffix: string;
  stack: StackOptionValues;
  /** The operator stated the environment (flag or settings file); default: stack.environment was given. */
  explicitEnvironment?: boolean;
  /** --change-environment: a stated environment may weaken the deployed one's protections. */
  changeEnvironment?: boolean;
  requireApproval?: RequireApproval;
  outputsFile?: string | undefined;
  /** change-set (default, as the CDK CLI) or direct (UpdateStack; for emulators without change-set updates). */
  method?: DeploymentMethodName;
  /** How often the toolkit polls stack events (ms). */
  pollingIntervalMs?: number;
}

/**
 * Only in the human text: the --outputs-file the outputs were written to. A symbol key, so JSON.stringify leaves it
 * out and the --json document stays as it was (the operator knows the file they named).
 */
export const OUTPUTS_FILE: unique symbol = Symbol('outputsFile');

export interface DeployResult {
  stack: string;
  account: string;
  region: string;
  /** Weights synthesized into the template (the live ones for an existing stack). */
  weights: Weights;
  activeDatabase: Color;
  outputs: Record<string, string>;
  durationMs: number;
  [OUTPUTS_FILE]?: string | undefined;
}

/**
 * Deploys the stack of `opts.suffix` with the live weights and active database synthesized in, then proves the
 * listener kept them. Refusals (exit 3): a stack operation in progress, weakening prod without --change-environment,
 * a declined approval; failures (exit 1): not bootstrapped, the toolkit's failure in one sentence, "Cannot reach"
 * when a toolkit call hit --call-timeout, traffic changed by the deploy. A declined or failed deploy leaves nothing
 * behind that blocks the next one (cleanUpUndeployed).
 */
export async function runDeploy(opts: DeployOptions, deps: ToolkitDeps): Promise<DeployResult> {
  const started = Date.now();
  const { aws } = deps;
  const stackName = names(opts.suffix).stack;
  const { config, account } = await prepareDeploy(opts, deps);
  const result = await deployWithToolkit(opts, deps, config);
  const deployed = result.stacks.find((s) => s.stackName === stackName) ?? result.stacks[0];
  await verifyTrafficKept(deps, opts.suffix, config.weights);
  return {
    stack: stackName,
    account,
    region: aws.region,
    weights: config.weights,
    activeDatabase: config.activeDatabase,
    outputs: deployed?.outputs ?? {},
    durationMs: Date.now() - started,
    [OUTPUTS_FILE]: opts.outputsFile,
  };
}

/** Everything checked before the toolkit runs: the config (with the deployed environment and live state), the account. */
async function prepareDeploy(opts: DeployOptions, deps: ToolkitDeps): Promise<{ config: StackConfig; account: string }> {
  const { io, aws } = deps;
  let config = stackConfigFromOptions(opts.suffix, aws.region, opts.stack);
  if (config.certificateIsPlaceholder) {
    throw badInput(
      'Deploy needs a real ACM certificate for the HTTPS listeners: pass --certificate-arn arn:aws:acm:REGION:ACCOUNT:certificate/ID (`bgmig synth` works without one).',
    );
  }
  const account = await callerAccount(aws);
  await requireBootstrapped(aws, account);

  let existing = await findStack(aws, opts.suffix);
  if (existing && notDeployedReason(existing, opts.suffix)) {
    // Nothing is deployed in it (a declined deploy's empty stack, or a rolled-back creation): replace it.
    io.info(`Stack ${existing.name} is ${existing.status} with nothing deployed: removing it before deploying.`);
    await deleteEmptyStack(aws, existing);
    existing = undefined;
  }
  const blocked = existing ? blockedReason(existing) : undefined;
  if (blocked) throw failure(blocked);
  if (existing && /_IN_PROGRESS$/.test(existing.status)) {
    throw refused(`Stack ${existing.name} is ${existing.status}: wait for it to finish (\`bgmig status --watch --until healthy\`), then deploy again.`);
  }
  config = withDeployedEnvironment(
    config,
    existing,
    { explicit: opts.explicitEnvironment ?? opts.stack.environment !== undefined, allowChange: opts.changeEnvironment ?? false },
    io,
  );
  return { config: await withLiveState(aws, io, config, existing), account };
}

type ToolkitDeployResult = Awaited<ReturnType<import('@aws-cdk/toolkit-lib').Toolkit['deploy']>>;

/** The toolkit's deploy; a declined or failed one is cleaned up and thrown as one sentence. */
async function deployWithToolkit(opts: DeployOptions, deps: ToolkitDeps, config: StackConfig): Promise<ToolkitDeployResult> {
  const { io, aws } = deps;
  const stackName = names(opts.suffix).stack;
  await prepareToolkitEnvironment(aws);
  const ioHost = new ToolkitIoHost(io, opts.requireApproval ?? 'broadening');
  const bounded = boundedToolkitFactory(aws);
  const createToolkit = deps.createToolkit ?? bounded.create;
  const assembly = deps.assembly ?? defaultAssemblyFactory;
  const { StackSelectionStrategy } = await import('@aws-cdk/toolkit-lib');

  const result = await withOutdir(async (outdir) => {
    const toolkit = await createToolkit(ioHost);
    const cx = await assembly(toolkit, config, { outdir });
    try {
      return await toolkit.deploy(cx, {
        stacks: { strategy: StackSelectionStrategy.PATTERN_MUST_MATCH_SINGLE, patterns: [stackName] },
        deploymentMethod: opts.method === 'direct' ? { method: 'direct' } : { method: 'change-set' },
        ...(opts.outputsFile ? { outputsFile: opts.outputsFile } : {}),
        ...(opts.pollingIntervalMs ? { stackEventPollingInterval: opts.pollingIntervalMs } : {}),
      });
    } catch (e) {
      ioHost.dispose();
      // A hung endpoint: the cleanup below would wait on it too; say what happened.
      const hung = bounded.bound.failure();
      if (hung) throw hung;
      // Whatever stopped it, leave nothing behind that would block or confuse the next deploy.
      const cleaned = await cleanUpUndeployed(aws, opts.suffix, io);
      if (ioHost.declined) throw notApproved(cleaned);
      throw toolkitFailure(unwrapSynthError(e), 'Deployment', stackName);
    }
  });
  if (ioHost.declined) throw notApproved(await cleanUpUndeployed(aws, opts.suffix, io));
  return result;
}

function notApproved(cleaned: string) {
  return refused(`Deployment not approved: nothing was deployed${cleaned ? ` (${cleaned})` : ''}.`);
}

/** Proves the promise: the listener still has the weights synthesized (the live ones); exit 1 with the way back otherwise. */
async function verifyTrafficKept(deps: ToolkitDeps, suffix: string, weights: Weights): Promise<void> {
  const after = await findStack(deps.aws, suffix);
  if (!after) return;
  let live: Weights | undefined;
  try {
    live = await readWeights(deps.aws, trafficTarget(after));
  } catch (e) {
    // A stack without the listener outputs (e.g. a partial first deploy) has no traffic to verify.
    if (!isBgmigError(e)) throw e;
  }
  if (live && !sameWeights(live, weights)) {
    throw failure(
      `After the deployment the listener has ${formatWeights(live)}, not the ${formatWeights(weights)} it had before: restore traffic now with \`bgmig promote --weight ${weights.green}\` (or \`bgmig rollback\`).`,
    );
  }
}

/** The one-line summary (the toolkit printed the outputs already), and where --outputs-file wrote them. */
export function renderDeploy(r: DeployResult, style: ChalkInstance): string {
  return [
    // The toolkit has already printed the outputs above; --json carries them in the result.
    `${style.green('✔')} Deployed ${r.stack} to aws://${r.account}/${r.region} in ${Math.round(r.durationMs / 1000)} s — traffic ${formatWeights(r.weights)}, active database ${r.activeDatabase} (unchanged).`,
    r[OUTPUTS_FILE] ? `Outputs written to ${r[OUTPUTS_FILE]}.` : '',
  ]
    .filter((l) => l !== '')
    .join('\n');
}

/**
 * The environment to synthesize for `existing` (src/cli/settings.ts decideEnvironment): keeps a deployed stack's
 * environment unless the operator stated one, refuses to weaken prod without --change-environment (exit 3).
 */
export function withDeployedEnvironment(
  config: StackConfig,
  existing: StackInfo | undefined,
  o: { explicit: boolean; allowChange: boolean },
  io: ToolkitDeps['io'],
): StackConfig {
  const raw = existing?.outputs[OutputKey.Environment];
  const deployed = isEnvironment(raw) ? raw : undefined;
  if (existing && deployed === undefined && !o.explicit) {
    io.warn(
      `${existing.name} does not say which environment it was deployed as (no ${OutputKey.Environment} output): deploying as ${config.environment}; state --environment to be sure.`,
    );
  }
  const d = decideEnvironment({ deployed, requested: config.environment, explicit: o.explicit, allowChange: o.allowChange, stack: existing?.name ?? '' });
  if (d.note) io.info(d.note);
  return { ...config, environment: d.environment };
}

/**
 * After a deploy that did not happen (declined, failed before executing): removes the empty REVIEW_IN_PROGRESS
 * stack CloudFormation created for a new stack's change set, or the unexecuted change set left on a deployed stack.
 * Returns what was removed (for the message), or '' when nothing was left. A failure to clean up is a warning: the
 * deploy's own outcome is what the operator must read first.
 */
export async function cleanUpUndeployed(aws: ToolkitDeps['aws'], suffix: string, io: ToolkitDeps['io']): Promise<string> {
  try {
    const now = await findStack(aws, suffix);
    if (!now) return '';
    if (isUnexecutedChangeSet(now)) {
      await deleteEmptyStack(aws, now);
      return `removed the empty ${REVIEW_IN_PROGRESS} stack ${now.name} its change set had created, so the next deploy starts clean`;
    }
    if (await deleteLeftoverChangeSet(aws, now.name)) return `removed the unexecuted change set ${CDK_CHANGE_SET} from ${now.name}`;
    return '';
  } catch (e) {
    io.warn(
      `could not check for a leftover change set after the deploy stopped (${e instanceof Error ? e.message : String(e)}): \`bgmig status\` names the stack's state.`,
    );
    return '';
  }
}

export function register(program: Command, runF: RunF<DeployOptions> = async (opts, ctx) => emit(ctx.io, await runDeploy(opts, ctx), renderDeploy)): void {
  const cmd = program.command('deploy').description('synthesize and deploy the stack; never moves live traffic or the active database');
  addStackOptions(cmd)
    .addOption(new Option('--require-approval <level>', 'ask before deploying: never, broadening (IAM/security widening) or any-change').default('broadening'))
    .option('--outputs-file <file>', 'write the stack outputs to this JSON file')
    .addOption(new Option('--method <method>', 'CloudFormation deployment method').choices(['change-set', 'direct']).default('change-set'))
    .option('--change-environment', 'allow --environment to weaken a deployed stack (prod → dev/staging turns deletion protection off)', false)
    .addHelpText(
      'after',
      `
Before synthesizing, deploy reads the live listener weights and the active database (the db record) and puts
them in the template, because CloudFormation would otherwise reset them (aws/aws-cdk#36649). It also keeps the
deployed environment (prod: deletion protection) unless --environment says otherwise; weakening prod needs
--change-environment. Settings come from --settings FILE or ./bgmig.<suffix>.json (see docs/operating.md).
A declined or failed deploy leaves nothing behind that blocks the next one.

Example:
  $ bgmig deploy --suffix shop-prod --environment prod \\
      --certificate-arn arn:aws:acm:us-east-1:111122223333:certificate/0f1e2d3c-aaaa-bbbb-cccc-1234567890ab`,
    )
    .action(
      action<
        StackOptionValues & { settings?: string; requireApproval: string; outputsFile?: string; method: DeploymentMethodName; changeEnvironment: boolean }
      >(async (ctx, o) => {
        const requireApproval = parseRequireApproval(o.requireApproval);
        const outputsFile = o.outputsFile !== undefined ? checkOutputFile(o.outputsFile, '--outputs-file') : undefined;
        // Only when asked for: the default level with --yes is the ordinary non-interactive deploy.
        if (ctx.io.yes && requireApproval !== 'never' && cmd.getOptionValueSource('requireApproval') === 'cli') {
          noEffect(ctx.io, [{ flag: `--require-approval ${requireApproval}`, value: true }], 'with --yes (every approval is answered yes)');
        }
        const suffix = ctx.suffix();
        const { values, explicit } = resolveStackOptions(cmd, o, suffix, ctx.aws.region, (t) => ctx.io.info(t));
        return runF(
          {
            suffix,
            stack: values,
            explicitEnvironment: explicit.has('environment'),
            changeEnvironment: o.changeEnvironment,
            requireApproval,
            outputsFile,
            method: o.method,
          },
          ctx,
        );
      }),
    );
}
