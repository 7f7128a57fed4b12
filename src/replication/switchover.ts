/**
 * Cutover (blue→green) and rollback (green→blue): one algorithm, mirrored. Within `maxPauseMs` from the fence:
 *
 *   [hold clients] → fence old → drain (marker row) → sequences → drop forward subscription and slot → reverse
 *   replication (copy_data=false, column lists) → [repoint clients] → unfence new
 *
 * and then, outside the write pause, the switch: release the client tier onto the new side and run the switch hook
 * (Route 53 in AWS mode: propagation no longer counts as write pause — the old side stays fenced, so exactly one
 * side takes writes while DNS catches up). Client tier and hook are orchestrated in src/replication/handoff.ts.
 *
 * Every step is journaled on both sides after it completes and is idempotent, so a run killed after any step is
 * finished by running the same command again (or undone by running the opposite one). Any failure before the
 * new side is unfenced, or the budget running out, undoes: the old side unfenced and active, forward replication
 * intact, the new side fenced, the client tier released onto the old side. After the unfence the only way is
 * forward: a failing switch hook is retried by running the same command again.
 */
import { randomUUID } from 'node:crypto';
import { BgmigError, failure, messageOf, refused } from '../core/errors.js';
import { otherColor, type Color } from '../core/naming.js';
import type { Catalog } from '../schema/catalog.js';
import {
  REPLICATION_DEFAULTS,
  SWITCH_STEPS,
  directionOf,
  type ProgressFn,
  type StepTiming,
  type SwitchCallbacks,
  type SwitchoverOptions,
  type SwitchReport,
  type SwitchStep,
  type Targets,
} from './api.js';
import { fence, unfence } from './fence.js';
import { pendingOf, readJournal, settled, writeJournal, type Journal } from './journal.js';
import { awaitMarker, markerMissing, markerToken, writeMarker } from './marker.js';
import { createPublication, createSubscription, dropPublication, dropSubscription, findSubscription, planPublication, publicationExists } from './objects.js';
import { holdClients, handBack, handOver } from './handoff.js';
import { moveSequences } from './sequences.js';
import { closeSessions, openSessions, quoteIdent, side, type Session, type Sessions } from './session.js';
import { checkGates, gateProof } from './gates.js';
import { createSlotWatched } from './blockers.js';
import { OBJ, readCatalogs } from './sync.js';
import { sleep } from '../core/sleep.js';

type Operation = 'cutover' | 'rollback';

/** How long preparing the reverse slot may wait for transactions open on the new side. */
const PREPARE_SLOT_MS = 2_000;

/**
 * The pause, as groups of steps that may run concurrently: once the old side is fenced its sequences are final,
 * so they are set while the drain is proven; once drained, dropping forward replication and starting the reverse
 * one touch different objects (and both sides are quiet, so nothing can loop).
 */
const STEP_GROUPS: SwitchStep[][] = [['fenced'], ['drained', 'sequences'], ['forward_dropped', 'reverse_started'], ['unfenced'], ['switched']];

const stepIndex = (s: string | null): number => (s === null ? -1 : SWITCH_STEPS.indexOf(s as SwitchStep));

interface Ctx {
  s: Sessions;
  /** A second connection per side, so that independent steps of the pause run concurrently. */
  aux: Sessions;
  targets: Targets;
  op: Operation;
  from: Color;
  to: Color;
  schemas: string[];
  opId: string;
  startedAt: string;
  journal: Journal | null;
  progress: ProgressFn;
  report: SwitchReport;
  /** performance.now() at the fence (null until fenced in this run). */
  fencedAt: number | null;
  maxPauseMs: number;
  /** fencedAt + maxPauseMs: past it, the run undoes instead of switching. */
  deadline: number;
  catalogs: Record<Color, Catalog> | null;
}

export async function cutover(targets: Targets, opts: SwitchoverOptions = {}, cb: SwitchCallbacks = {}): Promise<SwitchReport> {
  return runSwitchover('cutover', targets, opts, cb);
}

export async function rollback(targets: Targets, opts: SwitchoverOptions = {}, cb: SwitchCallbacks = {}): Promise<SwitchReport> {
  return runSwitchover('rollback', targets, opts, cb);
}

