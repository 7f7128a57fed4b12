import { describe, expect, it } from 'vitest';
import { redactConninfo, redactUrl, scrub } from '../../src/core/redact.js';

describe('redaction', () => {
  it('hides the password of every URL in a text', () => {
    const text = 'blue postgres://admin:s3cr3t@db1:5432/app and green postgresql://u:p%40ss@db2/app';
    const out = redactUrl(text);
    expect(out).toBe('blue postgres://admin:***@db1:5432/app and green postgresql://u:***@db2/app');
  });

  it('leaves URLs without a password alone', () => {
    expect(redactUrl('postgres://db1:5432/app')).toBe('postgres://db1:5432/app');
  });

  it('hides password= in libpq conninfo strings, quoted or not', () => {
    expect(redactConninfo("host=a password='it\\'s secret' user=b")).toBe('host=a password=*** user=b');
    expect(redactConninfo('host=a password=hunter2 user=b')).toBe('host=a password=*** user=b');
  });

  it('scrubs known secrets wherever they appear', () => {
    expect(scrub('auth failed for hunter2xyz at host', ['hunter2xyz'])).toBe('auth failed for *** at host');
  });
});
