import type { Knex } from 'knex';
import { time } from './helpers';

// Panel integration: how to reach each server, job runs with a cross-instance lease, and panel hook events.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('servers', (t) => {
    t.string('source', 16).notNullable().defaultTo('cli');
    t.text('tls_ca').nullable();
    t.string('tls_fingerprint', 95).nullable();
    time(t, 'last_sync_at').nullable();
    t.string('last_sync_status', 16).nullable();
    t.string('last_sync_error', 500).nullable();
  });
  await knex.schema.createTable('job_runs', (t) => {
    t.increments('id');
    t.string('job', 64).notNullable();
    t.string('subject', 191).nullable();
    t.string('trigger', 16).notNullable();
    time(t, 'started_at').notNullable();
    time(t, 'finished_at').nullable();
    t.string('status', 16).notNullable();
    t.text('counts').nullable();
    t.text('error').nullable();
    t.index(['job', 'started_at']);
  });
  await knex.schema.createTable('job_leases', (t) => {
    t.string('job', 64).notNullable().primary();
    t.string('holder', 100).notNullable();
    time(t, 'expires_at').notNullable();
  });
  await knex.schema.createTable('panel_events', (t) => {
    t.increments('id');
    time(t, 'received_at').notNullable();
    t.string('category', 32).notNullable();
    t.string('event', 64).notNullable();
    t.string('username', 32).nullable();
    t.text('payload', 'mediumtext').notNullable();
    t.string('status', 16).notNullable();
    t.string('result', 500).nullable();
    t.index(['received_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('panel_events');
  await knex.schema.dropTableIfExists('job_leases');
  await knex.schema.dropTableIfExists('job_runs');
  await knex.schema.alterTable('servers', (t) => {
    t.dropColumn('last_sync_error');
    t.dropColumn('last_sync_status');
    t.dropColumn('last_sync_at');
    t.dropColumn('tls_fingerprint');
    t.dropColumn('tls_ca');
    t.dropColumn('source');
  });
}
