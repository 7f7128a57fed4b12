/**
 * The one place that builds AWS SDK clients: region, credentials (profile, or an assumed operator role with a
 * named session), endpoint (--endpoint-url / AWS_ENDPOINT_URL, e.g. an emulator), adaptive retries — and bounds.
 * Every client module is imported lazily so commands load only the SDKs they use.
 *
 * Bounds (issue 16: an endpoint that accepts the TCP connection and never answers must not hang a command):
 * - each attempt: connect within min(5 s, bound), response within the bound (NodeHttpHandler connectionTimeout /
 *   requestTimeout with throwOnRequestTimeout — without it @smithy/node-http-handler only logs a warning), and a
 *   socket idle for the bound is closed (socketTimeout);
 * - each call, all retries included: the bound (`--call-timeout`, BGMIG_AWS_TIMEOUT, default 20 s), enforced by a
 *   middleware at the initialize step, outside the retry middleware, so retries cannot stretch it;
 * - Lambda invocations run the function: their bound is the Lambda maximum (900 s) plus 30 s, or the bound if larger;
 * - a call still waiting after 2 s is announced once ("waiting for CloudFormation DescribeStacks, up to 20 s").
 * Docs: https://docs.aws.amazon.com/sdk-for-javascript/v3/developer-guide/node-configuring-maxsockets.html and the
 * @smithy/node-http-handler NodeHttpHandlerOptions.
 */
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { ECSClient } from '@aws-sdk/client-ecs';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { RDSClient } from '@aws-sdk/client-rds';
import type { Route53Client } from '@aws-sdk/client-route-53';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import os from 'node:os';
import type {
  Alarms,
  AwsPorts,
  Clusters,
  DnsRecords,
  Functions,
  GuardRule,
  Identity,
  Listeners,
  Metrics,
  ObjectStore,
  SecretVersions,
  Services,
  Stacks,
  TargetHealth,
} from './ports.js';
import * as sdk from './sdk.js';

export interface AwsOptions {
  region: string;
  profile?: string | undefined;
  /** Assume this role (the stack's operator role) with a named session before every call. */
  roleArn?: string | undefined;
  endpointUrl?: string | undefined;
  /** Overall attempts per call under adaptive retry (throttling backs off client-side). Default 3. */
  maxAttempts?: number;
  /** Bound on one AWS call in ms, all attempts included (default DEFAULT_AWS_TIMEOUT_MS). */
  timeoutMs?: number;
  /** Told once when a call has waited SLOW_CALL_NOTICE_MS: what it waits for and its bound (ms). */
  onSlowCall?: (what: string, boundMs: number) => void;
}

/** Default bound on one AWS call (all retries included), in ms: `--call-timeout` / BGMIG_AWS_TIMEOUT override it. */
export const DEFAULT_AWS_TIMEOUT_MS = 20_000;
/** Default attempts per AWS call (the first try plus two retries). */
export const DEFAULT_MAX_ATTEMPTS = 3;
/** Lambda's maximum function duration (900 s) plus a margin: a synchronous Invoke waits for the function. */
export const LAMBDA_INVOKE_BOUND_MS = 930_000;
/** After this long a waiting call says what it waits for. */
export const SLOW_CALL_NOTICE_MS = 2_000;
/** Connecting never needs more than this, whatever the call's bound. */
const CONNECT_TIMEOUT_MS = 5_000;

/** What the bound middleware throws: the name the SDK and describeAwsError use for timeouts. */
export class AwsCallTimeout extends Error {
  constructor(
    readonly what: string,
    readonly boundMs: number,
  ) {
    super(`${what} did not answer within ${Math.round(boundMs / 1000)} s`);
    this.name = 'TimeoutError';
  }
}

interface HandlerOptions {
  connectionTimeout: number;
  requestTimeout: number;
  socketTimeout: number;
  throwOnRequestTimeout: true;
}

/** The part of a smithy client the bound needs (every SDK v3 client has it). */
interface BoundableClient {
  middlewareStack: {
    add(
      mw: (next: (args: unknown) => Promise<unknown>, context: { clientName?: string; commandName?: string }) => (args: unknown) => Promise<unknown>,
      opts: { step: 'initialize'; name: string; priority: 'high' },
    ): void;
  };
}

/** "CloudFormationClient" + "DescribeStacksCommand" → "CloudFormation DescribeStacks". */
function callName(context: { clientName?: string; commandName?: string }): string {
  const client = (context.clientName ?? 'AWS').replace(/Client$/, '');
  return `${client} ${(context.commandName ?? 'call').replace(/Command$/, '')}`;
}

