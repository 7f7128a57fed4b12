/**
 * `bgmig promote`: move traffic to green.
 * - `--weight N`: one step — green N %, blue 100 − N, in one verified ModifyListener call. Raising green's share
 *   takes the rollout lease and passes three gates in order: (1) schema validation compatible, (2) green's targets
 *   healthy, (3) no green alarm firing. Lowering it is a move toward safety: no gate, no lease (journaled).
 * - `--steps 10,25,50,100 --bake 5m [--interval 15s]`: a rollout (src/rollout/run.ts) — gates and verified
 *   weights per step, then a bake with a check every interval; any failing check rolls back (exit 3).
 * - `--resume`: continues the newest held rollout from the journal. `--force-unlock`: removes a stale lease.
 *
 * The verb shape (src/cli/verb.ts) over four forms: `runPromote` returns a `PromoteOutcome` — which form ran and the
 * document it prints — `renderPromote` renders it and `exitCodeOf` maps it (a held rollout is 3). Two departures,
 * both kept from before the shape: a rollout streams its progress while it runs (NDJSON events with --json, one line
 * per event otherwise) through `deps.io`, and its final document is then one compact JSON line like the events, so
 * the default action writes through `emitPromote` rather than `emit`; and the rollout's Ctrl-C / SIGTERM handling
 * (hold or roll back at the next safe point) lives in that default action, not in `register`.
 */
import type { AwsPorts } from '../../aws/ports.js';
import { hostname } from 'node:os';
import type { ChalkInstance } from 'chalk';
import type { Command } from 'commander';
import { isAwsError } from '../../core/aws-error.js';
import type { Weights } from '../../core/config.js';
import { type BgmigError, badInput, ExitCode, failure, refused } from '../../core/errors.js';
import { exclusive } from '../flag-rules.js';
import { formatMs, parseDuration } from '../../core/units.js';
import { type GateResult, type GateVerdict, judgeGates } from '../../rollout/gates.js';
import { acquireLease, forceUnlock, type HeldLease, releaseLease } from '../../rollout/lease.js';
import { DEFAULT_THRESHOLDS, gatesRequired, type LeaseBody, leaseTtlMs, parseSteps, type RolloutPlan, type Thresholds } from '../../rollout/plan.js';
import type { RolloutEvent, RolloutResult, StepGates } from '../../rollout/run.js';
import type { TrafficSession } from '../../rollout/session.js';
import type { ValidationReport } from '../../schema/report.js';
import { action, type CommandContext, parseIntStrict, toBgmigError } from '../context.js';
import { alarmNamesOf, alarmStates, targetHealth } from '../../deployed/health.js';
import type { Io } from '../io.js';
import { readActiveCluster, type ActiveCluster } from '../../deployed/live-state.js';
import { requireStack, type StackInfo } from '../../deployed/stack.js';
import { formatWeights, readWeights, trafficTarget, weightBar, type WriteResult, writeWeights } from '../../deployed/traffic.js';
import { invokeValidator } from '../../remote/validator-client.js';
import { readLatestReport } from '../../remote/validator-client.js';
import type { RunF } from '../verb.js';

export interface PromoteOptions {
  suffix: string;
  /** Green's new share, an integer 0–100 (already validated; see parseWeight). One-step form. */
  weight?: number | undefined;
  /** Rollout form: green's share per step (parseSteps). */
  steps?: number[] | undefined;
  /** Milliseconds to watch each step (0 = no waiting). */
  bakeMs?: number | undefined;
  /** Milliseconds between checks during a bake. */
  intervalMs?: number | undefined;
  thresholds?: Partial<Thresholds> | undefined;
  onInterrupt?: 'hold' | 'rollback' | undefined;
  /** false (--no-guard): disable the rollback guard's rule while this promote runs. */
  guard?: boolean | undefined;
  resume?: boolean | undefined;
  forceUnlock?: boolean | undefined;
  skipValidation?: boolean;
  /** Run the validator now even when a report exists. */
  validate?: boolean;
  dryRun?: boolean;
  /** Aborted on Ctrl-C / SIGTERM (the rollout holds or rolls back). */
  signal?: AbortSignal | undefined;
  /** Rollout options given with --resume, which continues with the journaled plan (they are ignored, with a warning). */
  ignoredWithResume?: string[] | undefined;
}

