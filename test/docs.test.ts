/**
 * The documentation stays in step with the code: README's command list names exactly the commands `bgmig --help`
 * lists, and every relative link in README.md and docs/ points at a file (and heading) that exists — the README was
 * split into docs/, and a link that silently goes nowhere is how such a split decays.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, runBgmig } from './harness/cli.js';

function read(rel: string): string {
  return readFileSync(path.join(REPO_ROOT, rel), 'utf8');
}

/** The command names in the "Commands:" section of commander's help (its own `help` excluded). */
function helpCommands(help: string): string[] {
  const section = help.split(/^Commands:\s*$/m)[1]?.split(/^\S/m)[0] ?? '';
  return [...section.matchAll(/^ {2}([a-z][a-z0-9-]*)\b/gm)].map((m) => m[1] as string).filter((c) => c !== 'help');
}

/** The command names README lists between its `<!-- commands -->` markers, one `- \`name\` — …` line each. */
function readmeCommands(readme: string): string[] {
  const block = readme.split('<!-- commands:')[1]?.split('<!-- /commands -->')[0] ?? '';
  return [...block.matchAll(/^- `([a-z][a-z0-9-]*)` — \S/gm)].map((m) => m[1] as string);
}

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function anchors(markdown: string): Set<string> {
  const out = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const m = !fenced && /^#{1,6} (.+)$/.exec(line);
    if (m) out.add(slug(m[1] as string));
  }
  return out;
}

const DOCS = [
  'README.md',
  ...readdirSync(path.join(REPO_ROOT, 'docs'), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.md'))
    .map((f) => path.join('docs', f)),
];

describe('README and docs/', () => {
  it('README lists every command of `bgmig --help`, one line each, and no other', async () => {
    const help = await runBgmig(['--help']);
    expect(help.code).toBe(0);
    const fromHelp = helpCommands(help.stdout);
    expect(fromHelp.length).toBeGreaterThan(5);
    expect(readmeCommands(read('README.md'))).toEqual(fromHelp);
  });

  it('parses the command lists it compares (a missing command is noticed)', () => {
    const help = 'Commands:\n  synth [options]   x\n  db                y\n                    wrapped\n  help [command]    z\n\nExit codes:\n  0  ok\n';
    expect(helpCommands(help)).toEqual(['synth', 'db']);
    expect(readmeCommands('<!-- commands: -->\n- `synth` — a\n- `db` — b\n<!-- /commands -->')).toEqual(['synth', 'db']);
    expect(slug('The database in AWS mode: `db init`, the cutover function and the DNS switch')).toBe(
      'the-database-in-aws-mode-db-init-the-cutover-function-and-the-dns-switch',
    );
  });

  it.each(DOCS)('every relative link in %s resolves to an existing file and heading', (file) => {
    const text = read(file);
    const broken: string[] = [];
    for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = m[1] as string;
      if (/^[a-z]+:/.test(target)) continue; // http(s), mailto
      const [rel, anchor] = target.split('#') as [string, string | undefined];
      const resolved = rel === '' ? file : path.join(path.dirname(file), rel);
      if (!existsSync(path.join(REPO_ROOT, resolved))) {
        broken.push(`${target} (no file ${resolved})`);
        continue;
      }
      if (anchor && resolved.endsWith('.md') && !anchors(read(resolved)).has(anchor)) broken.push(`${target} (no heading #${anchor} in ${resolved})`);
    }
    expect(broken).toEqual([]);
  });
});
