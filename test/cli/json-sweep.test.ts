/**
 * Issue 16, kind 4, across every command: with --json, a failure is `{"error": {...}}` on stdout with the same keys
 * (none absent), its exit code, and its sentence on stderr — for every verb and db subcommand of the program (the
 * list is read from the program itself, so a new verb joins the sweep). The AWS endpoint is a dead port.
 */
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/main.js';
import { runBgmig } from '../harness/cli.js';

const DEAD = { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_ENDPOINT_URL: 'http://127.0.0.1:1' };
const ERROR_KEYS = ['code', 'details', 'exitCode', 'kind', 'message'];

/** The arguments a command needs to get past its own input checks (so the failure is the AWS one). */
const NEEDS: Record<string, string[]> = {
  promote: ['--weight', '10'],
  deploy: ['--certificate-arn', 'arn:aws:acm:us-east-1:111122223333:certificate/0f1e2d3c-aaaa-bbbb-cccc-1234567890ab'],
  'rotate-secret-manual': ['--color', 'blue'],
};
/** Commands that never call AWS (or only with other input): their failure here is bad input. */
const OFFLINE: Record<string, string[]> = { synth: ['--output', '/etc/passwd'], rehearse: ['--no-such-flag'] };

function leafCommands(): string[][] {
  const out: string[][] = [];
  const walk = (c: ReturnType<typeof buildProgram>, prefix: string[]) => {
    for (const s of c.commands) {
      if (s.name() === 'help') continue;
      if (s.commands.length > 0) walk(s, [...prefix, s.name()]);
      else out.push([...prefix, s.name()]);
    }
  };
  walk(buildProgram(), []);
  return out;
}

describe('--json failures of every command', () => {
  it('are one error document with every key, the exit code, and the sentence on stderr', async () => {
    const commands = leafCommands();
    expect(commands.length).toBeGreaterThanOrEqual(15);
    for (let i = 0; i < commands.length; i += 4) {
      const batch = commands.slice(i, i + 4);
      const results = await Promise.all(
        batch.map((c) => {
          const name = c.join(' ');
          const args = OFFLINE[name] ?? NEEDS[name] ?? [];
          return runBgmig(['--json', '--yes', '--suffix', 'sweep', '--call-timeout', '3s', ...c, ...args], { env: DEAD, timeoutMs: 60_000 });
        }),
      );
      results.forEach((r, j) => {
        const name = (batch[j] ?? []).join(' ');
        expect(r.code, `${name}: ${r.stderr}`).toBeGreaterThan(0);
        let doc: { error?: Record<string, unknown> } = {};
        expect(() => (doc = JSON.parse(r.stdout) as typeof doc), `${name} stdout: ${r.stdout}`).not.toThrow();
        expect(Object.keys(doc.error ?? {}).sort(), name).toEqual(ERROR_KEYS);
        expect(doc.error?.exitCode, name).toBe(r.code);
        expect(r.stderr, name).toContain(`error: ${String(doc.error?.message).split(' ').slice(0, 4).join(' ')}`);
        expect(r.stderr, name).not.toMatch(/\n\s+at .+:\d+:\d+/);
      });
    }
  });
});
