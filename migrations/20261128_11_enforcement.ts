import type { Knex } from 'knex';
import { stamps, time } from './helpers';

// Enforcement: admin-editable settings (the policy ladder and its thresholds), the outbox of panel
// actions (written in the deciding transaction, executed by a worker), notices (warning mail,
// written with the decision and sent by a worker), their editable templates, and the IP block list.
export async function up(knex: Knex): Promise<void> {
  // One JSON document per settings area (e.g. "enforcement"); defaults live in code.
  await knex.schema.createTable('settings', (t) => {
    t.string('key', 64).notNullable().primary();
    t.text('value').notNullable();
    t.string('updated_by', 64).notNullable();
    time(t, 'updated_at').notNullable();
  });

  await knex.schema.createTable('panel_actions', (t) => {
    t.increments('id');
    // The same decision never enqueues twice: e.g. "ladder:strike:17:suspend_account".
    t.string('idempotency_key', 191).notNullable().unique();
    t.string('kind', 32).notNullable();
    t.integer('server_id').unsigned().notNullable().references('id').inTable('servers');
    t.integer('account_id').unsigned().nullable().references('id').inTable('accounts');
    t.string('username', 32).nullable();
    t.text('params').nullable();
    t.string('reason', 1000).notNullable();
    t.string('origin', 24).notNullable();
    t.integer('strike_id').unsigned().nullable().references('id').inTable('strikes');
    t.string('requested_by', 64).notNullable();
    // awaiting_approval | pending | running | done | failed | cancelled
    t.string('status', 20).notNullable();
    t.integer('attempts').notNullable().defaultTo(0);
    t.integer('max_attempts').notNullable().defaultTo(8);
    time(t, 'next_attempt_at').nullable();
    t.string('lease_holder', 64).nullable();
    time(t, 'lease_until').nullable();
    // Set once a call was sent whose outcome is unknown (timeout): the next attempt reads the panel first.
    t.boolean('outcome_unknown').notNullable().defaultTo(false);
    t.text('last_error').nullable();
    t.text('result').nullable();
    t.string('approved_by', 64).nullable();
    time(t, 'approved_at').nullable();
    t.string('cancelled_by', 64).nullable();
    t.string('cancel_reason', 1000).nullable();
    stamps(t);
    time(t, 'done_at').nullable();
    t.index(['status', 'next_attempt_at']);
    t.index(['account_id', 'created_at']);
  });

  await knex.schema.createTable('notice_templates', (t) => {
    t.string('kind', 32).notNullable().primary();
    t.string('subject', 300).notNullable();
    t.text('body').notNullable();
    t.string('updated_by', 64).notNullable();
    time(t, 'updated_at').notNullable();
  });

  await knex.schema.createTable('notices', (t) => {
    t.increments('id');
    t.string('idempotency_key', 191).notNullable().unique();
    t.string('kind', 32).notNullable();
    t.integer('account_id').unsigned().notNullable().references('id').inTable('accounts');
    t.string('to_address', 254).nullable();
    t.string('cc_address', 254).nullable();
    t.string('subject', 300).notNullable();
    t.text('body').notNullable();
    t.string('reason', 1000).notNullable();
    t.text('data').nullable();
    // pending | sent | captured | failed | skipped (no address)
    t.string('status', 16).notNullable();
    t.integer('attempts').notNullable().defaultTo(0);
    time(t, 'next_attempt_at').nullable();
    t.string('lease_holder', 64).nullable();
    time(t, 'lease_until').nullable();
    t.integer('mail_id').unsigned().nullable().references('id').inTable('mail_outbox');
    t.text('last_error').nullable();
    t.string('created_by', 64).notNullable();
    time(t, 'created_at').notNullable();
    time(t, 'sent_at').nullable();
    t.index(['status', 'next_attempt_at']);
    t.index(['account_id', 'created_at']);
  });

  await knex.schema.createTable('ip_blocks', (t) => {
    t.increments('id');
    // Normalised: an address ("192.0.2.7", "2001:db8::1") or a CIDR in canonical form ("192.0.2.0/24").
    t.string('address', 64).notNullable();
    t.integer('family').notNullable();
    // hacking | port_scan | login_failure | spam_source | manual
    t.string('reason', 20).notNullable();
    t.string('reason_text', 500).nullable();
    // What raised it, e.g. lfd's trigger name "PS_LIMIT" or "LF_SSHD"; null when entered by hand.
    t.string('trigger', 64).nullable();
    // JSON: { logLines: string[], count, firstSeen, lastSeen, ports, ... }
    t.text('evidence').nullable();
    t.integer('server_id').unsigned().nullable().references('id').inTable('servers');
    t.string('created_by', 64).notNullable();
    time(t, 'created_at').notNullable();
    // null = permanent
    time(t, 'expires_at').nullable();
    // active | expired | lifted
    t.string('status', 16).notNullable();
    time(t, 'lifted_at').nullable();
    t.string('lifted_by', 64).nullable();
    t.string('lift_reason', 500).nullable();
    // pending | synced | failed | not_configured
    t.string('sync_state', 16).notNullable();
    t.string('sync_error', 1000).nullable();
    time(t, 'synced_at').nullable();
    t.index(['address', 'status']);
    t.index(['status', 'expires_at']);
    t.index(['created_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('ip_blocks');
  await knex.schema.dropTableIfExists('notices');
  await knex.schema.dropTableIfExists('notice_templates');
  await knex.schema.dropTableIfExists('panel_actions');
  await knex.schema.dropTableIfExists('settings');
}
