/**
 * The narrow AWS interfaces bgmig's commands and domain modules depend on, one per concern, named in the field's
 * terms. Each method is one AWS API call (or one paginated listing) and nothing more: the decisions stay with the
 * callers. Implementations over the SDK live next to this file (src/aws/sdk.ts); src/aws/ is the only module that
 * imports `@aws-sdk/*` at runtime, besides the rehearsal's emulator setup (Biome's noRestrictedImports rule in
 * biome.json keeps it so).
 *
 * Errors: unless a method says otherwise, the SDK's error is thrown unchanged (its `name` is the AWS error code, e.g.
 * `ListenerNotFoundException`), so callers keep deciding what a missing resource means (src/core/aws-error.ts).
 * Bounds, retries and slow-call notices are the clients' (src/aws/clients.ts), not the ports'.
 *
 * The SDK types named here are type-only imports: they vanish from the JavaScript, and callers use the re-exported
 * names below instead of importing the SDK.
 */
import type { MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import type { Stack } from '@aws-sdk/client-cloudformation';
import type { Service } from '@aws-sdk/client-ecs';
import type { Action, Listener, TargetHealthDescription } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { DBCluster } from '@aws-sdk/client-rds';
import type { ResourceRecordSet } from '@aws-sdk/client-route-53';

export type { Action, DBCluster, Listener, MetricDataQuery, ResourceRecordSet, Service, Stack, TargetHealthDescription };

/** CloudFormation stacks and change sets. */
export interface Stacks {
  /**
   * The stack named `stackName` (DescribeStacks, https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeStacks.html),
   * or undefined when the answer lists none. A stack that does not exist raises CloudFormation's ValidationError
   * ("Stack with id … does not exist").
   */
  describe(stackName: string): Promise<Stack | undefined>;
  /** Starts deleting the stack (DeleteStack; returns before the delete finishes). */
  delete(stackName: string): Promise<void>;
  /**
   * The execution status of a change set (DescribeChangeSet: UNAVAILABLE, AVAILABLE, EXECUTE_IN_PROGRESS,
   * EXECUTE_COMPLETE, …). A missing one raises ChangeSetNotFound(Exception) or ValidationError.
   */
  changeSetStatus(stackName: string, changeSetName: string): Promise<string | undefined>;
  /** Deletes a change set (DeleteChangeSet). */
  deleteChangeSet(stackName: string, changeSetName: string): Promise<void>;
}

/** An Application Load Balancer listener's default actions (Elastic Load Balancing v2). */
export interface Listeners {
  /**
   * The listener (DescribeListeners with one ARN,
   * https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DescribeListeners.html); a missing
   * one raises ListenerNotFoundException.
   */
  describe(listenerArn: string): Promise<Listener | undefined>;
  /**
   * Replaces the listener's default actions in one ModifyListener call
   * (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_ModifyListener.html) and returns
   * the listener as modified, from the answer.
   */
  setDefaultActions(listenerArn: string, actions: Action[]): Promise<Listener | undefined>;
}

/** Target health of a target group (DescribeTargetHealth). */
export interface TargetHealth {
  /** Every registered target and its state (healthy, initial, unhealthy, draining, unused, unavailable). */
  describe(targetGroupArn: string): Promise<TargetHealthDescription[]>;
}

/** One CloudWatch alarm's state. */
export interface AlarmReading {
  name: string;
  /** OK, ALARM, INSUFFICIENT_DATA (UNKNOWN when CloudWatch gives none). */
  state: string;
  reason?: string | undefined;
}

/** CloudWatch alarms. */
export interface Alarms {
  /**
   * States of the named metric and composite alarms that exist (DescribeAlarms, at most 100 names a call, every
   * page read: https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarms.html). A name
   * CloudWatch does not know is simply absent from the answer.
   */
  describe(alarmNames: string[]): Promise<AlarmReading[]>;
}

/** CloudWatch metric data. */
export interface Metrics {
  /**
   * The values of each query id over [start, end] (GetMetricData, newest first, every page concatenated:
   * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html). CloudWatch refuses a
   * window whose start is not before its end (to the second).
   */
  data(queries: MetricDataQuery[], start: Date, end: Date): Promise<Map<string, number[]>>;
}

/** Aurora clusters (RDS). */
export interface Clusters {
  /**
   * The cluster (DescribeDBClusters with its identifier); a missing one raises DBClusterNotFoundFault.
   * https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeDBClusters.html
   */
  describe(clusterIdentifier: string): Promise<DBCluster | undefined>;
  /** Sets the master user's password, applied immediately (ModifyDBCluster; the change completes asynchronously). */
  setMasterPassword(clusterIdentifier: string, password: string): Promise<void>;
}

/** An object read from S3. */
export interface StoredObject {
  /** The body as UTF-8 text; undefined when S3 answered without one. */
  body: string | undefined;
  etag: string | undefined;
}

/** S3 conditions (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html). */
export interface WriteCondition {
  /** `*`: write only when the key does not exist (else 412 PreconditionFailed). */
  ifNoneMatch?: '*';
  /** Write or delete only when the object's ETag is this one (else 412, or 404 when it is gone). */
  ifMatch?: string;
}

/** S3 objects: reports, the traffic journal, the rollout lease. */
export interface ObjectStore {
  /** GetObject; a missing key raises NoSuchKey (404). */
  get(bucket: string, key: string): Promise<StoredObject>;
  /** PutObject of a text body; returns the new ETag. A failed condition raises PreconditionFailed (412) or ConditionalRequestConflict (409). */
  put(bucket: string, key: string, body: string, opts?: { contentType?: string } & WriteCondition): Promise<string | undefined>;
  /** Every key under `prefix` (ListObjectsV2, all pages), in S3's order (UTF-8 binary). */
  list(bucket: string, prefix: string): Promise<string[]>;
  /** DeleteObject, optionally conditional on the ETag. */
  delete(bucket: string, key: string, cond?: Pick<WriteCondition, 'ifMatch'>): Promise<void>;
}

/** What a Lambda invocation returned: the payload text, and Lambda's FunctionError when the function itself failed. */
export interface Invocation {
  payload: string;
  functionError?: string | undefined;
}

/** bgmig's Lambda functions, invoked synchronously. */
export interface Functions {
  /**
   * RequestResponse invocation with a JSON event (Invoke, https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html).
   * SDK errors (missing function, throttling, access) are thrown as is.
   */
  invoke(functionName: string, event: unknown): Promise<Invocation>;
}

/** One secret version's value as Secrets Manager answered it. */
export interface SecretValue {
  versionId: string | undefined;
  stages: string[];
  secretString: string | undefined;
}

/** Secrets Manager: a secret's versions, their staging labels and values. */
export interface SecretVersions {
  /** Name, ARN and the staging labels of every version (DescribeSecret). */
  describe(secretId: string): Promise<{ name: string | undefined; arn: string | undefined; stages: Record<string, string[]> }>;
  /**
   * A version's value (GetSecretValue, https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html);
   * AWSCURRENT when neither id nor stage is given.
   */
  value(secretId: string, select?: { versionId?: string | undefined; versionStage?: string | undefined }): Promise<SecretValue>;
  /** A password from Secrets Manager's generator (GetRandomPassword, no spaces, every included type present). */
  randomPassword(length: number, excludeCharacters: string): Promise<string | undefined>;
  /** Stores a new version with these staging labels (PutSecretValue; the token makes a retry idempotent). Returns its id. */
  putValue(secretId: string, secretString: string, clientRequestToken: string, stages: string[]): Promise<string | undefined>;
  /** Moves a staging label onto a version and/or off another (UpdateSecretVersionStage). */
  moveStage(secretId: string, stage: string, move: { to?: string | undefined; from?: string | undefined }): Promise<void>;
}

/** ECS services. */
export interface Services {
  /** Starts a new deployment of the service with the same task definition (UpdateService forceNewDeployment); the service as answered. */
  forceNewDeployment(cluster: string, service: string): Promise<Service | undefined>;
  /** The service (DescribeServices); a missing one is undefined or has status INACTIVE. */
  describe(cluster: string, service: string): Promise<Service | undefined>;
}

/** The state of a Route 53 change. */
export interface DnsChange {
  /** The change id without its /change/ prefix ('' when Route 53 gave none). */
  id: string;
  /** PENDING or INSYNC (undefined when Route 53 gave none). */
  status: string | undefined;
}

/** Route 53 records of a hosted zone. */
export interface DnsRecords {
  /**
   * The first record set at or after (name, type) in the zone (ListResourceRecordSets with MaxItems 1,
   * https://docs.aws.amazon.com/Route53/latest/APIReference/API_ListResourceRecordSets.html); the caller checks
   * that it is the one asked for. `hostedZoneId` without the /hostedzone/ prefix.
   */
  firstFrom(hostedZoneId: string, name: string, type: 'CNAME'): Promise<ResourceRecordSet | undefined>;
  /** UPSERTs one record set (ChangeResourceRecordSets) with a comment; the change as answered. */
  upsert(hostedZoneId: string, record: ResourceRecordSet, comment: string): Promise<DnsChange>;
  /** A change's state (GetChange, https://docs.aws.amazon.com/Route53/latest/APIReference/API_GetChange.html). */
  change(changeId: string): Promise<DnsChange>;
}

/** The rollback guard's EventBridge rule. */
export interface GuardRule {
  /** The rule's state, ENABLED or DISABLED (DescribeRule); a missing rule raises ResourceNotFoundException. */
  state(ruleName: string): Promise<string | undefined>;
  /** ARNs of the rule's targets (ListTargetsByRule, first page: a rule has at most 5 targets). */
  targets(ruleName: string): Promise<string[]>;
  /** EnableRule or DisableRule. */
  setEnabled(ruleName: string, enabled: boolean): Promise<void>;
}

/** Who the credentials are (STS GetCallerIdentity). */
export interface Identity {
  caller(): Promise<{ arn: string | undefined; account: string | undefined }>;
}

/** Every port, as `CommandContext.aws` offers them (src/aws/clients.ts builds each on first use). */
export interface AwsPorts {
  readonly region: string;
  /** Where the calls go when not AWS itself (--endpoint-url / AWS_ENDPOINT_URL, e.g. an emulator), else undefined. */
  readonly endpoint: string | undefined;
  readonly stacks: Stacks;
  readonly listeners: Listeners;
  readonly targetHealth: TargetHealth;
  readonly alarms: Alarms;
  readonly metrics: Metrics;
  readonly clusters: Clusters;
  readonly objects: ObjectStore;
  readonly functions: Functions;
  readonly secretVersions: SecretVersions;
  readonly services: Services;
  readonly dnsRecords: DnsRecords;
  readonly guardRule: GuardRule;
  readonly identity: Identity;
}
