import type { Knex } from 'knex';
import { loadConfig } from '../config/load';
import type { AppConfig } from '../config/schema';
import { createDb } from '../db/knex';
import { migrationStatus } from '../db/migrator';
import { systemClock, type Clock } from '../lib/clock';

export interface CliContext {
  config: AppConfig;
  db: Knex;
  clock: Clock;
}

/** Same configuration as the server (DATA_DIR, DATABASE_URL, …); the db is closed by the caller. */
export function openCliContext(): CliContext {
  const config = loadConfig();
  return { config, db: createDb(config.database), clock: systemClock };
}

export class CliError extends Error {}

export async function assertMigrated(db: Knex): Promise<void> {
  const { pending } = await migrationStatus(db);
  if (pending.length) throw new CliError(`The database schema is not up to date (${pending.length} pending migration${pending.length === 1 ? '' : 's'}). Run: npm run cli -- db migrate`);
}

/** Reads all of stdin (for --password-stdin), trimming one trailing newline. */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}
