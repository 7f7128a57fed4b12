/**
 * `bgmig diff`: what a deploy would change, computed with the live weights and active database in the template
 * (exactly what deploy would synthesize), so a diff never shows a spurious traffic change. `--fail` exits 1 when
 * there are changes (for CI gates).
 */
import type { ChalkInstance } from 'chalk';
import type { Command } from 'commander';
import { ExitCode, isBgmigError } from '../../core/errors.js';
import { withDeployedEnvironment } from './deploy.js';
import { resolveStackOptions } from '../settings.js';
import { names } from '../../core/naming.js';
import { addStackOptions, boundedToolkitFactory, stackConfigFromOptions, type StackOptionValues, unwrapSynthError } from '../cdk.js';
import { action } from '../context.js';
import { findStack, notDeployedReason } from '../../deployed/stack.js';
import type { StackConfig } from '../../core/config.js';
import type { StackInfo } from '../../deployed/stack.js';
import { ToolkitIoHost } from '../toolkit-io.js';
import { emit, type RunF } from '../verb.js';
import { defaultAssemblyFactory, prepareToolkitEnvironment, toolkitFailure, type ToolkitDeps, withLiveState, withOutdir } from '../toolkit-session.js';

export interface DiffCommandOptions {
  suffix: string;
  /** The stack options, flags merged over the settings file (src/cli/settings.ts resolveStackOptions). */
  stack: StackOptionValues;
  /** --fail: exit 1 when there are differences (exitCodeOf). */
  fail?: boolean;
  /** As deploy: the operator stated the environment (default: stack.environment was given). */
  explicitEnvironment?: boolean;
  changeEnvironment?: boolean;
}

/**
 * Only for the exit code: --fail, carried in the result so that exitCodeOf reads the result alone. A symbol key, so
 * JSON.stringify leaves it out and the --json document stays as it was.
 */
export const FAIL_ON_DIFFERENCES: unique symbol = Symbol('failOnDifferences');

export interface DiffResult {
  stack: string;
  exists: boolean;
  differenceCount: number;
  /** Security-relevant changes (IAM statements, security-group rules). */
  securityChanges: boolean;
  /** --fail was given: differences exit 1 (exitCodeOf). */
  [FAIL_ON_DIFFERENCES]?: boolean | undefined;
}

/**
 * The config diff compares: what deploy would synthesize (deployed environment kept, live weights and database).
 * An environment change deploy would refuse is shown as a warning, and the diff is against what deploy would keep.
 */
async function configToCompare(opts: DiffCommandOptions, deps: ToolkitDeps): Promise<{ config: StackConfig; existing: StackInfo | undefined }> {
  const { io, aws } = deps;
  let config = stackConfigFromOptions(opts.suffix, aws.region, opts.stack);
  let existing = await findStack(aws, opts.suffix);
  const empty = existing ? notDeployedReason(existing, opts.suffix) : undefined;
  if (empty) {
    // Nothing deployed to compare with: diff against an empty stack, and say what is really there.
    io.info(empty);
    existing = undefined;
  }
  try {
    config = withDeployedEnvironment(
      config,
      existing,
      { explicit: opts.explicitEnvironment ?? opts.stack.environment !== undefined, allowChange: opts.changeEnvironment ?? false },
      io,
    );
  } catch (e) {
    // deploy would refuse this: say so, and show the diff against what deploy would keep.
    if (!isBgmigError(e) || e.exitCode !== ExitCode.Refused || !existing) throw e;
    io.warn(`deploy would refuse this: ${e.message}`);
    config = withDeployedEnvironment(config, existing, { explicit: false, allowChange: false }, io);
  }
  return { config: await withLiveState(aws, io, config, existing), existing };
}

/**
 * What a deploy would change, by template comparison (no change set: read access only, no bootstrap needed).
 * Throws the toolkit's failure in one sentence (exit 1), "Cannot reach" when a toolkit call hit --call-timeout.
 */
