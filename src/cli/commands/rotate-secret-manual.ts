/**
 * `bgmig rotate-secret-manual`: walks docs/runbooks/credential-rotation.md — create / set / test / finish / roll —
 * for a colour's master secret, or with --app for the application secret on both clusters. This module only wires
 * options to the rotation runner (src/rotation/): which secret, which databases (and how to reach them), which
 * services to roll.
 *
 * How the databases are reached:
 * - AWS mode (no URL): the clusters sit in isolated subnets, so nothing logs in from the operator's machine. A
 *   colour's master password is set with ModifyDBCluster and tested by the validator function's connection check;
 *   the application password is set and tested by the cutover function (setAppPassword / checkAppLogin). The
 *   functions read the secret version they are told about, so no password travels in an event and nothing logs in
 *   from the operator's machine.
 * - Direct mode (--db-url, or --blue-url and --green-url with --app): admin URLs, e.g. through a tunnel or for a
 *   self-managed PostgreSQL — ALTER ROLE with a SCRAM verifier and a real login from this machine.
 */
import type { ChalkInstance } from 'chalk';
import { type Command, Option } from 'commander';
import { badInput } from '../../core/errors.js';
import { APP_DB_USERNAME } from '../../core/lambda-env.js';
import { type Color, names, validateColor } from '../../core/naming.js';
import { ColorOutputKey, OutputKey } from '../../core/outputs.js';
import { formatMs, parseDuration } from '../../core/units.js';
import { parseDbUrl } from '../../db/connection.js';
import { RdsMasterPasswordApplier, type WaitOptions } from '../../rotation/rds.js';
import { CutoverAppLoginTester, CutoverAppPasswordApplier, remoteExecutorFor, rotationCutoverAdvice } from '../../remote/cutover-client.js';
import { ValidatorLoginTester } from '../../remote/validator-client.js';
import { EcsServiceRoller, type ServiceRef } from '../../rotation/roll.js';
import { type RotationHooks, type RotationReport, type RotationSpec, Rotation } from '../../rotation/rotate.js';
import { SecretStore } from '../../rotation/secret-store.js';
import { type DbSide, DirectLoginTester, type Settle, SqlPasswordApplier } from '../../rotation/targets.js';
import { type CommandContext, action } from '../context.js';
import { emit, type RunF } from '../verb.js';
import { bothOrNeither, exclusive } from '../flag-rules.js';
import type { AwsPorts, Functions } from '../../aws/ports.js';
import type { Io } from '../io.js';
import { output, requireStack } from '../../deployed/stack.js';

/**
 * The flags as given (URLs already read from stdin when --urls-stdin); resolveOptions checks the combination, the
 * register step checks it (and the URLs) before the action runs.
 */
export interface RotateOptions {
  /** The validated environment suffix (the stack is bgmig-<suffix>). */
  suffix: string;
  color?: string;
  app?: boolean;
  dbUrl?: string;
  blueUrl?: string;
  greenUrl?: string;
  dryRun?: boolean;
  waitTimeout?: string;
  /**
   * Where each URL came from (commander's value source: "cli", "env", or "stdin"); absent means the command line.
   * URLs from the environment are shared with `bgmig db` and `validate`, so one that does not belong to the chosen
   * rotation (BGMIG_BLUE_URL while rotating a colour's master secret) is ignored rather than refused.
   */
  sources?: Partial<Record<UrlOption, string | undefined>>;
}

type UrlOption = 'dbUrl' | 'blueUrl' | 'greenUrl';

/** Environment variables read for the URL options (never an argument: `ps` and shell history would show it). */
export const URL_ENV = { dbUrl: 'BGMIG_DB_URL', blueUrl: 'BGMIG_BLUE_URL', greenUrl: 'BGMIG_GREEN_URL' } as const;

/**
 * `--urls-stdin`: a colour's rotation reads one admin URL (its own line); `--app` reads two lines, `blue=URL` and
 * `green=URL`, in any order. Blank lines are ignored. Exit 2 with one sentence on anything else — never echoing a URL.
 */
