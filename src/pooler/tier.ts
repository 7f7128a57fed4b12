/**
 * PgBouncer poolers as the switch's client tier (ClientTier, src/replication/api.ts): hold client queries with
 * PAUSE before the fence, repoint the held entries to the new writer inside the write pause, RESUME them after the
 * unfence (or onto the old side when the switch is undone). Every step is bounded and idempotent; the held state is
 * journaled on the databases before the first PAUSE (src/pooler/journal.ts), so nothing is ever left paused by a
 * bgmig that died: the next command finds the rows and resumes.
 *
 * Repoint mechanisms:
 * - `file` (direct mode, proven here): rewrite the entry in the pooler's ini file (SHOW CONFIG conffile, and its
 *   %include files) and RELOAD while paused; then SHOW DATABASES must show the new host/port.
 * - `dns` (AWS mode, on paper): the entry names the Route 53 db record; nothing is rewritten, the poolers are
 *   released after the switch hook saw the record resolve to the new writer plus PgBouncer's `dns_max_ttl`.
 */
import { accessSync, chownSync, constants, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { badInput, failure, messageOf, refused } from '../core/errors.js';
import type { Color } from '../core/naming.js';
import { sleep } from '../core/sleep.js';
import type { DbTarget } from '../db/connection.js';
import type { ClientTier, ProgressFn } from '../replication/api.js';
import { refusalSentence } from '../replication/preflight.js';
import { PoolerAdmin, poolerLabel, waitFor, type PoolerRef } from './admin.js';
import { includesOf, repointEntries, type Endpoint } from './config.js';
import { clearHeld, readHeld, recordHeld } from './journal.js';
import { POOLER_DEFAULTS, decideHold, decidePoolers, sideOf, type PoolerObservation, type PoolerPlanItem } from './plan.js';

export const POOLER_PASSWORD_ENV = 'BGMIG_POOLER_PASSWORD';

/** Parses `postgres://admin[:password]@host:6432/pgbouncer`; a missing password is taken from BGMIG_POOLER_PASSWORD. */
export function parsePoolerUrl(url: string, option = '--pooler', env: NodeJS.ProcessEnv = process.env): PoolerRef {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw badInput(`${option} is not a valid URL: use postgres://ADMIN@HOST:PORT/pgbouncer (password in ${POOLER_PASSWORD_ENV}).`);
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') throw badInput(`${option} must start with postgres://, got "${u.protocol}//…".`);
  if (!u.hostname) throw badInput(`${option} has no host: use postgres://ADMIN@HOST:PORT/pgbouncer.`);
  const db = decodeURIComponent(u.pathname.replace(/^\//, '')) || 'pgbouncer';
  if (db !== 'pgbouncer') throw badInput(`${option} must name PgBouncer's admin database "pgbouncer", not "${db}".`);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const port = u.port ? Number(u.port) : 6432;
  const user = decodeURIComponent(u.username) || 'pgbouncer';
  const password = decodeURIComponent(u.password) || env[POOLER_PASSWORD_ENV] || '';
  return { host, port, user, password, label: poolerLabel(user, host, port) };
}

/** A ref for a journaled label: the password from a matching --pooler URL, else the environment. */
export function refForLabel(label: string, given: readonly PoolerRef[], env: NodeJS.ProcessEnv = process.env): PoolerRef {
  return given.find((g) => g.label === label) ?? parsePoolerUrl(label, 'the journaled pooler', env);
}

export interface PoolerTierOptions {
  mechanism?: 'file' | 'dns' | undefined;
  /** dns mechanism: the name the poolers' entries follow (the Route 53 db record). */
  followName?: string | undefined;
  /** PAUSE of every pooler together must finish within this (default 3 s). */
  pauseTimeoutMs?: number | undefined;
  progress?: ProgressFn | undefined;
}

const keyOf = (label: string, entry: string) => `${label}\n${entry}`;
const ms = (t: number) => Math.round(performance.now() - t);

function endpointOf(t: DbTarget): Endpoint {
  return { host: t.host, port: t.port, database: t.database };
}

/** The ini file and its %include files, resolved. Unreadable ones are skipped (they make entries non-editable). */
function configFiles(conffile: string): Array<{ file: string; text: string }> {
  const out: Array<{ file: string; text: string }> = [];
  const visit = (file: string, depth: number) => {
    if (depth > 5 || out.some((f) => f.file === file)) return;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
      accessSync(file, constants.W_OK);
    } catch {
      return;
    }
    out.push({ file, text });
    for (const inc of includesOf(text)) visit(path.resolve(path.dirname(file), inc), depth + 1);
  };
  visit(conffile, 0);
  return out;
}

/** Writes a config file in place of the old one, keeping its owner and mode (the pooler's OS user must read it). */
function writeConfig(file: string, text: string): void {
  const st = statSync(file);
  const tmp = `${file}.bgmig-${process.pid}`;
  try {
    writeFileSync(tmp, text, { mode: st.mode & 0o777 });
    try {
      chownSync(tmp, st.uid, st.gid);
    } catch {
      /* not root: the file is ours already */
    }
    renameSync(tmp, file);
  } catch {
    // No right to create files in its directory: rewrite in place (RELOAD reads it only after this returns).
    writeFileSync(file, text);
  }
}

export class PoolerTier implements ClientTier {
  readonly followsSwitch: boolean;
  private plan: PoolerPlanItem[] | null = null;
  /** Console connections that paused an entry, kept open to resume it. */
  private readonly kept = new Map<string, PoolerAdmin>();
  /** SHOW CONFIG conffile per pooler, from the observation. */
  private readonly conffiles = new Map<string, string>();
  /** performance.now() when the first PAUSE was sent, and when the last RESUME answered. */
  private pausedAt: number | undefined;
  private resumedAt: number | undefined;
  private readonly sides: Record<Color, Endpoint>;
  private readonly pauseTimeoutMs: number;
  private readonly mechanism: 'file' | 'dns';

  constructor(
    readonly refs: readonly PoolerRef[],
    private readonly targets: Record<Color, DbTarget>,
    private readonly opts: PoolerTierOptions = {},
  ) {
    this.mechanism = opts.mechanism ?? 'file';
    this.followsSwitch = this.mechanism === 'dns';
    this.sides = { blue: endpointOf(targets.blue), green: endpointOf(targets.green) };
    this.pauseTimeoutMs = opts.pauseTimeoutMs ?? POOLER_DEFAULTS.pauseTimeoutMs;
  }

  private log(text: string, level: 'info' | 'warn' | 'debug' = 'debug'): void {
    this.opts.progress?.({ kind: 'log', level, text });
  }

  private async withAdmins<T>(fn: (admins: PoolerAdmin[]) => Promise<T>): Promise<T> {
    const settled = await Promise.allSettled(this.refs.map((r) => PoolerAdmin.connect(r)));
    const admins = settled.filter((s): s is PromiseFulfilledResult<PoolerAdmin> => s.status === 'fulfilled').map((s) => s.value);
    try {
      const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      if (failed) throw failed.reason;
      return await fn(admins);
    } finally {
      await Promise.all(admins.map((a) => a.close()));
    }
  }

  /** What every pooler reports, plus which entries bgmig can rewrite from here. */
  async observe(): Promise<PoolerObservation[]> {
    return this.withAdmins((admins) =>
      Promise.all(
        admins.map(async (a) => {
          const [entries, config] = await Promise.all([a.databases(), a.config()]);
          const conffile = config.conffile || null;
          if (conffile) this.conffiles.set(a.ref.label, conffile);
          const files = conffile && this.mechanism === 'file' ? configFiles(conffile) : [];
          const names = entries.map((e) => e.name);
          const editable = names.filter((n) => files.some((f) => repointEntries(f.text, [n], this.sides.blue).found.includes(n)));
          return { label: a.ref.label, entries, poolMode: config.pool_mode || 'session', conffile, editable };
        }),
      ),
    );
  }

  private async planned(): Promise<PoolerPlanItem[]> {
    if (this.plan) return this.plan;
    const decision = decidePoolers(await this.observe(), this.sides, { needEditable: this.mechanism === 'file', followName: this.opts.followName });
    if (decision.kind === 'refuse')
      throw refused(refusalSentence('Cannot hold client queries in the poolers', decision.offenders), { offenders: decision.offenders });
    this.plan = decision.poolers;
    return this.plan;
  }

  /** Refuses (exit 3, nothing changed) when a pooler cannot take part; the plan is kept for the hold. */
  async preflight(): Promise<void> {
    await this.planned();
  }

  async hold(): Promise<string> {
    const t0 = performance.now();
    const plan = await this.planned();
    // Journaled before the first PAUSE: a bgmig that dies from here on leaves a row the next command resumes from.
    await recordHeld(
      this.targets,
      plan.map((p) => ({ label: p.label, entries: p.entries })),
    );
    this.pausedAt = undefined;
    this.resumedAt = undefined;
    const deadline = performance.now() + this.pauseTimeoutMs;
    const work = plan.flatMap((p) => p.entries.map((entry) => ({ ref: this.refs.find((r) => r.label === p.label) as PoolerRef, entry })));
    // One console connection per entry: a PAUSE blocks its connection until it completes. All start together and
    // share one deadline, so several poolers cost the slowest one, not the sum.
    const results = await Promise.all(
      work.map(async ({ ref, entry }) => {
        let a: PoolerAdmin | null = null;
        let keep = false;
        try {
          a = await PoolerAdmin.connect(ref, Math.max(100, deadline - performance.now()));
          // Clients are held from the first PAUSE sent, not from the console connection.
          this.pausedAt ??= performance.now();
          const paused = await a.pause(entry, deadline - performance.now());
          // The console that paused the entry resumes it: no connection to open after the unfence.
          if (paused) {
            a.unref();
            this.kept.set(keyOf(ref.label, entry), a);
          }
          keep = paused;
          return { label: ref.label, entry, paused, error: undefined as string | undefined };
        } catch (e) {
          return { label: ref.label, entry, paused: false, error: messageOf(e) };
        } finally {
          if (!keep) await a?.close();
        }
      }),
    );
    const verdict = decideHold(results);
    if (!verdict.ok) {
      // Nothing else was changed yet: resume every entry (the late ones are still pausing) and say why.
      await this.resumeAll(plan).catch((e: unknown) => this.log(`could not resume every pooler after the failed PAUSE (${messageOf(e)})`, 'warn'));
      const errors = results.filter((r) => r.error).map((r) => r.error);
      throw failure(
        `${verdict.late.length === 1 ? 'A pooler' : 'Poolers'} did not pause within ${this.pauseTimeoutMs} ms (${verdict.late.join(', ')}${errors.length ? `: ${errors.join('; ')}` : ' — a transaction held open through it?'}): every pooler was resumed and nothing was changed; let long transactions finish, then retry.`,
      );
    }
    return `${results.length} entr${results.length === 1 ? 'y' : 'ies'} on ${plan.length} pooler(s) paused in ${ms(t0)} ms`;
  }

  async repoint(active: Color, target: DbTarget): Promise<string> {
    if (this.mechanism === 'dns') return 'the poolers follow the db record';
    const plan = await this.planned();
    const to = endpointOf(target);
    let changed = 0;
    // Inside the write pause: every pooler at once, on the console kept from its PAUSE when there is one.
    await Promise.all(
      plan.map(async (item) => {
        const ref = this.refs.find((r) => r.label === item.label) as PoolerRef;
        const kept = [...this.kept.entries()].find(([k]) => k.startsWith(`${item.label}\n`))?.[1];
        const a = kept ?? (await PoolerAdmin.connect(ref));
        try {
          const conffile = this.conffiles.get(item.label) ?? (await a.config()).conffile;
          const pending = new Set(item.entries);
          for (const f of configFiles(conffile)) {
            const r = repointEntries(f.text, [...pending], to);
            for (const n of r.found) pending.delete(n);
            if (r.changed.length > 0) {
              writeConfig(f.file, r.text);
              changed += r.changed.length;
            }
          }
          if (pending.size > 0)
            throw failure(`Pooler ${item.label}: entr${pending.size === 1 ? 'y' : 'ies'} ${[...pending].join(', ')} not found in ${conffile} any more.`);
          await a.reload();
          // Check what the pooler now says rather than assume the file was taken.
          const ok = await waitFor(
            async () => (await a.databases()).filter((e) => item.entries.includes(e.name)).every((e) => sideOf(e, this.sides) === active),
            performance.now() + 2_000,
            5,
          );
          if (!ok) throw failure(`Pooler ${item.label} still points elsewhere after RELOAD: check ${conffile}.`);
          for (const n of item.entries) item.pointsAt[n] = active;
        } finally {
          if (!kept) await a.close();
        }
      }),
    );
    return `${changed} entr${changed === 1 ? 'y' : 'ies'} rewritten → ${active}`;
  }

  /** performance.now() when the last RESUME answered (clients run on the new side from then), if it did here. */
  releasedAt(): number | undefined {
    return this.resumedAt;
  }

  /** How long clients were held: first PAUSE sent → last RESUME answered (null unless both happened here). */
  heldMs(): number | null {
    return this.pausedAt === undefined || this.resumedAt === undefined ? null : Math.round((this.resumedAt - this.pausedAt) * 10) / 10;
  }

  /** RESUME every planned entry (on the console that paused it when still open, else a new one) and check it. */
  private async resumeAll(plan: PoolerPlanItem[]): Promise<void> {
    const work = plan.flatMap((p) => p.entries.map((entry) => ({ ref: this.refs.find((r) => r.label === p.label) as PoolerRef, entry })));
    await Promise.all(
      work.map(async ({ ref, entry }) => {
        const key = keyOf(ref.label, entry);
        let a = this.kept.get(key);
        this.kept.delete(key);
        try {
          try {
            if (!a) throw new Error('no console kept');
            await a.resume(entry);
          } catch {
            // The kept console is gone (or there is none): a new one.
            await a?.close();
            a = await PoolerAdmin.connect(ref);
            await a.resume(entry);
          }
          this.resumedAt = performance.now();
          const left = (await a.databases()).find((e) => e.name === entry && e.paused);
          if (left) throw failure(`Pooler ${ref.label} still reports ${entry} paused after RESUME.`);
        } finally {
          await a?.close();
        }
      }),
    );
    await clearHeld(
      this.targets,
      plan.map((p) => p.label),
    );
  }

  async release(active: Color, target: DbTarget): Promise<string> {
    const t0 = performance.now();
    if (this.pausedAt === undefined) {
      // This run paused nothing: release only what the journal says an earlier run left held (never touch, or
      // fail on, a pooler nobody paused — e.g. the one that could not be reached when the hold was refused).
      const held = new Set((await readHeld(this.targets)).map((h) => h.label));
      if (!this.refs.some((r) => held.has(r.label))) return 'no pooler was held';
    }
    const plan = await this.planned();
    // Repointed inside the pause already (the usual case): no need to look again.
    const there = plan.every((p) => p.entries.every((e) => p.pointsAt[e] === active));
    if (this.mechanism === 'file') {
      if (!there) await this.repoint(active, target);
    } else {
      // The switch hook saw the record resolve to the new writer; PgBouncer may still hold the old address for
      // up to dns_max_ttl (the container sets 1 s): wait it out before new server connections are made.
      const ttl = await this.withAdmins(async (admins) =>
        Math.max(0, ...(await Promise.all(admins.map(async (a) => Number((await a.config()).dns_max_ttl ?? 0))))),
      );
      await sleep(Math.min(15, ttl) * 1000);
    }
    await this.resumeAll(plan);
    return `${plan.length} pooler(s) resumed on ${active} in ${ms(t0)} ms`;
  }
}

/**
 * Finds poolers a previous bgmig left held (journaled on the databases) and releases them onto `active` (entries
 * paused by anyone else are not bgmig's to resume: see pausedEntryProblems). Returns one line per pooler released; [] when none was held. Throws (one sentence) when a
 * held pooler cannot be reached or resumed.
 */
export async function settleHeldPoolers(
  targets: Record<Color, DbTarget>,
  active: Color,
  given: readonly PoolerRef[],
  opts: PoolerTierOptions = {},
): Promise<string[]> {
  const held = await readHeld(targets);
  if (held.length === 0) return [];
  const refs = held.map((h) => refForLabel(h.label, given));
  const tier = new PoolerTier(refs, targets, opts);
  const detail = await tier.release(active, targets[active]);
  return [`released poolers a previous run left held (${held.map((h) => h.label).join(', ')}): ${detail}`];
}

/**
 * For status: entries of the given poolers that point at either database and are paused although bgmig does not
 * hold them (someone ran PAUSE by hand, or another tool): their clients wait. bgmig does not resume what it did not
 * pause; it says so. A pooler that cannot be reached is a problem too.
 */
export async function pausedEntryProblems(refs: readonly PoolerRef[], targets: Record<Color, DbTarget>): Promise<string[]> {
  if (refs.length === 0) return [];
  const held = new Set((await readHeld(targets).catch(() => [])).map((h) => h.label));
  const sides = { blue: endpointOf(targets.blue), green: endpointOf(targets.green) };
  const out: string[] = [];
  await Promise.all(
    refs.map(async (ref) => {
      if (held.has(ref.label)) return;
      let a: PoolerAdmin | null = null;
      try {
        a = await PoolerAdmin.connect(ref);
        for (const e of await a.databases()) {
          if (e.paused && sideOf(e, sides) !== null)
            out.push(
              `entry ${e.name} of pooler ${ref.label} is paused, not by bgmig: its clients wait — RESUME ${e.name} on its admin console when whoever paused it is done`,
            );
        }
      } catch (e) {
        out.push(messageOf(e));
      } finally {
        await a?.close();
      }
    }),
  );
  return out.sort();
}

/** For status: journaled holds and paused entries, one problem sentence each (empty when none). */
export async function heldPoolerProblems(targets: Record<Color, DbTarget>): Promise<string[]> {
  const held = await readHeld(targets).catch(() => []);
  return held.map(
    (h) =>
      `pooler ${h.label} is held by bgmig since ${h.heldAt} (entries ${h.entries.join(', ')}): its clients wait — run \`bgmig db cutover\` or \`bgmig db rollback\` (or \`bgmig db sync status\`) with ${POOLER_PASSWORD_ENV} set to resume it.`,
  );
}
