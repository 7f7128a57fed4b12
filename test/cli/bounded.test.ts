/**
 * Issue 16, kind 1: every call bounded, every wait visible. The endpoint here is the worst kind: a TCP server that
 * accepts the connection and never answers (no refusal, no reset — what a black-holed proxy or a hung emulator
 * does). The real bgmig executable must exit 1 with its "Cannot reach" sentence within the documented bound, and
 * say what it waits for while it waits.
 */
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AwsClients, DEFAULT_AWS_TIMEOUT_MS, LAMBDA_INVOKE_BOUND_MS } from '../../src/aws/clients.js';
import { WAIT_LINE_INTERVAL_MS, waitReporter } from '../../src/cli/commands/rotate-secret-manual.js';
import { toBgmigError } from '../../src/cli/context.js';
import { checkLogin, connect, describeDbError, parseDbUrl } from '../../src/db/connection.js';
import { startMoto } from '../harness/moto.js';
import { startPostgres } from '../harness/postgres.js';
import { runBgmig } from '../harness/cli.js';

const servers: net.Server[] = [];
/** Two silent endpoints (blue and green must be two different servers). */
let port: number;
let port2: number;
const sockets = new Set<net.Socket>();

async function silentServer(): Promise<number> {
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('data', () => undefined); // read and never answer
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

beforeAll(async () => {
  [port, port2] = await Promise.all([silentServer(), silentServer()]);
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
});

const env = () => ({ AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_ENDPOINT_URL: `http://127.0.0.1:${port}` });
/**
 * Process start-up, module loading and a late timer on a loaded machine, on top of the bound: with the other test
 * suites running, the load average on these 2 cores reached 25 and a `rollback` with a 3 s bound took 5.5 s. The
 * tests prove that the command returns, with the right sentence, not a latency figure.
 */
const STARTUP_MARGIN_MS = 15_000;

describe('an AWS endpoint that accepts and never answers', () => {
  it('rollback, status and promote exit 1 with "Cannot reach" within --call-timeout, saying what they waited for', async () => {
    const results = await Promise.all(
      [['rollback'], ['status', '--no-replication'], ['promote', '--weight', '10']].map((args) =>
        runBgmig(['--suffix', 'hang', '--call-timeout', '3s', ...args], { env: env(), timeoutMs: 60_000 }),
      ),
    );
    for (const r of results) {
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/^error: Cannot reach the AWS endpoint http:\/\/127\.0\.0\.1:\d+ \(CloudFormation DescribeStacks got no answer within 3 s/m);
      // The wait was announced before it ended (after 2 s, with its bound).
      expect(r.stderr).toContain('waiting for CloudFormation DescribeStacks (gives up after 3 s)');
      expect(r.durationMs).toBeLessThan(3_000 + STARTUP_MARGIN_MS);
      expect(r.durationMs).toBeGreaterThanOrEqual(2_900);
    }
  });

  it('BGMIG_AWS_TIMEOUT sets the bound too, and --json gets the error document with every key', async () => {
    const r = await runBgmig(['--suffix', 'hang', '--json', 'rollback'], { env: { ...env(), BGMIG_AWS_TIMEOUT: '2' }, timeoutMs: 60_000 });
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout) as { error: Record<string, unknown> };
    expect(Object.keys(doc.error).sort()).toEqual(['code', 'details', 'exitCode', 'kind', 'message']);
    expect(doc.error).toMatchObject({ exitCode: 1, kind: 'failure', code: null, details: null });
    expect(doc.error.message).toMatch(/within 2 s/);
    expect(r.durationMs).toBeLessThan(2_000 + STARTUP_MARGIN_MS);
  });

  it('the default bound is 20 s per call and Lambda invocations get the Lambda maximum plus a margin', async () => {
    expect(DEFAULT_AWS_TIMEOUT_MS).toBe(20_000);
    expect(LAMBDA_INVOKE_BOUND_MS).toBe(930_000);
    // In-process: one call against the hung endpoint with a 1.5 s bound fails as a one-sentence "Cannot reach".
    const aws = new AwsClients({ region: 'us-east-1', endpointUrl: `http://127.0.0.1:${port}`, timeoutMs: 1_500 });
    process.env.AWS_ACCESS_KEY_ID ??= 'testing';
    process.env.AWS_SECRET_ACCESS_KEY ??= 'testing';
    // The endpoint never answers: returning at all is the bound at work, and only bgmig's bound says "within 2 s".
    const { DescribeListenersCommand } = await import('@aws-sdk/client-elastic-load-balancing-v2');
    const err = await (await aws.elbv2()).send(new DescribeListenersCommand({ ListenerArns: ['arn:x'] })).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(toBgmigError(err, { aws }).message).toMatch(/^Cannot reach the AWS endpoint .* \(ElasticLoadBalancingV2 DescribeListeners got no answer within 2 s/);
  });

  it('a malformed --call-timeout is bad input before any call', async () => {
    for (const t of ['soon', '0', '2h']) {
      const r = await runBgmig(['--suffix', 'hang', '--call-timeout', t, 'rollback'], { env: env() });
      expect(r.code, t).toBe(2);
      expect(r.stderr).toMatch(/--call-timeout \/ BGMIG_AWS_TIMEOUT must be/);
      expect(r.stderr).not.toContain('waiting for');
    }
  });
});

/**
 * An endpoint that answers bgmig's own AWS calls (forwarded to the emulator) and never answers the CDK toolkit's
 * (its SDK clients say "aws-cdk" in their user agent; bgmig's own never do): the toolkit's calls are the ones under test,
 * and bgmig's own calls before them must succeed to reach them.
 */
async function toolkitHangingProxy(target: string): Promise<{ endpoint: string; close(): Promise<void> }> {
  const held = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    const agent = `${req.headers['user-agent'] ?? ''} ${req.headers['x-amz-user-agent'] ?? ''}`;
    if (agent.includes('aws-cdk')) {
      held.add(res);
      req.resume(); // read and never answer
      return;
    }
    const url = new URL(req.url ?? '/', target);
    const upstream = http.request(url, { method: req.method, headers: { ...req.headers, host: url.host } }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    close: async () => {
      for (const r of held) r.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe("the CDK toolkit's own AWS calls (deploy, diff, destroy, bootstrap) against an endpoint that never answers them", () => {
  it('bootstrap and diff exit 1 with the "Cannot reach" sentence of --call-timeout instead of hanging', async () => {
    const moto = await startMoto();
    const proxy = await toolkitHangingProxy(moto.endpoint);
    try {
      const env = { ...moto.env, AWS_ENDPOINT_URL: proxy.endpoint };
      const [bootstrap, diff] = await Promise.all([
        // 6 s, not 2: bgmig's own calls before the toolkit's go to the emulator, which a loaded machine slows down.
        runBgmig(['--call-timeout', '6s', 'bootstrap'], { env, timeoutMs: 110_000 }),
        runBgmig(['--suffix', 'hang', '--call-timeout', '6s', 'diff'], { env, timeoutMs: 110_000 }),
      ]);
      for (const r of [bootstrap, diff]) {
        expect(r.code, r.stderr).toBe(1);
        expect(r.stderr).toMatch(
          /^error: Cannot reach the AWS endpoint http:\/\/127\.0\.0\.1:\d+ \(a CDK toolkit request got no answer within 6 s — the bound set by --call-timeout \/ BGMIG_AWS_TIMEOUT\)/m,
        );
        // Synthesis (diff: CDK's template validation, 5–8 s) comes before the hung call: a generous ceiling.
        expect(r.durationMs).toBeLessThan(100_000);
      }
    } finally {
      await proxy.close();
      await moto.stop();
    }
  });

  it('deploy and destroy end in the same sentence when the endpoint never answers at all', async () => {
    const results = await Promise.all(
      [
        ['deploy', '--certificate-arn', 'arn:aws:acm:us-east-1:123456789012:certificate/abc'],
        ['destroy', '--yes'],
      ].map((args) => runBgmig(['--suffix', 'hang', '--call-timeout', '2s', ...args], { env: env(), timeoutMs: 60_000 })),
    );
    for (const r of results) {
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/^error: Cannot reach the AWS endpoint http:\/\/127\.0\.0\.1:\d+ \(.* got no answer within 2 s/m);
      expect(r.durationMs).toBeLessThan(2_000 + STARTUP_MARGIN_MS);
    }
  });
});

describe('a PostgreSQL endpoint that accepts and never answers', () => {
  it('a login check gives up within its connect timeout with one sentence', async () => {
    // The server never answers: returning at all is the connect timeout at work, and the sentence names it.
    const r = await checkLogin(parseDbUrl(`postgres://admin:s3cret@127.0.0.1:${port}/app`, '--db-url'), { connectTimeoutMs: 1_000 });
    expect(r).toMatchObject({ ok: false, rejected: false });
    expect(r.ok ? '' : r.error).toMatch(/^Timed out trying to log in to admin@127\.0\.0\.1:\d+\/app/);
    expect(JSON.stringify(r)).not.toContain('s3cret');
  });

  it('a query held beyond the client-side bound (what a paused pooler does) fails with one sentence', async () => {
    const pg = await startPostgres();
    try {
      const target = parseDbUrl(pg.url(), '--db-url');
      const client = await connect(target, { statementTimeoutMs: 30_000, queryTimeoutMs: 500 });
      // pg_sleep(5) would answer (and this would not be an error) had the client-side bound not ended the wait.
      const err = await client.query('SELECT pg_sleep(5)').then(
        () => undefined,
        (e: unknown) => e,
      );
      await client.end().catch(() => undefined);
      expect(describeDbError(err, target, 'query').message).toMatch(/^No answer from .* within the client-side query bound: a pooler may be holding the query/);
    } finally {
      await pg.stop();
    }
  });

  it('validate (exit 1) and db sync status (exit 1: neither side answers, both causes in one sentence) return within the 10 s connect bound', async () => {
    const env = { BGMIG_BLUE_URL: `postgres://admin:s3cret@127.0.0.1:${port}/app`, BGMIG_GREEN_URL: `postgres://admin:s3cret@127.0.0.1:${port2}/app` };
    const [validate, sync] = await Promise.all([
      runBgmig(['validate'], { env, timeoutMs: 60_000 }),
      runBgmig(['db', 'sync', 'status'], { env, timeoutMs: 60_000 }),
    ]);
    // validate cannot compare anything: a failure (1), its sentence on stderr.
    expect(validate.code, validate.stdout + validate.stderr).toBe(1);
    expect(validate.stderr).toMatch(/^error: .*Timed out trying to connect to admin@127\.0\.0\.1:\d+\/app/m);
    // db sync status with neither side answering is an outage (issue 16): exit 1, each side's cause named.
    expect(sync.code).toBe(1);
    expect(sync.stderr).toMatch(
      /^error: Neither database could be reached, .*blue failed with "Timed out trying to connect.*green failed with "Timed out trying to connect/m,
    );
    for (const r of [validate, sync]) {
      expect(r.durationMs).toBeLessThan(10_000 + STARTUP_MARGIN_MS);
      expect(r.stdout + r.stderr).not.toContain('s3cret');
    }
  });
});

describe('every wait says what it waits for and how long', () => {
  it("the rotation's waits (RDS, ECS roll): the first line names the bound, then one line per interval, all in --verbose", () => {
    const shown: string[] = [];
    const debug: string[] = [];
    let t = 0;
    const report = waitReporter({ waiting: (x) => shown.push(x), debug: (x) => debug.push(x) }, 15 * 60_000, () => t);
    report('svc-blue-x: 2 deployment(s), 1/2 tasks running; waiting');
    t += 5_000;
    report('svc-blue-x: 2 deployment(s), 2/2 tasks running; waiting');
    t += WAIT_LINE_INTERVAL_MS;
    report('svc-blue-x: 2 deployment(s), 2/2 tasks running; waiting');
    report('svc-green-x: 2 deployment(s), 0/2 tasks running; waiting');
    expect(shown).toEqual([
      'svc-blue-x: 2 deployment(s), 1/2 tasks running; waiting (waiting at most 15 m 0 s, --wait-timeout)',
      'svc-blue-x: 2 deployment(s), 2/2 tasks running; waiting',
      'svc-green-x: 2 deployment(s), 0/2 tasks running; waiting (waiting at most 15 m 0 s, --wait-timeout)',
    ]);
    expect(debug).toHaveLength(4);
  });
});
