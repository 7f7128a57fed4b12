// The pure resume logic and option validation: where a run starts given what an earlier run left behind.
import { describe, expect, it } from 'vitest';
import { resolveOptions } from '../../src/cli/commands/rotate-secret-manual.js';
import { ExitCode } from '../../src/core/errors.js';
import { STEPS, decideRotationStart, describeStep } from '../../src/rotation/plan.js';

const base = { currentVersionId: 'cur', pendingVersionId: undefined, rollPendingVersionId: undefined, pendingAccepted: undefined };

describe('decideRotationStart', () => {
  it('starts a fresh rotation at create when nothing is pending', () => {
    expect(decideRotationStart(base)).toEqual({ start: 'create', resumed: false, done: {} });
  });
  it('re-applies an existing pending password (set) when the database does not accept it yet — no new password', () => {
    const d = decideRotationStart({ ...base, pendingVersionId: 'p', pendingAccepted: [false] });
    expect(d.start).toBe('set');
    expect(Object.keys(d.done)).toEqual(['create']);
  });
  it('treats a pending password accepted by only one of two databases as not set (both or neither)', () => {
    expect(decideRotationStart({ ...base, pendingVersionId: 'p', pendingAccepted: [true, false] }).start).toBe('set');
  });
  it('goes to finish when every database already accepts the pending password', () => {
    const d = decideRotationStart({ ...base, pendingVersionId: 'p', pendingAccepted: [true, true] });
    expect(d.start).toBe('finish');
    expect(Object.keys(d.done)).toEqual(['create', 'set', 'test']);
  });
  it('goes to finish when AWSCURRENT already moved but the AWSPENDING label is left on it', () => {
    expect(decideRotationStart({ ...base, pendingVersionId: 'cur', rollPendingVersionId: 'cur' }).start).toBe('finish');
  });
  it('goes to roll when the stages are final but the roll marker is still there', () => {
    const d = decideRotationStart({ ...base, rollPendingVersionId: 'cur' });
    expect(d.start).toBe('roll');
    expect(Object.keys(d.done)).toEqual(['create', 'set', 'test', 'finish']);
  });
});

describe('describeStep', () => {
  it('names the API calls of every step without any secret value', () => {
    const ctx = {
      secretName: 'secret-db-blue-x',
      currentVersionId: 'cur',
      pendingVersionId: undefined,
      databases: [{ name: 'aurora-blue-x', setCall: 'rds:ModifyDBCluster …', testCall: 'login …' }],
      services: [{ cluster: 'ecs-x', service: 'svc-blue-x' }],
    };
    const calls = STEPS.flatMap((s) => describeStep(s, ctx).calls);
    expect(calls).toContain('secretsmanager:PutSecretValue --secret-id secret-db-blue-x --client-request-token <new uuid> --version-stages AWSPENDING');
    expect(calls).toContain('rds:ModifyDBCluster …');
    expect(calls).toContain('ecs:UpdateService --cluster ecs-x --service svc-blue-x --force-new-deployment');
    expect(calls.some((c) => c.includes('--version-stage AWSCURRENT --move-to-version-id <new version> --remove-from-version-id cur'))).toBe(true);
  });
});

describe('resolveOptions', () => {
  const bad = (o: Parameters<typeof resolveOptions>[0]) => {
    try {
      resolveOptions(o);
    } catch (e) {
      return (e as { exitCode?: number }).exitCode;
    }
    return 'accepted';
  };
  it('accepts the documented combinations', () => {
    expect(resolveOptions({ color: 'blue' }).mode).toBe('aws');
    expect(resolveOptions({ color: 'green', dbUrl: 'postgres://a:b@h/d' }).mode).toBe('direct');
    expect(resolveOptions({ app: true, blueUrl: 'postgres://a:b@h/d', greenUrl: 'postgres://a:b@h/d' }).mode).toBe('direct');
    // --app without URLs: the cutover function sets and tests the password on both clusters.
    expect(resolveOptions({ app: true })).toMatchObject({ mode: 'aws', kind: { app: true } });
    expect(resolveOptions({ color: 'blue', waitTimeout: '90s' }).wait.timeoutMs).toBe(90_000);
  });
  it('refuses contradictory or incomplete options with exit 2', () => {
    expect(bad({})).toBe(ExitCode.BadInput);
    expect(bad({ color: 'red' })).toBe(ExitCode.BadInput);
    expect(bad({ app: true, color: 'blue' })).toBe(ExitCode.BadInput);
    expect(bad({ app: true, dbUrl: 'postgres://a:b@h/d' })).toBe(ExitCode.BadInput);
    expect(bad({ app: true, blueUrl: 'postgres://a:b@h/d' })).toBe(ExitCode.BadInput);
    expect(bad({ app: true, greenUrl: 'postgres://a:b@h/d' })).toBe(ExitCode.BadInput);
    expect(bad({ color: 'blue', greenUrl: 'postgres://a:b@h/d' })).toBe(ExitCode.BadInput);
    expect(bad({ color: 'blue', waitTimeout: 'soon' })).toBe(ExitCode.BadInput);
  });
});
