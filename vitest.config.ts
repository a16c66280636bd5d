import { defineConfig } from 'vitest/config';

/**
 * Unit and integration tests (Playwright owns e2e/).
 * Integration tests run on SQLite always and on MySQL/MariaDB when TEST_MYSQL_URL is set.
 * Files run in parallel: every test database is private to its file (a temp SQLite file, or a
 * uniquely named MySQL database created and dropped by src/testing/testDb.ts).
 */
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    exclude: ['node_modules/**', 'e2e/**', 'bench/**'],
    environment: 'node',
    globalSetup: ['src/testing/globalSetup.ts'],
    pool: 'forks',
    fileParallelism: true,
    // Each worker may hold a MySQL pool of up to 10 connections; 4 workers stay far below max_connections.
    maxWorkers: 4,
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
