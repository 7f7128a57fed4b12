/**
 * `bgmig rehearse`: the whole migration on this machine — two embedded PostgreSQL servers, the AWS emulator when
 * installed, a sample application writing through the switch, the real commands in order, a summary and PASS/FAIL.
 * Thin wiring: the work is in src/rehearsal/ (loaded only when the command runs).
 */
import type { Command } from 'commander';
import { ExitCode } from '../../core/errors.js';
import { action } from '../context.js';

export interface RehearseCommandOptions {
  keep?: boolean;
  report?: string;
  pgBin?: string;
  /** false with --no-pooler. */
  pooler?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
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
      '\nIt starts its own servers, pooler and emulator (stack bgmig-rehearsal) and stops them at the end; --suffix,\n--endpoint-url and the AWS options do not apply. Exit 0 only on PASS.\n\nExamples:\n  $ npx bgmig rehearse\n  $ bgmig rehearse --report rehearsal.html\n  $ bgmig rehearse --pg-bin /usr/lib/postgresql/16/bin --keep',
    )
    .action(
      action<RehearseCommandOptions>(async (ctx, opts) => {
        const { rehearse } = await import('../../rehearsal/run.js');
        const stream = ctx.io.humanStream;
        const result = await rehearse(
          { keep: opts.keep, report: opts.report, pgBin: opts.pgBin, pooler: opts.pooler !== false, verbose: ctx.io.verbose },
          { line: (t) => stream.write(`${t}\n`) },
        );
        if (ctx.io.json) ctx.io.streams.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        return result.verdict.pass ? ExitCode.Ok : ExitCode.Failure;
      }),
    );
}