/** The one-step document (--weight, with or without --dry-run). */
export interface PromoteResult {
  stack: string;
  dryRun: boolean;
  before: Weights;
  after: Weights;
  changed: boolean;
  gates: GateResult[];
  /** Why no gate ran (lowering green's share), when none did. */
  gatesNote?: string | undefined;
  activeDatabase?: ActiveCluster | undefined;
}

/** The document of `--steps … --dry-run`: the first step's gates passed, nothing moved. */
export interface RolloutDryRunResult {
  stack: string;
  dryRun: true;
  before: Weights;
  plan: RolloutPlan;
  gates: GateResult[];
}

/** The document of `--force-unlock`: the lease removed, or null when none was held. */
export interface ForceUnlockResult {
  stack: string;
  removed: LeaseBody | null;
}

/** Which form ran, and the document it prints (`doc` is exactly the --json output). */
export type PromoteOutcome =
  | { form: 'weight'; doc: PromoteResult }
  | { form: 'rollout-dry-run'; doc: RolloutDryRunResult }
  | { form: 'rollout'; doc: RolloutResult }
  | { form: 'force-unlock'; doc: ForceUnlockResult };

export function parseWeight(value: string): number {
  return parseIntStrict(value, '--weight', 0, 100);
}

/** `--bake 0` is a stepped promote without waiting; anything else is a duration (250ms, 15s, 5m). */
export function parseBake(value: string): number {
  return value.trim() === '0' ? 0 : parseDuration(value, '--bake');
}

function parseRatio(value: string, option: string, min: number): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value.trim()) || !Number.isFinite(n) || n < min) throw badInput(`${option} must be a number of at least ${min}, got "${value}".`);
  return n;
}

function parsePercent(value: string, option: string): number {
  const n = Number(value.replace(/%$/, ''));
  if (!/^\d+(\.\d+)?%?$/.test(value.trim()) || n > 100) throw badInput(`${option} must be a percentage from 0 to 100, got "${value}".`);
  return n / 100;
}

const LATENCY_STAT = /^(p\d{1,2}(\.\d+)?|Average|Maximum|Minimum)$/;

/** The gates' inputs, read in parallel; the validator runs only when there is no report or it is asked. */
async function gateVerdict(
  aws: AwsPorts,
  io: Io,
  stack: StackInfo,
  opts: { skipValidation?: boolean | undefined; validate?: boolean | undefined },
): Promise<GateVerdict & { report?: ValidationReport | undefined }> {
  const target = trafficTarget(stack);
  const readGreen = () => Promise.all([targetHealth(aws, target.targetGroupArn.green), alarmStates(aws, alarmNamesOf(stack, 'green'))]);
  const [report0, green] = await Promise.all([opts.skipValidation || opts.validate ? Promise.resolve(undefined) : readLatestReport(aws, stack), readGreen()]);
  let [health, alarms] = green;
  let report = report0;
  if (!opts.skipValidation && !report) {
    io.info(opts.validate ? 'Running schema validation now (--validate)…' : 'No validation report yet: running schema validation now…');
    report = await invokeValidator(aws, stack).catch((e: unknown) => {
      if (!isAwsError(e, 'ResourceNotFoundException')) throw e;
      throw failure(
        `There is no validation report and the validator function ${stack.outputs.ValidatorFunctionName ?? ''} is not deployed: redeploy with \`bgmig deploy\`, then run \`bgmig validate\`.`,
        e,
      );
    });
    // A validation run can take a while: judge green's health and alarms as they are now, not as before it.
    [health, alarms] = await readGreen();
  }
  return { ...judgeGates({ report, skipValidation: Boolean(opts.skipValidation), health, alarms }), report };
}

/**
 * The error a gate verdict stops promote with: an outage (a gate that could not be judged) is a failure, exit 1,
 * naming the cause and the fix; a refusal is exit 3. Both carry the gates and weights in details.
 */
