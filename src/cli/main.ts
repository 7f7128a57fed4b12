/**
 * The bgmig program: global options and the list of verbs. Each verb lives in src/cli/commands/<verb>.ts in the
 * one shape src/cli/verb.ts describes: `register(program, runF?)` parses flags, `runX` acts, `renderX` renders.
 * Command modules keep their top-level imports light; SDKs and aws-cdk-lib are imported when a command runs.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { ExitCode } from '../core/errors.js';
import { packageRoot, packageVersion } from '../core/paths.js';
import { register as registerBootstrap } from './commands/bootstrap.js';
import { register as registerDb } from './commands/db.js';
import { register as registerDeploy } from './commands/deploy.js';
import { register as registerDestroy } from './commands/destroy.js';
import { register as registerDiff } from './commands/diff.js';
import { register as registerPromote } from './commands/promote.js';
import { register as registerRehearse } from './commands/rehearse.js';
import { register as registerHistory } from './commands/history.js';
import { register as registerRollback } from './commands/rollback.js';
import { register as registerRotate } from './commands/rotate-secret-manual.js';
import { register as registerStatus } from './commands/status.js';
import { register as registerSynth } from './commands/synth.js';
import { register as registerValidate } from './commands/validate.js';
import { DEFAULT_AWS_TIMEOUT_MS } from '../aws/clients.js';
import { errorDocument } from './context.js';
import { isSafeCommand, isSafeOption, safeSuggestion } from './suggest.js';

/** Set by scripts/build.mjs (esbuild define) to the commit the bundle was built from. */
declare const __BGMIG_COMMIT__: string | undefined;

const EXIT_CODES_TABLE = `Exit codes:
  0  success
  1  failure (AWS or database error, aborted cutover, failed check, a call that got no answer within --call-timeout)
  2  bad input (nothing was changed)
  3  refused by a safety gate, or degraded/incompatible (nothing was changed)`;

const EXIT_CODES_HELP = `
${EXIT_CODES_TABLE}

With --json every error, including a mistyped option, is {"error": {"message", "exitCode", "kind", "code",
"details"}} on stdout (keys always present, null when they do not apply); the sentence is also on stderr.

Environment: BGMIG_SUFFIX (--suffix), BGMIG_AWS_TIMEOUT (--call-timeout), AWS_ENDPOINT_URL (--endpoint-url), AWS_PROFILE,
NO_COLOR, FORCE_COLOR, TERM=dumb (no colour).`;

/** Commands whose help states their own, more specific exit codes. */
const OWN_EXIT_CODES = new Set(['synth', 'status', 'validate']);

/**
 * The version with the commit it was built from (scripts/build.mjs), or read from the checkout's .git at run time
 * (tests run from source), or "unknown": `0.1.0 (commit 1a2b3c4d5e6f)`.
 */
export function versionString(): string {
  const built = typeof __BGMIG_COMMIT__ === 'string' ? __BGMIG_COMMIT__ : undefined;
  return `${packageVersion()} (commit ${built ?? gitCommit() ?? 'unknown'})`;
}

function gitCommit(): string | undefined {
  try {
    const git = path.join(packageRoot(), '.git');
    if (!existsSync(git)) return undefined;
    const head = readFileSync(path.join(git, 'HEAD'), 'utf8').trim();
    if (!head.startsWith('ref: ')) return head.slice(0, 12);
    const ref = head.slice(5);
    const loose = path.join(git, ref);
    if (existsSync(loose)) return readFileSync(loose, 'utf8').trim().slice(0, 12);
    const packed = readFileSync(path.join(git, 'packed-refs'), 'utf8')
      .split('\n')
      .find((l) => l.endsWith(` ${ref}`));
    return packed?.slice(0, 12);
  } catch {
    return undefined;
  }
}

/** Full command path under bgmig ("db sync status"). */
function commandPath(cmd: Command): string {
  const parts: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) parts.unshift(c.name());
  return parts.join(' ');
}

/**
 * commander's Command with typo suggestions that never name a command that changes something or an option that
 * turns a gate off (src/cli/suggest.ts). Subcommands are created through createCommand, so they inherit it.
 */
class BgmigCommand extends Command {
  override createCommand(name?: string): Command {
    return new BgmigCommand(name);
  }

  /** Replaces commander's unknownCommand (same message and code; the suggestion is filtered). */
  unknownCommand(): void {
    const word = this.args[0] ?? '';
    const candidates = this.commands.filter((c) => !(c as unknown as { _hidden?: boolean })._hidden).map((c) => c.name());
    const here = commandPath(this);
    const suggestion = safeSuggestion(word, [...candidates, ...(this.parent ? [] : ['help'])], (c) => isSafeCommand(here ? `${here} ${c}` : c));
    this.error(`error: unknown command '${word}'${suggestion}`, { code: 'commander.unknownCommand', exitCode: ExitCode.BadInput });
  }

