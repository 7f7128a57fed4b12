/**
 * `bgmig destroy`: deletes the stack through @aws-cdk/toolkit-lib. The operator must type the suffix (unless --yes);
 * when termination or deletion protection is on (prod databases), it explains what is protected and stops — turning
 * protection off is a deliberate, separate act.
 */
import type { AwsPorts } from '../../aws/ports.js';
import type { ChalkInstance } from 'chalk';
import type { Command } from 'commander';
import { refused } from '../../core/errors.js';
import { COLORS } from '../../core/naming.js';
import { ColorOutputKey, OutputKey } from '../../core/outputs.js';
import { boundedToolkitFactory, stackConfigFromOptions, unwrapSynthError } from '../cdk.js';
import { action } from '../context.js';
import { deleteEmptyStack, findStack, notDeployedReason, optionalOutput, requireStack, type StackInfo } from '../../deployed/stack.js';
import { ToolkitIoHost } from '../toolkit-io.js';
import { defaultAssemblyFactory, prepareToolkitEnvironment, toolkitFailure, type ToolkitDeps, withOutdir } from '../toolkit-session.js';
import type { Io } from '../io.js';
import { isAwsError } from '../../core/aws-error.js';
import { emit, type RunF } from '../verb.js';

export interface DestroyOptions {
  suffix: string;
  /** Polling interval of stack events (ms). */
  pollingIntervalMs?: number;
}

/**
 * Only in the human text: the status of a stack that had nothing deployed (deleted directly). A symbol key, so
 * JSON.stringify leaves it out and the --json document stays {stack, destroyed, durationMs}.
 */
export const NOTHING_DEPLOYED: unique symbol = Symbol('nothingDeployed');

export interface DestroyResult {
  stack: string;
  destroyed: boolean;
  durationMs: number;
  [NOTHING_DEPLOYED]?: string;
}

/** What protection is on, one phrase each (empty when nothing is protected). */
export async function protections(aws: Pick<AwsPorts, 'clusters'>, stack: StackInfo): Promise<string[]> {
  const found: string[] = [];
  const clusters = await Promise.all(
    COLORS.map(async (c) => {
      const id = optionalOutput(stack, ColorOutputKey[c].clusterIdentifier);
      if (!id) return undefined;
      try {
        return await aws.clusters.describe(id);
      } catch (e) {
        if (isAwsError(e, 'DBClusterNotFoundFault')) return undefined;
        throw e;
      }
    }),
  );
  if (stack.terminationProtection) {
    found.push(
      `stack ${stack.name} has termination protection (aws cloudformation update-termination-protection --no-enable-termination-protection --stack-name ${stack.name})`,
    );
  }
  for (const c of clusters) {
    if (c?.DeletionProtection) {
      found.push(
        `cluster ${c.DBClusterIdentifier} has deletion protection (aws rds modify-db-cluster --db-cluster-identifier ${c.DBClusterIdentifier} --no-deletion-protection)`,
      );
    }
  }
  return found;
}

/**
 * CloudFormation deletes a Route 53 record by the value in its template; after a `bgmig db cutover` the live
 * record names the other cluster and the delete would fail half-way (DELETE_FAILED). Point it back at the colour
 * the deployed template names first — the stack is going away, so where the record points no longer matters.
 */
export async function realignDbRecord(aws: AwsPorts, stack: StackInfo, io: Io): Promise<void> {
  const deployed = optionalOutput(stack, OutputKey.DeployedActiveDatabase);
  if (deployed !== 'blue' && deployed !== 'green') return; // stacks from before this output: nothing to compare
  const { dbRecordFromOutputs, readActiveDatabase, upsertDbRecord } = await import('../../dns/active-record.js');
  const { ref, endpoints } = dbRecordFromOutputs(stack.outputs, stack.name);
  const r53 = aws.dnsRecords;
  const live = await readActiveDatabase(r53, ref, endpoints);
  if (live.state === 'missing' || live.color === deployed) return;
  io.info(`Pointing ${ref.recordName} back at the ${deployed} cluster (as deployed) so CloudFormation can delete the record.`);
  await upsertDbRecord(r53, ref, endpoints[deployed]);
}

