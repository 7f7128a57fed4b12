/**
 * bgmig's own state on both databases, in a `bgmig` schema that is never published (publications list the
 * application tables explicitly, plus bgmig.marker, the drain marker, on purpose):
 *
 * - bgmig.journal: one row — which side is active, the replication direction, the replicated schemas, and the
 *   operation in progress with its last completed step. Written to both sides at every step (in parallel); a
 *   reader takes the row with the higher `seq`, so a side that missed a write (it was down) cannot mislead.
 * - bgmig.marker: one row updated on the publisher at the drain; seeing it on the subscriber proves the subscriber
 *   applied every transaction the publisher committed before it (apply is in commit order).
 * - bgmig.fence: the grantees whose CONNECT privilege the fence revoked on this database, to give back exactly.
 */
import type { Color } from '../core/naming.js';
import type { Direction, PendingOperation } from './api.js';
import type { Session, Sessions } from './session.js';

export const BGMIG_SCHEMA = 'bgmig';
export const MARKER_TABLE = { schema: BGMIG_SCHEMA, name: 'marker' } as const;

const DDL = `
CREATE SCHEMA IF NOT EXISTS bgmig;
CREATE TABLE IF NOT EXISTS bgmig.journal (
  id integer PRIMARY KEY DEFAULT 1 CHECK (id = 1),
  seq bigint NOT NULL,
  active text NOT NULL CHECK (active IN ('blue', 'green')),
  direction text CHECK (direction IN ('blue_to_green', 'green_to_blue')),
  schemas text[] NOT NULL,
  operation text,
  op_from text,
  op_to text,
  step text,
  op_id text,
  started_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS bgmig.marker (
  id integer PRIMARY KEY CHECK (id = 1),
  token text NOT NULL,
  at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE TABLE IF NOT EXISTS bgmig.fence (
  grantee text PRIMARY KEY,
  revoked_at timestamptz NOT NULL DEFAULT now()
);
REVOKE ALL ON SCHEMA bgmig FROM PUBLIC;`;

export async function ensureSchema(s: Session): Promise<void> {
  await s.q(DDL, undefined, `create the bgmig schema on ${s.color}`);
}

export type OperationName = PendingOperation['operation'];

export interface Journal {
  seq: number;
  active: Color;
  direction: Direction | null;
  schemas: string[];
  operation: OperationName | null;
  from: Color | null;
  to: Color | null;
  step: string | null;
  opId: string | null;
  startedAt: string | null;
  updatedAt: string;
}

interface JournalRow {
  seq: string;
  active: Color;
  direction: Direction | null;
  schemas: string[];
  operation: OperationName | null;
  op_from: Color | null;
  op_to: Color | null;
  step: string | null;
  op_id: string | null;
  started_at: Date | null;
  updated_at: Date;
}

/** One side's journal, or null when bgmig never ran there. */
export async function readJournalOf(s: Session): Promise<Journal | null> {
  const exists = await s.q<{ ok: boolean }>(`SELECT to_regclass('bgmig.journal') IS NOT NULL AS ok`);
  if (!exists.rows[0].ok) return null;
  const r = await s.q<JournalRow>('SELECT * FROM bgmig.journal WHERE id = 1');
  const row = r.rows[0];
  if (!row) return null;
  return {
    seq: Number(row.seq),
    active: row.active,
    direction: row.direction,
    schemas: row.schemas,
    operation: row.operation,
    from: row.op_from,
    to: row.op_to,
    step: row.step,
    opId: row.op_id,
    startedAt: row.started_at ? row.started_at.toISOString() : null,
    updatedAt: row.updated_at.toISOString(),
  };
}

/** The newest journal of the two sides (highest seq). */
export function newest(a: Journal | null, b: Journal | null): Journal | null {
  if (!a) return b;
  if (!b) return a;
  return b.seq > a.seq ? b : a;
}

export async function readJournal(s: Sessions): Promise<Journal | null> {
  const [b, g] = await Promise.all([readJournalOf(s.blue), readJournalOf(s.green)]);
  return newest(b, g);
}

export type JournalUpdate = Omit<Journal, 'seq' | 'updatedAt'>;

/**
 * The journal of a pair with no operation under way: `active` takes the writes, replication runs in `direction`
 * (null: none) over `schemas`. What every operation writes last, so that a reader sees nothing pending.
 */
