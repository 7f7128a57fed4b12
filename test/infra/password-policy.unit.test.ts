/** The password policy: one module, three policies on purpose (see src/core/password-policy.ts). */
import { describe, expect, it } from 'vitest';
import {
  GENERATED_PASSWORD_LENGTH,
  meetsPasswordPolicy,
  PASSWORD_EXCLUDED_CHARACTERS,
  POOLER_ADMIN_PASSWORD,
  TEMPLATE_PASSWORD_EXCLUDED_CHARACTERS,
} from '../../src/core/password-policy.js';

const PRINTABLE = Array.from({ length: 0x7e - 0x20 + 1 }, (_, i) => String.fromCharCode(0x20 + i));
const allowedBy = (excluded: string) => PRINTABLE.filter((c) => !excluded.includes(c)).join('');

describe('password policy', () => {
  it('the template set is pinned byte for byte: changing it makes CloudFormation generate new secret values on the next deploy', () => {
    expect(TEMPLATE_PASSWORD_EXCLUDED_CHARACTERS).toBe(' "\'\\@/:?#&=%+;,$`{}[]<>|^~');
  });

  it('the pooler admin policy is pinned too (letters and digits, the generated length), for the same reason', () => {
    expect(POOLER_ADMIN_PASSWORD).toEqual({ excludePunctuation: true, passwordLength: 32 });
    expect(POOLER_ADMIN_PASSWORD.passwordLength).toBe(GENERATED_PASSWORD_LENGTH);
  });

  it('rotation excludes exactly the template set plus ! * ( ), and both cover what AWS RDS rotation templates exclude', () => {
    const strict = new Set(PASSWORD_EXCLUDED_CHARACTERS);
    const template = new Set(TEMPLATE_PASSWORD_EXCLUDED_CHARACTERS);
    expect(strict.size).toBe(PASSWORD_EXCLUDED_CHARACTERS.length);
    expect(template.size).toBe(TEMPLATE_PASSWORD_EXCLUDED_CHARACTERS.length);
    expect([...strict].filter((c) => !template.has(c)).sort()).toEqual(['!', '(', ')', '*']);
    expect([...template].filter((c) => !strict.has(c))).toEqual([]);
    for (const c of '/@"\'\\') expect({ c, strict: strict.has(c), template: template.has(c) }).toEqual({ c, strict: true, template: true });
  });

  it('every character either set allows survives a PostgreSQL URL and a libpq conninfo value unescaped', () => {
    for (const excluded of [PASSWORD_EXCLUDED_CHARACTERS, TEMPLATE_PASSWORD_EXCLUDED_CHARACTERS]) {
      const pw = allowedBy(excluded);
      const url = new URL(`postgres://app:${pw}@db.example.internal:5432/app`);
      expect(decodeURIComponent(url.password)).toBe(pw);
      expect(url.hostname).toBe('db.example.internal');
      // conninfo values end at whitespace and treat quotes and backslash specially (libpq, "Connection Strings").
      expect(pw).not.toMatch(/[\s'"\\]/);
    }
  });

  it('a generated password must have the policy length and none of the excluded characters', () => {
    const ok = 'Ab3'.repeat(11).slice(0, GENERATED_PASSWORD_LENGTH);
    expect(meetsPasswordPolicy(ok)).toBe(true);
    expect(meetsPasswordPolicy(ok.slice(1))).toBe(false);
    expect(meetsPasswordPolicy(`${ok.slice(1)}!`)).toBe(false);
    expect(meetsPasswordPolicy(`${ok.slice(1)}!`, TEMPLATE_PASSWORD_EXCLUDED_CHARACTERS)).toBe(true);
    expect(meetsPasswordPolicy(`${ok.slice(1)}@`, TEMPLATE_PASSWORD_EXCLUDED_CHARACTERS)).toBe(false);
  });
});
