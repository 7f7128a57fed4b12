/**
 * Application clients that reach the database only through poolers (the tests' and the benchmark's workload):
 * writers commit one order per transaction and remember the id only after COMMIT succeeded (an acknowledged
 * write); readers count rows. Every query's start and duration is kept, and every error is counted — through a
 * pooler that holds queries, a switch must cost latency, never an error. A client that fails reconnects (as an
 * application's pool would) and goes on.
 */
import pg from 'pg';

export interface Sample {
  /** performance.now() when the query (transaction) was sent. */
  start: number;
  ms: number;
  kind: 'write' | 'read';
}

export interface Workload {
  acks: number[];
  errors: string[];
  samples: Sample[];
  stop(): Promise<void>;
}

/** `urls`: client URLs (one per pooler, or the database itself); client i uses urls[i % urls.length]. */
export function startWorkload(urls: string[] | (() => string), opts: { writers: number; readers: number }): Workload {
  const acks: number[] = [];
  const errors: string[] = [];
  const samples: Sample[] = [];
  let running = true;
  const urlFor = (i: number) => (typeof urls === 'function' ? urls() : urls[i % urls.length]);
  const loop = async (i: number, kind: 'write' | 'read') => {
    let client: pg.Client | null = null;
    let n = 0;
    while (running) {
      try {
        if (!client) {
          client = new pg.Client({ connectionString: urlFor(i), connectionTimeoutMillis: 5_000 });
          client.on('error', () => undefined);
          await client.connect();
        }
        const start = performance.now();
        if (kind === 'write') {
          await client.query('BEGIN');
          const r = await client.query<{ id: number }>('INSERT INTO public.orders (writer, n, note) VALUES ($1, $2, $3) RETURNING id', [i, ++n, 'pooled']);
          await client.query('COMMIT');
          samples.push({ start, ms: performance.now() - start, kind });
          acks.push(r.rows[0].id);
        } else {
          await client.query('SELECT count(*) FROM public.orders WHERE writer = $1', [i % 8]);
          samples.push({ start, ms: performance.now() - start, kind });
        }
      } catch (e) {
        errors.push(`${kind} ${i}: ${(e as { code?: string }).code ?? ''} ${(e as Error).message}`);
        await client?.end().catch(() => undefined);
        client = null;
        await new Promise((r) => setTimeout(r, 5));
      }
      await new Promise((r) => setTimeout(r, 2));
    }
    await client?.end().catch(() => undefined);
  };
  const loops = [...Array.from({ length: opts.writers }, (_, i) => loop(i, 'write')), ...Array.from({ length: opts.readers }, (_, i) => loop(i, 'read'))];
  return {
    acks,
    errors,
    samples,
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}

/** Waits until `n` more writes were acknowledged (bounded). */
export async function moreAcks(w: Workload, n: number, timeoutMs = 20_000): Promise<void> {
  const target = w.acks.length + n;
  const until = Date.now() + timeoutMs;
  while (w.acks.length < target) {
    if (Date.now() > until)
      throw new Error(`only ${w.acks.length - (target - n)} of ${n} writes acknowledged in ${timeoutMs} ms (errors: ${w.errors.slice(-3).join(' | ')})`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}
