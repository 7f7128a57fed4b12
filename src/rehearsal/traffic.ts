/**
 * The rehearsal's traffic phase on the emulator: the ALB metrics the bake analysis reads, published from what the
 * sample application's requests did, and `promote --steps 10,50,100` with a green alarm set in the middle of the
 * 50 % step's bake — which the rollout must answer by putting blue back at 100 % on its own.
 */
import { emitPromote, runPromote } from '../cli/commands/promote.js';
import type { CommandContext } from '../cli/context.js';
import type { Weights } from '../core/config.js';
import { names } from '../core/naming.js';
import { sleep } from '../core/sleep.js';
import { dimensionsOf } from '../rollout/metrics.js';
import { type ProvisionedStack, putMetricData } from './aws-stack.js';
import type { SampleApp } from './sample-app.js';
import { fmtMs, REHEARSAL_SUFFIX, type RehearsalIo, type Walk } from './walk.js';

/** The listener's weights as last sampled (the application routes by them; the alarm waits for green's 50 %). */
export interface LiveTraffic {
  weights: Weights;
}

/** The rollout as the rehearsal runs it: short bakes, checks every 500 ms. */
export const REHEARSAL_ROLLOUT = { steps: [10, 50, 100], bakeMs: 4_000, intervalMs: 500 } as const;

/**
 * Every 500 ms, per colour: RequestCount, HTTPCode_Target_5XX_Count and TargetResponseTime (average seconds) for
 * what that colour's code served — in namespace AWS/ApplicationELB with the LoadBalancer and TargetGroup dimensions
 * the ALB uses (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html).
 * Returns the timer (the caller clears it).
 */
export function publishAlbMetrics(st: ProvisionedStack, app: SampleApp): NodeJS.Timeout {
  const dims = dimensionsOf(st.loadBalancerArn, st.targetGroupArn);
  return setInterval(() => {
    const served = app.drainServed();
    const data = (['blue', 'green'] as const).flatMap((c) => {
      const f = served[c];
      if (f.requests === 0) return []; // the ALB publishes nothing when there is nothing to count
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
    if (data.length > 0) void putMetricData(st, 'AWS/ApplicationELB', data).catch(() => undefined);
  }, 500);
}

/**
 * Runs the rollout while a watcher sets green's 5xx alarm a third into the 50 % step's bake. The step holds when
 * promote exits 3 (rolled back) and the listener reads back blue 100 / green 0 after the alarm. Resolves to the
 * latency from the alarm to the first sampled blue 100 (null when it never came).
 */
export async function rolloutWithGreenAlarm(
  walk: Walk,
  st: ProvisionedStack,
  ctxFor: (io: RehearsalIo) => CommandContext,
  live: LiveTraffic,
): Promise<{ rollbackLatencyMs: number | null }> {
  const { tl } = walk;
  const alarm = names(REHEARSAL_SUFFIX).alarm('green', '5xx');
  const { steps, bakeMs, intervalMs } = REHEARSAL_ROLLOUT;
  let alarmAt: number | undefined;
  let promoteDone = false;
  const alarmWatch = (async () => {
    while (live.weights.green < 50) {
      if (promoteDone) return;
      await sleep(25);
    }
    await sleep(bakeMs / 3);
    alarmAt = tl.event(`${alarm} → ALARM`);
    await st.setAlarm('green', '5xx', 'ALARM', 'rehearsal: green returns 5xx');
    walk.line(`    (rehearsal) ${alarm} set to ALARM with SetAlarmState, ${fmtMs(bakeMs / 3)} into the 50 % step's bake`);
  })();
  // The rehearsal's load is small: a verdict needs 5 requests in a window, and the emulator cannot compute p99.
  await walk.command(
    'promote (rollout)',
    `bgmig promote --suffix ${REHEARSAL_SUFFIX} --steps ${steps.join(',')} --bake ${bakeMs / 1000}s --interval ${intervalMs}ms --min-requests 5 --max-inconclusive 10 --latency-stat Average`,
    (io) =>
      runPromote(
        { suffix: REHEARSAL_SUFFIX, steps: [...steps], bakeMs, intervalMs, thresholds: { minRequests: 5, maxInconclusive: 10, latencyStat: 'Average' } },
        { io, aws: ctxFor(io).aws },
      )
        .then((o) => emitPromote(io, o))
        .finally(() => {
          promoteDone = true;
        }),
    // 3: the rollout failed a check and rolled back — what must happen when green's alarm fires.
    { expect: [3] },
  );
  await alarmWatch;
  const back = await st.readWeights();
  live.weights = back;
  tl.weights(back);
  let rollbackLatencyMs: number | null = null;
  if (alarmAt !== undefined && back.blue === 100 && back.green === 0) {
    const at = alarmAt;
    const restored = tl.data.weights.find(([t, w]) => t >= at && w.blue === 100 && w.green === 0);
    rollbackLatencyMs = restored ? Math.round(restored[0] - at) : null;
  } else {
    walk.fail(
      'automatic rollback',
      'listener read back',
      `weights ${back.blue}/${back.green} after the rollout, alarm ${alarmAt === undefined ? 'never set' : 'set'}`,
    );
  }
  await st.setAlarm('green', '5xx', 'OK', 'rehearsal: resolved');
  return { rollbackLatencyMs };
}
