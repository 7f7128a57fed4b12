/**
 * What every `bgmig db` subcommand shares: where the databases are (direct: two admin URLs, the engine runs here;
 * AWS: --suffix, the engine runs in the cutover function) — parsed in `register` (`whereOf`), turned into an
 * executor in `run` (`resolveMode`) —, rendering progress events, and the
 * direct-mode switch hook that runs the operator's `--on-switch` command.
 */
import { spawn } from 'node:child_process';
import { type Command, Option } from 'commander';
import type { AwsPorts } from '../../../aws/ports.js';
import { badInput, failure } from '../../../core/errors.js';
import { type Color, validateSuffix } from '../../../core/naming.js';
import { formatBytes, formatMs } from '../../../core/units.js';
import type { DbTarget } from '../../../db/connection.js';
import type { Executor, ProgressEvent, ProgressFn, SwitchHook, Targets } from '../../../replication/api.js';
import { LocalExecutor } from '../../../replication/executor.js';
import { directTargets } from '../../flag-rules.js';
import type { Io } from '../../io.js';

/** The mode flags as commander gives them (URLs also from BGMIG_BLUE_URL/BGMIG_GREEN_URL; --suffix is global). */
export interface ModeFlags {
  blueUrl?: string | undefined;
  greenUrl?: string | undefined;
  suffix?: string | undefined;
}

/** --blue-url / --green-url on a db subcommand (also from the environment, so passwords stay out of `ps`). */
export function withModeOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--blue-url <url>', 'direct mode: blue admin URL postgres://USER:PASSWORD@HOST:PORT/DB').env('BGMIG_BLUE_URL'))
    .addOption(new Option('--green-url <url>', 'direct mode: green admin URL').env('BGMIG_GREEN_URL'));
}

/** Where the databases are, parsed and checked: the two admin targets (direct mode) or the validated suffix (AWS mode). */
export type Where = { kind: 'direct'; targets: Targets } | { kind: 'aws'; suffix: string };

/** Said when neither mode is given (the db subcommands other than init). */
export const SAY_WHERE = 'Say where the databases are: --suffix NAME (AWS mode, through the cutover function) or --blue-url URL --green-url URL (direct mode).';

/**
 * Direct mode when a URL is given (both, two servers: flag-rules' directTargets), else AWS mode with `suffix`
 * validated; exit 2 with `neither` when there is no suffix either. Pure: nothing is reached.
 */
export function whereOf(flags: ModeFlags, suffix: string | undefined, neither: string = SAY_WHERE): Where {
  const targets = directTargets(flags.blueUrl, flags.greenUrl);
  if (targets) return { kind: 'direct', targets };
  if (suffix === undefined) throw badInput(neither);
  return { kind: 'aws', suffix: validateSuffix(suffix) };
}

/** What the db verbs' run functions need (a CommandContext is one). */
export interface DbDeps {
  io: Io;
  aws: AwsPorts;
}

export type Mode = { kind: 'direct'; targets: Targets; executor: Executor } | { kind: 'aws'; suffix: string; executor: Executor };

/** The executor for `where`: in-process for direct mode; for AWS mode the stack's cutover function (exit 1 when the stack is missing). */
export async function resolveMode(where: Where, aws: AwsPorts): Promise<Mode> {
  if (where.kind === 'direct') return { kind: 'direct', targets: where.targets, executor: new LocalExecutor(where.targets) };
  const [{ requireStack }, { remoteExecutorFor }] = await Promise.all([import('../../../deployed/stack.js'), import('../../../remote/cutover-client.js')]);
  const stack = await requireStack(aws, where.suffix);
  return { kind: 'aws', suffix: where.suffix, executor: remoteExecutorFor(aws, stack, where.suffix) };
}

/** Runs `fn` with the progress printer, stopping its spinner whatever happens. */
export async function withProgress<T>(io: Io, fn: (progress: ProgressFn) => Promise<T>): Promise<T> {
  const p = progressPrinter(io);
  try {
    return await fn(p.progress);
  } finally {
    p.stop();
  }
}

/** Off a terminal, the initial copy prints one line at least this often (and its first and last look). */
const COPY_LINE_INTERVAL_MS = 5_000;

