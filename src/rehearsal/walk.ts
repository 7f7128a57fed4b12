/**
 * The walk-through's step runner: each bgmig command runs through its run function with an Io whose output is shown
 * indented as it is written (so progress is live), is timed on the timeline, and ends in a step record; setup actions
 * and skipped steps are recorded the same way, so the summary and the verdict see one list.
 */
import { Writable } from 'node:stream';
import { toBgmigError } from '../cli/context.js';
import { Io } from '../cli/io.js';
import type { ExitCode } from '../core/errors.js';
import { messageOf } from '../core/errors.js';
import { Cleanup } from './cleanup.js';
import { EMULATOR_REGION } from './emulator.js';
import type { StepOutcome, SwitchImpact } from './summary.js';
import { Timeline } from './timeline.js';

/** The suffix of the emulated stack: bgmig-rehearsal. */
export const REHEARSAL_SUFFIX = 'rehearsal';

/** Where the rehearsal speaks: human lines (stdout, or stderr under --json). */
export interface RehearsalOut {
  line(text: string): void;
}

export interface StepRecord extends StepOutcome {
  /** The command as an operator would type it (or what the rehearsal itself did). */
  command: string;
  durationMs: number;
  exitCode?: number | undefined;
  /** The write pause and client errors while it ran (switches). */
  impact?: SwitchImpact | undefined;
}

export interface Span {
  start: number;
  end: number;
}

/** Human stream for one command's output: each line indented, as it is written (progress shows live). */
class IndentingStream extends Writable {
  private partial = '';
  constructor(private readonly out: RehearsalOut) {
    super();
  }
  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: () => void): void {
    const parts = (this.partial + chunk.toString()).split('\n');
    this.partial = parts.pop() ?? '';
    for (const p of parts) this.out.line(`    ${p}`);
    cb();
  }
  flushPartial(): void {
    if (this.partial) this.out.line(`    ${this.partial}`);
    this.partial = '';
  }
}

/**
 * An Io whose output is shown indented, and which keeps the command's result document and the last error sentence it
 * reported (the failed step's detail when the verb reports its failure itself and returns a non-zero exit code).
 */
export class RehearsalIo extends Io {
  lastResult: unknown;
  lastError: string | undefined;
  constructor(readonly sink: IndentingStream) {
    super({ json: false, color: false, verbose: false, yes: true }, { stdout: sink, stderr: sink, stdin: process.stdin });
  }
  override result(data: unknown, human: () => string): void {
    this.lastResult = data;
    super.result(data, human);
  }
  override error(text: string): void {
    this.lastError = text;
    super.error(text);
  }
}

export function fmtMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

export class Walk {
  readonly tl = new Timeline();
  readonly cleanup = new Cleanup();
  readonly steps: StepRecord[] = [];
  readonly skipped: string[] = [];
  /** Switch commands, judged from the application's side once it has written again (at the end of the run). */
  readonly switches: Array<{ record: StepRecord; span: Span }> = [];

  constructor(
    readonly out: RehearsalOut,
    private readonly opts: { verbose: boolean; endpoint: () => string | undefined },
  ) {}

  line(text: string): void {
    this.out.line(text);
  }

  /** One setup action (not a bgmig command): timed, shown on one line; a failure is recorded and rethrown. */
  async setup<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const m = this.tl.begin(name, 'setup');
    const t = Date.now();
    try {
      const v = await fn();
      this.tl.end(m, 'ok');
      this.steps.push({ name, command: name, status: 'held', durationMs: Date.now() - t });
      this.line(`── ${name} (${fmtMs(Date.now() - t)})`);
      return v;
    } catch (e) {
      this.tl.end(m, 'failed');
      this.steps.push({ name, command: name, status: 'failed', durationMs: Date.now() - t, detail: messageOf(e) });
      this.line(`── ${name}: FAILED — ${messageOf(e)}`);
      throw e;
    }
  }

  /**
   * One bgmig command through its run function. `fn` resolves to the exit code the verb decides for an operator (its
   * `exitCodeOf`, or what its default action returns) — required, so no verb's decision can be dropped on the way.
   * `expect` lists the exit codes that mean the step held (default 0); a thrown error becomes its documented exit
   * code, as `action()` does for the CLI. Never throws.
   */
  async command(
    name: string,
    shown: string,
    fn: (io: RehearsalIo) => Promise<ExitCode | number>,
    o: { expect?: number[]; isSwitch?: boolean } = {},
  ): Promise<{ held: boolean; io: RehearsalIo; span: Span }> {
    this.line(`$ ${shown}`);
    const sink = new IndentingStream(this.out);
    const io = new RehearsalIo(sink);
    const m = this.tl.begin(name);
    const t = Date.now();
    let code: number;
    let detail: string | undefined;
    try {
      code = await fn(io);
    } catch (e) {
      const err = toBgmigError(e, { aws: { region: EMULATOR_REGION, endpoint: this.opts.endpoint() } });
      io.error(err.message);
      if (this.opts.verbose && e instanceof Error && e.stack) io.streams.stderr.write(`${e.stack}\n`);
      code = err.exitCode;
      detail = err.message;
    }
    sink.flushPartial();
    const expect = o.expect ?? [0];
    const held = expect.includes(code);
    this.tl.end(m, held ? 'ok' : 'failed');
    const ms = Date.now() - t;
    const span = { start: m.start, end: m.end ?? m.start };
    const record: StepRecord = {
      name,
      command: shown,
      status: held ? 'held' : 'failed',
      durationMs: ms,
      exitCode: code,
      detail: held ? undefined : (detail ?? io.lastError ?? `exit ${code}, expected ${expect.join(' or ')}`),
    };
    this.steps.push(record);
    if (o.isSwitch) this.switches.push({ record, span });
    this.line(`  ${held ? '✓' : '✗'} exit ${code} · ${fmtMs(ms)}`);
    this.line('');
    return { held, io, span };
  }

  skip(name: string, why: string): void {
    this.steps.push({ name, command: name, status: 'skipped', durationMs: 0, detail: why });
    this.skipped.push(`${name}: ${why}`);
  }

  /** A check the rehearsal itself made (not a command) that did not hold. */
  fail(name: string, command: string, detail: string): void {
    this.steps.push({ name, command, status: 'failed', durationMs: 0, detail });
  }
}
