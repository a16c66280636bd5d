import type { Knex } from 'knex';
import { time } from './helpers';

export async function up(knex: Knex): Promise<void> {
  // Append-only and hash-chained: each row's hash covers the previous row's hash.
  await knex.schema.createTable('audit_log', (t) => {
    t.increments('seq');
    time(t, 'at').notNullable();
    t.integer('actor_user_id').unsigned().nullable();
    t.string('actor_login', 64).notNullable();
    t.string('action', 64).notNullable();
    t.string('subject_type', 32).nullable();
    t.string('subject_id', 64).nullable();
    t.text('data').nullable();
    t.string('ip', 45).nullable();
    t.string('prev_hash', 64).notNullable();
    t.string('hash', 64).notNullable();
    t.index(['subject_type', 'subject_id']);
    t.index(['action']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('audit_log');
}
