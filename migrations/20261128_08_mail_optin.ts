import type { Knex } from 'knex';
import { time } from './helpers';

// Outgoing mail (every send recorded, or captured when no SMTP server is configured), double opt-in
// confirmation requests, and a generic table of rate-limited hits (public forms).
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('mail_outbox', (t) => {
    t.increments('id');
    t.integer('account_id').unsigned().nullable().references('id').inTable('accounts');
    t.string('kind', 32).notNullable();
    t.string('to_address', 254).notNullable();
    t.string('from_address', 254).notNullable();
    t.string('subject', 500).notNullable();
    t.text('text_body').notNullable();
    t.text('headers').nullable();
    t.string('transport', 16).notNullable();
    t.string('status', 16).notNullable();
    t.text('response').nullable();
    t.text('error').nullable();
    time(t, 'created_at').notNullable();
    time(t, 'sent_at').nullable();
    t.index(['kind', 'id']);
    t.index(['to_address']);
    t.index(['account_id', 'id']);
  });
  await knex.schema.createTable('consent_confirmations', (t) => {
    t.increments('id');
    t.integer('record_id').unsigned().notNullable().references('id').inTable('consent_records');
    t.integer('list_id').unsigned().notNullable().references('id').inTable('consent_lists');
    t.string('status', 16).notNullable();
    t.integer('text_version').notNullable();
    t.string('source', 500).nullable();
    t.string('requested_ip', 45).nullable();
    t.string('requested_user_agent', 500).nullable();
    time(t, 'requested_at').notNullable();
    time(t, 'expires_at').notNullable();
    t.integer('mail_id').unsigned().nullable();
    time(t, 'confirmed_at').nullable();
    t.string('confirmed_ip', 45).nullable();
    t.index(['record_id']);
    t.index(['status', 'expires_at']);
  });
  await knex.schema.createTable('rate_limit_hits', (t) => {
    t.increments('id');
    t.string('key', 191).notNullable();
    time(t, 'at').notNullable();
    t.index(['key', 'at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('rate_limit_hits');
  await knex.schema.dropTableIfExists('consent_confirmations');
  await knex.schema.dropTableIfExists('mail_outbox');
}
