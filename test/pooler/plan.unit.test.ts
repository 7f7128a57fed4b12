/**
 * The pure parts of the pooler tier: the ini rewrite (the repoint mechanism), the plan (which entries, what is
 * refused and why), the hold verdict, the pooler URL, and the hand-over order of tier and switch hook.
 */
import { describe, expect, it } from 'vitest';
import type { PoolerEntry } from '../../src/pooler/admin.js';
import { includesOf, parseConnstr, repointEntries } from '../../src/pooler/config.js';
import { handOver, holdClients } from '../../src/replication/handoff.js';
import { decideHold, decidePoolers, sideOf, type PoolerObservation } from '../../src/pooler/plan.js';
import { parsePoolerUrl, refForLabel } from '../../src/pooler/tier.js';
import type { ClientTier } from '../../src/replication/api.js';

const sides = { blue: { host: '10.0.0.1', port: 5432, database: 'app' }, green: { host: '10.0.0.2', port: 5433, database: 'app' } };
const entry = (over: Partial<PoolerEntry>): PoolerEntry => ({
  name: 'app',
  host: '10.0.0.1',
  port: 5432,
  database: 'app',
  poolMode: null,
  paused: false,
  disabled: false,
  ...over,
});
const obs = (over: Partial<PoolerObservation>): PoolerObservation => ({
  label: 'postgres://a@p1:6432/pgbouncer',
  entries: [entry({})],
  poolMode: 'transaction',
  conffile: '/etc/pgbouncer/pgbouncer.ini',
  editable: ['app'],
  ...over,
});

describe('repointEntries', () => {
  const ini = `;; comment
[databases]
app = host=10.0.0.1 port=5432 dbname=app pool_size=20
"odd name" = host=10.0.0.1 dbname='my db' application_name='x y'
other = host=10.9.9.9 port=5432 dbname=other
; app = host=commented
[pgbouncer]
app = not-a-database
listen_port = 6432
`;

  it('rewrites host, port and dbname of the named entries only, keeping their other keys and the rest of the file', () => {
    const r = repointEntries(ini, ['app', 'odd name'], sides.green);
    expect(r.found).toEqual(['app', 'odd name']);
    expect(r.changed).toEqual(['app', 'odd name']);
    expect(r.text.split('\n')).toEqual([
      ';; comment',
      '[databases]',
      'app = host=10.0.0.2 port=5433 dbname=app pool_size=20',
      `"odd name" = host=10.0.0.2 port=5433 dbname=app application_name='x y'`,
      'other = host=10.9.9.9 port=5432 dbname=other',
      '; app = host=commented',
      '[pgbouncer]',
      'app = not-a-database',
      'listen_port = 6432',
      '',
    ]);
  });

  it('is idempotent: an entry already pointing there is found, not changed', () => {
    const once = repointEntries(ini, ['app'], sides.green);
    const twice = repointEntries(once.text, ['app'], sides.green);
    expect(twice).toMatchObject({ found: ['app'], changed: [], text: once.text });
  });

  it('does not find entries that live elsewhere (an %include file) and lists the includes', () => {
    expect(repointEntries('[databases]\n%include /etc/pgbouncer/dbs.ini\n', ['app'], sides.green).found).toEqual([]);
    expect(includesOf('[databases]\n%include /etc/pgbouncer/dbs.ini\n  %include  rel.ini \n')).toEqual(['/etc/pgbouncer/dbs.ini', 'rel.ini']);
  });

  it('parses quoted connection-string values', () => {
    expect(parseConnstr(`host=h dbname='a b' password='it''s'`)).toEqual([
      { key: 'host', value: 'h' },
      { key: 'dbname', value: 'a b' },
      { key: 'password', value: "it's" },
    ]);
  });
});

describe('decidePoolers', () => {
  it('plans the entries pointing at either side (old side normally, new side after a died run), ignores the rest', () => {
    const d = decidePoolers(
      [
        obs({
          entries: [entry({}), entry({ name: 'app_ro', host: '10.0.0.2', port: 5433 }), entry({ name: 'other', database: 'other' })],
          editable: ['app', 'app_ro'],
        }),
      ],
      sides,
      { needEditable: true },
    );
    expect(d).toEqual({
      kind: 'plan',
      poolers: [{ label: 'postgres://a@p1:6432/pgbouncer', entries: ['app', 'app_ro'], pointsAt: { app: 'blue', app_ro: 'green' } }],
    });
  });

  it('refuses, naming each pooler and its fix: no entry for the pair, session pooling, a config file it cannot edit', () => {
    const d = decidePoolers(
      [
        obs({ label: 'postgres://a@p1:6432/pgbouncer', entries: [entry({ host: 'elsewhere' })] }),
        obs({ label: 'postgres://a@p2:6432/pgbouncer', poolMode: 'session' }),
        obs({ label: 'postgres://a@p3:6432/pgbouncer', entries: [entry({ poolMode: 'session' })], editable: [] }),
      ],
      sides,
      { needEditable: true },
    );
    expect(d.kind).toBe('refuse');
    const problems = d.kind === 'refuse' ? d.offenders.map((o) => o.problem) : [];
    expect(problems).toEqual([
      'pooler postgres://a@p1:6432/pgbouncer has no [databases] entry pointing at blue (10.0.0.1:5432/app) or green',
      'entry app of pooler postgres://a@p2:6432/pgbouncer uses pool_mode = session, where PAUSE waits for every client to disconnect',
      'entry app of pooler postgres://a@p3:6432/pgbouncer uses pool_mode = session, where PAUSE waits for every client to disconnect',
      'bgmig cannot rewrite entry app of pooler postgres://a@p3:6432/pgbouncer in its configuration file (/etc/pgbouncer/pgbouncer.ini) from here',
    ]);
  });

  it('an entry with its own pool_mode = transaction under a session default is fine; a DNS-following tier needs no editable file', () => {
    expect(
      decidePoolers([obs({ poolMode: 'session', entries: [entry({ poolMode: 'transaction' })], editable: [] })], sides, { needEditable: false }).kind,
    ).toBe('plan');
  });

  it('the same pooler given twice is planned once', () => {
    const d = decidePoolers([obs({}), obs({})], sides, { needEditable: true });
    expect(d.kind === 'plan' && d.poolers.length).toBe(1);
  });

  it('matches loopback spellings and trailing dots, not other ports or databases', () => {
    expect(sideOf({ host: 'localhost', port: 5432, database: 'app' }, { ...sides, blue: { host: '127.0.0.1', port: 5432, database: 'app' } })).toBe('blue');
    expect(sideOf({ host: '10.0.0.2.', port: 5433, database: 'app' }, sides)).toBe('green');
    expect(sideOf({ host: '10.0.0.2', port: 5432, database: 'app' }, sides)).toBeNull();
    expect(sideOf({ host: '10.0.0.1', port: 5432, database: 'app2' }, sides)).toBeNull();
  });
});