function refusalOf(v: GateVerdict, before: Weights, desired: Weights): BgmigError | undefined {
  if (v.outage) {
    return failure(`Promote stopped: the ${v.outage.gate} gate could not be judged: ${v.outage.detail} — ${v.outage.todo}.`, undefined, {
      gates: v.gates,
      before,
      desired,
    });
  }
  if (!v.refusal) return undefined;
  return refused(`Promote refused by the ${v.refusal.gate} gate: ${v.refusal.detail} — ${v.refusal.todo}.`, { gates: v.gates, before, desired });
}

const gateLine = (st: ChalkInstance, g: GateResult) => `  ${g.status === 'skipped' ? st.yellow('!') : st.green('✔')} ${g.gate}: ${g.detail}`;

/** The lease a one-step raise holds while it writes (a rollout in progress refuses it). */
async function takeStepLease(s: TrafficSession, s3: AwsPorts['objects'], weight: number): Promise<HeldLease> {
  const who = await s.caller();
  const now = Date.now();
  const ttl = leaseTtlMs(15_000);
  return (
    await acquireLease(
      s3,
      s.bucket,
      {
        rolloutId: `weight-${weight}`,
        holder: who,
        host: hostname(),
        pid: process.pid,
        acquiredAt: new Date(now).toISOString(),
        renewedAt: new Date(now).toISOString(),
        expiresAt: new Date(now + ttl).toISOString(),
        step: 1,
        steps: 1,
        green: weight,
      },
      now,
    )
  ).lease;
}

/**
 * One step to green `opts.weight` %: gates when the share rises (refusal: BgmigError exit 3), the lease while
 * writing, a verified write, a journal record. Returns the document; a dry run stops after the gates.
 */
async function runOneStep(opts: PromoteOptions & { weight: number }, io: Io, aws: AwsPorts, s: TrafficSession): Promise<PromoteResult> {
  const { stack, target } = { stack: s.stack, target: s.target };
  const desired: Weights = { blue: 100 - opts.weight, green: opts.weight };
  const before = await readWeights(aws, target);
  const need = gatesRequired(before, desired);
  let gates: GateResult[] = [];
  let validation: { verdict: string; generatedAt: string } | undefined;
  let held: HeldLease | undefined;
  const s3 = aws.objects;

  if (opts.skipValidation && need.required) {
    io.warn(
      io.style.bold(
        '--skip-validation: the schema gate is OFF. Green may be incompatible with the blue application; you are moving traffic without that check.',
      ),
    );
  }
  if (need.required) {
    const v = await gateVerdict(aws, io, stack, opts);
    for (const m of v.missingAlarms.length ? [v.missingAlarms] : [])
      io.warn(`green alarm(s) ${m.join(', ')} do not exist in CloudWatch: redeploy to restore them.`);
    const refusal = refusalOf(v, before, desired);
    if (refusal) throw refusal;
    gates = v.gates;
    if (v.report) validation = { verdict: v.report.verdict, generatedAt: v.report.generatedAt };
  }
  const gatesNote = need.required ? {} : { gatesNote: need.reason };
  if (opts.dryRun) return { stack: stack.name, dryRun: true, before, after: desired, changed: false, gates, ...gatesNote };

  // Raising green's share takes the lease (a rollout in progress refuses it); lowering never waits for anyone.
  if (need.required) held = await takeStepLease(s, s3, opts.weight);
  let res: WriteResult;
  try {
    res = await writeWeights(aws, target, desired, { expected: before });
  } finally {
    if (held) await releaseLease(s3, s.bucket, held).catch(() => false);
  }
  await s.record({
    kind: 'promote',
    from: res.before,
    to: res.after,
    gates,
    validation,
    summary: `bgmig promote --weight ${opts.weight}: ${formatWeights(res.before)} → ${formatWeights(res.after)}${res.changed ? ' (verified)' : ' (already set)'}${need.required ? '' : `; ${need.reason}`}`,
  });
  // Traffic has moved and was verified: a problem reading the db record must not turn that into a failure.
  let db: ActiveCluster | undefined;
  try {
    db = await readActiveCluster(aws, stack);
  } catch (e) {
    io.warn(`traffic moved, but which database both colours use is unknown: ${toBgmigError(e, { aws }).message}`);
  }
  return { stack: stack.name, dryRun: false, before: res.before, after: res.after, changed: res.changed, gates, ...gatesNote, activeDatabase: db };
}

