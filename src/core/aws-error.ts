/**
 * Reading an AWS SDK v3 failure, the one way. The SDK throws a ServiceException subclass whose `name` is the
 * service's error code (e.g. "ResourceNotFoundException", "DBClusterNotFoundFault"; see each API reference's
 * "Errors" section) and whose `$metadata.httpStatusCode` is the HTTP status; anything else (a network error, a
 * BgmigError) has neither or a name that matches no AWS code. Deliberately tiny: which codes mean what is decided
 * where the call is made.
 */
interface AwsLikeError {
  name?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

/** The error's name (an AWS error code for SDK errors), or undefined when the thrown value has none. */
export function awsErrorName(e: unknown): string | undefined {
  const name = e !== null && typeof e === 'object' ? (e as AwsLikeError).name : undefined;
  return typeof name === 'string' ? name : undefined;
}

/** True when the thrown value is an AWS error with one of these codes. */
export function isAwsError(e: unknown, ...codes: string[]): boolean {
  const name = awsErrorName(e);
  return name !== undefined && codes.includes(name);
}

/** The HTTP status an AWS call answered with, or undefined (no response: network failure, timeout). */
export function awsHttpStatus(e: unknown): number | undefined {
  const status = e !== null && typeof e === 'object' ? (e as AwsLikeError).$metadata?.httpStatusCode : undefined;
  return typeof status === 'number' ? status : undefined;
}
