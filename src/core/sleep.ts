/**
 * Waiting, the one way: `sleep(ms, signal?)` resolves after `ms` milliseconds, or at once when `signal` is (or
 * becomes) aborted — a watch loop or a bake interrupted by Ctrl-C then goes on to report instead of hanging. It
 * never rejects, unlike `node:timers/promises`' setTimeout, which rejects with an AbortError.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal?.aborted) {
      resolve();
      return;
    }
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
