/**
 * The "roll" step: ECS tasks read their secrets at start, so after AWSCURRENT moved each service gets a forced new
 * deployment and bgmig waits (bounded) until it is stable — ECS's own definition (the servicesStable waiter): one
 * deployment left and runningCount equal to desiredCount. A deployment ECS marks FAILED (circuit breaker) fails
 * the step at once instead of waiting out the timeout.
 */
import type { Services } from '../aws/ports.js';
import { failure } from '../core/errors.js';
import { formatMs } from '../core/units.js';
import type { WaitOptions } from './rds.js';
import { sleep } from '../core/sleep.js';

export interface ServiceRef {
  cluster: string;
  service: string;
}

export interface ServiceRoller {
  /** Starts a new deployment; returns its id. */
  forceNewDeployment(ref: ServiceRef): Promise<string | undefined>;
  waitStable(ref: ServiceRef, deploymentId: string | undefined): Promise<void>;
}

export class EcsServiceRoller implements ServiceRoller {
  constructor(
    private readonly services: Services,
    private readonly wait: WaitOptions,
    private readonly onProgress: (text: string) => void = () => undefined,
  ) {}

  async forceNewDeployment(ref: ServiceRef): Promise<string | undefined> {
    const service = await this.services.forceNewDeployment(ref.cluster, ref.service);
    return service?.deployments?.find((d) => d.status === 'PRIMARY')?.id;
  }

  async waitStable(ref: ServiceRef, deploymentId: string | undefined): Promise<void> {
    const started = Date.now();
    let last = 'not described yet';
    for (;;) {
      const s = await this.services.describe(ref.cluster, ref.service);
      if (s?.status !== 'ACTIVE') {
        throw failure(
          `ECS service ${ref.service} in ${ref.cluster} is ${s?.status ?? 'missing'}: check the stack outputs and the service, then re-run to roll it.`,
        );
      }
      const deployments = s.deployments ?? [];
      const primary = deployments.find((d) => d.status === 'PRIMARY');
      if (primary?.rolloutState === 'FAILED') {
        throw failure(
          `The new deployment of ${ref.service} failed (${primary.rolloutStateReason ?? 'rollout FAILED'}): the secret is already rotated — fix the service and re-run to roll it again.`,
        );
      }
      const ours = deploymentId === undefined || primary?.id === deploymentId;
      if (ours && deployments.length === 1 && s.runningCount === s.desiredCount) return;
      last = `${deployments.length} deployment(s), ${s.runningCount ?? 0}/${s.desiredCount ?? 0} tasks running`;
      this.onProgress(`${ref.service}: ${last}; waiting`);
      if (Date.now() - started + this.wait.pollMs > this.wait.timeoutMs) {
        throw failure(
          `${ref.service} did not become stable within ${formatMs(this.wait.timeoutMs)} (${last}): the secret is already rotated — check the service's events, then re-run to finish rolling.`,
        );
      }
      await sleep(this.wait.pollMs);
    }
  }
}
