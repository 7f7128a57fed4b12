/**
 * Ports for code running inside bgmig's Lambda functions: plain SDK clients configured by the function's
 * environment (region, role credentials, AWS_ENDPOINT_URL for an emulator), each created once per execution
 * environment on first use — a cold start pays for it, every later invocation does not. No bounds here: a function
 * has its own timeout.
 */
import type { DnsRecords, Listeners, ObjectStore, SecretVersions } from './ports.js';
import { dnsRecordsOver, listenersOver, objectStoreOver, secretVersionsOver } from './sdk.js';

/** `make` at most once, on the first call. */
function once<T>(make: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= make());
}

export function functionListeners(): Listeners {
  return listenersOver(once(async () => new (await import('@aws-sdk/client-elastic-load-balancing-v2')).ElasticLoadBalancingV2Client({})));
}

/** `forcePathStyle`: an emulator (AWS_ENDPOINT_URL, tests only) serves buckets by path, not by virtual host. */
export function functionObjectStore(forcePathStyle: boolean): ObjectStore {
  return objectStoreOver(once(async () => new (await import('@aws-sdk/client-s3')).S3Client(forcePathStyle ? { forcePathStyle } : {})));
}

export function functionSecretVersions(): SecretVersions {
  return secretVersionsOver(once(async () => new (await import('@aws-sdk/client-secrets-manager')).SecretsManagerClient({})));
}

export function functionDnsRecords(): DnsRecords {
  return dnsRecordsOver(once(async () => new (await import('@aws-sdk/client-route-53')).Route53Client({})));
}
