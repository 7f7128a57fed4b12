/**
 * How a switch hands the applications over, kept out of the engine (src/replication/switchover.ts calls these):
 *
 *   hold clients (pooler PAUSE) → [fence … reverse replication, repoint clients, unfence: the write pause] →
 *   hand over: release the client tier onto the new writer, then the switch hook (Route 53 / --on-switch)
 *
 * A tier that reaches the databases through the name the switch hook changes (`followsSwitch`, AWS mode) is
 * released after the hook instead. On an undo the tier is handed back to the old side; the hook never ran (it
 * comes after the point of no return), so there is nothing to switch back.
 */
import type { Color } from '../core/naming.js';
import type { DbTarget } from '../db/connection.js';
import type { ClientTier, SwitchCallbacks } from './api.js';

const heldAt = new WeakMap<ClientTier, number>();

/** Holds the tier's clients, remembering when (for the report's holdMs). */
export async function holdClients(tier: ClientTier | undefined): Promise<string> {
  if (!tier) return 'no client tier';
  const t = performance.now();
  const detail = await tier.hold();
  heldAt.set(tier, t);
  return detail;
}

/** How long the tier held (null when it did not), forgetting it. */
export function handBack(tier: ClientTier): number | null {
  const t = heldAt.get(tier);
  heldAt.delete(tier);
  // A tier that knows its exact window (first PAUSE → last RESUME) reports that instead of the whole call.
  const own = (tier as { heldMs?: () => number | null }).heldMs?.();
  if (own !== undefined && own !== null) return own;
  return t === undefined ? null : Math.round((performance.now() - t) * 10) / 10;
}

export interface HandOver {
  detail: string;
  /** performance.now() when clients reach the new writer. */
  clientsFollowAt: number;
  holdMs: number | null;
}

/** The switch step: release the tier and run the hook, in the order the tier needs. */
export async function handOver(cb: SwitchCallbacks, active: Color, target: DbTarget): Promise<HandOver> {
  const tier = cb.clients;
  const followsSwitch = (tier as { followsSwitch?: boolean } | undefined)?.followsSwitch === true;
  const parts: string[] = [];
  let follow: number | undefined;
  let holdMs: number | null = null;
  const release = async () => {
    if (!tier) return;
    parts.push(await tier.release(active, target));
    holdMs = handBack(tier);
    // Clients follow at the RESUME, not when the release's bookkeeping is done.
    follow = (tier as { releasedAt?: () => number | undefined }).releasedAt?.() ?? performance.now();
  };
  if (tier && !followsSwitch) await release();
  if (cb.onSwitch) {
    // (Promise.resolve: the hook's declared type is a promise; it keeps linters' inference honest.)
    const r = await Promise.resolve(cb.onSwitch(active, target));
    parts.push(r?.detail ?? `switch hook: active=${active}`);
    follow ??= r?.clientsFollowAt ?? performance.now();
  }
  if (tier && followsSwitch) {
    follow = undefined;
    await release();
  }
  if (parts.length === 0) parts.push('no switch hook');
  return { detail: parts.join('; '), clientsFollowAt: follow ?? performance.now(), holdMs };
}
