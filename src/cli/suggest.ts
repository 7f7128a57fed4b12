/**
 * "Did you mean …?" for typos, with one rule (issue 16, kind 2): a suggestion never names a command that changes
 * anything, nor an option that switches a safety gate off. A typo is the moment an operator is least sure of what
 * they are typing; a suggestion that is copied without thought must not destroy, move traffic or skip a gate.
 * Commands that change things are still reachable — typed on purpose, as their own help shows.
 */

/** Optimal-string-alignment distance (Damerau–Levenshtein with adjacent transpositions), as commander uses. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const row = d[i] as number[];
      const prev = d[i - 1] as number[];
      row[j] = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j] as number, ((d[i - 2] as number[])[j - 2] as number) + 1);
    }
  }
  return (d[a.length] as number[])[b.length] as number;
}

/**
 * The closest candidate when it is close enough to be a typo: distance ≤ 2 and at most 40 % of the word changed
 * (commander's thresholds). Undefined otherwise, or when two candidates tie (no guessing between them).
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  let tie = false;
  for (const c of candidates) {
    if (c.length <= 1) continue;
    const dist = editDistance(word, c);
    const length = Math.max(word.length, c.length);
    if (dist > 2 || (length - dist) / length <= 0.6) continue;
    if (dist < bestDistance) {
      best = c;
      bestDistance = dist;
      tie = false;
    } else if (dist === bestDistance && c !== best) tie = true;
  }
  return tie ? undefined : best;
}

/**
 * Commands that change no workload (full path under bgmig): they read, or write only a local directory (synth) or a
 * validation report (validate). Everything else changes AWS or a database — `rollback` too: it moves traffic.
 */
export const READ_ONLY_COMMANDS: ReadonlySet<string> = new Set(['help', 'synth', 'diff', 'status', 'validate', 'history', 'db', 'db sync', 'db sync status']);

/** Options never suggested: each turns a safety gate or a confirmation off. */
export const GATE_OFF_OPTIONS: ReadonlySet<string> = new Set(['--yes', '--skip-validation', '--unfence-passive', '--force', '--no-verify']);

export function isSafeCommand(path: string): boolean {
  return READ_ONLY_COMMANDS.has(path);
}

export function isSafeOption(flag: string): boolean {
  return !GATE_OFF_OPTIONS.has(flag) && !/^--(skip|force|no-gate)/.test(flag);
}

/** The suffix commander would append (" \n(Did you mean X?)"), or '' when nothing safe is close. */
export function safeSuggestion(word: string, candidates: readonly string[], isSafe: (c: string) => boolean): string {
  const pick = closest(word, candidates);
  if (pick === undefined || !isSafe(pick)) return '';
  return `\n(Did you mean ${pick}?)`;
}
