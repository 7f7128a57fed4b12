/** `bgmig db cutover` and `bgmig db rollback`: gates here (schema, traffic), the pause in the engine. */
import type { Command } from 'commander';
import { badInput, ExitCode, failure, refused } from '../../../core/errors.js';
import { quoteIdent } from '../../../db/sql.js';
import { rollbackBlockers, type RollbackBlocker, type ValidationReport } from '../../../schema/report.js';
import { otherColor } from '../../../core/naming.js';
import { formatMs, parseDuration, parseSize } from '../../../core/units.js';
import { REPLICATION_DEFAULTS, type SwitchHook, type SwitchReport } from '../../../replication/api.js';
import { action, type CommandContext } from '../../context.js';
import { progressPrinter, resolveMode, shellSwitchHook, withModeOptions, type Mode, type ModeOptions } from './common.js';
import { checkPoolerMode, clientTier, settlePoolers, withPoolerOptions, type PoolerCommandOptions } from '../../../pooler/cli.js';

export interface SwitchCommandOptions extends ModeOptions, PoolerCommandOptions {
  maxPause?: string | undefined;
  maxLag?: string | undefined;
  onSwitch?: string | undefined;
  /** Direct mode, for in-process callers (`bgmig rehearse`): the switch hook itself instead of a shell command. */
  switchHook?: SwitchHook | undefined;
  skipValidation?: boolean | undefined;
  acceptRollbackRisk?: string | undefined;
  force?: boolean | undefined;
}

type Operation = 'cutover' | 'rollback';

/**
 * The schema gate: the blue application is about to run against green, so green must be compatible. Returns the
 * report, whose rollback verdict the way-back gate weighs next. A validation that could not run (a database down,
 * credentials refused, a timeout) is an outage: exit 1 with its cause, never a hint to turn the gate off.
 */
async function schemaGate(mode: Mode, ctx: CommandContext): Promise<ValidationReport> {
  let r: ValidationReport;
  if (mode.kind === 'direct') {
    const { validateDatabases } = await import('../../../schema/validate.js');
    r = await validateDatabases(mode.targets.blue, mode.targets.green, { excludeSchemas: ['bgmig'] });
  } else {
    const [{ requireStack }, { invokeValidator }] = await Promise.all([import('../../stack.js'), import('../../validation.js')]);
    r = await invokeValidator(ctx.aws, await requireStack(ctx.aws, mode.suffix), { excludeSchemas: ['bgmig'] });
  }
  const breaking = r.differences.filter((d) => d.severity === 'breaking').length;
  if (r.verdict === 'incompatible') {
    throw refused(
      `The schema validation is incompatible (${breaking} breaking difference(s)): the blue application would break on green — see \`bgmig validate\`, fix green's schema, or pass --skip-validation if you accept it.`,
    );
  }
  if (r.verdict !== 'compatible') {
    throw failure(`The schema validation could not run (${r.error ?? r.verdict}): nothing was changed — fix that and run the cutover again.`);
  }
  ctx.io.info('  ✓ schema validation: compatible');
  return r;
}

/** `schema.table.column` as the operator names a rollback blocker in --accept-rollback-risk. */
export function blockerName(b: RollbackBlocker): string {
  return b.column === null ? b.table : `${b.table}.${quoteIdent(b.column)}`;
}

/**
 * Pure: the way-back decision before a cutover. Every column whose values green may write but blue cannot hold
 * (the validator's rollback verdict) must be listed in --accept-rollback-risk, or the cutover is refused; an
 * accepted name that is not a blocker is bad input (a typo must not pass as acceptance).
 */
export function decideRollbackRisk(
  blockers: RollbackBlocker[],
  accepted: readonly string[],
): { refuse: RollbackBlocker[]; accepted: string[]; unknown: string[] } {
  const names = new Set(blockers.map(blockerName));
  const acc = new Set(accepted.map((a) => a.trim()).filter((a) => a.length > 0));
  return {
    refuse: blockers.filter((b) => !acc.has(blockerName(b))),
    accepted: [...acc].filter((a) => names.has(a)).sort(),
    unknown: [...acc].filter((a) => !names.has(a)).sort(),
  };
}

/**
 * The way back, checked before the way forward: after the cutover green's writes replicate to blue, and a value
 * blue's schema cannot hold stops that stream and with it every rollback. Returns the accepted column names (for
 * the engine's report and the audit record).
 */
