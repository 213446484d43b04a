import { defineConfig } from 'vitest/config';

// SoftHSM2 reads SOFTHSM2_CONF once per process (at C_Initialize), so every test file
// that touches a token must run in its own process: the forks pool gives us that.
export default defineConfig({
  test: {
    pool: 'forks',
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/log-scan.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
