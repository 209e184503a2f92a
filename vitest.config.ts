import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.test.ts', 'services/*/src/**/*.test.ts', 'test/support/**/*.test.ts', 'test/unit/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, 'test/support/**', 'test/unit/**'],
          // Installs and starts the local servers the tests need when they are missing or
          // stopped (root on Debian), or stops the run with the command that does.
          globalSetup: ['test/global-setup.ts'],
          // End-to-end files share one Dovecot/Postfix pair; each uses its own
          // mail domain, database schema and queue prefix, but running them one
          // at a time keeps the 2-core CI machine from timing out.
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
