/**
 * `bgmig status`: one screen an on-call engineer can trust. Stack status, live weights, target health and alarms
 * per color, both database clusters, the last validation verdict — all read in parallel. Exit 0 when healthy,
 * 3 when degraded. `--watch` redraws in place (TTY) or prints one snapshot per interval (pipes, CI) until Ctrl-C.
 *
 * The verb shape (src/cli/verb.ts) with one departure: `--watch` prints a document per snapshot (src/cli/watch.ts),
 * not one result at the end, so it runs through `watchStatus` (which writes each round through `deps.io` and
 * resolves to the last round's exit code) instead of `runStatus → emit`. Both read a snapshot the same way, and
 * each round's exit code is `exitCodeOf(snapshot)`.
 */
import type { AwsPorts } from '../../aws/ports.js';
import type { ChalkInstance } from 'chalk';
import type { Command } from 'commander';
import type { Weights } from '../../core/config.js';
import { ExitCode } from '../../core/errors.js';
import { type Color, COLORS, names } from '../../core/naming.js';
import { ColorOutputKey } from '../../core/outputs.js';
import type { ValidationReport } from '../../schema/report.js';
import { action, type CommandContext, toBgmigError } from '../context.js';
import { type Observation, parseWatchFlags, runWatch, type Until, untilInterrupted, type WatchFlagValues } from '../watch.js';
import { alarmNamesOf, alarmStates, type AlarmState, targetHealth, type TargetHealthSummary } from '../../deployed/health.js';
import type { Io } from '../io.js';
import { type ActiveCluster, readActiveCluster } from '../../deployed/live-state.js';
import { output, requireStack, type StackInfo } from '../../deployed/stack.js';
import { readWeights, type TrafficTarget, trafficTarget, weightBar } from '../../deployed/traffic.js';
import { readLatestReport } from '../../remote/validator-client.js';
import { schemaVerdict } from '../../schema/verdict.js';
import type { Executor } from '../../replication/api.js';
import { readRolloutSection, renderRolloutLines, rolloutDegraded, type RolloutSection } from '../../rollout/status-section.js';
import { emit, type RunF } from '../verb.js';
import { isAwsError } from '../../core/aws-error.js';

export interface ClusterStatus {
  color: Color;
  identifier: string;
  status: string;
  endpoint?: string | undefined;
  port?: number | undefined;
}

/**
 * The database section: which cluster the db record names, both clusters, and the live replication state that
 * `bgmig db sync status` shows (read through the cutover function, which is the only thing that can reach the
 * isolated clusters).
 */
export interface DatabaseSection {
  active?: ActiveCluster | undefined;
  clusters: ClusterStatus[];
  replication: { available: false; hint: string } | { available: true; degraded: string[]; lines: string[]; data: unknown };
}

export interface StatusSnapshot {
  stack: { name: string; status: string; reason?: string | undefined; lastUpdated?: string | undefined };
  weights?: Weights | undefined;
  targets: Partial<Record<Color, TargetHealthSummary>>;
  alarms: Partial<Record<Color, AlarmState[]>>;
  database: DatabaseSection;
  validation?: (Pick<ValidationReport, 'verdict' | 'generatedAt'> & { differences: number; breaking: number; rollback: string }) | undefined;
  /** Sections that could not be read (each one sentence). */
  /** A running rollout and whether the rollback guard is armed (src/rollout/status-section.ts). */
  rollout?: RolloutSection | undefined;
  errors: Record<string, string>;
  healthy: boolean;
  /** Why the system counts as degraded (empty when healthy). */
  degraded: string[];
  readAt: string;
}

const FAILED_STACK = /(FAILED|ROLLBACK_COMPLETE|ROLLBACK_IN_PROGRESS)$/;

/** What an operator calls each section (the keys of StatusSnapshot.errors are for machines). */
const SECTION_LABELS: Record<string, string> = {
  traffic: 'the listener',
  weights: 'the traffic weights',
  'targets.blue': 'the blue targets',
  'targets.green': 'the green targets',
  'alarms.blue': 'the blue alarms',
  'alarms.green': 'the green alarms',
  'database.clusters': 'the database clusters',
  'database.active': 'the active database',
  'database.replication': 'the replication state',
  validation: 'the validation report',
  rollout: 'the rollout lease',
};