export function parseStdinUrls(text: string, app: boolean): Pick<RotateOptions, UrlOption> {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
  if (!app) {
    if (lines.length !== 1 || /^(blue|green)=/.test(lines[0] ?? '')) {
      throw badInput(`--urls-stdin for a colour's master secret reads exactly one admin URL line from standard input, got ${lines.length} line(s).`);
    }
    return { dbUrl: lines[0] };
  }
  const out: Pick<RotateOptions, UrlOption> = {};
  for (const l of lines) {
    const m = /^(blue|green)=(.+)$/.exec(l);
    if (!m) throw badInput('--urls-stdin with --app reads two lines from standard input, blue=URL and green=URL; a line had neither prefix.');
    const key = m[1] === 'blue' ? 'blueUrl' : 'greenUrl';
    if (out[key] !== undefined) throw badInput(`--urls-stdin with --app got two ${m[1]}= lines: give one blue=URL and one green=URL.`);
    out[key] = m[2];
  }
  if (out.blueUrl === undefined || out.greenUrl === undefined) {
    throw badInput(
      `--urls-stdin with --app needs both blue=URL and green=URL on standard input (the ${out.blueUrl === undefined ? 'blue' : 'green'} one is missing).`,
    );
  }
  return out;
}

/**
 * What runRotate reaches: the terminal, and the AWS ports a rotation uses — the stack (its outputs), the secret's
 * versions, the clusters (RDS master password), the functions (validator / cutover function tests) and the services
 * it rolls. A CommandContext is one.
 */
export type RotateRunDeps = { io: Io; aws: Pick<AwsPorts, 'stacks' | 'region' | 'secretVersions' | 'clusters' | 'functions' | 'services'> } & RotateDeps;

export interface RotateDeps {
  /** Simulated interruptions (tests). */
  hooks?: RotationHooks;
  /** Lets a test wrap the databases (e.g. a concurrent password change) while keeping everything else real. */
  decorate?: (spec: RotationSpec) => RotationSpec;
  /** How AWS mode reaches the functions (default: Lambda's Invoke API); tests route events to the real handlers. */
  invoker?: Functions;
  /** How long AWS mode keeps re-testing a master password Aurora has not applied yet (default 6 × 5 s). */
  masterSettle?: Settle;
}

const DEFAULT_WAIT = '15m';
/** Aurora applies a new master password a few seconds after the cluster reports available again. */
const AURORA_SETTLE: Settle = { attempts: 6, delayMs: 5_000 };

interface Resolved {
  kind: { app: true } | { app: false; color: Color };
  mode: 'aws' | 'direct';
  wait: WaitOptions;
  /** The URLs this rotation uses (after dropping environment URLs that belong to other commands). */
  urls: Pick<RotateOptions, UrlOption>;
}

/** Validates the option combination before any AWS call (exit 2, nothing changed). */
export function resolveOptions(given: Omit<RotateOptions, 'suffix'>): Resolved {
  // URLs exported for other commands do not pick a mode here unless they belong to this rotation.
  const fromEnv = (k: UrlOption) => given.sources?.[k] === 'env';
  const o: Omit<RotateOptions, 'suffix'> = {
    ...given,
    dbUrl: given.app && fromEnv('dbUrl') ? undefined : given.dbUrl,
    blueUrl: !given.app && fromEnv('blueUrl') ? undefined : given.blueUrl,
    greenUrl: !given.app && fromEnv('greenUrl') ? undefined : given.greenUrl,
  };
  const timeoutMs = parseDuration(o.waitTimeout ?? DEFAULT_WAIT, '--wait-timeout');
  // Poll often enough to notice a quick change, rarely enough not to be throttled on a long wait.
  const wait = { timeoutMs, pollMs: Math.min(10_000, Math.max(200, Math.round(timeoutMs / 20))) };
  if (o.app) {
    if (o.color !== undefined) throw badInput('--app rotates the application secret used by both colours: drop --color.');
    if (o.dbUrl !== undefined)
      throw badInput('--app applies the password on both clusters: pass --blue-url and --green-url instead of --db-url (or neither, for AWS mode).');
    // AWS mode: the cutover function (the one thing in AWS that reaches both clusters' SQL) sets and tests it.
    if (o.blueUrl === undefined && o.greenUrl === undefined) return { kind: { app: true }, mode: 'aws', wait, urls: {} };
    bothOrNeither(
      { flag: '--blue-url', value: o.blueUrl },
      { flag: '--green-url', value: o.greenUrl },
      '--app changes both clusters together (or pass neither, for AWS mode).',
    );
    return { kind: { app: true }, mode: 'direct', wait, urls: { blueUrl: o.blueUrl ?? '', greenUrl: o.greenUrl ?? '' } };
  }
  if (o.blueUrl !== undefined || o.greenUrl !== undefined)
    throw badInput("--blue-url/--green-url belong to --app; for a colour's master secret pass --db-url.");
  const color = validateColor(o.color, '--color');
  return { kind: { app: false, color }, mode: o.dbUrl !== undefined ? 'direct' : 'aws', wait, urls: { dbUrl: o.dbUrl } };
}

