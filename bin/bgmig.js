#!/usr/bin/env node
// The bgmig executable: runs the esbuild bundle built by `npm ci` (prepare) or `npm run build`.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// The AWS SDK warns on every run under Node 20 that *future* SDK releases will need Node 22. bgmig pins its SDK
// (package-lock.json), so the notice tells an operator mid-migration nothing actionable; set the variable to
// "false" to see it anyway.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const entry = new URL('../dist/cli/main.js', import.meta.url);
// scripts/build.mjs swaps dist/cli in with two renames: a concurrent build leaves it missing for a moment. Wait for
// that moment (at most 2 s) before calling the checkout unbuilt.
for (let waited = 0; !existsSync(fileURLToPath(entry)) && waited < 2000; waited += 50) await new Promise((r) => setTimeout(r, 50));
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('error: bgmig is not built: run `npm ci` (or `npm run build`) in the bgmig checkout first.\n');
  process.exit(1);
}
const { main } = await import(entry.href);
try {
  process.exit(await main(process.argv));
} catch (e) {
  process.stderr.write(`error: unexpected failure: ${e instanceof Error ? e.message : String(e)} (re-run with --verbose for details)\n`);
  if (process.argv.includes('--verbose') && e instanceof Error) process.stderr.write(`${e.stack}\n`);
  process.exit(1);
}
