/**
 * The write fence: what makes a database refuse application writes while leaving logical replication running.
 *
 * Three layers, in one transaction (one round trip), then the sessions:
 * 1. `ALTER DATABASE d SET default_transaction_read_only = on` — new sessions start read-only (the field-tested
 *    recipe; the apply worker keeps applying).
 * 2. CONNECT on the database revoked from PUBLIC and from every non-superuser role holding it (bgmig's own admin
 *    role gets an explicit grant first so it can always reconnect). This is what closes the loophole of layer 1: a
 *    client may run `SET default_transaction_read_only = off`, but an application role cannot even open a session.
 *    The revoked grantees are recorded in bgmig.fence (on that database) and given back exactly at unfence.
 *    Revoking table privileges or adding triggers would also work, but both change the catalog the schema
 *    validator compares, so a fenced green would look "incompatible"; the database ACL is not part of that model.
 * 3. Existing client sessions of non-superuser roles are terminated and waited for (pg_terminate_backend with a
 *    timeout), so no transaction of theirs can still commit after the drain marker. bgmig's own sessions
 *    (its admin role with application_name bgmig-*) and replication workers/walsenders are left alone.
 * Superusers are not fenced: PostgreSQL cannot stop them, and they are the operators.
 */
import { failure } from '../core/errors.js';
import type { FenceState } from './api.js';
import type { Session } from './session.js';
import { sleep } from '../core/sleep.js';

const FENCE_SQL = `
DO $fence$
DECLARE
  db text := current_database();
  r record;
BEGIN
  EXECUTE format('ALTER DATABASE %I SET default_transaction_read_only = on', db);
  IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I', db, current_user);
  END IF;
  FOR r IN
    SELECT DISTINCT a.grantee, ro.rolname
      FROM pg_database d
      CROSS JOIN LATERAL aclexplode(COALESCE(d.datacl, acldefault('d', d.datdba))) a
      LEFT JOIN pg_roles ro ON ro.oid = a.grantee
     WHERE d.datname = db AND a.privilege_type = 'CONNECT'
       AND (a.grantee = 0 OR (ro.rolname <> current_user AND NOT ro.rolsuper))
  LOOP
    IF r.grantee = 0 THEN
      EXECUTE format('REVOKE CONNECT ON DATABASE %I FROM PUBLIC', db);
      INSERT INTO bgmig.fence (grantee) VALUES ('PUBLIC') ON CONFLICT DO NOTHING;
    ELSE
      EXECUTE format('REVOKE CONNECT ON DATABASE %I FROM %I', db, r.rolname);
      INSERT INTO bgmig.fence (grantee) VALUES (r.rolname) ON CONFLICT DO NOTHING;
    END IF;
  END LOOP;
END
$fence$`;

const UNFENCE_SQL = `
DO $unfence$
DECLARE
  db text := current_database();
  r record;
BEGIN
  EXECUTE format('ALTER DATABASE %I RESET default_transaction_read_only', db);
  FOR r IN SELECT f.grantee FROM bgmig.fence f LOOP
    IF r.grantee = 'PUBLIC' THEN
      EXECUTE format('GRANT CONNECT ON DATABASE %I TO PUBLIC', db);
    ELSIF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r.grantee) THEN
      EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I', db, r.grantee);
    END IF;
  END LOOP;
  DELETE FROM bgmig.fence;
END
$unfence$`;

/** Client sessions the fence ends: not superusers, not bgmig's own, not replication processes. */
const TERMINATE_SQL = `
SELECT array_agg(a.pid) FILTER (WHERE pg_terminate_backend(a.pid)) AS pids
  FROM pg_stat_activity a
  LEFT JOIN pg_roles ro ON ro.oid = a.usesysid
 WHERE a.datname = current_database()
   AND a.backend_type = 'client backend'
   AND a.pid <> pg_backend_pid()
   AND NOT COALESCE(ro.rolsuper, false)
   AND NOT (a.usename = current_user AND a.application_name LIKE 'bgmig%')`;

export interface FenceResult {
  terminated: number;
}

/**
 * Fences the side's database; idempotent. Ended sessions are waited for (up to `waitMs`): a session that was
 * committing when it got the signal must be gone before the drain marker is written, so that its commit, if it
 * happened, is in the WAL before the marker. (pg_terminate_backend's own wait polls every 100 ms per backend,
 * far too slow for a pause, so the wait is a tight poll of pg_stat_activity instead.)
 */
export async function fence(s: Session, waitMs = 2_000): Promise<FenceResult> {
  await s.q(FENCE_SQL, undefined, `fence ${s.color}`);
  let terminated = 0;
  const deadline = performance.now() + waitMs;
  // A session that was authenticating while the ACL changed can appear after the first sweep: sweep until clean.
  for (let round = 0; round < 5; round++) {
    const r = await s.q<{ pids: number[] | null }>(TERMINATE_SQL, undefined, `end application sessions on ${s.color}`);
    const pids = r.rows[0].pids ?? [];
    if (pids.length === 0) break;
    terminated += pids.length;
    for (;;) {
      const left = await s.q<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = ANY($1::int[])', [pids]);
      if (left.rows[0].n === 0) break;
      if (performance.now() > deadline)
        throw failure(`${left.rows[0].n} application session(s) on ${s.color} did not exit within ${Math.round(waitMs)} ms of being terminated`);
      await sleep(1);
    }
  }
  return { terminated };
}

export async function unfence(s: Session): Promise<void> {
  await s.q(UNFENCE_SQL, undefined, `lift the fence on ${s.color}`);
}

/** Runs one read-only statement: a Session's `q`, or a bare pg.Client's `query` (`db init` has no Session). */
export type FenceQuery = (sql: string) => Promise<{ rows: unknown[] }>;

/**
 * Whether bgmig's write fence is on the connected database, and which of its layers: the read-only default
 * (pg_db_role_setting for the database, every role) and the CONNECT grants recorded in bgmig.fence. The one reader
 * of the fence, for the engine and for `db init` (which must not hand CONNECT to a role on a fenced side).
 */
export async function readFenceWith(query: FenceQuery): Promise<FenceState> {
  const r = await query(`
    SELECT EXISTS (
             SELECT 1 FROM pg_db_role_setting rs JOIN pg_database d ON d.oid = rs.setdatabase
              WHERE d.datname = current_database() AND rs.setrole = 0
                AND EXISTS (SELECT 1 FROM unnest(rs.setconfig) c
                             WHERE lower(c) IN ('default_transaction_read_only=on', 'default_transaction_read_only=true', 'default_transaction_read_only=1'))
           ) AS ro,
           to_regclass('bgmig.fence') IS NOT NULL AS has_table`);
  const { ro, has_table } = r.rows[0] as { ro: boolean; has_table: boolean };
  const grantees = has_table ? ((await query('SELECT grantee FROM bgmig.fence ORDER BY grantee')).rows as { grantee: string }[]) : [];
  const revoked = grantees.map((x) => x.grantee);
  return { fenced: ro || revoked.length > 0, readOnlyDefault: ro, connectRevokedFrom: revoked };
}

/** readFenceWith over an engine Session. */
export function readFence(s: Session): Promise<FenceState> {
  return readFenceWith((sql) => s.q(sql));
}
