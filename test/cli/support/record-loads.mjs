// Preloaded with --import: records every module URL the process resolves into $BGMIG_LOAD_LOG, so a test can
// prove which libraries a command loads (rollback must not load aws-cdk-lib or toolkit-lib).
import { register } from 'node:module';

register('./record-loads-hooks.mjs', import.meta.url, { data: { log: process.env.BGMIG_LOAD_LOG } });
