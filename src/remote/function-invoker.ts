/**
 * Invoking bgmig's Lambda functions from the CLI (the cutover function for `bgmig db` and the rotation's --app
 * steps, the validator for the rotation's connection check and `bgmig validate`), and turning every way an invocation
 * can go wrong into one sentence.
 *
 * The seam is the Functions port (src/aws/ports.ts): production code invokes through the Lambda API
 * (AwsPorts.functions); tests route the same events to the real handlers in-process, because the emulator cannot run
 * function code (moto answers FunctionError "Handled" with "error running docker: …").
 */
import type { Functions, Invocation } from '../aws/ports.js';
import { awsErrorName } from '../core/aws-error.js';
import { failure, firstLine, messageOf } from '../core/errors.js';

/** How messages name the call and what they advise (the advice differs between `bgmig db` and a rotation). */
export interface CallDescription {
  /** "The cutover function lambda-db-cutover-demo". */
  fn: string;
  /** The operation, for messages: "init", "connection-check". */
  operation: string;
  /** What to do after a crash, without the final full stop: "see its CloudWatch logs (…) and check `bgmig db sync status`". */
  crashed: string;
  /** What to do after a timeout: "check `bgmig db sync status`, then re-run the command to finish or undo it". */
  timedOut: string;
  /** What to do when Lambda throttles or another invocation holds the function. */
  busy: string;
}

/**
 * Invokes and decodes one call: returns the parsed result when `isResult` accepts it, throws a one-sentence
 * BgmigError otherwise — the function does not exist ("deploy the stack"), is busy, crashed or timed out
 * (FunctionError), or answered something that is not a result (an emulator that cannot run code, an older bundle).
 */
export async function invokeFor<T>(invoker: Functions, functionName: string, event: unknown, d: CallDescription, isResult: (v: unknown) => v is T): Promise<T> {
  let res: Invocation;
  try {
    res = await invoker.invoke(functionName, event);
  } catch (e) {
    const name = awsErrorName(e);
    if (name === 'ResourceNotFoundException') {
      throw failure(`${d.fn} does not exist: deploy the stack with this bgmig version (\`bgmig deploy\`).`, e);
    }
    if (name === 'TooManyRequestsException' || name === 'ResourceConflictException') {
      throw failure(`${d.fn} is busy (${name}): ${d.busy}.`, e);
    }
    throw e; // credentials, endpoint, access: the top level says it in one sentence
  }
  let parsed: unknown;
  let parseError: unknown;
  try {
    parsed = res.payload === '' ? undefined : JSON.parse(res.payload);
  } catch (e) {
    parseError = e;
  }
  if (res.functionError) {
    const p = (parsed ?? {}) as { errorType?: string; errorMessage?: string };
    const detail = p.errorMessage ? firstLine(p.errorMessage) : firstLine(res.payload) || res.functionError;
    if (/Task timed out/i.test(detail)) throw failure(`${d.fn} timed out during ${d.operation} (${detail}): ${d.timedOut}.`);
    throw failure(`${d.fn} failed to run ${d.operation} (${p.errorType ?? res.functionError}: ${detail}): ${d.crashed}.`);
  }
  if (parseError !== undefined || !isResult(parsed)) {
    const got = firstLine(res.payload, 80) || 'an empty payload';
    throw failure(
      `${d.fn} returned no ${d.operation} result (it answered "${got}"${parseError ? `, ${firstLine(messageOf(parseError), 60)}` : ''}): check that it is deployed with this bgmig version and can run.`,
    );
  }
  return parsed;
}
