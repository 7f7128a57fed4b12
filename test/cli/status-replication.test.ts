/**
 * The database replication section of `bgmig status`: read through the cutover function in AWS mode (moto cannot
 * run it, so the section is unreadable there and status says so, degraded), and rendered from a real logical
 * replication pair when the executor is local.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AwsClients } from '../../src/aws/clients.js';
import { exitCodeOf, renderStatus, runStatus } from '../../src/cli/commands/status.js';
import { emit } from '../../src/cli/verb.js';
import { parseDbUrl } from '../../src/db/connection.js';
import { LocalExecutor } from '../../src/replication/executor.js';
import { type Fixture, provisionFixture } from '../harness/aws-fixture.js';
import { runBgmig } from '../harness/cli.js';
import { type Moto, startMoto } from '../harness/moto.js';
import { DB, type Pair, bgmig as bgmigPair, startPair } from '../replication/helpers.js';
import { memoryIo } from './support/memory-io.js';

const S = 'strepl';

describe('status: database replication section', () => {
  let moto: Moto;
  let f: Fixture;
  let pair: Pair;
  let aws: AwsClients;
  beforeAll(async () => {
    [moto, pair] = await Promise.all([startMoto(), startPair()]);
    Object.assign(process.env, moto.env);
    f = await provisionFixture(moto, S);
    aws = new AwsClients({ region: 'us-east-1', endpointUrl: moto.endpoint });
  });
  afterAll(async () => {
    await Promise.all([moto?.stop(), pair?.stop()]);
  });

  it('by default asks the cutover function; when it cannot run, the section is unreadable and status is degraded (exit 3)', async () => {
    const r = await runBgmig(['--suffix', S, 'status', '--json'], { env: f.env });
    expect(r.code).toBe(3);
    const snap = JSON.parse(r.stdout) as { degraded: string[]; errors: Record<string, string> };
    expect(snap.degraded).toContain('could not read database.replication');
    expect(snap.errors['database.replication']).toMatch(/lambda-db-cutover-strepl/);
  });

  it('renders the live replication state of a syncing pair and stays healthy', async () => {
    const start = await bgmigPair(pair, ['db', 'sync', 'start', '--yes', '--json']);
    expect(start.code, start.stderr).toBe(0);
    const executor = new LocalExecutor({ blue: parseDbUrl(pair.blueUrl, 'blue'), green: parseDbUrl(pair.greenUrl, 'green') });
    const { io, stdout } = memoryIo();
    const code = emit(io, await runStatus({ suffix: S, executorFactory: async () => executor }, { aws }), renderStatus, exitCodeOf);
    expect(code, stdout()).toBe(0);
    expect(stdout()).toMatch(/blue\s*(→|->)\s*green/);
    expect(stdout()).toMatch(/Overall\s+healthy/);
  });

  /** green is fenced (read-only by default), so even the superuser lifts that for its own session first. */
  async function alterSubscription(how: 'ENABLE' | 'DISABLE'): Promise<void> {
    const c = await pair.green.connect(DB);
    try {
      await c.query('SET default_transaction_read_only = off');
      await c.query(`ALTER SUBSCRIPTION bgmig_sub_blue_to_green ${how}`);
    } finally {
      await c.end();
    }
  }

  it('turns degraded when the apply side stops (subscription disabled on green)', async () => {
    await alterSubscription('DISABLE');
    try {
      const executor = new LocalExecutor({ blue: parseDbUrl(pair.blueUrl, 'blue'), green: parseDbUrl(pair.greenUrl, 'green') });
      const { io, stdout } = memoryIo({ json: true });
      const code = emit(io, await runStatus({ suffix: S, executorFactory: async () => executor }, { aws }), renderStatus, exitCodeOf);
      expect(code).toBe(3);
      const snap = JSON.parse(stdout()) as { degraded: string[] };
      expect(snap.degraded).toContain(
        'subscription bgmig_sub_blue_to_green on green is disabled, so nothing is applied and blue keeps its WAL — enable it with ALTER SUBSCRIPTION bgmig_sub_blue_to_green ENABLE on green',
      );
    } finally {
      await alterSubscription('ENABLE');
    }
  });
});
