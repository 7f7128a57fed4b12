/**
 * `bgmig db rollback` in AWS mode refuses while the green service takes traffic (the green application may need
 * green's schema) unless --force. ELBv2 and CloudFormation are moto; only the cutover function's invocation is
 * mocked, because moto cannot run function code.
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AwsClients } from '../../src/aws/clients.js';
import { dbRollbackAction, dbRollbackOptions } from '../../src/cli/commands/db/rollback.js';
import type { CommandContext } from '../../src/cli/context.js';
import { BgmigError, ExitCode } from '../../src/core/errors.js';
import type { SideStatus, SwitchReport, SyncStatusReport } from '../../src/replication/api.js';
import { type Fixture, provisionFixture } from '../harness/aws-fixture.js';
import { type Moto, startMoto } from '../harness/moto.js';
import { memoryIo } from '../cli/support/memory-io.js';

const S = 'rbgate';

const side = (color: 'blue' | 'green', fenced: boolean): SideStatus => ({
  color,
  target: `bgmig_admin@aurora-${color}-${S}:5432/app`,
  reachable: true,
  serverVersion: '16.4',
  fence: { fenced, readOnlyDefault: fenced, connectRevokedFrom: fenced ? ['PUBLIC'] : [] },
  publication: color === 'green' ? 'bgmig_pub_green' : null,
  subscription: color === 'blue' ? 'bgmig_sub_green_to_blue' : null,
});

/** After a cutover: green active, replicating green→blue, blue fenced. */
const afterCutover: SyncStatusReport = {
  generatedAt: '2026-11-25T03:00:00.000Z',
  state: 'streaming',
  direction: 'green_to_blue',
  active: 'green',
  pending: null,
  sides: { blue: side('blue', true), green: side('green', false) },
  subscription: null,
  tables: [],
  slots: [],
  healthy: true,
  problems: [],
};

const rolledBack: SwitchReport = {
  operation: 'rollback',
  from: 'green',
  to: 'blue',
  outcome: 'completed',
  active: 'blue',
  resumed: false,
  pauseMs: 180,
  steps: [{ step: 'fenced', ms: 20 }],
  lsn: { fence: '0/3000060', drained: '0/3000060', reverseSlot: '0/3000100' },
  sequences: [],
  undo: [],
  durationMs: 700,
};

function respond(payload: unknown) {
  return { StatusCode: 200, Payload: new TextEncoder().encode(JSON.stringify(payload)) as never };
}

describe('db rollback traffic gate (AWS mode)', () => {
  let moto: Moto;
  let f: Fixture;
  const lambda = mockClient(LambdaClient);
  beforeAll(async () => {
    moto = await startMoto();
    Object.assign(process.env, moto.env);
    f = await provisionFixture(moto, S);
  });
  afterAll(async () => {
    lambda.restore();
    await moto?.stop();
  });
  beforeEach(() => {
    lambda.reset();
    lambda.on(InvokeCommand).callsFake((input: { Payload?: Uint8Array }) => {
      const ev = JSON.parse(new TextDecoder().decode(input.Payload)) as { operation: string };
      if (ev.operation === 'syncStatus') return respond({ ok: true, operation: 'syncStatus', report: afterCutover, progress: [], durationMs: 5 });
      if (ev.operation === 'rollback') return respond({ ok: true, operation: 'rollback', report: rolledBack, progress: [], durationMs: 700 });
      throw new Error(`unexpected operation ${ev.operation}`);
    });
  });

  function ctx(): { c: CommandContext; out: () => string } {
    const { io, stdout } = memoryIo({ yes: true });
    const aws = new AwsClients({ region: 'us-east-1', endpointUrl: moto.endpoint });
    return { c: { io, aws, globals: { suffix: S, region: 'us-east-1', json: false, color: false, verbose: false, yes: true }, suffix: () => S }, out: stdout };
  }

  const rollbackCalls = () =>
    lambda.commandCalls(InvokeCommand).filter((c) => new TextDecoder().decode(c.args[0].input.Payload as Uint8Array).includes('"rollback"'));

  it('refuses (exit 3) while green takes traffic, without invoking the rollback', async () => {
    await f.setWeights({ blue: 70, green: 30 });
    const e = await dbRollbackAction(dbRollbackOptions({}, S), ctx().c).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(BgmigError);
    expect((e as BgmigError).exitCode).toBe(ExitCode.Refused);
    expect((e as BgmigError).message).toBe(
      "The green service takes 30 % of traffic and may need green's schema: move traffic back first (`bgmig rollback`), or pass --force.",
    );
    expect(rollbackCalls()).toHaveLength(0);
  });

  it('--force rolls back even while green takes traffic', async () => {
    await f.setWeights({ blue: 70, green: 30 });
    const { c } = ctx();
    expect(await dbRollbackAction(dbRollbackOptions({ force: true }, S), c)).toBe(ExitCode.Ok);
    expect(rollbackCalls()).toHaveLength(1);
  });

  it('proceeds without --force once traffic is back on blue', async () => {
    await f.setWeights({ blue: 100, green: 0 });
    const { c } = ctx();
    expect(await dbRollbackAction(dbRollbackOptions({}, S), c)).toBe(ExitCode.Ok);
    expect(rollbackCalls()).toHaveLength(1);
  });
});
