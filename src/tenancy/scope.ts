import type { Knex } from 'knex';
import type { Queryable } from '../db/dialect';
import type { Actor } from './actor';

/**
 * The one tenancy rule every repository applies: an admin sees everything, a reseller the accounts
 * it owns transitively (and its own), a customer only its own account.
 * `accountIdColumn` names the column holding the account id in the query being scoped.
 */
export function scopeToActor(db: Queryable, query: Knex.QueryBuilder, actor: Actor, accountIdColumn: string): Knex.QueryBuilder {
  if (actor.role === 'admin') return query;
  if (actor.accountId === null) return query.whereRaw('1 = 0');
  if (actor.role === 'customer') return query.where(accountIdColumn, actor.accountId);
  return query.whereIn(accountIdColumn, db('account_tree').select('account_id').where('ancestor_id', actor.accountId));
}
