import type { Knex } from 'knex';
import { migrations, type Migration } from '../../migrations/index';

class StaticMigrationSource implements Knex.MigrationSource<string> {
  async getMigrations(): Promise<string[]> {
    return Object.keys(migrations).sort();
  }
  getMigrationName(name: string): string {
    return name;
  }
  async getMigration(name: string): Promise<Migration> {
    const migration = migrations[name];
    if (!migration) throw new Error(`unknown migration ${name}`);
    return migration;
  }
}

const options = (): Knex.MigratorConfig => ({ migrationSource: new StaticMigrationSource(), tableName: 'knex_migrations' });

/** Applies every pending migration; returns the names applied. */
export async function migrateLatest(db: Knex): Promise<string[]> {
  const [, applied] = (await db.migrate.latest(options())) as [number, string[]];
  return applied;
}

/** Reverts every applied migration (tests and `db rollback --all`). */
export async function migrateRollbackAll(db: Knex): Promise<string[]> {
  const [, reverted] = (await db.migrate.rollback(options(), true)) as [number, string[]];
  return reverted;
}

export async function migrationStatus(db: Knex): Promise<{ applied: string[]; pending: string[] }> {
  const [applied, pending] = (await db.migrate.list(options())) as [Array<{ name: string }>, Array<string | { file: string }>];
  return {
    applied: applied.map((m) => m.name),
    pending: pending.map((p) => (typeof p === 'string' ? p : p.file)),
  };
}
