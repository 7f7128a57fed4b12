/**
 * `bgmig rehearse`: the whole migration on this machine — two embedded PostgreSQL servers, the AWS emulator when
 * installed, a sample application writing through the switch, the real commands in order, a summary and PASS/FAIL.
 * Thin wiring: the work is in src/rehearsal/ (loaded only when the command runs).
 *
 * Differs from the verb shape in one way: the human report is streamed line by line while the rehearsal runs (a run
 * takes minutes), so renderRehearse has nothing left to say; with --json the result document is printed at the end.
 */
import type { ChalkInstance } from 'chalk';
import type { Command } from 'commander';
import { ExitCode } from '../../core/errors.js';
import type { RehearsalResult } from '../../rehearsal/run.js';
import { action } from '../context.js';
import type { Io } from '../io.js';
import { emit, type RunF } from '../verb.js';

export interface RehearseCommandOptions {
  /** --keep: leave the servers, pooler and emulator running afterwards. */
  keep: boolean;
  /** --report FILE: the HTML timeline. */
  report?: string | undefined;
  /** --pg-bin DIR: PostgreSQL server binaries instead of the embedded ones. */
  pgBin?: string | undefined;
  /** false with --no-pooler. */
  pooler: boolean;
}

/** Runs the rehearsal, its report lines on the human stream (stderr under --json); resolves to its result. */
export async function runRehearse(opts: RehearseCommandOptions, deps: { io: Io }): Promise<RehearsalResult> {
  const { rehearse } = await import('../../rehearsal/run.js');
  const stream = deps.io.humanStream;
  return rehearse(
    { keep: opts.keep, report: opts.report, pgBin: opts.pgBin, pooler: opts.pooler, verbose: deps.io.verbose },
    { line: (t) => stream.write(`${t}\n`) },
  );
}

/** Nothing: the report was streamed while the rehearsal ran. */
export function renderRehearse(_r: RehearsalResult, _style: ChalkInstance): string {
  return '';
}

/** 0 on PASS, 1 on FAIL. */
export function exitCodeOf(r: RehearsalResult): ExitCode {
  return r.verdict.pass ? ExitCode.Ok : ExitCode.Failure;
}

export function register(
  program: Command,
  runF: RunF<RehearseCommandOptions> = async (opts, ctx) => emit(ctx.io, await runRehearse(opts, ctx), renderRehearse, exitCodeOf),
): void {
  program
    .command('rehearse')
    .description(
      'run a whole blue-green migration on this machine (embedded PostgreSQL, the AWS emulator when installed): PASS only when every step held and no write was lost',
    )
    .option('--keep', 'leave the servers, the pooler and the emulator running afterwards (also after a failure, to look), and print how to drive them', false)
    .option('--report <file>', 'write a self-contained HTML timeline of the run')
    .option('--pg-bin <dir>', 'use the PostgreSQL server binaries in DIR instead of the embedded ones')
    .option('--no-pooler', 'connect the application to the database name even when PgBouncer is installed (to compare what clients see)')
    .addHelpText(
      'after',
      '\nIt starts its own servers, pooler and emulator (stack bgmig-rehearsal) and stops them at the end; --suffix,\n--endpoint-url and the AWS options do not apply. Exit 0 only on PASS.\n\nExamples:\n  $ bgmig rehearse\n  $ bgmig rehearse --report rehearsal.html\n  $ bgmig rehearse --pg-bin /usr/lib/postgresql/16/bin --keep',
    )
    .action(
      action<{ keep?: boolean; report?: string; pgBin?: string; pooler?: boolean }>(async (ctx, o) =>
        runF({ keep: Boolean(o.keep), report: o.report, pgBin: o.pgBin, pooler: o.pooler !== false }, ctx),
      ),
    );
}
