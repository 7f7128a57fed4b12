/** Parsing of human units used by options: durations (`250ms`, `10s`, `2m`) and sizes (`16MB`, `512kB`). */
import { badInput } from './errors.js';

const DURATION_RE = /^(\d+(?:\.\d+)?)\s*(ms|s|m)$/;

export function parseDuration(value: string, option: string): number {
  const m = DURATION_RE.exec(value.trim());
  if (!m) throw badInput(`${option} must be a duration like 250ms, 10s or 2m, got "${value}".`);
  const n = Number(m[1]);
  const ms = m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : n * 60_000;
  if (!Number.isFinite(ms) || ms <= 0) throw badInput(`${option} must be greater than zero, got "${value}".`);
  return Math.round(ms);
}

const SIZE_RE = /^(\d+(?:\.\d+)?)\s*(B|kB|KB|KiB|MB|MiB|GB|GiB)?$/;
const SIZE_FACTORS: Record<string, number> = {
  B: 1,
  kB: 1024,
  KB: 1024,
  KiB: 1024,
  MB: 1024 ** 2,
  MiB: 1024 ** 2,
  GB: 1024 ** 3,
  GiB: 1024 ** 3,
};

export function parseSize(value: string, option: string): number {
  const m = SIZE_RE.exec(value.trim());
  if (!m) throw badInput(`${option} must be a size like 16MB, 512kB or 1GB, got "${value}".`);
  return Math.round(Number(m[1]) * SIZE_FACTORS[m[2] ?? 'B']);
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} m ${Math.round((ms % 60_000) / 1000)} s`;
}
