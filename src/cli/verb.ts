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
 *
 * A result can be a failure at once (an error verdict, an aborted switch, objects left on an unreachable side, a
 * login not verified): `emit` with a `FailureOf` writes it under the one machine contract of every error
 * (docs/operating.md, "The --json contract").
 */
import type { ChalkInstance } from 'chalk';
import { ExitCode } from '../core/errors.js';
import { type CommandContext, errorDocument } from './context.js';
import type { Io } from './io.js';

/** What `register` calls once the flags are parsed: the options and the context; resolves to the exit code. */
export type RunF<O> = (opts: O, ctx: CommandContext) => Promise<ExitCode>;

/** Renders a result as human text with the given colours (no trailing newline needed). */
export type Render<R> = (result: R, style: ChalkInstance) => string;

/**
 * How a result that is also a failure is told: `sentence` names its cause and what to do (undefined when this
 * result is no failure), `code` is the stable machine code of its error document (e.g. "switch-aborted").
 */
export interface FailureOf<R> {
  sentence: (result: R) => string | undefined;
  code: string;
}

/**
 * Writes a verb's result and returns its exit code (`exitCodeOf(result)`, or 0 for verbs whose result is always a
 * success). A plain result is the JSON document with --json, else its rendering. A result whose exit code is not 0
 * and for which `failure.sentence` names a cause is written as every error is (the one machine contract): the
 * sentence on stderr, and on stdout the rendering (human) or exactly one document (--json),
 * `{"error": {message, exitCode, kind, code, details: {report: <the result>}}}`.
 */
export function emit<R>(io: Io, result: R, render: Render<R>, exitCodeOf?: (result: R) => ExitCode, failure?: FailureOf<R>): ExitCode {
  const code = exitCodeOf ? exitCodeOf(result) : ExitCode.Ok;
  const sentence = code !== ExitCode.Ok ? failure?.sentence(result) : undefined;
  if (failure === undefined || sentence === undefined) {
    io.result(result, () => render(result, io.style));
    return code;
  }
  if (io.json) io.streams.stdout.write(`${JSON.stringify(errorDocument(sentence, code, failure.code, { report: result }), null, 2)}\n`);
  else {
    const text = render(result, io.style);
    if (text) io.streams.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }
  io.error(sentence);
  return code;
}
