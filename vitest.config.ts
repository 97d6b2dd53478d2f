import { defineConfig } from 'vitest/config';

/** Every test file `npm test` runs: a new file under one of these runs by default. */
const testFiles = ['apps/*/test/**/*.test.ts', 'packages/*/test/**/*.test.ts', 'tools/*/test/**/*.test.ts', 'test/**/*.test.ts'];

/**
 * Suites with a configuration and command of their own, never part of `npm test`: the fault
 * injection suite (vitest.faults.config.ts, `npm run test:faults`) and the compose suite.
 */
const ownSuites = ['**/node_modules/**', 'test/faults/**', 'test/compose/**'];

/**
 * Tests that start processes (Prisma's CLI over the schema-engine stand-in, a worker in a child
 * process): a few slow tests that mostly wait. They form a project of their own so they can be run
 * or left out by name (`--project child-processes`), with timeouts sized for them. Vitest starts
 * projects in name order, so these long files start first, beside the integration files, instead of
 * running alone at the end.
 */
const processTests = ['tools/*/test/**/*.test.ts', 'apps/worker/test/graceful-shutdown.test.ts'];

export default defineConfig({
  // Tests run the TypeScript sources of the workspace packages, not their build output.
  resolve: { conditions: ['herald-source'] },
  ssr: { resolve: { conditions: ['herald-source'] } },
  test: {
    globalSetup: ['test/global-setup.ts'],
    // Fails a test whose web answers disagree with the API description (test/support/api-description.ts).
    setupFiles: ['test/support/api-description-hooks.ts'],
    pool: 'forks',
    maxWorkers: 2,
    // Test files share their worker's module cache instead of importing every module afresh: the code
    // keeps no state in a module beyond what is keyed by the dependencies it serves (the send path's
    // batch collectors), each file builds its own stack over a database and queue prefix of its own,
    // and loading the modules per file was a third of the run.
    isolate: false,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // `npm test` runs every project. Add a project here for another group with settings of its own.
    projects: [
      { extends: true, test: { name: 'integration', include: testFiles, exclude: [...ownSuites, ...processTests] } },
      { extends: true, test: { name: 'child-processes', include: processTests, exclude: ownSuites, testTimeout: 120_000 } },
    ],
  },
});
