/** An Io over memory streams, for in-process command tests (confirm() needs --yes; ask() reads `input`). */
import { PassThrough, Writable } from 'node:stream';
import { Io } from '../../../src/cli/io.js';

export function memoryIo(opts: { json?: boolean; yes?: boolean; verbose?: boolean; input?: string } = {}): {
  io: Io;
  stdout: () => string;
  stderr: () => string;
} {
  let out = '';
  let err = '';
  const stdout = new Writable({
    write: (c, _e, cb) => {
      out += String(c);
      cb();
    },
  });
  const stderr = new Writable({
    write: (c, _e, cb) => {
      err += String(c);
      cb();
    },
  });
  const stdin = new PassThrough();
  stdin.end(opts.input ?? '');
  const io = new Io({ json: opts.json ?? false, color: false, verbose: opts.verbose ?? false, yes: opts.yes ?? false }, { stdout, stderr, stdin });
  return { io, stdout: () => out, stderr: () => err };
}
