import type { Knex } from 'knex';

/**
 * The one place that knows how SQLite and MySQL/MariaDB differ for values:
 * times are stored as UTC "YYYY-MM-DD HH:MM:SS.mmm" strings (never Date, never NOW() in SQL),
 * booleans as 0/1, JSON as text parsed in row mappers, and duplicate keys are recognised per engine.
 */
export type DbTime = string;

export function toDbTime(date: Date): DbTime {
  return date.toISOString().replace('T', ' ').replace('Z', '');
}

export function fromDbTime(value: unknown): Date {
  if (value instanceof Date) return value;
  if (typeof value === 'number') return new Date(value);
  if (typeof value === 'string') return new Date(value.replace(' ', 'T') + (value.endsWith('Z') ? '' : 'Z'));
  throw new TypeError(`not a database time: ${String(value)}`);
}

export function fromDbTimeOrNull(value: unknown): Date | null {
  return value === null || value === undefined ? null : fromDbTime(value);
}

export function toDbBool(value: boolean): 0 | 1 {
  return value ? 1 : 0;
}

export function fromDbBool(value: unknown): boolean {
  return value === 1 || value === true || value === '1' || value === 'true';
}

export function toDbJson(value: object | null | undefined): string | null {
  return value == null ? null : JSON.stringify(value);
}

export function fromDbJson<T>(value: unknown): T | null {
  if (value === null || value === undefined || value === '') return null;
  if (typeof value === 'object' && !Buffer.isBuffer(value)) return value as T;
  return JSON.parse(String(value)) as T;
}

/** mysql2 returns BIGINT and COUNT() results as strings on some paths; SQLite as numbers. */
export function toNumber(value: unknown): number {
  return typeof value === 'number' ? value : Number(value);
}

interface DriverError {
  code?: string;
  errno?: number;
  message?: string;
}

export function isUniqueViolation(err: unknown): boolean {
  const e = err as DriverError;
  return (
    e?.code === 'ER_DUP_ENTRY' ||
    e?.errno === 1062 ||
    e?.code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' ||
    (e?.code === 'SQLITE_CONSTRAINT' && /UNIQUE/.test(e.message ?? ''))
  );
}

export function isMissingTable(err: unknown): boolean {
  const e = err as DriverError;
  return e?.code === 'ER_NO_SUCH_TABLE' || e?.errno === 1146 || /no such table/.test(e?.message ?? '');
}

/** A knex instance or a transaction: repositories take this so code inside a transaction never uses the root pool. */
export type Queryable = Knex | Knex.Transaction;

export function engineOf(db: Queryable): 'sqlite' | 'mysql' {
  const client = (db.client as { config: { client: string } }).config.client;
  return client === 'better-sqlite3' ? 'sqlite' : 'mysql';
}

/** First inserted id on both engines (no RETURNING on MySQL). */
export function insertedId(result: unknown): number {
  const first = Array.isArray(result) ? result[0] : result;
  if (first && typeof first === 'object' && 'id' in first) return toNumber((first as { id: unknown }).id);
  return toNumber(first);
}

/**
 * A LIKE pattern matching `text` anywhere, with % and _ taken literally. Use with `like ? escape '!'`
 * (LIKE_ESCAPE): "!" because a backslash means different things in MySQL and SQLite string literals.
 */
export function likePattern(text: string): string {
  return `%${text.replace(/[!%_]/g, (c) => `!${c}`)}%`;
}

export const LIKE_ESCAPE = "escape '!'";

/** MySQL/MariaDB gave up on a transaction because of lock contention (deadlock or lock wait timeout): running it again is safe. */
export function isLockConflict(err: unknown): boolean {
  const e = err as { code?: string; errno?: number } | null;
  return e?.code === 'ER_LOCK_DEADLOCK' || e?.errno === 1213 || e?.code === 'ER_LOCK_WAIT_TIMEOUT' || e?.errno === 1205;
}

/** Runs `task` (a whole transaction) again when it lost a lock conflict, up to `attempts` times in all. */
export async function retryOnLockConflict<T>(task: () => Promise<T>, attempts = 4): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await task();
    } catch (err) {
      if (!isLockConflict(err) || attempt >= attempts) throw err;
      await new Promise((r) => setTimeout(r, 5 + Math.floor(Math.random() * 20 * attempt)));
    }
  }
}

/** A nullable text column as a string or null. */
export function stringOrNull(value: unknown): string | null {
  return value == null ? null : String(value);
}

/** A nullable numeric column (ids, counts; drivers may return strings) as a number or null. */
export function numberOrNull(value: unknown): number | null {
  return value == null ? null : toNumber(value);
}
