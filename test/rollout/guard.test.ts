/**
 * The rollback guard's handler, in-process against moto: the Lambda entry point with the environment the stack gives
 * it, fed the EventBridge event CloudWatch emits when a green alarm enters ALARM. It rolls back on exactly the
 * configured listener and journals; green at 0 is a journaled no-op; other alarms and transitions are ignored.
 */
import path from 'node:path';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import { listenersOver, objectStoreOver } from '../../src/aws/sdk.js';
import { RollbackGuardEnv } from '../../src/core/lambda-env.js';
import { type AlarmStateChangeEvent, makeHandler } from '../../src/lambda/rollback-guard.js';
import { type Fixture, provisionFixture, rollbackGuardEnv } from '../harness/aws-fixture.js';
import { REPO_ROOT } from '../harness/cli.js';
import { startMoto, type Moto } from '../harness/moto.js';
import { history } from './support.js';

const S = 'grd';
let moto: Moto;
let f: Fixture;
let handler: ReturnType<typeof makeHandler>;
let warnSpy: MockInstance;

beforeAll(async () => {
  moto = await startMoto();
  f = await provisionFixture(moto, S);
  const cfg = { region: 'us-east-1', endpoint: moto.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } };
  const { Logger } = await import('@aws-lambda-powertools/logger');
  const logger = new Logger({ serviceName: 'bgmig-rollback-guard', logLevel: 'INFO' });
  warnSpy = vi.spyOn(logger, 'warn');
  handler = makeHandler({
    env: rollbackGuardEnv(f, S),
    listeners: listenersOver(async () => new ElasticLoadBalancingV2Client(cfg)),
    objects: objectStoreOver(async () => new S3Client({ ...cfg, forcePathStyle: true })),
    logger,
  });
}, 120_000);
afterAll(async () => {
  await moto?.stop();
});
beforeEach(async () => {
  await f.restore();
  warnSpy?.mockClear();
});