/**
 * Bounds every call of `client` to `boundMs` (all attempts) and announces calls slower than SLOW_CALL_NOTICE_MS.
 * The request itself is cut by the handler's own timeouts; this bound is what the operator can rely on.
 */
export function boundCalls<T>(client: T, boundMs: number, onSlow?: (what: string, boundMs: number) => void): T {
  (client as unknown as BoundableClient).middlewareStack.add(
    (next, context) => (args) =>
      new Promise((resolve, reject) => {
        const what = callName(context);
        const slow = onSlow ? setTimeout(() => onSlow(what, boundMs), Math.min(SLOW_CALL_NOTICE_MS, boundMs)) : undefined;
        const timer = setTimeout(() => reject(new AwsCallTimeout(what, boundMs)), boundMs);
        next(args).then(
          (v) => {
            clearTimeout(timer);
            clearTimeout(slow);
            resolve(v);
          },
          (e: unknown) => {
            clearTimeout(timer);
            clearTimeout(slow);
            reject(e);
          },
        );
      }),
    { step: 'initialize', name: 'bgmigCallBound', priority: 'high' },
  );
  return client;
}

interface CommonConfig {
  region: string;
  endpoint?: string;
  credentials?: AwsCredentialIdentityProvider;
  retryMode: 'adaptive';
  maxAttempts: number;
  requestHandler: HandlerOptions;
}

function handlerOptions(boundMs: number): HandlerOptions {
  return { connectionTimeout: Math.min(CONNECT_TIMEOUT_MS, boundMs), requestTimeout: boundMs, socketTimeout: boundMs, throwOnRequestTimeout: true };
}

export function sessionName(): string {
  // Session names show up in CloudTrail: make them say who ran bgmig. Allowed chars: [\w+=,.@-], 2–64.
  let user = 'operator';
  try {
    user = os.userInfo().username;
  } catch {
    /* no passwd entry (containers): keep the default */
  }
  return `bgmig-${user}-${Date.now()}`.replace(/[^\w+=,.@-]/g, '-').slice(0, 64);
}

/**
 * The bounded SDK clients of one command run, and the ports (src/aws/ports.ts) built over them on first use. Outside
 * src/aws/ (and the rehearsal, which provisions the emulator) only the ports are used; the client factories below are
 * for the ports and the emulator.
 */
export class AwsClients implements AwsPorts {
  readonly options: AwsOptions;
  private commonPromise: Promise<CommonConfig> | undefined;
  private readonly cache = new Map<string, unknown>();
  private readonly ports = new Map<keyof AwsPorts, unknown>();

  constructor(options: AwsOptions) {
    this.options = options;
  }

  get endpoint(): string | undefined {
    return this.options.endpointUrl ?? (process.env.AWS_ENDPOINT_URL || undefined);
  }

  get region(): string {
    return this.options.region;
  }

  /** The bound on one call (ms, all attempts included). */
  get timeoutMs(): number {
    return this.options.timeoutMs ?? DEFAULT_AWS_TIMEOUT_MS;
  }

  /** The port `key`, built by `make` the first time it is asked for. */
  private port<K extends keyof AwsPorts>(key: K, make: () => AwsPorts[K]): AwsPorts[K] {
    let p = this.ports.get(key) as AwsPorts[K] | undefined;
    if (p === undefined) {
      p = make();
      this.ports.set(key, p);
    }
    return p;
  }

  get stacks(): Stacks {
    return this.port('stacks', () => sdk.stacksOver(() => this.cloudformation()));
  }
  get listeners(): Listeners {
    return this.port('listeners', () => sdk.listenersOver(() => this.elbv2()));
  }
  get targetHealth(): TargetHealth {
    return this.port('targetHealth', () => sdk.targetHealthOver(() => this.elbv2()));
  }
  get alarms(): Alarms {
    return this.port('alarms', () => sdk.alarmsOver(() => this.cloudwatch()));
  }
  get metrics(): Metrics {
    return this.port('metrics', () => sdk.metricsOver(() => this.cloudwatch()));
  }
  get clusters(): Clusters {
    return this.port('clusters', () => sdk.clustersOver(() => this.rds()));
  }
  get objects(): ObjectStore {
    return this.port('objects', () => sdk.objectStoreOver(() => this.s3()));
  }
  get functions(): Functions {
    return this.port('functions', () => sdk.functionsOver(() => this.lambda()));
  }
  get secretVersions(): SecretVersions {
    return this.port('secretVersions', () => sdk.secretVersionsOver(() => this.secrets()));
  }
  get services(): Services {
    return this.port('services', () => sdk.servicesOver(() => this.ecs()));
  }
  get dnsRecords(): DnsRecords {
    return this.port('dnsRecords', () => sdk.dnsRecordsOver(() => this.route53()));
  }
  get guardRule(): GuardRule {
    return this.port('guardRule', () => sdk.guardRuleOver(() => this.eventbridge()));
  }
  get identity(): Identity {
    return this.port('identity', () => sdk.identityOver(() => this.sts()));
  }

