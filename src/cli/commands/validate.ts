/**
 * `bgmig validate`: is the blue application compatible with the green database?
 *
 * Two modes producing the same report: through AWS (`--suffix`, invokes the deployed validator Lambda, which also
 * stores the report for the promote/cutover gates) and direct (`--blue-url/--green-url`, runs the same code here,
 * through a tunnel or in CI against throwaway databases). Exit 0 compatible, 3 incompatible, 1 error, 2 bad input.
 *
 * The verb shape (src/cli/verb.ts), with one departure in how the result is written: a report whose verdict is
 * `error` is the one machine contract for errors (one sentence on stderr; with --json `{"error": {…}}` carrying the
 * report in its details, code "validation-error") rather than the report itself, so the default action writes
 * through `emitValidation` instead of `emit`. In direct mode the replication-scope warnings are written by
 * `runValidate` (stderr), before the report.
 */
import type { AwsPorts } from '../../aws/ports.js';
import type { ChalkInstance } from 'chalk';
import { type Command, Option } from 'commander';
import { ExitCode, badInput } from '../../core/errors.js';
import { type DbTarget, parseDbUrl } from '../../db/connection.js';
import { isCode, SEVERITY_ORDER } from '../../schema/codes.js';
import type { Difference, Severity, ValidationReport, ValidatorEvent } from '../../schema/report.js';
import { schemaVerdict } from '../../schema/verdict.js';
import { action, collect, type CommandContext } from '../context.js';
import { bothOrNeither, exclusive } from '../flag-rules.js';
import type { Io } from '../io.js';
import { requireStack } from '../../deployed/stack.js';
import { invokeValidator } from '../../remote/validator-client.js';
import { emit, type FailureOf, type RunF } from '../verb.js';

/** The flags as commander hands them over (URLs may come from BGMIG_BLUE_URL / BGMIG_GREEN_URL). */
export interface ValidateFlags {
  blueUrl?: string | undefined;
  greenUrl?: string | undefined;
  schema?: string[] | undefined;
  excludeSchema?: string[] | undefined;
  ignore?: string[] | undefined;
  /** --suffix as given (validated through the `suffix` argument of resolveValidateOptions). */
  suffix?: string | undefined;
  /** True when the suffix came from BGMIG_SUFFIX rather than the command line: URLs then take precedence. */
  suffixFromEnv?: boolean | undefined;
}

/** Where the validation runs: through the deployed validator Lambda, or here against two admin URLs. */
export type ValidateMode = { kind: 'aws'; suffix: string } | { kind: 'direct'; blue: DbTarget; green: DbTarget };

export interface ValidateOptions {
  mode: ValidateMode;
  /** What the validator is asked to compare (schemas in/out, codes ignored); the Lambda's event as is. */
  event: ValidatorEvent;
}

/**
 * Flags → options, refusing (bad input, exit 2) before anything connects: --suffix typed together with URLs, one URL
 * without the other, neither mode, an --ignore that is not a validator code, an empty schema name, a schema both
 * included and excluded, a malformed URL, an invalid suffix. A suffix from BGMIG_SUFFIX gives way to URLs.
 */
export function resolveValidateOptions(o: ValidateFlags, suffix: () => string): ValidateOptions {
  const direct = o.blueUrl !== undefined || o.greenUrl !== undefined;
  exclusive(
    [
      { flag: '--suffix', value: o.suffixFromEnv ? undefined : o.suffix },
      { flag: '--blue-url/--green-url', value: direct },
    ],
    'pass either --suffix (through the deployed Lambda) or both URLs (direct).',
  );
  bothOrNeither(
    { flag: '--blue-url', value: o.blueUrl },
    { flag: '--green-url', value: o.greenUrl },
    'direct mode compares both databases (or use --suffix to validate through the deployed Lambda).',
  );
  if (!direct && o.suffix === undefined) {
    throw badInput('Nothing to validate: pass --suffix NAME (through the deployed Lambda) or --blue-url and --green-url (direct).');
  }
  const unknown = (o.ignore ?? []).filter((c) => !isCode(c));
  if (unknown.length > 0) {
    throw badInput(`--ignore ${unknown.join(', ')} is not a validator code: see the codes table in docs/validator.md (e.g. IX101).`);
  }
  for (const [flag, list] of [
    ['--schema', o.schema],
    ['--exclude-schema', o.excludeSchema],
  ] as const) {
    if ((list ?? []).some((s) => s.trim() === '')) throw badInput(`${flag} needs a schema name, got an empty one.`);
  }
  const both = (o.schema ?? []).filter((s) => (o.excludeSchema ?? []).includes(s));
  if (both.length > 0) throw badInput(`Schema ${both.join(', ')} is both included (--schema) and excluded (--exclude-schema): keep one of the two.`);
  const event: ValidatorEvent = {
    ...(o.schema?.length ? { includeSchemas: o.schema } : {}),
    ...(o.excludeSchema?.length ? { excludeSchemas: o.excludeSchema } : {}),
    ...(o.ignore?.length ? { ignoreCodes: o.ignore } : {}),
  };
  const mode: ValidateMode = direct
    ? { kind: 'direct', blue: parseDbUrl(o.blueUrl ?? '', '--blue-url'), green: parseDbUrl(o.greenUrl ?? '', '--green-url') }
    : { kind: 'aws', suffix: suffix() };
  return { mode, event };
}

