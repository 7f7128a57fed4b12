/**
 * The rollback guard in the template (issue 12): the EventBridge rule on green's alarms entering ALARM, its Lambda
 * target and invoke permission, the function's least-privilege role (ModifyListener on exactly the HTTPS listener),
 * and what the operator role gets for rollouts. Synthesized once with cdk-nag and CDK's validation on: a finding not
 * acknowledged with a reason fails the synth.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { makeStackConfig } from '../../src/core/config.js';
import { RollbackGuardEnv } from '../../src/core/lambda-env.js';
import { ALARM_KINDS, names } from '../../src/core/naming.js';
import {
  actionsOf,
  allStatements,
  logicalIdOf,
  props,
  resourcesOfType,
  roleStatements,
  type Statement,
  type Synthesized,
  synthesize,
} from './synth-fixture.js';

const n = names('guard');
let s: Synthesized;
beforeAll(() => {
  s = synthesize(makeStackConfig({ suffix: 'guard' }));
}, 400_000);

const ref = (id: string) => ({ Ref: id });
const getAtt = (id: string, attr: string) => ({ 'Fn::GetAtt': [id, attr] });

describe('rollback guard', () => {
  it('one rule on the state changes of green alarms into ALARM — every green alarm, no blue alarm — enabled', () => {
    const rules = resourcesOfType(s.json, 'AWS::Events::Rule');
    expect(rules).toHaveLength(1);
    const rule = props(rules[0][1]);
    expect(rule.Name).toBe(n.rollbackGuardRule);
    expect(rule.State).toBe('ENABLED');
    const pattern = rule.EventPattern as { source: string[]; 'detail-type': string[]; resources: unknown[]; detail: unknown };
    expect(pattern.source).toEqual(['aws.cloudwatch']);
    expect(pattern['detail-type']).toEqual(['CloudWatch Alarm State Change']);
    expect(pattern.detail).toEqual({ state: { value: ['ALARM'] } });
    const alarmIds = ALARM_KINDS.map((k) => logicalIdOf(s.json, 'AWS::CloudWatch::Alarm', 'AlarmName', n.alarm('green', k)));
    expect(pattern.resources).toEqual(alarmIds.map((id) => getAtt(id, 'Arn')));
    const blueIds = new Set(ALARM_KINDS.map((k) => logicalIdOf(s.json, 'AWS::CloudWatch::Alarm', 'AlarmName', n.alarm('blue', k))));
    expect(JSON.stringify(pattern.resources)).not.toMatch(new RegExp([...blueIds].join('|')));
  });

  it('targets the guard function, with retries, and only EventBridge from this rule may invoke it', () => {
    const [ruleId, rule] = resourcesOfType(s.json, 'AWS::Events::Rule')[0];
    const fnId = logicalIdOf(s.json, 'AWS::Lambda::Function', 'FunctionName', n.rollbackGuardFunction);
    const targets = props(rule).Targets as Array<{ Arn: unknown; RetryPolicy?: Record<string, number> }>;
    expect(targets).toHaveLength(1);
    expect(targets[0].Arn).toEqual(getAtt(fnId, 'Arn'));
    expect(targets[0].RetryPolicy).toEqual({ MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 10 });
    const perms = resourcesOfType(s.json, 'AWS::Lambda::Permission')
      .map(([, r]) => props(r))
      .filter((p) => JSON.stringify(p.FunctionName) === JSON.stringify(getAtt(fnId, 'Arn')));
    expect(perms).toEqual([
      { Action: 'lambda:InvokeFunction', FunctionName: getAtt(fnId, 'Arn'), Principal: 'events.amazonaws.com', SourceArn: getAtt(ruleId, 'Arn') },
    ]);
  });

  it('the function knows exactly the HTTPS listener, both target groups, green alarms and the bucket; it runs outside the VPC', () => {
    const fn = props(s.json.Resources[logicalIdOf(s.json, 'AWS::Lambda::Function', 'FunctionName', n.rollbackGuardFunction)]);
    const env = (fn.Environment as { Variables: Record<string, unknown> }).Variables;
    const listeners = resourcesOfType(s.json, 'AWS::ElasticLoadBalancingV2::Listener').filter(([, r]) => props(r).Port === 443);
    expect(listeners).toHaveLength(1);
    expect(env[RollbackGuardEnv.ListenerArn]).toEqual(ref(listeners[0][0]));
    expect(env[RollbackGuardEnv.BlueTargetGroupArn]).toEqual(
      ref(logicalIdOf(s.json, 'AWS::ElasticLoadBalancingV2::TargetGroup', 'Name', n.targetGroup('blue'))),
    );
    expect(env[RollbackGuardEnv.GreenTargetGroupArn]).toEqual(
      ref(logicalIdOf(s.json, 'AWS::ElasticLoadBalancingV2::TargetGroup', 'Name', n.targetGroup('green'))),
    );
    // Refs to the alarm resources (whose AlarmName is the name), joined by commas: exactly green's five.
    const alarmRefs = ALARM_KINDS.map((k) => ref(logicalIdOf(s.json, 'AWS::CloudWatch::Alarm', 'AlarmName', n.alarm('green', k))));
    expect(env[RollbackGuardEnv.GreenAlarmNames]).toEqual({ 'Fn::Join': ['', alarmRefs.flatMap((r, i) => (i === 0 ? [r] : [',', r]))] });
    expect(env[RollbackGuardEnv.Suffix]).toBe('guard');
    expect(fn.VpcConfig).toBeUndefined();
    expect(fn.Handler).toBe('index.handler');
  });

  it('least privilege: its role may modify only the HTTPS listener, describe listeners, append to journal/ and write its logs', () => {
    const roleId = logicalIdOf(s.json, 'AWS::IAM::Role', 'RoleName', n.rollbackGuardRole);
    const st = roleStatements(s.json, roleId);
    const listenerId = resourcesOfType(s.json, 'AWS::ElasticLoadBalancingV2::Listener').find(([, r]) => props(r).Port === 443)?.[0] ?? '';
    const byAction = (a: string) => st.filter((x) => actionsOf(x).includes(a));
    expect(byAction('elasticloadbalancing:ModifyListener').map((x) => x.Resource)).toEqual([ref(listenerId)]);
    expect(byAction('elasticloadbalancing:DescribeListeners').map((x) => x.Resource)).toEqual(['*']);
    const all = st.flatMap(actionsOf).sort();
    expect(all).toEqual(
      [
        'elasticloadbalancing:DescribeListeners',
        'elasticloadbalancing:ModifyListener',
        'kms:Decrypt',
        'kms:GenerateDataKey',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        's3:PutObject',
      ].sort(),
    );
    expect(JSON.stringify(byAction('s3:PutObject')[0].Resource)).toContain('/journal/*');
    for (const x of st) expect(x.Effect).toBe('Allow');
  });

  it('ModifyListener on the HTTPS listener is granted to the guard and the operator only', () => {
    const holders = allStatements(s.json).filter(({ statement }) => actionsOf(statement).includes('elasticloadbalancing:ModifyListener'));
    const roles = holders
      .flatMap(({ id }) => (props(s.json.Resources[id]).Roles as Array<{ Ref: string }>).map((r) => props(s.json.Resources[r.Ref]).RoleName))
      .sort();
    expect(roles).toEqual([n.operatorRole, n.rollbackGuardRole].sort());
  });

  it('the operator may read, enable and disable this rule only, keep the lease under rollout/, and read ALB metrics', () => {
    const opId = logicalIdOf(s.json, 'AWS::IAM::Role', 'RoleName', n.operatorRole);
    const st = roleStatements(s.json, opId);
    const resFor = (a: string): unknown[] => st.filter((x: Statement) => actionsOf(x).includes(a)).map((x) => x.Resource);
    const ruleArn = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':events:us-east-1:', { Ref: 'AWS::AccountId' }, `:rule/${n.rollbackGuardRule}`]] };
    for (const a of ['events:DescribeRule', 'events:ListTargetsByRule', 'events:EnableRule', 'events:DisableRule']) expect(resFor(a)).toEqual([ruleArn]);
    expect(JSON.stringify(resFor('s3:DeleteObject'))).toContain('/rollout/*');
    expect(resFor('s3:DeleteObject')).toHaveLength(1);
    expect(resFor('cloudwatch:GetMetricData')).toEqual(['*']);
    expect(st.some((x) => actionsOf(x).some((a) => a.startsWith('events:Put') || a === 'events:DeleteRule'))).toBe(false);
  });
});
