/**
 * The one shape of a verb module (src/cli/commands/**), after GitHub's `gh` (`NewCmdX(f, runF)`) and Argo Rollouts'
 * kubectl plugin (a thin command over an exported action):
 *
 *   export interface XOptions { … }                            what the flags mean, parsed and checked
 *   export async function runX(opts, deps): Promise<XResult>    the action over the narrow deps it needs; a refusal or
 *                                                               failure is a thrown BgmigError (src/core/errors.ts)
 *   export function renderX(result, style): string              the human text (JSON is the result itself)
 *   export function exitCodeOf(result): ExitCode                only where a result is not always exit 0
 *   export function register(program, runF = …): void           parses flags into XOptions, then calls runF
 *
 * `register` never decides anything: a test passes its own runF to check parsing without running the action or
 * spawning the executable (test/harness/parse.ts), and the default runF is `run → emit`.
 */
import type { ChalkInstance } from 'chalk';
import { ExitCode } from '../core/errors.js';
import type { CommandContext } from './context.js';
import type { Io } from './io.js';

/** What `register` calls once the flags are parsed: the options and the context; resolves to the exit code. */
export type RunF<O> = (opts: O, ctx: CommandContext) => Promise<ExitCode>;

/** Renders a result as human text with the given colours (no trailing newline needed). */
export type Render<R> = (result: R, style: ChalkInstance) => string;

/**
 * Writes a verb's result — the JSON document with --json, else its rendering — and returns its exit code
 * (`exitCodeOf(result)`, or 0 for verbs whose result is always a success).
 */
export function emit<R>(io: Io, result: R, render: Render<R>, exitCodeOf?: (result: R) => ExitCode): ExitCode {
  io.result(result, () => render(result, io.style));
  return exitCodeOf ? exitCodeOf(result) : ExitCode.Ok;
}