export async function runDiff(opts: DiffCommandOptions, deps: ToolkitDeps): Promise<DiffResult> {
  const { io, aws } = deps;
  const stackName = names(opts.suffix).stack;
  const { config, existing } = await configToCompare(opts, deps);
  await prepareToolkitEnvironment(aws);
  const ioHost = new ToolkitIoHost(io, 'never', 'diff');
  const bounded = boundedToolkitFactory(aws);
  const createToolkit = deps.createToolkit ?? bounded.create;
  const assembly = deps.assembly ?? defaultAssemblyFactory;
  const { DiffMethod, StackSelectionStrategy } = await import('@aws-cdk/toolkit-lib');

  // Synthesis with CDK's template validation takes 5–8 s before the comparison: say what is happening.
  io.waiting(
    `Synthesizing ${stackName} (with CDK template validation, about 8 s) and comparing it with ${existing ? 'the deployed template' : 'an empty stack'}…`,
  );
  const diffs = await withOutdir(async (outdir) => {
    const toolkit = await createToolkit(ioHost);
    const cx = await assembly(toolkit, config, { outdir });
    try {
      // Template comparison: no change set is created, so diff needs only read access and no bootstrap.
      return await toolkit.diff(cx, {
        stacks: { strategy: StackSelectionStrategy.PATTERN_MUST_MATCH_SINGLE, patterns: [stackName] },
        method: DiffMethod.TemplateOnly(),
      });
    } catch (e) {
      throw bounded.bound.failure() ?? toolkitFailure(unwrapSynthError(e), 'Diff', stackName);
    }
  });
  const d = diffs[stackName] ?? Object.values(diffs)[0];
  return {
    stack: stackName,
    exists: existing !== undefined,
    differenceCount: d?.differenceCount ?? 0,
    securityChanges: Boolean(d && (d.iamChanges.hasChanges || d.securityGroupChanges.hasChanges)),
    [FAIL_ON_DIFFERENCES]: opts.fail ?? false,
  };
}

/** One line: no differences, or how many (and whether IAM or security groups change). */
export function renderDiff(r: DiffResult, _style: ChalkInstance): string {
  return r.differenceCount === 0
    ? `${r.stack}: no differences.`
    : `${r.stack}: ${r.differenceCount} difference(s)${r.securityChanges ? ', including IAM or security-group changes' : ''}${r.exists ? '' : ' (the stack does not exist yet)'}.`;
}

/**
 * 1 when --fail was given (`r[FAIL_ON_DIFFERENCES]`, set by runDiff) and there are differences (a CI gate), else 0.
 * --fail is not part of the JSON document.
 */
export function exitCodeOf(r: DiffResult): ExitCode {
  return r[FAIL_ON_DIFFERENCES] && r.differenceCount > 0 ? ExitCode.Failure : ExitCode.Ok;
}

export function register(
  program: Command,
  runF: RunF<DiffCommandOptions> = async (opts, ctx) => emit(ctx.io, await runDiff(opts, ctx), renderDiff, exitCodeOf),
): void {
  const cmd = program.command('diff').description('show what a deploy would change (live traffic and database preserved, as deploy does)');
  addStackOptions(cmd)
    .option('--fail', 'exit 1 when there are differences', false)
    .option('--change-environment', 'show the diff of an environment change deploy would refuse without it', false)
    .addHelpText(
      'after',
      `
Example:
  $ bgmig diff --suffix shop-prod --blue-image registry.example.com/shop:1.42 --fail`,
    )
    .action(
      action<StackOptionValues & { settings?: string; fail: boolean; changeEnvironment: boolean }>(async (ctx, o) => {
        const suffix = ctx.suffix();
        const { values, explicit } = resolveStackOptions(cmd, o, suffix, ctx.aws.region, (t) => ctx.io.info(t));
        return runF({ suffix, stack: values, fail: o.fail, explicitEnvironment: explicit.has('environment'), changeEnvironment: o.changeEnvironment }, ctx);
      }),
    );
}
