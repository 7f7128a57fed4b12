/**
 * The AWS-mode pooler contract shared by the CDK construct (src/infra/constructs/pooler.ts) and the cutover
 * function (src/lambda/db-cutover.ts), kept free of SDK and CDK imports.
 *
 * AWS mode on paper (not deployed here): PgBouncer runs as an ECS Fargate service, one task per AZ, registered in a
 * Cloud Map private DNS namespace (an A record per task), its [databases] entry naming the Route 53 db record with
 * `dns_max_ttl = 1`. The cutover function finds every task by resolving the Cloud Map name, PAUSEs them all before
 * the fence, and RESUMEs them after the switch hook saw the record resolve to the new writer in the VPC (the
 * `dns` repoint mechanism of src/pooler/tier.ts).
 */

/** Environment of the cutover function when the stack has poolers. */
export const PoolerEnv = {
  /** Cloud Map name that resolves to every pooler task (A records). */
  DiscoveryName: 'POOLER_DISCOVERY_NAME',
  /** Secret with {username, password} of PgBouncer's admin_users login. */
  AdminSecretArn: 'POOLER_ADMIN_SECRET_ARN',
  Port: 'POOLER_PORT',
} as const;

/** The pooler listens where PostgreSQL would, so an application switches by DB_HOST alone. */
export const POOLER_PORT = 5432;
export const POOLER_ADMIN_USER = 'bgmig_pooler_admin';
export const POOLER_DATABASE_ENTRY = 'app';

/**
 * The ini the container renders at start (values from its environment and ECS secrets). transaction pooling (so
 * PAUSE completes when transactions end), DNS cached 1 s (the record is followed quickly after a switch), TLS to
 * Aurora verified against the RDS CA, and no unix socket.
 */
export function poolerIni(o: { dbHost: string; dbName: string; dbPort: number; caFile: string }): string {
  return [
    '[databases]',
    `${POOLER_DATABASE_ENTRY} = host=${o.dbHost} port=${o.dbPort} dbname=${o.dbName}`,
    '[pgbouncer]',
    'listen_addr = 0.0.0.0',
    `listen_port = ${POOLER_PORT}`,
    'unix_socket_dir =',
    'auth_type = scram-sha-256',
    'auth_file = /tmp/userlist.txt',
    `admin_users = ${POOLER_ADMIN_USER}`,
    'pool_mode = transaction',
    'dns_max_ttl = 1',
    'query_wait_timeout = 120',
    'server_tls_sslmode = verify-full',
    `server_tls_ca_file = ${o.caFile}`,
    'client_tls_sslmode = disable',
  ].join('\n');
}
