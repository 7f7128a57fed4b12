/**
 * A raw PostgreSQL error is never the whole message: each SQLSTATE (by code, else by class — the first two
 * characters, https://www.postgresql.org/docs/15/errcodes-appendix.html) gets a sentence saying what it means for
 * a replication step and what the operator does next. Pure; session.ts appends it to every failing statement's
 * message.
 */
import type { Color } from '../core/naming.js';

/** Codes whose sentence is more specific than their class's. */
const BY_CODE: Record<string, (side: Color) => string> = {
  // Raised by a statement, 08001 means the server itself could not connect out: CREATE/ALTER SUBSCRIPTION
  // connecting from the subscriber to the publisher (a client-side connection failure has no SQLSTATE).
  '08001': (s) =>
    `${s}'s server could not connect to the other side: a subscription connects from ${s} itself, so ${s} must reach the other side's host and port (security groups, pg_hba.conf and listen_addresses there) — fix the network path, then run the same command again`,
  '23505': (s) => `a unique constraint on ${s} rejected a row (duplicate key): the row already exists there — compare both sides' data for that key`,
  '23503': (s) => `a foreign key on ${s} rejected a row: the referenced row is missing there`,
  '23502': (s) => `a NOT NULL column on ${s} got no value: give it a default on ${s} or send the column`,
  '23514': (s) => `a CHECK constraint on ${s} rejected a row: relax it on ${s} or fix the data`,
  '25006': (s) => `${s} is read-only: either bgmig's fence is on (see \`bgmig db sync status\`) or the URL points at a replica — use the writer endpoint`,
  '40001': () => 'a serialization failure: nothing was committed — run the same command again',
  '40P01': () => 'a deadlock with another session: nothing was committed — run the same command again',
  '42501': (s) =>
    `the admin role on ${s} lacks a privilege bgmig needs (publications, subscriptions and slots need a superuser, or on Aurora the master user with rds_superuser and rds_replication): give the URL or secret of such a role`,
  '42P01': (s) => `a table is missing on ${s}: the schema changed while bgmig ran — check \`bgmig db sync status\` and run the command again`,
  '42703': (s) => `a column is missing on ${s}: the schema changed while bgmig ran — check \`bgmig db sync status\` and run the command again`,
  '42704': (s) => `a replication object is missing on ${s} (a slot, publication or subscription was dropped by hand): check \`bgmig db sync status\``,
  '42710': (s) => `a replication object of that name already exists on ${s}: \`bgmig db sync stop\` removes bgmig's leftovers`,
  '53100': (s) => `${s}'s disk is full: free space — an inactive replication slot retains WAL (\`bgmig db sync status\` lists them)`,
  '53200': (s) => `${s} ran out of memory: retry when it is less loaded`,
  '53300': (s) => `${s} has no free connection (max_connections): close idle sessions or raise it, then retry`,
  '53400': (s) =>
    `a server limit was reached on ${s} (max_replication_slots, max_wal_senders or max_logical_replication_workers): raise it or drop unused slots, then retry`,
  '55000': (s) => `${s} is not set up for this (for replication: wal_level=logical, on Aurora rds.logical_replication=1): fix its settings and retry`,
  '55006': (s) => `the replication slot on ${s} is in use by another process: wait a few seconds and retry`,
  '55P03': (s) => `another session on ${s} holds a lock this step needs: find it in pg_locks / pg_stat_activity on ${s}, let it finish or end it, then retry`,
  '57014': (s) =>
    `the statement waited too long: a lock or a transaction left open on ${s} held it up — look for "idle in transaction" sessions in pg_stat_activity on ${s}, end them, then retry`,
  '57P01': (s) => `${s} is shutting down or restarting: wait until it accepts connections, then retry`,
  '57P02': (s) => `${s} is recovering from a crash: wait until it accepts connections, then retry`,
  '57P03': (s) => `${s} is starting up and cannot accept connections yet: retry in a moment`,
};

const BY_CLASS: Record<string, (side: Color) => string> = {
  '08': (s) => `the connection to ${s} broke: check that it is up and reachable, then run the same command again (every step can be re-run)`,
  '0A': (s) => `${s} does not support this (bgmig needs PostgreSQL 15 or later)`,
  '22': (s) => `a value does not fit ${s}'s column type: compare the column types on both sides (\`bgmig validate\`)`,
  '23': (s) => `a constraint on ${s} rejected a row: compare both sides' constraints and data`,
  '25': () => 'the transaction was in the wrong state: run the same command again',
  '28': (s) => `${s} rejected the credentials: check the password in the secret or URL`,
  '40': () => 'the transaction was rolled back by the server: run the same command again',
  '42': (s) => `${s} rejected the statement (object missing or not allowed): check \`bgmig db sync status\` and the admin role's privileges`,
  '53': (s) => `${s} ran out of a resource (disk, memory, connections, slots): free it, then retry`,
  '54': (s) => `a PostgreSQL limit was exceeded on ${s}`,
  '55': (s) => `an object on ${s} is not in the state this step needs: check \`bgmig db sync status\` and retry`,
  '57': (s) => `${s} cancelled the statement or is shutting down: retry once it is up`,
  '58': (s) => `${s} reported a system (I/O) error: check its storage and server log`,
  XX: (s) => `${s} hit an internal error: see its server log`,
};

/** What a SQLSTATE means and what to do, naming the side; null for codes that are not SQLSTATEs (node errors). */
export function explainSqlState(code: string | undefined | null, side: Color): string | null {
  if (!code || !/^[0-9A-Z]{5}$/.test(code)) return null;
  const f = BY_CODE[code] ?? BY_CLASS[code.slice(0, 2)];
  return f ? f(side) : `see ${side}'s server log for SQLSTATE ${code}`;
}
