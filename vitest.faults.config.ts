import { defineConfig } from 'vitest/config';

/**
 * The fault-injection suite (`npm run test:faults`, or `npm run test:faults -- worker-killed` for one
 * scenario): real web, worker and mail-sink processes against a Postgres and a Redis the suite owns.
 * Scenarios run one after another, since each loads the two cores on its own.
 */
export default defineConfig({
  resolve: { conditions: ['herald-source'] },
  ssr: { resolve: { conditions: ['herald-source'] } },
  test: {
    include: ['test/faults/**/*.test.ts'],
    globalSetup: ['test/faults/global-setup.ts'],
    pool: 'forks',
    fileParallelism: false,
    maxWorkers: 1,
    testTimeout: 300_000,
    hookTimeout: 120_000,
    reporters: ['verbose'],
  },
});