/** Renders rollout progress: NDJSON with --json, one plain line per event otherwise (a TTY redraws the check line). */
function progressRenderer(io: Io): (e: RolloutEvent) => void {
  let checkLineOpen = false;
  const line = (text: string) => {
    if (checkLineOpen) io.humanStream.write('\n');
    checkLineOpen = false;
    io.info(text);
  };
  return (e) => {
    if (io.json) {
      io.streams.stdout.write(`${JSON.stringify(e)}\n`);
      return;
    }
    const st = io.style;
    switch (e.event) {
      case 'start':
        line(
          `Rollout ${e.rolloutId}${e.resumed ? ' (resumed)' : ''}: steps ${e.plan.steps.join(', ')} %, bake ${formatMs(e.plan.bakeMs)}, checks every ${formatMs(e.plan.intervalMs)}; now ${formatWeights(e.live)}${e.skipped.length ? ` (skipping ${e.skipped.join(', ')})` : ''}`,
        );
        return;
      case 'gates':
        line(`Step ${e.step}/${e.of} gates: ${e.gates.map((g) => `${g.gate} ${g.status}`).join(', ')}`);
        return;
      case 'step':
        line(`${st.green('✔')} Step ${e.step}/${e.of}: ${formatWeights(e.from)} → ${formatWeights(e.to)} (verified in ${e.verifyMs} ms)`);
        return;
      case 'check': {
        const text = `  step ${e.step}/${e.of} bake ${formatMs(e.bakeRemainingMs)} left — ${e.status}${e.inconclusiveStreak ? ` (${e.inconclusiveStreak} inconclusive in a row)` : ''}: ${e.checks
          .filter((c) => c.check === '5xx-ratio' || c.check === 'latency-ratio' || c.status !== 'pass')
          .map((c) => `${c.check} ${c.detail}`)
          .join('; ')}`;
        if (io.interactive) {
          io.humanStream.write(`\r\x1b[2K${text.slice(0, (io.streams.stdout.columns ?? 160) - 1)}`);
          checkLineOpen = true;
        } else io.info(text);
        return;
      }
      case 'baked':
        line(`${st.green('✔')} Step ${e.step}/${e.of} baked: every check passed`);
        return;
      case 'rollback':
        line(`${st.red('✘')} Step ${e.step}/${e.of}: ${e.check.check} ${e.check.status} — rolled back ${formatWeights(e.from)} → ${formatWeights(e.to)}`);
        return;
      case 'stopped':
        line(`${st.yellow('■')} Step ${e.step}/${e.of}: ${e.check.detail}`);
        return;
      case 'interrupted':
        line(`${st.yellow('■')} Interrupted at step ${e.step}/${e.of}: ${e.action === 'hold' ? 'holding' : 'rolled back to'} ${formatWeights(e.weights)}`);
        return;
    }
  };
}

