/**
 * The replication engine's public contract: what `bgmig db …` asks for and what it gets back, in both modes.
 *
 * Direct mode runs the engine in-process (LocalExecutor, src/replication/executor.ts). AWS mode runs the same
 * engine inside the cutover Lambda (src/remote/cutover-client.ts implements Executor by invoking it), so every option and
 * report here is plain JSON data: no functions, no Dates, no class instances. Callbacks (progress, switch hook)
 * live beside the options, never inside them, because they do not cross the Lambda boundary.
 *
 * Errors: the engine throws BgmigError. A refusal (gate, preflight, nothing changed) has exit code 3, bad input 2,
 * a failure 1. An aborted cutover/rollback does NOT throw: it returns a SwitchReport with outcome 'aborted' (the
 * CLI exits 1 and still prints the report). A remote executor should carry `{message, exitCode, details}` across
 * and rethrow a BgmigError with the same fields.
 *
 * This file is stable: changes are additive only.
 */
import type { Color } from '../core/naming.js';
import type { DbTarget } from '../db/connection.js';

/** The two admin connections (an owner/rds_superuser-level role on each side, same database name on both). */
export interface Targets {
  blue: DbTarget;
  green: DbTarget;
}

/** Replication direction: `from` publishes, `to` subscribes. */
export type Direction = 'blue_to_green' | 'green_to_blue';

export function directionOf(from: Color): Direction {
  return from === 'blue' ? 'blue_to_green' : 'green_to_blue';
}

/**
 * Called by cutover/rollback at the switch step: after the new side is unfenced (the write pause is over — the old
 * side stays fenced, so exactly one side takes writes whatever the switch is doing) and after the client tier, if
 * any, was released onto it. Its time is therefore not part of the write pause and not bounded by `--max-pause`.
 * Direct mode: runs the `--on-switch` shell command (BGMIG_ACTIVE, BGMIG_ACTIVE_HOST, _PORT, _DATABASE).
 * AWS mode: Route 53 UPSERT of the db record to the new active cluster's writer endpoint (from the function's
 * environment, not `target.host`, which is where the function connects), wait for INSYNC, then wait until the
 * VPC's resolver answers the new writer (reported as `clientsFollowAt`).
 * Throwing fails the command AFTER the point of no return: the new side is active and holds everything, the old
 * side stays fenced, and re-running the same command retries the hook (the forward path). Must be idempotent.
 */
export type SwitchHook = (active: Color, target: DbTarget) => Promise<void | SwitchHookResult>;

/** What a switch hook may report back (plain data). */
export interface SwitchHookResult {
  /** One line for the step's detail ("record INSYNC after 4.1 s, resolved in the VPC after 4.3 s"). */
  detail?: string | undefined;
  /** performance.now() at which clients resolve (or otherwise reach) the new writer, when the hook knows it. */
  clientsFollowAt?: number | undefined;
}

/**
 * A tier between the applications and the databases that holds client queries through the write pause instead of
 * letting them fail (PgBouncer poolers: src/pooler). Every method is idempotent and bounded, returns one line for
 * the step's detail, and throws a BgmigError when it cannot do its part.
 */
export interface ClientTier {
  /** Before the fence: hold new client queries (running transactions finish first). Throws after releasing what it held. */
  hold(): Promise<string>;
  /** Inside the pause, before the new side is unfenced: point the tier at `active` (no client query runs meanwhile). */
  repoint(active: Color, target: DbTarget): Promise<string>;
  /** Point at `active` (if not already) and let the held queries run there. */
  release(active: Color, target: DbTarget): Promise<string>;
}

/**
 * The steps of a cutover (blue→green) or rollback (green→blue), in order; journaled after each one completes.
 * `unfenced` is the point of no return (the new side takes writes); `switched` (the switch hook) comes after it.
 */
export const SWITCH_STEPS = ['started', 'fenced', 'drained', 'sequences', 'forward_dropped', 'reverse_started', 'unfenced', 'switched'] as const;
export type SwitchStep = (typeof SWITCH_STEPS)[number];

/** Progress events (for ora / plain lines / the Lambda's log). */
export type ProgressEvent =
  | { kind: 'step'; step: string; status: 'start' | 'done' | 'undone' | 'failed'; ms?: number; detail?: string }
  | {
      kind: 'copy';
      tablesDone: number;
      tablesTotal: number;
      rowsCopied: number;
      bytesCopied: number;
      /** Rows to copy in all (estimate from the publisher's pg_class.reltuples); null when unknown. */
      rowsTotal?: number | null | undefined;
      /** 0–100 from rowsCopied/rowsTotal; null when unknown. */
      percent?: number | null | undefined;
      /** Seconds left at the rate so far; null until there is a rate. */
      etaSeconds?: number | null | undefined;
    }
  | { kind: 'log'; level: 'info' | 'warn' | 'debug'; text: string };

