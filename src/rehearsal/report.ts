/**
 * `bgmig rehearse --report FILE`: one self-contained HTML page (inline SVG and CSS, no script, no network) with the
 * rehearsal's timeline — acknowledged writes per 100 ms by the code that served them, client errors, the listener's
 * weights, the active database, and each command as a band — followed by the summary table. Pure: data in, text out.
 */
import type { RehearsalResult } from './run.js';
import { bucketize } from './summary.js';
import type { TimelineData } from './timeline.js';

const COLORS = { blue: '#2b6cb0', green: '#2f855a', error: '#c53030', grid: '#e2e8f0', text: '#1a202c', muted: '#718096' } as const;

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function fmt(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** The timeline as an SVG element (width in px; height follows from the rows). */
export function timelineSvg(data: TimelineData, width = 1200): string {
  const left = 110;
  const right = 20;
  const plotW = width - left - right;
  const dur = Math.max(1, data.durationMs);
  // The chart starts with the first command: standing up servers and the emulator is in the steps table.
  const firstCommand = data.markers.find((m) => m.kind === 'command')?.start ?? 0;
  const x0 = Math.max(0, Math.min(firstCommand - 500, dur - 1));
  const x = (t: number) => left + ((Math.max(t, x0) - x0) / (dur - x0)) * plotW;
  const buckets = bucketize(data, 100).filter((b) => b.t + 100 > x0);
  const maxW = Math.max(1, ...buckets.map((b) => b.blue + b.green));
  const maxE = Math.max(1, ...buckets.map((b) => b.errors));
  const parts: string[] = [];
  let y = 20;

  // Commands as bands, on alternating lanes so labels do not overlap.
  const cmdTop = y;
  const lanes = 3;
  data.markers
    .filter((m) => (m.end ?? m.start) >= x0)
    .forEach((m, i) => {
      const lane = i % lanes;
      const yy = cmdTop + lane * 18;
      const x1 = x(m.start);
      const x2 = Math.max(x1 + 2, x(m.end ?? m.start));
      const fill = m.outcome === 'failed' ? COLORS.error : '#a0aec0';
      parts.push(
        `<rect x="${x1.toFixed(1)}" y="${yy}" width="${(x2 - x1).toFixed(1)}" height="14" fill="${fill}" opacity="0.5"><title>${esc(m.label)} (${fmt((m.end ?? m.start) - m.start)})</title></rect>`,
      );
      parts.push(
        `<text x="${(x1 + 2).toFixed(1)}" y="${yy + 11}" font-size="10" fill="${COLORS.text}">${esc(m.label.length > 40 ? `${m.label.slice(0, 38)}…` : m.label)}</text>`,
      );
    });
  parts.push(`<text x="4" y="${cmdTop + 11}" font-size="11" fill="${COLORS.muted}">commands</text>`);
  y = cmdTop + lanes * 18 + 14;

  // Writes per 100 ms, stacked blue/green.
  const wTop = y;
  const wH = 120;
  parts.push(`<text x="4" y="${wTop + 12}" font-size="11" fill="${COLORS.muted}">writes / 100 ms</text>`);
  parts.push(`<text x="4" y="${wTop + 26}" font-size="10" fill="${COLORS.muted}">max ${maxW}</text>`);
  const bw = Math.max(0.5, (100 / (dur - x0)) * plotW);
  for (const b of buckets) {
    const bx = x(b.t);
    const hb = (b.blue / maxW) * wH;
    const hg = (b.green / maxW) * wH;
    if (hb > 0)
      parts.push(`<rect x="${bx.toFixed(1)}" y="${(wTop + wH - hb).toFixed(1)}" width="${bw.toFixed(2)}" height="${hb.toFixed(1)}" fill="${COLORS.blue}"/>`);
    if (hg > 0)
      parts.push(
        `<rect x="${bx.toFixed(1)}" y="${(wTop + wH - hb - hg).toFixed(1)}" width="${bw.toFixed(2)}" height="${hg.toFixed(1)}" fill="${COLORS.green}"/>`,
      );
  }
  parts.push(`<line x1="${left}" y1="${wTop + wH}" x2="${width - right}" y2="${wTop + wH}" stroke="${COLORS.grid}"/>`);
  y = wTop + wH + 10;

  // Client errors per 100 ms.
  const eTop = y;
  const eH = 40;
  parts.push(`<text x="4" y="${eTop + 12}" font-size="11" fill="${COLORS.muted}">errors / 100 ms</text>`);
  for (const b of buckets) {
    if (b.errors === 0) continue;
    const h = Math.max(2, (b.errors / maxE) * eH);
    parts.push(
      `<rect x="${x(b.t).toFixed(1)}" y="${eTop}" width="${bw.toFixed(2)}" height="${h.toFixed(1)}" fill="${COLORS.error}"><title>${b.errors} error(s) at ${fmt(b.t)}</title></rect>`,
    );
  }
  y = eTop + eH + 12;

  // Green's share of traffic (step line).
  const tTop = y;
  const tH = 50;
  parts.push(`<text x="4" y="${tTop + 12}" font-size="11" fill="${COLORS.muted}">green traffic %</text>`);
  if (data.weights.length > 0) {
    let d = '';
    let prevY: number | undefined;
    for (const [t, w] of data.weights) {
      const share = w.blue + w.green > 0 ? w.green / (w.blue + w.green) : 0;
      const yy = tTop + tH - share * tH;
      d += prevY === undefined ? `M${x(t).toFixed(1)},${yy.toFixed(1)}` : ` L${x(t).toFixed(1)},${prevY.toFixed(1)} L${x(t).toFixed(1)},${yy.toFixed(1)}`;
      prevY = yy;
    }
    d += ` L${x(dur).toFixed(1)},${(prevY ?? tTop + tH).toFixed(1)}`;
    parts.push(`<path d="${d}" fill="none" stroke="${COLORS.green}" stroke-width="2"/>`);
  }
  parts.push(`<line x1="${left}" y1="${tTop + tH}" x2="${width - right}" y2="${tTop + tH}" stroke="${COLORS.grid}"/>`);
  y = tTop + tH + 12;

  // The active database.
  const aTop = y;
  parts.push(`<text x="4" y="${aTop + 12}" font-size="11" fill="${COLORS.muted}">active database</text>`);
  data.active.forEach(([t, a], i) => {
    const next = data.active[i + 1]?.[0] ?? dur;
    const fill = a === 'blue' ? COLORS.blue : a === 'green' ? COLORS.green : COLORS.muted;
    parts.push(
      `<rect x="${x(t).toFixed(1)}" y="${aTop}" width="${Math.max(1, x(next) - x(t)).toFixed(1)}" height="16" fill="${fill}" opacity="0.8"><title>${esc(String(a))} from ${fmt(t)}</title></rect>`,
    );
  });
  y = aTop + 16 + 20;

  // Instant events (alarm, record switches) as dashed lines over everything.
  for (const [t, text] of data.events.filter(([t]) => t >= x0)) {
    parts.push(
      `<line x1="${x(t).toFixed(1)}" y1="${cmdTop}" x2="${x(t).toFixed(1)}" y2="${y - 16}" stroke="${COLORS.error}" stroke-dasharray="3,3" opacity="0.7"><title>${esc(text)} at ${fmt(t)}</title></line>`,
    );
  }

  // Time axis.
  const span = dur - x0;
  const stepS = span > 120_000 ? 20 : span > 40_000 ? 10 : 5;
  for (let s = Math.ceil(x0 / 1000 / stepS) * stepS; s * 1000 <= dur; s += stepS) {
    parts.push(`<text x="${x(s * 1000).toFixed(1)}" y="${y}" font-size="10" fill="${COLORS.muted}" text-anchor="middle">${s} s</text>`);
  }
  const height = y + 8;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif">${parts.join('')}</svg>`;
}

/** The whole page. */
export function renderReport(r: RehearsalResult, data: TimelineData): string {
  const rows = r.steps
    .map((s) => {
      const impact = s.impact ? `${s.impact.writePauseMs === null ? 'n/a' : fmt(s.impact.writePauseMs)} / ${s.impact.errors}` : '';
      return `<tr class="${s.status}"><td>${esc(s.name)}</td><td><code>${esc(s.command)}</code></td><td>${s.status}</td><td>${s.status === 'skipped' ? '' : fmt(s.durationMs)}</td><td>${impact}</td><td>${esc(s.detail ?? '')}</td></tr>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>bgmig rehearsal — ${r.verdict.pass ? 'PASS' : 'FAIL'}</title>
<style>
body{font-family:system-ui,sans-serif;margin:24px;color:${COLORS.text}}
h1{font-size:20px} .verdict{font-weight:600;color:${r.verdict.pass ? COLORS.green : COLORS.error}}
table{border-collapse:collapse;font-size:13px} td,th{border-bottom:1px solid ${COLORS.grid};padding:4px 8px;text-align:left;vertical-align:top}
tr.failed td{color:${COLORS.error}} tr.skipped td{color:${COLORS.muted}} code{font-size:12px}
.legend span{display:inline-block;margin-right:16px;font-size:12px} .sw{display:inline-block;width:10px;height:10px;margin-right:4px}
</style></head><body>
<h1>bgmig rehearsal</h1>
<p class="verdict">${esc(r.verdict.line)}</p>
<p>${esc(r.environment.postgres)} · emulator: ${esc(r.environment.emulator ?? 'none')} · acknowledged writes ${r.acknowledged.toLocaleString('en-US')}, lost ${r.lost ?? 'not checked'} · client errors ${r.clientErrors}${
    r.rollbackLatencyMs !== null ? ` · rollback latency after the alarm ${fmt(r.rollbackLatencyMs)}` : ''
  } · total ${fmt(r.durationMs)}</p>
<p class="legend"><span><i class="sw" style="background:${COLORS.blue}"></i>served by blue's code / blue active</span><span><i class="sw" style="background:${COLORS.green}"></i>served by green's code / green active</span><span><i class="sw" style="background:${COLORS.error}"></i>client errors, alarm</span></p>
${timelineSvg(data)}
<h2>Steps</h2>
<table><tr><th>step</th><th>command</th><th>outcome</th><th>duration</th><th>write pause / client errors</th><th>detail</th></tr>
${rows}
</table>
${r.skipped.length ? `<p>Skipped: ${r.skipped.map(esc).join('; ')}</p>` : ''}
</body></html>
`;
}