async function runSwitchover(op: Operation, targets: Targets, opts: SwitchoverOptions, cb: SwitchCallbacks): Promise<SwitchReport> {
  const t0 = performance.now();
  const progress = cb.progress ?? (() => undefined);
  const from: Color = op === 'cutover' ? 'blue' : 'green';
  const to = otherColor(from);
  const maxPauseMs = opts.maxPauseMs ?? REPLICATION_DEFAULTS.maxPauseMs;
  const s = await openSessions(targets);
  let aux: Sessions | null = null;
  try {
    aux = await openSessions(targets);
    let journal = await readJournal(s);
    const pending = pendingOf(journal);
    let resumedReport: SwitchReport | null = null;
    if (pending && (pending.operation === 'sync_start' || pending.operation === 'sync_stop')) throw refused(pending.hint);
    if (pending && journal) {
      const pendingOp = pending.operation as Operation;
      const ctx = makeCtx(s, aux, targets, pendingOp, pending.from, pending.to, journal, progress, maxPauseMs, t0);
      ctx.report.resumed = true;
      if (pendingOp === op) {
        // Same operation interrupted: finish it from the step after the last one journaled.
        progress({ kind: 'log', level: 'info', text: `resuming the ${op} interrupted after step "${pending.step}"` });
        return await finishAndReport(ctx, stepIndex(pending.step), cb, t0);
      }
      if (stepIndex(pending.step) < stepIndex('unfenced')) {
        // The opposite operation never unfenced its new side: undoing it is exactly what this command asks for.
        progress({ kind: 'log', level: 'info', text: `undoing the ${pendingOp} interrupted after step "${pending.step}"` });
        ctx.fencedAt = performance.now();
        await undo(ctx, pending.step as SwitchStep, cb, `an interrupted ${pendingOp} was undone`);
        const r = ctx.report;
        return { ...r, operation: op, from, to, outcome: 'completed', active: ctx.from, error: undefined, durationMs: Math.round(performance.now() - t0) };
      }
      // The opposite operation passed its point of no return: finish it, then run this one normally.
      progress({ kind: 'log', level: 'info', text: `finishing the ${pendingOp} interrupted after step "${pending.step}" first` });
      resumedReport = await finishAndReport(ctx, stepIndex(pending.step), cb, t0);
      journal = await readJournal(s);
    }
    if (!journal || journal.direction === null) {
      throw refused(
        'No replication runs between blue and green: start it with `bgmig db sync start` (and let the initial copy finish) before a cutover or rollback.',
      );
    }
    if (journal.active === to) {
      return {
        operation: op,
        from,
        to,
        outcome: 'noop',
        active: to,
        resumed: resumedReport !== null,
        pauseMs: null,
        steps: [],
        undo: [],
        lsn: { fence: null, drained: null, reverseSlot: null },
        sequences: [],
        durationMs: Math.round(performance.now() - t0),
      };
    }
    const ctx = makeCtx(s, aux, targets, op, from, to, journal, progress, maxPauseMs, t0);
    ctx.opId = randomUUID();
    ctx.startedAt = new Date().toISOString();
    if (opts.acceptedRollbackRisk && opts.acceptedRollbackRisk.length > 0) {
      ctx.report.acceptedRollbackRisk = [...opts.acceptedRollbackRisk];
      progress({ kind: 'log', level: 'info', text: `rollback risk accepted by the operator for: ${opts.acceptedRollbackRisk.join(', ')}` });
    }
    await gates(ctx, opts);
    ctx.journal = await writeJournal(s, ctx.journal, journalOf(ctx, 'started'));
    return await finishAndReport(ctx, stepIndex('started'), cb, t0);
  } finally {
    await closeSessions(s);
    if (aux) await closeSessions(aux);
  }
}

function makeCtx(
  s: Sessions,
  aux: Sessions,
  targets: Targets,
  op: Operation,
  from: Color,
  to: Color,
  journal: Journal,
  progress: ProgressFn,
  maxPauseMs: number,
  t0: number,
): Ctx {
  return {
    s,
    aux,
    targets,
    op,
    from,
    to,
    progress,
    journal,
    schemas: journal.schemas,
    opId: journal.opId ?? randomUUID(),
    startedAt: journal.startedAt ?? new Date().toISOString(),
    fencedAt: null,
    maxPauseMs,
    deadline: t0 + maxPauseMs,
    catalogs: null,
    report: {
      operation: op,
      from,
      to,
      outcome: 'completed',
      active: from,
      resumed: false,
      pauseMs: null,
      steps: [],
      undo: [],
      lsn: { fence: null, drained: null, reverseSlot: null },
      sequences: [],
      durationMs: 0,
    },
  };
}

