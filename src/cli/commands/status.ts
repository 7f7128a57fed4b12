/**
 * `bgmig status`: one screen an on-call engineer can trust. Stack status, live weights, target health and alarms
 * per color, both database clusters, the last validation verdict — all read in parallel. Exit 0 when healthy,
 * 3 when degraded. `--watch` redraws in place (TTY) or prints one snapshot per interval (pipes, CI) until Ctrl-C.
 */
import type { Command } from 'commander';
import type { Weights } from '../../core/config.js';
import { ExitCode, messageOf } from '../../core/errors.js';
import { type Color, COLORS } from '../../core/naming.js';
import { ColorOutputKey } from '../../core/outputs.js';
import type { ValidationReport } from '../../schema/report.js';
import type { AwsClients } from '../aws.js';
import { action, parseIntStrict, toBgmigError } from '../context.js';
import { alarmNamesOf, alarmStates, type AlarmState, targetHealth, type TargetHealthSummary } from '../health.js';
import type { Io } from '../io.js';
import { type ActiveDatabase, readActiveDatabase } from '../live-state.js';
import { output, requireStack, type StackInfo } from '../stack.js';
import { readWeights, type TrafficTarget, trafficTarget, weightBar } from '../traffic.js';
import { readLatestReport } from '../validation.js';
import type { Executor } from '../../replication/api.js';

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
  active?: ActiveDatabase | undefined;
  clusters: ClusterStatus[];
  replication: { available: false; hint: string } | { available: true; degraded: string[]; lines: string[]; data: unknown };
}

export interface StatusSnapshot {
  stack: { name: string; status: string; reason?: string | undefined; lastUpdated?: string | undefined };
  weights?: Weights | undefined;
  targets: Partial<Record<Color, TargetHealthSummary>>;
  alarms: Partial<Record<Color, AlarmState[]>>;
  database: DatabaseSection;
  validation?: Pick<ValidationReport, 'verdict' | 'generatedAt'> & { differences: number; breaking: number } | undefined;
  /** Sections that could not be read (each one sentence). */
  errors: Record<string, string>;
  healthy: boolean;
  /** Why the system counts as degraded (empty when healthy). */
  degraded: string[];
  readAt: string;
}

const FAILED_STACK = /(FAILED|ROLLBACK_COMPLETE|ROLLBACK_IN_PROGRESS)$/;

async function clusterStatuses(aws: AwsClients, stack: StackInfo): Promise<ClusterStatus[]> {
  const rds = await aws.rds();
  const { DescribeDBClustersCommand } = await import('@aws-sdk/client-rds');
  return Promise.all(
    COLORS.map(async (color) => {
      const identifier = output(stack, ColorOutputKey[color].clusterIdentifier);
      try {
        const res = await rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: identifier }));
        const c = res.DBClusters?.[0];
        return { color, identifier, status: c?.Status ?? 'unknown', endpoint: c?.Endpoint, port: c?.Port };
      } catch (e) {
        if ((e as { name?: string }).name === 'DBClusterNotFoundFault') return { color, identifier, status: 'missing' };
        throw e;
      }
    }),
  );
}

/** Where the replication section comes from: the cutover function in AWS mode; tests may inject a local executor. */
export type ReplicationExecutorFactory = (aws: AwsClients, stack: StackInfo, suffix: string) => Promise<Executor>;

const remoteExecutor: ReplicationExecutorFactory = async (aws, stack, suffix) => (await import('../db-remote.js')).remoteExecutorFor(aws, stack, suffix);

