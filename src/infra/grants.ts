/**
 * Identity-policy grants in the shape aws-cdk-lib's own `grant*` methods have: each returns the `iam.Grant`, so a
 * caller can depend on the policy (`grant.applyBefore(resource)`) or check it (`grant.assertSuccess()`). Every
 * statement is exactly what `new iam.PolicyStatement({ actions, resources, conditions })` on the principal gives
 * (aws-cdk-lib `Grant.addToPrincipal`), so templates do not change.
 */
import * as iam from 'aws-cdk-lib/aws-iam';

/** Allows `actions` on `resourceArns` (optionally under `conditions`) in the grantee's identity policy. */
export function allow(grantee: iam.IGrantable, actions: string[], resourceArns: string[], conditions?: Record<string, Record<string, unknown>>): iam.Grant {
  return iam.Grant.addToPrincipal({ grantee, actions, resourceArns, ...(conditions ? { conditions } : {}) });
}

/** One Grant standing for several (all of them must have succeeded). */
export function combine(first: iam.Grant, ...rest: iam.Grant[]): iam.Grant {
  return rest.reduce((acc, g) => acc.combine(g), first);
}