/**
 * Deletes the stack of `opts.suffix`: an empty one (nothing deployed) at once; otherwise after the protection check
 * (exit 3 with the commands that turn protection off) and the typed suffix (unless --yes; a mismatch is exit 3),
 * through the toolkit. Throws the toolkit's failure in one sentence (exit 1), "Cannot reach" on a hung toolkit call.
 */
export async function runDestroy(opts: DestroyOptions, deps: ToolkitDeps): Promise<DestroyResult> {
  const started = Date.now();
  const { io, aws } = deps;
  const found = await findStack(aws, opts.suffix);
  if (found && notDeployedReason(found, opts.suffix)) {
    // Nothing is deployed in it (no database, no protection): delete it directly, without asking to type the suffix.
    await deleteEmptyStack(aws, found);
    return { stack: found.name, destroyed: true, durationMs: Date.now() - started, [NOTHING_DEPLOYED]: found.status };
  }
  const stack = await requireStack(aws, opts.suffix);
  const protectedBy = await protections(aws, stack);
  if (protectedBy.length > 0) {
    throw refused(
      `${stack.name} is protected against deletion — ${protectedBy.join('; ')} — nothing was deleted: if you really mean to destroy it (its databases go with it), turn protection off with the command(s) shown and re-run.`,
      { protections: protectedBy },
    );
  }
  if (!io.yes) {
    io.warn(`This deletes ${stack.name} and everything in it, both databases included.`);
    const typed = (await io.ask(`Type the suffix "${opts.suffix}" to confirm: `)).trim();
    if (typed !== opts.suffix) throw refused(`Confirmation did not match (typed "${typed}", expected "${opts.suffix}"): nothing was deleted.`);
  }

  await realignDbRecord(aws, stack, io);
  await destroyWithToolkit(opts, deps, stack.name);
  return { stack: stack.name, destroyed: true, durationMs: Date.now() - started };
}

/** The toolkit's destroy of `stackName` (an assembly is needed only for the stack's identity). */
async function destroyWithToolkit(opts: DestroyOptions, deps: ToolkitDeps, stackName: string): Promise<void> {
  const { io, aws } = deps;
  // The toolkit destroys the stacks of an assembly; the config's content does not matter for deletion.
  const config = stackConfigFromOptions(opts.suffix, aws.region, {});
  await prepareToolkitEnvironment(aws);
  const ioHost = new ToolkitIoHost(io, 'never', 'destroy');
  const { StackSelectionStrategy } = await import('@aws-cdk/toolkit-lib');
  const bounded = boundedToolkitFactory(aws);
  await withOutdir(async (outdir) => {
    const toolkit = await (deps.createToolkit ?? bounded.create)(ioHost);
    const cx = await (deps.assembly ?? defaultAssemblyFactory)(toolkit, config, { outdir, validate: false });
    try {
      await toolkit.destroy(cx, {
        stacks: { strategy: StackSelectionStrategy.PATTERN_MUST_MATCH_SINGLE, patterns: [stackName] },
        ...(opts.pollingIntervalMs ? { stackEventPollingInterval: opts.pollingIntervalMs } : {}),
      });
    } catch (e) {
      ioHost.dispose();
      throw bounded.bound.failure() ?? toolkitFailure(unwrapSynthError(e), 'Destroy', stackName);
    }
  });
}

/** One line: destroyed (with its duration), or deleted directly because nothing was deployed in it. */
export function renderDestroy(r: DestroyResult, style: ChalkInstance): string {
  const status = r[NOTHING_DEPLOYED];
  return status !== undefined
    ? `${style.green('✔')} Deleted ${r.stack}, which had nothing deployed (${status}).`
    : `${style.green('✔')} Destroyed ${r.stack} in ${Math.round(r.durationMs / 1000)} s.`;
}

export function register(program: Command, runF: RunF<DestroyOptions> = async (opts, ctx) => emit(ctx.io, await runDestroy(opts, ctx), renderDestroy)): void {
  program
    .command('destroy')
    .description('delete the stack (asks you to type the suffix unless --yes; stops when deletion protection is on)')
    .addHelpText(
      'after',
      `
Example:
  $ bgmig destroy --suffix pr-1234
  warning: This deletes bgmig-pr-1234 and everything in it, both databases included.
  Type the suffix "pr-1234" to confirm: pr-1234`,
    )
    .action(action(async (ctx) => runF({ suffix: ctx.suffix() }, ctx)));
}
