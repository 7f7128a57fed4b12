// Builds the CLI (code-split ESM, dependencies external so heavy ones stay lazily loaded) and the Lambda bundles
// (fully self-contained, the artifacts that ship). Runs in `npm ci` via the prepare script; takes well under a second.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// Build into a private staging directory and swap each output into place with rename(2): several test runs may
// share a checkout, and a bgmig process reading dist/ must never see it missing or half-written.
const stage = path.join(root, `.dist-build-${process.pid}`);
rmSync(stage, { recursive: true, force: true });

const started = Date.now();
/** The commit this build is made from, for `bgmig --version` ("unknown" outside a git checkout). */
function buildCommit() {
  try {
    const git = (...args) => execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return `${git('rev-parse', '--short=12', 'HEAD')}${git('status', '--porcelain', '--untracked-files=no') ? '-dirty' : ''}`;
  } catch {
    return 'unknown';
  }
}
try {
  await Promise.all([
    build({
      absWorkingDir: root,
      entryPoints: { main: 'src/cli/main.ts' },
      outdir: path.join(stage, 'cli'),
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      packages: 'external',
      sourcemap: true,
      define: { __BGMIG_COMMIT__: JSON.stringify(buildCommit()) },
      logLevel: 'warning',
    }),
    ...['schema-validator', 'db-cutover', 'rollback-guard'].map((name) =>
      build({
        absWorkingDir: root,
        entryPoints: [`src/lambda/${name}.ts`],
        outfile: path.join(stage, 'lambda', name, 'index.mjs'),
        bundle: true,
        format: 'esm',
        platform: 'node',
        target: 'node22',
        minify: true,
        sourcemap: 'inline',
        external: ['pg-native'],
        // Some bundled CommonJS dependencies call require(); give the ESM bundle one.
        banner: { js: "import { createRequire as __bgmigCreateRequire } from 'node:module'; const require = __bgmigCreateRequire(import.meta.url);" },
        logLevel: 'warning',
      }),
    ),
  ]);
  for (const part of ['cli', path.join('lambda', 'schema-validator'), path.join('lambda', 'db-cutover'), path.join('lambda', 'rollback-guard')]) {
    const target = path.join(root, 'dist', part);
    const old = path.join(stage, `old-${part.replace(/[\\/]/g, '-')}`);
    mkdirSync(path.dirname(target), { recursive: true });
    // Another build may swap its output in between our two renames: retry a few times.
    for (let attempt = 0; ; attempt++) {
      try {
        if (existsSync(target)) renameSync(target, old);
        renameSync(path.join(stage, part), target);
        if (part === 'cli') keepOldChunks(old, target);
        break;
      } catch (e) {
        if (attempt >= 5) throw e;
        rmSync(old, { recursive: true, force: true });
      }
    }
  }
} finally {
  rmSync(stage, { recursive: true, force: true });
}

/**
 * A bgmig already running (a rollout baking, a `status --watch`) imports its lazily loaded chunks by the names it
 * was built with. Those names are content hashes, so an old name never means new content: move the old build's chunks
 * that the new one lacks into the new dir, so that an upgrade or a test build under a running process breaks nothing.
 * Chunks not rebuilt for a day are left out, so dist/ does not grow without end.
 */
function keepOldChunks(oldDir, newDir) {
  if (!existsSync(oldDir)) return;
  const dayAgo = Date.now() - 24 * 3600_000;
  for (const name of readdirSync(oldDir)) {
    // Every output but the entry point is named by its content hash (chunk-XXXX.js, app-XXXX.js, …).
    if (!/-[A-Z0-9]{8}\.js(\.map)?$/.test(name)) continue;
    const from = path.join(oldDir, name);
    const to = path.join(newDir, name);
    if (existsSync(to) || statSync(from).mtimeMs < dayAgo) continue;
    renameSync(from, to);
  }
}
if (process.env.BGMIG_BUILD_QUIET !== '1') process.stderr.write(`bgmig: built dist/ in ${Date.now() - started} ms\n`);
