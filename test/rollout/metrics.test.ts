/**
 * The ALB metrics reader against the emulator's CloudWatch: a window that starts when the step's weights were set is
 * read conclusively even on the poll right after (start and end in the same second), and counts come back summed.
 */
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricsOver } from '../../src/aws/sdk.js';
import { dimensionsOf, readAlbMetrics } from '../../src/rollout/metrics.js';
import { startMoto, type Moto } from '../harness/moto.js';

let moto: Moto;
let cw: CloudWatchClient;
const d = dimensionsOf('arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/alb-met/1', {
  blue: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg-met-blue/2',
  green: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg-met-green/3',
});

beforeAll(async () => {
  moto = await startMoto();
  cw = new CloudWatchClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
});
afterAll(async () => {
  cw?.destroy();
  await moto?.stop();
});

describe('readAlbMetrics', () => {
  it('reads a window whose start and end are the same instant (the first poll of a step) conclusively', async () => {
    const now = new Date();
    const m = await readAlbMetrics(
      metricsOver(async () => cw),
      d,
      now,
      now,
      'Maximum',
    );
    expect(m.errors).toEqual([]);
    expect(m.blue.requests).toBe(0);
    expect(m.green.requests).toBe(0);
  });

  it('sums the requests and 5xx counts each colour published inside the window', async () => {
    const start = new Date(Date.now() - 1000);
    for (const [tg, requests, errors] of [
      [d.targetGroup.green, 40, 4],
      [d.targetGroup.blue, 60, 0],
    ] as const) {
      const Dimensions = [
        { Name: 'LoadBalancer', Value: d.loadBalancer },
        { Name: 'TargetGroup', Value: tg },
      ];
      await cw.send(
        new PutMetricDataCommand({
          Namespace: 'AWS/ApplicationELB',
          MetricData: [
            { MetricName: 'RequestCount', Dimensions, Value: requests, Timestamp: new Date() },
            { MetricName: 'HTTPCode_Target_5XX_Count', Dimensions, Value: errors, Timestamp: new Date() },
          ],
        }),
      );
    }
    const m = await readAlbMetrics(
      metricsOver(async () => cw),
      d,
      start,
      new Date(Date.now() + 1000),
      'Maximum',
    );
    expect(m.errors).toEqual([]);
    expect(m.green).toMatchObject({ requests: 40, errors5xx: 4 });
    expect(m.blue).toMatchObject({ requests: 60, errors5xx: 0 });
  });
});
