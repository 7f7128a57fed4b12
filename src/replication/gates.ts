/**
 * The gates of `db cutover` and `db rollback`: everything that must hold before the active side is fenced. Nothing
 * is changed until every gate passes, so a refusal (exit 3) leaves both sides as they were — the only write is
 * bgmig's own drain marker row, updated to prove the stream applies when the slot has not confirmed it yet.
 *
 * `decideGates` is pure (an observation in, the offenders out, each with its fix); `checkGates` reads both sides
 * and decides. The stream's health is judged over a window (src/replication/health.ts): the old side is only ever
 * fenced for a stream proven to apply — everything the publisher had written when the gates looked was confirmed by
 * the subscriber, or applied there before a drain marker written just after (src/replication/marker.ts) — never for
 * one whose worker merely happens to be up at that instant.
 */
import { messageOf, refused } from '../core/errors.js';
import type { Color } from '../core/naming.js';
import { formatBytes } from '../core/units.js';
import type { Catalog } from '../schema/catalog.js';
import { REPLICATION_DEFAULTS, type FenceState, type ProgressFn, type SwitchoverOptions } from './api.js';
import { switchCarryOffenders } from './carry-facts.js';
import { readFence } from './fence.js';
import { likelyCauses, observeStream, type HealthDecision } from './health.js';
import { planPublication, type PublicationPlan } from './objects.js';
import { refusalSentence, type Offender } from './preflight.js';
import { decideScope, readPublished, readSubscribed, scopeTablesOf, type ScopeDrift } from './scope.js';
import { side, type Sessions } from './session.js';
import { OBJ, readCatalogs } from './sync.js';

/** How long the gates watch the stream for proof that it applies (they stop as soon as it is proven). */
export const GATE_WINDOW_MS = 5_000;

export interface LongTransaction {
  pid: number;
  role: string | null;
  application: string;
  ageSeconds: number;
}

/** What the gates saw, both sides. Plain data. */
export interface SwitchoverGateObservation {
  op: 'cutover' | 'rollback';
  from: Color;
  to: Color;
  subscription: string;
  health: HealthDecision;
  /** Likely causes when the stream fails (from both catalogs). */
  causes: string[];
  /** Tables whose initial copy is not finished (qualified). */
  notReadyTables: string[];
  /** Lag of the subscription's slot on `from` (bytes), null when the slot is missing. */
  lagBytes: number | null;
  longTransactions: LongTransaction[];
  fence: Record<'from' | 'to', FenceState>;
  /** In scope but not carried (src/replication/scope.ts). */
  scope: ScopeDrift[];
  /** Offenders of what replication carries both ways (REPL-SHAPE's carry checks). */
  carry: Offender[];
}

export interface GateLimits {
  maxLagBytes: number;
  maxTransactionAgeMs: number;
}

/** Pure: every reason not to fence `from`, each with its fix. Empty: the switch may start. */
export function decideGates(o: SwitchoverGateObservation, limits: GateLimits): Offender[] {
  const { from, to } = o;
  const out: Offender[] = [];
  const h = o.health;
  if (!h.applying) {
    const problem =
      h.problems[0] ??
      `the stream ${from}→${to} has not confirmed what ${from} wrote ${Math.round(h.evidence.windowMs / 100) / 10} s ago (${h.evidence.pendingBytes === null ? '?' : formatBytes(h.evidence.pendingBytes)} unconfirmed, ${h.verdict.replace('_', ' ')})`;
    const fix =
      h.verdict === 'catching_up' || h.verdict === 'copying'
        ? 'wait until `bgmig db sync status` says applying, then retry'
        : o.causes.length > 0
          ? `likely cause: ${o.causes.join('; ')}; then check \`bgmig db sync status\` until it says applying`
          : 'fix it, then check `bgmig db sync status` until it says applying';
    out.push({ problem: `${from} is not fenced for a stream that is not applying: ${problem}`, fix });
  }
  if (o.notReadyTables.length > 0 && h.verdict !== 'copy_failing') {
    out.push({ problem: `the initial copy is not finished (${o.notReadyTables.join(', ')})`, fix: 'wait for it (`bgmig db sync status --watch`)' });
  }
  if (o.lagBytes !== null && o.lagBytes > limits.maxLagBytes) {
    out.push({
      problem: `replication lag is ${formatBytes(o.lagBytes)}, above --max-lag ${formatBytes(limits.maxLagBytes)}`,
      fix: 'wait for it to catch up or raise --max-lag',
    });
  }
  for (const t of o.longTransactions) {
    out.push({
      problem: `a transaction on ${from} has been open for ${t.ageSeconds} s (pid ${t.pid}, role ${t.role ?? '?'}${t.application ? `, application ${t.application}` : ''})`,
      fix: `let it finish or end it (SELECT pg_terminate_backend(${t.pid}) on ${from}) first`,
    });
  }
  if (!o.fence.to.fenced)
    out.push({
      problem: `${to} is not fenced, so applications may have written to it`,
      fix: `check its data, then re-fence it by restarting replication (\`bgmig db sync stop\`, \`bgmig db sync start\`)`,
    });
  if (o.fence.from.fenced)
    out.push({ problem: `${from} (the active side) is fenced`, fix: 'check `bgmig db sync status`; run `bgmig db sync stop` to lift it' });
  for (const d of o.scope) out.push({ problem: d.problem, fix: d.fix });
  out.push(...o.carry);
  return out;
}

/**
 * Pure: how the gates proved the stream applies, one phrase for the report's `gates` step — by the slot's
 * confirmed position, or by the drain marker while the slot's confirmation still lagged (src/replication/marker.ts).
 */
