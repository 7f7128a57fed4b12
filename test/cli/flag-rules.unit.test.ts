/** The pure flag rules (src/cli/flag-rules.ts): one sentence each, exit 2; paths bgmig will write into. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bothOrNeither, checkOutputDir, checkOutputFile, distinctServers, exclusive } from '../../src/cli/flag-rules.js';
import { ExitCode } from '../../src/core/errors.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'bgmig-flag-rules-'));
const aFile = path.join(dir, 'a-file');
writeFileSync(aFile, 'x');

describe('paths', () => {
  it('checkOutputDir / checkOutputFile accept what they should', () => {
    expect(checkOutputDir(path.join(dir, 'new', 'out'), '--output')).toBe(path.join(dir, 'new', 'out'));
    mkdirSync(path.join(dir, 'exists'), { recursive: true });
    expect(checkOutputDir(path.join(dir, 'exists'), '--output')).toBe(path.join(dir, 'exists'));
    expect(checkOutputFile(path.join(dir, 'o.json'), '--outputs-file')).toBe(path.join(dir, 'o.json'));
    expect(checkOutputFile(aFile, '--outputs-file')).toBe(aFile); // overwriting a file is what the option does
  });
});

describe('values that cannot work together', () => {
  it('the flag rules say one sentence each', () => {
    const bad = (f: () => void) => {
      try {
        f();
      } catch (e) {
        return e as { exitCode: number; message: string };
      }
      return undefined;
    };
    expect(
      bad(() =>
        exclusive(
          [
            { flag: '--a', value: 'x' },
            { flag: '--b', value: true },
            { flag: '--c', value: undefined },
          ],
          'pick one.',
        ),
      ),
    ).toMatchObject({
      exitCode: ExitCode.BadInput,
      message: '--a and --b cannot be used together: pick one.',
    });
    expect(
      bad(() =>
        exclusive(
          [
            { flag: '--a', value: 'x' },
            { flag: '--b', value: false },
          ],
          'pick one.',
        ),
      ),
    ).toBeUndefined();
    expect(
      bad(() => bothOrNeither({ flag: '--blue-url', value: undefined }, { flag: '--green-url', value: 'u' }, 'both clusters change together.')),
    ).toMatchObject({
      message: '--green-url needs --blue-url as well: both clusters change together.',
    });
    expect(bad(() => distinctServers({ host: 'h', port: 1, database: 'a' }, { host: 'h', port: 2, database: 'a' }))).toBeUndefined();
  });
});