/** A rollout (or its dry run): the plan from the options, each step's gates, then src/rollout/run.ts. */
async function runSteps(opts: PromoteOptions, io: Io, aws: AwsPorts, s: TrafficSession): Promise<PromoteOutcome> {
  const plan: RolloutPlan = {
    steps: opts.steps ?? [],
    bakeMs: opts.bakeMs ?? 5 * 60_000,
    intervalMs: opts.intervalMs ?? 15_000,
    thresholds: { ...DEFAULT_THRESHOLDS, ...(opts.thresholds ?? {}) },
    onInterrupt: opts.onInterrupt ?? 'hold',
    guard: opts.guard ?? true,
  };
  if (opts.skipValidation) io.warn(io.style.bold('--skip-validation: the schema gate is OFF for every step of this rollout.'));
  if (opts.ignoredWithResume?.length) {
    io.warn(`${opts.ignoredWithResume.join(', ')} ignored: --resume continues with the steps, bake, interval and thresholds the rollout was started with.`);
  }
  let validatedOnce = false;
  const gates: StepGates = async (from, to) => {
    // The validator runs at most once per rollout (when asked or when there is no report); later steps read it.
    const v = await gateVerdict(aws, io, s.stack, { skipValidation: opts.skipValidation, validate: opts.validate && !validatedOnce });
    validatedOnce = true;
    if (v.missingAlarms.length) io.warn(`green alarm(s) ${v.missingAlarms.join(', ')} do not exist in CloudWatch: redeploy to restore them.`);
    const refusal = refusalOf(v, from, to);
    if (refusal) throw refusal;
    return { gates: v.gates, validation: v.report ? { verdict: v.report.verdict, generatedAt: v.report.generatedAt } : undefined };
  };
  if (opts.dryRun) {
    const before = await readWeights(aws, s.target);
    const v = await gateVerdict(aws, io, s.stack, opts);
    const refusal = refusalOf(v, before, before);
    if (refusal) throw refusal;
    return { form: 'rollout-dry-run', doc: { stack: s.stack.name, dryRun: true, before, plan, gates: v.gates } };
  }
  const { runRollout } = await import('../../rollout/run.js');
  const res: RolloutResult = await runRollout(s, { plan, resume: Boolean(opts.resume), gates, signal: opts.signal, emit: progressRenderer(io) });
  return { form: 'rollout', doc: res };
}

/** Removes the rollout lease (journaled when there was one). */
async function runForceUnlock(aws: AwsPorts, s: TrafficSession): Promise<ForceUnlockResult> {
  const removed = await forceUnlock(aws.objects, s.bucket);
  if (removed) {
    await s.record({
      kind: 'lease-force-unlock',
      rolloutId: removed.rolloutId,
      summary: `force-unlocked the lease of ${removed.holder} (rollout ${removed.rolloutId}, step ${removed.step}/${removed.steps}, renewed ${removed.renewedAt})`,
    });
  }
  return { stack: s.stack.name, removed: removed ?? null };
}

/**
 * Runs the form the options name: --force-unlock, --weight (one step), else a rollout (--steps or --resume).
 * Refusals (a gate, the lease) are BgmigErrors with exit 3; a missing stack or an AWS failure exit 1.
 */
export async function runPromote(opts: PromoteOptions, deps: { io: Io; aws: AwsPorts }): Promise<PromoteOutcome> {
  const { io, aws } = deps;
  const stack = await requireStack(aws, opts.suffix);
  const { TrafficSession } = await import('../../rollout/session.js');
  const s = TrafficSession.open(aws, io, stack, opts.suffix);
  if (opts.forceUnlock) return { form: 'force-unlock', doc: await runForceUnlock(aws, s) };
  if (opts.weight !== undefined) return { form: 'weight', doc: await runOneStep({ ...opts, weight: opts.weight }, io, aws, s) };
  return runSteps(opts, io, aws, s);
}

function renderOneStep(r: PromoteResult, st: ChalkInstance): string {
  const required = r.gatesNote === undefined;
  if (r.dryRun) {
    return [
      required ? 'Dry run — nothing changed. Every gate passed:' : `Dry run — nothing changed. No gate needed: ${r.gatesNote}.`,
      ...r.gates.map((g) => gateLine(st, g)),
      `Would set ${r.stack}: ${formatWeights(r.before)} → ${formatWeights(r.after)}`,
    ].join('\n');
  }
  const db = r.activeDatabase;
  return [
    ...(required ? r.gates.map((g) => gateLine(st, g)) : [`  No gate needed: ${r.gatesNote}.`]),
    r.changed
      ? `${st.green('✔')} Promoted ${r.stack}: ${formatWeights(r.before)} → ${formatWeights(r.after)} (verified by read-back)`
      : `${st.green('✔')} ${r.stack} already had ${formatWeights(r.after)} (verified): nothing to change.`,
    `  ${weightBar(r.after, { blue: st.blue, green: st.green })}`,
    db ? `  Both colours use the ${db.color} database (${db.clusterIdentifier}).` : '',
  ]
    .filter((l) => l !== '')
    .join('\n');
}