const VERDICT_EXIT: Record<ValidationReport['verdict'], ExitCode> = { compatible: ExitCode.Ok, incompatible: ExitCode.Refused, error: ExitCode.Failure };

/** 0 compatible, 3 incompatible, 1 error (the validator could not compare). */
export function exitCodeOf(report: ValidationReport): ExitCode {
  return VERDICT_EXIT[report.verdict];
}

/** An `error` report is a failure (the validator could not compare): its sentence, code "validation-error". */
const VALIDATION_FAILURE: FailureOf<ValidationReport> = {
  sentence: (r) => (r.verdict === 'error' ? (r.error ?? 'the validation failed') : undefined),
  code: 'validation-error',
};

/** The human text of a report; for an `error` report only what was read of both sides (the sentence is on stderr). */
function renderReport(r: ValidationReport, s: ChalkInstance): string {
  if (r.verdict !== 'error') return renderValidate(r, s);
  return r.blue || r.green ? renderValidate(r, s).split('\n').slice(1).join('\n') : '';
}

/**
 * Writes the report and returns its exit code. A compatible or incompatible report is the result (JSON or
 * renderValidate); an `error` report is written as every error is (verb.ts `emit` with a FailureOf): its sentence
 * on stderr, and with --json the error document (code "validation-error", the report in details.report) —
 * otherwise what was read of both sides.
 */
export function emitValidation(io: Io, report: ValidationReport): ExitCode {
  return emit(io, report, renderReport, exitCodeOf, VALIDATION_FAILURE);
}

/**
 * Runs the validation and returns its report (any verdict, `error` included). Direct mode reads both catalogs here
 * (loading pg only then) and warns (stderr) about tables or columns a running replication does not carry; AWS mode
 * invokes the stack's validator Lambda, which also stores the report. Throws BgmigError when the stack is missing or
 * the function fails.
 */
export async function runValidate(opts: ValidateOptions, deps: { io: Io; aws: AwsPorts }): Promise<ValidationReport> {
  const { mode, event } = opts;
  if (mode.kind === 'aws') {
    const stack = await requireStack(deps.aws, mode.suffix);
    deps.io.debug(`invoking the validator Lambda of ${stack.name}`);
    return invokeValidator(deps.aws, stack, event);
  }
  deps.io.debug(`direct mode: reading blue and green catalogs`);
  // Loaded only here: the AWS mode never needs pg.
  const { validateDatabases } = await import('../../schema/validate.js');
  const report = await validateDatabases(mode.blue, mode.green, { ...event, applicationName: 'bgmig-validate' });
  if (report.verdict !== 'error') {
    // Replication scope (issue 10, REPL-LIVE): tables/columns in scope that a running replication does not carry
    // are a warning here; `db sync status` and the cutover/rollback gates refuse on them.
    const { scopeDriftOf } = await import('../../replication/scope.js');
    const drift = await scopeDriftOf({ blue: mode.blue, green: mode.green }).catch(() => null);
    for (const d of drift ?? []) deps.io.warn(`replication does not carry this: ${d.problem} — ${d.fix}`);
  }
  return report;
}

export function register(
  program: Command,
  runF: RunF<ValidateOptions> = async (opts, ctx: CommandContext) => emitValidation(ctx.io, await runValidate(opts, ctx)),
): void {
  program
    .command('validate')
    .summary('check that the blue application is compatible with the green database schema')
    .description(
      'Compares the blue and green PostgreSQL catalogs and classifies every difference as breaking, risky or safe for the ' +
        'blue application running against green. With --suffix it invokes the deployed validator Lambda (which stores the ' +
        'report for `promote` and `db cutover`); with --blue-url and --green-url it runs the same check from here.',
    )
    .addOption(new Option('--blue-url <url>', 'blue admin URL postgres://USER:PASSWORD@HOST:PORT/DB (direct mode)').env('BGMIG_BLUE_URL'))
    .addOption(new Option('--green-url <url>', 'green admin URL (direct mode)').env('BGMIG_GREEN_URL'))
    .option('--schema <name>', 'only this schema (repeatable; exact, case-sensitive)', collect)
    .option('--exclude-schema <name>', 'skip this schema (repeatable)', collect)
    .option('--ignore <code>', 'leave this difference code out of the report and the verdict (repeatable)', collect)
    .addHelpText(
      'after',
      `
Examples:
  bgmig validate --suffix prod
  BGMIG_BLUE_URL=postgres://admin:…@localhost:5433/app BGMIG_GREEN_URL=postgres://admin:…@localhost:5434/app bgmig validate --schema public
  bgmig validate --blue-url "$BLUE" --green-url "$GREEN" --ignore IX101 --json

Both directions are judged in one run: the blue application on green's schema (the verdict and exit code), and
green's writes replicated back into blue's schema after \`db cutover\` (the rollback verdict, RB codes, which
\`db cutover\` weighs).

Exit codes: 0 compatible, 3 incompatible (a breaking difference), 1 error, 2 bad input.
Passing URLs through BGMIG_BLUE_URL/BGMIG_GREEN_URL keeps passwords out of the process list.
Codes: docs/validator.md, section "Codes".`,
    )
    .action(
      action<ValidateFlags>(async (ctx, o) =>
        runF(resolveValidateOptions({ ...o, suffixFromEnv: program.getOptionValueSource('suffix') === 'env' }, ctx.suffix), ctx),
      ),
    );
}

