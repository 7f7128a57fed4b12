/**
 * CloudFormation output keys of the bgmig stack: the contract between the CDK app (which emits them) and the CLI
 * (which locates every resource through them). Change a key here and both sides follow.
 */
import type { Color } from './naming.js';

export const OutputKey = {
  HttpsListenerArn: 'HttpsListenerArn',
  HttpListenerArn: 'HttpListenerArn',
  TestListenerArn: 'TestListenerArn',
  LoadBalancerArn: 'LoadBalancerArn',
  LoadBalancerDnsName: 'LoadBalancerDnsName',
  BlueTargetGroupArn: 'BlueTargetGroupArn',
  GreenTargetGroupArn: 'GreenTargetGroupArn',
  ValidatorFunctionName: 'ValidatorFunctionName',
  CutoverFunctionName: 'CutoverFunctionName',
  BlueDbSecretArn: 'BlueDbSecretArn',
  GreenDbSecretArn: 'GreenDbSecretArn',
  AppDbSecretArn: 'AppDbSecretArn',
  BlueClusterIdentifier: 'BlueClusterIdentifier',
  GreenClusterIdentifier: 'GreenClusterIdentifier',
  BlueClusterEndpoint: 'BlueClusterEndpoint',
  GreenClusterEndpoint: 'GreenClusterEndpoint',
  EcsClusterName: 'EcsClusterName',
  BlueServiceName: 'BlueServiceName',
  GreenServiceName: 'GreenServiceName',
  /** Comma-separated alarm names of each color. */
  BlueAlarmNames: 'BlueAlarmNames',
  GreenAlarmNames: 'GreenAlarmNames',
  ArtifactsBucketName: 'ArtifactsBucketName',
  OperatorRoleArn: 'OperatorRoleArn',
  HostedZoneId: 'HostedZoneId',
  DbRecordName: 'DbRecordName',
  DashboardName: 'DashboardName',
  Environment: 'Environment',
  /**
   * The colour the deployed template points the db record at. A cutover moves the record out of band, and
   * CloudFormation can only delete a record whose value matches its template, so destroy re-points it here first.
   */
  DeployedActiveDatabase: 'DeployedActiveDatabase',
} as const;

export type OutputKey = (typeof OutputKey)[keyof typeof OutputKey];

/** The outputs that exist once per colour, so code that holds a colour never spells out the blue/green choice. */
export const ColorOutputKey = {
  blue: {
    clusterIdentifier: OutputKey.BlueClusterIdentifier,
    clusterEndpoint: OutputKey.BlueClusterEndpoint,
    dbSecretArn: OutputKey.BlueDbSecretArn,
    serviceName: OutputKey.BlueServiceName,
    alarmNames: OutputKey.BlueAlarmNames,
    targetGroupArn: OutputKey.BlueTargetGroupArn,
  },
  green: {
    clusterIdentifier: OutputKey.GreenClusterIdentifier,
    clusterEndpoint: OutputKey.GreenClusterEndpoint,
    dbSecretArn: OutputKey.GreenDbSecretArn,
    serviceName: OutputKey.GreenServiceName,
    alarmNames: OutputKey.GreenAlarmNames,
    targetGroupArn: OutputKey.GreenTargetGroupArn,
  },
} as const satisfies Record<Color, Record<string, OutputKey>>;

/** S3 layout of the artifacts bucket. */
export const ArtifactKeys = {
  /** The newest validation report (JSON ValidationReport). */
  latestReport: 'reports/latest.json',
  /** A timestamped copy of every report. */
  report: (isoTimestamp: string) => `reports/${isoTimestamp.replace(/[:.]/g, '-')}.json`,
  /** The cutover function's audit trail: one object per state-changing operation, success or failure. */
  journalPrefix: 'journal/',
  journal: (isoTimestamp: string, operation: string) => `journal/${isoTimestamp.replace(/[:.]/g, '-')}-${operation}.json`,
} as const;
