/**
 * AWS-mode "set" for a colour's master secret: ModifyDBCluster MasterUserPassword with ApplyImmediately, then a
 * bounded wait until the cluster is available with no master password change pending.
 */
import type { Clusters } from '../aws/ports.js';
import { failure } from '../core/errors.js';
import { formatMs } from '../core/units.js';
import type { Credentials, PasswordApplier } from './targets.js';
import { sleep } from '../core/sleep.js';

export interface WaitOptions {
  timeoutMs: number;
  pollMs: number;
}

export class RdsMasterPasswordApplier implements PasswordApplier {
  readonly target: string;
  readonly call: string;
  constructor(
    private readonly clusters: Clusters,
    private readonly clusterIdentifier: string,
    private readonly wait: WaitOptions,
    private readonly onProgress: (text: string) => void = () => undefined,
  ) {
    this.target = clusterIdentifier;
    this.call = `rds:ModifyDBCluster --db-cluster-identifier ${clusterIdentifier} --master-user-password … --apply-immediately, then rds:DescribeDBClusters until available`;
  }

  async apply({ password }: Credentials): Promise<void> {
    await this.clusters.setMasterPassword(this.clusterIdentifier, password);
    await this.waitAvailable();
  }

  /** Available and nothing pending: right after ModifyDBCluster the status may still read "available" for a moment. */
  async waitAvailable(): Promise<void> {
    const started = Date.now();
    let status = 'unknown';
    for (;;) {
      const c = await this.clusters.describe(this.clusterIdentifier);
      status = c?.Status ?? 'unknown';
      const pending = c?.PendingModifiedValues?.MasterUserPassword !== undefined;
      if (status === 'available' && !pending) return;
      this.onProgress(`${this.clusterIdentifier} is ${status}${pending ? ' (password change pending)' : ''}; waiting`);
      if (Date.now() - started + this.wait.pollMs > this.wait.timeoutMs) {
        throw failure(
          `Cluster ${this.clusterIdentifier} was still "${status}" after ${formatMs(this.wait.timeoutMs)}: check it in the RDS console, then re-run (the run resumes at this step).`,
        );
      }
      await sleep(this.wait.pollMs);
    }
  }
}
