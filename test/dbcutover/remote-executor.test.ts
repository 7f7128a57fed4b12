/**
 * The AWS-mode executor (src/remote/cutover-client.ts): against moto (a deployed function that cannot run code — moto
 * answers "error running docker" — and a missing one), and with aws-sdk-client-mock for the payloads moto cannot
 * produce (a well-formed success, a structured failure, a crash, a timeout, the initial-copy wait).
 * `bgmig db init --suffix` runs in-process (runDbInit) against the operator-commands fixture on moto.
 */
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import {
  CreateFunctionCommand,
  InvokeCommand,
  LambdaClient,
  type LambdaClientResolvedConfig,
  type ServiceInputTypes,
  type ServiceOutputTypes,
} from '@aws-sdk/client-lambda';
import { type AwsStub, mockClient } from 'aws-sdk-client-mock';
import { execFileSync } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { functionsOver } from '../../src/aws/sdk.js';
import { AwsClients } from '../../src/aws/clients.js';
import { dbInitOptions, runDbInit } from '../../src/cli/commands/db/init.js';
import { Io } from '../../src/cli/io.js';
import { RemoteExecutor } from '../../src/remote/cutover-client.js';
import { BgmigError } from '../../src/core/errors.js';
import type { ProgressEvent, SwitchReport, SyncStartReport, SyncStatusReport } from '../../src/replication/api.js';
import { provisionFixture, type Fixture } from '../harness/aws-fixture.js';
import { runBgmig } from '../harness/cli.js';
import { startMoto, type Moto } from '../harness/moto.js';

const enc = (v: unknown) => new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v));

function zipOf(files: Record<string, string>): Buffer {
  const py = `import io,zipfile,sys,json\nb=io.BytesIO()\nz=zipfile.ZipFile(b,'w')\nfor k,v in json.loads(sys.argv[1]).items(): z.writestr(k,v)\nz.close()\nsys.stdout.buffer.write(b.getvalue())`;
  return execFileSync('python3', ['-c', py, JSON.stringify(files)]);
}

function memIo(): { io: Io; out: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let text = '';
  stdout.on('data', (d: Buffer) => (text += d.toString()));
  stderr.on('data', (d: Buffer) => (text += d.toString()));
  return { io: new Io({ json: false, color: false, verbose: true, yes: true }, { stdout, stderr, stdin: new PassThrough() }), out: () => text };
}

async function failureOf(p: Promise<unknown>): Promise<BgmigError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(BgmigError);
  return e as BgmigError;
}

/** One sentence: a single line, ending with a full stop, no stack trace. */
function expectOneSentence(msg: string): void {
  expect(msg.split('\n')).toHaveLength(1);
  expect(msg).toMatch(/\.$/);
  expect(msg).not.toMatch(/\bat .+:\d+:\d+/);
}

describe('remote executor against moto', () => {
  let moto: Moto;
  let fx: Fixture;
  const suffix = 'dbremote';
  beforeAll(async () => {
    moto = await startMoto();
    fx = await provisionFixture(moto, suffix);
  });
  afterAll(async () => {
    await moto?.stop();
  });

  function clients(): AwsClients {
    return new AwsClients({ region: 'us-east-1', endpointUrl: moto.endpoint });
  }

  it('a missing function: one sentence saying to deploy (db init --suffix in-process)', async () => {
    process.env.AWS_ACCESS_KEY_ID = 'testing';
    process.env.AWS_SECRET_ACCESS_KEY = 'testing';
    const { io } = memIo();
    const err = await failureOf(runDbInit(dbInitOptions({}, suffix), { io, aws: clients() }));
    expect(err.message).toBe(`The cutover function lambda-db-cutover-${suffix} does not exist: deploy the stack with this bgmig version (\`bgmig deploy\`).`);
    expect(err.exitCode).toBe(1);
  });

  it('a deployed function moto cannot run ("error running docker"): one sentence, exit 1, for every operation', async () => {
    const iam = new IAMClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
    const role = await iam.send(new CreateRoleCommand({ RoleName: `role-db-cutover-${suffix}`, AssumeRolePolicyDocument: '{}' }));
    const lambda = new LambdaClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
    await lambda.send(
      new CreateFunctionCommand({
        FunctionName: fx.outputs.CutoverFunctionName,
        Runtime: 'nodejs22.x',
        Role: role.Role!.Arn!,
        Handler: 'index.handler',
        Code: { ZipFile: zipOf({ 'index.mjs': 'export const handler = async () => ({ ok: true });' }) },
      }),
    );
    const { io } = memIo();
    const err = await failureOf(runDbInit(dbInitOptions({ schema: ['public'] }, suffix), { io, aws: clients() }));
    expectOneSentence(err.message);
    expect(err.message).toMatch(new RegExp(`^The cutover function lambda-db-cutover-${suffix} failed to run init \\(Handled: error running docker`));
    expect(err.message).toMatch(/see its CloudWatch logs \(log-lambda-db-cutover-dbremote\)/);
    expect(err.exitCode).toBe(1);

    // The real executable: exit 1, one line on stderr; with --json the same sentence as a document on stdout.
    const cli = await runBgmig(['db', 'init', '--suffix', suffix], { env: fx.env });
    expect(cli.code).toBe(1);
    // (The SDK's NodeVersionSupportWarning on Node 20 may precede it on stderr: not bgmig's text.)
    const errorLines = cli.stderr.split('\n').filter((l) => l.startsWith('error:'));
    expect(errorLines).toHaveLength(1);
    expect(errorLines[0]).toMatch(/^error: The cutover function lambda-db-cutover-dbremote failed to run init \(Handled: error running docker/);
    expect(cli.stderr).not.toMatch(/\n\s+at /);
    const json = await runBgmig(['db', 'init', '--suffix', suffix, '--json'], { env: fx.env });
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ error: { exitCode: 1, message: expect.stringMatching(/failed to run init/) } });

    const ex = new RemoteExecutor({
      functions: clients().functions,
      functionName: fx.outputs.CutoverFunctionName,
      logGroup: `log-lambda-db-cutover-${suffix}`,
    });
    for (const run of [() => ex.cutover({}), () => ex.rollback({}), () => ex.syncStatus({}), () => ex.syncStop({}), () => ex.syncStart({})]) {
      const e = await failureOf(run());
      expectOneSentence(e.message);
      expect(e.message).toMatch(/failed to run (cutover|rollback|syncStatus|syncStop|syncStart) \(Handled: error running docker/);
    }
  });
});

