/**
 * Two layers, one run (docs/testing.md):
 * - `unit`: pure code, no server, no emulator, no subprocess, no dist/ build. `npm run test:fast` runs only this
 *   layer (seconds). A file joins it by its name, `*.unit.test.ts`; the harness refuses to start moto, PostgreSQL
 *   or the bgmig executable inside it, so the layer stays fast.
 * - `system`: everything else — real PostgreSQL, moto, PgBouncer, the built executable and Lambda bundles. Its
 *   global setup builds dist/ once and stops the per-worker emulators and servers at the end.
 * `npm test` runs both.
 */
import { defineConfig } from 'vitest/config';

const UNIT = ['test/**/*.unit.test.ts'];

export default defineConfig({
  test: {
    pool: 'forks',
    // Two cores here: PostgreSQL servers, moto and synthesis all compete for them.
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 180_000,
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: UNIT, env: { BGMIG_TEST_LAYER: 'unit' }, testTimeout: 10_000 },
      },
      {
        extends: true,
        test: { name: 'system', include: ['test/**/*.test.ts'], exclude: UNIT, globalSetup: ['test/global-setup.ts'] },
      },
    ],
  },
});
