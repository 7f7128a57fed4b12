/**
 * The one place that builds AWS SDK clients: region, credentials (profile, or an assumed operator role with a
 * named session), endpoint (--endpoint-url / AWS_ENDPOINT_URL, e.g. an emulator) and adaptive retries.
 * Every client module is imported lazily so commands load only the SDKs they use.
 */
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { ECSClient } from '@aws-sdk/client-ecs';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { RDSClient } from '@aws-sdk/client-rds';
import type { Route53Client } from '@aws-sdk/client-route-53';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import os from 'node:os';

export interface AwsOptions {
  region: string;
  profile?: string | undefined;
  /** Assume this role (the stack's operator role) with a named session before every call. */
  roleArn?: string | undefined;
  endpointUrl?: string | undefined;
  /** Overall attempts per call under adaptive retry (throttling backs off client-side). */
  maxAttempts?: number;
}

interface CommonConfig {
  region: string;
  endpoint?: string;
  credentials?: AwsCredentialIdentityProvider;
  retryMode: 'adaptive';
  maxAttempts: number;
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

export class AwsClients {
  readonly options: AwsOptions;
  private commonPromise: Promise<CommonConfig> | undefined;
  private readonly cache = new Map<string, unknown>();

  constructor(options: AwsOptions) {
    this.options = options;
  }

  get endpoint(): string | undefined {
    return this.options.endpointUrl ?? (process.env.AWS_ENDPOINT_URL || undefined);
  }

  get region(): string {
    return this.options.region;
  }

  private common(): Promise<CommonConfig> {
    this.commonPromise ??= (async () => {
      const cfg: CommonConfig = {
        region: this.options.region,
        retryMode: 'adaptive',
        maxAttempts: this.options.maxAttempts ?? 5,
      };
      if (this.endpoint) cfg.endpoint = this.endpoint;
      if (this.options.profile || this.options.roleArn) {
        const cp = await import('@aws-sdk/credential-providers');
        const base = this.options.profile ? cp.fromIni({ profile: this.options.profile }) : undefined;
        cfg.credentials = this.options.roleArn
          ? cp.fromTemporaryCredentials({
              params: { RoleArn: this.options.roleArn, RoleSessionName: sessionName(), DurationSeconds: 3600 },
              ...(base ? { masterCredentials: base } : {}),
              clientConfig: { region: this.options.region, ...(this.endpoint ? { endpoint: this.endpoint } : {}) },
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
    const c = await make(await this.common());
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
  sts(): Promise<STSClient> {
    return this.client('sts', async (cfg) => new (await import('@aws-sdk/client-sts')).STSClient(cfg));
  }

  /** Credentials for the CDK toolkit (same profile/role/endpoint as the clients). */
  async credentialProvider(): Promise<AwsCredentialIdentityProvider | undefined> {
    return (await this.common()).credentials;
  }
}
