/**
 * What the rehearsal stands up before the first command: the two PostgreSQL servers with the sample schema (and
 * green's migration), the AWS emulator with the `bgmig-rehearsal` stack, and the name service the sample
 * application and the switch hook share — the db record on the emulator, or a name in memory without it.
 */
import pg from 'pg';
import { dnsRecordsOver, secretVersionsOver } from '../aws/sdk.js';
import type { Color } from '../core/naming.js';
import { names } from '../core/naming.js';
import { colorOfEndpoint, dbRecordFromOutputs, readDbRecord, switchActiveDatabase } from '../dns/active-record.js';
import type { SwitchHook } from '../replication/api.js';
import { type ProvisionedStack, provisionStack, setDesiredCount } from './aws-stack.js';
import { type Emulator, startEmulator } from './emulator.js';
import { type LocalPg, type PgBinaries, type RunAs, startServer } from './postgres.js';
import { BLUE_SCHEMA_SQL, GREEN_MIGRATION_SQL, SEED_SQL } from './sample-app.js';
import type { LiveTraffic } from './traffic.js';
import { REHEARSAL_SUFFIX, type Walk } from './walk.js';

/** The application database on both servers (the name the stack's db init creates). */
export const APP_DB = 'app';

/** Both servers, started in parallel, registered for cleanup; then the schema on both and history on blue. */
export async function startDatabases(walk: Walk, workspace: string, bins: PgBinaries, runAs: RunAs | undefined): Promise<Record<Color, LocalPg>> {
  const [blue, green] = await walk.setup('start blue and green PostgreSQL (wal_level=logical)', () =>
    Promise.all(
      (['blue', 'green'] as const).map(async (c) => {
        const s = await startServer(workspace, c, bins, runAs);
        walk.cleanup.add(`${c} PostgreSQL (pid ${s.pid})`, () => s.stop(), [s.pid]);
        return s;
      }),
    ),
  );
  const servers: Record<Color, LocalPg> = { blue: blue as LocalPg, green: green as LocalPg };
  await walk.setup('load the sample schema on blue, the schema + expand-only migration on green', () =>
    Promise.all(
      (['blue', 'green'] as const).map(async (c) => {
        const admin = new pg.Client({ connectionString: servers[c].url('postgres') });
        await admin.connect();
        await admin.query(`CREATE DATABASE ${APP_DB}`);
        await admin.end();
        const db = new pg.Client({ connectionString: servers[c].url(APP_DB) });
        await db.connect();
        try {
          await db.query(BLUE_SCHEMA_SQL);
          await db.query(c === 'blue' ? SEED_SQL : GREEN_MIGRATION_SQL);
        } finally {
          await db.end();
        }
      }),
    ),
  );
  return servers;
}

/**
 * The emulator and the stack on it. The database secrets hold what the real ones would (the servers' admin
 * logins; the application password), and the commands' SDK clients are pointed at the emulator for this process.
 */
export async function startAws(
  walk: Walk,
  motoVersion: string,
  servers: Record<Color, LocalPg>,
  appPassword: string,
): Promise<{ emulator: Emulator; stack: ProvisionedStack }> {
  const emulator = await walk.setup('start the AWS emulator', async () => {
    const e = await startEmulator(motoVersion);
    walk.cleanup.add(`AWS emulator (pid ${e.pid})`, () => e.stop(), [e.pid]);
    walk.line(`   ${e.version} at ${e.endpoint}`);
    return e;
  });
  // The commands build their SDK clients from the standard chain: point it at the emulator, for this process only.
  Object.assign(process.env, emulator.env);
  const admin = (s: LocalPg) => ({ engine: 'postgres', host: '127.0.0.1', port: s.port, username: 'postgres', password: s.password, dbname: APP_DB });
  const stack = await walk.setup(
    `provision ${names(REHEARSAL_SUFFIX).stack} on the emulator (listener, target groups, alarms, secrets, zone + record, bucket)`,
    () =>
      provisionStack(emulator.endpoint, REHEARSAL_SUFFIX, {
        secretValues: { blue: admin(servers.blue), green: admin(servers.green), app: { engine: 'postgres', username: 'bgmig_app', password: appPassword } },
      }),
  );
  // A deployed stack's services run their tasks; moto reports them running once a desired count is set.
  await setDesiredCount(stack, 2);
  return { emulator, stack };
}

export interface NameService {
  /** Which database the name points at now (read at every connect, as a TTL-5 s DNS name would be). */
  resolveName: () => Promise<Color>;
  /** The switch: the cutover function's Route 53 code on the emulator's record, or the name in memory. */
  switchHook: SwitchHook;
  /** The application password as the application reads it now (the secret's AWSCURRENT). */
  readPassword: () => Promise<string>;
  /** Samples the listener's weights and the name onto the timeline every 50 ms (the caller clears it). */
  sampler: NodeJS.Timeout;
}

export function nameService(walk: Walk, stack: ProvisionedStack | undefined, live: LiveTraffic, appPassword: string): NameService {
  const { tl } = walk;
  if (!stack) {
    // Without the emulator the name lives in memory and the switch hook moves it (what --on-switch does by hand).
    let active: Color = 'blue';
    return {
      resolveName: async () => active,
      switchHook: async (to) => {
        active = to;
        tl.event(`active name → ${to}`);
      },
      readPassword: async () => appPassword,
      sampler: setInterval(() => tl.active(active), 50),
    };
  }
  const { ref, endpoints } = dbRecordFromOutputs(stack.outputs, stack.stackName);
  const r53 = dnsRecordsOver(async () => stack.clients.route53);
  const secrets = secretVersionsOver(async () => stack.clients.secrets);
  const resolveName = async (): Promise<Color> => colorOfEndpoint((await readDbRecord(r53, ref))?.value, endpoints) ?? 'blue';
  return {
    resolveName,
    // The cutover function's own switch: UPSERT, wait for INSYNC, read back.
    switchHook: async (active) => {
      await switchActiveDatabase(r53, ref, endpoints, active, { pollMs: 200 });
      tl.event(`db record → ${active}`);
    },
    readPassword: async () => {
      const v = await secrets.value(stack.secretArn.app, { versionStage: 'AWSCURRENT' });
      return (JSON.parse(v.secretString ?? '{}') as { password?: string }).password ?? '';
    },
    sampler: setInterval(() => {
      void stack
        .readWeights()
        .then((w) => {
          live.weights = w;
          tl.weights(w);
        })
        .catch(() => undefined);
      void resolveName()
        .then((c) => tl.active(c))
        .catch(() => undefined);
    }, 50),
  };
}
