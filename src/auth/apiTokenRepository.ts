import { fromDbTime, fromDbTimeOrNull, insertedId, toDbTime, toNumber, type Queryable } from '../db/dialect';

export interface ApiToken {
  id: number;
  userId: number;
  name: string;
  prefix: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

function mapToken(row: Record<string, unknown>): ApiToken {
  return {
    id: toNumber(row.id),
    userId: toNumber(row.user_id),
    name: String(row.name),
    prefix: String(row.prefix),
    createdAt: fromDbTime(row.created_at),
    lastUsedAt: fromDbTimeOrNull(row.last_used_at),
    revokedAt: fromDbTimeOrNull(row.revoked_at),
  };
}

/** Only SHA-256 hashes of tokens are stored; every lookup is by hash or scoped to the owning user. */
export const apiTokenRepository = {
  async insert(db: Queryable, input: { userId: number; name: string; tokenHash: string; prefix: string }, now: Date): Promise<number> {
    return insertedId(
      await db('api_tokens').insert({
        user_id: input.userId,
        name: input.name,
        token_hash: input.tokenHash,
        prefix: input.prefix,
        created_at: toDbTime(now),
      }),
    );
  },

  async findActiveByHash(db: Queryable, tokenHash: string): Promise<ApiToken | null> {
    const row = await db('api_tokens').where({ token_hash: tokenHash }).whereNull('revoked_at').first();
    return row ? mapToken(row) : null;
  },

  async listForUser(db: Queryable, userId: number): Promise<ApiToken[]> {
    const rows = (await db('api_tokens').where({ user_id: userId }).orderBy('id', 'desc')) as Record<string, unknown>[];
    return rows.map(mapToken);
  },

  async findForUser(db: Queryable, userId: number, id: number): Promise<ApiToken | null> {
    const row = await db('api_tokens').where({ user_id: userId, id }).first();
    return row ? mapToken(row) : null;
  },

  /** Returns false when the token is not this user's or already revoked. */
  async revoke(db: Queryable, userId: number, id: number, now: Date): Promise<boolean> {
    const changed = await db('api_tokens').where({ user_id: userId, id }).whereNull('revoked_at').update({ revoked_at: toDbTime(now) });
    return changed > 0;
  },

  async touch(db: Queryable, id: number, now: Date): Promise<void> {
    await db('api_tokens').where({ id }).update({ last_used_at: toDbTime(now) });
  },
};