type Style = Io['style'];

const SEVERITY_STYLE: Record<Severity, (s: Style) => (t: string) => string> = {
  breaking: (s) => s.red.bold,
  risky: (s) => s.yellow,
  safe: (s) => s.green,
};

/** The readable report: a verdict line, then one table per severity (breaking first). */
export function renderValidate(r: ValidationReport, s: ChalkInstance): string {
  const lines: string[] = [];
  const side = (name: string, d: ValidationReport['blue']) =>
    d
      ? `${name} ${d.target ?? ''} (PostgreSQL ${d.serverVersion}, ${d.counts.tables ?? 0} tables, ${d.counts.columns ?? 0} columns)`.replace('  ', ' ')
      : `${name} unread`;
  if (r.verdict === 'error') {
    lines.push(`${s.red.bold('ERROR')}  ${r.error ?? 'the validation failed'}`);
    if (r.blue || r.green) lines.push(s.dim(`${side('blue', r.blue)}; ${side('green', r.green)}`));
    return lines.join('\n');
  }
  // Counted once, by the one reading of a report (totals, or recounted for a report older than them).
  const { totals } = schemaVerdict(r);
  const counts = SEVERITY_ORDER.map((sev) => `${totals[sev]} ${sev}`).join(', ');
  const verdict = r.verdict === 'compatible' ? s.green.bold('COMPATIBLE') : s.red.bold('INCOMPATIBLE');
  lines.push(`${verdict}  ${counts}${r.ignored ? ` (${r.ignored} ignored)` : ''} — ${r.durationMs} ms`);
  lines.push(s.dim(`${side('blue', r.blue)}`));
  lines.push(s.dim(`${side('green', r.green)}`));
  if (r.differences.length === 0) {
    lines.push('', 'No differences: green has the same schema as blue.');
    renderRollback(lines, r, s);
    return lines.join('\n');
  }
  groups(lines, r.differences, s, '');
  lines.push('');
  lines.push(
    r.verdict === 'incompatible'
      ? 'The blue application would break against green: fix the breaking differences (or roll the migration forward in expand/contract steps).'
      : 'The blue application can run against green.',
  );
  renderRollback(lines, r, s);
  return lines.join('\n');
}

/** The second direction: green's writes replicated back into blue's schema after `db cutover`. */
function renderRollback(lines: string[], r: ValidationReport, s: Style): void {
  const back = r.rollback;
  if (!back) return;
  const counts = SEVERITY_ORDER.map((sev) => `${back.totals[sev]} ${sev}`).join(', ');
  const verdict = back.verdict === 'compatible' ? s.green.bold('ROLLBACK POSSIBLE') : s.red.bold('ROLLBACK BLOCKED');
  lines.push(
    '',
    `${verdict}  ${counts}${back.ignored ? ` (${back.ignored} ignored)` : ''} — green's writes replicated back into blue's schema after db cutover`,
  );
  if (back.differences.length === 0) {
    lines.push('Everything green can write, blue can hold.');
    return;
  }
  groups(lines, back.differences, s, 'ROLLBACK ');
  lines.push('');
  lines.push(
    back.verdict === 'incompatible'
      ? 'Once green writes such a value, reverse replication stops and `db rollback` after cutover is impossible: widen blue first (expand), or accept it explicitly at `db cutover`.'
      : 'Green’s writes can be replicated back to blue: rollback after cutover stays possible.',
  );
}

function groups(lines: string[], list: Difference[], s: Style, prefix: string): void {
  for (const sev of SEVERITY_ORDER) {
    const group = list.filter((d) => d.severity === sev);
    if (group.length === 0) continue;
    lines.push('', SEVERITY_STYLE[sev](s)(`${prefix}${sev.toUpperCase()} (${group.length})`));
    const width = Math.min(48, Math.max(...group.map((d) => d.object.length)));
    for (const d of group) lines.push(row(d, width, s));
  }
}

function row(d: Difference, width: number, s: Style): string {
  const obj = d.object.length > width ? d.object : d.object.padEnd(width);
  return `  ${SEVERITY_STYLE[d.severity](s)(d.code)}  ${obj}  ${d.detail}`;
}