  private common(): Promise<CommonConfig> {
    this.commonPromise ??= (async () => {
      const cfg: CommonConfig = {
        region: this.options.region,
        retryMode: 'adaptive',
        maxAttempts: this.options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
        requestHandler: handlerOptions(this.timeoutMs),
      };
      if (this.endpoint) cfg.endpoint = this.endpoint;
      if (this.options.profile || this.options.roleArn) {
        const cp = await import('@aws-sdk/credential-providers');
        const base = this.options.profile ? cp.fromIni({ profile: this.options.profile }) : undefined;
        cfg.credentials = this.options.roleArn
          ? cp.fromTemporaryCredentials({
              params: { RoleArn: this.options.roleArn, RoleSessionName: sessionName(), DurationSeconds: 3600 },
              ...(base ? { masterCredentials: base } : {}),
              clientConfig: {
                region: this.options.region,
                maxAttempts: this.options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
                requestHandler: handlerOptions(this.timeoutMs),
                ...(this.endpoint ? { endpoint: this.endpoint } : {}),
              },
            })
          : base;
      }
      return cfg;
    })();
    return this.commonPromise;
  }

  private async client<T>(key: string, make: (cfg: CommonConfig) => Promise<T>): Promise<T> {
    const hit = this.cache.get(key);
    if (hit) return hit as T;
    const common = await this.common();
    // A synchronous Invoke lasts as long as the function runs: its bound is Lambda's, not the API round trip's.
    const bound = key === 'lambda' ? Math.max(this.timeoutMs, LAMBDA_INVOKE_BOUND_MS) : this.timeoutMs;
    const c = boundCalls(await make({ ...common, requestHandler: handlerOptions(bound) }), bound, this.options.onSlowCall);
    this.cache.set(key, c);
    return c;
  }

  elbv2(): Promise<ElasticLoadBalancingV2Client> {
    return this.client('elbv2', async (cfg) => new (await import('@aws-sdk/client-elastic-load-balancing-v2')).ElasticLoadBalancingV2Client(cfg));
  }
  cloudwatch(): Promise<CloudWatchClient> {
    return this.client('cw', async (cfg) => new (await import('@aws-sdk/client-cloudwatch')).CloudWatchClient(cfg));
  }
  cloudformation(): Promise<CloudFormationClient> {
    return this.client('cfn', async (cfg) => new (await import('@aws-sdk/client-cloudformation')).CloudFormationClient(cfg));
  }
  secrets(): Promise<SecretsManagerClient> {
    return this.client('sm', async (cfg) => new (await import('@aws-sdk/client-secrets-manager')).SecretsManagerClient(cfg));
  }
  rds(): Promise<RDSClient> {
    return this.client('rds', async (cfg) => new (await import('@aws-sdk/client-rds')).RDSClient(cfg));
  }
  ecs(): Promise<ECSClient> {
    return this.client('ecs', async (cfg) => new (await import('@aws-sdk/client-ecs')).ECSClient(cfg));
  }
  s3(): Promise<S3Client> {
    // Emulators serve buckets by path, not by virtual host.
    return this.client('s3', async (cfg) => new (await import('@aws-sdk/client-s3')).S3Client({ ...cfg, forcePathStyle: Boolean(cfg.endpoint) }));
  }
  lambda(): Promise<LambdaClient> {
    return this.client('lambda', async (cfg) => new (await import('@aws-sdk/client-lambda')).LambdaClient(cfg));
  }
  route53(): Promise<Route53Client> {
    return this.client('r53', async (cfg) => new (await import('@aws-sdk/client-route-53')).Route53Client(cfg));
  }
  eventbridge(): Promise<EventBridgeClient> {
    return this.client('events', async (cfg) => new (await import('@aws-sdk/client-eventbridge')).EventBridgeClient(cfg));
  }
  sts(): Promise<STSClient> {
    return this.client('sts', async (cfg) => new (await import('@aws-sdk/client-sts')).STSClient(cfg));
  }

  /** Credentials for the CDK toolkit (same profile/role/endpoint as the clients). */
  async credentialProvider(): Promise<AwsCredentialIdentityProvider | undefined> {
    return (await this.common()).credentials;
  }
}
