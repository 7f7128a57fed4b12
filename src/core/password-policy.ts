/**
 * The one password policy: the passwords bgmig has generated for it, by CloudFormation when a stack is created
 * (the master, application and pooler admin secrets) and by Secrets Manager's GetRandomPassword when a secret is
 * rotated.
 *
 * Characters are left out when they break a PostgreSQL URL (`@ : / ? # % &` and the like), a libpq conninfo
 * string (quotes, backslash, whitespace), JSON (`"` and `\`) or a shell command line an operator pastes a URL
 * into (`$ \` ! * ( ) | ; < > { } [ ] ^ ~`). The result is a superset of what AWS's own RDS rotation templates
 * exclude (`/ @ " ' \`).
 */

/** Length of every password bgmig asks Secrets Manager or CloudFormation to generate. */
export const GENERATED_PASSWORD_LENGTH = 32;

/** Characters excluded from every password generated after the stack exists (rotation). */
export const PASSWORD_EXCLUDED_CHARACTERS = `/@"'\\:?#[]%&+=;,<>{}|^~\`$!*() `;

/**
 * What the stack's template asks CloudFormation to exclude: the same set without `! * ( )`, the set stacks were
 * first deployed with. It must stay byte for byte as it is: CloudFormation generates a new secret value whenever
 * GenerateSecretString changes (aws-cloudformation/cloudformation-coverage-roadmap#2210, aws/aws-cdk#19985), which
 * for the application secret would leave the database role on the old password, an outage at the next deploy.
 * Passwords with `! * ( )` are still safe in URLs, conninfo strings and JSON; only shell quoting needs more care.
 */
export const TEMPLATE_PASSWORD_EXCLUDED_CHARACTERS = ` "'\\@/:?#&=%+;,$\`{}[]<>|^~`;

/**
 * What the stack's template asks CloudFormation to generate for the pooler's admin secret (src/infra/constructs/
 * pooler.ts): letters and digits only (Secrets Manager's ExcludePunctuation), 32 of them. Its consumer needs no more
 * than the template set: the pooler's start script writes it between double quotes into PgBouncer's auth file
 * (userlist.txt, `"user" "password"`), where only `"` would need escaping (as `""`) and every set here excludes it;
 * the cutover function passes it to the admin console as a connection parameter, not in a URL. It stays as first
 * deployed for the reason above: a changed GenerateSecretString would give the admin secret a new value at the next
 * deploy while the running pooler tasks keep the old one (they read it when they start), and the cutover function
 * could no longer log in to their admin consoles to PAUSE them.
 */
export const POOLER_ADMIN_PASSWORD = { excludePunctuation: true, passwordLength: GENERATED_PASSWORD_LENGTH } as const;

/** True when a generated password has the policy's length and none of its excluded characters. */
export function meetsPasswordPolicy(password: string, excluded: string = PASSWORD_EXCLUDED_CHARACTERS): boolean {
  return password.length === GENERATED_PASSWORD_LENGTH && ![...password].some((ch) => excluded.includes(ch));
}
