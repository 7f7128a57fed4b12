/**
 * `db sync refresh`: brings tables and columns created after `sync start` (on both sides) into replication
 * without losing what was written to them meanwhile.
 *
 * - A new table: ALTER PUBLICATION … ADD TABLE, then ALTER SUBSCRIPTION … REFRESH PUBLICATION WITH (copy_data =
 *   true), which copies only the tables new to the subscription: its table-sync worker takes a snapshot through a
 *   slot of its own, copies it, and catches up from that slot, so rows written before the ADD are in the copy and
 *   rows written after it arrive through the stream (https://www.postgresql.org/docs/15/sql-altersubscription.html).
 * - A new column on a table already replicated with a column list: publishing the column from now on is not
 *   enough — every row whose value in that column was written before the column was published (INSERTs and
 *   UPDATEs on the publisher since the column was added there, and any row where a volatile default differs between
 *   the sides) never reached the subscriber, and REFRESH PUBLICATION does not re-copy tables it already has. So the
 *   table is copied again, whole: dropped from the publication, drained (the marker proves every change decoded
 *   before the drop was applied), dropped from the subscription, emptied on the subscriber, published again with the
 *   new column list and copied like a new table. Nothing is lost: the subscriber is fenced, so its rows of that table
 *   are a copy of the publisher's, and the copy restores all of them with the new column.
 *
 * A table or column the subscriber lacks cannot be brought in (create it there first); a stream that is not
 * applying is refused first (the drain could not finish). Idempotent: a run that stopped half-way leaves drift that
 * `db sync status` names and the next run picks up.
 */
import { badInput, failure, refused } from '../core/errors.js';
import { otherColor, type Color } from '../core/naming.js';
import type { Callbacks, ScopeDriftItem, SyncRefreshOptions, SyncRefreshReport, Targets } from './api.js';
import { REPLICATION_DEFAULTS, directionOf } from './api.js';
import { judgeDirection, roleOf } from './carry.js';
import { readCarryFacts } from './carry-facts.js';
import { watchCopy } from './copy.js';
import { readFence } from './fence.js';
import { observeStream } from './health.js';
import { pendingOf, readJournal } from './journal.js';
import { awaitMarker, markerMissing, markerToken, writeMarker } from './marker.js';
import { planPublication, tableKey } from './objects.js';
import { refusalSentence } from './preflight.js';
import { decideScope, readPublished, readSubscribed, scopeTablesOf } from './scope.js';
import { closeSessions, openSessions, quoteIdent, side, type Session } from './session.js';
import { OBJ, readCatalogs, step } from './sync.js';

/** How long the drain after dropping re-copied tables from the publication may take. */
const DRAIN_MS = 30_000;