/**
 * The option combination and the URLs checked (exit 2, nothing touched): what register checks before the action, and
 * runRotate again for a caller that did not come through register.
 */
export function checkRotateOptions(o: RotateOptions): Resolved {
  const r = resolveOptions(o);
  for (const [k, v] of Object.entries(r.urls) as [UrlOption, string | undefined][]) if (v !== undefined) parseDbUrl(v, `--${k.replace('Url', '-url')}`);
  return r;
}

/**
 * Rotates the secret the options name (create, set, test, finish, roll; resumable), or with dryRun prints the plan.
 * Throws exit 2 for a bad combination, exit 1 when the stack or a step fails (the report says how to resume).
 */
export async function runRotate(o: RotateOptions, deps: RotateRunDeps): Promise<RotationReport> {
  // Every input is checked before the first AWS call: a malformed URL is exit 2 with nothing touched.
  const r = checkRotateOptions(o);
  const ctx = deps;
  const suffix = o.suffix;
  const n = names(suffix);
  const stack = await requireStack(ctx.aws, suffix);
  const progress = waitReporter(ctx.io, r.wait.timeoutMs);

  const ecsCluster = output(stack, OutputKey.EcsClusterName);
  const serviceOf = (c: Color): ServiceRef => ({ cluster: ecsCluster, service: output(stack, ColorOutputKey[c].serviceName) });
  const secretId = r.kind.app ? output(stack, OutputKey.AppDbSecretArn) : output(stack, ColorOutputKey[r.kind.color].dbSecretArn);

  let databases: DbSide[];
  let label: string;
  let rerun = `bgmig rotate-secret-manual --suffix ${suffix}`;
  const invoker = deps.invoker ?? ctx.aws.functions;
  if (r.kind.app) {
    label = `the application secret ${n.appDbSecret} (role ${APP_DB_USERNAME} on both clusters)`;
    rerun += ' --app';
    if (r.mode === 'direct') {
      rerun += ' --blue-url URL --green-url URL';
      databases = (['blue', 'green'] as const).map((c) => {
        const admin = parseDbUrl(c === 'blue' ? (r.urls.blueUrl ?? '') : (r.urls.greenUrl ?? ''), `--${c}-url`);
        return {
          name: n.auroraCluster(c),
          applier: new SqlPasswordApplier(admin, n.auroraCluster(c)),
          tester: new DirectLoginTester(admin, n.auroraCluster(c)),
        };
      });
    } else {
      // One call changes both clusters (both or neither, inside the function), so they are one side here.
      const functionName = output(stack, OutputKey.CutoverFunctionName);
      const clusters = `${output(stack, OutputKey.BlueClusterIdentifier)} and ${output(stack, OutputKey.GreenClusterIdentifier)}`;
      const executor = remoteExecutorFor(ctx.aws, stack, n.suffix, invoker, rotationCutoverAdvice(n.cutoverLogGroup));
      databases = [
        {
          name: clusters,
          applier: new CutoverAppPasswordApplier(executor, functionName, clusters),
          tester: new CutoverAppLoginTester(executor, functionName, clusters),
        },
      ];
    }
  } else {
    const color = r.kind.color;
    label = `the ${color} master secret ${n.dbSecret(color)}`;
    rerun += ` --color ${color}`;
    const clusterId = output(stack, ColorOutputKey[color].clusterIdentifier);
    if (r.mode === 'direct') {
      rerun += ' --db-url URL';
      const admin = parseDbUrl(r.urls.dbUrl ?? '', '--db-url');
      databases = [{ name: clusterId, applier: new SqlPasswordApplier(admin, clusterId), tester: new DirectLoginTester(admin, clusterId) }];
    } else {
      databases = [
        {
          name: clusterId,
          applier: new RdsMasterPasswordApplier(ctx.aws.clusters, clusterId, r.wait, progress),
          // The writer endpoint is in an isolated subnet: the validator function (which reaches both clusters) logs in.
          tester: new ValidatorLoginTester({
            invoker,
            functionName: output(stack, OutputKey.ValidatorFunctionName),
            logGroup: n.validatorLogGroup,
            color,
            cluster: clusterId,
            settle: deps.masterSettle ?? AURORA_SETTLE,
          }),
        },
      ];
    }
  }

  let spec: RotationSpec = {
    label,
    secret: new SecretStore(ctx.aws.secretVersions, secretId),
    databases,
    services: r.kind.app ? [serviceOf('blue'), serviceOf('green')] : [serviceOf(r.kind.color)],
    roller: new EcsServiceRoller(ctx.aws.services, r.wait, progress),
    rerun,
  };
  if (deps.decorate) spec = deps.decorate(spec);
  return new Rotation(spec, ctx.io, deps.hooks).run({ dryRun: Boolean(o.dryRun) });
}

