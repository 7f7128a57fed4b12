/**
 * What `bgmig db cutover` (./cutover.ts) and `bgmig db rollback` (./rollback.ts) share: their flags, the gates the
 * CLI asks before the engine's pause (the schema gate and the way back for a cutover, the traffic gate for a
 * rollback), and the one run of a switchover (the pause itself is the engine's: src/replication/switchover.ts).
 * The result is the engine's SwitchReport; an aborted run is exit 1 with its cause on stderr.
 */
import type { Command } from 'commander';
import { badInput, ExitCode, failure, refused } from '../../../core/errors.js';
import { otherColor } from '../../../core/naming.js';
import { formatMs, parseDuration, parseSize } from '../../../core/units.js';
import { quoteIdent } from '../../../db/sql.js';
import { checkPoolerMode, clientTier, type PoolerCommandOptions, settlePoolers, withPoolerOptions } from '../../../pooler/cli.js';
import { REPLICATION_DEFAULTS, type SwitchHook, type SwitchReport } from '../../../replication/api.js';
import type { RollbackBlocker, ValidationReport } from '../../../schema/report.js';
import { type SchemaVerdict, schemaVerdict } from '../../../schema/verdict.js';
import type { Io } from '../../io.js';
import type { FailureOf } from '../../verb.js';
import { type DbDeps, type Mode, type ModeFlags, resolveMode, shellSwitchHook, type Where, whereOf, withModeOptions, withProgress } from './common.js';

export type Operation = 'cutover' | 'rollback';

/** The flags both switchover verbs take, as commander gives them. */
export interface SwitchoverFlags extends ModeFlags, PoolerCommandOptions {
  maxPause?: string | undefined;
  maxLag?: string | undefined;
  onSwitch?: string | undefined;
}

/** What both switchover verbs' flags mean, parsed and checked. */
export interface SwitchoverCommandOptions {
  where: Where;
  /** --max-pause in ms (default 10 s). */
  maxPauseMs: number;
  /** --max-lag in bytes (default 16 MiB). */
  maxLagBytes: number;
  /** Direct mode: the shell command run at the switch. */
  onSwitch?: string | undefined;
  /** Direct mode, for in-process callers (`bgmig rehearse`): the switch hook itself instead of a shell command. */
  switchHook?: SwitchHook | undefined;
  /** Direct mode: PgBouncer admin URLs (--pooler / BGMIG_POOLER_URLS). */
  pooler?: string[] | undefined;
  /** --pooler-pause-timeout in ms (undefined: the pooler tier's default). */
  poolerPauseMs?: number | undefined;
}

/**
 * Parses the shared flags (exit 2, one sentence, in this order): --max-pause, --max-lag, --on-switch outside direct
 * mode, where the databases are, --pooler outside direct mode, --pooler-pause-timeout. Nothing is reached.
 */
export function parseSwitchoverFlags(flags: SwitchoverFlags, suffix: string | undefined): SwitchoverCommandOptions {
  const maxPauseMs = flags.maxPause !== undefined ? parseDuration(flags.maxPause, '--max-pause') : REPLICATION_DEFAULTS.maxPauseMs;
  const maxLagBytes = flags.maxLag !== undefined ? parseSize(flags.maxLag, '--max-lag') : REPLICATION_DEFAULTS.maxLagBytes;
  if (flags.onSwitch !== undefined && flags.blueUrl === undefined && flags.greenUrl === undefined) {
    throw badInput('--on-switch is for direct mode (--blue-url/--green-url): in AWS mode the cutover function switches the Route 53 record itself.');
  }
  const where = whereOf(flags, suffix);
  checkPoolerMode(flags, where.kind === 'direct');
  const poolerPauseMs = flags.poolerPauseTimeout !== undefined ? parseDuration(flags.poolerPauseTimeout, '--pooler-pause-timeout') : undefined;
  return {
    where,
    maxPauseMs,
    maxLagBytes,
    ...(flags.onSwitch !== undefined ? { onSwitch: flags.onSwitch } : {}),
    ...(flags.pooler !== undefined ? { pooler: flags.pooler } : {}),
    ...(poolerPauseMs !== undefined ? { poolerPauseMs } : {}),
  };
}

