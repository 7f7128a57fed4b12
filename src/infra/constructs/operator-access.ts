/**
 * role-operator-{suffix}: the role people assume (session credentials, at most one hour) to run bgmig's
 * operations. It gets exactly what those operations call, each permission granted by the construct that owns the
 * resource, scoped to this stack's resources wherever the service supports resource-level permissions.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { Names } from '../../core/naming.js';

export interface OperatorAccessProps {
  /** Every resource name of this stack (`names(suffix)`). */
  readonly names: Names;
}

export class OperatorAccess extends Construct {
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: OperatorAccessProps) {
    super(scope, id);
    const n = props.names;
    this.role = new iam.Role(this, 'Role', {
      roleName: n.operatorRole,
      // Principals of this account that their own IAM policies allow to assume it (people, CI) may use it.
      assumedBy: new iam.AccountPrincipal(Stack.of(this).account),
      maxSessionDuration: Duration.hours(1),
      description: `bgmig operator for ${n.stack}: shift traffic, validate, cut over, rotate, read status`,
    });
    const stack = Stack.of(this);
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['cloudformation:DescribeStacks', 'cloudformation:DescribeStackEvents', 'cloudformation:DescribeStackResources', 'cloudformation:GetTemplate'],
        resources: [stack.stackId],
      }),
    );
    // GetRandomPassword creates nothing and has no resource-level permission.
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['secretsmanager:GetRandomPassword'], resources: ['*'] }));
  }
}
