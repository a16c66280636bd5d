import type { Knex } from 'knex';

/**
 * The complaints inbox filtered by status (`?status=valid`, bench/complaints-inbox.ts): with the
 * status right after the account, the index gives each account's complaints of that status in id
 * order. SQLite then reads only the first entries of each account of the reach for a page ("newest
 * first", 50 at a time), and both engines count only that status's entries; with the
 * (account_id, received_at, status, is_complaint) index both read every complaint of the reach.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('complaints', (t) => {
    t.index(['account_id', 'status', 'id'], 'complaints_account_id_status_id_index');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('complaints', (t) => {
    t.dropIndex(['account_id', 'status', 'id'], 'complaints_account_id_status_id_index');
  });
}
