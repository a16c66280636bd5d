import type { Knex } from 'knex';
import { time } from './helpers';

/** Nonces of panel SSO tokens already used: a second insert of the same nonce is a replay. Rows are pruned once their token has expired. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('sso_nonces', (t) => {
    t.string('nonce', 64).notNullable().primary();
    time(t, 'expires_at').notNullable();
    t.index(['expires_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('sso_nonces');
}