function journalOf(ctx: Ctx, step: SwitchStep): Parameters<typeof writeJournal>[2] {
  return {
    active: ctx.from,
    direction: directionOf(ctx.from),
    schemas: ctx.schemas,
    operation: ctx.op,
    from: ctx.from,
    to: ctx.to,
    step,
    opId: ctx.opId,
    startedAt: ctx.startedAt,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Gates (src/replication/gates.ts): nothing is changed until every one passes.

async function gates(ctx: Ctx, opts: SwitchoverOptions): Promise<void> {
  const t = performance.now();
  const g = await checkGates(ctx.s, { op: ctx.op, from: ctx.from, to: ctx.to, schemas: ctx.schemas, progress: ctx.progress }, opts);
  ctx.report.steps.push({ step: 'gates', ms: Math.round((performance.now() - t) * 10) / 10, detail: gateProof(g.observation) });
  ctx.catalogs = g.catalogs;
  await prepareReverse(ctx, g.reverse);
}

/**
 * Prepares the reverse replication before the pause, because creating a logical slot is the slowest part of it
 * (it waits for a consistent snapshot): the publication on the new side, its slot, and a DISABLED subscription on
 * the old side using that slot. While disabled, nothing flows; the slot does see what the forward apply worker
 * writes on the new side meanwhile, so the reverse step advances it to the new side's current LSN — after the
 * drain, when nothing more arrives — before enabling the subscription. Undo drops all three.
 */
async function prepareReverse(ctx: Ctx, plan: ReturnType<typeof planPublication>): Promise<void> {
  const { s, from, to } = ctx;
  const t = performance.now();
  const pubName = OBJ.publication(to);
  const subName = OBJ.subscription(to, from);
  await createPublication(side(s, to), pubName, plan);
  try {
    // Slot creation waits for every transaction open on the new side: a short, watched wait (src/replication/blockers.ts).
    await createSlotWatched(side(s, to), subName, PREPARE_SLOT_MS, ctx.progress, `run \`bgmig db ${ctx.op}\` again`);
    if (!(await findSubscription(side(s, from), subName))) {
      await createSubscription(side(s, from), subName, side(s, to).target, pubName, false, { createSlot: false, enabled: false });
    }
  } catch (e) {
    await dropSubscription(side(s, from), side(s, to), subName).catch(() => undefined);
    const blockers = (e instanceof BgmigError ? (e.details?.blockers as Array<{ backendType: string }> | undefined) : undefined) ?? [];
    if (blockers.some((b) => b.backendType === 'client backend')) {
      // A transaction open on the new side would hold the slot inside the pause too, and abort it there: refuse
      // now, before anything is fenced, naming it.
      await dropPublication(side(s, to), pubName).catch(() => undefined);
      throw refused(`Cannot ${ctx.op} from ${from} to ${to}: ${messageOf(e).replace(/; nothing was changed\.$/, '')}; nothing was fenced.`, { blockers });
    }
    // Otherwise only an optimisation: without it the reverse replication is created inside the pause (slower, same result).
    ctx.progress({
      kind: 'log',
      level: 'warn',
      text: `could not prepare the reverse replication before the pause (${messageOf(e)}); it will be created during the pause`,
    });
  }
  ctx.report.steps.push({
    step: 'prepare reverse replication',
    ms: Math.round((performance.now() - t) * 10) / 10,
    detail: `${pubName} and slot on ${to}, ${subName} on ${from} (disabled)`,
  });
}

/** Waits (outside any pause) until the subscription's apply worker runs; warns after 10 s. */
async function awaitApplyWorker(s: Session, subName: string, progress: ProgressFn): Promise<void> {
  const until = performance.now() + 10_000;
  while (!(await applyWorker(s, subName))) {
    if (performance.now() > until) {
      progress({ kind: 'log', level: 'warn', text: `the apply worker of ${subName} on ${s.color} has not started after 10 s: check \`bgmig db sync status\`` });
      return;
    }
    await sleep(20);
  }
}

async function applyWorker(s: Session, subName: string): Promise<boolean> {
  const r = await s.q<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_subscription WHERE subname = $1 AND relid IS NULL AND pid IS NOT NULL`, [subName]);
  return r.rows[0].n > 0;
}

// ---------------------------------------------------------------------------------------------------------------
// The steps

async function finishAndReport(ctx: Ctx, lastDone: number, cb: SwitchCallbacks, t0: number): Promise<SwitchReport> {
  let current: SwitchStep = SWITCH_STEPS[Math.max(0, lastDone)];
  let attempting = '';
  // The catalog reader runs a read-only transaction on its connection: load it now, never beside another step.
  if (!ctx.catalogs) ctx.catalogs = await readCatalogs(ctx.s, ctx.schemas);
  if (lastDone >= stepIndex('fenced')) {
    // Resuming with the old side already fenced: the pause budget counts from now.
    ctx.fencedAt = performance.now();
    ctx.deadline = ctx.fencedAt + ctx.maxPauseMs;
  }
  try {
    for (const group of STEP_GROUPS) {
      const todo = group.filter((name) => stepIndex(name) > lastDone);
      if (todo.length === 0) continue;
      // The budget bounds the write pause (fence → unfence), not the switch that follows it.
      if (stepIndex(current) < stepIndex('unfenced')) checkBudget(ctx, todo[0]);
      attempting = todo.join(' + ');
      // Steps of one group are independent of each other: run them at once, and wait for all before judging.
      const results = await Promise.allSettled(todo.map((name) => runStep(ctx, name, cb)));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      for (const name of todo) {
        current = name;
        if (name !== 'unfenced') ctx.journal = await writeJournal(ctx.s, ctx.journal, journalOf(ctx, name));
      }
    }
  } catch (e) {
    if (stepIndex(current) >= stepIndex('unfenced')) {
      // Past the unfence there is no going back: the new side takes writes and holds everything, the old one stays
      // fenced; the forward path is to retry the switch (idempotent), never to undo.
      throw failure(
        `The ${ctx.op} made ${ctx.to} active and writable (${ctx.from} stays fenced) but could not finish the step after "${current}" (${messageOf(e)}): run \`bgmig db ${ctx.op}\` again to finish it.`,
        e,
      );
    }
    ctx.progress({ kind: 'step', step: attempting || current, status: 'failed', detail: messageOf(e) });
    await undo(ctx, current, cb, messageOf(e));
    ctx.report.outcome = 'aborted';
    ctx.report.error = `The ${ctx.op} was aborted and undone — ${ctx.from} is active and writable, replication ${ctx.from}→${ctx.to} intact: ${messageOf(e)}`;
    ctx.report.durationMs = Math.round(performance.now() - t0);
    return ctx.report;
  }
  // Done: the journal says so last, so a run killed before this line is finished by the next one.
  ctx.journal = await writeJournal(ctx.s, ctx.journal, settled(ctx.to, directionOf(ctx.to), ctx.schemas));
  ctx.report.outcome = 'completed';
  ctx.report.active = ctx.to;
  // After the pause: make sure the new replication's apply worker came up, so the command ends in a healthy state.
  await awaitApplyWorker(side(ctx.s, ctx.from), OBJ.subscription(ctx.to, ctx.from), ctx.progress);
  ctx.report.durationMs = Math.round(performance.now() - t0);
  return ctx.report;
}

