/**
 * One `--watch` contract for every command that reports a verdict (`status`, `db sync status`), modelled on Argo
 * Rollouts' `status --watch` (https://argoproj.github.io/argo-rollouts/generated/kubectl-argo-rollouts/kubectl-argo-rollouts_status/):
 *
 * - one observation every `--interval` seconds; with `--json` each is one JSON document on one line:
 *   `{"round", "at", "verdict", "exitCode", "result", "error"}` — every key always present (`null` when it does not
 *   apply), so `jq` filters and log shippers never meet a missing key;
 * - `--until healthy|degraded` stops at the first observation with that verdict; `--timeout` stops after that long;
 *   Ctrl-C stops at once;
 * - the exit code is the last observation's: 0 healthy, 3 degraded, 1 could not read (exit codes of the command
 *   itself), so `bgmig status --watch --until healthy --timeout 10m && bgmig promote …` is a correct gate.
 *
 * A failed read does not end the watch (a network blip at 3 a.m. must not end the session): it is one observation
 * with verdict "error", and the next round reads again.
 */
import { type BgmigError, ExitCode, badInput } from '../core/errors.js';
import { formatMs, parseDuration } from '../core/units.js';
import { sleep } from '../core/sleep.js';
import { type ErrorDocument, errorDocument } from './context.js';
import type { Io } from './io.js';

export type WatchVerdict = 'healthy' | 'degraded' | 'error';
export type Until = 'healthy' | 'degraded';

/** One reading of the watched thing. */
export interface Observation {
  /** The command's --json document. */
  result: unknown;
  /** The human rendering. */
  text: string;
  /** 0 healthy, 3 degraded (the command's own exit code). */
  exitCode: ExitCode;
}

/** The line written per round under --json. */
export interface WatchLine {
  round: number;
  at: string;
  verdict: WatchVerdict;
  exitCode: ExitCode;
  result: unknown;
  error: ErrorDocument['error'] | null;
}

export interface WatchOptions {
  intervalMs: number;
  until?: Until | undefined;
  /** Stop after this long (ms) even if `until` was not reached. */
  timeoutMs?: number | undefined;
  signal?: AbortSignal | undefined;
  /** Stop after this many rounds (tests). */
  maxRounds?: number | undefined;
  /** What is watched, for messages: "bgmig-shop status". */
  subject: string;
}

export function verdictOf(code: ExitCode): WatchVerdict {
  return code === ExitCode.Ok ? 'healthy' : code === ExitCode.Refused ? 'degraded' : 'error';
}

export type WatchDecision = { stop: false } | { stop: true; reason: 'until' | 'timeout' | 'rounds' };

/** The pure decision after each round: stop (and why) or read again. */
export function decideWatch(o: {
  verdict: WatchVerdict;
  round: number;
  elapsedMs: number;
  until?: Until | undefined;
  timeoutMs?: number | undefined;
  maxRounds?: number | undefined;
  intervalMs: number;
}): WatchDecision {
  if (o.until !== undefined && o.verdict === o.until) return { stop: true, reason: 'until' };
  if (o.maxRounds !== undefined && o.round >= o.maxRounds) return { stop: true, reason: 'rounds' };
  // Stop when the next round would start after the deadline: no read is begun that the timeout would cut.
  if (o.timeoutMs !== undefined && o.elapsedMs + o.intervalMs > o.timeoutMs) return { stop: true, reason: 'timeout' };
  return { stop: false };
}

/** The watch options every watching command takes; `register` adds them, `parseWatchFlags` checks them. */
export interface WatchFlagValues {
  watch?: boolean | undefined;
  interval?: string | undefined;
  until?: string | undefined;
  timeout?: string | undefined;
}

/**
 * Validates the watch flags (exit 2, one sentence): --interval whole seconds 1–3600, --until healthy|degraded,
 * --timeout a duration. Without --watch, the three have no effect: each is named in a warning.
 */
export function parseWatchFlags(
  o: WatchFlagValues,
  io: Io,
  defaults: { intervalSeconds: number },
): { watch: boolean; intervalMs: number; until?: Until; timeoutMs?: number } {
  const interval = o.interval ?? String(defaults.intervalSeconds);
  if (!/^\d+$/.test(interval.trim()) || Number(interval) < 1 || Number(interval) > 3600) {
    throw badInput(`--interval must be a whole number of seconds from 1 to 3600, got "${interval}".`);
  }
  let until: Until | undefined;
  if (o.until !== undefined) {
    if (o.until !== 'healthy' && o.until !== 'degraded') throw badInput(`--until must be healthy or degraded, got "${o.until}".`);
    until = o.until;
  }
  const timeoutMs = o.timeout !== undefined ? parseDuration(o.timeout, '--timeout') : undefined;
  if (!o.watch) {
    const idle = [o.interval !== undefined ? '--interval' : '', o.until !== undefined ? '--until' : '', o.timeout !== undefined ? '--timeout' : ''].filter(
      (x) => x !== '',
    );
    if (idle.length > 0) io.warn(`${idle.join(', ')} ${idle.length === 1 ? 'has' : 'have'} no effect without --watch: reading once.`);
  }
  return { watch: Boolean(o.watch), intervalMs: Number(interval) * 1000, ...(until ? { until } : {}), ...(timeoutMs !== undefined ? { timeoutMs } : {}) };
}

