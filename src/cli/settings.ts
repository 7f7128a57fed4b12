/**
 * An environment's settings in a file, so a redeploy does not depend on retyping flags (issue 16, kind 3), and the
 * rule that a deploy never silently changes the environment-level protections of a deployed stack.
 *
 * The file: `--settings FILE`, or `bgmig.<suffix>.json` in the current directory when it exists. JSON:
 *
 *     {
 *       "suffix": "shop-prod",                      // optional; must match --suffix
 *       "region": "eu-west-1",                      // optional; must match --region
 *       "environment": "prod",
 *       "certificateArn": "arn:aws:acm:eu-west-1:111122223333:certificate/…",
 *       "availabilityZones": ["eu-west-1a", "eu-west-1b", "eu-west-1c"],
 *       "haNat": true,
 *       "blueImage": "registry.example.com/shop:1.42", "greenImage": "registry.example.com/shop:1.43",
 *       "containerPort": 8080, "healthCheckPath": "/health", "testCidr": "10.20.0.0/16",
 *       "alarmEmail": "oncall@example.com", "costCenter": "shop",
 *       "thresholds": { "cpuPercent": 80, "memoryPercent": 80, "dbConnectionsPercent": 80, "http5xxPerMinute": 10, "unhealthyHosts": 1 }
 *     }
 *
 * Every key is optional; an unknown key, a wrong type or a bad value is exit 2 with one sentence naming the file and
 * the key. A flag given on the command line wins over the file; the file wins over the defaults.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { type Environment, ENVIRONMENTS } from '../core/config.js';
import { badInput, messageOf, refused } from '../core/errors.js';
import type { StackOptionValues } from './cdk.js';

export interface Settings {
  file: string;
  suffix?: string | undefined;
  region?: string | undefined;
  values: StackOptionValues;
}

type Kind = 'string' | 'number' | 'boolean' | 'string[]';

/** File key → [kind, the stack option it sets]. */
const KEYS: Record<string, [Kind, keyof StackOptionValues]> = {
  environment: ['string', 'environment'],
  certificateArn: ['string', 'certificateArn'],
  availabilityZones: ['string[]', 'azs'],
  haNat: ['boolean', 'haNat'],
  blueImage: ['string', 'blueImage'],
  greenImage: ['string', 'greenImage'],
  containerPort: ['number', 'containerPort'],
  healthCheckPath: ['string', 'healthCheckPath'],
  testCidr: ['string', 'testCidr'],
  alarmEmail: ['string', 'alarmEmail'],
  costCenter: ['string', 'costCenter'],
};

const THRESHOLD_KEYS: Record<string, keyof StackOptionValues> = {
  cpuPercent: 'cpuThreshold',
  memoryPercent: 'memoryThreshold',
  dbConnectionsPercent: 'dbConnectionsThreshold',
  http5xxPerMinute: '5xxThreshold',
  unhealthyHosts: 'unhealthyHostsThreshold',
};

function typeOk(kind: Kind, v: unknown): boolean {
  if (kind === 'string[]') return Array.isArray(v) && v.every((x) => typeof x === 'string');
  if (kind === 'number') return typeof v === 'number' && Number.isFinite(v);
  return typeof v === kind;
}

const KIND_WORDS: Record<Kind, string> = { string: 'a string', number: 'a number', boolean: 'true or false', 'string[]': 'a list of strings' };

/** Parses and type-checks a settings file's text (values are checked by the stack options' own validation). */
export function parseSettings(text: string, file: string): Settings {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw badInput(`Settings file ${file} is not valid JSON (${messageOf(e)}): fix it or pass another --settings file.`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw badInput(`Settings file ${file} must hold one JSON object of settings, like {"environment": "prod"}.`);
  const out: Settings = { file, values: {} };
  const known = [...Object.keys(KEYS), 'suffix', 'region', 'thresholds'];
  for (const [key, v] of Object.entries(raw as Record<string, unknown>)) {
    if (key === 'suffix' || key === 'region') {
      if (typeof v !== 'string') throw badInput(`Settings file ${file}: "${key}" must be a string.`);
      out[key] = v;
      continue;
    }
    if (key === 'thresholds') {
      if (typeof v !== 'object' || v === null || Array.isArray(v))
        throw badInput(`Settings file ${file}: "thresholds" must be an object like {"cpuPercent": 80}.`);
      for (const [tk, tv] of Object.entries(v as Record<string, unknown>)) {
        const opt = THRESHOLD_KEYS[tk];
        if (!opt) throw badInput(`Settings file ${file}: unknown threshold "${tk}" (known: ${Object.keys(THRESHOLD_KEYS).join(', ')}).`);
        if (typeof tv !== 'number' || !Number.isInteger(tv))
          throw badInput(`Settings file ${file}: "thresholds.${tk}" must be a whole number, got ${JSON.stringify(tv)}.`);
        (out.values as Record<string, unknown>)[opt] = String(tv);
      }
      continue;
    }
    const spec = KEYS[key];
    if (!spec) throw badInput(`Settings file ${file}: unknown key "${key}" (known: ${known.join(', ')}).`);
    const [kind, opt] = spec;
    if (!typeOk(kind, v)) throw badInput(`Settings file ${file}: "${key}" must be ${KIND_WORDS[kind]}, got ${JSON.stringify(v)}.`);
    (out.values as Record<string, unknown>)[opt] = kind === 'string[]' ? (v as string[]).join(',') : kind === 'number' ? String(v) : v;
  }
  if (out.values.environment !== undefined && !(ENVIRONMENTS as readonly string[]).includes(out.values.environment)) {
    throw badInput(`Settings file ${file}: "environment" must be one of ${ENVIRONMENTS.join(', ')}, got "${out.values.environment}".`);
  }
  return out;
}

/** The default settings file of an environment: `bgmig.<suffix>.json` in `cwd`. */
export function defaultSettingsFile(suffix: string, cwd = process.cwd()): string {
  return path.join(cwd, `bgmig.${suffix}.json`);
}

/** Reads the settings: the given file (must exist), else the default file when present, else none. */
export function loadSettings(suffix: string, region: string, given: string | undefined, cwd = process.cwd()): Settings | undefined {
  const file = given ?? defaultSettingsFile(suffix, cwd);
  if (given === undefined && !existsSync(file)) return undefined;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw badInput(`Cannot read the settings file ${file} (${(e as { code?: string }).code ?? messageOf(e)}): check the path given to --settings.`);
  }
  const s = parseSettings(text, path.relative(cwd, file) || file);
  if (s.suffix !== undefined && s.suffix !== suffix)
    throw badInput(`Settings file ${s.file} is for suffix "${s.suffix}", not "${suffix}": pass --suffix ${s.suffix} or the right --settings file.`);
  if (s.region !== undefined && s.region !== region)
    throw badInput(`Settings file ${s.file} is for region ${s.region}, but this command runs in ${region}: pass --region ${s.region}.`);
  return s;
}

