/**
 * Environment variable names of the two Lambda functions: the contract between the CDK app (which sets them)
 * and the handlers (which read them).
 */
import { failure } from './errors.js';

export const ValidatorEnv = {
  BlueSecretArn: 'BLUE_SECRET_ARN',
  GreenSecretArn: 'GREEN_SECRET_ARN',
  ArtifactsBucket: 'ARTIFACTS_BUCKET',
} as const;

export const CutoverEnv = {
  BlueSecretArn: 'BLUE_SECRET_ARN',
  GreenSecretArn: 'GREEN_SECRET_ARN',
  AppSecretArn: 'APP_SECRET_ARN',
  HostedZoneId: 'HOSTED_ZONE_ID',
  DbRecordName: 'DB_RECORD_NAME',
  BlueClusterEndpoint: 'BLUE_CLUSTER_ENDPOINT',
  GreenClusterEndpoint: 'GREEN_CLUSTER_ENDPOINT',
  ArtifactsBucket: 'ARTIFACTS_BUCKET',
} as const;

/** The rollback guard (src/lambda/rollback-guard.ts): exactly the listener it may change and where it journals. */
export const RollbackGuardEnv = {
  Suffix: 'BGMIG_SUFFIX',
  ListenerArn: 'LISTENER_ARN',
  BlueTargetGroupArn: 'BLUE_TARGET_GROUP_ARN',
  GreenTargetGroupArn: 'GREEN_TARGET_GROUP_ARN',
  /** Comma-separated names of green's alarms: the only alarms whose ALARM state rolls back. */
  GreenAlarmNames: 'GREEN_ALARM_NAMES',
  ArtifactsBucket: 'ARTIFACTS_BUCKET',
} as const;

/** Lambda's Node.js 20+ runtimes do not trust the RDS CAs by default; this bundle does. */
export const RDS_CA_BUNDLE = '/var/runtime/ca-cert.pem';

/** The application database role bgmig creates on both clusters (`bgmig db init`), stored in secret-db-app-{suffix}. */
export const APP_DB_USERNAME = 'bgmig_app';
/** The database the application uses on both clusters. */
export const APP_DB_NAME = 'app';

/**
 * Reads a variable the CDK app sets on a function (the names above). A missing one means the deployed stack and
 * the function's bundle come from different bgmig versions, so the fix is a redeploy. `fn` names the function in
 * the message ("cutover function", "rollback guard").
 * @throws BgmigError (exit 1) when the variable is unset or empty.
 */
export function requireEnv(env: NodeJS.ProcessEnv, name: string, fn: string): string {
  const v = env[name];
  if (!v) throw failure(`The ${fn} has no ${name} environment variable: redeploy the stack with this bgmig version.`);
  return v;
}
