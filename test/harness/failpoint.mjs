// Preloaded into a bgmig subprocess (node --import) when a test sets BGMIG_FAILPOINT=after:<operation>:<step>
// (or after:<step>): installs the replication journal's checkpoint so the process kills itself right after that
// step was journaled. Abrupt on purpose: no cleanup, no unwinding, sockets dropped, like a kill -9 or a Lambda
// timeout. bgmig itself never reads BGMIG_FAILPOINT; see src/replication/journal.ts (journal checkpoint).
const failpoint = process.env.BGMIG_FAILPOINT;
if (failpoint) {
  globalThis.__bgmigJournalCheckpoint = (operation, step) => {
    if (failpoint === `after:${step}` || failpoint === `after:${operation}:${step}`) process.kill(process.pid, 'SIGKILL');
  };
}
