/** The codes table in docs/validator.md is the operator's reference for --ignore: it must list every code with its severity. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CODES } from '../../src/schema/codes.js';
import { REPO_ROOT } from '../harness/cli.js';

describe('docs/validator.md codes table', () => {
  it('documents every code with its severity and meaning, and no code that does not exist', () => {
    const doc = readFileSync(path.join(REPO_ROOT, 'docs', 'validator.md'), 'utf8');
    const rows = new Map([...doc.matchAll(/^\| ([A-Z]{2}\d{3}) \| (breaking|risky|safe) \| (.+?) \|/gm)].map((m) => [m[1], { severity: m[2], meaning: m[3] }]));
    expect([...rows.keys()].sort()).toEqual(Object.keys(CODES).sort());
    for (const [code, info] of Object.entries(CODES)) expect(rows.get(code)).toEqual({ severity: info.severity, meaning: info.meaning });
  });
});
