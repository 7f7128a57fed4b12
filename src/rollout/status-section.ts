/**
 * The rollout part of `bgmig status`: a running rollout (from its lease: holder, step k/n, bake remaining, last
 * check) and whether the rollback guard is armed. A disarmed guard while green has traffic is a degraded state: a
 * green alarm would then roll nothing back unless a bgmig process is watching.
 */
import type { AwsPorts } from '../aws/ports.js';
import { output, type StackInfo } from '../deployed/stack.js';
import type { Weights } from '../core/config.js';
import { OutputKey } from '../core/outputs.js';
import { formatMs } from '../core/units.js';
import { type GuardState, readGuardState } from './guard-state.js';
import { readLease } from './lease.js';
import { judgeLease, type LeaseBody } from './plan.js';
import { firstLine, messageOf, WHOLE_LINE } from '../core/errors.js';

export interface RolloutSection {
  /** The lease of a running (or stale) rollout, if any. */
  running?: (LeaseBody & { expired: boolean; bakeRemainingMs?: number | undefined }) | undefined;
  guard: GuardState | { error: string };
}

export async function readRolloutSection(aws: Pick<AwsPorts, 'objects' | 'guardRule'>, stack: StackInfo, suffix: string): Promise<RolloutSection> {
  const bucket = output(stack, OutputKey.ArtifactsBucketName);
  const [lease, guard] = await Promise.all([
    readLease(aws.objects, bucket),
    readGuardState(aws.guardRule, suffix).catch((e: unknown) => ({ error: firstLine(messageOf(e), WHOLE_LINE) })),
  ]);
  const now = Date.now();
  const running = lease
    ? {
        ...lease.body,
        expired: judgeLease(lease.body, now).state === 'expired',
        bakeRemainingMs: lease.body.bakeEndsAt ? Math.max(0, Date.parse(lease.body.bakeEndsAt) - now) : undefined,
      }
    : undefined;
  return { running, guard };
}

/** Degraded reasons of this section. */
export function rolloutDegraded(r: RolloutSection, weights: Weights | undefined): string[] {
  const out: string[] = [];
  if ('error' in r.guard) out.push(`could not read the rollback guard (${r.guard.error})`);
  else if (r.guard.deployed && !r.guard.armed && weights && weights.green > 0)
    out.push(`the rollback guard is disarmed while green has ${weights.green} % of traffic`);
  if (r.running?.expired)
    out.push(`a rollout lease (${r.running.holder}) expired without release: its holder stopped at step ${r.running.step}/${r.running.steps}`);
  return out;
}

/** Status lines ("Rollout …", "Guard …"). */
export function renderRolloutLines(
  r: RolloutSection | undefined,
  paint: { red: (s: string) => string; green: (s: string) => string; yellow: (s: string) => string },
): string[] {
  if (!r) return [];
  const lines: string[] = [];
  const l = r.running;
  if (l) {
    const bake = l.bakeRemainingMs !== undefined ? `, bake ${formatMs(l.bakeRemainingMs)} left` : '';
    const check = l.lastCheck ? `, last check ${l.lastCheck.status} at ${l.lastCheck.at} (${l.lastCheck.summary})` : '';
    lines.push(
      `Rollout     ${l.expired ? paint.red('STALE') : paint.yellow('running')} ${l.rolloutId} by ${l.holder}: step ${l.step}/${l.steps} (green ${l.green} %)${bake}${check}; since ${l.acquiredAt}`,
    );
  } else lines.push('Rollout     none running');
  const g = r.guard;
  lines.push(
    `Guard       ${'error' in g ? paint.red(`unavailable: ${g.error}`) : g.armed ? paint.green(g.summary) : g.deployed ? paint.red(g.summary) : paint.yellow(g.summary)}`,
  );
  return lines;
}