describe('decideHold', () => {
  it('holds only when every entry paused; names the late ones', () => {
    expect(
      decideHold([
        { label: 'p1', entry: 'app', paused: true },
        { label: 'p2', entry: 'app', paused: true },
      ]),
    ).toEqual({ ok: true });
    expect(
      decideHold([
        { label: 'p1', entry: 'app', paused: true },
        { label: 'p2', entry: 'app', paused: false },
      ]),
    ).toEqual({ ok: false, late: ['app on p2'] });
  });
});

describe('parsePoolerUrl', () => {
  it('takes the password from the environment when the URL has none, and labels without it', () => {
    const r = parsePoolerUrl('postgres://admin@pool-1:6432/pgbouncer', '--pooler', { BGMIG_POOLER_PASSWORD: 'pw' });
    expect(r).toEqual({ host: 'pool-1', port: 6432, user: 'admin', password: 'pw', label: 'postgres://admin@pool-1:6432/pgbouncer' });
    expect(parsePoolerUrl('postgres://admin:inline@pool-1/pgbouncer', '--pooler', {})).toMatchObject({
      port: 6432,
      password: 'inline',
      label: 'postgres://admin@pool-1:6432/pgbouncer',
    });
    expect(refForLabel(r.label, [{ ...r, password: 'given' }], {}).password).toBe('given');
  });

  it('refuses what is not an admin console URL, in one sentence', () => {
    expect(() => parsePoolerUrl('postgres://admin@pool-1:6432/app')).toThrow('--pooler must name PgBouncer\'s admin database "pgbouncer", not "app".');
    expect(() => parsePoolerUrl('http://pool-1')).toThrow(/must start with postgres:\/\//);
    expect(() => parsePoolerUrl('not a url')).toThrow(/is not a valid URL/);
  });
});

describe('handOver', () => {
  const target = { host: 'h', port: 1, database: 'd', user: 'u', password: 'p', ssl: false as const };
  const tier = (log: string[], followsSwitch = false): ClientTier & { followsSwitch: boolean } => ({
    followsSwitch,
    hold: async () => {
      log.push('hold');
      return 'held';
    },
    repoint: async (c) => {
      log.push(`repoint ${c}`);
      return 'repointed';
    },
    release: async (c) => {
      log.push(`release ${c}`);
      return 'released';
    },
  });

  it('a pooler that points at the writer directly is released before the hook; clients follow at the release', async () => {
    const log: string[] = [];
    const t = tier(log);
    await holdClients(t);
    const h = await handOver(
      {
        clients: t,
        onSwitch: async (c) => {
          log.push(`hook ${c}`);
          return { detail: 'dns done', clientsFollowAt: performance.now() + 10_000 };
        },
      },
      'green',
      target,
    );
    expect(log).toEqual(['hold', 'release green', 'hook green']);
    expect(h.detail).toBe('released; dns done');
    expect(h.clientsFollowAt).toBeLessThan(performance.now());
    expect(h.holdMs).toBeGreaterThanOrEqual(0);
  });

  it('a pooler that follows the db record is released after the hook', async () => {
    const log: string[] = [];
    const h = await handOver({ clients: tier(log, true), onSwitch: async (c) => void log.push(`hook ${c}`) }, 'blue', target);
    expect(log).toEqual(['hook blue', 'release blue']);
    expect(h.holdMs).toBeNull();
  });

  it('without a tier, clients follow when the hook says the name resolves', async () => {
    const at = performance.now() + 5;
    const h = await handOver({ onSwitch: async () => ({ clientsFollowAt: at }) }, 'green', target);
    expect(h).toEqual({ detail: 'switch hook: active=green', clientsFollowAt: at, holdMs: null });
    expect((await handOver({}, 'green', target)).detail).toBe('no switch hook');
  });
});
