/**
 * Rotation test environment on top of the shared aws-fixture: moto holds the secrets, clusters and services; real
 * local PostgreSQL servers play the colour's database (direct mode applies passwords with ALTER ROLE and proves
 * them with real logins). Plus readers that look at Secrets Manager by explicit VersionId/VersionStage only.
 */
import { DescribeSecretCommand, GetSecretValueCommand, ListSecretVersionIdsCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { DescribeServicesCommand, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { PassThrough, Writable } from 'node:stream';
import { type GlobalOptions, type CommandContext, makeContext } from '../../src/cli/context.js';
import { Io } from '../../src/cli/io.js';
import type { Color } from '../../src/core/naming.js';
import type { RotationSpec } from '../../src/rotation/rotate.js';
import type { Credentials } from '../../src/rotation/targets.js';
import type { Fixture } from '../harness/aws-fixture.js';

export const MASTER_USER = 'bgmig_admin';
export const APP_USER = 'bgmig_app';

export interface SecretSnapshot {
  stages: Record<string, string[]>;
  tags: Record<string, string>;
  /** Version id → the secret string stored in it. */
  values: Record<string, string>;
}

/** The full state of a secret, every version read by its id (and checked to be that version). */
export async function snapshotSecret(fx: Fixture, secretId: string): Promise<SecretSnapshot> {
  const sm = fx.clients.secrets;
  const d = await sm.send(new DescribeSecretCommand({ SecretId: secretId }));
  const list = await sm.send(new ListSecretVersionIdsCommand({ SecretId: secretId, IncludeDeprecated: true }));
  const values: Record<string, string> = {};
  for (const v of list.Versions ?? []) {
    const id = v.VersionId ?? '';
    const got = await sm.send(new GetSecretValueCommand({ SecretId: secretId, VersionId: id }));
    if (got.VersionId !== id) throw new Error(`asked for ${id}, got ${got.VersionId}`);
    values[id] = got.SecretString ?? '';
  }
  const tags: Record<string, string> = {};
  for (const t of d.Tags ?? []) if (t.Key) tags[t.Key] = t.Value ?? '';
  return { stages: d.VersionIdsToStages ?? {}, tags, values };
}

export function versionWith(s: SecretSnapshot, stage: string): string | undefined {
  return Object.entries(s.stages).find(([, l]) => l.includes(stage))?.[0];
}

/** The password stored in a version, read by VersionId and VersionStage together. */
export async function passwordAt(fx: Fixture, secretId: string, versionId: string, stage: string): Promise<string> {
  const got = await fx.clients.secrets.send(new GetSecretValueCommand({ SecretId: secretId, VersionId: versionId, VersionStage: stage }));
  if (got.VersionId !== versionId) throw new Error(`asked for ${stage} ${versionId}, got ${got.VersionId}`);
  return (JSON.parse(got.SecretString ?? '{}') as { password: string }).password;
}

/** Every password any version holds, except the aws-fixture's one-letter placeholder (it matches any text). */
export function allPasswords(s: SecretSnapshot): string[] {
  return Object.values(s.values)
    .map((v) => (JSON.parse(v) as { password: string }).password)
    .filter((pw) => pw !== FIXTURE_PLACEHOLDER_PASSWORD);
}
const FIXTURE_PLACEHOLDER_PASSWORD = 'p';

/** Stores {username, password, …} as the secret's AWSCURRENT (the fixture's placeholder value is replaced). */
export async function setSecret(fx: Fixture, secretId: string, value: Record<string, unknown>): Promise<void> {
  await fx.clients.secrets.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: JSON.stringify(value) }));
}

/** The harness's strict login probe (28P01 → false, anything else throws). */
export { canLogin } from '../harness/postgres.js';

/**
 * moto creates services with 0 of N tasks running (so never "stable"); an UpdateService with a desired count
 * makes it report them all running, which is what a healthy service looks like to DescribeServices.
 */
export async function makeServiceStable(fx: Fixture, color: Color): Promise<void> {
  await fx.clients.ecs.send(new UpdateServiceCommand({ cluster: fx.ecsClusterName, service: fx.serviceName[color], desiredCount: 2 }));
}

export async function primaryDeploymentId(fx: Fixture, color: Color): Promise<string | undefined> {
  const res = await fx.clients.ecs.send(new DescribeServicesCommand({ cluster: fx.ecsClusterName, services: [fx.serviceName[color]] }));
  return res.services?.[0]?.deployments?.find((d) => d.status === 'PRIMARY')?.id;
}

/** Captures everything a command writes, and answers prompts from a script (as a person at a terminal would). */
export class CapturedIo {
  out = '';
  err = '';
  readonly io: Io;
  private readonly stdin = Object.assign(new PassThrough(), { isTTY: true });
  constructor(opts: { yes: boolean; verbose?: boolean; json?: boolean; answers?: string[] }) {
    const answers = [...(opts.answers ?? [])];
    const sink = (onText: (t: string) => void) =>
      new Writable({
        write: (chunk: Buffer, _enc, cb) => {
          onText(chunk.toString());
          cb();
        },
      });
    const stdout = sink((t) => (this.out += t));
    const stderr = sink((t) => {
      this.err += t;
      // Prompts go to stderr and end with "[y/N] ": answer the next one only once it is asked.
      if (t.endsWith('[y/N] ')) this.stdin.write(`${answers.shift() ?? 'n'}\n`);
    });
    this.io = new Io({ json: opts.json ?? false, color: false, verbose: opts.verbose ?? false, yes: opts.yes }, { stdout, stderr, stdin: this.stdin });
  }
  get all(): string {
    return this.out + this.err;
  }
}

export function context(fx: Fixture, io: Io): CommandContext {
  const globals: GlobalOptions = {
    suffix: fx.suffix,
    region: fx.region,
    endpointUrl: fx.env.AWS_ENDPOINT_URL,
    json: io.json,
    color: false,
    verbose: io.verbose,
    yes: io.yes,
  };
  return makeContext(globals, io);
}

/**
 * Decorates a rotation so that `after` runs right after each database's real set step: another actor, or a local
 * server that mirrors an emulated cluster's password.
 */
export function afterEachApply(spec: RotationSpec, after: (c: Credentials) => Promise<void>): RotationSpec {
  return {
    ...spec,
    databases: spec.databases.map((db) => ({
      ...db,
      applier: {
        target: db.applier.target,
        call: db.applier.call,
        apply: async (c: Credentials) => {
          await db.applier.apply(c);
          await after(c);
        },
      },
    })),
  };
}
