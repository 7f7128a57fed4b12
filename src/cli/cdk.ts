/**
 * The toolkit-lib wiring shared by synth, deploy and diff: one Toolkit factory, one assembly source that builds
 * the embedded app in-process (`fromAssemblyBuilder`), and the stack options every one of those verbs accepts.
 * @aws-cdk/toolkit-lib and aws-cdk-lib are imported lazily so `bgmig --help` stays fast.
 */
import { rmSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import type { ICloudAssemblySource, IIoHost, IoMessage, IoRequest, Toolkit } from '@aws-cdk/toolkit-lib';
import { type Command, Option } from 'commander';
import { type AlarmThresholds, type StackConfig, defaultAzs, makeStackConfig } from '../core/config.js';
import { type BgmigError, badInput, failure, isBgmigError, messageOf } from '../core/errors.js';
import { names } from '../core/naming.js';
import { NAG_SUMMARY_FILE, type NagSummary, VALIDATION_REPORT_FILE, readNagSummary, readViolations } from '../infra/nag-summary.js';
import { describeAwsError } from './aws-errors.js';
import { AwsCallTimeout } from '../aws/clients.js';
import { parseIntStrict } from './context.js';

/** Toolkit messages bgmig shows: errors and warnings to the given sink; progress chatter is dropped. */
export function ioHostTo(sink: (level: 'error' | 'warn' | 'debug', text: string) => void): IIoHost {
  return {
    async notify(msg: IoMessage<unknown>): Promise<void> {
      if (msg.level === 'error') sink('error', msg.message);
      else if (msg.level === 'warn') sink('warn', msg.message);
      else if (msg.level === 'debug' || msg.level === 'info' || msg.level === 'result') sink('debug', msg.message);
    },
    async requestResponse<T>(msg: IoRequest<unknown, T>): Promise<T> {
      // Never prompt from inside the toolkit: bgmig asks its own questions (with --yes) before calling it.
      return msg.defaultResponse;
    },
  };
}

/** What a hung toolkit request is called in the "cannot reach" sentence (the socket does not know the API call). */
const TOOLKIT_CALL = 'a CDK toolkit request';

/**
 * An agent for the toolkit's own SDK clients whose sockets give up after `idleMs` without a byte (issue 16: every
 * call bounded). toolkit-lib builds its request handler with a 10 s connection timeout but a 300 s request timeout
 * that @smithy/node-http-handler only warns about, so an endpoint that accepts the connection and never answers
 * would hang deploy/diff/destroy/bootstrap. The socket is destroyed with an error the SDK does not retry, so a hung
 * call ends after one bound, not after the toolkit's seven attempts. toolkit-lib hands the one agent to both its
 * http and https handlers (awscli-compatible.js sdkRequestHandler), so for a plain-http endpoint (an emulator) it
 * opens plain TCP connections and says it speaks http.
 */
class IdleBoundAgent extends https.Agent {
  /** Set when a socket carrying a request went quiet for the bound (never for an idle pooled socket). */
  timedOut = false;

  constructor(
    private readonly idleMs: number,
    private readonly plain: boolean,
  ) {
    // The agent's timeout is applied to every socket when it is created and each time it is reused.
    super({ keepAlive: true, timeout: idleMs });
    if (plain) Object.assign(this, { protocol: 'http:', defaultPort: 80 });
  }

  override createConnection(
    options: Parameters<https.Agent['createConnection']>[0],
    callback?: Parameters<https.Agent['createConnection']>[1],
  ): ReturnType<https.Agent['createConnection']> {
    const socket = this.plain ? net.createConnection(options as net.NetConnectOpts) : super.createConnection(options, callback);
    socket?.on('timeout', () => {
      // A pooled keep-alive socket with no request on it just goes away.
      if (Object.values(this.freeSockets).some((list) => list?.includes(socket as net.Socket))) {
        socket.destroy();
        return;
      }
      this.timedOut = true;
      socket.destroy(
        Object.assign(new Error(`${TOOLKIT_CALL} got no answer within ${this.idleMs} ms`), { name: 'BgmigToolkitCallBound', code: 'BGMIG_CALL_BOUND' }),
      );
    });
    return socket;
  }
}

/**
 * The bound on the toolkit's AWS calls: the agent to give toolkit-lib (`sdkConfig.httpOptions.agent`) and, after a
 * toolkit call failed, the one "Cannot reach" sentence (exit 1) when that failure was the bound — the same sentence
 * bgmig's own clients give (src/cli/aws-errors.ts), whatever the toolkit wrapped the socket error in.
 */
export class ToolkitCallBound {
  readonly agent: IdleBoundAgent;

  /** `timeoutMs`: the bound in ms (--call-timeout / BGMIG_AWS_TIMEOUT); `endpoint`: --endpoint-url, if any. */
  constructor(private readonly where: { timeoutMs: number; endpoint?: string | undefined; region: string }) {
    this.agent = new IdleBoundAgent(where.timeoutMs, where.endpoint?.startsWith('http:') ?? false);
  }

  /** The "Cannot reach" BgmigError when a toolkit request hit the bound, else undefined. */
  failure(): BgmigError | undefined {
    if (!this.agent.timedOut) return undefined;
    return describeAwsError(new AwsCallTimeout(TOOLKIT_CALL, this.where.timeoutMs), { endpoint: this.where.endpoint, region: this.where.region });
  }
}

/**
 * A Toolkit that never prompts, without emojis or colour. With `bound`, its own SDK clients use the bound's agent,
 * so none of its calls waits longer than --call-timeout for an answer.
 */
export async function createToolkit(ioHost?: IIoHost, bound?: ToolkitCallBound): Promise<Toolkit> {
  const { Toolkit } = await import('@aws-cdk/toolkit-lib');
  return new Toolkit({
    ioHost:
      ioHost ??
      ioHostTo((level, text) => {
        if (level !== 'debug') process.stderr.write(`${level}: ${text}\n`);
      }),
    emojis: false,
    color: false,
    ...(bound ? { sdkConfig: { httpOptions: { agent: bound.agent } } } : {}),
  });
}

/**
 * The production toolkit factory for a command that talks to AWS: the toolkit's calls share bgmig's bound
 * (`aws.timeoutMs`, from --call-timeout / BGMIG_AWS_TIMEOUT) and endpoint; `bound.failure()` names a hung call.
 */
export function boundedToolkitFactory(aws: { timeoutMs: number; endpoint?: string | undefined; region: string }): {
  bound: ToolkitCallBound;
  create: (ioHost: IIoHost) => Promise<Toolkit>;
} {
  const bound = new ToolkitCallBound({ timeoutMs: aws.timeoutMs, endpoint: aws.endpoint, region: aws.region });
  return { bound, create: (ioHost) => createToolkit(ioHost, bound) };
}

/** The template file of the bgmig stack inside an assembly directory. */
export function templatePath(outdir: string, suffix: string): string {
  return path.join(outdir, `${names(suffix).stack}.template.json`);
}

/**
 * The checks' verdict on a finished synth: a BgmigError (exit 1, one sentence) when any finding is left, or when
 * nag was asked for and left no summary (a check that did not run cannot be claimed).
 */
export function checkSynthResult(outdir: string, opts: { nag: boolean }): { nag: NagSummary | undefined } {
  const violations = readViolations(outdir);
  if (violations.length > 0) {
    const first = violations[0];
    const rules = [...new Set(violations.map((v) => v.rule))];
    throw failure(
      `The template failed ${violations.length} check(s) (${rules.slice(0, 5).join(', ')}${rules.length > 5 ? ', …' : ''}; first at ${first.constructs[0] ?? first.plugin}): fix each or acknowledge it with its reason in src/infra/nag-acknowledgements.ts — details in ${path.join(outdir, VALIDATION_REPORT_FILE)}.`,
      undefined,
      { violations },
    );
  }
  const nag = readNagSummary(outdir);
  if (opts.nag && (!nag || nag.packs.length === 0)) {
    throw failure(`cdk-nag left no ${NAG_SUMMARY_FILE} in ${outdir}, so its checks cannot be claimed: re-run with --verbose to see why.`);
  }
  return { nag };
}

/**
 * The cloud assembly of the bgmig stack, built in-process from `config`. `validate` is CDK's built-in template
 * validation (CDK_VALIDATION semantics: off skips it, nag still runs); `nag` adds the cdk-nag packs.
 * `log` receives what aws-cdk-lib prints to the console while synthesizing (the validation report).
 */
export async function assemblySource(
  toolkit: Toolkit,
  config: StackConfig,
  opts: { outdir: string; validate: boolean; nag?: boolean; log?: (text: string) => void },
): Promise<ICloudAssemblySource> {
  const outdir = path.resolve(opts.outdir);
  // Reports of an earlier synth into the same directory must not be mistaken for this one's.
  for (const f of [VALIDATION_REPORT_FILE, NAG_SUMMARY_FILE]) rmSync(path.join(outdir, f), { force: true });
  return toolkit.fromAssemblyBuilder(
    async (props) => {
      const { buildApp } = await import('../infra/app.js');
      const dir = props.outdir ?? outdir;
      const captured: string[] = [];
      // biome-ignore lint/suspicious/noConsole: the original is kept to be put back after synthesis, never called.
      const original = console.error;
      // aws-cdk-lib writes validation reports straight to console.error; keep them out of bgmig's output.
      console.error = (...args: unknown[]) => {
        captured.push(args.map((a) => (typeof a === 'string' ? a : messageOf(a))).join(' '));
      };
      try {
        const assembly = buildApp(config, { outdir: dir, nag: opts.nag ?? false }).synth();
        // The toolkit sets failSynthOnValidationErrors=false, so findings do not throw: judge the reports here,
        // so deploy and diff can never proceed with a template that failed a check.
        checkSynthResult(dir, { nag: opts.nag ?? false });
        return assembly;
      } catch (e) {
        if (isBgmigError(e)) throw e;
        checkSynthResult(dir, { nag: false });
        throw failure(`Synthesizing the stack failed: ${messageOf(e)} (re-run with --verbose for details).`, e);
      } finally {
        console.error = original;
        if (opts.log && captured.length > 0) opts.log(captured.join('\n'));
      }
    },
    {
      outdir,
      // bgmig's app needs no context lookups and no account: synth works without credentials.
      lookups: false,
      resolveDefaultEnvironment: false,
      synthOptions: { validation: opts.validate },
    },
  );
}

/** Unwraps the BgmigError the builder threw (the toolkit may wrap it). */
export function unwrapSynthError(e: unknown): unknown {
  let cur: unknown = e;
  for (let i = 0; i < 5 && cur instanceof Error; i++) {
    if (isBgmigError(cur)) return cur;
    cur = cur.cause;
  }
  return e;
}

// ---- Stack options shared by synth, deploy and diff ----

export interface StackOptionValues {
  environment?: string;
  certificateArn?: string;
  azs?: string;
  haNat?: boolean;
  blueImage?: string;
  greenImage?: string;
  containerPort?: string;
  healthCheckPath?: string;
  testCidr?: string;
  alarmEmail?: string;
  costCenter?: string;
  cpuThreshold?: string;
  memoryThreshold?: string;
  dbConnectionsThreshold?: string;
  /** commander's attribute name for --5xx-threshold. */
  '5xxThreshold'?: string;
  unhealthyHostsThreshold?: string;
  pooler?: boolean;
}

/** Adds the stack options (what the template is built from) to a command. */
export function addStackOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--environment <env>', 'dev, staging or prod (prod turns on database deletion protection)').default('dev'))
    .addOption(new Option('--certificate-arn <arn>', 'ACM certificate for the HTTPS listeners (default: a placeholder that deploy refuses)'))
    .addOption(new Option('--azs <list>', 'three comma-separated availability zones (default: REGIONa,b,c)'))
    .addOption(new Option('--ha-nat', 'one NAT gateway per AZ instead of one').default(false))
    .addOption(
      new Option('--pooler', 'PgBouncer between the applications and the databases (one Fargate task per AZ); held through db cutover/rollback').default(false),
    )
    .addOption(new Option('--blue-image <image>', 'container image of the blue service'))
    .addOption(new Option('--green-image <image>', 'container image of the green service'))
    .addOption(new Option('--container-port <port>', 'port the application listens on'))
    .addOption(new Option('--health-check-path <path>', 'target-group health check path'))
    .addOption(new Option('--test-cidr <cidr>', 'CIDR admitted to the green test listener on 8443'))
    .addOption(new Option('--alarm-email <address>', 'send alarm notifications to this address (SNS)'))
    .addOption(new Option('--cost-center <value>', 'CostCenter tag on every resource'))
    .addOption(new Option('--cpu-threshold <percent>', 'service CPU alarm threshold (%)'))
    .addOption(new Option('--memory-threshold <percent>', 'service memory alarm threshold (%)'))
    .addOption(new Option('--db-connections-threshold <percent>', "DB connections alarm, as % of the instance class's max_connections"))
    .addOption(new Option('--5xx-threshold <count>', 'target 5xx responses per minute that raise the alarm'))
    .addOption(new Option('--unhealthy-hosts-threshold <count>', 'unhealthy targets that raise the alarm'))
    .addOption(new Option('--settings <file>', "this environment's settings as JSON (default: ./bgmig.<suffix>.json when it exists); flags win over it"));
}