export function sectionLabel(section: string): string {
  return SECTION_LABELS[section] ?? section.replace(/[._]/g, ' ');
}

async function clusterStatuses(aws: Pick<AwsPorts, 'clusters'>, stack: StackInfo): Promise<ClusterStatus[]> {
  return Promise.all(
    COLORS.map(async (color) => {
      const identifier = output(stack, ColorOutputKey[color].clusterIdentifier);
      try {
        const c = await aws.clusters.describe(identifier);
        return { color, identifier, status: c?.Status ?? 'unknown', endpoint: c?.Endpoint, port: c?.Port };
      } catch (e) {
        if (isAwsError(e, 'DBClusterNotFoundFault')) return { color, identifier, status: 'missing' };
        throw e;
      }
    }),
  );
}

/** Where the replication section comes from: the cutover function in AWS mode; tests may inject a local executor. */
export type ReplicationExecutorFactory = (aws: AwsPorts, stack: StackInfo, suffix: string) => Promise<Executor>;

const remoteExecutor: ReplicationExecutorFactory = async (aws, stack, suffix) =>
  (await import('../../remote/cutover-client.js')).remoteExecutorFor(aws, stack, suffix);

/** The replication part of the database section (what `bgmig db sync status` reports). */
async function replicationSection(aws: AwsPorts, stack: StackInfo, suffix: string, opts: ReadStatusOptions): Promise<DatabaseSection['replication']> {
  if (opts.replication === false) return { available: false, hint: 'skipped (--no-replication); see `bgmig db sync status`' };
  const { databaseSection } = await import('../../replication/status.js');
  const section = await databaseSection(await (opts.executorFactory ?? remoteExecutor)(aws, stack, suffix));
  return { available: true, degraded: section.report.problems, lines: section.text.split('\n').filter((l) => l.trim() !== ''), data: section.report };
}

export interface ReadStatusOptions {
  /** false: skip the replication section (it invokes the cutover function). Default true. */
  replication?: boolean;
  executorFactory?: ReplicationExecutorFactory;
}

/** What `degradedReasons` judges: the sections of one status read, each undefined when it could not be read. */
export interface StatusObservation {
  stack: { name: string; status: string };
  weights: Weights | undefined;
  targets: Partial<Record<Color, TargetHealthSummary | undefined>>;
  /** Both colours' alarms, blue's first. */
  alarms: AlarmState[];
  clusters: ClusterStatus[] | undefined;
  replication: DatabaseSection['replication'] | undefined;
  rollout: RolloutSection | undefined;
  /** Sections that could not be read, by machine key ("targets.green"), each with one sentence. */
  errors: Record<string, string>;
}

/**
 * Why the system counts as degraded, in this order: a failed stack, unhealthy targets (or a colour taking traffic
 * with nothing healthy), alarms in ALARM, clusters not available, replication problems, the rollout section's
 * reasons, then one `could not read <section>` per unread section (machine keys: --json consumers match them).
 * Empty when healthy. Pure.
 */
export function degradedReasons(o: StatusObservation): string[] {
  const degraded: string[] = [];
  if (FAILED_STACK.test(o.stack.status)) degraded.push(`stack ${o.stack.name} is ${o.stack.status}`);
  for (const color of COLORS) {
    const th = o.targets[color];
    if (th && th.unhealthy > 0) degraded.push(`${th.unhealthy} unhealthy ${color} target(s)`);
    // A color that takes traffic but has nothing healthy drops requests.
    if (th && o.weights && o.weights[color] > 0 && th.healthy === 0) degraded.push(`${color} takes ${o.weights[color]} % of traffic but has no healthy target`);
  }
  for (const a of o.alarms) if (a.state === 'ALARM') degraded.push(`${a.name} is in ALARM`);
  for (const c of o.clusters ?? []) if (c.status !== 'available') degraded.push(`${c.color} cluster ${c.identifier} is ${c.status}`);
  if (o.replication?.available) degraded.push(...o.replication.degraded);
  if (o.rollout) degraded.push(...rolloutDegraded(o.rollout, o.weights));
  for (const section of Object.keys(o.errors)) degraded.push(`could not read ${section}`);
  return degraded;
}

