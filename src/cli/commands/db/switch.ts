/** `bgmig db cutover` and `bgmig db rollback`: gates here (schema, traffic), the pause in the engine. */
import type { Command } from 'commander';
import { badInput, ExitCode, refused } from '../../../core/errors.js';
import { otherColor } from '../../../core/naming.js';
import { formatMs, parseDuration, parseSize } from '../../../core/units.js';
import { REPLICATION_DEFAULTS, type SwitchHook, type SwitchReport } from '../../../replication/api.js';
import { action, type CommandContext } from '../../context.js';
import { progressPrinter, resolveMode, shellSwitchHook, withModeOptions, type Mode, type ModeOptions } from './common.js';

export interface SwitchCommandOptions extends ModeOptions {
  maxPause?: string | undefined;
  maxLag?: string | undefined;
  onSwitch?: string | undefined;
  /** Direct mode, for in-process callers (`bgmig rehearse`): the switch hook itself instead of a shell command. */
  switchHook?: SwitchHook | undefined;
  skipValidation?: boolean | undefined;
  force?: boolean | undefined;
}

type Operation = 'cutover' | 'rollback';

/** The schema gate: the blue application is about to run against green, so green must be compatible. */
async function schemaGate(mode: Mode, ctx: CommandContext): Promise<void> {
  let verdict: string;
  let breaking = 0;
  let error: string | undefined;
  if (mode.kind === 'direct') {
    const { validateDatabases } = await import('../../../schema/validate.js');
    const r = await validateDatabases(mode.targets.blue, mode.targets.green, { excludeSchemas: ['bgmig'] });
    verdict = r.verdict;
    breaking = r.differences.filter((d) => d.severity === 'breaking').length;
    error = r.error;
  } else {
    const [{ requireStack }, { invokeValidator }] = await Promise.all([import('../../stack.js'), import('../../validation.js')]);
    const r = await invokeValidator(ctx.aws, await requireStack(ctx.aws, mode.suffix), { excludeSchemas: ['bgmig'] });
    verdict = r.verdict;
    breaking = r.differences.filter((d) => d.severity === 'breaking').length;
    error = r.error;
  }
  if (verdict === 'incompatible') {
    throw refused(`The schema validation is incompatible (${breaking} breaking difference(s)): the blue application would break on green — see \`bgmig validate\`, fix green's schema, or pass --skip-validation if you accept it.`);
  }
  if (verdict !== 'compatible') {
    throw refused(`The schema validation could not run (${error ?? verdict}): fix that and retry, or pass --skip-validation.`);
  }
  ctx.io.info('  ✓ schema validation: compatible');
}

/** AWS mode rollback: the green application may need green's schema, so not while green takes traffic. */
async function trafficGate(mode: Mode, ctx: CommandContext): Promise<void> {
  if (mode.kind !== 'aws') return;
  const [{ requireStack }, { readWeights, trafficTarget }] = await Promise.all([import('../../stack.js'), import('../../traffic.js')]);
  const w = await readWeights(ctx.aws, trafficTarget(await requireStack(ctx.aws, mode.suffix)));
  if (w.green > 0) {
    throw refused(`The green service takes ${w.green} % of traffic and may need green's schema: move traffic back first (\`bgmig rollback\`), or pass --force.`);
  }
}

export async function runSwitch(op: Operation, ctx: CommandContext, opts: SwitchCommandOptions): Promise<ExitCode> {
  const maxPauseMs = opts.maxPause !== undefined ? parseDuration(opts.maxPause, '--max-pause') : REPLICATION_DEFAULTS.maxPauseMs;
  const maxLagBytes = opts.maxLag !== undefined ? parseSize(opts.maxLag, '--max-lag') : REPLICATION_DEFAULTS.maxLagBytes;
  if (opts.onSwitch !== undefined && opts.blueUrl === undefined && opts.greenUrl === undefined) {
    throw badInput('--on-switch is for direct mode (--blue-url/--green-url): in AWS mode the cutover function switches the Route 53 record itself.');
  }
  const mode = await resolveMode(ctx, opts);
  const from = op === 'cutover' ? 'blue' : 'green';
  const to = otherColor(from);

  // An interrupted run is finished (or undone) without re-asking the gates: they were passed when it started.
  const status = await mode.executor.syncStatus({ maxLagBytes });
  const resuming = status.pending !== null && (status.pending.operation === 'cutover' || status.pending.operation === 'rollback');
  if (!resuming && status.active !== to) {
    if (op === 'cutover' && !opts.skipValidation) await schemaGate(mode, ctx);
    if (op === 'cutover' && opts.skipValidation) ctx.io.warn('--skip-validation: the blue application will run against green without a schema check.');
    if (op === 'rollback' && !opts.force) await trafficGate(mode, ctx);
  }
  const verb = resuming ? `Finish the interrupted ${status.pending?.operation}` : `${op === 'cutover' ? 'Cut over' : 'Roll back'} the database from ${from} to ${to}`;
  if (!(await ctx.io.confirm(`${verb}? Application writes pause for up to ${formatMs(maxPauseMs)}.`))) {
    throw refused(`The ${op} was cancelled: nothing was changed.`);
  }
  const p = progressPrinter(ctx.io);
  ctx.io.info(`${resuming ? `Resuming the interrupted ${status.pending?.operation}` : `${op === 'cutover' ? 'Cutover' : 'Rollback'} ${from} → ${to}`} (${mode.kind} mode, --max-pause ${formatMs(maxPauseMs)}):`);
  let report: SwitchReport;
  try {
    report = await mode.executor[op](
      { maxPauseMs, maxLagBytes },
      { progress: p.progress, onSwitch: mode.kind !== 'direct' ? undefined : (opts.switchHook ?? (opts.onSwitch ? shellSwitchHook(opts.onSwitch, ctx.io) : undefined)) },
    );
  } finally {
    p.stop();
  }
  ctx.io.result(report, () => renderSwitch(report));
  if (report.outcome === 'aborted') {
    ctx.io.error(report.error ?? `The ${op} was aborted.`);
    return ExitCode.Failure;
  }
  return ExitCode.Ok;
}

