/** The replication engine's entry points (see api.ts for the contract). */
export * from './api.js';
export { LocalExecutor } from './executor.js';
export { syncStart, syncStop } from './sync.js';
export { syncRefresh } from './refresh.js';
export { databaseSection, syncStatus, renderSyncStatus, statusExitCode } from './status.js';
export { cutover, rollback } from './switch.js';
