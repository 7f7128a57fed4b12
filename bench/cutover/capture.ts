/**
 * Captures real human output of the `bgmig db` commands in direct mode against two local servers (used for the
 * README): `npx tsx bench/cutover/capture.ts`. Passwords never appear (the URLs are passed through the environment).
 */
import { bgmig, startPair, startWriters } from '../../test/replication/helpers.js';

const pair = await startPair({ seedRows: 100_000 });
const writers = startWriters(pair, 4);
try {
  const show = async (args: string[]) => {
    const r = await bgmig(pair, args);
    const text = `${r.stdout}${r.stderr}`.replaceAll(pair.dir, '/tmp/demo');
    process.stdout.write(`$ bgmig ${args.map((a) => (a.includes(' ') ? `'${a.replaceAll(pair.dir, '/tmp/demo')}'` : a)).join(' ')}\n${text}(exit ${r.code})\n\n`);
  };
  await show(['db', 'sync', 'start', '--yes']);
  await show(['db', 'sync', 'status']);
  await show(['db', 'cutover', '--yes', '--on-switch', pair.onSwitch]);
  await show(['db', 'sync', 'status']);
  await show(['db', 'rollback', '--yes', '--on-switch', pair.onSwitch]);
  await show(['db', 'cutover', '--yes', '--max-pause', '1ms', '--skip-validation', '--on-switch', pair.onSwitch]);
  await show(['db', 'sync', 'stop', '--yes']);
} finally {
  await writers.stop();
  await pair.stop();
}
