/**
 * What every traffic command shares once it has found the stack: the listener and target groups, the artifacts
 * bucket, who is acting (the STS caller ARN, for the journal and the lease) and a journal writer whose record times
 * never repeat within one process (so the timeline orders them as they happened).
 */
import type { AwsPorts } from '../aws/ports.js';
import { output, type StackInfo } from '../deployed/stack.js';
import { trafficTarget } from '../deployed/traffic.js';
import { OutputKey } from '../core/outputs.js';
import { appendRecord, type TrafficRecord } from './journal.js';
import { formatWeights, rollbackListener, type TrafficTarget, type WriteResult } from '../deployed/listener.js';
import { firstLine, messageOf, WHOLE_LINE } from '../core/errors.js';

/** The STS caller ARN; when it cannot be read, says so rather than failing a traffic move. */
export async function callerArn(aws: Pick<AwsPorts, 'identity'>): Promise<string> {
  try {
    return (await aws.identity.caller()).arn ?? 'unknown caller';
  } catch (e) {
    return `unknown caller (${firstLine(messageOf(e), 80)})`;
  }
}

/** Where a traffic session says what it does: the CLI's Io fits (info/warn on the human stream, debug with --verbose). */
export interface Notices {
  info(text: string): void;
  warn(text: string): void;
  debug(text: string): void;
}

export type RecordInput = Omit<TrafficRecord, 'type' | 'source' | 'suffix' | 'at' | 'who'> & { at?: string };

export class TrafficSession {
  readonly target: TrafficTarget;
  readonly bucket: string;
  private lastAt = 0;

  constructor(
    readonly aws: AwsPorts,
    readonly io: Notices,
    readonly stack: StackInfo,
    readonly suffix: string,
    private readonly who: Promise<string>,
  ) {
    this.target = trafficTarget(stack);
    this.bucket = output(stack, OutputKey.ArtifactsBucketName);
  }

  static open(aws: AwsPorts, io: Notices, stack: StackInfo, suffix: string): TrafficSession {
    // Started at once, awaited only when a record is written: never on the traffic path.
    return new TrafficSession(aws, io, stack, suffix, callerArn(aws));
  }

  caller(): Promise<string> {
    return this.who;
  }

  /** A strictly increasing ISO time for this process's records. */
  now(): string {
    const t = Math.max(Date.now(), this.lastAt + 1);
    this.lastAt = t;
    return new Date(t).toISOString();
  }

  /**
   * Appends a record. A journal that cannot be written must not undo or block a traffic move that already
   * happened: the failure is a warning naming the record, and the key (or undefined) is returned.
   */
  async record(r: RecordInput): Promise<string | undefined> {
    const full: TrafficRecord = { type: 'traffic', source: 'bgmig', suffix: this.suffix, who: await this.who, ...r, at: r.at ?? this.now() };
    try {
      return await appendRecord(this.aws.objects, this.bucket, full);
    } catch (e) {
      this.io.warn(`the ${full.kind} record could not be written to the journal (s3://${this.bucket}/journal/): ${firstLine(messageOf(e), WHOLE_LINE)}`);
      return undefined;
    }
  }
}

/**
 * The one rollback: blue 100 / green 0 on the session's listener (verified from ModifyListener's answer), then a
 * journal record. Used by `bgmig rollback` and by promote's automatic rollback (kind 'rollout-rollback', with the
 * check that decided it). Throws what rollbackListener throws; a journal failure is only a warning.
 */
export async function rollbackTraffic(
  s: TrafficSession,
  record: Omit<RecordInput, 'from' | 'to' | 'summary'> & { why: string },
): Promise<{ res: WriteResult; journalKey: string | undefined }> {
  const res = await rollbackListener(s.aws.listeners, s.target);
  const { why, ...rest } = record;
  const journalKey = await s.record({
    ...rest,
    from: res.before,
    to: res.after,
    summary: res.changed
      ? `${why}: ${formatWeights(res.before)} → ${formatWeights(res.after)} (verified)`
      : `${why}: blue already had 100 % (verified), nothing changed`,
  });
  return { res, journalKey };
}