function alarmEvent(alarmName: string, value: string, previous = 'OK'): AlarmStateChangeEvent {
  return {
    source: 'aws.cloudwatch',
    'detail-type': 'CloudWatch Alarm State Change',
    time: new Date().toISOString(),
    resources: [`arn:aws:cloudwatch:us-east-1:123456789012:alarm:${alarmName}`],
    detail: {
      alarmName,
      state: { value, reason: 'Threshold Crossed: 2 out of the last 3 datapoints were greater than or equal to the threshold (25.0).' },
      previousState: { value: previous },
    },
  };
}
const ctx = { awsRequestId: 'req-1', invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:lambda-rollback-guard-${S}` };

describe('rollback guard handler', () => {
  it('a green alarm entering ALARM with green at 50 %: blue 100 / green 0 on the listener, journaled', async () => {
    await f.setWeights({ blue: 50, green: 50 });
    const started = Date.now();
    const res = await handler(alarmEvent(`alarm-green-5xx-${S}`, 'ALARM'), ctx);
    const ms = Date.now() - started;
    expect(res).toMatchObject({ action: 'rollback', before: { blue: 50, green: 50 }, after: { blue: 100, green: 0 } });
    expect(await f.readWeights()).toEqual({ blue: 100, green: 0 });
    // A figure, not a verdict: the handler's latency is measured by bench/rollout; a loaded test machine cannot judge it.
    console.info(`guard rollback handled in ${ms} ms`);
    const [last] = await history(f);
    expect(last).toMatchObject({
      kind: 'guard-rollback',
      source: 'rollback-guard',
      who: ctx.invokedFunctionArn,
      from: { blue: 50, green: 50 },
      to: { blue: 100, green: 0 },
    });
    expect(last.summary).toMatch(
      /^Rollback guard: alarm-green-5xx-grd entered ALARM \(Threshold Crossed: .*\); set blue 50 \/ green 50 → blue 100 \/ green 0 \(verified\)$/,
    );
    expect(res.journalKey).toBe(last.key);
    // Structured log: one WARN entry with the result's fields (Powertools renders it as a JSON line).
    expect(warnSpy).toHaveBeenCalledWith(
      'guard rollback',
      expect.objectContaining({ action: 'rollback', before: { blue: 50, green: 50 }, after: { blue: 100, green: 0 }, journalKey: last.key }),
    );
  });

  it('green already at 0: a journaled no-op that does not touch the listener', async () => {
    const res = await handler(alarmEvent(`alarm-green-cpu-${S}`, 'ALARM'), ctx);
    expect(res).toMatchObject({ action: 'noop', before: { blue: 100, green: 0 }, after: { blue: 100, green: 0 } });
    expect(res.reason).toBe('alarm-green-cpu-grd is in ALARM but green already has 0 % (blue 100 / green 0)');
    const [last] = await history(f);
    expect(last).toMatchObject({ kind: 'guard-noop', summary: `Rollback guard: ${res.reason}; nothing to do` });
  });

  it('ignores blue alarms, transitions to OK and events of other sources, without reading or writing anything', async () => {
    await f.setWeights({ blue: 75, green: 25 });
    const before = (await history(f)).length;
    for (const ev of [
      alarmEvent(`alarm-blue-5xx-${S}`, 'ALARM'),
      alarmEvent(`alarm-green-5xx-${S}`, 'OK', 'ALARM'),
      { ...alarmEvent(`alarm-green-5xx-${S}`, 'ALARM'), source: 'aws.ec2' },
    ]) {
      expect((await handler(ev, ctx)).action).toBe('ignore');
    }
    expect(await f.readWeights()).toEqual({ blue: 75, green: 25 });
    expect((await history(f)).length).toBe(before);
  });

  it('a listener that no longer exists fails the invocation (so Lambda retries it) with one sentence', async () => {
    const broken = makeHandler({
      env: { ...rollbackGuardEnv(f, S), [RollbackGuardEnv.ListenerArn]: f.httpsListenerArn.replace(/\/[0-9a-f]+$/, '/0000000000000000') },
      listeners: listenersOver(
        async () =>
          new ElasticLoadBalancingV2Client({
            region: 'us-east-1',
            endpoint: moto.endpoint,
            credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
          }),
      ),
      objects: objectStoreOver(
        async () =>
          new S3Client({
            region: 'us-east-1',
            endpoint: moto.endpoint,
            forcePathStyle: true,
            credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
          }),
      ),
    });
    await expect(broken(alarmEvent(`alarm-green-5xx-${S}`, 'ALARM'), ctx)).rejects.toThrow(/no longer exists: redeploy the stack/);
  });

  it('the shipped bundle (dist/lambda/rollback-guard/index.mjs) rolls back with its own SDK clients', async () => {
    const env = {
      ...rollbackGuardEnv(f, S),
      ...f.env,
      POWERTOOLS_LOG_LEVEL: 'SILENT',
    };
    const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
    Object.assign(process.env, env);
    try {
      await f.setWeights({ blue: 60, green: 40 });
      const bundle = (await import(path.join(REPO_ROOT, 'dist', 'lambda', 'rollback-guard', 'index.mjs'))) as { handler: ReturnType<typeof makeHandler> };
      const res = await bundle.handler(alarmEvent(`alarm-green-unhealthy-hosts-${S}`, 'ALARM'), ctx);
      expect(res).toMatchObject({ action: 'rollback', before: { blue: 60, green: 40 }, after: { blue: 100, green: 0 } });
      expect(res.journalKey).toMatch(/^journal\/.*-traffic-guard-rollback-[0-9a-f]{6}\.json$/);
      expect(await f.readWeights()).toEqual({ blue: 100, green: 0 });
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  it('a missing environment variable is named', async () => {
    const h = makeHandler({ env: {} });
    await expect(h(alarmEvent(`alarm-green-5xx-${S}`, 'ALARM'), ctx)).rejects.toThrow(
      'The rollback guard has no BGMIG_SUFFIX environment variable: redeploy the stack with this bgmig version.',
    );
  });
});