/** The validation line of status, read through the one reading of a report shared with promote and db cutover. Pure. */
export function validationSection(report: ValidationReport): NonNullable<StatusSnapshot['validation']> {
  const v = schemaVerdict(report);
  return {
    verdict: report.verdict,
    generatedAt: report.generatedAt,
    differences: report.differences.length,
    breaking: v.totals.breaking,
    rollback: v.rollback === 'incompatible' ? `blocked (${v.blockers?.length ?? 0} blocker(s))` : v.rollback === 'compatible' ? 'possible' : 'not judged',
  };
}

/** Reads everything in parallel. A section that fails is reported (and counts as degraded), not fatal. */
export async function readStatus(aws: AwsPorts, suffix: string, opts: ReadStatusOptions = {}): Promise<StatusSnapshot> {
  const stack = await requireStack(aws, suffix);
  const errors: Record<string, string> = {};
  const guard = async <T>(section: string, p: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await p();
    } catch (e) {
      errors[section] = toBgmigError(e, { aws }).message;
      return undefined;
    }
  };
  const t = await guard('traffic', async () => trafficTarget(stack));
  // Without the listener outputs the traffic sections cannot be read; 'traffic' already says why.
  const withTraffic = <T>(section: string, fn: (tt: TrafficTarget) => Promise<T>): Promise<T | undefined> =>
    t ? guard(section, () => fn(t)) : Promise.resolve(undefined);
  const rolloutRead = guard('rollout', () => readRolloutSection(aws, stack, suffix));
  const [weights, blueTargets, greenTargets, blueAlarms, greenAlarms, clusters, active, report, replication] = await Promise.all([
    withTraffic('weights', (tt) => readWeights(aws, tt)),
    withTraffic('targets.blue', (tt) => targetHealth(aws, tt.targetGroupArn.blue)),
    withTraffic('targets.green', (tt) => targetHealth(aws, tt.targetGroupArn.green)),
    guard('alarms.blue', () => alarmStates(aws, alarmNamesOf(stack, 'blue'))),
    guard('alarms.green', () => alarmStates(aws, alarmNamesOf(stack, 'green'))),
    guard('database.clusters', () => clusterStatuses(aws, stack)),
    guard('database.active', () => readActiveCluster(aws, stack)),
    guard('validation', () => readLatestReport(aws, stack)),
    guard('database.replication', () => replicationSection(aws, stack, suffix, opts)),
  ]);

  const rollout = await rolloutRead;
  const degraded = degradedReasons({
    stack,
    weights,
    targets: { blue: blueTargets, green: greenTargets },
    alarms: [...(blueAlarms ?? []), ...(greenAlarms ?? [])],
    clusters,
    replication,
    rollout,
    errors,
  });

  return {
    stack: { name: stack.name, status: stack.status, reason: stack.statusReason, lastUpdated: stack.lastUpdated?.toISOString() },
    weights,
    targets: { ...(blueTargets ? { blue: blueTargets } : {}), ...(greenTargets ? { green: greenTargets } : {}) },
    alarms: { ...(blueAlarms ? { blue: blueAlarms } : {}), ...(greenAlarms ? { green: greenAlarms } : {}) },
    database: { active, clusters: clusters ?? [], replication: replication ?? { available: false, hint: 'could not be read' } },
    validation: report ? validationSection(report) : undefined,
    rollout,
    errors,
    healthy: degraded.length === 0,
    degraded,
    readAt: new Date().toISOString(),
  };
}

