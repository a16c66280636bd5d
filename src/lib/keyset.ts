import type { Knex } from 'knex';
import { ValidationError } from './errors';

/**
 * Keyset ("Next 50") pagination over one sort column plus the id as a tie-breaker.
 * The cursor is opaque to clients: base64url of [sortValue, id].
 */
export interface PageRequest {
  limit: number;
  cursor?: string;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export type SortDirection = 'asc' | 'desc';

type CursorValue = string | number | null;

export function encodeCursor(value: CursorValue, id: number): string {
  return Buffer.from(JSON.stringify([value, id])).toString('base64url');
}

export function decodeCursor(cursor: string): [CursorValue, number] {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(parsed) && parsed.length === 2 && typeof parsed[1] === 'number') {
      return [parsed[0] as CursorValue, parsed[1]];
    }
  } catch {
    // fall through to the error below
  }
  throw new ValidationError({ cursor: 'is not a cursor this server issued; start again from the first page' });
}

/** Applies order, cursor condition and limit+1; call `finishPage` with the rows. */
export function applyKeyset(
  query: Knex.QueryBuilder,
  opts: { column: string; idColumn: string; direction: SortDirection; page: PageRequest },
): Knex.QueryBuilder {
  const { column, idColumn, direction, page } = opts;
  const cmp = direction === 'asc' ? '>' : '<';
  if (page.cursor) {
    const [value, id] = decodeCursor(page.cursor);
    query.where((w) => {
      w.where(column, cmp, value as string | number).orWhere((eq) => eq.where(column, value as string | number).andWhere(idColumn, cmp, id));
    });
  }
  return query.orderBy(column, direction).orderBy(idColumn, direction).limit(page.limit + 1);
}

export function finishPage<T>(rows: T[], page: PageRequest, keyOf: (row: T) => [CursorValue, number]): Page<T> {
  const hasMore = rows.length > page.limit;
  const items = hasMore ? rows.slice(0, page.limit) : rows;
  const last = items[items.length - 1];
  return { items, nextCursor: hasMore && last ? encodeCursor(...keyOf(last)) : null };
}