  /** Replaces commander's unknownOption (same message and code; the suggestion is filtered). */
  unknownOption(flag: string): void {
    let candidates: string[] = [];
    for (let c: Command | null = this; c; c = c.parent) candidates = candidates.concat(c.options.filter((o) => o.long && !o.hidden).map((o) => o.long ?? ''));
    const suggestion = flag.startsWith('--') ? safeSuggestion(flag, candidates, isSafeOption) : '';
    this.error(`error: unknown option '${flag}'${suggestion}`, { code: 'commander.unknownOption', exitCode: ExitCode.BadInput });
  }
}

/** Adds the exit codes to the help of every command below `cmd` that does not state its own. */
function addExitCodesHelp(cmd: Command): void {
  for (const sub of cmd.commands) {
    const topLevel = cmd.parent === null;
    if (!(topLevel && OWN_EXIT_CODES.has(sub.name()))) sub.addHelpText('after', `\n${EXIT_CODES_TABLE}`);
    addExitCodesHelp(sub);
  }
}

/**
 * The global options every verb sees (--suffix first: it names the environment every command acts on; the version
 * flag goes last). Exported so a test can parse one verb's flags through `register(program, runF)` alone.
 */
export function withGlobalOptions(program: Command): Command {
  return program
    .addOption(new Option('--suffix <name>', 'environment suffix: the stack is bgmig-<name>').env('BGMIG_SUFFIX'))
    .addOption(new Option('--region <region>', 'AWS region (checked against the known regions)').default('us-east-1'))
    .addOption(new Option('--profile <name>', 'AWS shared-config profile (must exist in ~/.aws/config or ~/.aws/credentials)'))
    .addOption(new Option('--role-arn <arn>', "assume this role (the stack's operator role) with a named session"))
    .addOption(new Option('--endpoint-url <url>', 'AWS endpoint override (an emulator)').env('AWS_ENDPOINT_URL'))
    .addOption(
      new Option('--call-timeout <duration>', `give up on one AWS call after this long, retries included (e.g. 20s, 2m; Lambda invocations: up to 15m30s)`)
        .env('BGMIG_AWS_TIMEOUT')
        .default(`${DEFAULT_AWS_TIMEOUT_MS / 1000}s`),
    )
    .option('--json', 'machine output only on stdout (human text goes to stderr)', false)
    .option('--no-color', 'no colours (also NO_COLOR=1, TERM=dumb; FORCE_COLOR=1 forces them)')
    .option('--verbose', 'more detail, and stack traces on errors', false)
    .option('-y, --yes', 'answer yes to every confirmation (non-interactive use)', false);
}

export function buildProgram(): Command {
  const program = new BgmigCommand('bgmig');
  withGlobalOptions(program.description('Zero-downtime blue-green migrations on AWS: ECS Fargate behind one ALB, Aurora PostgreSQL with logical replication.'))
    .version(versionString(), '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    // Every subcommand's help lists the global options too (--suffix above all).
    .configureHelp({ showGlobalOptions: true })
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
    registerHistory,
    registerRotate,
    registerDb,
    registerRehearse,
  ]) {
    register(program);
  }
  addExitCodesHelp(program);
  return program;
}

/** True when --json was asked for (read from argv: a parse error happens before commander stores options). */
function wantsJson(argv: string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json');
}

/** commander's error code as a bgmig machine code: "commander.unknownOption" → "unknown-option". */
function machineCode(code: string): string {
  return code
    .replace(/^commander\./, '')
    .replace(/([a-z])([A-Z])/g, '$1-$2')
    .toLowerCase();
}

/** Runs bgmig with argv (node-style: [node, script, ...args]) and resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      // Commander has already printed its one-line message on stderr (unknown option, missing argument, …).
      if (wantsJson(argv)) {
        const message = e.message
          .replace(/^error: /, '')
          .replace(/\n/g, ' ')
          .trim();
        process.stdout.write(`${JSON.stringify(errorDocument(message, ExitCode.BadInput, machineCode(e.code)), null, 2)}\n`);
      }
      return ExitCode.BadInput;
    }
    if (wantsJson(argv)) {
      const message = `Unexpected failure: ${e instanceof Error ? e.message : String(e)} (re-run with --verbose for details).`;
      process.stderr.write(`error: ${message}\n`);
      process.stdout.write(`${JSON.stringify(errorDocument(message, ExitCode.Failure), null, 2)}\n`);
      return ExitCode.Failure;
    }
    throw e;
  }
  return typeof process.exitCode === 'number' ? process.exitCode : 0;
}