export function renderSwitch(r: SwitchReport): string {
  const title = r.operation === 'cutover' ? 'Cutover' : 'Rollback';
  const lines: string[] = [];
  if (r.outcome === 'noop') {
    lines.push(`${r.to} is already the active database: nothing to ${r.operation}.`);
    return lines.join('\n');
  }
  lines.push(
    r.outcome === 'completed'
      ? `${title} ${r.from} → ${r.to} completed${r.resumed ? ' (resumed)' : ''}: writes paused ${r.pauseMs === null ? 'n/a' : `${r.pauseMs} ms`}, total ${formatMs(r.durationMs)}.`
      : `${title} ${r.from} → ${r.to} ABORTED and undone: writes paused ${r.pauseMs === null ? 'n/a' : `${r.pauseMs} ms`}.`,
  );
  for (const s of r.steps) lines.push(`  ${s.step.padEnd(28)} ${String(s.ms).padStart(8)} ms${s.detail ? `  ${s.detail}` : ''}`);
  if (r.undo.length > 0) {
    lines.push('  undo:');
    for (const s of r.undo) lines.push(`  ${s.step.padEnd(28)} ${String(s.ms).padStart(8)} ms${s.detail ? `  ${s.detail}` : ''}`);
  }
  lines.push(`  LSN: fence ${r.lsn.fence ?? '-'}, drained ${r.lsn.drained ?? '-'}, reverse slot ${r.lsn.reverseSlot ?? '-'}`);
  const moved = r.sequences.filter((s) => s.to !== null);
  lines.push(`  sequences: ${moved.length} of ${r.sequences.length} set on ${r.to}${moved.length ? ` (${moved.map((s) => `${s.sequence} ${s.from} → ${s.to}`).join(', ')})` : ''}`);
  lines.push(
    r.active === r.to
      ? `${r.to} is active and writable; replication runs ${r.to} → ${r.from} (${r.operation === 'cutover' ? 'undo with `bgmig db rollback`' : 'cut over again with `bgmig db cutover`'}).`
      : `${r.from} is still active and writable; replication ${r.from} → ${r.to} is intact.`,
  );
  return lines.join('\n');
}

function switchCommand(db: Command, op: Operation): void {
  const cmd = withModeOptions(db.command(op))
    .description(
      op === 'cutover'
        ? 'make green the active database: fence blue, drain, sequences, reverse replication, switch, unfence green (undone on any failure)'
        : 'make blue the active database again: the mirror image of cutover, with forward replication re-established',
    )
    .option('--max-pause <duration>', 'longest write pause before undoing (ms, s, m)', '10s')
    .option('--max-lag <size>', 'refuse when replication lags more than this', '16MB')
    .option('--on-switch <command>', 'direct mode: shell command run at the switch (BGMIG_ACTIVE, BGMIG_ACTIVE_HOST, _PORT, _DATABASE)');
  if (op === 'cutover') cmd.option('--skip-validation', 'do not run the schema validation gate (loud warning)', false);
  else cmd.option('--force', 'AWS mode: roll back even while the green service takes traffic', false);
  cmd.addHelpText(
    'after',
    op === 'cutover'
      ? `\nExamples:\n  $ bgmig db cutover --suffix shop-prod --max-pause 5s --yes\n  $ BGMIG_BLUE_URL=postgres://… BGMIG_GREEN_URL=postgres://… bgmig db cutover --on-switch './repoint.sh' --yes`
      : `\nExamples:\n  $ bgmig rollback --suffix shop-prod && bgmig db rollback --suffix shop-prod --yes\n  $ BGMIG_BLUE_URL=postgres://… BGMIG_GREEN_URL=postgres://… bgmig db rollback --on-switch './repoint.sh' --yes`,
  );
  cmd.action(action<SwitchCommandOptions>((ctx, opts) => runSwitch(op, ctx, opts)));
}

export function register(db: Command): void {
  switchCommand(db, 'cutover');
  switchCommand(db, 'rollback');
}

