/**
 * House rules over the source text of src/ (issue #15): cheap checks that keep the tree in the order the issue
 * put it in. Each rule is a pure function over `{ path → text }`, checked once against a small made-up tree (so a
 * rule that stops matching anything fails here, not silently) and then against src/. A failure names the files.
 * The modules are read as text, never imported: the rules are about how the code is written, and importing every
 * verb would load the SDKs and the CDK.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Repository-relative path (forward slashes) → text, for every .ts file under src/. */
function readSources(): Map<string, string> {
  const out = new Map<string, string>();
  for (const rel of readdirSync(path.join(ROOT, 'src'), { recursive: true, encoding: 'utf8' })) {
    if (!rel.endsWith('.ts')) continue;
    const file = `src/${rel.split(path.sep).join('/')}`;
    out.set(file, readFileSync(path.join(ROOT, file), 'utf8'));
  }
  return out;
}

/** The text without comments (block comments, and lines that are only a `//` comment), so prose cannot trip a rule. */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
}

const EXPORTED =
  /^export\s+(?:declare\s+)?(?:abstract\s+)?(?:interface|type|class|enum|const\s+enum|const|let|(?:async\s+)?function\*?)\s+([A-Za-z_$][\w$]*)/gm;

/** The names a module exports by declaration (`export { … }` re-exports are not definitions). */
function exportedNames(text: string): Set<string> {
  return new Set([...code(text).matchAll(EXPORTED)].map((m) => m[1] as string));
}

/**
 * Names every module of a kind defines by convention, and the folder that kind lives in: a verb module's
 * `register`/`exitCodeOf`, a Lambda module's `handler`/`makeHandler`. Defined anywhere else, they collide.
 */
const CONVENTIONAL: Record<string, string> = {
  register: 'src/cli/commands/',
  exitCodeOf: 'src/cli/commands/',
  handler: 'src/lambda/',
  makeHandler: 'src/lambda/',
};

/** (a) Exported names defined in more than one module: `name: file, file`. */
function collidingNames(sources: Map<string, string>): string[] {
  const where = new Map<string, string[]>();
  for (const [file, text] of sources) for (const name of exportedNames(text)) where.set(name, [...(where.get(name) ?? []), file]);
  const out: string[] = [];
  for (const [name, files] of where) {
    if (files.length < 2) continue;
    const folder = CONVENTIONAL[name];
    if (folder !== undefined && files.every((f) => f.startsWith(folder))) continue;
    out.push(`${name}: ${files.sort().join(', ')}`);
  }
  return out.sort();
}

const ERRORS_MODULE = 'src/core/errors.ts';

/** (b) Files that construct a BgmigError directly instead of through its kind's builder. */
function directErrorConstructions(sources: Map<string, string>): string[] {
  return [...sources].filter(([file, text]) => file !== ERRORS_MODULE && /\bnew\s+BgmigError\s*\(/.test(code(text))).map(([file]) => file);
}

/** Files under src/cli/commands/ that are not verbs: the command groups and the helpers the db verbs share. */
const NOT_VERBS = new Set([
  'src/cli/commands/db.ts',
  'src/cli/commands/db/sync.ts',
  'src/cli/commands/db/common.ts',
  'src/cli/commands/db/switchover-gates.ts',
]);

/** (c) Verb modules missing part of the verb shape (src/cli/verb.ts): `file: missing register, run…, render…`. */
function incompleteVerbs(sources: Map<string, string>): string[] {
  const out: string[] = [];
  for (const [file, text] of sources) {
    if (!file.startsWith('src/cli/commands/') || NOT_VERBS.has(file)) continue;
    const names = [...exportedNames(text)];
    const missing = [
      names.includes('register') ? undefined : 'register',
      names.some((n) => /^run[A-Z]/.test(n)) ? undefined : 'run…',
      names.some((n) => /^render[A-Z]/.test(n)) ? undefined : 'render…',
    ].filter((m) => m !== undefined);
    if (missing.length > 0) out.push(`${file}: missing ${missing.join(', ')}`);
  }
  return out.sort();
}

/**
 * (d) Resource names written in the CDK app instead of taken from the naming module (src/core/naming.ts): a
 * `…Name`, `name` or `family` property given a template literal that interpolates the suffix itself. Descriptions
 * and display names may; a name derived from a naming function (`${n.auroraCluster(c)}`) is fine. `file: property`.
 */
function namesOutsideNaming(sources: Map<string, string>): string[] {
  const out: string[] = [];
  for (const [file, text] of sources) {
    if (!file.startsWith('src/infra/')) continue;
    for (const m of code(text).matchAll(/\b([A-Za-z]*Name|name|family)\s*:\s*`[^`]*\$\{(?:s|suffix|[\w.]*\.suffix)\}/g)) {
      if (m[1] !== 'displayName') out.push(`${file}: ${m[1]}`);
    }
  }
  return out.sort();
}