/** The status screen: one line per section, then the overall verdict with the reasons in the operator's words. */
export function renderStatus(s: StatusSnapshot, st: ChalkInstance): string {
  const paint = { blue: st.blue, green: st.green };
  const stateColor = (state: string) => (state === 'OK' ? st.green(state) : state === 'ALARM' ? st.red(state) : st.yellow(state));
  const lines: string[] = [];
  const stackState = FAILED_STACK.test(s.stack.status)
    ? st.red(s.stack.status)
    : s.stack.status.endsWith('_COMPLETE')
      ? st.green(s.stack.status)
      : st.yellow(s.stack.status);
  lines.push(`${st.bold(s.stack.name)}  ${stackState}${s.stack.lastUpdated ? st.dim(`  (updated ${s.stack.lastUpdated})`) : ''}`);
  lines.push(`Traffic     ${s.weights ? weightBar(s.weights, paint) : st.red(`unavailable: ${s.errors.weights ?? s.errors.traffic ?? 'not read'}`)}`);
  COLORS.forEach((c, i) => {
    const th = s.targets[c];
    const text = th
      ? `${th.healthy} healthy, ${th.unhealthy > 0 ? st.red(`${th.unhealthy} unhealthy`) : '0 unhealthy'}, ${th.draining} draining${th.initial ? `, ${th.initial} initial` : ''}`
      : st.red(`unavailable: ${s.errors[`targets.${c}`] ?? s.errors.traffic ?? 'not read'}`);
    lines.push(`${i === 0 ? 'Targets' : '       '}     ${c.padEnd(5)} ${text}`);
  });
  COLORS.forEach((c, i) => {
    const al = s.alarms[c];
    let text: string;
    if (!al) text = st.red(`unavailable: ${s.errors[`alarms.${c}`] ?? 'not read'}`);
    else {
      const notOk = al.filter((a) => a.state !== 'OK');
      const ok = al.length - notOk.length;
      text = [...notOk.map((a) => `${stateColor(a.state)} ${a.name}`), ...(ok > 0 ? [`${st.green('OK')} ×${ok}`] : [])].join(', ') || 'none';
    }
    lines.push(`${i === 0 ? 'Alarms' : '      '}      ${c.padEnd(5)} ${text}`);
  });
  // Database section: the active database, both clusters, live replication.
  const db = s.database;
  lines.push(
    `Database    ${db.active ? `both colours use the ${db.active.color} database (${db.active.clusterIdentifier})` : s.errors['database.active'] ? st.red(`active database unknown: ${s.errors['database.active']}`) : 'active database not recorded'}`,
  );
  for (const c of db.clusters) {
    const status = c.status === 'available' ? st.green(c.status) : st.yellow(c.status);
    lines.push(`            ${c.color.padEnd(5)} ${c.identifier}  ${status}${c.endpoint ? `  ${c.endpoint}:${c.port ?? 5432}` : ''}`);
  }
  if (s.errors['database.clusters']) lines.push(`            ${st.red(`clusters unavailable: ${s.errors['database.clusters']}`)}`);
  if (db.replication.available) lines.push(...db.replication.lines.map((l) => `            ${l}`));
  else if (s.errors['database.replication']) lines.push(`            ${st.red(`replication unavailable: ${s.errors['database.replication']}`)}`);
  else lines.push(st.dim(`            ${db.replication.hint}`));
  const v = s.validation;
  lines.push(
    `Validation  ${
      v
        ? `${v.verdict === 'compatible' ? st.green(v.verdict) : st.red(v.verdict)} (${v.generatedAt}, ${v.differences} difference(s), ${v.breaking} breaking; rollback ${v.rollback})`
        : s.errors.validation
          ? st.red(`unavailable: ${s.errors.validation}`)
          : 'no report yet (run `bgmig validate`)'
    }`,
  );
  if (s.rollout) lines.push(...renderRolloutLines(s.rollout, st));
  else if (s.errors.rollout) lines.push(`Rollout     ${st.red(`unavailable: ${s.errors.rollout}`)}`);
  // Sections added later (or by other modules) that have no line of their own above: still say why.
  const rendered = new Set(Object.keys(SECTION_LABELS));
  for (const [section, reason] of Object.entries(s.errors)) {
    if (!rendered.has(section)) lines.push(`${sectionLabel(section).padEnd(11)} ${st.red(`unavailable: ${reason}`)}`);
  }
  const human = (d: string) => {
    const section = /^could not read (\S+)$/.exec(d)?.[1];
    return section !== undefined && s.errors[section] !== undefined ? `could not read ${sectionLabel(section)}` : d;
  };
  lines.push(s.healthy ? `Overall     ${st.green('healthy')}` : `Overall     ${st.red('DEGRADED')}: ${s.degraded.map(human).join('; ')}`);
  return lines.join('\n');
}

export interface StatusOptions {
  suffix: string;
  watch?: boolean;
  /** Seconds between snapshots under --watch. */
  intervalSeconds?: number;
  /** --watch: stop at the first snapshot with this verdict (src/cli/watch.ts). */
  until?: Until | undefined;
  /** --watch: stop after this long (ms), exiting with the last verdict. */
  timeoutMs?: number | undefined;
  /** Stop after this many snapshots (tests; 0 = until interrupted). */
  maxSnapshots?: number;
  /** Aborts --watch (Ctrl-C). */
  signal?: AbortSignal;
  /** false: skip the replication section (--no-replication). */
  replication?: boolean;
  executorFactory?: ReplicationExecutorFactory;
}