/** How often a long wait (cluster available, service stable) repeats its line off --verbose. */
export const WAIT_LINE_INTERVAL_MS = 30_000;

/**
 * Progress of the rotation's waits (RDS applying a password, ECS rolling a service — up to --wait-timeout each):
 * the first line about a thing says what is awaited and the bound, then one line per WAIT_LINE_INTERVAL_MS, so an
 * operator never watches a silent terminal for 15 minutes. Every line also goes to --verbose.
 */
export function waitReporter(io: Pick<CommandContext['io'], 'waiting' | 'debug'>, boundMs: number, now: () => number = Date.now): (text: string) => void {
  const lastShown = new Map<string, number>();
  return (text: string) => {
    io.debug(text);
    const subject = text.split(':')[0] ?? text;
    const last = lastShown.get(subject);
    const t = now();
    if (last === undefined) io.waiting(`${text} (waiting at most ${formatMs(boundMs)}, --wait-timeout)`);
    else if (t - last >= WAIT_LINE_INTERVAL_MS) io.waiting(text);
    else return;
    lastShown.set(subject, t);
  };
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** The rotated secret's current and previous versions, the databases changed and the services rolled (or the dry run's line). */
export function renderRotate(r: RotationReport, _style: ChalkInstance): string {
  if (r.dryRun) {
    const plan = r.steps
      .filter((s) => s.status === 'planned')
      .flatMap((s) => [`  ${s.number}. ${s.title ?? s.step} — ${s.detail ?? ''}`, ...(s.calls ?? []).map((call) => `       ${call}`)]);
    return ['Dry run: nothing will be changed. The plan:', ...plan, `Dry run complete: no change was made to ${r.secret}, its databases or its services.`].join(
      '\n',
    );
  }
  return [
    `Rotated ${r.secret}: AWSCURRENT is version ${r.currentVersionId}, AWSPREVIOUS is ${r.previousVersionId}, no AWSPENDING.`,
    `Databases: ${r.databases.join(', ')}; rolled: ${r.services.join(', ')}.`,
  ].join('\n');
}

/** The flags as commander parsed them (the command's own --color is read apart: see register). */
interface RotateFlags {
  app?: boolean;
  dbUrl?: string;
  blueUrl?: string;
  greenUrl?: string;
  urlsStdin?: boolean;
  dryRun?: boolean;
  waitTimeout?: string;
}

/**
 * Every rotate input, checked before the action (exit 2): the suffix, --urls-stdin against URL flags and a terminal,
 * the URLs read from stdin, the option combination and each URL. `color` is this command's own --color.
 */
