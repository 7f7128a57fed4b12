/**
 * `bgmig validate`: is the blue application compatible with the green database?
 *
 * Two modes producing the same report: through AWS (`--suffix`, invokes the deployed validator Lambda, which also
 * stores the report for the promote/cutover gates) and direct (`--blue-url/--green-url`, runs the same code here,
 * through a tunnel or in CI against throwaway databases). Exit 0 compatible, 3 incompatible, 1 error, 2 bad input.
 */
import { type Command, Option } from 'commander';
import { ExitCode, badInput } from '../../core/errors.js';
import { parseDbUrl } from '../../db/connection.js';
import { isCode, SEVERITY_ORDER } from '../../schema/codes.js';
import type { Difference, Severity, ValidationReport, ValidatorEvent } from '../../schema/report.js';
import type { AwsClients } from '../../aws/clients.js';
import { action, collect, errorDocument } from '../context.js';
import type { Io } from '../io.js';
import { requireStack } from '../stack.js';
import { invokeValidator } from '../validation.js';

export interface ValidateCommandOptions {
  blueUrl?: string;
  greenUrl?: string;
  schema?: string[];
  excludeSchema?: string[];
  ignore?: string[];
  /** --suffix as given (validated through deps.suffix()). */
  suffix?: string;
  /** True when the suffix came from BGMIG_SUFFIX rather than the command line: URLs then take precedence. */
  suffixFromEnv?: boolean;
}

export interface ValidateDeps {
  io: Io;
  aws: AwsClients;
  /** The validated suffix (exit 2 when invalid). */
  suffix: () => string;
}

const VERDICT_EXIT: Record<ValidationReport['verdict'], ExitCode> = { compatible: ExitCode.Ok, incompatible: ExitCode.Refused, error: ExitCode.Failure };

export function register(program: Command): void {
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
      action<ValidateCommandOptions>(async (ctx, opts, _args) => {
        return runValidate({ ...opts, suffixFromEnv: program.getOptionValueSource('suffix') === 'env' }, { io: ctx.io, aws: ctx.aws, suffix: ctx.suffix });
      }),
    );
}

/** Runs the command; returns the exit code. Bad input throws a BgmigError (exit 2) before anything connects. */
export async function runValidate(opts: ValidateCommandOptions, deps: ValidateDeps): Promise<ExitCode> {
  const direct = opts.blueUrl !== undefined || opts.greenUrl !== undefined;
  if (direct && opts.suffix !== undefined && !opts.suffixFromEnv) {
    throw badInput('--suffix and --blue-url/--green-url choose different modes: pass either --suffix (through the deployed Lambda) or both URLs (direct).');
  }
  if (direct && (opts.blueUrl === undefined || opts.greenUrl === undefined)) {
    throw badInput(
      `Direct mode needs both URLs: add ${opts.blueUrl === undefined ? '--blue-url' : '--green-url'} (or use --suffix to validate through the deployed Lambda).`,
    );
  }
  if (!direct && opts.suffix === undefined) {
    throw badInput('Nothing to validate: pass --suffix NAME (through the deployed Lambda) or --blue-url and --green-url (direct).');
  }
  const unknown = (opts.ignore ?? []).filter((c) => !isCode(c));
  if (unknown.length > 0) {
    throw badInput(`--ignore ${unknown.join(', ')} is not a validator code: see the codes table in docs/validator.md (e.g. IX101).`);
  }
  for (const [flag, list] of [
    ['--schema', opts.schema],
    ['--exclude-schema', opts.excludeSchema],
  ] as const) {
    if ((list ?? []).some((s) => s.trim() === '')) throw badInput(`${flag} needs a schema name, got an empty one.`);
  }
  const both = (opts.schema ?? []).filter((s) => (opts.excludeSchema ?? []).includes(s));
  if (both.length > 0) throw badInput(`Schema ${both.join(', ')} is both included (--schema) and excluded (--exclude-schema): keep one of the two.`);
  const event: ValidatorEvent = {
    ...(opts.schema?.length ? { includeSchemas: opts.schema } : {}),
    ...(opts.excludeSchema?.length ? { excludeSchemas: opts.excludeSchema } : {}),
    ...(opts.ignore?.length ? { ignoreCodes: opts.ignore } : {}),
  };

  let report: ValidationReport;
  if (direct) {
    const blue = parseDbUrl(opts.blueUrl ?? '', '--blue-url');
    const green = parseDbUrl(opts.greenUrl ?? '', '--green-url');
    deps.io.debug(`direct mode: reading blue and green catalogs`);
    // Loaded only here: the AWS mode never needs pg.
    const { validateDatabases } = await import('../../schema/validate.js');
    report = await validateDatabases(blue, green, { ...event, applicationName: 'bgmig-validate' });
  } else {
    const suffix = deps.suffix();
    const stack = await requireStack(deps.aws, suffix);
    deps.io.debug(`invoking the validator Lambda of ${stack.name}`);
    report = await invokeValidator(deps.aws, stack, event);
  }
  if (report.verdict === 'error') {
    // One machine contract (issue 16): an error is one sentence on stderr and, with --json, {"error": {…}} on
    // stdout — the report that could not be completed rides along in details.
    const message = report.error ?? 'the validation failed';
    deps.io.error(message);
    if (deps.io.json) deps.io.streams.stdout.write(`${JSON.stringify(errorDocument(message, ExitCode.Failure, 'validation-error', { report }), null, 2)}\n`);
    else if (report.blue || report.green) deps.io.info(renderReport(report, deps.io.style).split('\n').slice(1).join('\n'));
    return ExitCode.Failure;
  }
  deps.io.result(report, () => renderReport(report, deps.io.style));
  if (direct) {
    // Replication scope (issue 10, REPL-LIVE): tables/columns in scope that a running replication does not carry
    // are a warning here; `db sync status` and the cutover/rollback gates refuse on them.
    const { scopeDriftOf } = await import('../../replication/scope.js');
    const drift = await scopeDriftOf({ blue: parseDbUrl(opts.blueUrl ?? '', '--blue-url'), green: parseDbUrl(opts.greenUrl ?? '', '--green-url') }).catch(
      () => null,
    );
    for (const d of drift ?? []) deps.io.warn(`replication does not carry this: ${d.problem} — ${d.fix}`);
  }
  return VERDICT_EXIT[report.verdict];
}

type Style = Io['style'];

const SEVERITY_STYLE: Record<Severity, (s: Style) => (t: string) => string> = {
  breaking: (s) => s.red.bold,
  risky: (s) => s.yellow,
  safe: (s) => s.green,
};

/** The readable report: a verdict line, then one table per severity (breaking first). */
export function renderReport(r: ValidationReport, s: Style): string {
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
  const counts = SEVERITY_ORDER.map((sev) => `${r.differences.filter((d) => d.severity === sev).length} ${sev}`).join(', ');
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
