/**
 * Turns AWS SDK failures into one sentence an operator can act on. Applied at the top level, so commands only
 * translate the errors they understand better (a missing stack, a missing listener).
 */
import { type BgmigError, failure, firstLine, messageOf } from '../core/errors.js';
import { AwsCallTimeout } from '../aws/clients.js';
import { awsHttpStatus } from '../core/aws-error.js';

interface AwsLikeError {
  name?: string;
  code?: string;
  message?: string;
  $fault?: string;
}

function codesOf(e: unknown): string[] {
  const out: string[] = [];
  let cur: unknown = e;
  for (let i = 0; i < 5 && cur && typeof cur === 'object'; i++) {
    const x = cur as AwsLikeError & { cause?: unknown; errors?: unknown[] };
    if (x.name) out.push(x.name);
    if (x.code) out.push(x.code);
    if (Array.isArray(x.errors)) for (const inner of x.errors) out.push(...codesOf(inner));
    cur = x.cause;
  }
  return out;
}

export function describeAwsError(e: unknown, ctx: { endpoint?: string | undefined; region: string }): BgmigError | undefined {
  const codes = codesOf(e);
  const has = (...names: string[]) => names.some((n) => codes.includes(n));
  const where = ctx.endpoint ? `the AWS endpoint ${ctx.endpoint}` : `AWS in ${ctx.region}`;
  if (has('CredentialsProviderError', 'CredentialsError')) {
    return failure(
      'No AWS credentials found: set AWS_PROFILE or pass --profile, export AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or log in with `aws sso login`.',
      e,
    );
  }
  if (has('ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'EHOSTUNREACH', 'ETIMEDOUT', 'TimeoutError', 'RequestTimeout', 'AbortError')) {
    // Say which call gave up and after how long, so the operator knows the bound held and what it was.
    const bound =
      e instanceof AwsCallTimeout
        ? ` (${e.what} got no answer within ${Math.round(e.boundMs / 1000)} s — the bound set by --call-timeout / BGMIG_AWS_TIMEOUT)`
        : '';
    return failure(`Cannot reach ${where}${bound}: check --endpoint-url / AWS_ENDPOINT_URL and your network, then retry.`, e);
  }
  if (has('ExpiredToken', 'ExpiredTokenException', 'RequestExpired')) {
    return failure('Your AWS session has expired: refresh your credentials (e.g. `aws sso login`) and retry.', e);
  }
  if (has('InvalidClientTokenId', 'UnrecognizedClientException', 'SignatureDoesNotMatch')) {
    return failure('AWS rejected the credentials (invalid key or signature): check the profile or keys you are using.', e);
  }
  if (has('AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation')) {
    return failure(
      `AWS denied the request (${firstLine(messageOf(e), 300)}): use the stack's operator role (--role-arn) or ask for the missing permission.`,
      e,
    );
  }
  if (has('ThrottlingException', 'Throttling', 'TooManyRequestsException', 'RequestLimitExceeded')) {
    return failure('AWS kept throttling the request after retries: wait a minute and retry.', e);
  }
  if (awsHttpStatus(e) !== undefined) {
    return failure(`AWS request failed (${codes[0] ?? 'error'}): ${firstLine(messageOf(e), 300)}`, e);
  }
  return undefined;
}