/** The human text of each form; a rollout that did not complete has said everything in its progress lines (''). */
export function renderPromote(o: PromoteOutcome, st: ChalkInstance): string {
  switch (o.form) {
    case 'weight':
      return renderOneStep(o.doc, st);
    case 'rollout-dry-run': {
      const { doc } = o;
      return [
        `Dry run — nothing changed. The first step's gates pass:`,
        ...doc.gates.map((g) => gateLine(st, g)),
        `Would roll out ${doc.stack} from ${formatWeights(doc.before)} through green ${doc.plan.steps.join(' → ')} %, baking ${formatMs(doc.plan.bakeMs)} per step.`,
      ].join('\n');
    }
    case 'rollout': {
      const res = o.doc;
      return res.outcome === 'completed'
        ? `${st.green('✔')} Rollout ${res.rolloutId} completed: ${formatWeights(res.weights)} (verified), in ${formatMs(res.durationMs)}\n  ${weightBar(res.weights, { blue: st.blue, green: st.green })}`
        : '';
    }
    case 'force-unlock': {
      const { removed } = o.doc;
      return removed
        ? `${st.green('✔')} Removed the lease of ${removed.holder} (rollout ${removed.rolloutId}, step ${removed.step}/${removed.steps}); journaled. If that rollout is still running it stops at its next renewal.`
        : `No lease was held on ${o.doc.stack}: nothing to unlock.`;
    }
  }
}

/** 3 when a rollout is held (traffic is between steps on purpose: the promote did not finish); 0 otherwise. */
export function exitCodeOf(o: PromoteOutcome): ExitCode {
  return o.form === 'rollout' && o.doc.outcome === 'held' ? ExitCode.Refused : ExitCode.Ok;
}

/**
 * Writes the outcome and returns its exit code: the document (a rollout's as one compact line after its NDJSON
 * events) with --json, else the rendering.
 */
export function emitPromote(io: Io, o: PromoteOutcome): ExitCode {
  if (o.form === 'rollout' && io.json) io.streams.stdout.write(`${JSON.stringify(o.doc)}\n`);
  else io.result(o.doc, () => renderPromote(o, io.style));
  return exitCodeOf(o);
}

/**
 * The default action. One-step forms are a few calls long: Ctrl-C keeps its default meaning there. A rollout: the
 * first SIGINT/SIGTERM stops at the next safe point (hold or roll back, as --on-interrupt says); a second exits 130.
 */
async function promoteAction(opts: PromoteOptions, ctx: CommandContext): Promise<ExitCode> {
  if (!opts.steps && !opts.resume) return emitPromote(ctx.io, await runPromote(opts, ctx));
  const ac = new AbortController();
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals === 1) {
      ctx.io.warn(`${sig}: stopping at the next safe point (${opts.onInterrupt === 'rollback' ? 'rolling back' : 'holding traffic where it is'})…`);
      ac.abort();
    } else process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return emitPromote(ctx.io, await runPromote({ ...opts, signal: ac.signal }, ctx));
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}

interface PromoteFlags {
  weight?: string;
  steps?: string;
  bake?: string;
  interval: string;
  max5xxRatio?: string;
  '5xxFloor'?: string;
  maxLatencyRatio?: string;
  latencyFloor?: string;
  latencyStat?: string;
  minRequests?: string;
  maxInconclusive?: string;
  metricsGrace?: string;
  onInterrupt: string;
  guard: boolean;
  resume: boolean;
  forceUnlock: boolean;
  skipValidation: boolean;
  validate: boolean;
  dryRun: boolean;
}

