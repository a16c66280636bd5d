import type { Knex } from 'knex';
import { stamps, time } from './helpers';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('users', (t) => {
    t.increments('id');
    t.string('login', 64).notNullable().unique();
    t.string('role', 16).notNullable();
    t.integer('account_id').unsigned().nullable().references('id').inTable('accounts');
    t.string('password_hash', 255).notNullable();
    t.string('display_name', 191).nullable();
    t.string('email', 254).nullable();
    t.boolean('disabled').notNullable().defaultTo(false);
    time(t, 'last_login_at').nullable();
    stamps(t);
    t.index(['account_id']);
  });
  await knex.schema.createTable('api_tokens', (t) => {
    t.increments('id');
    t.integer('user_id').unsigned().notNullable().references('id').inTable('users').onDelete('CASCADE');
    t.string('name', 100).notNullable();
    t.string('token_hash', 64).notNullable().unique();
    t.string('prefix', 16).notNullable();
    time(t, 'created_at').notNullable();
    time(t, 'last_used_at').nullable();
    time(t, 'revoked_at').nullable();
    t.index(['user_id']);
  });
  await knex.schema.createTable('sessions', (t) => {
    t.string('sid', 128).notNullable().primary();
    t.text('data', 'mediumtext').notNullable();
    time(t, 'expires_at').notNullable();
    t.index(['expires_at']);
  });
  await knex.schema.createTable('login_failures', (t) => {
    t.increments('id');
    t.string('key', 191).notNullable();
    time(t, 'at').notNullable();
    t.index(['key', 'at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('login_failures');
  await knex.schema.dropTableIfExists('sessions');
  await knex.schema.dropTableIfExists('api_tokens');
  await knex.schema.dropTableIfExists('users');
}
