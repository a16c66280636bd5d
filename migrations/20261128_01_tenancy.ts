import type { Knex } from 'knex';
import { stamps } from './helpers';

// Strings instead of enums (validated in the app) so both engines can evolve them.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('servers', (t) => {
    t.increments('id');
    t.string('name', 191).notNullable().unique();
    t.string('whm_url', 500).notNullable();
    t.string('whm_user', 64).notNullable().defaultTo('root');
    t.string('token_ref', 191).nullable();
    t.string('kind', 16).notNullable().defaultTo('shared');
    t.integer('owner_account_id').unsigned().nullable();
    t.string('status', 16).notNullable().defaultTo('active');
    stamps(t);
  });
  await knex.schema.createTable('accounts', (t) => {
    t.increments('id');
    t.integer('server_id').unsigned().notNullable().references('id').inTable('servers');
    t.string('username', 32).notNullable();
    t.integer('owner_account_id').unsigned().nullable().references('id').inTable('accounts');
    t.boolean('is_reseller').notNullable().defaultTo(false);
    t.string('contact_email', 254).nullable();
    t.string('plan', 100).nullable();
    t.string('status', 16).notNullable().defaultTo('active');
    t.string('outgoing_mail', 16).notNullable().defaultTo('active');
    t.integer('strikes').notNullable().defaultTo(0);
    stamps(t);
    t.unique(['server_id', 'username']);
    t.index(['owner_account_id']);
    t.index(['username']);
  });
  // Closure table: every (ancestor, descendant) pair including (self, self) at depth 0,
  // so "accounts a reseller owns transitively" is one indexed sub-select on both engines.
  await knex.schema.createTable('account_tree', (t) => {
    t.integer('ancestor_id').unsigned().notNullable().references('id').inTable('accounts').onDelete('CASCADE');
    t.integer('account_id').unsigned().notNullable().references('id').inTable('accounts').onDelete('CASCADE');
    t.integer('depth').notNullable();
    t.primary(['ancestor_id', 'account_id']);
    t.index(['account_id']);
  });
  await knex.schema.createTable('domains', (t) => {
    t.increments('id');
    t.integer('account_id').unsigned().notNullable().references('id').inTable('accounts');
    t.string('name', 191).notNullable().unique();
    t.string('type', 16).notNullable();
    t.boolean('mail_hosted').notNullable().defaultTo(true);
    stamps(t);
    t.index(['account_id']);
    t.index(['type']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('domains');
  await knex.schema.dropTableIfExists('account_tree');
  await knex.schema.dropTableIfExists('accounts');
  await knex.schema.dropTableIfExists('servers');
}
