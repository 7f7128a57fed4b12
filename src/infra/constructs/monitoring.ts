/**
 * Per-color alarms (service CPU and memory, the cluster's connections, the target group's 5xx and unhealthy
 * hosts) and a dashboard with blue and green side by side. `promote` gates each traffic step on these alarms.
 */
import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { allow } from '../grants.js';
import type { AlarmThresholds } from '../../core/config.js';
import { ALARM_KINDS, type AlarmKind, COLORS, type Color, type Names } from '../../core/naming.js';
import type { ColorDatabase } from './database.js';
import { maxConnections } from './database.js';
import type { ColorService } from './service.js';

const PERIOD = Duration.minutes(1);

export interface ColorResources {
  /** This color's ECS service. */
  readonly service: ColorService;
  /** This color's Aurora cluster. */
  readonly database: ColorDatabase;
  /** This color's target group. */
  readonly targetGroup: elbv2.ApplicationTargetGroup;
}

export interface MonitoringProps {
  /** Every resource name of this stack (`names(suffix)`). */
  readonly names: Names;
  /** What each color's alarms watch. */
  readonly colors: Record<Color, ColorResources>;
  /** Alarm thresholds (units in AlarmThresholds). */
  readonly thresholds: AlarmThresholds;
  /** Instance class of the clusters, for the connection-count alarm (max_connections). */
  readonly dbInstanceClass: string;
  /** Where alarm notifications go; no SNS topic without it. */
  readonly alarmEmail?: string | undefined;
}

/** The DB-connections alarm threshold: a fraction of the instance class's max_connections. */
export function dbConnectionsThreshold(instanceClass: string, fraction: number): number {
  return Math.max(1, Math.floor(maxConnections(instanceClass) * fraction));
}

export class Monitoring extends Construct {
  readonly alarms: Record<Color, Record<AlarmKind, cloudwatch.Alarm>>;
  readonly dashboard: cloudwatch.Dashboard;
  readonly topic: sns.Topic | undefined;
  private readonly names: Names;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const n = props.names;
    this.names = n;
    const t = props.thresholds;
    if (props.alarmEmail) {
      this.topic = new sns.Topic(this, 'AlarmTopic', { topicName: n.alarmTopic, displayName: `bgmig ${n.suffix} alarms`, enforceSSL: true });
      this.topic.addSubscription(new subs.EmailSubscription(props.alarmEmail));
    }

    const metrics = (c: Color): Record<AlarmKind, cloudwatch.IMetric> => {
      const r = props.colors[c];
      return {
        cpu: r.service.service.metricCpuUtilization({ period: PERIOD, statistic: 'Average' }),
        memory: r.service.service.metricMemoryUtilization({ period: PERIOD, statistic: 'Average' }),
        'db-connections': r.database.cluster.metricDatabaseConnections({ period: PERIOD, statistic: 'Maximum' }),
        '5xx': r.targetGroup.metrics.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, { period: PERIOD, statistic: 'Sum' }),
        'unhealthy-hosts': r.targetGroup.metrics.unhealthyHostCount({ period: PERIOD, statistic: 'Maximum' }),
      };
    };
    const thresholds: Record<AlarmKind, number> = {
      cpu: t.cpuPercent,
      memory: t.memoryPercent,
      'db-connections': dbConnectionsThreshold(props.dbInstanceClass, t.dbConnectionsFraction),
      '5xx': t.http5xxCount,
      'unhealthy-hosts': t.unhealthyHosts,
    };
    const describe: Record<AlarmKind, string> = {
      cpu: 'service CPU utilization (%)',
      memory: 'service memory utilization (%)',
      'db-connections': 'cluster database connections',
      '5xx': 'target 5xx responses per minute',
      'unhealthy-hosts': 'unhealthy targets',
    };

    const alarms = {} as Record<Color, Record<AlarmKind, cloudwatch.Alarm>>;
    const widgets: Record<Color, cloudwatch.IWidget[]> = { blue: [], green: [] };
    for (const c of COLORS) {
      const m = metrics(c);
      const perKind = {} as Record<AlarmKind, cloudwatch.Alarm>;
      for (const kind of ALARM_KINDS) {
        const alarm = new cloudwatch.Alarm(this, `${c}-${kind}`, {
          alarmName: n.alarm(c, kind),
          alarmDescription: `bgmig ${n.suffix} ${c}: ${describe[kind]} at or above ${thresholds[kind]}`,
          metric: m[kind],
          threshold: thresholds[kind],
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          // Two of three minutes: one spike does not halt a promotion, a sustained problem does.
          evaluationPeriods: 3,
          datapointsToAlarm: 2,
          // An idle color (weight 0, no requests) reports no data: that is not a failure.
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        });
        if (this.topic) alarm.addAlarmAction(new actions.SnsAction(this.topic));
        perKind[kind] = alarm;
        widgets[c].push(new cloudwatch.AlarmWidget({ title: `${c}: ${describe[kind]}`, alarm, width: 12, height: 5 }));
      }
      alarms[c] = perKind;
    }
    this.alarms = alarms;

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { dashboardName: n.dashboard, defaultInterval: Duration.hours(3) });
    this.dashboard.addWidgets(
      new cloudwatch.TextWidget({ markdown: '## blue', width: 12, height: 1 }),
      new cloudwatch.TextWidget({ markdown: '## green', width: 12, height: 1 }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: 'blue alarms', alarms: ALARM_KINDS.map((k) => alarms.blue[k]), width: 12, height: 3 }),
      new cloudwatch.AlarmStatusWidget({ title: 'green alarms', alarms: ALARM_KINDS.map((k) => alarms.green[k]), width: 12, height: 3 }),
    );
    // One row per metric: blue on the left, green on the right.
    for (let i = 0; i < ALARM_KINDS.length; i++) this.dashboard.addWidgets(widgets.blue[i], widgets.green[i]);
  }

  alarmNames(c: Color): string[] {
    return ALARM_KINDS.map((k) => this.names.alarm(c, k));
  }

  /** DescribeAlarms on exactly this stack's alarms. */
  grantDescribeAlarms(grantee: iam.IGrantable): iam.Grant {
    const stack = Stack.of(this);
    return allow(
      grantee,
      ['cloudwatch:DescribeAlarms'],
      COLORS.flatMap((c) => this.alarmNames(c)).map((name) =>
        stack.formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: name, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
      ),
    );
  }
}
