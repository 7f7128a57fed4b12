/**
 * What the rehearsal observed, in milliseconds since it started: every acknowledged write (and which code served
 * it), every client error, reads, the listener's weights and the active database as sampled, and each command as a
 * marker. The summary and the HTML report are pure functions of this record (src/rehearsal/summary.ts).
 */
import { performance } from 'node:perf_hooks';
import type { Weights } from '../core/config.js';
import type { Color } from '../core/naming.js';

export interface ClientError {
  t: number;
  kind: 'write' | 'read';
  /** SQLSTATE (57P01 terminated, 42501 CONNECT revoked, 25006 read-only…) or `connect`. */
  code: string;
  message: string;
}

/** One command of the walk-through, from its start to its end. */
export interface Marker {
  label: string;
  /** A bgmig command, or the rehearsal standing something up (servers, emulator, pooler). */
  kind: 'command' | 'setup';
  start: number;
  end?: number | undefined;
  outcome?: 'ok' | 'failed' | 'skipped' | undefined;
}

export interface TimelineData {
  /** Acknowledged writes: [t, served by]. */
  acks: Array<[number, Color]>;
  errors: ClientError[];
  reads: number[];
  weights: Array<[number, Weights]>;
  active: Array<[number, Color | 'pooler' | 'unknown']>;
  markers: Marker[];
  /** Instant events (an alarm set, a rollback read back). */
  events: Array<[number, string]>;
  durationMs: number;
}

export class Timeline {
  private readonly t0 = performance.now();
  readonly data: TimelineData = { acks: [], errors: [], reads: [], weights: [], active: [], markers: [], events: [], durationMs: 0 };

  /** Milliseconds since the rehearsal started (0.1 ms resolution). */
  now(): number {
    return Math.round((performance.now() - this.t0) * 10) / 10;
  }

  ack(t: number, servedBy: Color): void {
    this.data.acks.push([t, servedBy]);
  }

  error(kind: ClientError['kind'], code: string, message: string): void {
    this.data.errors.push({ t: this.now(), kind, code, message });
  }

  read(): void {
    this.data.reads.push(this.now());
  }

  /** Records weights only when they change (the sampler polls often). */
  weights(w: Weights): void {
    const last = this.data.weights.at(-1)?.[1];
    if (!last || last.blue !== w.blue || last.green !== w.green) this.data.weights.push([this.now(), { ...w }]);
  }

  active(a: Color | 'pooler' | 'unknown'): void {
    if (this.data.active.at(-1)?.[1] !== a) this.data.active.push([this.now(), a]);
  }

  event(text: string): number {
    const t = this.now();
    this.data.events.push([t, text]);
    return t;
  }

  begin(label: string, kind: Marker['kind'] = 'command'): Marker {
    const m: Marker = { label, kind, start: this.now() };
    this.data.markers.push(m);
    return m;
  }

  end(m: Marker, outcome: Marker['outcome']): void {
    m.end = this.now();
    m.outcome = outcome;
  }

  finish(): TimelineData {
    this.data.durationMs = this.now();
    return this.data;
  }
}
