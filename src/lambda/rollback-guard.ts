/**
 * The rollback guard Lambda: invoked by the EventBridge rule rule-rollback-guard-{suffix} when one of green's
 * CloudWatch alarms changes state, it sets blue 100 / green 0 on exactly the stack's HTTPS listener — with the same
 * code as `bgmig rollback` (src/deployed/listener.ts) — and journals what it did under journal/ in the artifacts
 * bucket. Green already at 0 is a no-op (journaled as such). It needs no bgmig process: the laptop may sleep.
 *
 * Thin over src/rollout/guard.ts. Typed event (EventBridge's "CloudWatch Alarm State Change",
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-and-eventbridge.html), structured JSON
 * logs (Powertools Logger). A failure to roll back is logged and re-thrown, so the asynchronous invocation fails and
 * Lambda runs it again (twice by default, https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html);
 * a failed journal write after a verified rollback is logged, not re-thrown.
 *
 * Environment (src/core/lambda-env.ts RollbackGuardEnv): BGMIG_SUFFIX, LISTENER_ARN, BLUE_TARGET_GROUP_ARN,
 * GREEN_TARGET_GROUP_ARN, GREEN_ALARM_NAMES, ARTIFACTS_BUCKET.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { functionListeners, functionObjectStore } from '../aws/in-function.js';
import type { Listeners, ObjectStore } from '../aws/ports.js';
import { type AlarmStateChangeEvent, guardConfigFrom, type GuardResult, runGuard } from '../rollout/guard.js';
import { firstLine, messageOf, WHOLE_LINE } from '../core/errors.js';
import { names } from '../core/naming.js';

export type { AlarmStateChangeEvent, GuardResult };

/** What tests inject; the deployed function builds its ports from its environment (which may set AWS_ENDPOINT_URL). */
export interface GuardHandlerDeps {
  env?: NodeJS.ProcessEnv;
  listeners?: Listeners;
  objects?: ObjectStore;
  logger?: Logger;
}

interface LambdaContextLike {
  awsRequestId?: string;
  invokedFunctionArn?: string;
  functionName?: string;
}

export function makeHandler(deps: GuardHandlerDeps = {}) {
  const env = deps.env ?? process.env;
  const logger = deps.logger ?? new Logger({ serviceName: 'bgmig-rollback-guard' });
  // Their clients are created once per container: a cold start pays for them, every later alarm does not.
  const listeners = deps.listeners ?? functionListeners();
  const objects = deps.objects ?? functionObjectStore(Boolean(env.AWS_ENDPOINT_URL));

  return async function handler(event: AlarmStateChangeEvent, context?: LambdaContextLike): Promise<GuardResult> {
    if (context?.awsRequestId) logger.appendKeys({ requestId: context.awsRequestId });
    const cfg = guardConfigFrom(env);
    logger.info('alarm state change', {
      alarm: event.detail?.alarmName,
      state: event.detail?.state?.value,
      previous: event.detail?.previousState?.value,
      listener: cfg.target.listenerArn,
    });
    try {
      const result = await runGuard(event, cfg, {
        listeners,
        objects,
        who: context?.invokedFunctionArn ?? context?.functionName ?? names(cfg.suffix).rollbackGuardFunction,
      });
      const log = result.action === 'rollback' ? logger.warn.bind(logger) : logger.info.bind(logger);
      log(`guard ${result.action}`, { ...result });
      if (result.journalError) logger.error('journal record not written', { error: result.journalError });
      return result;
    } catch (e) {
      logger.error('rollback failed', { error: firstLine(messageOf(e), WHOLE_LINE) });
      throw e;
    }
  };
}

/** The Lambda entry point (index.handler in the bundle). */
export const handler = makeHandler();
