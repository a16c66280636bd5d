import type { Knex } from 'knex';
import { engineOf, fromDbJson, fromDbTime, fromDbTimeOrNull, insertedId, numberOrNull, stringOrNull, toDbTime, toNumber, type Queryable } from '../db/dialect';
import { applyKeyset, finishPage, type Page, type PageRequest } from '../lib/keyset';
import type { Actor } from '../tenancy/actor';
import { scopeToActor } from '../tenancy/scope';
import type { NoticeKind, NoticeStatus } from './kinds';

/** What a notice keeps besides its text: the facts it was rendered from. */
export interface NoticeData {
  complaintIds: number[];
  nextStep: string;
  domain: string;
  strikes: number;
  /** The reseller copied, by username; null when none. */
  ccAccount: string | null;
}

export interface Notice {
  id: number;
  key: string;
  kind: NoticeKind;
  accountId: number;
  accountUsername: string;
  to: string | null;
  cc: string | null;
  subject: string;
  body: string;
  reason: string;
  data: NoticeData;
  status: NoticeStatus;
  attempts: number;
  nextAttemptAt: Date | null;
  mailId: number | null;
  lastError: string | null;
  createdBy: string;
  createdAt: Date;
  sentAt: Date | null;
}

export interface NewNotice {
  key: string;
  kind: NoticeKind;
  accountId: number;
  to: string | null;
  cc: string | null;
  subject: string;
  body: string;
  reason: string;
  data: NoticeData;
  status: 'pending' | 'skipped';
  lastError: string | null;
  createdBy: string;
}

export interface NoticeFilters {
  kind?: NoticeKind;
  status?: NoticeStatus;
  /** Account username (exact). */
  account?: string;
  accountId?: number;
}

function mapNotice(r: Record<string, unknown>): Notice {
  const data = fromDbJson<Partial<NoticeData>>(r.data) ?? {};
  return {
    id: toNumber(r.id),
    key: String(r.idempotency_key),
    kind: r.kind as NoticeKind,
    accountId: toNumber(r.account_id),
    accountUsername: String(r.account_username),
    to: stringOrNull(r.to_address),
    cc: stringOrNull(r.cc_address),
    subject: String(r.subject),
    body: String(r.body),
    reason: String(r.reason),
    data: { complaintIds: data.complaintIds ?? [], nextStep: data.nextStep ?? '', domain: data.domain ?? '', strikes: data.strikes ?? 0, ccAccount: data.ccAccount ?? null },
    status: r.status as NoticeStatus,
    attempts: toNumber(r.attempts),
    nextAttemptAt: fromDbTimeOrNull(r.next_attempt_at),
    mailId: numberOrNull(r.mail_id),
    lastError: stringOrNull(r.last_error),
    createdBy: String(r.created_by),
    createdAt: fromDbTime(r.created_at),
    sentAt: fromDbTimeOrNull(r.sent_at),
  };
}

function scoped(db: Queryable, actor: Actor): Knex.QueryBuilder {
  const query = db('notices as n').join('accounts as a', 'a.id', 'n.account_id').select('n.*', 'a.username as account_username');
  return scopeToActor(db, query, actor, 'n.account_id');
}

function filtered(db: Queryable, actor: Actor, f: NoticeFilters): Knex.QueryBuilder {
  const query = scoped(db, actor);
  if (f.kind) query.where('n.kind', f.kind);
  if (f.status) query.where('n.status', f.status);
  if (f.account) query.where('a.username', f.account.trim().toLowerCase());
  if (f.accountId !== undefined) query.where('n.account_id', f.accountId);
  return query;
}

/** Conditions under which a notice may be claimed: pending, due, and not leased by a live sender. */
function claimable(query: Knex.QueryBuilder, now: Date): Knex.QueryBuilder {
  const at = toDbTime(now);
  return query
    .where('status', 'pending')
    .andWhere('next_attempt_at', '<=', at)
    .andWhere((w) => w.whereNull('lease_until').orWhere('lease_until', '<', at));
}

/**
 * The notices table: one row per decision (unique idempotency_key), rendered when the decision is
 * taken, delivered later by the NoticeSender under a per-row lease.
 */
