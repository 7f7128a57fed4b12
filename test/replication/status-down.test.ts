/**
 * `db sync status` when databases are down (issue 16 kind 2: an outage is exit 1 with its cause). One side down is
 * a degraded status — the report names that side as a problem (exit 3) — because the other side still tells what
 * it can; neither side answering is an outage: exit 1, with one sentence naming both causes and no report.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { SyncStatusReport } from '../../src/replication/api.js';
import { runBgmig } from '../harness/cli.js';
import { bgmig, parseJson, startPair, type Pair } from './helpers.js';

/** A port nothing listens on: connecting is refused at once ("connection refused"), no timeout to wait for. */
async function unusedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

let pair: Pair | null = null;
afterEach(async () => {
  await pair?.stop().catch(() => undefined);
  pair = null;
});

describe('db sync status with databases down', () => {
  it('neither side answers: exit 1, one sentence naming both causes (human and --json)', async () => {
    const [p1, p2] = [await unusedPort(), await unusedPort()];
    const env = { BGMIG_BLUE_URL: `postgres://admin:s3cret@127.0.0.1:${p1}/app`, BGMIG_GREEN_URL: `postgres://admin:s3cret@127.0.0.1:${p2}/app` };
    const human = await runBgmig(['db', 'sync', 'status'], { env, timeoutMs: 60_000 });
    expect(human.code, human.stdout + human.stderr).toBe(1);
    expect(human.stdout).toBe('');
    const lines = human.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(
        `^error: Neither database could be reached, so replication cannot be judged: blue failed with "[^"]*admin@127\\.0\\.0\\.1:${p1}/app[^"]*refused[^"]*" and green failed with "[^"]*admin@127\\.0\\.0\\.1:${p2}/app[^"]*refused[^"]*"\\.$`,
        'i',
      ),
    );
    expect(human.stderr).not.toContain('s3cret');

    const json = await runBgmig(['db', 'sync', 'status', '--json'], { env, timeoutMs: 60_000 });
    expect(json.code).toBe(1);
    const doc = JSON.parse(json.stdout) as { error: { exitCode: number; kind: string; message: string; details: { unreachable: string[] } } };
    expect(doc.error).toMatchObject({ exitCode: 1, kind: 'failure', details: { unreachable: ['blue', 'green'] } });
    expect(doc.error.message).toMatch(/^Neither database could be reached/);
  });

  it('one side down stays degraded (exit 3): the report, with that side named as a problem', async () => {
    pair = await startPair();
    const start = await bgmig(pair, ['db', 'sync', 'start', '--yes']);
    expect(start.code, start.stderr).toBe(0);
    await pair.green.stop();
    const r = await bgmig(pair, ['db', 'sync', 'status', '--json']);
    expect(r.code, r.stderr).toBe(3);
    const rep = parseJson<SyncStatusReport>(r);
    expect(rep.healthy).toBe(false);
    expect(rep.sides.green.reachable).toBe(false);
    expect(rep.sides.blue.reachable).toBe(true);
    expect(rep.problems.some((p) => p.startsWith('green is unreachable: '))).toBe(true);
  });
});
