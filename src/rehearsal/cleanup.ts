/**
 * Everything the rehearsal starts is registered here the moment it exists, and undone in reverse order on the
 * normal end, on a failure and on Ctrl-C / SIGTERM: the application's connections, the pooler, both servers (their
 * replication slots and subscriptions go with their data directories), the emulator, the temp dir. A last
 * synchronous pass at process exit SIGKILLs whatever a signal interrupted mid-stop and removes the directory.
 */
import { rmSync } from 'node:fs';

interface Entry {
  label: string;
  undo: () => Promise<void>;
  /** Process ids to SIGKILL at exit if `undo` did not finish. */
  pids: number[];
  done: boolean;
}

export class Cleanup {
  private readonly entries: Entry[] = [];
  private readonly dirs: string[] = [];
  private running: Promise<string[]> | undefined;
  private exitHook: (() => void) | undefined;

  /** Registers an undo step (run last-in first-out); `pids` are killed at exit if it never completed. */
  add(label: string, undo: () => Promise<void>, pids: number[] = []): void {
    this.entries.push({ label, undo, pids: pids.filter((p) => p > 0), done: false });
    this.installExitHook();
  }

  /** A directory removed at the very end (after every process that writes into it is gone). */
  addDir(dir: string): void {
    this.dirs.push(dir);
    this.installExitHook();
  }

  /** What is registered and not yet undone (for --keep's instructions). */
  pending(): string[] {
    return this.entries.filter((e) => !e.done).map((e) => e.label);
  }

  /** Forget everything without undoing it (--keep): the processes and the directory stay. */
  release(): void {
    for (const e of this.entries) e.done = true;
    this.dirs.length = 0;
    if (this.exitHook) process.removeListener('exit', this.exitHook);
    this.exitHook = undefined;
  }

  /**
   * Undoes everything, each step bounded by `stepTimeoutMs`; resolves to the failures (one line each). Concurrent
   * calls (a signal during the normal cleanup) share one run.
   */
  run(stepTimeoutMs = 15_000): Promise<string[]> {
    this.running ??= (async () => {
      const failures: string[] = [];
      for (const e of [...this.entries].reverse()) {
        if (e.done) continue;
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([
            e.undo(),
            new Promise<never>((_, reject) => {
              timer = setTimeout(() => reject(new Error(`did not finish within ${stepTimeoutMs} ms`)), stepTimeoutMs);
            }),
          ]);
          e.done = true;
        } catch (err) {
          failures.push(`${e.label}: ${(err as Error).message}`);
          killAll(e.pids);
          e.done = true;
        } finally {
          clearTimeout(timer);
        }
      }
      for (const d of this.dirs.splice(0)) {
        try {
          rmSync(d, { recursive: true, force: true });
        } catch (err) {
          failures.push(`remove ${d}: ${(err as Error).message}`);
        }
      }
      return failures;
    })();
    return this.running;
  }

  private installExitHook(): void {
    if (this.exitHook) return;
    this.exitHook = () => {
      for (const e of this.entries) if (!e.done) killAll(e.pids);
      for (const d of this.dirs) rmSync(d, { recursive: true, force: true });
    };
    process.on('exit', this.exitHook);
  }
}

function killAll(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}
