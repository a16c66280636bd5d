import type { Knex } from 'knex';
import type { Queryable } from './dialect';

export interface RowChange {
  id: number;
  values: Record<string, unknown>;
}

/**
 * Gives each row (picked by id) its own values in one statement, on both engines:
 * UPDATE t SET c = CASE id WHEN ? THEN ? … END … WHERE id IN (…). Every change must set every column
 * in `columns`. Keep the rows per call bounded (bind-variable limits): a few hundred.
 */
export async function updateEachById(db: Queryable, table: string, columns: readonly string[], changes: readonly RowChange[]): Promise<void> {
  if (!changes.length) return;
  const cases = changes.map(() => 'when ? then ?').join(' ');
  const set = Object.fromEntries(columns.map((column) => [column, db.raw(`case ?? ${cases} end`, ['id', ...changes.flatMap((c) => [c.id, (c.values[column] ?? null) as Knex.Value])])]));
  await db(table)
    .whereIn(
      'id',
      changes.map((c) => c.id),
    )
    .update(set);
}
