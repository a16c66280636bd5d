import type { Knex } from 'knex';
import { stamps, time } from './helpers';

// CSV imports of consent records: the uploaded file (kept on disk), its progress so an interrupted
// import resumes, and the rejected rows with line numbers for the downloadable report.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('consent_imports', (t) => {
    t.increments('id');
    t.integer('account_id').unsigned().notNullable().references('id').inTable('accounts');
    t.integer('list_id').unsigned().notNullable().references('id').inTable('consent_lists');
    t.string('created_by', 64).notNullable();
    t.string('filename', 255).notNullable();
    t.string('file_path', 500).notNullable();
    t.bigInteger('file_bytes').notNullable();
    t.string('file_sha256', 64).notNullable();
    t.string('mode', 16).notNullable();
    t.text('mapping').notNullable();
    t.text('options').nullable();
    t.string('status', 16).notNullable();
    t.string('phase', 16).nullable();
    t.integer('lines_done').notNullable().defaultTo(0);
    t.bigInteger('bytes_done').notNullable().defaultTo(0);
    t.integer('rows_imported').notNullable().defaultTo(0);
    t.integer('rows_confirmed').notNullable().defaultTo(0);
    t.integer('rows_pending').notNullable().defaultTo(0);
    t.integer('rows_rejected').notNullable().defaultTo(0);
    t.text('error').nullable();
    t.string('lease_holder', 64).nullable();
    time(t, 'heartbeat_at').nullable();
    time(t, 'started_at').nullable();
    time(t, 'finished_at').nullable();
    stamps(t);
    t.index(['list_id', 'id']);
    t.index(['status']);
  });
  await knex.schema.createTable('consent_import_rejects', (t) => {
    t.increments('id');
    t.integer('import_id').unsigned().notNullable().references('id').inTable('consent_imports');
    t.integer('line').notNullable();
    t.string('email', 254).nullable();
    t.string('reason', 500).notNullable();
    t.text('raw').nullable();
    t.index(['import_id', 'line']);
  });
  // A batch of imported records shares one chain event (src/consent/import/); the record points at it.
  await knex.schema.alterTable('consent_records', (t) => {
    t.integer('import_event_id').unsigned().nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('consent_records', (t) => {
    t.dropColumn('import_event_id');
  });
  await knex.schema.dropTableIfExists('consent_import_rejects');
  await knex.schema.dropTableIfExists('consent_imports');
}
