import type { Knex } from 'knex';
import { time } from './helpers';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('policy_versions', (t) => {
    t.increments('id');
    t.integer('version').notNullable().unique();
    t.string('title', 191).notNullable();
    t.text('body', 'mediumtext').notNullable();
    t.string('change_summary', 500).nullable();
    t.integer('published_by').unsigned().nullable().references('id').inTable('users');
    time(t, 'published_at').notNullable();
  });
  await knex.schema.createTable('policy_acceptances', (t) => {
    t.increments('id');
    t.integer('account_id').unsigned().notNullable().references('id').inTable('accounts');
    t.integer('policy_version_id').unsigned().notNullable().references('id').inTable('policy_versions');
    t.integer('user_id').unsigned().nullable().references('id').inTable('users');
    time(t, 'accepted_at').notNullable();
    t.string('ip', 45).nullable();
    t.string('user_agent', 500).nullable();
    t.unique(['account_id', 'policy_version_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('policy_acceptances');
  await knex.schema.dropTableIfExists('policy_versions');
}
