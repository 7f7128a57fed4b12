/**
 * Pure judgements over what the rehearsal observed (no I/O): the write pause and client errors around a switch,
 * per-100 ms buckets for the report, and the final verdict. Shaped like src/rotation/plan.ts: an observation in,
 * a decision out, unit-tested without servers (test/rehearsal/summary.unit.test.ts).
 */
import type { Color } from '../core/naming.js';
import type { ClientError, TimelineData } from './timeline.js';

export interface Window {
  start: number;
  end: number;
}

export interface SwitchImpact {
  /**
   * The longest interval without an acknowledged write that overlaps the window (ms): what the application felt as
   * a write pause. null when no write was acknowledged on one side of it (the application was not writing).
   */
  writePauseMs: number | null;
  /** Client errors from the window's start until the first write acknowledged after its end. */
  errors: number;
  /** The distinct SQLSTATEs among them, most frequent first. */
  errorCodes: string[];
}

/** Sorted acknowledgement times (the timeline records them in completion order, which is already sorted). */
function ackTimes(data: Pick<TimelineData, 'acks'>): number[] {
  return data.acks.map(([t]) => t);
}

export function switchImpact(data: Pick<TimelineData, 'acks' | 'errors'>, w: Window): SwitchImpact {
  const times = ackTimes(data);
  let pause: number | null = null;
  const firstAfterEnd = times.find((t) => t > w.end);
  // Gaps between consecutive acks that overlap [start, end].
  let prev = [...times].reverse().find((t) => t <= w.start);
  if (prev !== undefined && firstAfterEnd !== undefined) {
    pause = 0;
    for (const t of times) {
      if (t <= prev) continue;
      if (t > firstAfterEnd) break;
      pause = Math.max(pause, t - prev);
      prev = t;
    }
    pause = Math.round(pause * 10) / 10;
  }
  const until = firstAfterEnd ?? Number.POSITIVE_INFINITY;
  const errs = data.errors.filter((e) => e.t >= w.start && e.t <= until);
  return { writePauseMs: pause, errors: errs.length, errorCodes: rankCodes(errs) };
}

function rankCodes(errs: ClientError[]): string[] {
  const counts = new Map<string, number>();
  for (const e of errs) counts.set(e.code, (counts.get(e.code) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([c]) => c);
}

export interface Bucket {
  t: number;
  blue: number;
  green: number;
  errors: number;
}

/** Acknowledged writes (by the code that served them) and client errors per `size` ms. */
export function bucketize(data: Pick<TimelineData, 'acks' | 'errors' | 'durationMs'>, size = 100): Bucket[] {
  const n = Math.max(1, Math.ceil(data.durationMs / size));
  const out: Bucket[] = Array.from({ length: n }, (_, i) => ({ t: i * size, blue: 0, green: 0, errors: 0 }));
  const at = (t: number) => out[Math.min(n - 1, Math.max(0, Math.floor(t / size)))] as Bucket;
  for (const [t, c] of data.acks) at(t)[c as Color] += 1;
  for (const e of data.errors) at(e.t).errors += 1;
  return out;
}

/** One step of the walk-through as the verdict sees it. */
export interface StepOutcome {
  name: string;
  /** ran and did what it must; failed; or left out (with why). */
  status: 'held' | 'failed' | 'skipped';
  detail?: string | undefined;
}

export interface RehearsalObservation {
  steps: StepOutcome[];
  acknowledged: number;
  /** Acknowledged writes missing on the final active database (orders or audit_log). */
  lost: number;
  /** Whether the row-by-row check ran at all (a run interrupted before it has no count). */
  lossChecked: boolean;
  /** Leftovers found by the final check (replication slots, subscriptions, publications). */
  leftovers: string[];
}

export interface RehearsalVerdict {
  pass: boolean;
  /** Why it failed (empty on PASS). */
  reasons: string[];
  /** One line: PASS/FAIL and the counts. */
  line: string;
}

/**
 * PASS only when every step that ran held, the loss check ran and found nothing missing, writes were actually
 * acknowledged (a rehearsal that wrote nothing proves nothing), and nothing was left behind. Skipped steps do not
 * fail the run — they are listed — because a machine without the emulator can still prove the database half.
 */
export function decideVerdict(o: RehearsalObservation): RehearsalVerdict {
  const reasons: string[] = [];
  for (const s of o.steps) if (s.status === 'failed') reasons.push(`${s.name} failed${s.detail ? `: ${s.detail}` : ''}`);
  if (!o.lossChecked) reasons.push('the row-by-row loss check did not run');
  else if (o.lost > 0) reasons.push(`${o.lost} acknowledged write(s) lost`);
  if (o.acknowledged === 0) reasons.push('the sample application acknowledged no write');
  if (o.leftovers.length > 0) reasons.push(`left behind: ${o.leftovers.join(', ')}`);
  const held = o.steps.filter((s) => s.status === 'held').length;
  const skipped = o.steps.filter((s) => s.status === 'skipped').length;
  const counts = `${held} step(s) held${skipped ? `, ${skipped} skipped` : ''}, ${o.acknowledged.toLocaleString('en-US')} acknowledged writes, ${o.lossChecked ? o.lost : '?'} lost`;
  const pass = reasons.length === 0;
  return { pass, reasons, line: pass ? `PASS — ${counts}` : `FAIL — ${reasons.join('; ')} (${counts})` };
}
