/**
 * TLS settings of the Lambda functions' database connections (validator and cutover share this), from the
 * environment. Default: TLS verifying the server certificate against the RDS CA bundle the Lambda runtime ships
 * (src/core/lambda-env.ts RDS_CA_BUNDLE), or the system store when that file is absent. The one explicit
 * test/tunnel knob `BGMIG_DB_SSL=disable` selects plain TCP (local PostgreSQL servers in tests); it is never set
 * by the stack.
 */
import { existsSync, readFileSync } from 'node:fs';
import { failure } from '../core/errors.js';
import { RDS_CA_BUNDLE } from '../core/lambda-env.js';
import type { DbTarget } from './connection.js';

/** Environment variable name of the knob. */
export const DB_SSL_ENV = 'BGMIG_DB_SSL';

export type LambdaSslMode = 'verify-full' | 'disable';

export function lambdaSslMode(env: NodeJS.ProcessEnv = process.env): LambdaSslMode {
  const v = (env[DB_SSL_ENV] ?? '').trim();
  if (v === '' || v === 'verify-full') return 'verify-full';
  if (v === 'disable') return 'disable';
  throw failure(
    `${DB_SSL_ENV}="${v}" is not supported: leave it unset (TLS verifying the RDS certificate) or set it to "disable" for a local plain-TCP server.`,
  );
}

/** The `ssl` field of a DbTarget for the Lambda's connections. */
export function lambdaSsl(env: NodeJS.ProcessEnv = process.env, caPath: string = RDS_CA_BUNDLE): DbTarget['ssl'] {
  if (lambdaSslMode(env) === 'disable') return false;
  return existsSync(caPath) ? { ca: readFileSync(caPath, 'utf8') } : {};
}
