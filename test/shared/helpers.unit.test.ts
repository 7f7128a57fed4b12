/** The shared helpers of src/core that replaced per-module copies: sleep, AWS error reading, Lambda environment. */
import { describe, expect, it } from 'vitest';
import { awsErrorName, awsHttpStatus, isAwsError } from '../../src/core/aws-error.js';
import { BgmigError, ExitCode } from '../../src/core/errors.js';
import { requireEnv } from '../../src/core/lambda-env.js';
import { sleep } from '../../src/core/sleep.js';

describe('sleep', () => {
  it('waits the given time', async () => {
    const t0 = performance.now();
    await sleep(60);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(55);
  });

  it('returns at once, without rejecting, when the signal is or becomes aborted', async () => {
    const already = new AbortController();
    already.abort();
    let t0 = performance.now();
    await sleep(10_000, already.signal);
    expect(performance.now() - t0).toBeLessThan(500);

    const later = new AbortController();
    t0 = performance.now();
    setTimeout(() => later.abort(), 30);
    await expect(sleep(10_000, later.signal)).resolves.toBeUndefined();
    expect(performance.now() - t0).toBeLessThan(2_000);
  });
});

describe('AWS error reading', () => {
  class ResourceNotFoundException extends Error {
    override name = 'ResourceNotFoundException';
    $metadata = { httpStatusCode: 404 };
  }

  it('reads the SDK error code and HTTP status, and nothing from values that are not AWS errors', () => {
    const e = new ResourceNotFoundException('Function not found');
    expect(awsErrorName(e)).toBe('ResourceNotFoundException');
    expect(awsHttpStatus(e)).toBe(404);
    expect(isAwsError(e, 'TooManyRequestsException', 'ResourceNotFoundException')).toBe(true);
    expect(isAwsError(e, 'TooManyRequestsException')).toBe(false);
    for (const v of [undefined, null, 'ResourceNotFoundException', 42, { name: 7 }, { $metadata: { httpStatusCode: '404' } }]) {
      expect({ v, name: awsErrorName(v), status: awsHttpStatus(v), is: isAwsError(v, 'ResourceNotFoundException') }).toEqual({
        v,
        name: undefined,
        status: undefined,
        is: false,
      });
    }
    expect(awsHttpStatus(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toBeUndefined();
  });
});

describe('Lambda environment', () => {
  it('returns a set variable and refuses a missing or empty one with exit 1 and the redeploy advice', () => {
    expect(requireEnv({ ARTIFACTS_BUCKET: 'b' }, 'ARTIFACTS_BUCKET', 'cutover function')).toBe('b');
    for (const env of [{}, { ARTIFACTS_BUCKET: '' }]) {
      let err: unknown;
      try {
        requireEnv(env, 'ARTIFACTS_BUCKET', 'cutover function');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(BgmigError);
      expect((err as BgmigError).exitCode).toBe(ExitCode.Failure);
      expect((err as BgmigError).message).toBe(
        'The cutover function has no ARTIFACTS_BUCKET environment variable: redeploy the stack with this bgmig version.',
      );
    }
  });
});
