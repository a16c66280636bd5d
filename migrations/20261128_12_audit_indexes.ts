import type { Knex } from 'knex';

/**
 * The admin audit page and GET /api/v1/audit filter by who acted and by date, and count the matches on
 * every page: without these indexes each such view scans the whole log, which only grows (every admin
 * and reseller sign-in adds an entry). Both engines append the primary key (seq) to a secondary index,
 * so "actor = ? order by seq desc" reads in index order too.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('audit_log', (t) => {
    t.index(['actor_login'], 'audit_log_actor_login_index');
    t.index(['at'], 'audit_log_at_index');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('audit_log', (t) => {
    t.dropIndex(['actor_login'], 'audit_log_actor_login_index');
    t.dropIndex(['at'], 'audit_log_at_index');
  });
}
