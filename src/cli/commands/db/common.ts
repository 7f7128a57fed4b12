/**
 * What every `bgmig db` subcommand shares: choosing the executor (direct: two admin URLs, the engine runs here;
 * AWS: --suffix, the engine runs in the cutover function), rendering progress events, and the direct-mode switch
 * hook that runs the operator's `--on-switch` command.
 */
import { spawn } from 'node:child_process';
import { type Command, Option } from 'commander';
import { badInput, BgmigError, ExitCode } from '../../../core/errors.js';
import type { Color } from '../../../core/naming.js';
import { formatBytes, formatMs } from '../../../core/units.js';
import { parseDbUrl, type DbTarget } from '../../../db/connection.js';
import type { Executor, ProgressEvent, ProgressFn, SwitchHook, Targets } from '../../../replication/api.js';
import { LocalExecutor } from '../../../replication/executor.js';
import type { CommandContext } from '../../context.js';
import { distinctServers } from '../../flag-rules.js';
import type { Io } from '../../io.js';

export interface ModeOptions {
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

export type Mode = { kind: 'direct'; targets: Targets; executor: Executor } | { kind: 'aws'; suffix: string; executor: Executor; ctx: CommandContext };

/** Direct mode when a URL is given, AWS mode with --suffix; exit 2 with one sentence otherwise. */
export async function resolveMode(ctx: CommandContext, opts: ModeOptions): Promise<Mode> {
  if (opts.blueUrl !== undefined || opts.greenUrl !== undefined) {
    if (!opts.blueUrl || !opts.greenUrl) throw badInput('Direct mode needs both --blue-url and --green-url (or BGMIG_BLUE_URL and BGMIG_GREEN_URL).');
    const targets = { blue: parseDbUrl(opts.blueUrl, '--blue-url'), green: parseDbUrl(opts.greenUrl, '--green-url') };
    distinctServers(targets.blue, targets.green);
    return { kind: 'direct', targets, executor: new LocalExecutor(targets) };
  }
  if (opts.suffix === undefined && ctx.globals.suffix === undefined) {
    throw badInput('Say where the databases are: --suffix NAME (AWS mode, through the cutover function) or --blue-url URL --green-url URL (direct mode).');
  }
  const suffix = ctx.suffix();
  const [{ requireStack }, { remoteExecutorFor }] = await Promise.all([import('../../stack.js'), import('../../db-remote.js')]);
  const stack = await requireStack(ctx.aws, suffix);
  return { kind: 'aws', suffix, executor: remoteExecutorFor(ctx.aws, stack, suffix), ctx };
}

/** Off a terminal, the initial copy prints one line at least this often (and its first and last look). */
export const COPY_LINE_INTERVAL_MS = 5_000;

/** Progress as plain lines on the human stream (steps) and debug lines (details); the copy gets a spinner on a TTY. */
export function progressPrinter(io: Io): { progress: ProgressFn; stop: () => void } {
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
        reject(new BgmigError(`The --on-switch command could not start (${e.message}).`, ExitCode.Failure));
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        if (code === 0) resolve();
        else
          reject(
            new BgmigError(`The --on-switch command exited with ${signal ? `signal ${signal}` : `code ${code}`} (BGMIG_ACTIVE=${active}).`, ExitCode.Failure),
          );
      });
    });
}
