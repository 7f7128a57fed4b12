import { describe, expect, it } from 'vitest';
import { ExitCode, type BgmigError } from '../../src/core/errors.js';
import { PLACEHOLDER_CERTIFICATE_ARN, makeStackConfig, validateWeights } from '../../src/core/config.js';

function exitOf(fn: () => unknown): number | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    return (e as BgmigError).exitCode;
  }
}

describe('makeStackConfig', () => {
  it('fills production defaults: dev, us-east-1a/b/c, blue 100 / green 0, blue active, placeholder certificate flagged', () => {
    const c = makeStackConfig({ suffix: 'demo' });
    expect(c.environment).toBe('dev');
    expect(c.availabilityZones).toEqual(['us-east-1a', 'us-east-1b', 'us-east-1c']);
    expect(c.weights).toEqual({ blue: 100, green: 0 });
    expect(c.activeDatabase).toBe('blue');
    expect(c.certificateArn).toBe(PLACEHOLDER_CERTIFICATE_ARN);
    expect(c.certificateIsPlaceholder).toBe(true);
  });

  it('accepts a real ACM ARN and marks it as not a placeholder', () => {
    const arn = 'arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666';
    expect(makeStackConfig({ suffix: 'demo', certificateArn: arn }).certificateIsPlaceholder).toBe(false);
  });

  it.each([
    [{ suffix: 'Demo' }],
    [{ suffix: 'demo', environment: 'production' as never }],
    [{ suffix: 'demo', certificateArn: 'arn:aws:iam::123:role/x' }],
    [{ suffix: 'demo', availabilityZones: ['us-east-1a'] }],
    [{ suffix: 'demo', weights: { blue: 50, green: 40 } }],
  ])('rejects %j with exit 2', (input) => {
    expect(exitOf(() => makeStackConfig(input))).toBe(ExitCode.BadInput);
  });

  it('validates weights as integers 0-100 summing to 100', () => {
    expect(validateWeights({ blue: 70, green: 30 })).toEqual({ blue: 70, green: 30 });
    expect(exitOf(() => validateWeights({ blue: 70.5, green: 29.5 }))).toBe(ExitCode.BadInput);
    expect(exitOf(() => validateWeights({ blue: 101, green: -1 }))).toBe(ExitCode.BadInput);
  });
});
