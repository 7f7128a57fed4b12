/**
 * What every command receives: IO, the AWS client factory and the global options. `action()` adapts a command's
 * run function to commander and turns every failure into one sentence plus the documented exit code.
 */
import type { Command } from 'commander';
import { badInput, type BgmigError, ExitCode, failure, isBgmigError, messageOf } from '../core/errors.js';
import { validateSuffix } from '../core/naming.js';
import { describeAwsError } from './aws-errors.js';
import { AwsClients } from '../aws/clients.js';
import type { AwsPorts } from '../aws/ports.js';
import { secretOnCommandLine } from './flag-rules.js';
import { parseAwsTimeout, validateEndpointUrl, validateProfile, validateRegion, validateRoleArn } from './global-inputs.js';
import { Io } from './io.js';

export interface GlobalOptions {
  suffix?: string;
  region: string;
  profile?: string;
  roleArn?: string;
  endpointUrl?: string;
  /** Bound on one AWS call, all retries included (a duration or whole seconds; BGMIG_AWS_TIMEOUT). */
  callTimeout?: string;
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

/**
 * Checks the global options before a command does anything (exit 2, one sentence): a known region, an existing
 * profile (also AWS_PROFILE), an IAM role ARN, an http(s) endpoint, a bounded timeout. Returns the bound in ms.
 */
export function checkGlobals(globals: GlobalOptions, env: NodeJS.ProcessEnv = process.env): { timeoutMs: number | undefined } {
  validateRegion(globals.region, env);
  if (globals.profile !== undefined) validateProfile(globals.profile, '--profile', env);
  else if (env.AWS_PROFILE) validateProfile(env.AWS_PROFILE, 'AWS_PROFILE', env);
  if (globals.roleArn !== undefined) validateRoleArn(globals.roleArn);
  if (globals.endpointUrl !== undefined) validateEndpointUrl(globals.endpointUrl, '--endpoint-url / AWS_ENDPOINT_URL');
  return { timeoutMs: globals.callTimeout !== undefined ? parseAwsTimeout(globals.callTimeout, '--call-timeout / BGMIG_AWS_TIMEOUT') : undefined };
}

export function makeContext(globals: GlobalOptions, io?: Io, timeoutMs?: number): CommandContext {
  const theIo = io ?? new Io({ json: globals.json, color: globals.color, verbose: globals.verbose, yes: globals.yes });
  const ctx: CommandContext = {
    io: theIo,
    aws: new AwsClients({
      region: globals.region,
      profile: globals.profile,
      roleArn: globals.roleArn,
      endpointUrl: globals.endpointUrl,
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
      // A wait longer than a moment says what it waits for and for how long (stderr: never mixed into --json).
      onSlowCall: (what, boundMs) => theIo.waiting(`waiting for ${what} (gives up after ${Math.round(boundMs / 1000)} s)…`),
    }),
    globals,
    suffix: () => validateSuffix(globals.suffix),
  };
  return ctx;
}

/** The --json error document: always these keys, `null` when a value does not apply. */
export interface ErrorDocument {
  error: {
    message: string;
    exitCode: ExitCode;
    /** "failure" (1), "bad-input" (2), "refused" (3). */
    kind: 'failure' | 'bad-input' | 'refused';
    /** A stable machine code when one applies (e.g. "unknown-option"), else null. */
    code: string | null;
    details: Record<string, unknown> | null;
  };
}

const KIND: Record<number, ErrorDocument['error']['kind']> = { [ExitCode.Failure]: 'failure', [ExitCode.BadInput]: 'bad-input', [ExitCode.Refused]: 'refused' };

export function errorDocument(message: string, exitCode: ExitCode, code: string | null = null, details: Record<string, unknown> | null = null): ErrorDocument {
  return { error: { message, exitCode, kind: KIND[exitCode] ?? 'failure', code, details } };
}

/** Maps any thrown value to a user-facing BgmigError (stack traces stay behind --verbose). */
export function toBgmigError(e: unknown, ctx: { aws: Pick<AwsPorts, 'endpoint' | 'region'> }): BgmigError {
  if (isBgmigError(e)) return e;
  const aws = describeAwsError(e, { endpoint: ctx.aws.endpoint, region: ctx.aws.region });
  if (aws) return aws;
  return failure(`Unexpected failure: ${messageOf(e)} (re-run with --verbose for details).`, e);
}

/** Reports an error on stderr (and as JSON on stdout with --json) and returns its exit code. */
export function reportError(e: unknown, ctx: CommandContext): ExitCode {
  const err = toBgmigError(e, ctx);
  ctx.io.error(err.message);
  if (ctx.io.verbose) {
    const cause = err.cause ?? e;
    if (cause instanceof Error && cause.stack) ctx.io.streams.stderr.write(`${cause.stack}\n`);
  }
  if (ctx.io.json) ctx.io.streams.stdout.write(`${JSON.stringify(errorDocument(err.message, err.exitCode, null, err.details ?? null), null, 2)}\n`);
  return err.exitCode;
}

/** Options that carry an admin URL (a password), and the environment variable each also reads. */
const URL_OPTION_ENV: Record<string, string> = { blueUrl: 'BGMIG_BLUE_URL', greenUrl: 'BGMIG_GREEN_URL', dbUrl: 'BGMIG_DB_URL' };

export type ActionFn<O> = (ctx: CommandContext, opts: O, args: string[]) => Promise<ExitCode | void>;

/** Adapts a run function to commander's .action(); the exit code lands in process.exitCode. */
export function action<O extends object>(fn: ActionFn<O>): (...params: unknown[]) => Promise<void> {
  return async (...params: unknown[]) => {
    const cmd = params[params.length - 1] as Command;
    const all = cmd.optsWithGlobals() as O & GlobalOptions;
    let ctx = makeContext(all);
    let code: ExitCode;
    try {
      // Every global input is checked before the command does anything.
      const { timeoutMs } = checkGlobals(all);
      if (timeoutMs !== undefined) ctx = makeContext(all, ctx.io, timeoutMs);
      // Admin URLs typed as arguments leak their password to `ps` and shell history: say which variable to use.
      for (const [key, env] of Object.entries(URL_OPTION_ENV)) {
        const value = (all as Record<string, unknown>)[key];
        secretOnCommandLine(ctx.io, `--${key.replace('Url', '-url')}`, typeof value === 'string' ? value : undefined, cmd.getOptionValueSource(key), env);
      }
      code = (await fn(ctx, all, cmd.args)) ?? ExitCode.Ok;
    } catch (e) {
      code = reportError(e, ctx);
    }
    process.exitCode = code;
  };
}

/** Parses an integer option strictly ("12.5", "abc", "" are rejected with exit 2). */
export function parseIntStrict(value: string, option: string, min: number, max: number): number {
  if (!/^-?\d+$/.test(value.trim())) throw badInput(`${option} must be a whole number from ${min} to ${max}, got "${value}".`);
  const n = Number(value);
  if (n < min || n > max) throw badInput(`${option} must be a whole number from ${min} to ${max}, got ${n}.`);
  return n;
}

/** Collects a repeatable option into an array (commander argParser). */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