/** Reads one snapshot (readStatus). A section that cannot be read is in the snapshot; no stack is a BgmigError (exit 1). */
export async function runStatus(opts: StatusOptions, deps: { aws: AwsPorts }): Promise<StatusSnapshot> {
  return readStatus(deps.aws, opts.suffix, { replication: opts.replication, executorFactory: opts.executorFactory });
}

/** 0 healthy, 3 degraded. */
export function exitCodeOf(s: StatusSnapshot): ExitCode {
  return s.healthy ? ExitCode.Ok : ExitCode.Refused;
}

/**
 * `--watch`: one snapshot per interval through src/cli/watch.ts (each round written through `deps.io`), until
 * --until, --timeout, maxSnapshots or the signal; resolves to the last round's exit code.
 */
export async function watchStatus(opts: StatusOptions, deps: { io: Io; aws: AwsPorts }): Promise<ExitCode> {
  const { io, aws } = deps;
  const read = async (): Promise<Observation> => {
    const s = await runStatus(opts, deps);
    return { result: s, text: renderStatus(s, io.style), exitCode: exitCodeOf(s) };
  };
  return runWatch(
    read,
    io,
    {
      intervalMs: (opts.intervalSeconds ?? 5) * 1000,
      until: opts.until,
      timeoutMs: opts.timeoutMs,
      signal: opts.signal,
      maxRounds: opts.maxSnapshots || undefined,
      subject: `${names(opts.suffix).stack} status`,
    },
    (e) => toBgmigError(e, { aws }),
  );
}

/** The default action: one snapshot rendered (or its JSON), or the watch with Ctrl-C ending it. */
async function statusAction(opts: StatusOptions, ctx: CommandContext): Promise<ExitCode> {
  if (!opts.watch) return emit(ctx.io, await runStatus(opts, ctx), renderStatus, exitCodeOf);
  return untilInterrupted((signal) => watchStatus({ ...opts, signal }, ctx));
}

export function register(program: Command, runF: RunF<StatusOptions> = statusAction): void {
  program
    .command('status')
    .description('stack, traffic, target health, alarms, databases and the last validation verdict; exit 3 when degraded')
    .option('--watch', 'keep refreshing (redraws in place on a terminal; --json: one JSON document per line)', false)
    .option('--interval <seconds>', 'seconds between refreshes with --watch (default 5)')
    .option('--until <verdict>', 'with --watch: stop at the first healthy or degraded snapshot')
    .option('--timeout <duration>', 'with --watch: stop after this long (e.g. 10m), exiting with the last verdict')
    .option('--no-replication', 'skip the live replication section (it invokes lambda-db-cutover-S, which queries both clusters)')
    .addHelpText(
      'after',
      `
Exit codes: 0 healthy, 3 degraded (an alarm in ALARM, an unhealthy target, a failed stack, a cluster not available,
replication stalled or erroring, a section that cannot be read), 1 when the status cannot be read at all.

--watch (the same contract as \`bgmig db sync status --watch\`): one snapshot per --interval; with --json one line per
snapshot, {"round", "at", "verdict", "exitCode", "result", "error"} (every key present, null when it does not apply);
exits with the last snapshot's code.

Example:
  $ bgmig status --suffix shop-prod
  $ bgmig status --suffix shop-prod --watch --interval 2
  $ bgmig status --suffix shop-prod --watch --until healthy --timeout 10m && bgmig promote --suffix shop-prod --weight 50`,
    )
    .action(
      action<WatchFlagValues & { replication: boolean }>(async (ctx, o) => {
        const w = parseWatchFlags(o, ctx.io, { intervalSeconds: 5 });
        const suffix = ctx.suffix();
        return runF(
          {
            suffix,
            watch: w.watch,
            intervalSeconds: w.intervalMs / 1000,
            until: w.until,
            timeoutMs: w.timeoutMs,
            replication: o.replication,
          },
          ctx,
        );
      }),
    );
}
