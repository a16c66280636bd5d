import type { Knex } from 'knex';
import { stamps, time } from './helpers';

// Consent records: lists per sending domain, versioned consent texts, records with evidence,
// and an append-only event log hash-chained per account (src/consent/chain.ts).
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('consent_lists', (t) => {
    t.increments('id');
    t.integer('account_id').unsigned().notNullable().references('id').inTable('accounts');
    t.integer('domain_id').unsigned().notNullable().references('id').inTable('domains');
    t.string('name', 191).notNullable();
    t.boolean('double_opt_in').notNullable().defaultTo(false);
    stamps(t);
    t.index(['account_id', 'name']);
    t.index(['domain_id']);
  });
  await knex.schema.createTable('consent_texts', (t) => {
    t.increments('id');
    t.integer('list_id').unsigned().notNullable().references('id').inTable('consent_lists');
    t.integer('version').notNullable();
    t.text('text').notNullable();
    time(t, 'created_at').notNullable();
    t.unique(['list_id', 'version']);
  });
  await knex.schema.createTable('consent_records', (t) => {
    t.increments('id');
    t.integer('list_id').unsigned().notNullable().references('id').inTable('consent_lists');
    t.string('email', 254).notNullable();
    t.string('status', 16).notNullable();
    t.string('method', 16).notNullable();
    t.string('source', 500).nullable();
    t.integer('consent_text_version').nullable();
    t.string('ip', 45).nullable();
    t.string('user_agent', 500).nullable();
    time(t, 'consented_at').nullable();
    time(t, 'confirmed_at').nullable();
    t.string('confirmed_ip', 45).nullable();
    time(t, 'revoked_at').nullable();
    t.string('revoked_how', 16).nullable();
    stamps(t);
    t.unique(['list_id', 'email']);
    t.index(['email']);
  });
  await knex.schema.createTable('consent_events', (t) => {
    t.increments('id');
    t.integer('account_id').unsigned().notNullable().references('id').inTable('accounts');
    t.integer('seq').notNullable();
    t.integer('record_id').unsigned().nullable();
    t.integer('list_id').unsigned().notNullable();
    t.string('type', 32).notNullable();
    time(t, 'at').notNullable();
    t.string('actor', 64).notNullable();
    t.text('data').nullable();
    t.string('prev_hash', 64).notNullable();
    t.string('hash', 64).notNullable();
    t.unique(['account_id', 'seq']);
    t.index(['record_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('consent_events');
  await knex.schema.dropTableIfExists('consent_records');
  await knex.schema.dropTableIfExists('consent_texts');
  await knex.schema.dropTableIfExists('consent_lists');
}