const CIDR_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;
const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
/** AWS tag values: letters, digits, spaces and _ . : / = + - @, at most 256 characters. */
const TAG_VALUE_RE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,256}$/u;
/** registry/repository[:tag|@digest], no whitespace. */
const IMAGE_RE = /^[a-z0-9][a-z0-9._\-/:@]*$/i;

export function validateCidr(value: string, option: string): string {
  const m = CIDR_RE.exec(value);
  if (!m || m.slice(1, 5).some((o) => Number(o) > 255) || Number(m[5]) > 32) {
    throw badInput(`${option} must be an IPv4 CIDR like 203.0.113.0/24, got "${value}".`);
  }
  return value;
}

function validateImage(value: string, option: string): string {
  if (!IMAGE_RE.test(value)) throw badInput(`${option} must be a container image reference like public.ecr.aws/nginx/nginx:1.27, got "${value}".`);
  return value;
}

function parseAzs(value: string, region: string): string[] {
  const azs = value
    .split(',')
    .map((a) => a.trim())
    .filter((a) => a !== '');
  const re = new RegExp(`^${region.replace(/[-]/g, '\\-')}[a-z]$`);
  const bad = azs.find((a) => !re.test(a));
  if (bad !== undefined) throw badInput(`--azs must list availability zones of ${region} (like ${defaultAzs(region).join(',')}), got "${bad}".`);
  if (new Set(azs).size !== azs.length) throw badInput(`--azs must name three different availability zones, got "${value}".`);
  return azs;
}