describe('remote executor with aws-sdk-client-mock', () => {
  // Installed for this block only: mockClient patches every LambdaClient, the moto block's included.
  let lambdaMock: AwsStub<ServiceInputTypes, ServiceOutputTypes, LambdaClientResolvedConfig>;
  beforeAll(() => {
    lambdaMock = mockClient(LambdaClient);
  });
  const ex = new RemoteExecutor({
    functions: functionsOver(async () => new LambdaClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } })),
    functionName: 'lambda-db-cutover-t',
    logGroup: 'log-lambda-db-cutover-t',
    pollMs: 5,
  });
  beforeEach(() => lambdaMock.reset());
  afterAll(() => lambdaMock?.restore());

  const switchReport: SwitchReport = {
    operation: 'cutover',
    from: 'blue',
    to: 'green',
    outcome: 'completed',
    active: 'green',
    resumed: false,
    pauseMs: 212,
    steps: [{ step: 'fenced', ms: 20 }],
    lsn: { fence: '0/3000060', drained: '0/3000060', reverseSlot: '0/3000100' },
    sequences: [],
    undo: [],
    durationMs: 900,
  };

  it('decodes a well-formed success, sends {operation, options} RequestResponse, and replays progress', async () => {
    const progress: ProgressEvent[] = [{ kind: 'step', step: 'fenced', status: 'done', ms: 20 }];
    lambdaMock
      .on(InvokeCommand)
      .resolves({ StatusCode: 200, Payload: enc({ ok: true, operation: 'cutover', report: switchReport, progress, durationMs: 950 }) as never });
    const seen: ProgressEvent[] = [];
    const r = await ex.cutover({ maxPauseMs: 5000 }, { progress: (e) => seen.push(e) });
    expect(r).toEqual(switchReport);
    expect(seen).toEqual(progress);
    const call = lambdaMock.commandCalls(InvokeCommand)[0].args[0].input;
    expect(call.FunctionName).toBe('lambda-db-cutover-t');
    expect(call.InvocationType).toBe('RequestResponse');
    expect(JSON.parse(new TextDecoder().decode(call.Payload as Uint8Array))).toEqual({ operation: 'cutover', options: { maxPauseMs: 5000 } });
  });

  it('an aborted cutover is a report, not an error', async () => {
    const aborted = { ...switchReport, outcome: 'aborted', active: 'blue', error: 'The drain did not finish within 10 s.' };
    lambdaMock
      .on(InvokeCommand)
      .resolves({ StatusCode: 200, Payload: enc({ ok: true, operation: 'cutover', report: aborted, progress: [], durationMs: 10 }) as never });
    expect((await ex.cutover({})).outcome).toBe('aborted');
  });

  it('a structured failure keeps its message, exit code and details', async () => {
    lambdaMock.on(InvokeCommand).resolves({
      StatusCode: 200,
      Payload: enc({
        ok: false,
        operation: 'cutover',
        error: { message: 'Replication lag is 40 MB, above --max-lag 16 MB: wait and retry.', exitCode: 3, details: { lagBytes: 41943040 } },
        progress: [],
        durationMs: 5,
      }) as never,
    });
    const e = await failureOf(ex.cutover({}));
    expect(e.message).toBe('Replication lag is 40 MB, above --max-lag 16 MB: wait and retry.');
    expect(e.exitCode).toBe(3);
    expect(e.details).toEqual({ lagBytes: 41943040 });
  });

  it('a FunctionError (the function crashed) is one sentence pointing at its logs', async () => {
    lambdaMock.on(InvokeCommand).resolves({
      StatusCode: 200,
      FunctionError: 'Unhandled',
      Payload: enc({
        errorType: 'Runtime.ImportModuleError',
        errorMessage: "Error: Cannot find module 'index'\nRequire stack:\n- /var/runtime/index.mjs",
        trace: ['x'],
      }) as never,
    });
    const e = await failureOf(ex.syncStatus({}));
    expectOneSentence(e.message);
    expect(e.message).toBe(
      "The cutover function lambda-db-cutover-t failed to run syncStatus (Runtime.ImportModuleError: Error: Cannot find module 'index'): see its CloudWatch logs (log-lambda-db-cutover-t) and check `bgmig db sync status`.",
    );
    expect(e.exitCode).toBe(1);
  });

  it('a timeout says to check status and re-run', async () => {
    lambdaMock.on(InvokeCommand).resolves({
      StatusCode: 200,
      FunctionError: 'Unhandled',
      Payload: enc({ errorType: 'Sandbox.Timedout', errorMessage: '2026-11-25T03:00:00.000Z abc Task timed out after 900.00 seconds' }) as never,
    });
    const e = await failureOf(ex.cutover({}));
    expectOneSentence(e.message);
    expect(e.message).toMatch(
      /^The cutover function lambda-db-cutover-t timed out during cutover \(.*Task timed out after 900\.00 seconds\): check `bgmig db sync status`, then re-run/,
    );
  });

  it('a payload that is not a result, or answers another operation, is one sentence', async () => {
    lambdaMock.on(InvokeCommand).resolves({ StatusCode: 200, Payload: enc('null') as never });
    expectOneSentence((await failureOf(ex.syncStop({}))).message);
    lambdaMock
      .on(InvokeCommand)
      .resolves({ StatusCode: 200, Payload: enc({ ok: true, operation: 'rollback', report: switchReport, progress: [], durationMs: 1 }) as never });
    expect((await failureOf(ex.cutover({}))).message).toMatch(/answered a rollback result to a cutover request/);
  });

  it('sync start returns at once from the function and waits for the initial copy here', async () => {
    const start: SyncStartReport = {
      direction: 'blue_to_green',
      active: 'blue',
      publication: 'bgmig_pub_blue',
      subscription: 'bgmig_sub_blue_to_green',
      schemas: ['public'],
      tables: ['public.a', 'public.b'],
      copy: { finished: false, tablesDone: 0, tablesTotal: 2, durationMs: 100, rows: 0, bytes: 0 },
      durationMs: 300,
    };
    const status = (state: SyncStatusReport['state'], ready: number): SyncStatusReport =>
      ({
        generatedAt: new Date().toISOString(),
        state,
        direction: 'blue_to_green',
        active: 'blue',
        pending: null,
        sides: {} as SyncStatusReport['sides'],
        subscription: null,
        tables: [
          { table: 'public.a', state: ready >= 1 ? 'ready' : 'copying' },
          { table: 'public.b', state: ready >= 2 ? 'ready' : 'copying' },
        ],
        slots: [],
        healthy: true,
        problems: [],
      }) as SyncStatusReport;
    const payloads = [
      { ok: true, operation: 'syncStart', report: start, progress: [], durationMs: 300 },
      { ok: true, operation: 'syncStatus', report: status('copying', 1), progress: [], durationMs: 10 },
      { ok: true, operation: 'syncStatus', report: status('streaming', 2), progress: [], durationMs: 10 },
    ];
    let i = 0;
    lambdaMock.on(InvokeCommand).callsFake(() => ({ StatusCode: 200, Payload: enc(payloads[Math.min(i++, payloads.length - 1)]) }));
    const copies: ProgressEvent[] = [];
    const r = await ex.syncStart({ schemas: ['public'] }, { progress: (e) => copies.push(e) });
    expect(r.copy.finished).toBe(true);
    expect(r.copy.tablesDone).toBe(2);
    expect(copies.filter((e) => e.kind === 'copy').map((e) => (e as { tablesDone: number }).tablesDone)).toEqual([1, 2]);
    const first = JSON.parse(new TextDecoder().decode(lambdaMock.commandCalls(InvokeCommand)[0].args[0].input.Payload as Uint8Array));
    expect(first).toEqual({ operation: 'syncStart', options: { schemas: ['public'], waitForCopy: false } });
  });
});