/** The replication part of the database section (what `bgmig db sync status` reports). */
async function replicationSection(aws: AwsClients, stack: StackInfo, suffix: string, opts: ReadStatusOptions): Promise<DatabaseSection['replication']> {
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

/** Reads everything in parallel. A section that fails is reported (and counts as degraded), not fatal. */
export async function readStatus(aws: AwsClients, suffix: string, opts: ReadStatusOptions = {}): Promise<StatusSnapshot> {
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
  const [weights, blueTargets, greenTargets, blueAlarms, greenAlarms, clusters, active, report, replication] = await Promise.all([
    withTraffic('weights', (tt) => readWeights(aws, tt)),
    withTraffic('targets.blue', (tt) => targetHealth(aws, tt.targetGroupArn.blue)),
    withTraffic('targets.green', (tt) => targetHealth(aws, tt.targetGroupArn.green)),
    guard('alarms.blue', () => alarmStates(aws, alarmNamesOf(stack, 'blue'))),
    guard('alarms.green', () => alarmStates(aws, alarmNamesOf(stack, 'green'))),
    guard('database.clusters', () => clusterStatuses(aws, stack)),
    guard('database.active', () => readActiveDatabase(aws, stack)),
    guard('validation', () => readLatestReport(aws, stack)),
    guard('database.replication', () => replicationSection(aws, stack, suffix, opts)),
  ]);

  const degraded: string[] = [];
  if (FAILED_STACK.test(stack.status)) degraded.push(`stack ${stack.name} is ${stack.status}`);
  for (const [color, th] of [['blue', blueTargets], ['green', greenTargets]] as const) {
    if (th && th.unhealthy > 0) degraded.push(`${th.unhealthy} unhealthy ${color} target(s)`);
    // A color that takes traffic but has nothing healthy drops requests.
    if (th && weights && weights[color] > 0 && th.healthy === 0) degraded.push(`${color} takes ${weights[color]} % of traffic but has no healthy target`);
  }
  for (const a of [...(blueAlarms ?? []), ...(greenAlarms ?? [])]) if (a.state === 'ALARM') degraded.push(`${a.name} is in ALARM`);
  for (const c of clusters ?? []) if (c.status !== 'available') degraded.push(`${c.color} cluster ${c.identifier} is ${c.status}`);
  if (replication?.available) degraded.push(...replication.degraded);
  for (const section of Object.keys(errors)) degraded.push(`could not read ${section}`);

  return {
    stack: { name: stack.name, status: stack.status, reason: stack.statusReason, lastUpdated: stack.lastUpdated?.toISOString() },
    weights,
    targets: { ...(blueTargets ? { blue: blueTargets } : {}), ...(greenTargets ? { green: greenTargets } : {}) },
    alarms: { ...(blueAlarms ? { blue: blueAlarms } : {}), ...(greenAlarms ? { green: greenAlarms } : {}) },
    database: { active, clusters: clusters ?? [], replication: replication ?? { available: false, hint: 'could not be read' } },
    validation: report
      ? { verdict: report.verdict, generatedAt: report.generatedAt, differences: report.differences.length, breaking: report.differences.filter((d) => d.severity === 'breaking').length }
      : undefined,
    errors,
    healthy: degraded.length === 0,
    degraded,
    readAt: new Date().toISOString(),
  };
}

export function renderStatus(s: StatusSnapshot, io: Io): string {
  const st = io.style;
  const paint = { blue: st.blue, green: st.green };
  const stateColor = (state: string) => (state === 'OK' ? st.green(state) : state === 'ALARM' ? st.red(state) : st.yellow(state));
  const lines: string[] = [];
  const stackState = FAILED_STACK.test(s.stack.status) ? st.red(s.stack.status) : s.stack.status.endsWith('_COMPLETE') ? st.green(s.stack.status) : st.yellow(s.stack.status);
  lines.push(`${st.bold(s.stack.name)}  ${stackState}${s.stack.lastUpdated ? st.dim(`  (updated ${s.stack.lastUpdated})`) : ''}`);
  lines.push(`Traffic     ${s.weights ? weightBar(s.weights, paint) : st.red(`unavailable: ${s.errors.weights ?? s.errors.traffic ?? ''}`)}`);
  COLORS.forEach((c, i) => {
    const th = s.targets[c];
    const text = th
      ? `${th.healthy} healthy, ${th.unhealthy > 0 ? st.red(`${th.unhealthy} unhealthy`) : '0 unhealthy'}, ${th.draining} draining${th.initial ? `, ${th.initial} initial` : ''}`
      : st.red(`unavailable: ${s.errors[`targets.${c}`] ?? ''}`);
    lines.push(`${i === 0 ? 'Targets' : '       '}     ${c.padEnd(5)} ${text}`);
  });
  COLORS.forEach((c, i) => {
    const al = s.alarms[c];
    let text: string;
    if (!al) text = st.red(`unavailable: ${s.errors[`alarms.${c}`] ?? ''}`);
    else {
      const notOk = al.filter((a) => a.state !== 'OK');
      const ok = al.length - notOk.length;
      text = [...notOk.map((a) => `${stateColor(a.state)} ${a.name}`), ...(ok > 0 ? [`${st.green('OK')} ×${ok}`] : [])].join(', ') || 'none';
    }
    lines.push(`${i === 0 ? 'Alarms' : '      '}      ${c.padEnd(5)} ${text}`);
  });
  // Database section: the active database, both clusters, live replication.
  const db = s.database;
  lines.push(`Database    ${db.active ? `both colours use the ${db.active.color} database (${db.active.clusterIdentifier})` : s.errors['database.active'] ? st.red(`active database unknown: ${s.errors['database.active']}`) : 'active database not recorded'}`);
  for (const c of db.clusters) {
    const status = c.status === 'available' ? st.green(c.status) : st.yellow(c.status);
    lines.push(`            ${c.color.padEnd(5)} ${c.identifier}  ${status}${c.endpoint ? `  ${c.endpoint}:${c.port ?? 5432}` : ''}`);
  }
  if (s.errors['database.clusters']) lines.push(`            ${st.red(`clusters unavailable: ${s.errors['database.clusters']}`)}`);
  if (db.replication.available) lines.push(...db.replication.lines.map((l) => `            ${l}`));
  else lines.push(st.dim(`            ${db.replication.hint}`));
  const v = s.validation;
  lines.push(
    `Validation  ${
      v
        ? `${v.verdict === 'compatible' ? st.green(v.verdict) : st.red(v.verdict)} (${v.generatedAt}, ${v.differences} difference(s), ${v.breaking} breaking)`
        : s.errors.validation
          ? st.red(`unavailable: ${s.errors.validation}`)
          : 'no report yet (run `bgmig validate`)'
    }`,
  );
  lines.push(s.healthy ? `Overall     ${st.green('healthy')}` : `Overall     ${st.red('DEGRADED')}: ${s.degraded.join('; ')}`);
  return lines.join('\n');
}

export interface StatusOptions {
  suffix: string;
  watch?: boolean;
  /** Seconds between snapshots under --watch. */
  intervalSeconds?: number;
  /** Stop after this many snapshots (tests; 0 = until interrupted). */
  maxSnapshots?: number;
  /** Aborts --watch (Ctrl-C). */
  signal?: AbortSignal;
  /** false: skip the replication section (--no-replication). */
  replication?: boolean;
  executorFactory?: ReplicationExecutorFactory;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

/** Resolves (to undefined) when the signal aborts; never otherwise. */
function aborted(signal?: AbortSignal): Promise<undefined> {
  return new Promise((resolve) => {
    if (!signal) return;
    if (signal.aborted) return resolve(undefined);
    signal.addEventListener('abort', () => resolve(undefined), { once: true });
  });
}

export async function runStatus(opts: StatusOptions, deps: { io: Io; aws: AwsClients }): Promise<ExitCode> {
  const { io, aws } = deps;
  if (!opts.watch) {
    const s = await readStatus(aws, opts.suffix, { replication: opts.replication, executorFactory: opts.executorFactory });
    io.result(s, () => renderStatus(s, io));
    return s.healthy ? ExitCode.Ok : ExitCode.Refused;
  }

  const intervalMs = (opts.intervalSeconds ?? 5) * 1000;
  const redraw = io.interactive;
  let drawnLines = 0;
  let last: ExitCode = ExitCode.Ok;
  for (let n = 0; !opts.signal?.aborted; n++) {
    let text: string;
    let json: unknown;
    try {
      // Ctrl-C must end the watch at once, even while a read is still waiting on a slow endpoint.
      const s = await Promise.race([readStatus(aws, opts.suffix, { replication: opts.replication, executorFactory: opts.executorFactory }), aborted(opts.signal)]);
      if (s === undefined) break;
      last = s.healthy ? ExitCode.Ok : ExitCode.Refused;
      text = renderStatus(s, io);
      json = s;
    } catch (e) {
      // A watch survives a failed read (a network blip at 3 a.m. must not end the session): say so and retry.
      const err = toBgmigError(e, { aws });
      last = err.exitCode;
      text = `${io.style.red('error:')} ${messageOf(err)}`;
      json = { error: { message: err.message, exitCode: err.exitCode } };
    }
    const footer = io.style.dim(`${new Date().toISOString()} — refreshing every ${intervalMs / 1000} s, Ctrl-C to stop`);
    if (io.json) io.streams.stdout.write(`${JSON.stringify(json)}\n`);
    else if (redraw) {
      // Move up over the previous frame and clear it, then draw: an in-place refresh without flicker.
      const frame = `${text}\n${footer}\n`;
      io.streams.stdout.write(`${drawnLines > 0 ? `\x1b[${drawnLines}A\x1b[0J` : ''}${frame}`);
      drawnLines = frame.split('\n').length - 1;
    } else io.streams.stdout.write(`${text}\n${footer}\n\n`);
    if (opts.maxSnapshots && n + 1 >= opts.maxSnapshots) break;
    await sleep(intervalMs, opts.signal);
  }
  return last;
}

export function register(program: Command): void {
  program
    .command('status')
    .description('stack, traffic, target health, alarms, databases and the last validation verdict; exit 3 when degraded')
    .option('--watch', 'keep refreshing until Ctrl-C (redraws in place on a terminal)', false)
    .option('--interval <seconds>', 'seconds between refreshes with --watch', '5')
    .option('--no-replication', 'skip the live replication section (it invokes lambda-db-cutover-S, which queries both clusters)')
    .addHelpText(
      'after',
      `
Exit codes: 0 healthy, 3 degraded (an alarm in ALARM, an unhealthy target, a failed stack, a cluster not available,
replication stalled or erroring, a section that cannot be read), 1 when the status cannot be read at all.

Example:
  $ bgmig status --suffix shop-prod
  $ bgmig status --suffix shop-prod --watch --interval 2`,
    )
    .action(
      action<{ watch: boolean; interval: string; replication: boolean }>(async (ctx, o) => {
        const intervalSeconds = parseIntStrict(o.interval, '--interval', 1, 3600);
        const suffix = ctx.suffix();
        const ac = new AbortController();
        const onSigint = () => ac.abort();
        if (o.watch) process.once('SIGINT', onSigint);
        try {
          return await runStatus({ suffix, watch: o.watch, intervalSeconds, signal: ac.signal, replication: o.replication }, ctx);
        } finally {
          process.removeListener('SIGINT', onSigint);
        }
      }),
    );
}
