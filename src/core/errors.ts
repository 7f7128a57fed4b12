/**
 * The one error type for user-facing failures. Everything an operator can see as a refusal or a failure is a
 * BgmigError: a single sentence saying what happened and what to do next, plus the documented exit code.
 */
export const ExitCode = {
  /** Success. */
  Ok: 0,
  /** The operation failed (an AWS/database error, an aborted cutover, a failed check). */
  Failure: 1,
  /** Bad input: an invalid option, suffix, ARN, URL or weight. Nothing was changed. */
  BadInput: 2,
  /** Refused by a safety gate, or the system is degraded/incompatible. Nothing was changed. */
  Refused: 3,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export class BgmigError extends Error {
  readonly exitCode: ExitCode;
  /** Optional structured details rendered with --json (never secrets). */
  readonly details: Record<string, unknown> | undefined;

  constructor(message: string, exitCode: ExitCode = ExitCode.Failure, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BgmigError';
    this.exitCode = exitCode;
    this.details = options?.details;
  }
}

/** Bad input (exit 2): an invalid option, suffix, ARN, URL or weight; nothing was changed. */
export function badInput(message: string, cause?: unknown): BgmigError {
  return new BgmigError(message, ExitCode.BadInput, { cause });
}

/** Refused by a safety gate, or degraded/incompatible (exit 3); nothing was changed. `details` go to --json. */
export function refused(message: string, details?: Record<string, unknown>, cause?: unknown): BgmigError {
  return new BgmigError(message, ExitCode.Refused, { cause, ...(details ? { details } : {}) });
}

/** A failure (exit 1): an AWS or database error, an aborted operation, a failed check. `details` go to --json. */
export function failure(message: string, cause?: unknown, details?: Record<string, unknown>): BgmigError {
  return new BgmigError(message, ExitCode.Failure, { cause, ...(details ? { details } : {}) });
}

/**
 * A new sentence for an error that keeps its kind: the exit code of `e` when it is a BgmigError (and its details
 * unless others are given), else a failure (1). For wrapping a lower layer's refusal with what it means here.
 */
export function restate(message: string, e: unknown, details?: Record<string, unknown>): BgmigError {
  const d = details ?? (e instanceof BgmigError ? e.details : undefined);
  return new BgmigError(message, e instanceof BgmigError ? e.exitCode : ExitCode.Failure, { cause: e, ...(d ? { details: d } : {}) });
}

/** An error of a known exit code, e.g. one a bgmig function reported in its answer document. */
export function withExitCode(exitCode: ExitCode, message: string, details?: Record<string, unknown>): BgmigError {
  return new BgmigError(message, exitCode, details ? { details } : undefined);
}

export function isBgmigError(e: unknown): e is BgmigError {
  return e instanceof BgmigError;
}

/** For firstLine's `max`: keep the whole first line, where a message has always been shown uncut. */
export const WHOLE_LINE = Number.POSITIVE_INFINITY;

/** The first line of a message, trimmed and cut to `max` characters (AWS and driver errors can span pages). */
export function firstLine(s: string, max = 200): string {
  const line = s.split('\n')[0]?.trim() ?? '';
  return line.length > max ? `${line.slice(0, max - 3)}...` : line;
}

/** Best-effort message of an unknown thrown value. */
export function messageOf(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
