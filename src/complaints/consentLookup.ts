import { fromDbTime, toDbTime, toNumber, type Queryable } from '../db/dialect';

export interface ConsentProof {
  recordId: number;
  listName: string;
  confirmedAt: Date;
}

/**
 * The customer's consent record for `recipient` from the sending domain (any list of the account when
 * the domain is unknown) that was confirmed, and not revoked, at `before`; null when there is none.
 */
export async function consentBefore(db: Queryable, input: { accountId: number; domainId: number | null; recipient: string; before: Date }): Promise<ConsentProof | null> {
  const query = db('consent_records as r')
    .join('consent_lists as l', 'l.id', 'r.list_id')
    .where('l.account_id', input.accountId)
    .andWhere('r.email', input.recipient.toLowerCase())
    .whereIn('r.status', ['confirmed', 'revoked'])
    .andWhere('r.confirmed_at', '<=', toDbTime(input.before))
    // In force when the mail arrived: a revocation after that (often the complaint itself) does not undo the permission.
    .andWhere((w) => w.whereNull('r.revoked_at').orWhere('r.revoked_at', '>', toDbTime(input.before)))
    .orderBy('r.confirmed_at', 'asc')
    .select('r.id', 'l.name', 'r.confirmed_at')
    .first();
  if (input.domainId !== null) query.andWhere('l.domain_id', input.domainId);
  const row = (await query) as { id: unknown; name: string; confirmed_at: unknown } | undefined;
  return row ? { recordId: toNumber(row.id), listName: row.name, confirmedAt: fromDbTime(row.confirmed_at) } : null;
}
