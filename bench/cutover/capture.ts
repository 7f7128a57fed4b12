/**
 * Captures real human output of the `bgmig db` commands in direct mode against two local servers (used for the
 * README): `npx tsx bench/cutover/capture.ts`. Passwords never appear (the URLs are passed through the environment).
 */
import { ADMIN_PASSWORD, startPgBouncer } from '../../test/pooler/pgbouncer.js';
import { APP_PASSWORD, APP_USER, DB, bgmig, startPair, startWriters } from '../../test/replication/helpers.js';

const pair = await startPair({ seedRows: 100_000 });
// Same columns on both sides, so the way back carries every column.
await pair.blue.sql(`ALTER TABLE public.orders ADD COLUMN extra text NOT NULL DEFAULT 'green-only'`, DB);
const writers = startWriters(pair, 4);
const pooler = await startPgBouncer({ databases: { [DB]: { host: '127.0.0.1', port: pair.blue.port, dbname: DB } }, users: { [APP_USER]: APP_PASSWORD } });
try {
  const show = async (args: string[]) => {
    const r = await bgmig(pair, args, { BGMIG_POOLER_PASSWORD: ADMIN_PASSWORD });
    const text = `${r.stdout}${r.stderr}`.replaceAll(pair.dir, '/tmp/demo').replaceAll(String(pooler.port), '6432');
    process.stdout.write(
      `$ bgmig ${args.map((a) => (a.includes(' ') ? `'${a.replaceAll(pair.dir, '/tmp/demo')}'` : a.replaceAll(String(pooler.port), '6432'))).join(' ')}\n${text}(exit ${r.code})\n\n`,
    );
  };
  await show(['db', 'sync', 'start', '--yes']);
  await show(['db', 'sync', 'status']);
  await show(['db', 'cutover', '--yes', '--on-switch', pair.onSwitch]);
  await show(['db', 'sync', 'status']);
  await show(['db', 'rollback', '--yes', '--on-switch', pair.onSwitch]);
  await show(['db', 'cutover', '--yes', '--max-pause', '1ms', '--skip-validation', '--on-switch', pair.onSwitch]);
  // Through a PgBouncer pooler (issue 13): held, repointed, released.
  await show(['db', 'cutover', '--yes', '--skip-validation', '--pooler', pooler.adminUrl, '--on-switch', pair.onSwitch]);
  await show(['db', 'rollback', '--yes', '--pooler', pooler.adminUrl, '--on-switch', pair.onSwitch]);
  await show(['db', 'sync', 'stop', '--yes']);
} finally {
  await writers.stop();
  await pooler.stop();
  await pair.stop();
}
