/**
 * The global options checked before any command does anything (issue 16, kind 5): the region is a known AWS
 * region, the profile exists in the shared config or credentials file, the role is an IAM role ARN, the endpoint is
 * an http(s) URL, the AWS call bound is a duration. Each failure is exit 2 with one sentence.
 *
 * Pure functions over their inputs (the files' text, the environment) so they are unit-tested without a disk.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { badInput } from '../core/errors.js';
import { parseDuration } from '../core/units.js';
import { closest } from './suggest.js';

/**
 * Public AWS regions, GovCloud and China (https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-regions.html,
 * as of 2026). A region AWS opens later can be added with BGMIG_EXTRA_REGIONS=xx-yyyy-1,… until bgmig lists it.
 */
export const KNOWN_REGIONS: readonly string[] = [
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2',
  'af-south-1',
  'ap-east-1',
  'ap-east-2',
  'ap-south-1',
  'ap-south-2',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-southeast-3',
  'ap-southeast-4',
  'ap-southeast-5',
  'ap-southeast-6',
  'ap-southeast-7',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-northeast-3',
  'ca-central-1',
  'ca-west-1',
  'eu-central-1',
  'eu-central-2',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'eu-south-1',
  'eu-south-2',
  'eu-north-1',
  'il-central-1',
  'me-south-1',
  'me-central-1',
  'mx-central-1',
  'sa-east-1',
  'us-gov-east-1',
  'us-gov-west-1',
  'cn-north-1',
  'cn-northwest-1',
];

export function validateRegion(region: string, env: NodeJS.ProcessEnv = process.env): string {
  const extra = (env.BGMIG_EXTRA_REGIONS ?? '')
    .split(',')
    .map((r) => r.trim())
    .filter((r) => r !== '');
  const known = [...KNOWN_REGIONS, ...extra];
  if (known.includes(region)) return region;
  const near = closest(region, known);
  throw badInput(
    `--region "${region}" is not an AWS region${near ? ` (did you mean ${near}?)` : ''}: pass one like us-east-1 (a region newer than this bgmig can be allowed with BGMIG_EXTRA_REGIONS=${region}).`,
  );
}

const ROLE_ARN_RE = /^arn:aws(-[a-z]+)*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

export function validateRoleArn(value: string): string {
  if (!ROLE_ARN_RE.test(value)) throw badInput(`--role-arn must be an IAM role ARN like arn:aws:iam::111122223333:role/NAME, got "${value}".`);
  return value;
}

export function validateEndpointUrl(value: string, source: string): string {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw badInput(`${source} must be an http(s) URL like http://localhost:5000, got "${value}".`);
  }
  if ((u.protocol !== 'http:' && u.protocol !== 'https:') || !u.hostname) {
    throw badInput(`${source} must be an http(s) URL like http://localhost:5000, got "${value}".`);
  }
  return value;
}

/** `--call-timeout`: a duration (20s, 2m, 500ms) or whole seconds; 1 s to 1 h. Returns ms. */
export function parseAwsTimeout(value: string, source: string): number {
  const v = value.trim();
  const ms = /^\d+$/.test(v) ? Number(v) * 1000 : parseDuration(v, source);
  if (ms < 1000 || ms > 3_600_000) throw badInput(`${source} must be between 1s and 60m, got "${value}".`);
  return ms;
}

/** Profile names defined in the shared config file (`[profile X]`, `[default]`) and credentials file (`[X]`). */
export function profilesIn(configText: string, credentialsText: string): Set<string> {
  const found = new Set<string>();
  for (const m of configText.matchAll(/^\s*\[\s*(?:profile\s+)?([^\]\s]+)\s*\]/gm)) if (m[1] !== undefined) found.add(m[1]);
  for (const m of credentialsText.matchAll(/^\s*\[\s*([^\]\s]+)\s*\]/gm)) if (m[1] !== undefined) found.add(m[1]);
  // [sso-session x] and [services x] sections are not profiles.
  for (const m of configText.matchAll(/^\s*\[\s*(sso-session|services)\s+[^\]]+\]/gm)) found.delete(m[1] ?? '');
  return found;
}

function readIfExists(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/**
 * Fails when `profile` (from --profile, or AWS_PROFILE when `source` says so) is not defined in the shared files
 * the SDK reads (AWS_CONFIG_FILE, default ~/.aws/config; AWS_SHARED_CREDENTIALS_FILE, default ~/.aws/credentials).
 * https://docs.aws.amazon.com/sdkref/latest/guide/file-location.html
 */
export function validateProfile(profile: string, source: string, env: NodeJS.ProcessEnv = process.env): string {
  const home = os.homedir();
  const configFile = env.AWS_CONFIG_FILE || path.join(home, '.aws', 'config');
  const credentialsFile = env.AWS_SHARED_CREDENTIALS_FILE || path.join(home, '.aws', 'credentials');
  const profiles = profilesIn(readIfExists(configFile), readIfExists(credentialsFile));
  if (profiles.has(profile)) return profile;
  const near = closest(profile, [...profiles]);
  throw badInput(
    `${source} names the profile "${profile}", which is in neither ${configFile} nor ${credentialsFile}${near ? ` (did you mean ${near}?)` : ''}: check the name with \`aws configure list-profiles\`.`,
  );
}
