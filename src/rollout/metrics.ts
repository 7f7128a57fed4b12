/**
 * Reads the ALB's per-target-group metrics of both colours over one window, for the bake analysis (plan.ts judges
 * them). Namespace AWS/ApplicationELB with the dimensions LoadBalancer + TargetGroup, whose values are the ARN
 * suffixes "app/<name>/<id>" and "targetgroup/<name>/<id>"; RequestCount and HTTPCode_Target_5XX_Count are summed,
 * TargetResponseTime is read with the configured statistic (p99 by default)
 * (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html).
 *
 * The ALB publishes a datapoint only when there is something to count, so no RequestCount datapoint means 0
 * requests, not "unknown"; a failed call is unknown (null) and makes the check inconclusive. Counts and latency are
 * two GetMetricData calls so that a statistic the endpoint cannot compute (moto 5.2.1 fails on percentiles) leaves
 * the 5xx check conclusive. Periods are 60 s (the ALB's resolution); a window's latency is the worst minute's. The
 * window starts when the step's weights were set; CloudWatch aligns it to the minute, so in AWS the first poll of a
 * step also sees the part of that minute before the step.
 */
import type { MetricDataQuery, Metrics } from '../aws/ports.js';
import { firstLine, messageOf } from '../core/errors.js';
import { COLORS, type Color } from '../core/naming.js';
import type { ColorFigures, MetricsObservation } from './plan.js';

export interface MetricDimensions {
  loadBalancer: string;
  targetGroup: Record<Color, string>;
}

/** "arn:…:loadbalancer/app/alb-x/123" → "app/alb-x/123"; "arn:…:targetgroup/tg-x/456" → "targetgroup/tg-x/456". */
export function dimensionsOf(loadBalancerArn: string, targetGroupArn: Record<Color, string>): MetricDimensions {
  const lb = loadBalancerArn.split(':loadbalancer/')[1] ?? loadBalancerArn;
  const tg = (arn: string) => {
    const i = arn.indexOf(':targetgroup/');
    return i >= 0 ? arn.slice(i + 1) : arn;
  };
  return { loadBalancer: lb, targetGroup: { blue: tg(targetGroupArn.blue), green: tg(targetGroupArn.green) } };
}

const NS = 'AWS/ApplicationELB';
const PERIOD = 60;

function query(id: string, metric: string, stat: string, d: MetricDimensions, c: Color): MetricDataQuery {
  return {
    Id: id,
    ReturnData: true,
    MetricStat: {
      Metric: {
        Namespace: NS,
        MetricName: metric,
        Dimensions: [
          { Name: 'LoadBalancer', Value: d.loadBalancer },
          { Name: 'TargetGroup', Value: d.targetGroup[c] },
        ],
      },
      Period: PERIOD,
      Stat: stat,
    },
  };
}

/**
 * Both colours' figures over [start, end]. Never throws for a metric problem: a failed call makes its figures null
 * and adds one line to `errors`.
 */
export async function readAlbMetrics(metrics: Metrics, d: MetricDimensions, start: Date, windowEnd: Date, latencyStat: string): Promise<MetricsObservation> {
  // GetMetricData refuses a StartTime that is not before EndTime (to the second): a poll right after the weights
  // were set would otherwise be "inconclusive" for no reason. A second past the start adds no datapoint of before.
  const end = windowEnd.getTime() - start.getTime() < 1000 ? new Date(start.getTime() + 1000) : windowEnd;
  const errors: string[] = [];
  const sum = (xs: number[] | undefined) => (xs ?? []).reduce((a, b) => a + b, 0);
  const countQueries = COLORS.flatMap((c) => [
    query(`${c}Requests`, 'RequestCount', 'Sum', d, c),
    query(`${c}Errors`, 'HTTPCode_Target_5XX_Count', 'Sum', d, c),
  ]);
  const latencyQueries = COLORS.map((c) => query(`${c}Latency`, 'TargetResponseTime', latencyStat, d, c));
  const reason = (e: unknown) => firstLine(messageOf(e), 160);
  const [counts, latency] = await Promise.all([
    metrics.data(countQueries, start, end).catch((e: unknown) => {
      errors.push(`RequestCount/HTTPCode_Target_5XX_Count: ${reason(e)}`);
      return undefined;
    }),
    metrics.data(latencyQueries, start, end).catch((e: unknown) => {
      errors.push(`TargetResponseTime ${latencyStat}: ${reason(e)}`);
      return undefined;
    }),
  ]);
  const figures = (c: Color): ColorFigures => {
    const lat = latency?.get(`${c}Latency`) ?? [];
    return {
      requests: counts ? sum(counts.get(`${c}Requests`)) : null,
      errors5xx: counts ? sum(counts.get(`${c}Errors`)) : null,
      latency: latency && lat.length > 0 ? Math.max(...lat) : null,
    };
  };
  return { green: figures('green'), blue: figures('blue'), errors };
}
