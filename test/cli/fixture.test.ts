import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { startMoto, type Moto } from '../harness/moto.js';
import { provisionFixture } from '../harness/aws-fixture.js';
import { names } from '../../src/core/naming.js';

describe('aws fixture on moto', () => {
  let moto: Moto;
  beforeAll(async () => {
    moto = await startMoto();
  });
  afterAll(async () => {
    await moto?.stop();
  });

  it('provisions every resource operations touch, named by names(), and a stack carrying the outputs', async () => {
    const f = await provisionFixture(moto, 'fx');
    const stack = (await f.clients.cloudformation.send(new DescribeStacksCommand({ StackName: names('fx').stack }))).Stacks?.[0];
    expect(stack?.StackStatus).toBe('CREATE_COMPLETE');
    const outs = Object.fromEntries((stack?.Outputs ?? []).map((o) => [o.OutputKey, o.OutputValue]));
    expect(outs).toEqual(f.outputs);
    expect(await f.readWeights()).toEqual({ blue: 100, green: 0 });
    await f.setWeights({ blue: 70, green: 30 });
    expect(await f.readWeights()).toEqual({ blue: 70, green: 30 });
    expect(await f.readDbRecord()).toBe(f.clusterEndpoint.blue);
    await f.setActiveDatabase('green');
    expect(await f.readDbRecord()).toBe(f.clusterEndpoint.green);
    const health = async () =>
      (await f.clients.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: f.targetGroupArn.green }))).TargetHealthDescriptions?.map(
        (d) => d.TargetHealth?.State,
      );
    expect(await health()).toEqual(['healthy', 'healthy']);
    await f.setTargetHealth('green', 'not-serving');
    expect(await health()).toEqual(['unused']);
    await f.setTargetHealth('green', 'none');
    expect(await health()).toEqual([]);
    await f.setAlarm('green', '5xx', 'ALARM');
    const alarms = await f.clients.cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: [names('fx').alarm('green', '5xx')] }));
    expect(alarms.MetricAlarms?.[0]?.StateValue).toBe('ALARM');
    await f.putReport({ verdict: 'compatible', blue: null, green: null, differences: [], durationMs: 1, generatedAt: '2026-11-25T00:00:00Z' });
    await f.restore();
    expect(await f.readWeights()).toEqual({ blue: 100, green: 0 });
    expect(await health()).toEqual(['healthy', 'healthy']);
    expect(await f.readDbRecord()).toBe(f.clusterEndpoint.blue);
    const after = await f.clients.cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: [names('fx').alarm('green', '5xx')] }));
    expect(after.MetricAlarms?.[0]?.StateValue).toBe('OK');
    await moto.reset();
    const again = await provisionFixture(moto, 'fx');
    expect(await again.readWeights()).toEqual({ blue: 100, green: 0 });
  });
});
