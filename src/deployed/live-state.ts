/**
 * The live state a deploy must carry over into the template so that CloudFormation never moves traffic or the
 * database by itself (aws/aws-cdk#36649): the listener weights and the active database (the db CNAME). Also
 * used by promote and status to say which database both colors use.
 */
import type { Weights } from '../core/config.js';
import { failure } from '../core/errors.js';
import type { Color } from '../core/naming.js';
import { ColorOutputKey, OutputKey } from '../core/outputs.js';
import type { AwsPorts } from '../aws/ports.js';
import { optionalOutput, output, type StackInfo } from './stack.js';
import { readWeights, trafficTarget } from './traffic.js';

/** The cluster the db record points at, with its identifier and writer endpoint from the stack outputs. */
export interface ActiveCluster {
  color: Color;
  clusterIdentifier: string;
  endpoint: string;
}

/**
 * Which cluster the db record points at (read through src/dns/active-record.ts, the one reader of that record).
 * Undefined when the stack has no hosted zone/record outputs (a stack from before the record existed). Fails when
 * the record is missing or points at neither cluster — then nobody knows which database is authoritative, and a
 * deploy must not guess.
 */
export async function readActiveCluster(aws: Pick<AwsPorts, 'dnsRecords'>, stack: StackInfo): Promise<ActiveCluster | undefined> {
  const zoneId = optionalOutput(stack, OutputKey.HostedZoneId);
  const recordName = optionalOutput(stack, OutputKey.DbRecordName);
  if (!zoneId || !recordName) return undefined;
  const { readActiveDatabaseFromOutputs } = await import('../dns/active-record.js');
  const live = await readActiveDatabaseFromOutputs(aws.dnsRecords, stack.outputs, stack.name);
  if (live.state === 'missing') {
    throw failure(
      `The database record ${recordName} is missing from hosted zone ${zoneId}: find out which cluster is active (\`bgmig db sync status\`) before deploying or promoting.`,
    );
  }
  if (!live.color) {
    throw failure(
      `The database record ${recordName} points at ${live.value ?? '?'}, which is neither cluster's writer endpoint: fix the record (or finish the cutover with \`bgmig db cutover\`) before deploying.`,
    );
  }
  const color = live.color;
  return {
    color,
    endpoint: output(stack, ColorOutputKey[color].clusterEndpoint),
    clusterIdentifier: output(stack, ColorOutputKey[color].clusterIdentifier),
  };
}

export interface LiveState {
  weights: Weights;
  activeDatabase: Color | undefined;
}

/** Weights and active database of a deployed stack, read in parallel. */
export async function readLiveState(aws: Pick<AwsPorts, 'listeners' | 'dnsRecords'>, stack: StackInfo): Promise<LiveState> {
  const [weights, db] = await Promise.all([readWeights(aws, trafficTarget(stack)), readActiveCluster(aws, stack)]);
  return { weights, activeDatabase: db?.color };
}
