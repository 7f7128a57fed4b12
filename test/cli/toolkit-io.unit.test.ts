/**
 * The toolkit IoHost: progress rendering (spinner on a terminal, plain lines otherwise) and the approval policy
 * of --require-approval, fed with the message codes toolkit-lib 1.40 emits (see its api/io/private/messages).
 */
import type { IoMessage, IoRequest } from '@aws-cdk/toolkit-lib';
import { afterEach, describe, expect, it } from 'vitest';
import { parseRequireApproval, ToolkitIoHost } from '../../src/cli/toolkit-io.js';
import { BgmigError } from '../../src/core/errors.js';
import { memoryIo } from './support/memory-io.js';

function msg(code: string, data: unknown, level: IoMessage<unknown>['level'] = 'info', message = ''): IoMessage<unknown> {
  return { time: new Date(), level, action: 'deploy', code: code as IoMessage<unknown>['code'], message, data };
}
function request(permissionChangeType: string): IoRequest<unknown, boolean> {
  const m = msg('CDK_TOOLKIT_I5060', { permissionChangeType, templateDiffs: {}, motivation: 'm' }, 'info', 'Stack bgmig-x\nIAM Statement Changes …');
  return { ...m, code: 'CDK_TOOLKIT_I5060' as IoRequest<unknown, boolean>['code'], defaultResponse: false };
}
const start = msg('CDK_TOOLKIT_I5501', { stackName: 'bgmig-x', resourcesTotal: 12 });
const activity = (completed: number, id: string, status: string, reason?: string) =>
  msg('CDK_TOOLKIT_I5502', { event: { LogicalResourceId: id, ResourceStatus: status, ResourceStatusReason: reason }, progress: { completed, total: 12 } });
const end = msg('CDK_TOOLKIT_I5503', { stackName: 'bgmig-x' });

const savedCi = process.env.CI;
afterEach(() => {
  if (savedCi === undefined) delete process.env.CI;
  else process.env.CI = savedCi;
});

describe('ToolkitIoHost', () => {
  it('without a terminal prints one plain line per stack event, with the failure reason', async () => {
    const m = memoryIo();
    const host = new ToolkitIoHost(m.io);
    await host.notify(start);
    await host.notify(activity(3, 'GreenService', 'CREATE_IN_PROGRESS'));
    await host.notify(activity(4, 'GreenService', 'CREATE_FAILED', 'Resource handler returned message: "boom"'));
    await host.notify(end);
    const lines = m.stdout().trim().split('\n');
    expect(lines[0]).toBe('bgmig-x: deploying (12 resources)');
    expect(lines[1]).toMatch(/^ {2}\[3\/12\] GreenService CREATE_IN_PROGRESS \(\d+s\)$/);
    expect(lines[2]).toMatch(/^ {2}\[4\/12\] GreenService CREATE_FAILED — Resource handler returned message: "boom" \(\d+s\)$/);
    expect(lines[3]).toMatch(/^bgmig-x: CloudFormation finished \(\d+s\)$/);
    expect(m.stdout()).not.toContain('\x1b[');
  });

  it('on a terminal renders an ora spinner with done/total, the resource in progress and elapsed time', async () => {
    delete process.env.CI;
    const m = memoryIo();
    // What ora needs of a terminal stream (node's tty.WriteStream has these).
    Object.assign(m.io.streams.stdout, { isTTY: true, columns: 120, cursorTo: () => true, clearLine: () => true, moveCursor: () => true });
    const host = new ToolkitIoHost(m.io);
    await host.notify(start);
    await host.notify(activity(5, 'Alb', 'CREATE_IN_PROGRESS'));
    await new Promise((r) => setTimeout(r, 250)); // let ora draw a frame
    await host.notify(end);
    expect(m.stdout()).toMatch(/bgmig-x: 5\/12 resources — Alb CREATE_IN_PROGRESS \(\d+s\)/);
    expect(m.stdout()).toContain('bgmig-x: CloudFormation finished');
  });

  it('sends warnings and errors to stderr and SDK traces only under --verbose', async () => {
    const quiet = memoryIo();
    const host = new ToolkitIoHost(quiet.io);
    await host.notify(msg('CDK_TOOLKIT_E9999', undefined, 'error', 'something broke'));
    await host.notify(msg('CDK_TOOLKIT_W0000', undefined, 'warn', 'careful'));
    await host.notify(msg('CDK_SDK_I0100', undefined, 'trace', 'CloudFormation.DescribeStacks'));
    expect(quiet.stderr()).toBe('error: something broke\nwarning: careful\n');
    expect(host.errors).toEqual(['something broke']);
    const loud = memoryIo({ verbose: true });
    await new ToolkitIoHost(loud.io).notify(msg('CDK_SDK_I0100', undefined, 'trace', 'CloudFormation.DescribeStacks'));
    expect(loud.stderr()).toContain('debug: CloudFormation.DescribeStacks');
  });

  it('--require-approval: never approves, broadening asks only for broadening, any-change always asks', async () => {
    // No --yes and no terminal: had 'never' asked, it would have refused instead of approving.
    expect(await new ToolkitIoHost(memoryIo().io, 'never').requestResponse(request('broadening'))).toBe(true);
    expect(await new ToolkitIoHost(memoryIo().io, 'broadening').requestResponse(request('none'))).toBe(true);
    // Asking without a terminal and without --yes refuses (exit 3).
    await expect(new ToolkitIoHost(memoryIo().io, 'broadening').requestResponse(request('broadening'))).rejects.toThrow(
      /no terminal to ask: re-run with --yes/,
    );
    await expect(new ToolkitIoHost(memoryIo().io, 'any-change').requestResponse(request('none'))).rejects.toBeInstanceOf(BgmigError);
    // With --yes the question is still shown (the diff goes to stderr), then approved.
    const shown = memoryIo({ yes: true });
    expect(await new ToolkitIoHost(shown.io, 'any-change').requestResponse(request('non-broadening'))).toBe(true);
    expect(shown.stderr()).toContain('IAM Statement Changes');
  });

  it('rejects an unknown --require-approval with exit 2', () => {
    expect(parseRequireApproval(undefined)).toBe('broadening');
    expect(() => parseRequireApproval('sometimes')).toThrow('--require-approval must be one of never, broadening, any-change, got "sometimes".');
  });
});
