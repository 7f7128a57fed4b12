/**
 * Captures what the process writes to stdout and stderr (the Lambda handlers' Powertools logs go there) while still
 * passing it through, so a test can assert that no secret was ever logged.
 */
export interface Captured {
  text(): string;
  restore(): void;
}

export function captureProcessOutput(): Captured {
  const chunks: string[] = [];
  const streams = [process.stdout, process.stderr];
  const originals = streams.map((s) => s.write.bind(s));
  streams.forEach((s, i) => {
    const orig = originals[i] as (c: string | Uint8Array, ...r: unknown[]) => boolean;
    s.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString());
      return orig(chunk, ...rest);
    }) as typeof s.write;
  });
  return {
    text: () => chunks.join(''),
    restore: () => {
      streams.forEach((s, i) => {
        s.write = originals[i] as typeof s.write;
      });
    },
  };
}
