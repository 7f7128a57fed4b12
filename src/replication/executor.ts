/**
 * LocalExecutor: runs the engine in this process against two admin connections. Used by direct mode, and by the
 * cutover Lambda (with its Route 53 switch hook) in AWS mode.
 */
import { describeTarget } from '../db/connection.js';
import type {
  Callbacks,
  SwitchoverOptions,
  Executor,
  SwitchCallbacks,
  SwitchReport,
  SyncStartOptions,
  SyncStartReport,
  SyncStatusOptions,
  SyncStatusReport,
  SyncRefreshOptions,
  SyncRefreshReport,
  SyncStopOptions,
  SyncStopReport,
  Targets,
} from './api.js';
import { syncRefresh } from './refresh.js';
import { syncStatus } from './status.js';
import { cutover, rollback } from './switchover.js';
import { syncStart, syncStop } from './sync.js';

export class LocalExecutor implements Executor {
  readonly mode = 'direct' as const;
  constructor(private readonly targets: Targets) {}

  describe(): { blue: string; green: string } {
    return { blue: describeTarget(this.targets.blue), green: describeTarget(this.targets.green) };
  }

  syncStart(opts: SyncStartOptions, cb?: Callbacks): Promise<SyncStartReport> {
    return syncStart(this.targets, opts, cb);
  }

  syncStatus(opts: SyncStatusOptions): Promise<SyncStatusReport> {
    return syncStatus(this.targets, opts);
  }

  syncStop(opts: SyncStopOptions, cb?: Callbacks): Promise<SyncStopReport> {
    return syncStop(this.targets, opts, cb);
  }

  syncRefresh(opts: SyncRefreshOptions, cb?: Callbacks): Promise<SyncRefreshReport> {
    return syncRefresh(this.targets, opts, cb);
  }

  cutover(opts: SwitchoverOptions, cb?: SwitchCallbacks): Promise<SwitchReport> {
    return cutover(this.targets, opts, cb);
  }

  rollback(opts: SwitchoverOptions, cb?: SwitchCallbacks): Promise<SwitchReport> {
    return rollback(this.targets, opts, cb);
  }
}
