import crypto from 'node:crypto';
import type { TestProject } from 'vitest/node';
import { mysqlAdminConnection, mysqlTestDbPrefix } from './testDb';

/**
 * Runs once per `vitest run`, before any worker starts.
 * - CI must run the MySQL/MariaDB suite: a CI run without TEST_MYSQL_URL fails instead of silently
 *   testing SQLite only.
 * - With TEST_MYSQL_URL, the server must answer before any test starts, so an unreachable server is
 *   one clear error rather than every integration test failing.
 * Teardown drops any database of this run that a crashed test file left behind.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const url = process.env.TEST_MYSQL_URL;
  if (process.env.CI === 'true' && !url) {
    throw new Error(
      'TEST_MYSQL_URL is not set, so the MySQL/MariaDB integration suite would be skipped, and CI forbids that. ' +
        'Set TEST_MYSQL_URL=mysql://root:password@127.0.0.1:3306/test (a user allowed to CREATE and DROP databases).',
    );
  }

  const runId = crypto.randomBytes(4).toString('hex');
  project.provide('testRunId', runId);
  if (!url) return async () => {};

  let parsed: URL;
  try {
    parsed = new URL(url);
    if (!/^(mysql|mariadb):$/.test(parsed.protocol)) throw new Error(`unsupported scheme ${parsed.protocol}`);
  } catch (err) {
    throw new Error(`TEST_MYSQL_URL expects mysql://user:password@host:port/database (${(err as Error).message})`);
  }
  const where = `${parsed.hostname}:${parsed.port || 3306} as ${decodeURIComponent(parsed.username) || '(no user)'}`;
  const admin = mysqlAdminConnection(url);
  try {
    const [rows] = (await admin.raw('SELECT 1 AS ok')) as [Array<{ ok: number }>];
    if (Number(rows[0]?.ok) !== 1) throw new Error('SELECT 1 did not return 1');
  } catch (err) {
    throw new Error(
      `TEST_MYSQL_URL is set but MySQL/MariaDB at ${where} is unreachable: ${(err as Error).message}. ` +
        'Start the server (e.g. start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd) or unset TEST_MYSQL_URL to test SQLite only.',
    );
  } finally {
    await admin.destroy();
  }

  return async () => {
    const conn = mysqlAdminConnection(url);
    try {
      const [rows] = (await conn.raw('SELECT schema_name AS name FROM information_schema.schemata WHERE schema_name LIKE ?', [
        `${mysqlTestDbPrefix}${runId}\\_%`,
      ])) as [Array<{ name: string }>];
      for (const row of rows) await conn.raw('DROP DATABASE IF EXISTS ??', [row.name]);
    } finally {
      await conn.destroy();
    }
  };
}