export const noticeRepository = {
  /** The id of the notice with this key. On MySQL a locking read, so a row committed after this transaction's snapshot is seen. */
  async idByKey(db: Queryable, key: string, latest = false): Promise<number | null> {
    const query = db('notices').where('idempotency_key', key).select('id').first();
    const row = (await (latest && engineOf(db) === 'mysql' ? query.forShare() : query)) as { id: unknown } | undefined;
    return row ? toNumber(row.id) : null;
  },

  async insert(db: Queryable, n: NewNotice, now: Date): Promise<number> {
    const at = toDbTime(now);
    return insertedId(
      await db('notices').insert({
        idempotency_key: n.key,
        kind: n.kind,
        account_id: n.accountId,
        to_address: n.to,
        cc_address: n.cc,
        subject: n.subject,
        body: n.body,
        reason: n.reason,
        data: JSON.stringify(n.data),
        status: n.status,
        attempts: 0,
        next_attempt_at: n.status === 'pending' ? at : null,
        last_error: n.lastError,
        created_by: n.createdBy,
        created_at: at,
      }),
    );
  },

  async find(db: Queryable, actor: Actor, id: number): Promise<Notice | null> {
    const row = (await scoped(db, actor).where('n.id', id).first()) as Record<string, unknown> | undefined;
    return row ? mapNotice(row) : null;
  },

  async list(db: Queryable, actor: Actor, filters: NoticeFilters, page: PageRequest): Promise<Page<Notice>> {
    const query = applyKeyset(filtered(db, actor, filters), { column: 'n.id', idColumn: 'n.id', direction: 'desc', page });
    return finishPage(((await query) as Record<string, unknown>[]).map(mapNotice), page, (n) => [n.id, n.id]);
  },

  async count(db: Queryable, actor: Actor, filters: NoticeFilters): Promise<number> {
    const row = (await filtered(db, actor, filters).clearSelect().count({ n: '*' }).first()) as { n: unknown } | undefined;
    return toNumber(row?.n ?? 0);
  },

  /** Notices of one account, newest first (the caller has checked the account is in reach). */
  async ofAccount(db: Queryable, accountId: number, limit: number): Promise<Notice[]> {
    const rows = (await db('notices as n').join('accounts as a', 'a.id', 'n.account_id').where('n.account_id', accountId).select('n.*', 'a.username as account_username').orderBy('n.id', 'desc').limit(limit)) as Record<string, unknown>[];
    return rows.map(mapNotice);
  },

  async dueIds(db: Queryable, now: Date, limit: number): Promise<number[]> {
    const rows = (await claimable(db('notices'), now).orderBy('next_attempt_at').orderBy('id').limit(limit).select('id')) as Array<{ id: unknown }>;
    return rows.map((r) => toNumber(r.id));
  },

  /** Takes the lease of one due notice; false when another sender took it first (the conditional UPDATE matched nothing). */
  async claim(db: Queryable, id: number, holder: string, now: Date, leaseUntil: Date): Promise<boolean> {
    const changed = await claimable(db('notices').where('id', id), now).update({ lease_holder: holder, lease_until: toDbTime(leaseUntil) });
    return changed === 1;
  },

  /** Records the outcome of an attempt made under `holder`'s lease and releases it. */
  async finishAttempt(
    db: Queryable,
    id: number,
    holder: string,
    outcome: { status: NoticeStatus; attempts: number; mailId: number | null; error: string | null; nextAttemptAt: Date | null; sentAt: Date | null },
  ): Promise<boolean> {
    const changed = await db('notices')
      .where({ id, lease_holder: holder })
      .update({
        status: outcome.status,
        attempts: outcome.attempts,
        mail_id: outcome.mailId,
        last_error: outcome.error,
        next_attempt_at: outcome.nextAttemptAt ? toDbTime(outcome.nextAttemptAt) : null,
        sent_at: outcome.sentAt ? toDbTime(outcome.sentAt) : null,
        lease_holder: null,
        lease_until: null,
      });
    return changed === 1;
  },

  /** Puts a failed or skipped notice back in the queue, with the recipients found now. */
  async requeue(db: Queryable, id: number, fromStatus: NoticeStatus, r: { to: string | null; cc: string | null; status: 'pending' | 'skipped'; error: string | null }, now: Date): Promise<boolean> {
    const changed = await db('notices')
      .where({ id, status: fromStatus })
      .update({ to_address: r.to, cc_address: r.cc, status: r.status, attempts: 0, last_error: r.error, next_attempt_at: r.status === 'pending' ? toDbTime(now) : null, lease_holder: null, lease_until: null });
    return changed === 1;
  },
};