/** The command with the shared flags (mode, poolers, --max-pause, --max-lag, --on-switch). */
export function switchoverCommand(db: Command, op: Operation, description: string): Command {
  return withPoolerOptions(withModeOptions(db.command(op)), { switch: true })
    .description(description)
    .option('--max-pause <duration>', 'longest write pause before undoing (ms, s, m)', '10s')
    .option('--max-lag <size>', 'refuse when replication lags more than this', '16MB')
    .option('--on-switch <command>', 'direct mode: shell command run at the switch (BGMIG_ACTIVE, BGMIG_ACTIVE_HOST, _PORT, _DATABASE)');
}

/**
 * The schema gate: the blue application is about to run against green, so green must be compatible. Returns the
 * report read once through schemaVerdict (src/schema/verdict.ts), whose rollback blockers the way-back gate weighs next. A validation that could not run (a database down,
 * credentials refused, a timeout) is an outage: exit 1 with its cause, never a hint to turn the gate off.
 */
async function schemaGate(mode: Mode, deps: DbDeps): Promise<SchemaVerdict> {
  let r: ValidationReport;
  if (mode.kind === 'direct') {
    const { validateDatabases } = await import('../../../schema/validate.js');
    r = await validateDatabases(mode.targets.blue, mode.targets.green, { excludeSchemas: ['bgmig'] });
  } else {
    const [{ requireStack }, { invokeValidator }] = await Promise.all([import('../../../deployed/stack.js'), import('../../../remote/validator-client.js')]);
    r = await invokeValidator(deps.aws, await requireStack(deps.aws, mode.suffix), { excludeSchemas: ['bgmig'] });
  }
  const v = schemaVerdict(r);
  if (v.verdict === 'incompatible') {
    throw refused(
      `The schema validation is incompatible (${v.totals.breaking} breaking difference(s)): the blue application would break on green — see \`bgmig validate\`, fix green's schema, or pass --skip-validation if you accept it.`,
    );
  }
  if (v.verdict !== 'compatible') {
    throw failure(`The schema validation could not run (${r.error ?? r.verdict}): nothing was changed — fix that and run the cutover again.`);
  }
  deps.io.info('  ✓ schema validation: compatible');
  return v;
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
function rollbackGate(v: SchemaVerdict, io: Io, accepted: readonly string[]): string[] {
  const blockers = v.blockers;
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
  if (d.accepted.length > 0) io.warn(`accepted rollback risk: once green writes them, ${d.accepted.join(', ')} stop reverse replication and rollback.`);
  else io.info('  ✓ way back: blue can hold everything green may write');
  return d.accepted;
}

/** AWS mode rollback: the green application may need green's schema, so not while green takes traffic. */
async function trafficGate(mode: Mode, deps: DbDeps): Promise<void> {
  if (mode.kind !== 'aws') return;
  const [{ requireStack }, { readWeights, trafficTarget }] = await Promise.all([import('../../../deployed/stack.js'), import('../../../deployed/traffic.js')]);
  const w = await readWeights(deps.aws, trafficTarget(await requireStack(deps.aws, mode.suffix)));
  if (w.green > 0) {
    throw refused(
      `The green service takes ${w.green} % of traffic and may need green's schema: move traffic back first (\`bgmig rollback\`), or pass --force.`,
    );
  }
}

/** The gates of one verb, asked unless an interrupted run is being finished or the target side is already active. */
export type Gates = { op: 'cutover'; skipValidation: boolean; acceptRollbackRisk?: string[] | undefined } | { op: 'rollback'; force: boolean };

/** Asks the verb's gates; returns the rollback risk the operator accepted (cutover only). */
async function askGates(gates: Gates, mode: Mode, deps: DbDeps): Promise<string[]> {
  if (gates.op === 'rollback') {
    if (!gates.force) await trafficGate(mode, deps);
    return [];
  }
  if (!gates.skipValidation) return rollbackGate(await schemaGate(mode, deps), deps.io, gates.acceptRollbackRisk ?? []);
  deps.io.warn('--skip-validation: the blue application will run against green without a schema check, and the way back is not checked.');
  if (gates.acceptRollbackRisk !== undefined) deps.io.warn('--accept-rollback-risk has no effect with --skip-validation: no rollback verdict is judged.');
  return [];
}

/**
 * One switchover: resume check, the verb's gates, pooler preflight, the confirmation, the engine's run, then held
 * poolers released. Returns the engine's report (an aborted run too: its exit code is 1, see switchoverExitCode).
 * Throws bad input (exit 2), refused (3: a gate, a cancelled prompt, a pooler that cannot take part) or a failure (1).
 */
export async function runSwitchover(opts: SwitchoverCommandOptions, gates: Gates, deps: DbDeps): Promise<SwitchReport> {
  const { io } = deps;
  const { op } = gates;
  const { maxPauseMs, maxLagBytes } = opts;
  const mode = await resolveMode(opts.where, deps.aws);
  const from = op === 'cutover' ? 'blue' : 'green';
  const to = otherColor(from);

  // An interrupted run is finished (or undone) without re-asking the gates: they were passed when it started.
  const status = await mode.executor.syncStatus({ maxLagBytes });
  const resuming = status.pending !== null && (status.pending.operation === 'cutover' || status.pending.operation === 'rollback');
  const acceptedRollbackRisk = !resuming && status.active !== to ? await askGates(gates, mode, deps) : [];
  const verb = resuming
    ? `Finish the interrupted ${status.pending?.operation}`
    : `${op === 'cutover' ? 'Cut over' : 'Roll back'} the database from ${from} to ${to}`;
  // Poolers that cannot take part are refused here (exit 3), before anything is changed.
  if (mode.kind === 'direct') await clientTier(opts, mode.targets, opts.poolerPauseMs)?.preflight();
  if (!(await io.confirm(`${verb}? Application writes pause for up to ${formatMs(maxPauseMs)}.`))) {
    throw refused(`The ${op} was cancelled: nothing was changed.`);
  }
  io.info(
    `${resuming ? `Resuming the interrupted ${status.pending?.operation}` : `${op === 'cutover' ? 'Cutover' : 'Rollback'} ${from} → ${to}`} (${mode.kind} mode, --max-pause ${formatMs(maxPauseMs)}):`,
  );
  const report = await withProgress(io, (progress) =>
    mode.executor[op](
      { maxPauseMs, maxLagBytes, ...(acceptedRollbackRisk.length > 0 ? { acceptedRollbackRisk } : {}) },
      {
        progress,
        onSwitch: mode.kind !== 'direct' ? undefined : (opts.switchHook ?? (opts.onSwitch ? shellSwitchHook(opts.onSwitch, io) : undefined)),
        clients: mode.kind === 'direct' ? clientTier(opts, mode.targets, opts.poolerPauseMs, progress) : undefined,
      },
    ),
  );
  // Poolers an earlier (killed) run left held are released onto whichever side is active now.
  if (mode.kind === 'direct')
    await settlePoolers(opts, mode.targets, report.active, (level, text) => (level === 'warn' ? io.warn(text) : io.info(`  ${text}`)));
  return report;
}

/** 1 when the run aborted (undone, the old side still active), else 0. */
export function switchoverExitCode(r: SwitchReport): ExitCode {
  return r.outcome === 'aborted' ? ExitCode.Failure : ExitCode.Ok;
}

/**
 * An aborted run is a failure as well as a result: its one sentence (stderr; the --json error document's message,
 * code "switch-aborted", the report in details.report), else undefined.
 */
export const abortFailure: FailureOf<SwitchReport> = {
  sentence: (r) => (r.outcome === 'aborted' ? (r.error ?? `The ${r.operation} was aborted.`) : undefined),
  code: 'switch-aborted',
};

/** Human text of a switchover report (plain; the words the operator and the docs know). */
export function renderSwitchReport(r: SwitchReport): string {
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