/** Progress as plain lines on the human stream (steps) and debug lines (details); the copy gets a spinner on a TTY. */
function progressPrinter(io: Io): { progress: ProgressFn; stop: () => void } {
  let spinner: { text: string; stop: () => void } | null = null;
  let lastCopyLine = 0;
  let copyDoneShown = false;
  let stopped = false;
  const copyText = (e: Extract<ProgressEvent, { kind: 'copy' }>) => {
    const rows = e.rowsTotal
      ? `${e.rowsCopied.toLocaleString('en-US')} of ≈${e.rowsTotal.toLocaleString('en-US')} rows`
      : `${e.rowsCopied.toLocaleString('en-US')} rows`;
    const pct = e.percent !== null && e.percent !== undefined ? ` (${e.percent.toFixed(e.percent >= 100 ? 0 : 1)} %)` : '';
    const eta = e.etaSeconds !== null && e.etaSeconds !== undefined && e.tablesDone < e.tablesTotal ? `, about ${formatMs(e.etaSeconds * 1000)} left` : '';
    return `initial copy: ${e.tablesDone}/${e.tablesTotal} tables ready, ${rows}${pct}${eta}${e.bytesCopied > 0 ? `, ${formatBytes(e.bytesCopied)} in flight` : ''}`;
  };
  const progress: ProgressFn = (e) => {
    if (e.kind === 'step') {
      if (e.status === 'done') io.info(`  ✓ ${e.step}${e.ms !== undefined ? ` (${formatMs(e.ms)})` : ''}${e.detail ? ` — ${e.detail}` : ''}`);
      else if (e.status === 'failed') io.info(`  ✗ ${e.step}${e.detail ? ` — ${e.detail}` : ''}`);
      else if (e.status === 'undone') io.info(`  ↺ ${e.step}`);
      else io.debug(`${e.step}…`);
    } else if (e.kind === 'copy') {
      if (io.interactive) {
        if (!spinner) {
          // ora is loaded only when a person watches a copy.
          void import('ora').then(({ default: ora }) => {
            // The copy may have finished (stop() ran) while ora was loading: then no spinner at all.
            if (!spinner && !stopped) spinner = ora({ text: copyText(e), stream: io.streams.stderr }).start();
          });
        } else spinner.text = copyText(e);
      } else if (Date.now() - lastCopyLine >= COPY_LINE_INTERVAL_MS || (e.tablesDone === e.tablesTotal && !copyDoneShown)) {
        // Off a terminal: the first look, then one line per interval whatever happens, and the end once.
        copyDoneShown = e.tablesDone === e.tablesTotal;
        lastCopyLine = Date.now();
        io.info(`  ${copyText(e)}`);
      }
    } else if (e.level === 'warn') io.warn(e.text);
    else if (e.level === 'info') io.info(`  ${e.text}`);
    else io.debug(e.text);
  };
  return {
    progress,
    stop: () => {
      stopped = true;
      const s = spinner as { stop: () => void } | null;
      s?.stop();
      spinner = null;
    },
  };
}

/**
 * Direct mode's switch: runs the operator's shell command with the new active database in its environment
 * (BGMIG_ACTIVE, BGMIG_ACTIVE_HOST, BGMIG_ACTIVE_PORT, BGMIG_ACTIVE_DATABASE — never the password). Its output goes
 * to stderr so --json stays clean; a non-zero exit fails the switch (the engine then undoes).
 */
export function shellSwitchHook(command: string, io: Io, timeoutMs = 60_000): SwitchHook {
  return (active: Color, target: DbTarget) =>
    new Promise<void>((resolve, reject) => {
      const child = spawn(command, {
        shell: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          ...process.env,
          BGMIG_ACTIVE: active,
          BGMIG_ACTIVE_HOST: target.host,
          BGMIG_ACTIVE_PORT: String(target.port),
          BGMIG_ACTIVE_DATABASE: target.database,
        },
      });
      child.stdout.on('data', (d: Buffer) => io.streams.stderr.write(d));
      child.stderr.on('data', (d: Buffer) => io.streams.stderr.write(d));
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('error', (e) => {
        clearTimeout(timer);
        reject(failure(`The --on-switch command could not start (${e.message}).`, e));
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        if (code === 0) resolve();
        else reject(failure(`The --on-switch command exited with ${signal ? `signal ${signal}` : `code ${code}`} (BGMIG_ACTIVE=${active}).`));
      });
    });
}