export async function syncRefresh(targets: Targets, opts: SyncRefreshOptions = {}, cb: Callbacks = {}): Promise<SyncRefreshReport> {
  const t0 = performance.now();
  const progress = cb.progress ?? (() => undefined);
  const s = await openSessions(targets);
  try {
    const journal = await readJournal(s);
    const pending = pendingOf(journal);
    if (pending) throw refused(pending.hint);
    if (!journal?.direction)
      throw refused('No replication runs between blue and green: start it with `bgmig db sync start`; a refresh only extends a running replication.');
    const from: Color = journal.direction === 'blue_to_green' ? 'blue' : 'green';
    const to = otherColor(from);
    const pubName = OBJ.publication(from);
    const subName = OBJ.subscription(from, to);
    const pub = side(s, from);
    const sub = side(s, to);
    const schemas = journal.schemas;

    const catalogs = await readCatalogs(s, schemas);
    const live = { published: await readPublished(pub, pubName), subscribed: await readSubscribed(sub, subName) };
    const drift = decideScope({ from, to, tables: { blue: scopeTablesOf(catalogs.blue, schemas), green: scopeTablesOf(catalogs.green, schemas) }, live });
    const remaining: ScopeDriftItem[] = drift.filter((d) => !d.refreshable);
    const todo = drift.filter((d) => d.refreshable);
    const plan = planPublication(catalogs[from], catalogs[to], schemas);
    const planned = new Map(plan.tables.map((t) => [tableKey(t), t]));
    const added = todo.filter((d) => d.kind === 'table_not_published').map((d) => d.table);
    const recopied = todo.filter((d) => d.kind !== 'table_not_published').map((d) => d.table);
    for (const name of opts.recopy ?? []) {
      const key = name.includes('.') ? name : `${schemas[0] ?? 'public'}.${name}`;
      if (!planned.has(key) || !live.published.has(key)) {
        throw badInput(
          `--recopy ${name}: not a table replicated ${from}→${to} now — name one of the published tables as schema.table (\`bgmig db sync status\` lists them).`,
        );
      }
      if (!added.includes(key) && !recopied.includes(key)) recopied.push(key);
    }
    const report: SyncRefreshReport = {
      direction: directionOf(from),
      added,
      recopied,
      subscriberRowsReplaced: 0,
      remaining,
      copy: null,
      dryRun: opts.dryRun === true,
      durationMs: 0,
    };
    if (remaining.length > 0) {
      throw refused(
        refusalSentence(
          `Cannot refresh replication ${from}→${to}`,
          remaining.map((d) => ({ problem: d.problem, fix: d.fix })),
        ),
        { remaining },
      );
    }
    // Publishing a table can break the publisher's application (no replica identity: its UPDATE and DELETE fail) or
    // carry what the subscriber cannot apply: REPL-SHAPE's carry judgement of this direction, for these tables.
    const [factsFrom, factsTo] = await Promise.all([readCarryFacts(pub, schemas), readCarryFacts(sub, schemas)]);
    const carry = judgeDirection({
      role: roleOf(from),
      pub: from,
      sub: to,
      schemas,
      pubCatalog: catalogs[from],
      subCatalog: catalogs[to],
      pubFacts: factsFrom,
      subFacts: factsTo,
    });
    const names = [...added, ...recopied].map((t) => new RegExp(`${t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\w$])`));
    const concerned = carry.offenders.filter((o) => names.some((re) => re.test(o.problem)));
    if (concerned.length > 0) throw refused(refusalSentence(`Cannot refresh replication ${from}→${to}`, concerned), { offenders: concerned });
    if (added.length + recopied.length === 0 || opts.dryRun) {
      report.durationMs = Math.round(performance.now() - t0);
      return report;
    }
    // The subscriber's rows of these tables are about to be replaced: only a fenced copy may be.
    if (!(await readFence(sub)).fenced) {
      throw refused(
        `Cannot refresh replication ${from}→${to}: ${to} is not fenced, so its rows of ${[...added, ...recopied].join(', ')} may be its own — check its data, then re-fence it by restarting replication (\`bgmig db sync stop\`, \`bgmig db sync start\`).`,
      );
    }
    const health = await observeStream(pub, sub, { subscription: subName, from, to }, { windowMs: 5_000, marker: 'gate:refresh' });
    if (!health.decision.applying) {
      throw refused(
        refusalSentence(`Cannot refresh replication ${from}→${to}`, [
          {
            problem: health.decision.problems[0] ?? `the stream ${from}→${to} is not applying (${health.decision.verdict})`,
            fix: 'fix it first (`bgmig db sync status`); a refresh needs a stream that applies',
          },
        ]),
      );
    }

    // 1. Out of the publication: the tables to copy again (and any published but never subscribed).
    const republish = [...added, ...recopied];
    const toDrop = republish.filter((t) => live.published.has(t));
    if (toDrop.length > 0) {
      await step(progress, `unpublish ${toDrop.length} table(s) on ${from}`, () =>
        pub.q(
          `ALTER PUBLICATION ${quoteIdent(pubName)} DROP TABLE ${toDrop.join(', ')}`,
          undefined,
          `drop ${toDrop.join(', ')} from publication ${pubName} on ${from}`,
        ),
      );
      // 2. Every change to them decoded before the drop is applied on the subscriber before it forgets them.
      await step(progress, 'drain', () => drain(pub, sub));
      await step(progress, `unsubscribe them on ${to}`, () => refreshSubscription(sub, subName, false));
    }
    // 3. Empty the subscriber's copies (fenced: they are copies); foreign keys are not checked, as the apply worker
    //    does not check them either (session_replication_role = replica).
    report.subscriberRowsReplaced = await step(progress, `empty ${republish.length} table(s) on ${to}`, () => emptyTables(sub, republish));
    // 4. Publish them with today's column lists and copy them.
    const items = republish.map((t) => {
      const p = planned.get(t);
      if (!p) throw failure(`internal: ${t} is not in the publication plan`);
      return `${t}${p.columnList ? ` (${p.columns.map(quoteIdent).join(', ')})` : ''}`;
    });
    await step(progress, `publish ${republish.length} table(s) on ${from}`, () =>
      pub.q(
        `ALTER PUBLICATION ${quoteIdent(pubName)} ADD TABLE ${items.join(', ')}`,
        undefined,
        `add ${republish.join(', ')} to publication ${pubName} on ${from}`,
      ),
    );
    await step(progress, `subscribe and copy on ${to}`, () => refreshSubscription(sub, subName, true));
    report.copy = await watchCopy(
      sub,
      pub,
      subName,
      {
        wait: opts.waitForCopy ?? true,
        timeoutMs: opts.copyTimeoutMs ?? REPLICATION_DEFAULTS.copyTimeoutMs,
        tables: republish,
        catalogs,
        schemas,
      },
      progress,
    );
    report.durationMs = Math.round(performance.now() - t0);
    return report;
  } finally {
    await closeSessions(s);
  }
}

/** Deletes every row of `tables` on the (fenced) subscriber in one transaction; returns the number deleted. */
async function emptyTables(sub: Session, tables: readonly string[]): Promise<number> {
  let n = 0;
  await sub.q('BEGIN');
  try {
    await sub.q('SET LOCAL session_replication_role = replica', undefined, `skip foreign-key checks on ${sub.color} (session_replication_role)`);
    for (const t of tables) n += (await sub.q(`DELETE FROM ${t}`, undefined, `empty ${t} on ${sub.color} before its copy`)).rowCount ?? 0;
    await sub.q('COMMIT');
  } catch (e) {
    await sub.q('ROLLBACK').catch(() => undefined);
    throw e;
  }
  return n;
}

/** REFRESH PUBLICATION cannot run in a transaction block: one statement, bounded by the session's timeout. */
async function refreshSubscription(sub: Session, name: string, copyData: boolean): Promise<void> {
  await sub.q(
    `ALTER SUBSCRIPTION ${quoteIdent(name)} REFRESH PUBLICATION WITH (copy_data = ${copyData})`,
    undefined,
    `refresh subscription ${name} on ${sub.color}`,
  );
}

/** Writes the marker on the publisher and waits until the subscriber shows it (apply is in commit order). */
async function drain(pub: Session, sub: Session): Promise<void> {
  const token = markerToken('refresh');
  if ((await writeMarker(pub, token)) === null) throw markerMissing(pub.color);
  if (!(await awaitMarker(sub, token, performance.now() + DRAIN_MS, 20)).seen) {
    throw failure(
      `${sub.color} did not apply ${pub.color}'s changes within ${DRAIN_MS / 1000} s: the refresh stopped with its tables unpublished — \`bgmig db sync status\` names them; fix the stream, then run \`bgmig db sync refresh\` again.`,
    );
  }
}
