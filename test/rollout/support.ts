/**
 * What the rollout tests add to the shared moto fixture: the guard's EventBridge rule (as the stack deploys it),
 * ALB metrics published while a test runs (PutMetricData with the ALB's own namespace and dimensions, as the load
 * balancer would publish them), and helpers to read the journal and the lease.
 */
import { spawn } from 'node:child_process';
import { PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { EnableRuleCommand, EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { DeleteObjectCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { sleep } from '../../src/core/sleep.js';
import { type Color, COLORS, names } from '../../src/core/naming.js';
import { objectStoreOver } from '../../src/aws/sdk.js';
import { readHistory, type HistoryEntry } from '../../src/rollout/journal.js';
import { LEASE_KEY } from '../../src/rollout/lease.js';
import type { LeaseBody } from '../../src/rollout/plan.js';
import { dimensionsOf } from '../../src/rollout/metrics.js';
import type { Fixture } from '../harness/aws-fixture.js';
import { BGMIG_BIN, REPO_ROOT } from '../harness/cli.js';
import type { Moto } from '../harness/moto.js';

export function eventBridge(moto: Moto): EventBridgeClient {
  return new EventBridgeClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
}

/** The guard's rule and target, named and shaped as src/infra/constructs/rollback-guard.ts deploys them. */
export async function provisionGuardRule(moto: Moto, f: Fixture): Promise<void> {
  const n = names(f.suffix);
  const eb = eventBridge(moto);
  await eb.send(
    new PutRuleCommand({
      Name: n.rollbackGuardRule,
      State: 'ENABLED',
      EventPattern: JSON.stringify({
        source: ['aws.cloudwatch'],
        'detail-type': ['CloudWatch Alarm State Change'],
        resources: f.alarmNames.green.map((a) => `arn:aws:cloudwatch:us-east-1:${f.account}:alarm:${a}`),
        detail: { state: { value: ['ALARM'] } },
      }),
    }),
  );
  await eb.send(
    new PutTargetsCommand({
      Rule: n.rollbackGuardRule,
      Targets: [{ Id: 'guard', Arn: `arn:aws:lambda:us-east-1:${f.account}:function:${n.rollbackGuardFunction}` }],
    }),
  );
}

export async function resetRollout(moto: Moto, f: Fixture): Promise<void> {
  // CloudWatch windows start on a whole unit (moto truncates GetMetricData's StartTime to the second, AWS aligns to
  // the period): let the previous test's last datapoint fall into an earlier second than this test's first step.
  await sleep(1100);
  await Promise.all([
    f.restore(),
    f.clients.s3.send(new DeleteObjectCommand({ Bucket: f.bucket, Key: LEASE_KEY })),
    eventBridge(moto).send(new EnableRuleCommand({ Name: names(f.suffix).rollbackGuardRule })),
  ]);
}

export interface ColorTraffic {
  requests: number;
  errors5xx: number;
  /** Seconds. */
  latency: number;
}

/**
 * Publishes both colours' ALB metrics every `everyMs` until stopped: what the load balancer does once a minute in
 * AWS, compressed so a test's bake sees data in its window.
 */
export function publishAlbMetrics(
  f: Fixture,
  traffic: Record<Color, ColorTraffic>,
  everyMs = 250,
): { stop: () => Promise<void>; set: (c: Color, t: ColorTraffic) => void } {
  const d = dimensionsOf(f.loadBalancerArn, f.targetGroupArn);
  const current = { ...traffic };
  let running = true;
  const once = async () => {
    const now = new Date();
    await f.clients.cloudwatch.send(
      new PutMetricDataCommand({
        Namespace: 'AWS/ApplicationELB',
        MetricData: COLORS.flatMap((c) => {
          const Dimensions = [
            { Name: 'LoadBalancer', Value: d.loadBalancer },
            { Name: 'TargetGroup', Value: d.targetGroup[c] },
          ];
          const t = current[c];
          return [
            { MetricName: 'RequestCount', Dimensions, Value: t.requests, Timestamp: now, Unit: 'Count' as const },
            { MetricName: 'HTTPCode_Target_5XX_Count', Dimensions, Value: t.errors5xx, Timestamp: now, Unit: 'Count' as const },
            { MetricName: 'TargetResponseTime', Dimensions, Value: t.latency, Timestamp: now, Unit: 'Seconds' as const },
          ];
        }),
      }),
    );
  };
  const loop = (async () => {
    while (running) {
      await once().catch(() => undefined);
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
    },
    set: (c, t) => {
      current[c] = t;
    },
  };
}

export const HEALTHY: Record<Color, ColorTraffic> = {
  blue: { requests: 200, errors5xx: 1, latency: 0.12 },
  green: { requests: 100, errors5xx: 0, latency: 0.11 },
};

export async function history(f: Fixture): Promise<HistoryEntry[]> {
  return readHistory(
    objectStoreOver(async () => f.clients.s3),
    f.bucket,
  );
}

export async function readLeaseBody(f: Fixture): Promise<LeaseBody | undefined> {
  try {
    const res = await f.clients.s3.send(new GetObjectCommand({ Bucket: f.bucket, Key: LEASE_KEY }));
    return JSON.parse((await res.Body?.transformToString()) ?? '{}') as LeaseBody;
  } catch {
    return undefined;
  }
}

export interface Running {
  out: () => string;
  err: () => string;
  closed: Promise<number | null>;
  kill: (sig: NodeJS.Signals) => void;
  /** Resolves when stdout/stderr matches. */
  waitFor: (re: RegExp, timeoutMs?: number) => Promise<void>;
}

/** The real executable in the background (for signals and concurrency). */
export function startBgmig(args: string[], env: Record<string, string>): Running {
  const child = spawn(process.execPath, [BGMIG_BIN, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env, AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null', AWS_EC2_METADATA_DISABLED: 'true', NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  let exited = false;
  const closed = new Promise<number | null>((resolve) =>
    child.on('close', (c) => {
      exited = true;
      resolve(c);
    }),
  );
  const killer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  void closed.then(() => clearTimeout(killer));
  return {
    out: () => out,
    err: () => err,
    closed,
    kill: (sig) => child.kill(sig),
    waitFor: async (re, timeoutMs = 60_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!re.test(out + err)) {
        if (exited || Date.now() > deadline) throw new Error(`waited for ${re} (exited: ${exited})\nstdout:\n${out}\nstderr:\n${err}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}

/** Polls until the listener has `green` % (or the deadline); returns the milliseconds it took. */
export async function waitForGreen(f: Fixture, green: number, timeoutMs = 30_000): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if ((await f.readWeights()).green === green) return Date.now() - started;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`green never reached ${green} % within ${timeoutMs} ms (now ${JSON.stringify(await f.readWeights())})`);
}