export function settled(active: Color, direction: Direction | null, schemas: string[]): JournalUpdate {
  return { active, direction, schemas, operation: null, from: null, to: null, step: null, opId: null, startedAt: null };
}

/**
 * Writes the journal to both sides (in parallel) with seq one above the previous, then calls the journal
 * checkpoint (below) with the step just journaled.
 */
export async function writeJournal(s: Sessions, prev: Journal | null, next: JournalUpdate): Promise<Journal> {
  const seq = (prev?.seq ?? 0) + 1;
  const sql = `INSERT INTO bgmig.journal (id, seq, active, direction, schemas, operation, op_from, op_to, step, op_id, started_at, updated_at)
    VALUES (1, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, now())
    ON CONFLICT (id) DO UPDATE SET seq = EXCLUDED.seq, active = EXCLUDED.active, direction = EXCLUDED.direction,
      schemas = EXCLUDED.schemas, operation = EXCLUDED.operation, op_from = EXCLUDED.op_from, op_to = EXCLUDED.op_to,
      step = EXCLUDED.step, op_id = EXCLUDED.op_id, started_at = EXCLUDED.started_at, updated_at = now()`;
  const params = [seq, next.active, next.direction, next.schemas, next.operation, next.from, next.to, next.step, next.opId, next.startedAt];
  await Promise.all([s.blue.q(sql, params, 'write the bgmig journal on blue'), s.green.q(sql, params, 'write the bgmig journal on green')]);
  if (next.operation && next.step) (globalThis as JournalCheckpointHost).__bgmigJournalCheckpoint?.(next.operation, next.step);
  return { ...next, seq, updatedAt: new Date().toISOString() };
}

/**
 * Writes the journal on one side only (the other is unreachable): seq one above the newest known, so that when the
 * other side is back, readers take this row over its older one.
 */
export async function writeJournalOn(s: Session, prev: Journal | null, next: JournalUpdate): Promise<Journal> {
  await ensureSchema(s);
  const seq = (prev?.seq ?? 0) + 1;
  await s.q(
    `INSERT INTO bgmig.journal (id, seq, active, direction, schemas, operation, op_from, op_to, step, op_id, started_at, updated_at)
    VALUES (1, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, now())
    ON CONFLICT (id) DO UPDATE SET seq = EXCLUDED.seq, active = EXCLUDED.active, direction = EXCLUDED.direction,
      schemas = EXCLUDED.schemas, operation = EXCLUDED.operation, op_from = EXCLUDED.op_from, op_to = EXCLUDED.op_to,
      step = EXCLUDED.step, op_id = EXCLUDED.op_id, started_at = EXCLUDED.started_at, updated_at = now()`,
    [seq, next.active, next.direction, next.schemas, next.operation, next.from, next.to, next.step, next.opId, next.startedAt],
    `write the bgmig journal on ${s.color}`,
  );
  return { ...next, seq, updatedAt: new Date().toISOString() };
}

/**
 * The journal checkpoint: called right after each step of an operation is journaled on both sides, as rotation's
 * `hooks.checkpoint` is after each of its steps. Nothing in bgmig sets it. The tests inject one into a bgmig
 * subprocess (`node --import test/harness/failpoint.mjs`, driven by BGMIG_FAILPOINT) that kills the process at a
 * chosen step, which is how they prove every interrupted run is reported truthfully and recoverable.
 */
interface JournalCheckpointHost {
  __bgmigJournalCheckpoint?: (operation: string, step: string) => void;
}

export function pendingOf(j: Journal | null): PendingOperation | null {
  if (!j?.operation || !j.from || !j.to || !j.step || !j.opId || !j.startedAt) return null;
  const hint =
    j.operation === 'cutover' || j.operation === 'rollback'
      ? `A ${j.operation} from ${j.from} to ${j.to} stopped after step "${j.step}": run \`bgmig db ${j.operation}\` again to finish it, or \`bgmig db ${j.operation === 'cutover' ? 'rollback' : 'cutover'}\` to undo it.`
      : j.operation === 'sync_start'
        ? `A sync start stopped after step "${j.step}": run \`bgmig db sync stop\` to clean up, then \`bgmig db sync start\` again.`
        : `A sync stop stopped after step "${j.step}": run \`bgmig db sync stop\` again to finish it.`;
  return { operation: j.operation, from: j.from, to: j.to, step: j.step, opId: j.opId, startedAt: j.startedAt, updatedAt: j.updatedAt, hint };
}