async function parseRotateOptions(cmd: Command, o: RotateFlags, color: string | undefined, ctx: CommandContext): Promise<RotateOptions> {
  const suffix = ctx.suffix();
  const sources: RotateOptions['sources'] = {};
  // (A password typed as one of these is named in a warning by action(), for every command.)
  for (const k of ['dbUrl', 'blueUrl', 'greenUrl'] as const) sources[k] = cmd.getOptionValueSource(k);
  let urls: Pick<RotateOptions, UrlOption> = {};
  if (o.urlsStdin) {
    exclusive(
      [
        { flag: '--urls-stdin', value: true },
        ...(['dbUrl', 'blueUrl', 'greenUrl'] as const).filter((k) => sources[k] === 'cli').map((k) => ({ flag: `--${k.replace('Url', '-url')}`, value: o[k] })),
      ],
      'give the URLs one way.',
    );
    if (ctx.io.streams.stdin.isTTY) throw badInput('--urls-stdin reads the admin URL(s) from standard input: pipe them in (see the examples in --help).');
    urls = parseStdinUrls(await readAll(ctx.io.streams.stdin), Boolean(o.app));
    for (const k of Object.keys(urls) as UrlOption[]) sources[k] = 'stdin';
  }
  const opts: RotateOptions = {
    suffix,
    color,
    app: o.app,
    dbUrl: o.dbUrl,
    blueUrl: o.blueUrl,
    greenUrl: o.greenUrl,
    dryRun: o.dryRun,
    waitTimeout: o.waitTimeout,
    ...urls,
    sources,
  };
  checkRotateOptions(opts);
  return opts;
}

export function register(program: Command, runF: RunF<RotateOptions> = async (opts, ctx) => emit(ctx.io, await runRotate(opts, ctx), renderRotate)): void {
  program
    .command('rotate-secret-manual')
    .description('rotate a database secret by hand, step by step (create, set, test, finish, roll); resumable')
    .option('--color <color>', "rotate this colour's master secret (blue|green)")
    .option('--app', 'rotate the application secret on both clusters and roll both services', false)
    .addOption(
      new Option(
        '--db-url <url>',
        "direct mode: admin URL of the colour's database (set with ALTER ROLE, test by logging in); without it the RDS API sets and the validator function tests",
      ).env(URL_ENV.dbUrl),
    )
    .addOption(
      new Option('--blue-url <url>', 'direct mode with --app: admin URL of the blue database (without both URLs the cutover function sets and tests)').env(
        URL_ENV.blueUrl,
      ),
    )
    .addOption(new Option('--green-url <url>', 'direct mode with --app: admin URL of the green database').env(URL_ENV.greenUrl))
    .option('--urls-stdin', 'read the admin URL from standard input (with --app two lines: blue=URL and green=URL)', false)
    .option('--dry-run', 'print the plan with every API call; change nothing', false)
    .option('--wait-timeout <duration>', 'bound on each wait (cluster available, service stable), e.g. 90s, 15m', DEFAULT_WAIT)
    .addHelpText(
      'after',
      `
Steps (docs/runbooks/credential-rotation.md): 1 create (AWSPENDING) → 2 set → 3 test → 4 finish (AWSCURRENT) → 5 roll.
An interrupted run is continued by running the same command again; it never generates a second password.
AWS mode never connects from this machine: the test step (and with --app the set step) runs in the stack's
functions, which read the secret version themselves.

Examples:
  bgmig rotate-secret-manual --suffix demo --color blue --dry-run
  bgmig rotate-secret-manual --suffix demo --color green --yes
  bgmig rotate-secret-manual --suffix demo --app --yes
  BGMIG_DB_URL=postgres://admin:…@localhost:5433/postgres bgmig rotate-secret-manual --suffix demo --color blue
  BGMIG_BLUE_URL=postgres://… BGMIG_GREEN_URL=postgres://… bgmig rotate-secret-manual --suffix demo --app
  printf 'blue=%s\ngreen=%s\n' "$BLUE_ADMIN_URL" "$GREEN_ADMIN_URL" | bgmig rotate-secret-manual --suffix demo --app --urls-stdin --yes

Admin URLs carry passwords: pass them through BGMIG_DB_URL, BGMIG_BLUE_URL/BGMIG_GREEN_URL or --urls-stdin, never as
arguments (\`ps\` and shell history show arguments). BGMIG_BLUE_URL/BGMIG_GREEN_URL select direct mode only with --app.`,
    )
    .action((...params: unknown[]) => {
      // The global --no-color flag shares the attribute name "color" and wins in optsWithGlobals(): read this
      // command's own --color from its local options.
      const cmd = params[params.length - 1] as Command;
      const color = (cmd.opts() as { color?: unknown }).color;
      return action<RotateFlags>(async (ctx, o) => runF(await parseRotateOptions(cmd, o, typeof color === 'string' ? color : undefined, ctx), ctx))(...params);
    });
}
