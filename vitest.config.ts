import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // One process for the GPU suites keeps one CUDA context per file at a time.
    pool: 'forks',
    // The finalizer test forces garbage collection.
    execArgv: ['--expose-gc'],
    reporters: ['default'],
  },
});