export type ProgressFn = (event: ProgressEvent) => void;

/** Callbacks that stay on the calling side of an executor. */
export interface Callbacks {
  progress?: ProgressFn | undefined;
}

export interface SwitchCallbacks extends Callbacks {
  /** The switch step. Absent: nothing to switch (the application follows by other means). */
  onSwitch?: SwitchHook | undefined;
  /** Poolers that hold client queries through the pause (absent: clients see the fence). */
  clients?: ClientTier | undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// sync start

export interface SyncStartOptions {
  /** Application schemas to replicate (default ['public']). The `bgmig` schema is never replicated. */
  schemas?: string[] | undefined;
  /** Wait for the initial copy to finish (default true). AWS mode may pass false and poll syncStatus. */
  waitForCopy?: boolean | undefined;
  /** Upper bound for that wait (default 6 h). */
  copyTimeoutMs?: number | undefined;
  /** How long creating the replication slot may wait for transactions open on the publisher (default 30 s). */
  slotWaitMs?: number | undefined;
  /** A table copy that failed this many times is given up with its table and cause named (default 3). */
  maxCopyErrors?: number | undefined;
}

export interface SyncStartReport {
  direction: Direction;
  active: Color;
  publication: string;
  subscription: string;
  schemas: string[];
  /** Qualified table names replicated. */
  tables: string[];
  /** Initial copy: done when waitForCopy, otherwise what was seen at return. */
  copy: { finished: boolean; tablesDone: number; tablesTotal: number; durationMs: number; rows: number; bytes: number };
  durationMs: number;
}

// ---------------------------------------------------------------------------------------------------------------
// sync status

export interface SyncStatusOptions {
  /** Longest window over which progress is observed (default 1 s; ends as soon as the stream is proven to apply). */
  windowMs?: number | undefined;
  /** Lag above this many bytes is degraded (default 16 MiB). */
  maxLagBytes?: number | undefined;
}

export interface FenceState {
  /** Applications cannot write here (read-only default and/or CONNECT revoked). */
  fenced: boolean;
  /** ALTER DATABASE … SET default_transaction_read_only = on is in place. */
  readOnlyDefault: boolean;
  /** Roles (or PUBLIC) whose CONNECT privilege bgmig revoked and will give back. */
  connectRevokedFrom: string[];
}

export interface SideStatus {
  color: Color;
  /** user@host:port/database (never a password). */
  target: string;
  reachable: boolean;
  /** One sentence when not reachable. */
  error?: string | undefined;
  serverVersion?: string | undefined;
  fence: FenceState | null;
  publication: string | null;
  subscription: string | null;
}

export interface TableSyncState {
  table: string;
  /** pg_subscription_rel.srsubstate spelled out. */
  state: 'init' | 'copying' | 'finishing' | 'synced' | 'ready' | 'unknown';
}

export interface SlotStatus {
  side: Color;
  name: string;
  active: boolean;
  /** pg_current_wal_lsn() − restart_lsn: WAL this slot keeps on disk. */
  walRetainedBytes: number;
  confirmedFlushLsn: string | null;
}

export interface SubscriptionStatus {
  name: string;
  /** Where the subscription lives (the subscriber). */
  on: Color;
  enabled: boolean;
  workerRunning: boolean;
  /** Publisher's current LSN minus the slot's confirmed flush LSN. */
  lagBytes: number | null;
  /** Seconds behind (publisher's replay_lag; 0 when caught up; null when unknown). */
  lagSeconds: number | null;
  latestEndLsn: string | null;
  /** The apply worker's last problem as far as the catalogs tell (PG15 keeps the text only in the server log). */
  lastError: string | null;
  applyErrorCount: number;
  syncErrorCount: number;
}

/** An operation that started and did not finish (the process was killed, or undo itself failed). */
export interface PendingOperation {
  operation: 'sync_start' | 'cutover' | 'rollback' | 'sync_stop';
  from: Color;
  to: Color;
  /** Last completed step. */
  step: string;
  opId: string;
  startedAt: string;
  updatedAt: string;
  /** One sentence: what to run to finish or undo it. */
  hint: string;
}

export interface SyncStatusReport {
  generatedAt: string;
  /** none: no sync; copying: initial copy running; streaming: healthy replication; stopped: sync stopped. */
  state: 'none' | 'copying' | 'streaming' | 'interrupted' | 'stopped' | 'broken';
  direction: Direction | null;
  /** The side applications write to, per bgmig's journal; null when bgmig never ran here. */
  active: Color | null;
  pending: PendingOperation | null;
  sides: { blue: SideStatus; green: SideStatus };
  subscription: SubscriptionStatus | null;
  tables: TableSyncState[];
  slots: SlotStatus[];
  healthy: boolean;
  /** One sentence each; empty when healthy. */
  problems: string[];
  /** The stream's health judged over a window (src/replication/health.ts); null when no replication runs. */
  health?: StreamHealth | null | undefined;
  /** Tables/columns in scope that replication does not carry (src/replication/scope.ts); empty when none. */
  scope?: ScopeDriftItem[] | undefined;
}

/** A verdict over a window of observations: see HealthVerdict in src/replication/health.ts. */
export interface StreamHealth {
  verdict: 'applying' | 'catching_up' | 'copying' | 'failing' | 'copy_failing' | 'stalled' | 'not_running' | 'disabled' | 'missing' | 'unknown';
  applying: boolean;
  notes: string[];
  /** Window length (ms), error counters (cumulative and within the window), WAL not yet confirmed (bytes). */
  evidence: {
    windowMs: number;
    observations: number;
    applyErrorsInWindow: number;
    syncErrorsInWindow: number;
    applyErrorCount: number;
    syncErrorCount: number;
    /** Publisher WAL not yet confirmed by the subscriber at the last look (bytes). */
    pendingBytes: number | null;
  };
  /** For copy failures and apply failures: the likely causes found by comparing both sides (one sentence each). */
  causes?: string[] | undefined;
}

/** One table or column in scope that replication does not carry. */
export interface ScopeDriftItem {
  kind: 'table_not_published' | 'columns_not_published' | 'table_not_subscribed' | 'table_missing_on_subscriber' | 'column_missing_on_subscriber';
  table: string;
  columns: string[];
  problem: string;
  fix: string;
  refreshable: boolean;
}

// ---------------------------------------------------------------------------------------------------------------
// sync stop

export interface SyncStopOptions {
  /** Also lift the passive side's fence (default false: it stays read-only so nobody writes to a stale copy). */
  unfencePassive?: boolean | undefined;
}

export interface SyncStopReport {
  active: Color;
  dropped: { subscriptions: string[]; slots: string[]; publications: string[] };
  /** The passive side is still fenced (unless unfencePassive). */
  passiveFenced: boolean;
  /** Sides that could not be reached (their objects are listed in `left`). */
  unreachable?: Color[] | undefined;
  /** Objects left behind on an unreachable side, each with the statement that removes it there. */
  left?: Array<{ side: Color; object: string; remove: string }> | undefined;
  durationMs: number;
}

// ---------------------------------------------------------------------------------------------------------------
// sync refresh

export interface SyncRefreshOptions {
  /** Upper bound for the copy of the tables brought in (default 6 h). */
  copyTimeoutMs?: number | undefined;
  /**
   * Replicated tables (schema.table) to copy again whole even without drift: e.g. after a column was added on both
   * sides with a volatile default (now(), gen_random_uuid()), which gave each side its own value for existing rows.
   */
  recopy?: string[] | undefined;
  /** Wait for the copy of the tables brought in (default true; the cutover function passes false and the CLI polls). */
  waitForCopy?: boolean | undefined;
  /** Only report what would be done. */
  dryRun?: boolean | undefined;
}

export interface SyncRefreshReport {
  direction: Direction;
  /** Tables newly published and copied. */
  added: string[];
  /** Tables re-copied whole because columns were added to their column list. */
  recopied: string[];
  /** Rows removed on the subscriber before the copy refilled those tables. */
  subscriberRowsReplaced: number;
  /** Drift this command cannot fix (the subscriber lacks a table or column); each with its fix. */
  remaining: ScopeDriftItem[];
  copy: { finished: boolean; tablesDone: number; tablesTotal: number; durationMs: number; rows: number; bytes: number } | null;
  dryRun: boolean;
  durationMs: number;
}

// ---------------------------------------------------------------------------------------------------------------
// cutover / rollback

export interface SwitchoverOptions {
  /** Budget from the fence to the point of no return (the new side unfenced); exceeded → undo. Default 10 s. The switch hook (DNS) runs after it, outside the budget. */
  maxPauseMs?: number | undefined;
  /** Gate: replication lag must be under this (default 16 MiB). */
  maxLagBytes?: number | undefined;
  /** Gate: no transaction on the old active side older than this (default 30 s). */
  maxTransactionAgeMs?: number | undefined;
  /**
   * Cutover: columns whose green values blue cannot hold that the operator accepted (`--accept-rollback-risk`,
   * after the validator's rollback verdict); recorded in the report, so the audit trail says who took the risk.
   */
  acceptedRollbackRisk?: string[] | undefined;
}

export interface StepTiming {
  step: string;
  ms: number;
  detail?: string | undefined;
}

export interface SequenceMove {
  /** Qualified sequence name. */
  sequence: string;
  /** last_value on the old side (null: never used). */
  from: string | null;
  /** Value set on the new side (with headroom), or null when the new side was already ahead. */
  to: string | null;
  kind: 'owned' | 'identity' | 'standalone';
  /** The old side's sequence it continues, when its name differs (paired through the column both serve). */
  source?: string | undefined;
}

export interface SwitchReport {
  operation: 'cutover' | 'rollback';
  from: Color;
  to: Color;
  /**
   * completed: the requested side is active and writable (for a resumed run: the interrupted operation was finished,
   * or undone when the opposite command was run — see `active` and `resumed`). aborted: undone, the old side is
   * active and writable, forward replication intact (the CLI exits 1). noop: the requested side was already active.
   */
  outcome: 'completed' | 'aborted' | 'noop';
  /** Which side is active after this run. */
  active: Color;
  /** This run finished or undid an operation an earlier (killed) run left behind. */
  resumed: boolean;
  /** Fence lifted → writable again, in ms (old side's fence to whichever side became writable). null: no pause. */
  pauseMs: number | null;
  steps: StepTiming[];
  lsn: { fence: string | null; drained: string | null; reverseSlot: string | null };
  sequences: SequenceMove[];
  /** Undo steps when aborted. */
  undo: StepTiming[];
  /** Rollback blockers the operator accepted for this cutover (see SwitchoverOptions.acceptedRollbackRisk). */
  acceptedRollbackRisk?: string[] | undefined;
  /** Why it aborted (one sentence). */
  error?: string | undefined;
  durationMs: number;
  /**
   * From the old side's fence until clients reach the new writer: the client tier released onto it, or the switch
   * hook reporting that the record resolves to it (else when the hook returned). null/absent when not completed.
   */
  clientsFollowMs?: number | null | undefined;
  /** How long the client tier held queries (hold → release), when there is one. */
  holdMs?: number | null | undefined;
}

// ---------------------------------------------------------------------------------------------------------------

/**
 * What the `bgmig db` commands call. LocalExecutor (src/replication/executor.ts, direct mode and inside the
 * cutover Lambda) runs the engine in-process; RemoteExecutor (src/remote/cutover-client.ts, AWS mode) invokes the Lambda,
 * which makes the Route 53 switch itself, so it ignores `onSwitch`.
 */
export interface Executor {
  /** Human description of where the SQL runs, for messages ("direct", "lambda-db-cutover-demo"). */
  readonly mode: 'direct' | 'aws';
  describe(): { blue: string; green: string };
  syncStart(opts: SyncStartOptions, cb?: Callbacks): Promise<SyncStartReport>;
  syncStatus(opts: SyncStatusOptions): Promise<SyncStatusReport>;
  syncStop(opts: SyncStopOptions, cb?: Callbacks): Promise<SyncStopReport>;
  /** Brings tables/columns created after sync start into replication (absent: not available in this mode). */
  syncRefresh?(opts: SyncRefreshOptions, cb?: Callbacks): Promise<SyncRefreshReport>;
  cutover(opts: SwitchoverOptions, cb?: SwitchCallbacks): Promise<SwitchReport>;
  rollback(opts: SwitchoverOptions, cb?: SwitchCallbacks): Promise<SwitchReport>;
}

/** Defaults shared by the CLI and the Lambda. */
export const REPLICATION_DEFAULTS = {
  schemas: ['public'] as readonly string[],
  maxPauseMs: 10_000,
  maxLagBytes: 16 * 1024 * 1024,
  maxTransactionAgeMs: 30_000,
  copyTimeoutMs: 6 * 3600_000,
} as const;
