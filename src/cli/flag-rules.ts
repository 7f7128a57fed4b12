/**
 * Shared rules for option combinations (issue 15 asks for one helper; issue 16 kind 5 for every contradiction to be
 * exit 2 with one sentence before any work, and for options without effect to be named in a warning). Commands
 * state their rules with these instead of hand-writing each sentence, so the wording is one:
 *
 * - `exclusive`: at most one of the options ("--a and --b cannot be used together: …").
 * - `bothOrNeither`: a pair that only makes sense together ("--a needs --b …").
 * - `noEffect`: options that are accepted but change nothing in the chosen mode: a warning, not an error.
 * - `secretOnCommandLine`: a password typed as an argument is visible in `ps` and shell history: a warning naming
 *   the environment variable (or stdin option) that keeps it out.
 */
import { type Stats, statSync } from 'node:fs';
import path from 'node:path';
import { badInput } from '../core/errors.js';
import { type DbTarget, parseDbUrl } from '../db/connection.js';
import type { Io } from './io.js';

/** An option as the rules see it: its flag, and whether the operator gave it (undefined/false = not given). */
export interface Given {
  flag: string;
  value: unknown;
}

function given(o: Given): boolean {
  return o.value !== undefined && o.value !== false && !(Array.isArray(o.value) && o.value.length === 0);
}

/** Throws exit 2 when more than one of `options` is given. `hint` says what to do instead. */
export function exclusive(options: Given[], hint: string): void {
  const set = options.filter(given);
  if (set.length > 1) throw badInput(`${set.map((o) => o.flag).join(' and ')} cannot be used together: ${hint}`);
}

/** Throws exit 2 when exactly one of the pair is given. */
export function bothOrNeither(a: Given, b: Given, hint: string): void {
  if (given(a) !== given(b)) {
    const [has, lacks] = given(a) ? [a, b] : [b, a];
    throw badInput(`${has.flag} needs ${lacks.flag} as well: ${hint}`);
  }
}

/** Warns (never fails) about options that are given but have no effect in `mode`. */
export function noEffect(io: Io, options: Given[], mode: string): void {
  const idle = options.filter(given).map((o) => o.flag);
  if (idle.length > 0) io.warn(`${idle.join(', ')} ${idle.length === 1 ? 'has' : 'have'} no effect ${mode}.`);
}

/** True when a connection URL carries a password (postgres://user:PASSWORD@host/…). */
export function urlHasPassword(url: string): boolean {
  try {
    return new URL(url).password !== '';
  } catch {
    return false;
  }
}

/**
 * Warns when a URL with a password came from the command line (commander's value source "cli"), naming the
 * variable that keeps it out of `ps` and shell history. The command still runs: refusing would not un-leak it.
 */
export function secretOnCommandLine(io: Io, flag: string, value: string | undefined, source: string | undefined, instead: string): void {
  if (value === undefined || source !== 'cli' || !urlHasPassword(value)) return;
  io.warn(`the password in ${flag} is visible to every user of this machine (ps) and in your shell history: pass it through ${instead} instead.`);
}

/** The part of a connection target the distinctness rules compare. */
interface ServerRef {
  host: string;
  port: number;
  database: string;
}

/**
 * Blue and green must be two different PostgreSQL servers (host and port), not two databases of one server:
 * roles are per server (db init's role and password would be one), and a subscription to the same cluster
 * cannot create its slot in the same command (https://www.postgresql.org/docs/15/sql-createsubscription.html,
 * Notes). The one rule for every command that takes --blue-url and --green-url: replication (`db sync`, cutover,
 * rollback) needs two servers for the subscription's slot, and `db init` for one role and password per side — so
 * the same database and the same server are both refused, with this one sentence.
 */
export function distinctServers(blue: ServerRef, green: ServerRef): void {
  if (blue.host === green.host && blue.port === green.port) {
    throw badInput(
      `--blue-url and --green-url point at the same PostgreSQL server (${blue.host}:${blue.port}${blue.database === green.database ? `, database ${blue.database}` : ''}): blue and green must be two different servers.`,
    );
  }
}

/**
 * Direct mode's two admin URLs (--blue-url/--green-url, or BGMIG_BLUE_URL/BGMIG_GREEN_URL): undefined when neither
 * is given (AWS mode); exit 2 when only one is, when one is no postgres:// URL, or when both name the same server
 * (distinctServers). The one rule of every `bgmig db` subcommand, `db init` included.
 */
export function directTargets(blueUrl: string | undefined, greenUrl: string | undefined): { blue: DbTarget; green: DbTarget } | undefined {
  if (blueUrl === undefined && greenUrl === undefined) return undefined;
  bothOrNeither(
    { flag: '--blue-url', value: blueUrl || undefined },
    { flag: '--green-url', value: greenUrl || undefined },
    'direct mode takes both admin URLs (or BGMIG_BLUE_URL and BGMIG_GREEN_URL).',
  );
  // Both given but empty (--blue-url '' --green-url ''): neither names a server.
  if (!blueUrl || !greenUrl) throw badInput('Direct mode needs both --blue-url and --green-url (or BGMIG_BLUE_URL and BGMIG_GREEN_URL).');
  const targets = { blue: parseDbUrl(blueUrl, '--blue-url'), green: parseDbUrl(greenUrl, '--green-url') };
  distinctServers(targets.blue, targets.green);
  return targets;
}

/**
 * A directory bgmig will write into (synth --output): fine when missing (it is created) or a directory; exit 2 when
 * it, or the nearest existing parent, is a file — found before anything is synthesized.
 */
export function checkOutputDir(dir: string, flag: string): string {
  const abs = path.resolve(dir);
  for (let p = abs; ; p = path.dirname(p)) {
    const st = statOrUndefined(p);
    if (st) {
      if (!st.isDirectory()) {
        throw badInput(
          `${flag} ${dir} ${p === abs ? 'is a file' : `is inside ${p}, which is a file`}, not a directory: name a directory (it is created when missing).`,
        );
      }
      return abs;
    }
    if (path.dirname(p) === p) return abs;
  }
}

/**
 * A file bgmig will write after long work (deploy --outputs-file): its directory must exist and it must not be a
 * directory — found before a 20-minute deployment, not after.
 */
export function checkOutputFile(file: string, flag: string): string {
  const abs = path.resolve(file);
  const st = statOrUndefined(abs);
  if (st?.isDirectory()) throw badInput(`${flag} ${file} is a directory: name a file, e.g. ${path.join(file, 'outputs.json')}.`);
  const parent = statOrUndefined(path.dirname(abs));
  if (!parent?.isDirectory())
    throw badInput(`${flag} ${file} is in ${path.dirname(abs)}, which is not an existing directory: create it first or name another file.`);
  return abs;
}

function statOrUndefined(p: string): Stats | undefined {
  try {
    return statSync(p);
  } catch {
    return undefined;
  }
}
