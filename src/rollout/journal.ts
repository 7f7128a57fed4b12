/**
 * The traffic journal: one JSON object per event (promote step, rollback, rollout start/hold/abort/complete, guard
 * action, lease event) appended under journal/ in the artifacts bucket — the same prefix as the cutover function's
 * audit trail, so `bgmig history` reads one timeline. Objects are never rewritten: the key carries the time and a
 * random tag, so two writers never collide and listing in key order is listing in time order.
 */
import { randomBytes } from 'node:crypto';
import type { ObjectStore } from '../aws/ports.js';
import type { Weights } from '../core/config.js';
import { ArtifactKeys } from '../core/outputs.js';
import type { RolloutPlan } from './plan.js';
import { firstLine, messageOf, WHOLE_LINE } from '../core/errors.js';

/** Who wrote a traffic record. */
export type RecordSource = 'bgmig' | 'rollback-guard';

export type TrafficRecordKind =
  | 'promote'
  | 'rollback'
  | 'rollout-start'
  | 'rollout-step'
  | 'rollout-hold'
  | 'rollout-resume'
  | 'rollout-complete'
  | 'rollout-rollback'
  | 'rollout-abort'
  | 'guard-rollback'
  | 'guard-noop'
  | 'guard-disarm'
  | 'guard-arm'
  | 'lease-acquire'
  | 'lease-release'
  | 'lease-takeover'
  | 'lease-force-unlock';

/** A gate or check result as journaled (the same shape promote prints). */
export interface JournaledResult {
  gate: string;
  status: string;
  detail: string;
}

export interface TrafficRecord {
  /** Marks the record as a traffic record (the cutover function's records have `operation` instead). */
  type: 'traffic';
  kind: TrafficRecordKind;
  source: RecordSource;
  suffix: string;
  /** ISO time of the event. */
  at: string;
  /** The STS caller ARN (for the guard: its role ARN as seen by STS, or the function name). */
  who: string;
  /** One sentence for people. */
  summary: string;
  from?: Weights | undefined;
  to?: Weights | undefined;
  gates?: JournaledResult[] | undefined;
  /** The validation verdict a gate used. */
  validation?: { verdict: string; generatedAt: string } | undefined;
  rolloutId?: string | undefined;
  /** 0-based index of the step (rollout records), -1 before the first. */
  stepIndex?: number | undefined;
  plan?: RolloutPlan | undefined;
  /** The checks of the poll that decided (rollout-rollback, rollout-abort). */
  checks?: JournaledResult[] | undefined;
  /** The alarm that triggered (guard records). */
  alarm?: { name: string; state: string; reason?: string | undefined } | undefined;
}

export function journalKey(at: string, kind: TrafficRecordKind): string {
  return ArtifactKeys.journal(at, `traffic-${kind}-${randomBytes(3).toString('hex')}`);
}

/** Appends one record; returns its key. Raises the S3 error (callers decide whether a failed write is fatal). */
export async function appendRecord(s3: ObjectStore, bucket: string, record: TrafficRecord): Promise<string> {
  const key = journalKey(record.at, record.kind);
  // If-None-Match: the key is new by construction; the condition makes "append-only" a property S3 enforces.
  await s3.put(bucket, key, JSON.stringify(record, null, 2), { contentType: 'application/json', ifNoneMatch: '*' });
  return key;
}

/** Every journal key, oldest first (ListObjectsV2 returns keys in UTF-8 order, and keys start with the time). */
export async function listJournalKeys(s3: ObjectStore, bucket: string): Promise<string[]> {
  return (await s3.list(bucket, ArtifactKeys.journalPrefix)).sort();
}

export async function readRecord(s3: ObjectStore, bucket: string, key: string): Promise<unknown> {
  return JSON.parse((await s3.get(bucket, key)).body ?? 'null') as unknown;
}

/** One line of `bgmig history`: a traffic record or a cutover-function record, normalised. */
export interface HistoryEntry {
  at: string;
  source: string;
  kind: string;
  who: string;
  summary: string;
  from?: Weights | undefined;
  to?: Weights | undefined;
  key: string;
  record: unknown;
}

/** The cutover function's audit record (src/lambda/db-cutover.ts): what history needs from it. */
interface CutoverAudit {
  ok?: boolean;
  operation?: string;
  recordedAt?: string;
  requestId?: string;
  durationMs?: number;
  error?: { message?: string };
}

/** Normalises a journal object into a history line; pure. */
export function toHistoryEntry(key: string, raw: unknown): HistoryEntry {
  const r = (raw ?? {}) as Partial<TrafficRecord> & CutoverAudit;
  if (r.type === 'traffic') {
    return {
      at: r.at ?? '',
      source: r.source ?? 'bgmig',
      kind: r.kind ?? 'unknown',
      who: r.who ?? 'unknown',
      summary: r.summary ?? '',
      from: r.from,
      to: r.to,
      key,
      record: raw,
    };
  }
  const op = r.operation ?? 'unknown';
  const outcome = r.ok === false ? `failed: ${r.error?.message ?? 'no detail'}` : 'succeeded';
  return {
    at: r.recordedAt ?? keyTime(key),
    source: 'db-cutover',
    kind: `db-${op}`,
    who: r.requestId ? `lambda request ${r.requestId}` : 'db-cutover function',
    summary: `database ${op} ${outcome}${r.durationMs !== undefined ? ` (${r.durationMs} ms)` : ''}`,
    key,
    record: raw,
  };
}

/** The ISO time encoded in a journal key (journal/2026-11-30T20-01-02-123Z-…): used when a record has none. */
function keyTime(key: string): string {
  const m = /journal\/(\d{4}-\d{2}-\d{2})T(\d{2})-(\d{2})-(\d{2})-(\d{3})Z/.exec(key);
  return m ? `${m[1]}T${m[2]}:${m[3]}:${m[4]}.${m[5]}Z` : '';
}

/**
 * The newest `limit` journal entries, newest first. Reads objects in parallel (a handful at a time); an object
 * that cannot be parsed becomes an entry that says so rather than hiding the rest of the timeline.
 */
export async function readHistory(
  s3: ObjectStore,
  bucket: string,
  opts: { limit?: number | undefined; filter?: (key: string) => boolean } = {},
): Promise<HistoryEntry[]> {
  const keys = (await listJournalKeys(s3, bucket)).filter(opts.filter ?? (() => true)).reverse();
  const chosen = opts.limit !== undefined ? keys.slice(0, opts.limit) : keys;
  const out: HistoryEntry[] = new Array(chosen.length);
  const CONCURRENCY = 8;
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(CONCURRENCY, chosen.length) }, async () => {
      while (next < chosen.length) {
        const i = next++;
        const key = chosen[i];
        try {
          out[i] = toHistoryEntry(key, await readRecord(s3, bucket, key));
        } catch (e) {
          out[i] = {
            at: keyTime(key),
            source: 'unknown',
            kind: 'unreadable',
            who: 'unknown',
            summary: `record could not be read: ${firstLine(messageOf(e), WHOLE_LINE)}`,
            key,
            record: null,
          };
        }
      }
    }),
  );
  // Keys order by write time; a record's own `at` is the event time (the same to the millisecond for bgmig's).
  return out.sort((a, b) => (a.at === b.at ? b.key.localeCompare(a.key) : b.at.localeCompare(a.at)));
}

/** Keys of rollout records (their kind is in the key, so `--resume` finds the newest without reading every object). */
export function isRolloutKey(key: string): boolean {
  return /-traffic-rollout-[a-z]+-[0-9a-f]{6}\.json$/.test(key);
}
