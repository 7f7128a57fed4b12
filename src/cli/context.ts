/**
 * What every command receives: IO, the AWS client factory and the global options. `action()` adapts a command's
 * run function to commander and turns every failure into one sentence plus the documented exit code.
 */
import type { Command } from 'commander';
import { BgmigError, ExitCode, isBgmigError, messageOf } from '../core/errors.js';
import { validateSuffix } from '../core/naming.js';
import { describeAwsError } from './aws-errors.js';
import { AwsClients } from './aws.js';
import { Io } from './io.js';

export interface GlobalOptions {
  suffix?: string;
  region: string;
  profile?: string;
  roleArn?: string;
  endpointUrl?: string;
  json: boolean;
  color: boolean;
  verbose: boolean;
  yes: boolean;
}

export interface CommandContext {
  io: Io;
  aws: AwsClients;
  globals: GlobalOptions;
  /** The validated --suffix (exit 2 with one sentence when missing or invalid). */
  suffix(): string;
}

export function makeContext(globals: GlobalOptions, io?: Io): CommandContext {
  const ctx: CommandContext = {
    io: io ?? new Io({ json: globals.json, color: globals.color, verbose: globals.verbose, yes: globals.yes }),
    aws: new AwsClients({ region: globals.region, profile: globals.profile, roleArn: globals.roleArn, endpointUrl: globals.endpointUrl }),
    globals,
    suffix: () => validateSuffix(globals.suffix),
  };
  return ctx;
}

/** Maps any thrown value to a user-facing BgmigError (stack traces stay behind --verbose). */
export function toBgmigError(e: unknown, ctx: Pick<CommandContext, 'aws'>): BgmigError {
  if (isBgmigError(e)) return e;
  const aws = describeAwsError(e, { endpoint: ctx.aws.endpoint, region: ctx.aws.region });
  if (aws) return aws;
  return new BgmigError(`Unexpected failure: ${messageOf(e)} (re-run with --verbose for details).`, ExitCode.Failure, { cause: e });
}

/** Reports an error on stderr (and as JSON on stdout with --json) and returns its exit code. */
export function reportError(e: unknown, ctx: CommandContext): ExitCode {
  const err = toBgmigError(e, ctx);
  ctx.io.error(err.message);
  if (ctx.io.verbose) {
    const cause = err.cause ?? e;
    if (cause instanceof Error && cause.stack) ctx.io.streams.stderr.write(`${cause.stack}\n`);
  }
  if (ctx.io.json) {
    ctx.io.streams.stdout.write(`${JSON.stringify({ error: { message: err.message, exitCode: err.exitCode, ...(err.details ? { details: err.details } : {}) } }, null, 2)}\n`);
  }
  return err.exitCode;
}

export type ActionFn<O> = (ctx: CommandContext, opts: O, args: string[]) => Promise<ExitCode | void>;

/** Adapts a run function to commander's .action(); the exit code lands in process.exitCode. */
export function action<O extends object>(fn: ActionFn<O>): (...params: unknown[]) => Promise<void> {
  return async (...params: unknown[]) => {
    const cmd = params[params.length - 1] as Command;
    const all = cmd.optsWithGlobals() as O & GlobalOptions;
    const ctx = makeContext(all);
    let code: ExitCode;
    try {
      code = (await fn(ctx, all, cmd.args)) ?? ExitCode.Ok;
    } catch (e) {
      code = reportError(e, ctx);
    }
    process.exitCode = code;
  };
}

/** Parses an integer option strictly ("12.5", "abc", "" are rejected with exit 2). */
export function parseIntStrict(value: string, option: string, min: number, max: number): number {
  if (!/^-?\d+$/.test(value.trim())) throw new BgmigError(`${option} must be a whole number from ${min} to ${max}, got "${value}".`, ExitCode.BadInput);
  const n = Number(value);
  if (n < min || n > max) throw new BgmigError(`${option} must be a whole number from ${min} to ${max}, got ${n}.`, ExitCode.BadInput);
  return n;
}

/** Collects a repeatable option into an array (commander argParser). */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