/** Flags → options; every contradiction is exit 2 before anything is read. */
export function resolvePromoteOptions(suffix: string, o: PromoteFlags): PromoteOptions {
  const forms = [o.weight !== undefined && '--weight', o.steps !== undefined && '--steps', o.resume && '--resume', o.forceUnlock && '--force-unlock'].filter(
    Boolean,
  );
  if (forms.length === 0) throw badInput('promote needs one of --weight N (one step), --steps LIST (a rollout), --resume or --force-unlock.');
  exclusive(
    [
      { flag: '--weight', value: o.weight },
      { flag: '--steps', value: o.steps },
      { flag: '--resume', value: o.resume },
      { flag: '--force-unlock', value: o.forceUnlock },
    ],
    'pick one.',
  );
  const rolloutOnly = [
    'bake',
    'max5xxRatio',
    '5xxFloor',
    'maxLatencyRatio',
    'latencyFloor',
    'latencyStat',
    'minRequests',
    'maxInconclusive',
    'metricsGrace',
  ] as const;
  if (o.weight !== undefined || o.forceUnlock) {
    const stray = rolloutOnly.filter((k) => o[k] !== undefined);
    if (stray.length) throw badInput(`--${stray[0].replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} applies to a rollout (--steps), not to ${forms[0]}.`);
  }
  const onInterrupt = o.onInterrupt;
  if (onInterrupt !== 'hold' && onInterrupt !== 'rollback') throw badInput(`--on-interrupt must be "hold" or "rollback", got "${onInterrupt}".`);
  const t: Partial<Thresholds> = {};
  if (o.max5xxRatio !== undefined) t.max5xxRatio = parseRatio(o.max5xxRatio, '--max-5xx-ratio', 1);
  if (o['5xxFloor'] !== undefined) t.floor5xxShare = parsePercent(o['5xxFloor'], '--5xx-floor');
  if (o.maxLatencyRatio !== undefined) t.maxLatencyRatio = parseRatio(o.maxLatencyRatio, '--max-latency-ratio', 1);
  if (o.latencyFloor !== undefined) t.latencyFloorSeconds = parseDuration(o.latencyFloor, '--latency-floor') / 1000;
  if (o.latencyStat !== undefined) {
    if (!LATENCY_STAT.test(o.latencyStat))
      throw badInput(`--latency-stat must be a percentile like p99 or p95, or Average, Maximum or Minimum, got "${o.latencyStat}".`);
    t.latencyStat = o.latencyStat;
  }
  if (o.minRequests !== undefined) t.minRequests = parseIntStrict(o.minRequests, '--min-requests', 1, 1_000_000_000);
  if (o.maxInconclusive !== undefined) t.maxInconclusive = parseIntStrict(o.maxInconclusive, '--max-inconclusive', 1, 1000);
  if (o.metricsGrace !== undefined) t.metricsGraceMs = o.metricsGrace.trim() === '0' ? 0 : parseDuration(o.metricsGrace, '--metrics-grace');
  const intervalMs = parseDuration(o.interval, '--interval');
  const flag = (k: string) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  const ignoredWithResume = o.resume
    ? [
        ...rolloutOnly.filter((k) => o[k] !== undefined).map(flag),
        ...(o.interval !== '15s' ? ['--interval'] : []),
        ...(o.onInterrupt !== 'hold' ? ['--on-interrupt'] : []),
      ]
    : [];
  const bakeMs = o.bake !== undefined ? parseBake(o.bake) : undefined;
  if (bakeMs !== undefined && bakeMs > 0 && intervalMs > bakeMs)
    throw badInput(`--interval (${o.interval}) is longer than --bake (${o.bake}): no check would run during the bake.`);
  return {
    suffix,
    weight: o.weight !== undefined ? parseWeight(o.weight) : undefined,
    steps: o.steps !== undefined ? parseSteps(o.steps) : undefined,
    bakeMs,
    intervalMs,
    thresholds: t,
    onInterrupt,
    guard: o.guard,
    resume: o.resume,
    forceUnlock: o.forceUnlock,
    skipValidation: o.skipValidation,
    validate: o.validate,
    dryRun: o.dryRun,
    ignoredWithResume,
  };
}