export function gateProof(o: SwitchoverGateObservation): string {
  const e = o.health.evidence;
  const stream = `stream ${o.from}→${o.to} applying`;
  if (!e.markerApplied) return `${stream}: confirmed by the slot`;
  const lag = e.pendingBytes !== null && e.pendingBytes > 0 ? ` while the slot had ${formatBytes(e.pendingBytes)} unconfirmed` : '';
  return `${stream}: the drain marker was applied on ${o.to}${lag}`;
}

export interface SwitchoverGateResult {
  catalogs: Record<Color, Catalog>;
  /** The reverse publication's plan (what the new side will publish back). */
  reverse: PublicationPlan;
  observation: SwitchoverGateObservation;
}

/**
 * Reads both sides and decides; throws the refusal (exit 3, one sentence naming every offender and its fix) when
 * any gate fails. The only write is the drain marker on `from` (when the slot has not yet confirmed everything).
 */
export async function checkGates(
  s: Sessions,
  args: { op: 'cutover' | 'rollback'; from: Color; to: Color; schemas: string[]; progress: ProgressFn },
  opts: SwitchoverOptions,
): Promise<SwitchoverGateResult> {
  const { op, from, to, schemas } = args;
  const limits: GateLimits = {
    maxLagBytes: opts.maxLagBytes ?? REPLICATION_DEFAULTS.maxLagBytes,
    maxTransactionAgeMs: opts.maxTransactionAgeMs ?? REPLICATION_DEFAULTS.maxTransactionAgeMs,
  };
  const name = OBJ.subscription(from, to);
  const pub = side(s, from);
  const sub = side(s, to);
  // Scope and carry first: the catalog reader holds a transaction on each connection, and statistics read inside
  // a transaction are frozen, so the progress window runs after it.
  const catalogs = await readCatalogs(s, schemas);
  const live = { published: await readPublished(pub, OBJ.publication(from)), subscribed: await readSubscribed(sub, name) };
  const scope = decideScope({ from, to, tables: { blue: scopeTablesOf(catalogs.blue, schemas), green: scopeTablesOf(catalogs.green, schemas) }, live });
  // A carry check that cannot run is an outage (exit 1) — unless another gate refuses anyway: then the refusal,
  // which says what to fix, is the answer, and the check's failure is named with it.
  let carry: Offender[] = [];
  let carryError: unknown = null;
  try {
    carry = await switchCarryOffenders(s, from, to, schemas, catalogs);
  } catch (e) {
    carryError = e;
  }
  // A wait longer than a moment says what it waits for.
  const announce = setTimeout(
    () =>
      args.progress({
        kind: 'log',
        level: 'info',
        text: `waiting up to ${GATE_WINDOW_MS / 1000} s for ${to} to confirm everything ${from} has written (the stream must be applying before ${from} is fenced)`,
      }),
    1_000,
  );
  const { decision, observations } = await observeStream(
    pub,
    sub,
    { subscription: name, from, to },
    { windowMs: GATE_WINDOW_MS, marker: `gate:${op}` },
  ).finally(() => clearTimeout(announce));
  const lastSub = [...observations].reverse().find((x) => x.subscriber)?.subscriber ?? null;
  const causes =
    decision.verdict === 'failing' || decision.verdict === 'copy_failing' || decision.verdict === 'not_running'
      ? likelyCauses(catalogs, from, to, schemas, decision.verdict === 'copy_failing' ? (lastSub?.tablesNotReady ?? []) : null)
      : [];
  const lag = await pub.q<{ lag: string | null }>(
    `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint AS lag FROM pg_replication_slots WHERE slot_name = $1`,
    [name],
  );
  const longTx = await pub.q<{ pid: number; usename: string | null; app: string; age_s: string }>(
    `SELECT pid, usename, application_name AS app, round(extract(epoch FROM now() - xact_start))::text AS age_s FROM pg_stat_activity
      WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid()
        AND xact_start < now() - make_interval(secs => $1::double precision / 1000) ORDER BY xact_start`,
    [limits.maxTransactionAgeMs],
  );
  const [fFrom, fTo] = await Promise.all([readFence(pub), readFence(sub)]);
  const observation: SwitchoverGateObservation = {
    op,
    from,
    to,
    subscription: name,
    health: decision,
    causes,
    notReadyTables: lastSub?.tablesNotReady ?? [],
    lagBytes: lag.rows[0]?.lag === undefined || lag.rows[0].lag === null ? null : Number(lag.rows[0].lag),
    longTransactions: longTx.rows.map((r) => ({ pid: r.pid, role: r.usename, application: r.app, ageSeconds: Number(r.age_s) })),
    fence: { from: fFrom, to: fTo },
    scope,
    carry,
  };
  const offenders = decideGates(observation, limits);
  if (carryError !== null && offenders.length === 0) throw carryError;
  if (carryError !== null)
    offenders.push({
      problem: `what replication carries could not be checked (${messageOf(carryError)})`,
      fix: 'run the command again once the other problems are fixed',
    });
  if (offenders.length > 0) throw refused(refusalSentence(`Cannot ${op} from ${from} to ${to}`, offenders), { offenders });
  const reverse = planPublication(catalogs[to], catalogs[from], schemas);
  for (const t of reverse.missingOnSubscriber)
    args.progress({ kind: 'log', level: 'warn', text: `table ${t} exists on ${to} only: its rows will not replicate back to ${from}` });
  return { catalogs, reverse, observation };
}