function rollbackGate(report: ValidationReport, ctx: CommandContext, acceptOpt: string | undefined): string[] {
  const blockers = rollbackBlockers(report);
  const accepted = (acceptOpt ?? '').split(',');
  if (blockers === undefined) {
    throw failure(
      'The schema validation did not judge the way back (no rollback verdict in its report): nothing was changed — update the validator function (`bgmig deploy`) and run the cutover again.',
    );
  }
  const d = decideRollbackRisk(blockers, accepted);
  if (d.unknown.length > 0) {
    throw badInput(
      `--accept-rollback-risk names ${d.unknown.join(', ')}, which ${d.unknown.length > 1 ? 'do' : 'does'} not block rollback${blockers.length > 0 ? ` (the blockers are ${blockers.map(blockerName).join(', ')})` : ' (nothing does)'}: list exactly the columns the cutover reports.`,
    );
  }
  if (d.refuse.length > 0) {
    const list = d.refuse.map((b) => `${blockerName(b)} (${b.sentence.replace(/\.$/, '')})`).join('; ');
    throw refused(
      `Rollback after this cutover becomes impossible once green writes what blue cannot hold: ${list} — widen these on blue first, or accept it with --accept-rollback-risk ${d.refuse.map(blockerName).join(',')}.`,
      { rollbackBlockers: d.refuse },
    );
  }
  if (d.accepted.length > 0) ctx.io.warn(`accepted rollback risk: once green writes them, ${d.accepted.join(', ')} stop reverse replication and rollback.`);
  else ctx.io.info('  ✓ way back: blue can hold everything green may write');
  return d.accepted;
}

/** AWS mode rollback: the green application may need green's schema, so not while green takes traffic. */
async function trafficGate(mode: Mode, ctx: CommandContext): Promise<void> {
  if (mode.kind !== 'aws') return;
  const [{ requireStack }, { readWeights, trafficTarget }] = await Promise.all([import('../../stack.js'), import('../../traffic.js')]);
  const w = await readWeights(ctx.aws, trafficTarget(await requireStack(ctx.aws, mode.suffix)));
  if (w.green > 0) {
    throw refused(
      `The green service takes ${w.green} % of traffic and may need green's schema: move traffic back first (\`bgmig rollback\`), or pass --force.`,
    );
  }
}

export async function runSwitch(op: Operation, ctx: CommandContext, opts: SwitchCommandOptions): Promise<ExitCode> {
  const maxPauseMs = opts.maxPause !== undefined ? parseDuration(opts.maxPause, '--max-pause') : REPLICATION_DEFAULTS.maxPauseMs;
  const maxLagBytes = opts.maxLag !== undefined ? parseSize(opts.maxLag, '--max-lag') : REPLICATION_DEFAULTS.maxLagBytes;
  if (opts.onSwitch !== undefined && opts.blueUrl === undefined && opts.greenUrl === undefined) {
    throw badInput('--on-switch is for direct mode (--blue-url/--green-url): in AWS mode the cutover function switches the Route 53 record itself.');
  }
  const mode = await resolveMode(ctx, opts);
  checkPoolerMode(opts, mode.kind === 'direct');
  const poolerPauseMs = opts.poolerPauseTimeout !== undefined ? parseDuration(opts.poolerPauseTimeout, '--pooler-pause-timeout') : undefined;
  const from = op === 'cutover' ? 'blue' : 'green';
  const to = otherColor(from);

  // An interrupted run is finished (or undone) without re-asking the gates: they were passed when it started.
  const status = await mode.executor.syncStatus({ maxLagBytes });
  const resuming = status.pending !== null && (status.pending.operation === 'cutover' || status.pending.operation === 'rollback');
  let acceptedRollbackRisk: string[] = [];
  if (!resuming && status.active !== to) {
    if (op === 'cutover' && !opts.skipValidation) acceptedRollbackRisk = rollbackGate(await schemaGate(mode, ctx), ctx, opts.acceptRollbackRisk);
    if (op === 'cutover' && opts.skipValidation) {
      ctx.io.warn('--skip-validation: the blue application will run against green without a schema check, and the way back is not checked.');
      if (opts.acceptRollbackRisk !== undefined) ctx.io.warn('--accept-rollback-risk has no effect with --skip-validation: no rollback verdict is judged.');
    }
    if (op === 'rollback' && !opts.force) await trafficGate(mode, ctx);
  }
  const verb = resuming
    ? `Finish the interrupted ${status.pending?.operation}`
    : `${op === 'cutover' ? 'Cut over' : 'Roll back'} the database from ${from} to ${to}`;
  // Poolers that cannot take part are refused here (exit 3), before anything is changed.
  if (mode.kind === 'direct') await clientTier(opts, mode.targets, poolerPauseMs)?.preflight();
  if (!(await ctx.io.confirm(`${verb}? Application writes pause for up to ${formatMs(maxPauseMs)}.`))) {
    throw refused(`The ${op} was cancelled: nothing was changed.`);
  }
  const p = progressPrinter(ctx.io);
  ctx.io.info(
    `${resuming ? `Resuming the interrupted ${status.pending?.operation}` : `${op === 'cutover' ? 'Cutover' : 'Rollback'} ${from} → ${to}`} (${mode.kind} mode, --max-pause ${formatMs(maxPauseMs)}):`,
  );
  let report: SwitchReport;
  try {
    report = await mode.executor[op](
      { maxPauseMs, maxLagBytes, ...(acceptedRollbackRisk.length > 0 ? { acceptedRollbackRisk } : {}) },
      {
        progress: p.progress,
        onSwitch: mode.kind !== 'direct' ? undefined : (opts.switchHook ?? (opts.onSwitch ? shellSwitchHook(opts.onSwitch, ctx.io) : undefined)),
        clients: mode.kind === 'direct' ? clientTier(opts, mode.targets, poolerPauseMs, p.progress) : undefined,
      },
    );
  } finally {
    p.stop();
  }
  // Poolers an earlier (killed) run left held are released onto whichever side is active now.
  if (mode.kind === 'direct')
    await settlePoolers(opts, mode.targets, report.active, (level, text) => (level === 'warn' ? ctx.io.warn(text) : ctx.io.info(`  ${text}`)));
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
  if (r.clientsFollowMs != null)
    lines.push(`  clients on ${r.to} ${r.clientsFollowMs} ms after the fence${r.holdMs != null ? ` (client queries held by the poolers ${r.holdMs} ms)` : ''}`);
  lines.push(`  LSN: fence ${r.lsn.fence ?? '-'}, drained ${r.lsn.drained ?? '-'}, reverse slot ${r.lsn.reverseSlot ?? '-'}`);
  const moved = r.sequences.filter((s) => s.to !== null);
  lines.push(
    `  sequences: ${moved.length} of ${r.sequences.length} set on ${r.to}${moved.length ? ` (${moved.map((s) => `${s.sequence}${s.source ? ` (continues ${s.source})` : ''} ${s.from} → ${s.to}`).join(', ')})` : ''}`,
  );
  if (r.acceptedRollbackRisk && r.acceptedRollbackRisk.length > 0) lines.push(`  accepted rollback risk: ${r.acceptedRollbackRisk.join(', ')}`);
  lines.push(
    r.active === r.to
      ? `${r.to} is active and writable; replication runs ${r.to} → ${r.from} (${r.operation === 'cutover' ? 'undo with `bgmig db rollback`' : 'cut over again with `bgmig db cutover`'}).`
      : `${r.from} is still active and writable; replication ${r.from} → ${r.to} is intact.`,
  );
  return lines.join('\n');
}

