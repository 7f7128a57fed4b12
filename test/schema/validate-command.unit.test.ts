/**
 * `runValidate` in AWS mode (--suffix): finds the stack, invokes the validator Lambda with the options as its
 * event; `emitValidation` renders the report and maps the verdict to the exit code. The SDK calls are mocked (moto cannot run a
 * Lambda without Docker); direct mode is covered end to end in validate-cli.test.ts.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AwsClients } from '../../src/aws/clients.js';
import { emitValidation, renderValidate as renderReport, resolveValidateOptions, runValidate, type ValidateFlags } from '../../src/cli/commands/validate.js';
import { Io } from '../../src/cli/io.js';
import { ExitCode } from '../../src/core/errors.js';
import type { ValidationReport } from '../../src/schema/report.js';

function memoryIo(json: boolean) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const io = new Io({ json, color: false, verbose: false, yes: true }, { stdout, stderr, stdin: new PassThrough() });
  return { io, out: () => out, err: () => err };
}

const REPORT: ValidationReport = {
  verdict: 'incompatible',
  blue: { serverVersion: '15.10', counts: { tables: 3, columns: 12 }, target: 'bgmig@blue.cluster:5432/app' },
  green: { serverVersion: '15.10', counts: { tables: 3, columns: 11 }, target: 'bgmig@green.cluster:5432/app' },
  differences: [
    {
      code: 'DS103',
      severity: 'breaking',
      object: 'public.orders.note',
      detail: 'column public.orders.note is missing on green: statements naming it fail',
      blue: 'text',
      green: null,
    },
    {
      code: 'SA104',
      severity: 'safe',
      object: 'public.orders_total_idx',
      detail: 'index public.orders_total_idx is new on green',
      blue: null,
      green: 'CREATE INDEX …',
    },
  ],
  durationMs: 412,
  generatedAt: '2026-11-25T03:00:00.000Z',
};

describe('bgmig validate --suffix (through the deployed Lambda)', () => {
  const cfn = mockClient(CloudFormationClient);
  const lambda = mockClient(LambdaClient);
  beforeEach(() => {
    cfn.on(DescribeStacksCommand).resolves({
      Stacks: [
        {
          StackName: 'bgmig-prod',
          StackStatus: 'UPDATE_COMPLETE',
          CreationTime: new Date(),
          Outputs: [{ OutputKey: 'ValidatorFunctionName', OutputValue: 'lambda-schema-validator-prod' }],
        },
      ],
    });
  });
  afterEach(() => {
    cfn.reset();
    lambda.reset();
  });

  const deps = (io: Io) => ({ io, aws: new AwsClients({ region: 'us-east-1' }) });
  /** What `bgmig validate` does once commander has the flags: resolve, run, write; resolves to the exit code. */
  const validate = async (flags: ValidateFlags, d: ReturnType<typeof deps>) =>
    emitValidation(
      d.io,
      await runValidate(
        resolveValidateOptions(flags, () => 'prod'),
        d,
      ),
    );

  it('invokes the function with the options as the event and exits 3 on incompatible', async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: new TextEncoder().encode(JSON.stringify(REPORT)) as never });
    const m = memoryIo(false);
    const code = await validate({ suffix: 'prod', schema: ['public'], ignore: ['IX101'] }, deps(m.io));
    expect(code).toBe(ExitCode.Refused);
    const call = lambda.commandCalls(InvokeCommand)[0].args[0].input;
    expect(call.FunctionName).toBe('lambda-schema-validator-prod');
    expect(JSON.parse(new TextDecoder().decode(call.Payload as Uint8Array))).toEqual({ includeSchemas: ['public'], ignoreCodes: ['IX101'] });
    expect(m.out()).toContain('INCOMPATIBLE  1 breaking, 0 risky, 1 safe — 412 ms');
    expect(m.out()).toContain('blue bgmig@blue.cluster:5432/app (PostgreSQL 15.10, 3 tables, 12 columns)');
  });

  it('--json prints exactly the Lambda report', async () => {
    lambda
      .on(InvokeCommand)
      .resolves({ StatusCode: 200, Payload: new TextEncoder().encode(JSON.stringify({ ...REPORT, verdict: 'compatible', differences: [] })) as never });
    const m = memoryIo(true);
    expect(await validate({ suffix: 'prod' }, deps(m.io))).toBe(ExitCode.Ok);
    expect(JSON.parse(m.out())).toEqual({ ...REPORT, verdict: 'compatible', differences: [] });
    expect(m.err()).toBe('');
  });

  it('an error report exits 1', async () => {
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      Payload: new TextEncoder().encode(JSON.stringify({ ...REPORT, verdict: 'error', differences: [], error: 'Blue database: Timed out.' })) as never,
    });
    const m = memoryIo(false);
    expect(await validate({ suffix: 'prod' }, deps(m.io))).toBe(ExitCode.Failure);
    // Issue 16: every error line on stderr.
    expect(m.err()).toMatch(/^error: Blue database: Timed out\./);
  });

  it('a function error (crash, timeout) is a failure with where to look', async () => {
    lambda
      .on(InvokeCommand)
      .resolves({ StatusCode: 200, FunctionError: 'Unhandled', Payload: new TextEncoder().encode('{"errorMessage":"Task timed out"}') as never });
    const m = memoryIo(false);
    await expect(validate({ suffix: 'prod' }, deps(m.io))).rejects.toThrow(/The validator function lambda-schema-validator-prod failed \(Unhandled\)/);
  });

  it('a suffix from BGMIG_SUFFIX does not block direct mode, one on the command line does', async () => {
    const m = memoryIo(false);
    await expect(validate({ suffix: 'prod', blueUrl: 'postgres://a@127.0.0.1:1/x', greenUrl: 'postgres://a@127.0.0.1:1/y' }, deps(m.io))).rejects.toMatchObject(
      { exitCode: ExitCode.BadInput },
    );
    // From the environment: direct mode runs (and fails to connect: port 1), proving the URLs won.
    const code = await validate(
      { suffix: 'prod', suffixFromEnv: true, blueUrl: 'postgres://a@127.0.0.1:1/x', greenUrl: 'postgres://a@127.0.0.1:1/y' },
      deps(m.io),
    );
    expect(code).toBe(ExitCode.Failure);
    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(0);
  });
});

describe('renderReport', () => {
  it('groups by severity with colours when asked', async () => {
    const { Chalk } = await import('chalk');
    const text = renderReport(REPORT, new Chalk({ level: 1 }));
    expect(text).toContain('\u001b[31m\u001b[1mBREAKING (1)');
    expect(text).toContain('\u001b[32mSAFE (1)');
    expect(text.indexOf('BREAKING')).toBeLessThan(text.indexOf('SAFE'));
  });
});
