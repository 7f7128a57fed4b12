/**
 * Inputs of the embedded CDK app. Built by the CLI from options (synth/deploy/diff) and by tests; the infra code
 * reads only this object, never process.argv or the environment.
 */
import { badInput } from './errors.js';
import { type Color, validateSuffix } from './naming.js';

export type Environment = 'dev' | 'staging' | 'prod';
export const ENVIRONMENTS: readonly Environment[] = ['dev', 'staging', 'prod'];

export interface Weights {
  blue: number;
  green: number;
}

export interface AlarmThresholds {
  cpuPercent: number;
  memoryPercent: number;
  /** Fraction (0–1) of the instance class's max_connections at which the DB connections alarm fires. */
  dbConnectionsFraction: number;
  http5xxCount: number;
  unhealthyHosts: number;
}

export interface StackConfig {
  suffix: string;
  environment: Environment;
  region: string;
  /** Explicit account, or undefined for an environment-agnostic account (region stays explicit). */
  account?: string | undefined;
  availabilityZones: string[];
  haNat: boolean;
  certificateArn: string;
  /** True when no --certificate-arn was given and a placeholder is used: deploy refuses it. */
  certificateIsPlaceholder: boolean;
  blueImage: string;
  greenImage: string;
  containerPort: number;
  healthCheckPath: string;
  /** CIDR admitted to the 8443 test listener that always forwards to green. */
  testCidr: string;
  /** Listener weights synthesized into the template (deploy passes the live ones). */
  weights: Weights;
  /** Which cluster the private DNS record points at (deploy passes the live one). */
  activeDatabase: Color;
  dbInstanceClass: string;
  alarmEmail?: string | undefined;
  costCenter?: string | undefined;
  thresholds: AlarmThresholds;
  /** A PgBouncer tier in front of the databases (src/infra/constructs/pooler.ts); off unless --pooler. */
  pooler?: boolean | undefined;
}

/**
 * TTL of the db CNAME. The template and every UPSERT must agree: CloudFormation deletes a record by its template
 * definition, so a record re-pointed with another TTL could not be deleted by `destroy`.
 */
export const DB_RECORD_TTL_SECONDS = 5;

export const PLACEHOLDER_CERTIFICATE_ARN = 'arn:aws:acm:us-east-1:000000000000:certificate/00000000-0000-0000-0000-placeholder0';

export const DEFAULTS = {
  environment: 'dev' as Environment,
  region: 'us-east-1',
  image: 'public.ecr.aws/nginx/nginx:1.27',
  containerPort: 80,
  healthCheckPath: '/',
  testCidr: '10.0.0.0/8',
  dbInstanceClass: 'db.r6g.large',
  weights: { blue: 100, green: 0 } as Weights,
  activeDatabase: 'blue' as Color,
  thresholds: {
    cpuPercent: 80,
    memoryPercent: 80,
    dbConnectionsFraction: 0.8,
    http5xxCount: 10,
    unhealthyHosts: 1,
  } as AlarmThresholds,
};

export function defaultAzs(region: string): string[] {
  return [`${region}a`, `${region}b`, `${region}c`];
}

export function validateEnvironment(value: string | undefined): Environment {
  const v = value ?? DEFAULTS.environment;
  if ((ENVIRONMENTS as readonly string[]).includes(v)) return v as Environment;
  throw badInput(`--environment must be one of ${ENVIRONMENTS.join(', ')}, got "${v}".`);
}

const ACM_ARN_RE = /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[A-Za-z0-9-]+$/;

export function validateCertificateArn(value: string): string {
  if (!ACM_ARN_RE.test(value)) {
    throw badInput(`--certificate-arn "${value}" is not an ACM certificate ARN (arn:aws:acm:REGION:ACCOUNT:certificate/ID).`);
  }
  return value;
}

export function validateWeights(w: Weights): Weights {
  for (const [k, v] of Object.entries(w)) {
    if (!Number.isInteger(v) || v < 0 || v > 100) throw badInput(`The ${k} weight must be an integer from 0 to 100, got ${v}.`);
  }
  if (w.blue + w.green !== 100) throw badInput(`Weights must add up to 100, got blue ${w.blue} + green ${w.green}.`);
  return w;
}

/** A complete config from partial input, with every field validated. */
export function makeStackConfig(input: Partial<StackConfig> & { suffix: string }): StackConfig {
  const suffix = validateSuffix(input.suffix);
  const region = input.region ?? DEFAULTS.region;
  const certificateArn = input.certificateArn ?? PLACEHOLDER_CERTIFICATE_ARN;
  const certificateIsPlaceholder = certificateArn === PLACEHOLDER_CERTIFICATE_ARN;
  if (!certificateIsPlaceholder) validateCertificateArn(certificateArn);
  const azs = input.availabilityZones ?? defaultAzs(region);
  if (azs.length !== 3) throw badInput(`--azs must name exactly 3 availability zones, got ${azs.length}.`);
  return {
    suffix,
    environment: validateEnvironment(input.environment),
    region,
    account: input.account,
    availabilityZones: azs,
    haNat: input.haNat ?? false,
    certificateArn,
    certificateIsPlaceholder,
    blueImage: input.blueImage ?? DEFAULTS.image,
    greenImage: input.greenImage ?? DEFAULTS.image,
    containerPort: input.containerPort ?? DEFAULTS.containerPort,
    healthCheckPath: input.healthCheckPath ?? DEFAULTS.healthCheckPath,
    testCidr: input.testCidr ?? DEFAULTS.testCidr,
    weights: validateWeights(input.weights ?? DEFAULTS.weights),
    activeDatabase: input.activeDatabase ?? DEFAULTS.activeDatabase,
    dbInstanceClass: input.dbInstanceClass ?? DEFAULTS.dbInstanceClass,
    alarmEmail: input.alarmEmail,
    costCenter: input.costCenter,
    thresholds: { ...DEFAULTS.thresholds, ...(input.thresholds ?? {}) },
    pooler: input.pooler ?? false,
  };
}