function switchCommand(db: Command, op: Operation): void {
  const cmd = withPoolerOptions(withModeOptions(db.command(op)), { switch: true })
    .description(
      op === 'cutover'
        ? 'make green the active database: [hold poolers,] fence blue, drain, sequences, reverse replication, unfence green, then the switch (undone on any failure before the unfence)'
        : 'make blue the active database again: the mirror image of cutover, with forward replication re-established',
    )
    .option('--max-pause <duration>', 'longest write pause before undoing (ms, s, m)', '10s')
    .option('--max-lag <size>', 'refuse when replication lags more than this', '16MB')
    .option('--on-switch <command>', 'direct mode: shell command run at the switch (BGMIG_ACTIVE, BGMIG_ACTIVE_HOST, _PORT, _DATABASE)');
  if (op === 'cutover') {
    cmd.option('--skip-validation', 'do not run the schema validation gate (loud warning)', false);
    cmd.option(
      '--accept-rollback-risk <columns>',
      'comma-separated columns (schema.table.column) whose green values blue cannot hold: accept that rollback stops once green writes them (recorded in the report)',
    );
  } else cmd.option('--force', 'AWS mode: roll back even while the green service takes traffic', false);
  cmd.addHelpText(
    'after',
    op === 'cutover'
      ? `\nExamples:\n  $ bgmig db cutover --suffix shop-prod --max-pause 5s --yes\n  $ BGMIG_BLUE_URL=postgres://… BGMIG_GREEN_URL=postgres://… bgmig db cutover --on-switch './repoint.sh' --yes\n  $ BGMIG_POOLER_PASSWORD=… bgmig db cutover --pooler postgres://pgbouncer@pool-a:6432/pgbouncer --pooler postgres://pgbouncer@pool-b:6432/pgbouncer --yes\n  $ bgmig db cutover --suffix shop-prod --accept-rollback-risk public.ticket.subject,public.ticket.state --yes   # after reading what blocks the way back`
      : `\nExamples:\n  $ bgmig rollback --suffix shop-prod && bgmig db rollback --suffix shop-prod --yes\n  $ BGMIG_BLUE_URL=postgres://… BGMIG_GREEN_URL=postgres://… bgmig db rollback --on-switch './repoint.sh' --yes`,
  );
  cmd.action(action<SwitchCommandOptions>((ctx, opts) => runSwitch(op, ctx, opts)));
}

export function register(db: Command): void {
  switchCommand(db, 'cutover');
  switchCommand(db, 'rollback');
}
