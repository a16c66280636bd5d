import { fromDbBool, fromDbTime, fromDbTimeOrNull, insertedId, numberOrNull, toDbBool, toDbTime, toNumber, type Queryable } from '../db/dialect';
import type { Role } from '../tenancy/actor';

export interface User {
  id: number;
  login: string;
  role: Role;
  accountId: number | null;
  accountUsername: string | null;
  displayName: string | null;
  email: string | null;
  disabled: boolean;
  lastLoginAt: Date | null;
  createdAt: Date;
}

export interface NewUser {
  login: string;
  role: Role;
  accountId: number | null;
  passwordHash: string;
  displayName?: string | null;
  email?: string | null;
}

function mapUser(row: Record<string, unknown>): User {
  return {
    id: toNumber(row.id),
    login: String(row.login),
    role: row.role as Role,
    accountId: numberOrNull(row.account_id),
    accountUsername: (row.account_username as string | null) ?? null,
    displayName: (row.display_name as string | null) ?? null,
    email: (row.email as string | null) ?? null,
    disabled: fromDbBool(row.disabled),
    lastLoginAt: fromDbTimeOrNull(row.last_login_at),
    createdAt: fromDbTime(row.created_at),
  };
}

const withAccount = (db: Queryable) =>
  db('users as u').leftJoin('accounts as a', 'a.id', 'u.account_id').select('u.*', 'a.username as account_username');

/** Users are managed by admins and the CLI only; lookups here are not tenant-scoped. */
export const userRepository = {
  async findById(db: Queryable, id: number): Promise<User | null> {
    const row = await withAccount(db).where('u.id', id).first();
    return row ? mapUser(row) : null;
  },

  async findByLogin(db: Queryable, login: string): Promise<User | null> {
    const row = await withAccount(db).where('u.login', login.toLowerCase()).first();
    return row ? mapUser(row) : null;
  },

  async passwordHashOf(db: Queryable, id: number): Promise<string | null> {
    const row = await db('users').select('password_hash').where({ id }).first();
    return row ? String(row.password_hash) : null;
  },

  async list(db: Queryable): Promise<User[]> {
    const rows = (await withAccount(db).orderBy('u.login')) as Record<string, unknown>[];
    return rows.map(mapUser);
  },

  async insert(db: Queryable, input: NewUser, now: Date): Promise<number> {
    const at = toDbTime(now);
    return insertedId(
      await db('users').insert({
        login: input.login.toLowerCase(),
        role: input.role,
        account_id: input.accountId,
        password_hash: input.passwordHash,
        display_name: input.displayName ?? null,
        email: input.email?.toLowerCase() ?? null,
        disabled: toDbBool(false),
        created_at: at,
        updated_at: at,
      }),
    );
  },

  async setPassword(db: Queryable, id: number, passwordHash: string, now: Date): Promise<void> {
    await db('users').where({ id }).update({ password_hash: passwordHash, updated_at: toDbTime(now) });
  },

  async recordLogin(db: Queryable, id: number, now: Date): Promise<void> {
    await db('users').where({ id }).update({ last_login_at: toDbTime(now) });
  },
};
