/**
 * `npx tsx bench/rollout/run.ts`: how fast the way back is, on moto 5.2.1 (the shared test fixture).
 * 1. CLI loop: a real `bgmig promote --steps 25,100 --bake 60s --interval 1s` is baking; a green alarm is set to
 *    ALARM; time until the listener reads blue 100 (goal ≤ interval + 1 s). BENCH_RUNS runs (default 5).
 * 2. Guard handler, in-process: time from invoking the Lambda handler with the alarm event until the listener reads
 *    blue 100 (goal ≤ 1 s). 20 runs.
 * 3. `bgmig rollback` in-process: AWS calls until blue 100 is verified (goal ≤ 3), and in total with the journal.
 * Prints one line per figure and writes bench/rollout/results.json.
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { S3Client } from '@aws-sdk/client-s3';
import { AwsClients } from '../../src/aws/clients.js';
import { listenersOver, objectStoreOver } from '../../src/aws/sdk.js';
import { runRollback } from '../../src/cli/commands/rollback.js';
import { makeHandler } from '../../src/lambda/rollback-guard.js';
import { provisionFixture, rollbackGuardEnv } from '../../test/harness/aws-fixture.js';
import { makeReport } from '../../test/harness/reports.js';
import { startMoto } from '../../test/harness/moto.js';
import { memoryIo } from '../../test/cli/support/memory-io.js';
import { HEALTHY, provisionGuardRule, publishAlbMetrics, resetRollout, startBgmig, waitForGreen } from '../../test/rollout/support.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const INTERVAL_S = 1;
const log = (s: string) => process.stdout.write(`${s}\n`);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const moto = await startMoto();
try {
  const S = 'bench';
  const f = await provisionFixture(moto, S);
  await provisionGuardRule(moto, f);
  process.env.AWS_ACCESS_KEY_ID = 'testing';
  process.env.AWS_SECRET_ACCESS_KEY = 'testing';

  // 1. The CLI loop.
  const cli: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    await resetRollout(moto, f);
    await f.putReport(makeReport('compatible'));
    const traffic = publishAlbMetrics(f, HEALTHY);
    const run = startBgmig(
      ['--suffix', S, 'promote', '--steps', '25,100', '--bake', '60s', '--interval', `${INTERVAL_S}s`, '--latency-stat', 'Maximum'],
      f.env,
    );
    try {
      await run.waitFor(/step 1\/2 bake .* left — pass/);
      // Somewhere inside the interval, as an alarm would fire.
      await new Promise((r) => setTimeout(r, Math.random() * INTERVAL_S * 1000));
      await f.setAlarm('green', '5xx', 'ALARM');
      cli.push(await waitForGreen(f, 0, 30_000));
      await run.closed;
    } finally {
      await traffic.stop();
    }
  }
  log(
    `CLI loop (--interval ${INTERVAL_S}s): alarm ALARM → blue 100 read back: median ${median(cli)} ms, max ${Math.max(...cli)} ms over ${RUNS} runs (goal ≤ ${INTERVAL_S * 1000 + 1000} ms)`,
  );

  // 2. The guard handler, in-process.
  const cfg = { region: 'us-east-1', endpoint: moto.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } };
  const { Logger } = await import('@aws-lambda-powertools/logger');
  const handler = makeHandler({
    env: rollbackGuardEnv(f, S),
    listeners: listenersOver(async () => new ElasticLoadBalancingV2Client(cfg)),
    objects: objectStoreOver(async () => new S3Client({ ...cfg, forcePathStyle: true })),
    logger: new Logger({ serviceName: 'bgmig-rollback-guard', logLevel: 'SILENT' }),
  });
  const event = {
    source: 'aws.cloudwatch',
    'detail-type': 'CloudWatch Alarm State Change',
    detail: { alarmName: `alarm-green-5xx-${S}`, state: { value: 'ALARM' } },
  };
  const guard: number[] = [];
  const guardColdMs: number[] = [];
  for (let i = 0; i < 20; i++) {
    await f.setWeights({ blue: 50, green: 50 });
    const t0 = Date.now();
    await handler(event);
    const weights = await f.readWeights();
    if (weights.green !== 0) throw new Error(`guard did not roll back: ${JSON.stringify(weights)}`);
    (i === 0 ? guardColdMs : guard).push(Date.now() - t0);
  }
  log(
    `guard handler (in-process): alarm event → blue 100 read back: first call ${guardColdMs[0]} ms (SDK clients created), then median ${median(guard)} ms, max ${Math.max(...guard)} ms over ${guard.length} calls (goal ≤ 1000 ms)`,
  );

  // 3. bgmig rollback: API calls.
  await f.setWeights({ blue: 30, green: 70 });
  const aws = new AwsClients({ region: 'us-east-1', endpointUrl: moto.endpoint });
  const calls: Array<{ at: number; name: string }> = [];
  let modifiedAt = 0;
  for (const c of [await aws.cloudformation(), await aws.elbv2(), await aws.s3(), await aws.sts()]) {
    (c as { middlewareStack: { add: (m: unknown, o: unknown) => void } }).middlewareStack.add(
      (next: (a: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
        const out = await next(args);
        calls.push({ at: Date.now(), name: context.commandName ?? '?' });
        if (context.commandName === 'ModifyListenerCommand') modifiedAt = calls.length;
        return out;
      },
      { step: 'initialize', name: 'benchCount' },
    );
  }
  const { io } = memoryIo();
  const t0 = Date.now();
  await runRollback({ suffix: S }, { io, aws });
  const total = Date.now() - t0;
  const sequence = calls.map((c) => c.name.replace(/Command$/, ''));
  const toTraffic = sequence.slice(0, modifiedAt).filter((n) => n !== 'GetCallerIdentity');
  log(
    `bgmig rollback: ${toTraffic.length} AWS calls until blue 100 is verified (${toTraffic.join(', ')}), ${sequence.length} in total with the journal record (${sequence.join(', ')}); ${total} ms in-process (goal ≤ 3)`,
  );

  const machine = `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, load ${os.loadavg()[0].toFixed(1)}`;
  log(`machine: ${machine}; moto 5.2.1 on loopback`);
  const out = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results.json');
  writeFileSync(
    out,
    `${JSON.stringify({ measuredAt: new Date().toISOString(), machine, cliLoop: { intervalS: INTERVAL_S, runsMs: cli, medianMs: median(cli) }, guard: { coldMs: guardColdMs[0], warmMs: guard, medianMs: median(guard) }, rollback: { callsToTraffic: toTraffic, callsTotal: sequence, ms: total } }, null, 2)}\n`,
  );
} finally {
  await moto.stop();
}
