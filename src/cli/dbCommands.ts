import type { Command } from 'commander';
import { migrateLatest, migrateRollbackAll, migrationStatus } from '../db/migrator';
import { CliError, type CliContext } from './context';

export function registerDbCommands(program: Command, run: (fn: (ctx: CliContext) => Promise<void>) => Promise<void>): void {
  const db = program.command('db').description('Database schema');

  db.command('migrate')
    .description('Apply every pending migration')
    .action(() =>
      run(async ({ db: knex }) => {
        const applied = await migrateLatest(knex);
        process.stdout.write(applied.length ? `Applied ${applied.length} migration(s):\n${applied.map((m) => `  ${m}`).join('\n')}\n` : 'Already up to date.\n');
      }),
    );

  db.command('status')
    .description('List applied and pending migrations')
    .action(() =>
      run(async ({ db: knex }) => {
        const { applied, pending } = await migrationStatus(knex);
        for (const m of applied) process.stdout.write(`applied\t${m}\n`);
        for (const m of pending) process.stdout.write(`pending\t${m}\n`);
      }),
    );

  db.command('rollback')
    .description('Revert every migration (drops all tables and their data)')
    .option('--all', 'revert all migrations')
    .option('--yes', 'confirm that every table and its data will be dropped')
    .action((opts: { all?: boolean; yes?: boolean }) =>
      run(async ({ db: knex }) => {
        if (!opts.all || !opts.yes) throw new CliError('This drops every table and all data. Run again with --all --yes to confirm.');
        const reverted = await migrateRollbackAll(knex);
        process.stdout.write(`Reverted ${reverted.length} migration(s).\n`);
      }),
    );
}