/** Builds and validates the StackConfig (exit 2 with one sentence on any bad value, before anything is built). */
export function stackConfigFromOptions(
  suffix: string,
  region: string,
  o: StackOptionValues,
  live: { weights?: StackConfig['weights']; activeDatabase?: StackConfig['activeDatabase']; account?: string } = {},
): StackConfig {
  const thresholds: Partial<AlarmThresholds> = {};
  if (o.cpuThreshold !== undefined) thresholds.cpuPercent = parseIntStrict(o.cpuThreshold, '--cpu-threshold', 1, 100);
  if (o.memoryThreshold !== undefined) thresholds.memoryPercent = parseIntStrict(o.memoryThreshold, '--memory-threshold', 1, 100);
  if (o.dbConnectionsThreshold !== undefined)
    thresholds.dbConnectionsFraction = parseIntStrict(o.dbConnectionsThreshold, '--db-connections-threshold', 1, 100) / 100;
  if (o['5xxThreshold'] !== undefined) thresholds.http5xxCount = parseIntStrict(o['5xxThreshold'], '--5xx-threshold', 1, 1_000_000);
  if (o.unhealthyHostsThreshold !== undefined) thresholds.unhealthyHosts = parseIntStrict(o.unhealthyHostsThreshold, '--unhealthy-hosts-threshold', 1, 100);
  if (o.healthCheckPath !== undefined && !/^\/[\x21-\x7e]{0,1023}$/.test(o.healthCheckPath)) {
    throw badInput(`--health-check-path must start with "/" and contain no spaces, got "${o.healthCheckPath}".`);
  }
  if (o.certificateArn !== undefined) {
    // An ALB listener can only use an ACM certificate of its own region (ACM is regional).
    const certRegion = /^arn:aws[a-z-]*:acm:([a-z0-9-]+):/.exec(o.certificateArn)?.[1];
    if (certRegion !== undefined && certRegion !== region) {
      throw badInput(
        `--certificate-arn is a certificate in ${certRegion}, but the stack is in ${region}: a load balancer can only use an ACM certificate from its own region — request or import one in ${region}.`,
      );
    }
  }
  if (o.alarmEmail !== undefined && !EMAIL_RE.test(o.alarmEmail)) throw badInput(`--alarm-email must be an e-mail address, got "${o.alarmEmail}".`);
  if (o.costCenter !== undefined && !TAG_VALUE_RE.test(o.costCenter)) {
    throw badInput(`--cost-center must be 1–256 letters, digits, spaces or _ . : / = + - @ (an AWS tag value), got "${o.costCenter}".`);
  }
  return makeStackConfig({
    suffix,
    region,
    account: live.account,
    environment: o.environment as StackConfig['environment'] | undefined,
    certificateArn: o.certificateArn,
    availabilityZones: o.azs !== undefined ? parseAzs(o.azs, region) : undefined,
    haNat: o.haNat ?? false,
    pooler: o.pooler ?? false,
    blueImage: o.blueImage !== undefined ? validateImage(o.blueImage, '--blue-image') : undefined,
    greenImage: o.greenImage !== undefined ? validateImage(o.greenImage, '--green-image') : undefined,
    containerPort: o.containerPort !== undefined ? parseIntStrict(o.containerPort, '--container-port', 1, 65535) : undefined,
    healthCheckPath: o.healthCheckPath,
    testCidr: o.testCidr !== undefined ? validateCidr(o.testCidr, '--test-cidr') : undefined,
    weights: live.weights,
    activeDatabase: live.activeDatabase,
    alarmEmail: o.alarmEmail,
    costCenter: o.costCenter,
    thresholds: thresholds as AlarmThresholds,
  });
}