/**
 * The stack options to use: a flag given on the command line (`source(key) === 'cli'` or 'env') wins, then the file,
 * then what commander filled in as a default. `explicit` lists the options the operator stated (flag or file).
 */
export function mergeStackOptions(
  cli: StackOptionValues,
  source: (key: keyof StackOptionValues) => string | undefined,
  settings: Settings | undefined,
): { values: StackOptionValues; explicit: Set<keyof StackOptionValues> } {
  const values: StackOptionValues = { ...cli };
  const explicit = new Set<keyof StackOptionValues>();
  for (const key of Object.keys(cli) as (keyof StackOptionValues)[]) {
    const src = source(key);
    if (src === 'cli' || src === 'env') explicit.add(key);
  }
  for (const [key, v] of Object.entries(settings?.values ?? {}) as [keyof StackOptionValues, unknown][]) {
    if (explicit.has(key)) continue;
    (values as Record<string, unknown>)[key] = v;
    explicit.add(key);
  }
  return { values, explicit };
}

/**
 * Which environment a deploy synthesizes, given what is deployed. The environment decides protections (prod: deletion
 * protection on both Aurora clusters), so:
 * - nothing deployed, or the operator did not state one: the deployed environment is kept (a forgotten
 *   `--environment prod` must not synthesize DeletionProtection false);
 * - stated and the same, or stronger (dev → prod): used;
 * - stated and weaker than what is deployed (prod → dev/staging): refused (exit 3) unless `allowChange`.
 * `deployed` is the stack's Environment output (undefined: no stack, or one from before that output).
 */
export function decideEnvironment(o: { deployed: Environment | undefined; requested: Environment; explicit: boolean; allowChange: boolean; stack: string }): {
  environment: Environment;
  note?: string;
} {
  if (o.deployed === undefined) return { environment: o.requested };
  if (!o.explicit) {
    return {
      environment: o.deployed,
      ...(o.requested !== o.deployed
        ? {
            note: `Keeping environment ${o.deployed} as deployed${o.deployed === 'prod' ? ' (deletion protection on both databases stays on)' : ''}; state --environment to change it.`,
          }
        : {}),
    };
  }
  if (o.requested === o.deployed) return { environment: o.requested };
  const weakens = o.deployed === 'prod' && o.requested !== 'prod';
  if (weakens && !o.allowChange) {
    throw refused(
      `${o.stack} is deployed as prod (deletion protection on both databases); --environment ${o.requested} would turn that protection off: if that is what you mean, add --change-environment (nothing was deployed).`,
    );
  }
  return {
    environment: o.requested,
    note: `Changing the environment of ${o.stack} from ${o.deployed} to ${o.requested}${weakens ? ' (turns deletion protection off)' : ''}.`,
  };
}

export function isEnvironment(v: string | undefined): v is Environment {
  return v !== undefined && (ENVIRONMENTS as readonly string[]).includes(v);
}

/**
 * For synth/deploy/diff: loads the settings file (given or default), merges it under the command-line flags and says
 * where settings came from. `cmd` is the subcommand (for the flags' value sources).
 */
export function resolveStackOptions(
  cmd: { getOptionValueSource(key: string): string | undefined },
  o: StackOptionValues & { settings?: string | undefined },
  suffix: string,
  region: string,
  info: (text: string) => void,
): { values: StackOptionValues; explicit: Set<keyof StackOptionValues> } {
  const { settings: given, ...cli } = o;
  const settings = loadSettings(suffix, region, given);
  if (settings) info(`Using settings from ${settings.file} (flags on the command line win).`);
  return mergeStackOptions(cli, (k) => cmd.getOptionValueSource(k), settings);
}
