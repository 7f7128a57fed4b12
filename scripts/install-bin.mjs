#!/usr/bin/env node
// Puts this checkout's bgmig on PATH: a symlink <dir>/bgmig → <checkout>/bin/bgmig.js, where <dir> is the first of
// --dir DIR, $BGMIG_BIN_DIR, ~/.local/bin. No registry is asked for anything (`npx bgmig` outside the checkout would
// ask the public registry for a package of that name, which nobody here controls); run it after `npm ci`.
// Re-running replaces an older bgmig link; a file that is not a bgmig link is never overwritten.
import { existsSync, lstatSync, mkdirSync, readlinkSync, symlinkSync, unlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const target = path.join(root, 'bin', 'bgmig.js');
const i = process.argv.indexOf('--dir');
const dir = path.resolve(i > 0 && process.argv[i + 1] ? process.argv[i + 1] : process.env.BGMIG_BIN_DIR || path.join(os.homedir(), '.local', 'bin'));
const link = path.join(dir, 'bgmig');

function fail(message) {
  process.stderr.write(`error: ${message}\n`);
  process.exit(1);
}

if (!existsSync(path.join(root, 'dist', 'cli', 'main.js'))) fail('bgmig is not built: run `npm ci` in the checkout first.');
mkdirSync(dir, { recursive: true });
let existing;
try {
  existing = lstatSync(link);
} catch {
  existing = undefined;
}
if (existing) {
  if (!existing.isSymbolicLink()) fail(`${link} exists and is not a link: move it away, or pass --dir DIR.`);
  const to = readlinkSync(link);
  if (path.basename(to) !== 'bgmig.js') fail(`${link} links to ${to}, not to a bgmig checkout: move it away, or pass --dir DIR.`);
  unlinkSync(link);
}
symlinkSync(target, link);
process.stdout.write(`${link} → ${target}\n`);
const onPath = (process.env.PATH ?? '').split(path.delimiter).some((p) => p && path.resolve(p) === dir);
if (!onPath) process.stdout.write(`${dir} is not on your PATH: add it (e.g. export PATH="${dir}:$PATH" in your shell profile).\n`);
