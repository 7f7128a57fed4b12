/** `bgmig db sync`: the group only; each sub-verb is its own module (./sync-start.ts, -status, -refresh, -stop). */
import type { Command } from 'commander';
import { register as registerRefresh } from './sync-refresh.js';
import { register as registerStart } from './sync-start.js';
import { register as registerStatus } from './sync-status.js';
import { register as registerStop } from './sync-stop.js';

export function register(db: Command): void {
  const sync = db.command('sync').description('replication between blue and green: start, status, refresh, stop');
  registerStart(sync);
  registerStatus(sync);
  registerRefresh(sync);
  registerStop(sync);
}
