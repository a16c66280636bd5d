import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import { inject } from 'vitest';
import type { DatabaseConfig } from '../config/schema';
import { createDb } from '../db/knex';
import { migrateLatest } from '../db/migrator';

/**
 * Integration tests run on every engine available:
 *   describe.each(engines)('accounts on %s', (engine) => { ... })
 * SQLite always; MySQL/MariaDB when TEST_MYSQL_URL (a root-capable URL) is set.
 */
export type Engine = 'sqlite' | 'mysql';

export const engines: Engine[] = process.env.TEST_MYSQL_URL ? ['sqlite', 'mysql'] : ['sqlite'];

export interface TestDb {
  db: Knex;
  config: DatabaseConfig;
  /** Closes the pool and deletes the database. Safe to call twice. */
  cleanup(): Promise<void>;
}

/** Every database this run creates starts with this prefix; globalSetup's teardown drops leftovers. */
export const mysqlTestDbPrefix = 'antispam_t_';

function runId(): string {
  try {
    return inject('testRunId');
  } catch {
    return 'x';
  }
}

function uniqueSuffix(): string {
  return `${process.pid}_${crypto.randomBytes(4).toString('hex')}`;
}

/** A knex connected to the server in TEST_MYSQL_URL without selecting a database (to create/drop them). */
export function mysqlAdminConnection(url: string = requireMysqlUrl()): Knex {
  const u = new URL(url);
  return knexFactory({
    client: 'mysql2',
    connection: {
      host: u.hostname,
      port: u.port ? Number(u.port) : 3306,
      user: decodeURIComponent(u.username),
      password: decodeURIComponent(u.password),
      charset: 'utf8mb4',
    },
    pool: { min: 0, max: 1 },
    acquireConnectionTimeout: 15_000,
  });
}

function requireMysqlUrl(): string {
  const url = process.env.TEST_MYSQL_URL;
  if (!url) throw new Error('TEST_MYSQL_URL is not set: the mysql engine is not available in this run');
  return url;
}

async function createSqliteTestDb(): Promise<TestDb> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'antispam-test-'));
  const config: DatabaseConfig = { client: 'sqlite', filename: path.join(dir, 'test.sqlite') };
  const db = createDb(config);
  let done = false;
  return {
    db,
    config,
    async cleanup() {
      if (done) return;
      done = true;
      await db.destroy();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function createMysqlTestDb(): Promise<TestDb> {
  const rootUrl = requireMysqlUrl();
  const name = `${mysqlTestDbPrefix}${runId()}_${uniqueSuffix()}`;
  const admin = mysqlAdminConnection(rootUrl);
  try {
    await admin.raw('CREATE DATABASE ?? CHARACTER SET utf8mb4', [name]);
  } catch (err) {
    await admin.destroy();
    throw err;
  }
  const url = new URL(rootUrl);
  url.pathname = `/${name}`;
  const config: DatabaseConfig = { client: 'mysql', url: url.toString() };
  const db = createDb(config);
  let done = false;
  return {
    db,
    config,
    async cleanup() {
      if (done) return;
      done = true;
      try {
        await db.destroy();
        await admin.raw('DROP DATABASE IF EXISTS ??', [name]);
      } finally {
        await admin.destroy();
      }
    },
  };
}

/** An empty database of the given engine, private to the caller. */
export async function createTestDb(engine: Engine): Promise<TestDb> {
  return engine === 'sqlite' ? createSqliteTestDb() : createMysqlTestDb();
}

/** An empty database with every migration applied. */
export async function migratedTestDb(engine: Engine): Promise<TestDb> {
  const testDb = await createTestDb(engine);
  try {
    await migrateLatest(testDb.db);
  } catch (err) {
    await testDb.cleanup();
    throw err;
  }
  return testDb;
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** Short id of this `vitest run`, part of every MySQL test database name. */
    testRunId: string;
  }
}
