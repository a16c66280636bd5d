import { fromDbTime, fromDbTimeOrNull, numberOrNull, toNumber, type Queryable } from '../db/dialect';
import { chunksOf } from '../lib/chunks';

export interface ConsentProof {
  recordId: number;
  listName: string;
  confirmedAt: Date;
}

export interface ConsentQuestion {
  accountId: number;
  /** The sending domain; null when unknown (then any list of the account counts). */
  domainId: number | null;
  recipient: string;
  before: Date;
}

interface CandidateRecord {
  id: number;
  listName: string;
  domainId: number | null;
  confirmedAt: Date;
  revokedAt: Date | null;
}

/**
 * The consent records complaints are judged against, read for many (account, recipient) pairs at once:
 * every confirmed or revoked record of those recipients in those accounts' lists. `proofFor` then answers
 * each question from memory by the rule below.
 */
export class ConsentCandidates {
  private readonly byKey = new Map<string, CandidateRecord[]>();

  static async read(db: Queryable, questions: readonly ConsentQuestion[]): Promise<ConsentCandidates> {
    const candidates = new ConsentCandidates();
    const accounts = [...new Set(questions.map((q) => q.accountId))];
    const emails = [...new Set(questions.map((q) => q.recipient.toLowerCase()))];
    if (!accounts.length) return candidates;
    for (const part of chunksOf(emails, 500)) {
      const rows = (await db('consent_records as r')
        .join('consent_lists as l', 'l.id', 'r.list_id')
        .whereIn('l.account_id', accounts)
        .whereIn('r.email', part)
        .whereIn('r.status', ['confirmed', 'revoked'])
        .whereNotNull('r.confirmed_at')
        .select('r.id', 'r.email', 'r.confirmed_at', 'r.revoked_at', 'l.account_id', 'l.domain_id', 'l.name')) as Array<Record<string, unknown>>;
      for (const r of rows) {
        const key = `${toNumber(r.account_id)}\n${String(r.email)}`;
        const list = candidates.byKey.get(key) ?? [];
        list.push({ id: toNumber(r.id), listName: String(r.name), domainId: numberOrNull(r.domain_id), confirmedAt: fromDbTime(r.confirmed_at), revokedAt: fromDbTimeOrNull(r.revoked_at) });
        candidates.byKey.set(key, list);
      }
    }
    return candidates;
  }

  /**
   * The record for `recipient` from the sending domain (any list of the account when the domain is
   * unknown) that was confirmed, and not revoked, at `before` — the earliest such; null when none.
   * A revocation after `before` (often the complaint itself) does not undo the permission.
   */
  proofFor(q: ConsentQuestion): ConsentProof | null {
    let best: CandidateRecord | null = null;
    for (const r of this.byKey.get(`${q.accountId}\n${q.recipient.toLowerCase()}`) ?? []) {
      if (q.domainId !== null && r.domainId !== q.domainId) continue;
      if (r.confirmedAt.getTime() > q.before.getTime()) continue;
      if (r.revokedAt && r.revokedAt.getTime() <= q.before.getTime()) continue;
      if (!best || r.confirmedAt.getTime() < best.confirmedAt.getTime() || (r.confirmedAt.getTime() === best.confirmedAt.getTime() && r.id < best.id)) best = r;
    }
    return best ? { recordId: best.id, listName: best.listName, confirmedAt: best.confirmedAt } : null;
  }
}

/** The consent proof for one question (a complaint judged again). */
export async function consentBefore(db: Queryable, q: ConsentQuestion): Promise<ConsentProof | null> {
  return (await ConsentCandidates.read(db, [q])).proofFor(q);
}