/** Resolves to undefined when the signal aborts; never otherwise. */
function aborted(signal?: AbortSignal): Promise<undefined> {
  return new Promise((resolve) => {
    if (!signal) return;
    if (signal.aborted) return resolve(undefined);
    signal.addEventListener('abort', () => resolve(undefined), { once: true });
  });
}

/**
 * Runs the watch loop over `read` and returns the exit code of the last observation. `toError` turns a failed read
 * into the one-sentence BgmigError the command would have reported.
 */
export async function runWatch(read: () => Promise<Observation>, io: Io, opts: WatchOptions, toError: (e: unknown) => BgmigError): Promise<ExitCode> {
  const started = Date.now();
  const redraw = io.interactive;
  let drawnLines = 0;
  let last: ExitCode = ExitCode.Failure;
  let lastVerdict: WatchVerdict = 'error';
  const bounds = [
    `every ${opts.intervalMs / 1000} s`,
    opts.until ? `until ${opts.until}` : '',
    opts.timeoutMs !== undefined ? `for at most ${formatMs(opts.timeoutMs)}` : '',
  ].filter((x) => x !== '');
  for (let round = 1; !opts.signal?.aborted; round++) {
    let line: WatchLine;
    let text: string;
    try {
      // Ctrl-C must end the watch at once, even while a read is still waiting on a slow endpoint.
      const o = await Promise.race([read(), aborted(opts.signal)]);
      if (o === undefined) break;
      line = { round, at: new Date().toISOString(), verdict: verdictOf(o.exitCode), exitCode: o.exitCode, result: o.result, error: null };
      text = o.text;
    } catch (e) {
      const err = toError(e);
      line = {
        round,
        at: new Date().toISOString(),
        verdict: 'error',
        exitCode: err.exitCode,
        result: null,
        error: errorDocument(err.message, err.exitCode, null, err.details ?? null).error,
      };
      text = `${io.style.red('error:')} ${err.message}`;
    }
    last = line.exitCode;
    lastVerdict = line.verdict;
    const footer = io.style.dim(`${line.at} — ${opts.subject}: ${line.verdict}; refreshing ${bounds.join(', ')}; Ctrl-C to stop`);
    // Every error line on stderr (one machine contract); under --json the round's document carries it as well.
    if (line.error) io.error(line.error.message);
    if (io.json) io.streams.stdout.write(`${JSON.stringify(line)}\n`);
    else if (redraw) {
      // Move up over the previous frame and clear it, then draw: an in-place refresh without flicker.
      const frame = `${text}\n${footer}\n`;
      io.streams.stdout.write(`${drawnLines > 0 ? `\x1b[${drawnLines}A\x1b[0J` : ''}${frame}`);
      drawnLines = frame.split('\n').length - 1;
    } else io.streams.stdout.write(`${line.error ? '' : `${text}\n`}${footer}\n\n`);

    const d = decideWatch({
      verdict: line.verdict,
      round,
      elapsedMs: Date.now() - started,
      until: opts.until,
      timeoutMs: opts.timeoutMs,
      maxRounds: opts.maxRounds,
      intervalMs: opts.intervalMs,
    });
    if (d.stop) {
      if (d.reason === 'until') io.waiting(`${opts.subject} is ${line.verdict} (round ${round}, after ${formatMs(Date.now() - started)}).`);
      if (d.reason === 'timeout') {
        io.warn(
          `${opts.subject} is still ${lastVerdict} after --timeout ${formatMs(opts.timeoutMs ?? 0)}${opts.until ? ` (waited for ${opts.until})` : ''}: exiting with the last verdict.`,
        );
      }
      break;
    }
    await sleep(opts.intervalMs, opts.signal);
  }
  return last;
}

/**
 * Runs a watch with Ctrl-C (SIGINT) ending it: the signal aborts the watch, which then exits with its last verdict
 * (the contract above) instead of the process dying mid-line. Used by `status --watch` and `db sync status --watch`.
 */
export async function untilInterrupted(watch: (signal: AbortSignal) => Promise<ExitCode>): Promise<ExitCode> {
  const ac = new AbortController();
  const onSigint = () => ac.abort();
  process.once('SIGINT', onSigint);
  try {
    return await watch(ac.signal);
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}