/** The resource-type prefixes of src/core/naming.ts (`{resource-type}-{suffix}`). */
const NAME_PREFIXES = 'alarm|alb|aurora|dashboard|ecs|kms|lambda|log|pg|role|rule|s3|secret|sg|sns|svc|task|tg|vpc';
const HAND_BUILT_NAME = new RegExp(`\\b(?:${NAME_PREFIXES})-[a-z0-9-]*\\$\\{[\\w.]*(?:suffix|\\bs)\\}`, 'g');

/** (e) A resource name built by hand anywhere in src/ outside the naming module: `file: the name's start`. */
function handBuiltNames(sources: Map<string, string>): string[] {
  const out: string[] = [];
  for (const [file, text] of sources) {
    if (file === 'src/core/naming.ts') continue;
    for (const m of code(text).matchAll(HAND_BUILT_NAME)) out.push(`${file}: ${m[0]}`);
  }
  return out.sort();
}

describe('house rules (made-up tree: each rule catches its violation)', () => {
  const tree = new Map([
    ['src/a/one.ts', 'export interface Verdict { pass: boolean }\nexport function register() {}\n'],
    ['src/b/two.ts', "export type Verdict = 'ok';\n/** new BgmigError( in prose is fine */\nexport const x = new BgmigError('no');\n"],
    ['src/core/errors.ts', 'export class BgmigError {}\nexport const failure = () => new BgmigError();\n'],
    ['src/cli/commands/good.ts', 'export function register() {}\nexport async function runGood() {}\nexport const renderGood = String;\n'],
    ['src/cli/commands/bad.ts', 'export function register() {}\nexport function exitCodeOf() {}\n'],
    ['src/cli/commands/db/common.ts', 'export const helper = 1;\n'],
    ['src/lambda/f.ts', 'export const handler = 1;\nexport function exitCodeOf() {}\n'],
    [
      'src/infra/constructs/x.ts',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: made-up source text that itself contains template literals
      'new Secret(this, "S", { secretName: `secret-x-${s}`, description: `for ${s}` });\nnew Role(this, "R", { roleName: n.xRole });\n',
    ],
  ]);

  it('(a) flags a name defined twice, and a conventional name outside its folder', () => {
    expect(collidingNames(tree)).toEqual([
      'Verdict: src/a/one.ts, src/b/two.ts',
      'exitCodeOf: src/cli/commands/bad.ts, src/lambda/f.ts',
      'register: src/a/one.ts, src/cli/commands/bad.ts, src/cli/commands/good.ts',
    ]);
  });

  it('(b) flags new BgmigError( outside src/core/errors.ts, not in comments', () => {
    expect(directErrorConstructions(tree)).toEqual(['src/b/two.ts']);
  });

  it('(c) flags a verb module without register, run… and render…; skips the group and helper files', () => {
    expect(incompleteVerbs(tree)).toEqual(['src/cli/commands/bad.ts: missing run…, render…']);
  });

  it('(d) flags a resource name built in the CDK app, not a description', () => {
    expect(namesOutsideNaming(tree)).toEqual(['src/infra/constructs/x.ts: secretName']);
  });

  it('(e) flags a resource name built by hand outside the naming module', () => {
    const more = new Map([
      // biome-ignore lint/suspicious/noTemplateCurlyInString: made-up source text that itself contains template literals
      ['src/rollout/r.ts', 'warn(`re-arm with --name rule-rollback-guard-${s.suffix}`); const ok = `pooler-${s}: note`;\n'],
      // biome-ignore lint/suspicious/noTemplateCurlyInString: made-up source text that itself contains template literals
      ['src/core/naming.ts', 'export const n = `rule-x-${s}`;\n'],
    ]);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the expected match is source text with a placeholder
    expect(handBuiltNames(more)).toEqual(['src/rollout/r.ts: rule-rollback-guard-${s.suffix}']);
  });
});

describe('house rules (src/)', () => {
  const sources = readSources();

  it('reads the source tree', () => {
    expect(sources.has(ERRORS_MODULE)).toBe(true);
    for (const f of NOT_VERBS) expect(sources.has(f), `${f} is listed as a non-verb but does not exist`).toBe(true);
  });

  it('(a) no exported name is defined in two modules (conventional per-module names excepted)', () => {
    expect(collidingNames(sources)).toEqual([]);
  });

  it('(b) errors are built by their kind: no new BgmigError( outside src/core/errors.ts', () => {
    expect(directErrorConstructions(sources)).toEqual([]);
  });

  it('(c) every verb module exports register, a run… and a render…', () => {
    expect(incompleteVerbs(sources)).toEqual([]);
  });

  it('(d) every resource name in the CDK app comes from the naming module', () => {
    expect(namesOutsideNaming(sources)).toEqual([]);
  });

  it('(e) no resource name is built by hand outside the naming module', () => {
    expect(handBuiltNames(sources)).toEqual([]);
  });
});
