/**
 * The bgmig program: global options and the list of verbs. Each verb lives in src/cli/commands/<verb>.ts and
 * exports `register(program)` (thin commander wiring) plus its run function (the logic tests call directly).
 * Command modules keep their top-level imports light; SDKs and aws-cdk-lib are imported when a command runs.
 */
import { Command, CommanderError, Option } from 'commander';
import { packageVersion } from '../core/paths.js';
import { register as registerBootstrap } from './commands/bootstrap.js';
import { register as registerDb } from './commands/db.js';
import { register as registerDeploy } from './commands/deploy.js';
import { register as registerDestroy } from './commands/destroy.js';
import { register as registerDiff } from './commands/diff.js';
import { register as registerPromote } from './commands/promote.js';
import { register as registerRollback } from './commands/rollback.js';
import { register as registerRotate } from './commands/rotate-secret-manual.js';
import { register as registerStatus } from './commands/status.js';
import { register as registerSynth } from './commands/synth.js';
import { register as registerValidate } from './commands/validate.js';

const EXIT_CODES_HELP = `
Exit codes:
  0  success
  1  failure (AWS or database error, aborted cutover, failed check)
  2  bad input (nothing was changed)
  3  refused by a safety gate, or degraded/incompatible (nothing was changed)

Environment: BGMIG_SUFFIX (--suffix), AWS_ENDPOINT_URL (--endpoint-url), AWS_PROFILE, NO_COLOR.`;

export function buildProgram(): Command {
  const program = new Command('bgmig');
  program
    .description('Zero-downtime blue-green migrations on AWS: ECS Fargate behind one ALB, Aurora PostgreSQL with logical replication.')
    .version(packageVersion(), '-V, --version')
    .addOption(new Option('--suffix <name>', 'environment suffix: the stack is bgmig-<name>').env('BGMIG_SUFFIX'))
    .addOption(new Option('--region <region>', 'AWS region').default('us-east-1'))
    .addOption(new Option('--profile <name>', 'AWS shared-config profile'))
    .addOption(new Option('--role-arn <arn>', "assume this role (the stack's operator role) with a named session"))
    .addOption(new Option('--endpoint-url <url>', 'AWS endpoint override (an emulator)').env('AWS_ENDPOINT_URL'))
    .option('--json', 'machine output only on stdout (human text goes to stderr)', false)
    .option('--no-color', 'no colours (also NO_COLOR=1)')
    .option('--verbose', 'more detail, and stack traces on errors', false)
    .option('-y, --yes', 'answer yes to every confirmation (non-interactive use)', false)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .addHelpText('after', EXIT_CODES_HELP);

  for (const register of [
    registerSynth,
    registerDeploy,
    registerDiff,
    registerDestroy,
    registerBootstrap,
    registerStatus,
    registerValidate,
    registerPromote,
    registerRollback,
    registerRotate,
    registerDb,
  ]) {
    register(program);
  }
  return program;
}

/** Runs bgmig with argv (node-style: [node, script, ...args]) and resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      // Commander has already printed its one-line message (unknown option, missing argument, …).
      return 2;
    }
    throw e;
  }
  return typeof process.exitCode === 'number' ? process.exitCode : 0;
}