function checkBudget(ctx: Ctx, next: string): void {
  if (ctx.fencedAt !== null && performance.now() > ctx.deadline) {
    const spent = Math.round(performance.now() - ctx.fencedAt);
    throw failure(`--max-pause ran out after ${spent} ms, before step "${next}"`);
  }
}

/** What is left of the pause budget (for statement/lock timeouts inside the pause). */
function remaining(ctx: Ctx): number {
  return Math.max(1, ctx.deadline - performance.now());
}

async function timed(ctx: Ctx, list: StepTiming[], name: string, fn: () => Promise<string | undefined | void>): Promise<void> {
  const t = performance.now();
  ctx.progress({ kind: 'step', step: name, status: 'start' });
  const detail = (await fn()) ?? undefined;
  const ms = Math.round((performance.now() - t) * 10) / 10;
  list.push({ step: name, ms, ...(detail ? { detail } : {}) });
  ctx.progress({ kind: 'step', step: name, status: 'done', ms, ...(detail ? { detail } : {}) });
}

async function runStep(ctx: Ctx, name: SwitchStep, cb: SwitchCallbacks): Promise<void> {
  const { s, from, to } = ctx;
  const old = side(s, from);
  const neu = side(s, to);
  const steps = ctx.report.steps;
  switch (name) {
    case 'started':
      return;
    case 'fenced':
      if (cb.clients) await timed(ctx, steps, 'hold clients', () => holdClients(cb.clients));
      await timed(ctx, steps, `fence ${from}`, async () => {
        ctx.fencedAt = performance.now();
        ctx.deadline = ctx.fencedAt + ctx.maxPauseMs;
        const r = await fence(old, Math.min(2_000, remaining(ctx)));
        const lsn = await old.q<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn');
        ctx.report.lsn.fence = lsn.rows[0].lsn;
        return `${r.terminated} session(s) ended`;
      });
      return;
    case 'drained':
      await timed(ctx, steps, 'drain', async () => {
        // Committed after the fence, so after every application commit on the old side: once the new side shows
        // it, the apply worker (which applies in commit order) has applied everything before it.
        const token = markerToken(`${ctx.op}:${ctx.opId}`);
        const lsn = await writeMarker(old, token);
        if (lsn === null) throw markerMissing(from);
        ctx.report.lsn.drained = lsn;
        const { seen, polls } = await awaitMarker(neu, token, ctx.deadline, 2);
        if (!seen)
          throw failure(
            `${to} did not apply everything ${from} committed within --max-pause (drain marker not seen after ${polls} polls; is the apply worker stalled or blocked by a lock on ${to}?)`,
          );
        return `marker at ${lsn} seen on ${to} after ${polls} poll(s)`;
      });
      return;
    case 'sequences':
      await timed(ctx, steps, 'sequences', async () => {
        const [oldA, neuA] = [side(ctx.aux, from), side(ctx.aux, to)];
        await neuA.bound(remaining(ctx));
        try {
          if (!ctx.catalogs) throw failure('internal: catalogs not loaded before the pause');
          ctx.report.sequences = await moveSequences(oldA, neuA, ctx.schemas, ctx.catalogs[from], to);
        } finally {
          await neuA.bound(30_000);
        }
        return `${ctx.report.sequences.filter((x) => x.to !== null).length} of ${ctx.report.sequences.length} moved`;
      });
      return;
    case 'forward_dropped':
      await timed(ctx, steps, 'drop forward replication', async () => {
        const r = await dropSubscription(neu, old, OBJ.subscription(from, to));
        return `${r.subscription ?? 'subscription already gone'}; slots dropped: ${r.slots.join(', ') || 'none'}`;
      });
      return;
    case 'reverse_started':
      await timed(ctx, steps, 'start reverse replication', async () => {
        if (!ctx.catalogs) throw failure('internal: catalogs not loaded before the pause');
        const plan = planPublication(ctx.catalogs[to], ctx.catalogs[from], ctx.schemas);
        const pubName = OBJ.publication(to);
        const subName = OBJ.subscription(to, from);
        const [oldA, neuA] = [side(ctx.aux, from), side(ctx.aux, to)];
        // Prepared before the pause; re-created here only when a resumed run finds it missing (both sides are
        // quiet now, so a slot created now starts exactly at the drain point).
        if (!(await publicationExists(neuA, pubName))) await createPublication(neuA, pubName, plan);
        const sub = await findSubscription(oldA, subName);
        if (!sub) await createSubscription(oldA, subName, neuA.target, pubName, false);
        else if (!sub.enabled) {
          // Skip what the forward apply worker wrote on the new side (all of it came from the old side).
          await neuA.q('SELECT pg_replication_slot_advance($1, pg_current_wal_lsn())', [subName], `advance slot ${subName} on ${to}`);
          await oldA.q(`ALTER SUBSCRIPTION ${quoteIdent(subName)} ENABLE`, undefined, `enable subscription ${subName} on ${from}`);
        }
        const slot = await neuA.q<{ lsn: string | null }>('SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1', [subName]);
        ctx.report.lsn.reverseSlot = slot.rows[0]?.lsn ?? null;
        return `${subName} on ${from} from ${pubName} (${plan.tables.length} tables, copy_data=false)`;
      });
      return;
    case 'switched':
      await timed(ctx, steps, 'switch', async () => {
        const h = await handOver(cb, to, ctx.targets[to]);
        if (ctx.fencedAt !== null) ctx.report.clientsFollowMs = Math.round((h.clientsFollowAt - ctx.fencedAt) * 10) / 10;
        ctx.report.holdMs = h.holdMs;
        return h.detail;
      });
      return;
    case 'unfenced':
      if (cb.clients) {
        const tier = cb.clients;
        await timed(ctx, steps, 'repoint clients', () => tier.repoint(to, ctx.targets[to]));
      }
      await timed(ctx, steps, `unfence ${to}`, async () => {
        await unfence(neu);
        if (ctx.fencedAt !== null) ctx.report.pauseMs = Math.round((performance.now() - ctx.fencedAt) * 10) / 10;
      });
      ctx.journal = await writeJournal(s, ctx.journal, journalOf(ctx, 'unfenced'));
      return;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Undo: back to "from active and writable, replication from→to intact, to fenced, no switch".

async function undo(ctx: Ctx, lastDone: SwitchStep, cb: SwitchCallbacks, why: string): Promise<void> {
  const { s, from, to } = ctx;
  const old = side(s, from);
  const neu = side(s, to);
  const u = ctx.report.undo;
  await Promise.all([old.bound(30_000), neu.bound(30_000)]).catch(() => undefined);
  ctx.progress({ kind: 'log', level: 'warn', text: `undoing the ${ctx.op} (last step done: ${lastDone}): ${why}` });
  try {
    // Always (idempotent): a concurrent group may have created it before its sibling step failed.
    await timed(ctx, u, 'drop reverse replication', async () => {
      const r = await dropSubscription(old, neu, OBJ.subscription(to, from));
      return r.subscription ? `dropped ${r.subscription}` : 'none';
    });
    if (!(await findSubscription(neu, OBJ.subscription(from, to)))) {
      await timed(ctx, u, 'restore forward replication', async () => {
        // The old side has been fenced since before the drain, so the new side already holds everything: a new
        // subscription without initial copy continues exactly where the dropped one stopped.
        ctx.catalogs ??= await readCatalogs(s, ctx.schemas);
        const catalogs = ctx.catalogs;
        if (!(await publicationExists(old, OBJ.publication(from))))
          await createPublication(old, OBJ.publication(from), planPublication(catalogs[from], catalogs[to], ctx.schemas));
        await createSubscription(neu, OBJ.subscription(from, to), old.target, OBJ.publication(from), false);
        return `${OBJ.subscription(from, to)} on ${to} (copy_data=false)`;
      });
    }
    await timed(ctx, u, `drop ${OBJ.publication(to)}`, async () => {
      await dropPublication(neu, OBJ.publication(to));
    });
    await timed(ctx, u, `fence ${to}`, async () => {
      await fence(neu);
    });
    await timed(ctx, u, `unfence ${from}`, async () => {
      await unfence(old);
      if (ctx.fencedAt !== null) ctx.report.pauseMs = Math.round((performance.now() - ctx.fencedAt) * 10) / 10;
    });
    ctx.journal = await writeJournal(s, ctx.journal, settled(from, directionOf(from), ctx.schemas));
    // The switch hook never ran (it comes after the point of no return); held client queries run on the old side.
    const tier = cb.clients;
    if (tier) {
      await timed(ctx, u, 'release clients', async () => {
        const detail = await tier.release(from, ctx.targets[from]);
        ctx.report.holdMs = handBack(tier);
        return detail;
      });
    }
  } catch (e) {
    throw failure(
      `The ${ctx.op} failed (${why}) and undoing it failed too (${messageOf(e)}): run \`bgmig db ${ctx.op === 'cutover' ? 'rollback' : 'cutover'}\` to retry the undo, and check \`bgmig db sync status\`.`,
      e,
    );
  }
  ctx.report.active = from;
  await awaitApplyWorker(neu, OBJ.subscription(from, to), ctx.progress);
}
