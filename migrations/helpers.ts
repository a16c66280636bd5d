import type { Knex } from 'knex';

/** UTC time column (values written by src/db/dialect.ts toDbTime). */
export function time(table: Knex.CreateTableBuilder, name: string): Knex.ColumnBuilder {
  return table.datetime(name, { precision: 3 });
}

/** created_at / updated_at, always set by the application from its clock. */
export function stamps(table: Knex.CreateTableBuilder): void {
  time(table, 'created_at').notNullable();
  time(table, 'updated_at').notNullable();
}
