/** src/db/lambda-tls.ts: the Lambdas' TLS settings and the BGMIG_DB_SSL test/tunnel knob. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { lambdaSsl } from '../../src/db/lambda-tls.js';

it('verifies against the runtime CA bundle when present, the system store otherwise; "disable" is plain TCP; anything else is refused', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bgmig-ca-'));
  try {
    const ca = path.join(dir, 'ca-cert.pem');
    writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    expect(lambdaSsl({}, ca)).toEqual({ ca: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n' });
    expect(lambdaSsl({ BGMIG_DB_SSL: 'verify-full' }, ca)).toMatchObject({ ca: expect.stringContaining('BEGIN CERTIFICATE') });
    expect(lambdaSsl({}, path.join(dir, 'missing.pem'))).toEqual({});
    expect(lambdaSsl({ BGMIG_DB_SSL: 'disable' }, ca)).toBe(false);
    expect(() => lambdaSsl({ BGMIG_DB_SSL: 'require' }, ca)).toThrow(/BGMIG_DB_SSL="require" is not supported: leave it unset .* or set it to "disable"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
