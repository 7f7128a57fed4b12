/** Locates files shipped with the package (the built Lambda bundles), from source or from the bundled CLI. */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

export function packageRoot(): string {
  if (root) return root;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg)) {
      const parsed = JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string };
      if (parsed.name === 'bgmig') {
        root = dir;
        return root;
      }
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`bgmig package.json not found above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

export function packageVersion(): string {
  const parsed = JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string };
  return parsed.version;
}

export type LambdaName = 'schema-validator' | 'db-cutover' | 'rollback-guard';

/** Directory holding the esbuild bundle (index.mjs) of a Lambda handler, produced by `npm run build`. */
export function lambdaBundleDir(name: LambdaName): string {
  return path.join(packageRoot(), 'dist', 'lambda', name);
}
