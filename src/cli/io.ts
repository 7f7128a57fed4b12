/**
 * Terminal IO for every command. Human text and machine output are kept apart so that with --json stdout carries
 * only the JSON document (human progress then goes to stderr). Tests construct an Io over memory streams.
 */
import { Chalk, type ChalkInstance } from 'chalk';
import { createInterface } from 'node:readline/promises';
import type { Readable, Writable } from 'node:stream';
import { refused } from '../core/errors.js';

/**
 * Colour level for human text. In order: `--no-color` turns it off; FORCE_COLOR (force-color.org) turns it on even
 * off a terminal — "0"/"false" off, "2"/"3" for 256/true colour, anything else basic; NO_COLOR (no-color.org) turns
 * it off; TERM=dumb (a terminal that cannot show escapes, e.g. Emacs shell) turns it off; otherwise on for a TTY.
 */
export function colorLevel(flag: boolean, env: NodeJS.ProcessEnv, isTTY: boolean): 0 | 1 | 2 | 3 {
  if (!flag) return 0;
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== '') {
    if (force === '0' || force.toLowerCase() === 'false') return 0;
    if (force === '2' || force === '3') return Number(force) as 2 | 3;
    return 1;
  }
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return 0;
  if (env.TERM === 'dumb') return 0;
  return isTTY ? 1 : 0;
}

export interface IoOptions {
  json: boolean;
  color: boolean;
  verbose: boolean;
  yes: boolean;
}

export interface IoStreams {
  stdout: Writable & { isTTY?: boolean; columns?: number };
  stderr: Writable & { isTTY?: boolean };
  stdin: Readable & { isTTY?: boolean };
}

export class Io {
  readonly json: boolean;
  readonly verbose: boolean;
  readonly yes: boolean;
  /** Colours for text going to the human stream. */
  readonly style: ChalkInstance;
  readonly streams: IoStreams;

  constructor(opts: IoOptions, streams: IoStreams = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin }) {
    this.json = opts.json;
    this.verbose = opts.verbose;
    this.yes = opts.yes;
    this.streams = streams;
    this.style = new Chalk({ level: colorLevel(opts.color, process.env, Boolean(this.humanStream.isTTY)) });
  }

  /**
   * A wait that outlasts a moment: what it waits for and for how long, once, on stderr (never in --json's stdout).
   */
  waiting(text: string): void {
    this.streams.stderr.write(`${this.style.dim(text)}\n`);
  }

  /** Where human-readable text goes: stdout normally, stderr under --json. */
  get humanStream(): Writable & { isTTY?: boolean } {
    return this.json ? this.streams.stderr : this.streams.stdout;
  }

  /** True when a person is at the terminal (spinners, redraws and prompts make sense). */
  get interactive(): boolean {
    // TERM=dumb: the terminal cannot move the cursor, so no spinner and no redraw either.
    return Boolean(this.humanStream.isTTY) && !this.json && process.env.CI !== 'true' && process.env.TERM !== 'dumb';
  }

  /** Human text (a line is appended). */
  info(text: string): void {
    this.humanStream.write(`${text}\n`);
  }

  warn(text: string): void {
    this.streams.stderr.write(`${this.style.yellow('warning:')} ${text}\n`);
  }

  /** Only with --verbose; never pass secrets. */
  debug(text: string): void {
    if (this.verbose) this.streams.stderr.write(`${this.style.dim(`debug: ${text}`)}\n`);
  }

  error(text: string): void {
    this.streams.stderr.write(`${this.style.red('error:')} ${text}\n`);
  }

  /** The command's result: JSON on stdout with --json, otherwise the human rendering. */
  result(data: unknown, human: () => string): void {
    if (this.json) this.streams.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
    else {
      const text = human();
      if (text) this.streams.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    }
  }

  /**
   * Asks a yes/no question. --yes answers yes; without a terminal there is nobody to ask, so it refuses rather
   * than guessing (exit 3), telling the caller to pass --yes.
   */
  async confirm(question: string): Promise<boolean> {
    if (this.yes) return true;
    if (!this.streams.stdin.isTTY) {
      throw refused(`Confirmation needed ("${question}") but there is no terminal to ask: re-run with --yes to proceed.`);
    }
    const answer = (await this.ask(`${question} [y/N] `)).trim().toLowerCase();
    return answer === 'y' || answer === 'yes';
  }

  /** Reads one line from the operator (the prompt goes to stderr so stdout stays clean). */
  async ask(prompt: string): Promise<string> {
    if (!this.streams.stdin.isTTY && this.streams.stdin === process.stdin) {
      throw refused(`Input needed ("${prompt.trim()}") but there is no terminal to ask: re-run with --yes.`);
    }
    const rl = createInterface({ input: this.streams.stdin, output: this.streams.stderr, terminal: false });
    try {
      return await rl.question(prompt);
    } finally {
      rl.close();
    }
  }
}
