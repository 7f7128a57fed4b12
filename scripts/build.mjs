// Builds the CLI (code-split ESM, dependencies external so heavy ones stay lazily loaded) and the Lambda bundles
// (fully self-contained, the artifacts that ship). Runs in `npm ci` via the prepare script; takes well under a second.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
rmSync(path.join(root, 'dist'), { recursive: true, force: true });

const started = Date.now();
await Promise.all([
  build({
    absWorkingDir: root,
    entryPoints: { main: 'src/cli/main.ts' },
    outdir: 'dist/cli',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    sourcemap: true,
    logLevel: 'warning',
  }),
  ...['schema-validator', 'db-cutover'].map((name) =>
    build({
      absWorkingDir: root,
      entryPoints: [`src/lambda/${name}.ts`],
      outfile: `dist/lambda/${name}/index.mjs`,
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
if (process.env.BGMIG_BUILD_QUIET !== '1') process.stderr.write(`bgmig: built dist/ in ${Date.now() - started} ms\n`);
