import type { Knex } from 'knex';
import { time } from './helpers';

// Postmaster checks: every check kept as history with its evidence, the current state per domain
// (verdict, since when, notices, escalation, read confirmation), and a shared cache of SMTP probe
// results so a fleet of app instances does not probe the same address twice within the cache time.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('postmaster_checks', (t) => {
    t.increments('id');
    t.integer('domain_id').unsigned().notNullable().references('id').inTable('domains');
    t.integer('account_id').unsigned().notNullable().references('id').inTable('accounts');
    t.string('domain', 191).notNullable();
    time(t, 'checked_at').notNullable();
    // manual | sweep | fix | cli
    t.string('trigger', 16).notNullable();
    // mailbox | forwarder | domain_forwarder | default_forward | default_fail | default_blackhole | default_pipe | remote_mx | null_mx | none | unknown
    t.string('route', 24).notNullable();
    t.string('route_target', 500).nullable();
    // accepted | missing | policy_block | temporary | unknown | not_probed
    t.string('smtp_result', 16).notNullable();
    t.integer('smtp_code').nullable();
    t.string('mx_host', 255).nullable();
    t.boolean('catch_all').nullable();
    // ok | missing | undeliverable | unread | unknown | not_applicable
    t.string('verdict', 16).notNullable();
    t.string('reason', 1000).notNullable();
    // JSON: panel route details, the SMTP dialogue, MX answers, read-confirmation state, times.
    t.text('evidence', 'mediumtext').nullable();
    t.index(['domain_id', 'checked_at']);
    t.index(['checked_at']);
  });

  await knex.schema.createTable('postmaster_status', (t) => {
    t.integer('domain_id').unsigned().notNullable().primary().references('id').inTable('domains');
    t.integer('account_id').unsigned().notNullable().references('id').inTable('accounts');
    t.string('verdict', 16).notNullable();
    t.string('reason', 1000).notNullable();
    time(t, 'verdict_since').notNullable();
    time(t, 'last_checked_at').notNullable();
    // Set while the verdict is missing or undeliverable: the start of the grace period.
    time(t, 'failing_since').nullable();
    time(t, 'notified_at').nullable();
    time(t, 'escalated_at').nullable();
    // A 4xx or an unreachable MX is retried sooner than the next sweep, with backoff.
    time(t, 'retry_at').nullable();
    t.integer('retry_count').notNullable().defaultTo(0);
    // Read confirmation: the latest verification mail and when its link was used.
    t.string('read_token_hash', 64).nullable();
    time(t, 'read_sent_at').nullable();
    time(t, 'read_confirmed_at').nullable();
    t.string('read_confirmed_ip', 45).nullable();
    t.index(['account_id']);
    t.index(['verdict']);
    t.index(['retry_at']);
  });

  await knex.schema.createTable('postmaster_probe_cache', (t) => {
    // The probed address, lowercased (postmaster@domain, or the random address of a catch-all test).
    t.string('address', 254).notNullable().primary();
    t.string('result', 16).notNullable();
    t.integer('code').nullable();
    t.string('mx_host', 255).nullable();
    t.text('dialogue').nullable();
    time(t, 'checked_at').notNullable();
    time(t, 'expires_at').notNullable();
    t.index(['expires_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('postmaster_probe_cache');
  await knex.schema.dropTableIfExists('postmaster_status');
  await knex.schema.dropTableIfExists('postmaster_checks');
}
