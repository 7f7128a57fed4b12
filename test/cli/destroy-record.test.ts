/**
 * Destroy after a database cutover: CloudFormation deletes the db record by its template value, so destroy must
 * first point the live record back at the colour the deployed template names (moto holds zone and record).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AwsClients } from '../../src/aws/clients.js';
import { realignDbRecord } from '../../src/cli/commands/destroy.js';
import { requireStack } from '../../src/deployed/stack.js';
import { type Fixture, provisionFixture } from '../harness/aws-fixture.js';
import { type Moto, startMoto } from '../harness/moto.js';
import { memoryIo } from './support/memory-io.js';

const S = 'rmrec';

describe('destroy re-points a moved db record before deleting', () => {
  let moto: Moto;
  let fx: Fixture;
  let aws: AwsClients;
  beforeAll(async () => {
    moto = await startMoto();
    Object.assign(process.env, moto.env);
    fx = await provisionFixture(moto, S);
    aws = new AwsClients({ region: 'us-east-1', endpointUrl: moto.endpoint });
  });
  afterAll(async () => {
    await moto?.stop();
  });

  it('after a cutover to green, the record goes back to the deployed blue endpoint', async () => {
    await fx.setActiveDatabase('green');
    expect(await fx.readDbRecord()).toBe(fx.clusterEndpoint.green);
    const { io, stdout } = memoryIo({ yes: true });
    await realignDbRecord(aws, await requireStack(aws, S), io);
    expect(await fx.readDbRecord()).toBe(fx.clusterEndpoint.blue);
    expect(stdout()).toMatch(/back at the blue cluster/);
  });

  it('does nothing when the record already names the deployed colour', async () => {
    const { io, stdout } = memoryIo({ yes: true });
    await realignDbRecord(aws, await requireStack(aws, S), io);
    expect(await fx.readDbRecord()).toBe(fx.clusterEndpoint.blue);
    expect(stdout()).toBe('');
  });
});
