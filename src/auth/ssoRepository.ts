import { fromDbBool, isUniqueViolation, toDbTime, toNumber, type Queryable } from '../db/dialect';
import type { AccountStatus } from '../tenancy/types';

export interface PanelAccountRef {
  id: number;
  isReseller: boolean;
  status: AccountStatus;
}

/** Panel SSO storage: one-time nonces, and the unscoped account lookup a sign-in needs before any actor exists. */
export const ssoRepository = {
  /**
   * Records a token's nonce as used. Returns false when it was used before (a replay): the primary key
   * makes the second insert fail on both engines, so two concurrent requests cannot both succeed.
   * Nonces of tokens that have expired are pruned first (such tokens are refused for their expiry anyway).
   */
  async consumeNonce(db: Queryable, nonce: string, expiresAt: Date, now: Date): Promise<boolean> {
    await db('sso_nonces').where('expires_at', '<', toDbTime(now)).delete();
    try {
      await db('sso_nonces').insert({ nonce, expires_at: toDbTime(expiresAt) });
      return true;
    } catch (err) {
      if (isUniqueViolation(err)) return false;
      throw err;
    }
  },

  /** Every account with this panel username, on any server (a fleet may repeat a username across servers). */
  async accountsNamed(db: Queryable, username: string): Promise<PanelAccountRef[]> {
    const rows = (await db('accounts').select('id', 'is_reseller', 'status').where('username', username.toLowerCase()).orderBy('id')) as Record<string, unknown>[];
    return rows.map((r) => ({ id: toNumber(r.id), isReseller: fromDbBool(r.is_reseller), status: r.status as AccountStatus }));
  },

  async accountById(db: Queryable, id: number): Promise<PanelAccountRef | null> {
    const r = (await db('accounts').select('id', 'is_reseller', 'status').where({ id }).first()) as Record<string, unknown> | undefined;
    return r ? { id: toNumber(r.id), isReseller: fromDbBool(r.is_reseller), status: r.status as AccountStatus } : null;
  },
};
