/** What a rehearsal run may leave behind: processes whose command line names its workspace or its emulator's port. */
import { readdirSync, readFileSync } from 'node:fs';

/** Live processes (pid and command line) whose command line contains any of `needles`. */
export function processesMatching(needles: string[]): Array<{ pid: number; cmd: string }> {
  const found: Array<{ pid: number; cmd: string }> = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let cmd: string;
    try {
      cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
    } catch {
      continue; // exited while we looked
    }
    if (cmd && needles.some((n) => cmd.includes(n))) found.push({ pid: Number(entry), cmd });
  }
  return found;
}

/** The needles for one run: its workspace (servers' -D and -k paths) and its emulator (`moto.server … -p PORT`). */
export function runNeedles(workspace: string, emulatorEndpoint: string | null): string[] {
  const needles = [workspace];
  const port = emulatorEndpoint ? new URL(emulatorEndpoint).port : undefined;
  if (port) needles.push(`-p ${port}`);
  return needles;
}
