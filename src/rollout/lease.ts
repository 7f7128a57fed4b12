/**
 * One rollout at a time: a lease object (rollout/lease.json in the artifacts bucket) created with an S3 conditional
 * write. `If-None-Match: *` creates it only when absent; renewals and releases carry `If-Match: <ETag>`, so a holder
 * whose lease was force-unlocked or taken over learns it at its next renewal instead of overwriting someone else's
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html). A lease its holder stops renewing
 * expires (judgeLease) and the next rollout takes it over, again conditionally on the expired object's ETag.
 */
import type { ObjectStore } from '../aws/ports.js';
import { awsHttpStatus, isAwsError } from '../core/aws-error.js';
import { type BgmigError, refused } from '../core/errors.js';
import { judgeLease, type LeaseBody } from './plan.js';

export const LEASE_KEY = 'rollout/lease.json';

export interface HeldLease {
  body: LeaseBody;
  etag: string;
}

function isPreconditionFailed(e: unknown): boolean {
  const status = awsHttpStatus(e);
  return isAwsError(e, 'PreconditionFailed', 'ConditionalRequestConflict') || status === 412 || status === 409;
}

function isNotFound(e: unknown): boolean {
  return isAwsError(e, 'NoSuchKey', 'NotFound') || awsHttpStatus(e) === 404;
}

/** The current lease and its ETag, or undefined when there is none. */
export async function readLease(s3: ObjectStore, bucket: string): Promise<HeldLease | undefined> {
  try {
    const res = await s3.get(bucket, LEASE_KEY);
    return { body: JSON.parse(res.body ?? '{}') as LeaseBody, etag: res.etag ?? '' };
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

async function put(s3: ObjectStore, bucket: string, body: LeaseBody, cond: { ifNoneMatch: true } | { ifMatch: string }): Promise<string> {
  const etag = await s3.put(bucket, LEASE_KEY, JSON.stringify(body, null, 2), {
    contentType: 'application/json',
    ...('ifNoneMatch' in cond ? { ifNoneMatch: '*' as const } : { ifMatch: cond.ifMatch }),
  });
  return etag ?? '';
}

function describeHolder(l: LeaseBody): string {
  const step = l.step > 0 ? `at step ${l.step}/${l.steps} (green ${l.green} %)` : 'before its first step';
  return `${l.holder} (pid ${l.pid} on ${l.host}) since ${l.acquiredAt}, ${step}`;
}

/** The refusal a second operator sees (exit 3): who, since when, at which step, and what to do. */
export function leaseRefusal(l: LeaseBody): BgmigError {
  return refused(
    `Another rollout holds the lease: ${describeHolder(l)}, renewed ${l.renewedAt}, expiring ${l.expiresAt} unless renewed — watch it with \`bgmig status\`, stop it with \`bgmig rollback\`, or if its holder is gone for good run \`bgmig promote --force-unlock\`.`,
    { lease: l },
  );
}

export type AcquireOutcome = { lease: HeldLease; tookOver?: LeaseBody | undefined };

/**
 * Creates the lease, or takes over an expired one. Raises leaseRefusal (exit 3) when a live lease exists, and also
 * when another writer wins the race for an expired one.
 */
export async function acquireLease(s3: ObjectStore, bucket: string, body: LeaseBody, nowMs: number): Promise<AcquireOutcome> {
  try {
    return { lease: { body, etag: await put(s3, bucket, body, { ifNoneMatch: true }) } };
  } catch (e) {
    if (!isPreconditionFailed(e)) throw e;
  }
  const existing = await readLease(s3, bucket);
  if (!existing) {
    // Released between our write and our read: try once more, still conditionally.
    return {
      lease: {
        body,
        etag: await put(s3, bucket, body, { ifNoneMatch: true }).catch((e: unknown) => {
          throw isPreconditionFailed(e) ? refused('Another rollout took the lease at the same moment: check with `bgmig status`.') : e;
        }),
      },
    };
  }
  const verdict = judgeLease(existing.body, nowMs);
  if (verdict.state === 'held') throw leaseRefusal(existing.body);
  try {
    return { lease: { body, etag: await put(s3, bucket, body, { ifMatch: existing.etag }) }, tookOver: existing.body };
  } catch (e) {
    if (isPreconditionFailed(e)) {
      const now = await readLease(s3, bucket);
      throw now ? leaseRefusal(now.body) : refused('Another rollout took the lease at the same moment: check with `bgmig status`.');
    }
    throw e;
  }
}

/** Rewrites the lease (new expiry, step, last check) if it is still ours; undefined when it is not any more. */
export async function renewLease(s3: ObjectStore, bucket: string, held: HeldLease, body: LeaseBody): Promise<HeldLease | undefined> {
  try {
    return { body, etag: await put(s3, bucket, body, { ifMatch: held.etag }) };
  } catch (e) {
    if (isPreconditionFailed(e) || isNotFound(e)) return undefined;
    throw e;
  }
}

/** Deletes the lease if it is still ours (If-Match); a lease someone else holds now is left alone. */
export async function releaseLease(s3: ObjectStore, bucket: string, held: HeldLease): Promise<boolean> {
  try {
    await s3.delete(bucket, LEASE_KEY, { ifMatch: held.etag });
    return true;
  } catch (e) {
    if (isPreconditionFailed(e) || isNotFound(e)) return false;
    throw e;
  }
}

/** Deletes whatever lease exists (`--force-unlock`); returns what it removed. */
export async function forceUnlock(s3: ObjectStore, bucket: string): Promise<LeaseBody | undefined> {
  const existing = await readLease(s3, bucket);
  if (!existing) return undefined;
  await s3.delete(bucket, LEASE_KEY);
  return existing.body;
}
