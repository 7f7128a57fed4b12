/**
 * Parses one verb's flags through its `register(program, runF)` alone — no AWS, no database, no subprocess — and
 * returns the options its runF received (or the exit code and message when parsing refused them). The seam of
 * src/cli/verb.ts, as `gh`'s NewCmdX(f, runF) tests do.
 */
import { Command } from 'commander';
import type { CommandContext } from '../../src/cli/context.js';
import { withGlobalOptions } from '../../src/cli/main.js';
import type { RunF } from '../../src/cli/verb.js';

export interface Parsed<O> {
  /** The options runF got; undefined when parsing or a check refused before it. */
  opts: O | undefined;
  ctx: CommandContext | undefined;
  exitCode: number;
  /** What went to stderr (the refusal's one sentence). */
  stderr: string;
}

/** argv without "node bgmig", e.g. ['rollback', '--suffix', 'x']. */
export async function parseVerb<O>(register: (program: Command, runF: RunF<O>) => void, argv: string[]): Promise<Parsed<O>> {
  const program = withGlobalOptions(new Command('bgmig')).exitOverride();
  let opts: O | undefined;
  let ctx: CommandContext | undefined;
  register(program, async (o, c) => {
    opts = o;
    ctx = c;
    return 0;
  });
  let stderr = '';
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  }) as typeof process.stderr.write;
  const before = process.exitCode;
  let exitCode = 0;
  try {
    await program.parseAsync(['node', 'bgmig', ...argv]);
    exitCode = typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    exitCode = typeof (e as { exitCode?: unknown }).exitCode === 'number' ? (e as { exitCode: number }).exitCode : 1;
  } finally {
    process.stderr.write = write;
    process.exitCode = before;
  }
  return { opts, ctx, exitCode, stderr };
}
