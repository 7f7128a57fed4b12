/**
 * `bgmig db`: the database side of a blue-green migration. Subcommands live in ./db/, one module per verb (the shape
 * of src/cli/verb.ts): init (application role), sync start|status|refresh|stop, cutover, rollback. Each works in
 * direct mode (--blue-url/--green-url, the engine runs here) and AWS mode (--suffix, the engine runs in the cutover
 * function).
 */
import type { Command } from 'commander';
import { register as registerCutover } from './db/cutover.js';
import { register as registerInit } from './db/init.js';
import { register as registerRollback } from './db/rollback.js';
import { register as registerSync } from './db/sync.js';

export function register(program: Command): void {
  const db = program
    .command('db')
    .description('database replication and cutover: init, sync start|status|stop, cutover, rollback')
    .addHelpText(
      'after',
      `
Procedure: bgmig db init → bgmig db sync start → bgmig validate → bgmig db cutover → bgmig promote … → bgmig db sync stop

Examples:
  $ bgmig db sync status --suffix shop-prod
  $ BGMIG_BLUE_URL=postgres://… BGMIG_GREEN_URL=postgres://… bgmig db cutover --on-switch './repoint.sh'`,
    );
  registerInit(db);
  registerSync(db);
  registerCutover(db);
  registerRollback(db);
}
