import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import { createDb } from '../src/db/knex';

/**
 * Runs a bench on a fresh SQLite file, then, when TEST_MYSQL_URL is set, on a private MariaDB/MySQL
 * database created for the run and dropped afterwards (like src/testing/testDb.ts does for tests).
 */
export async function onEachEngine(name: string, run: (label: string, db: Knex) => Promise<void>): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `bench-${name}-`));
  const sqlite = createDb({ client: 'sqlite', filename: path.join(dir, 'bench.sqlite') });
  try {
    await run('SQLite', sqlite);
  } finally {
    await sqlite.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  }

  const mysqlUrl = process.env.TEST_MYSQL_URL;
  if (!mysqlUrl) {
    console.log('MariaDB/MySQL: skipped (set TEST_MYSQL_URL to run it)');
    return;
  }
  const url = new URL(mysqlUrl);
  const database = `antispam_bench_${process.pid}_${crypto.randomBytes(3).toString('hex')}`;
  const admin = knexFactory({
    client: 'mysql2',
    connection: { host: url.hostname, port: url.port ? Number(url.port) : 3306, user: decodeURIComponent(url.username), password: decodeURIComponent(url.password), charset: 'utf8mb4' },
    pool: { min: 0, max: 1 },
  });
  await admin.raw('CREATE DATABASE ?? CHARACTER SET utf8mb4', [database]);
  url.pathname = `/${database}`;
  const mysql = createDb({ client: 'mysql', url: url.toString() });
  try {
    await run('MariaDB/MySQL', mysql);
  } finally {
    await mysql.destroy();
    await admin.raw('DROP DATABASE IF EXISTS ??', [database]);
    await admin.destroy();
  }
}
