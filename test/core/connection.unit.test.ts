import { describe, expect, it } from 'vitest';
import { BgmigError, ExitCode } from '../../src/core/errors.js';
import { conninfo, connect, describeDbError, describeTarget, parseDbUrl, parseSecretValue, targetFromSecret } from '../../src/db/connection.js';

describe('parseDbUrl', () => {
  it('parses a full URL, decoding credentials, with TLS verification by default for remote hosts', () => {
    const t = parseDbUrl('postgres://admin:p%40ss%2Fword@db.example.com:6543/shop', '--blue-url');
    expect(t).toEqual({ host: 'db.example.com', port: 6543, database: 'shop', user: 'admin', password: 'p@ss/word', ssl: {} });
  });

  it('uses plain TCP for loopback and for sslmode=disable', () => {
    expect(parseDbUrl('postgres://u:p@127.0.0.1:5432/db', '--blue-url').ssl).toBe(false);
    expect(parseDbUrl('postgres://u:p@tunnel.local/db?sslmode=disable', '--blue-url').ssl).toBe(false);
  });

  it('defaults port 5432 and database postgres', () => {
    const t = parseDbUrl('postgresql://u:p@h', '--green-url');
    expect([t.port, t.database]).toEqual([5432, 'postgres']);
  });

  it.each([
    ['not a url', /not a valid connection URL/],
    ['mysql://u:p@h/db', /must start with postgres:\/\//],
    ['postgres://u:p@h/db?sslmode=prefer', /sslmode=prefer/],
  ])('rejects %s with exit 2 and never echoes the password', (url, re) => {
    try {
      parseDbUrl(url, '--blue-url');
      expect.unreachable();
    } catch (e) {
      expect((e as BgmigError).exitCode).toBe(ExitCode.BadInput);
      expect((e as BgmigError).message).toMatch(re);
      expect((e as BgmigError).message).not.toContain(':p@');
    }
  });
});

describe('secrets and descriptions', () => {
  it('builds a target from an RDS secret with endpoint overrides', () => {
    const s = parseSecretValue(JSON.stringify({ username: 'master', password: 'pw', host: 'old', port: 5432, dbname: 'postgres' }), 'secret-db-blue-x');
    const t = targetFromSecret(s, { host: 'aurora-blue-x.cluster-abc.us-east-1.rds.amazonaws.com', database: 'app' });
    expect(describeTarget(t)).toBe('master@aurora-blue-x.cluster-abc.us-east-1.rds.amazonaws.com:5432/app');
    expect(describeTarget(t)).not.toContain('pw');
    expect(t.ssl).toEqual({ ca: undefined });
  });

  it('rejects a secret without credentials in one sentence', () => {
    expect(() => parseSecretValue('{"user":"x"}', 'secret-db-blue-x')).toThrowError(/has no username\/password fields/);
    expect(() => parseSecretValue('nope', 'secret-db-blue-x')).toThrowError(/is not JSON/);
  });

  it('quotes conninfo values so passwords with quotes and spaces survive', () => {
    const ci = conninfo({ host: 'h', port: 1, database: 'd', user: 'u', password: "a b'c", ssl: false });
    expect(ci).toContain("password='a b\\'c'");
    expect(ci).toContain('sslmode=disable');
  });
});

describe('describeDbError', () => {
  const target = { host: '127.0.0.1', port: 1, database: 'app', user: 'u', password: 'topsecret', ssl: false as const };

  it('explains a refused connection and names the target without the password', async () => {
    const err = await connect(target, { connectTimeoutMs: 2000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BgmigError);
    expect((err as BgmigError).message).toMatch(/connection refused/);
    expect((err as BgmigError).message).toContain('u@127.0.0.1:1/app');
    expect((err as BgmigError).message).not.toContain('topsecret');
  });

  it('maps authentication and lock timeouts to sentences and scrubs the password', () => {
    expect(describeDbError({ code: '28P01', message: 'password authentication failed' }, target).message).toMatch(/rejected the credentials/);
    const lock = describeDbError({ code: '55P03', message: 'canceling statement due to lock timeout topsecret' }, target);
    expect(lock.message).toMatch(/lock timeout/);
    expect(lock.message).not.toContain('topsecret');
  });
});