export function register(program: Command, runF: RunF<PromoteOptions> = promoteAction): void {
  program
    .command('promote')
    .description('shift traffic to green: one step (--weight N) or a rollout in steps with a bake and automatic rollback (--steps)')
    .option('--weight <percent>', "one step: green's share of traffic, a whole number 0–100")
    .option('--steps <list>', "a rollout: green's share per step, e.g. 10,25,50,100")
    .option('--bake <duration>', 'how long to watch each step before the next (default 5m; 0 = no waiting)', undefined)
    .option('--interval <duration>', 'time between checks during a bake', '15s')
    .option('--max-5xx-ratio <x>', `green's 5xx share may be at most x times blue's (default ${DEFAULT_THRESHOLDS.max5xxRatio})`)
    .option('--5xx-floor <percent>', `a green 5xx share at or below this always passes (default ${DEFAULT_THRESHOLDS.floor5xxShare * 100})`)
    .option('--max-latency-ratio <x>', `green's latency may be at most x times blue's (default ${DEFAULT_THRESHOLDS.maxLatencyRatio})`)
    .option('--latency-floor <duration>', `a green latency at or below this always passes (default ${DEFAULT_THRESHOLDS.latencyFloorSeconds * 1000}ms)`)
    .option('--latency-stat <stat>', `TargetResponseTime statistic compared (default ${DEFAULT_THRESHOLDS.latencyStat})`)
    .option('--min-requests <n>', `requests each colour needs in the window for a metric verdict (default ${DEFAULT_THRESHOLDS.minRequests})`)
    .option('--max-inconclusive <n>', `inconclusive checks in a row that count as a failure (default ${DEFAULT_THRESHOLDS.maxInconclusive})`)
    .option(
      '--metrics-grace <duration>',
      `after each step, inconclusive checks do not count for this long: ALB metrics reach CloudWatch a minute or more late (default ${DEFAULT_THRESHOLDS.metricsGraceMs / 60_000}m)`,
    )
    .option('--on-interrupt <action>', 'on Ctrl-C / SIGTERM: "hold" at the last step set, or "rollback"', 'hold')
    .option('--no-guard', 'disable the rollback guard (the EventBridge rule on green alarms) while this promote runs')
    .option('--resume', 'continue the newest held rollout from the journal', false)
    .option('--force-unlock', 'remove the rollout lease left by a holder that is gone (journaled)', false)
    .option('--skip-validation', 'do not require a compatible schema validation verdict (loud warning)', false)
    .option('--validate', 'run the schema validator now instead of using the latest report', false)
    .option('--dry-run', 'check the gates and print what would change; change nothing', false)
    .addHelpText(
      'after',
      `
Gates before raising green's share, in order (a refusal exits 3 and names the gate):
  1. validation     the latest schema validation verdict is "compatible" (runs the validator when there is none;
                    a verdict "error" — the validator could not compare — fails, exit 1: re-run \`bgmig validate\`)
  2. green-health   green's target group has at least one healthy target and none unhealthy
  3. green-alarms   no green alarm is in ALARM
Lowering green's share is a move toward safety: no gate, no lease (journaled).

A rollout (--steps) bakes each step, checking every --interval: green's alarms, green's target health, and green
against blue from the ALB's metrics over the same window (5xx share, ${DEFAULT_THRESHOLDS.latencyStat} TargetResponseTime). A failing check, or
--max-inconclusive inconclusive checks in a row, rolls back to blue 100 / green 0 and exits 3. Ctrl-C holds (exit 3)
and prints the commands that resume and roll back. One rollout at a time: a second one is refused (exit 3).

Exit codes: 0 promoted / rollout completed; 2 bad input; 3 refused by a gate or the lease, rolled back by a
check, stopped because someone else moved traffic, or held by Ctrl-C; 1 an AWS failure or a validation that
could not compare.

Examples:
  $ bgmig promote --suffix shop-prod --weight 30
  ✔ Promoted bgmig-shop-prod: blue 100 / green 0 → blue 70 / green 30 (verified by read-back)
  $ bgmig promote --suffix shop-prod --steps 10,25,50,100 --bake 5m --interval 15s
  $ bgmig promote --suffix shop-prod --resume`,
    )
    .action(action<PromoteFlags>(async (ctx, o) => runF(resolvePromoteOptions(ctx.suffix(), o), ctx)));
}
