/**
 * Pure edits of PgBouncer's ini file: the repoint mechanism bgmig uses in direct mode.
 *
 * Why the file: PgBouncer 1.18's console can PAUSE, RESUME, RELOAD and RECONNECT, but `SET` changes only
 * [pgbouncer] settings — no console command changes where a [databases] entry points
 * (https://www.pgbouncer.org/usage.html). Rewriting the entry's `host=`/`port=`/`dbname=` and issuing RELOAD while
 * the entry is paused is the mechanism measured here (test/pooler/switch.test.ts: the held query ran on the new
 * target, and so did every later one). The alternative, an entry naming a DNS record and RECONNECT, depends on PgBouncer's DNS cache
 * (`dns_max_ttl`) and on propagation, which cannot be proven on this machine: it is the AWS-mode design (docs).
 *
 * Format (https://www.pgbouncer.org/config.html): `[databases]` lines `name = key=value key='quoted value' …`;
 * names may be double-quoted; `;` and `#` start comments; `%include FILE` pulls in another file.
 */

export interface Endpoint {
  host: string;
  port: number;
  database: string;
}

interface Pair {
  key: string;
  value: string;
}

/** Splits a connection string `host=a port=5432 dbname='x y'` into pairs (order kept). */
export function parseConnstr(s: string): Pair[] {
  const out: Pair[] = [];
  const re = /\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*('(?:[^'\\]|\\.|'')*'|\S*)/g;
  for (const m of s.matchAll(re)) {
    if (m[0].trim() === '') break;
    let v = m[2];
    if (v.startsWith("'")) v = v.slice(1, -1).replace(/''/g, "'").replace(/\\(.)/g, '$1');
    out.push({ key: m[1].toLowerCase(), value: v });
  }
  return out;
}

function quoteValue(v: string): string {
  return /^[^\s'\\]+$/.test(v) ? v : `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

export function formatConnstr(pairs: Pair[]): string {
  return pairs.map((p) => `${p.key}=${quoteValue(p.value)}`).join(' ');
}

const SECTION = /^\s*\[([^\]]+)\]\s*$/;
const ENTRY = /^(\s*)("(?:[^"]|"")+"|[^=\s;#]+)(\s*=\s*)(.*)$/;

function entryName(raw: string): string {
  return raw.startsWith('"') ? raw.slice(1, -1).replace(/""/g, '"') : raw;
}

/** The `%include` files named in an ini text (as written, relative paths unresolved). */
export function includesOf(ini: string): string[] {
  return ini
    .split('\n')
    .map((l) => /^\s*%include\s+(.+?)\s*$/.exec(l)?.[1])
    .filter((x): x is string => x !== undefined);
}

export interface RepointResult {
  text: string;
  /** Entries whose line now points at the endpoint (changed or already so). */
  found: string[];
  /** Entries whose line was rewritten. */
  changed: string[];
}

/**
 * Points each named [databases] entry of one ini text at `to` (host, port, dbname; every other key kept).
 * Idempotent: an entry already pointing there is found but not changed. Entries not in this text are simply not
 * in `found` (they may live in an %include file).
 */
export function repointEntries(ini: string, entries: readonly string[], to: Endpoint): RepointResult {
  const want = new Set(entries);
  const found: string[] = [];
  const changed: string[] = [];
  let section = '';
  const lines = ini.split('\n').map((line) => {
    const sec = SECTION.exec(line);
    if (sec) {
      section = sec[1].trim().toLowerCase();
      return line;
    }
    if (section !== 'databases') return line;
    const m = ENTRY.exec(line);
    if (!m || /^\s*[;#]/.test(line)) return line;
    const name = entryName(m[2]);
    if (!want.has(name)) return line;
    found.push(name);
    const pairs = parseConnstr(m[4]);
    const next = new Map(pairs.map((p) => [p.key, p.value]));
    const target: Record<string, string> = { host: to.host, port: String(to.port), dbname: to.database };
    let differs = false;
    for (const [k, v] of Object.entries(target)) if (next.get(k) !== v) differs = true;
    if (!differs) return line;
    changed.push(name);
    const out = pairs.filter((p) => !(p.key in target));
    return `${m[1]}${m[2]}${m[3]}${formatConnstr([{ key: 'host', value: target.host }, { key: 'port', value: target.port }, { key: 'dbname', value: target.dbname }, ...out])}`;
  });
  return { text: lines.join('\n'), found, changed };
}
