import type { Knex } from 'knex';
import { stamps, time } from './helpers';

/** Raw mail up to the intake limit: BLOB holds only 64 KiB on MySQL, so LONGBLOB there. */
function rawBytes(knex: Knex, table: Knex.CreateTableBuilder, name: string): Knex.ColumnBuilder {
  const client = (knex.client as { config: { client: string } }).config.client;
  return client === 'better-sqlite3' ? table.binary(name) : table.specificType(name, 'longblob');
}

// Complaints: every incoming message stored raw (bytes + SHA-256) before parsing, one complaint row
// per reported recipient, notes and evidence on each, strikes for the enforcement ladder, charges
// (at most one per complaint), and the outbound mail IPs of each server (source IP → server attribution).
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('complaint_messages', (t) => {
    t.increments('id');
    t.string('sha256', 64).notNullable().unique();
    t.integer('size_bytes').notNullable();
    rawBytes(knex, t, 'raw').notNullable();
    t.string('received_via', 16).notNullable();
    t.string('received_by', 64).notNullable();
    time(t, 'received_at').notNullable();
    t.string('parse_status', 16).notNullable();
    t.string('parse_error', 500).nullable();
    t.string('format', 16).nullable();
    t.string('feedback_type', 16).nullable();
    t.string('report_message_id', 255).nullable();
    t.string('reporter', 255).nullable();
    t.text('parsed').nullable();
    t.index(['report_message_id']);
    t.index(['received_at']);
  });
  await knex.schema.createTable('complaints', (t) => {
    t.increments('id');
    t.integer('message_id').unsigned().notNullable().references('id').inTable('complaint_messages');
    t.integer('recipient_no').notNullable().defaultTo(0);
    t.string('recipient', 254).nullable();
    t.string('recipient_redaction', 16).notNullable().defaultTo('none');
    t.string('format', 16).nullable();
    t.string('feedback_type', 16).nullable();
    t.boolean('is_complaint').notNullable().defaultTo(false);
    t.boolean('spamtrap').notNullable().defaultTo(false);
    time(t, 'arrival_at').nullable();
    time(t, 'received_at').notNullable();
    t.string('source_ip', 45).nullable();
    t.string('original_message_id', 255).nullable();
    t.string('original_mail_from', 254).nullable();
    t.string('subject', 255).nullable();
    t.integer('server_id').unsigned().nullable().references('id').inTable('servers');
    t.integer('domain_id').unsigned().nullable().references('id').inTable('domains');
    t.integer('account_id').unsigned().nullable().references('id').inTable('accounts');
    t.integer('reseller_account_id').unsigned().nullable().references('id').inTable('accounts');
    t.string('attribution', 16).notNullable().defaultTo('none');
    t.string('attribution_reason', 1000).nullable();
    t.string('dedup_key', 64).nullable();
    t.integer('duplicate_of').unsigned().nullable();
    t.string('status', 24).notNullable();
    t.string('decision_reason', 2000).nullable();
    t.string('decided_by', 64).nullable();
    time(t, 'decided_at').nullable();
    time(t, 'evidence_due_at').nullable();
    t.string('desk_status', 16).notNullable().defaultTo('new');
    time(t, 'due_at').nullable();
    time(t, 'escalated_at').nullable();
    t.string('resolution', 2000).nullable();
    stamps(t);
    t.unique(['message_id', 'recipient_no']);
    t.index(['account_id', 'id']);
    // The inbox's count, status filter and weekly trend read only these columns (bench/complaints-inbox.ts).
    t.index(['account_id', 'received_at', 'status', 'is_complaint']);
    t.index(['reseller_account_id', 'id']);
    t.index(['status', 'id']);
    t.index(['dedup_key']);
    t.index(['original_message_id']);
  });
  await knex.schema.createTable('complaint_notes', (t) => {
    t.increments('id');
    t.integer('complaint_id').unsigned().notNullable().references('id').inTable('complaints');
    t.string('author', 64).notNullable();
    t.string('author_role', 16).notNullable();
    t.string('kind', 16).notNullable();
    t.text('body').notNullable();
    t.integer('consent_record_id').unsigned().nullable();
    time(t, 'created_at').notNullable();
    t.index(['complaint_id', 'id']);
  });
  await knex.schema.createTable('strikes', (t) => {
    t.increments('id');
    t.integer('account_id').unsigned().notNullable().references('id').inTable('accounts');
    t.string('source', 16).notNullable();
    t.integer('complaint_id').unsigned().nullable().unique();
    t.string('reason', 1000).notNullable();
    time(t, 'created_at').notNullable();
    time(t, 'lifted_at').nullable();
    t.string('lifted_reason', 1000).nullable();
    t.index(['account_id', 'created_at']);
  });
  await knex.schema.createTable('charges', (t) => {
    t.increments('id');
    t.integer('complaint_id').unsigned().notNullable().unique().references('id').inTable('complaints');
    t.integer('account_id').unsigned().notNullable().references('id').inTable('accounts');
    t.integer('reseller_account_id').unsigned().nullable().references('id').inTable('accounts');
    t.integer('amount_cents').notNullable();
    t.string('currency', 3).notNullable();
    t.string('status', 16).notNullable();
    t.string('reason', 2000).nullable();
    t.string('decided_by', 64).nullable();
    time(t, 'decided_at').nullable();
    t.string('billing_status', 16).nullable();
    t.string('billing_ref', 64).nullable();
    t.string('billing_error', 1000).nullable();
    time(t, 'billed_at').nullable();
    stamps(t);
    t.index(['status', 'id']);
    t.index(['account_id', 'id']);
  });
  await knex.schema.createTable('server_ips', (t) => {
    t.increments('id');
    t.integer('server_id').unsigned().notNullable().references('id').inTable('servers').onDelete('CASCADE');
    t.string('ip', 45).notNullable().unique();
    time(t, 'created_at').notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('server_ips');
  await knex.schema.dropTableIfExists('charges');
  await knex.schema.dropTableIfExists('strikes');
  await knex.schema.dropTableIfExists('complaint_notes');
  await knex.schema.dropTableIfExists('complaints');
  await knex.schema.dropTableIfExists('complaint_messages');
}
