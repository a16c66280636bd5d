import crypto from 'node:crypto';
import { fromDbBool, fromDbJson, fromDbTime, fromDbTimeOrNull, LIKE_ESCAPE, likePattern, numberOrNull, stringOrNull, toDbJson, toDbTime, toNumber, type Queryable } from '../db/dialect';
import { applyKeyset, finishPage, type Page, type PageRequest } from '../lib/keyset';
import type { ActionKind } from './actionKinds';

export const actionStatuses = ['awaiting_approval', 'pending', 'running', 'done', 'failed', 'cancelled'] as const;
export type ActionStatus = (typeof actionStatuses)[number];
export const actionOrigins = ['ladder', 'admin', 'server_suspension', 'api'] as const;
export type ActionOrigin = (typeof actionOrigins)[number];

export interface PanelAction {
  id: number;
  idempotencyKey: string;
  kind: ActionKind;
  serverId: number;
  serverName: string;
  accountId: number | null;
  username: string | null;
  params: Record<string, unknown>;
  reason: string;
  origin: ActionOrigin;
  strikeId: number | null;
  requestedBy: string;
  status: ActionStatus;
  attempts: number;
  maxAttempts: number;
  nextAttemptAt: Date | null;
  outcomeUnknown: boolean;
  lastError: string | null;
  result: string | null;
  approvedBy: string | null;
  approvedAt: Date | null;
  cancelledBy: string | null;
  cancelReason: string | null;
  createdAt: Date;
  updatedAt: Date;
  doneAt: Date | null;
}

export interface NewPanelAction {
  key: string;
  kind: ActionKind;
  serverId: number;
  accountId: number | null;
  username: string | null;
  params?: Record<string, unknown>;
  reason: string;
  origin: ActionOrigin;
  strikeId?: number | null;
  requestedBy: string;
  needsApproval: boolean;
  maxAttempts: number;
}

export interface ActionFilters {
  status?: ActionStatus;
  kind?: ActionKind;
  accountId?: number;
  /** Accounts a reseller may see (account_tree descendants of this reseller account). */
  underReseller?: number;
  search?: string;
}

function mapAction(r: Record<string, unknown>): PanelAction {
  return {
    id: toNumber(r.id),
    idempotencyKey: String(r.idempotency_key),
    kind: r.kind as ActionKind,
    serverId: toNumber(r.server_id),
    serverName: String(r.server_name ?? ''),
    accountId: numberOrNull(r.account_id),
    username: stringOrNull(r.username),
    params: fromDbJson<Record<string, unknown>>(r.params) ?? {},
    reason: String(r.reason),
    origin: r.origin as ActionOrigin,
    strikeId: numberOrNull(r.strike_id),
    requestedBy: String(r.requested_by),
    status: r.status as ActionStatus,
    attempts: toNumber(r.attempts),
    maxAttempts: toNumber(r.max_attempts),
    nextAttemptAt: fromDbTimeOrNull(r.next_attempt_at),
    outcomeUnknown: fromDbBool(r.outcome_unknown),
    lastError: stringOrNull(r.last_error),
    result: stringOrNull(r.result),
    approvedBy: stringOrNull(r.approved_by),
    approvedAt: fromDbTimeOrNull(r.approved_at),
    cancelledBy: stringOrNull(r.cancelled_by),
    cancelReason: stringOrNull(r.cancel_reason),
    createdAt: fromDbTime(r.created_at),
    updatedAt: fromDbTime(r.updated_at),
    doneAt: fromDbTimeOrNull(r.done_at),
  };
}

const selectWithServer = (db: Queryable) => db('panel_actions as pa').join('servers as s', 's.id', 'pa.server_id').select('pa.*', 's.name as server_name');

/** Due: pending and its time has come, or running under a lease that ran out (its worker died). */
function whereDue(q: ReturnType<Queryable>, now: string): void {
  q.where((w) => {
    w.where((p) => p.where('status', 'pending').where('next_attempt_at', '<=', now)).orWhere((r) => r.where('status', 'running').where('lease_until', '<', now));
  });
}

/** The filters of list() and count(), on a query over `panel_actions as pa`. */
function applyFilters(db: Queryable, q: ReturnType<Queryable>, filters: ActionFilters): void {
  if (filters.status) q.where('pa.status', filters.status);
  if (filters.kind) q.where('pa.kind', filters.kind);
  if (filters.accountId) q.where('pa.account_id', filters.accountId);
  if (filters.underReseller) q.whereIn('pa.account_id', db('account_tree').select('account_id').where('ancestor_id', filters.underReseller).where('depth', '>', 0));
  if (filters.search) {
    const pattern = likePattern(filters.search.toLowerCase());
    q.where((w) => w.whereRaw(`pa.username like ? ${LIKE_ESCAPE}`, [pattern]).orWhereRaw(`lower(pa.reason) like ? ${LIKE_ESCAPE}`, [pattern]));
  }
}

/**
 * The outbox of panel actions. Rows are written in the transaction of the decision that causes them
 * (idempotency_key unique: the same decision never enqueues twice) and claimed by workers under a lease.
 */
export const panelActionRepository = {
  /** Returns the action's id and whether it was new (false: the key existed; nothing was written). */
  async enqueue(db: Queryable, a: NewPanelAction, now: Date): Promise<{ id: number; created: boolean }> {
    const existing = (await db('panel_actions').where('idempotency_key', a.key).first('id')) as { id: unknown } | undefined;
    if (existing) return { id: toNumber(existing.id), created: false };
    const at = toDbTime(now);
    const [id] = await db('panel_actions').insert({
      idempotency_key: a.key.slice(0, 191),
      kind: a.kind,
      server_id: a.serverId,
      account_id: a.accountId,
      username: a.username,
      params: toDbJson(a.params ?? {}),
      reason: a.reason.slice(0, 1000),
      origin: a.origin,
      strike_id: a.strikeId ?? null,
      requested_by: a.requestedBy.slice(0, 64),
      status: a.needsApproval ? 'awaiting_approval' : 'pending',
      max_attempts: a.maxAttempts,
      next_attempt_at: a.needsApproval ? null : at,
      created_at: at,
      updated_at: at,
    });
    return { id: toNumber(id), created: true };
  },

  async find(db: Queryable, id: number): Promise<PanelAction | null> {
    const row = (await selectWithServer(db).where('pa.id', id).first()) as Record<string, unknown> | undefined;
    return row ? mapAction(row) : null;
  },

  async list(db: Queryable, filters: ActionFilters, page: PageRequest): Promise<Page<PanelAction>> {
    const q = selectWithServer(db);
    applyFilters(db, q, filters);
    applyKeyset(q, { column: 'pa.id', idColumn: 'pa.id', direction: 'desc', page });
    const rows = ((await q) as Record<string, unknown>[]).map(mapAction);
    return finishPage(rows, page, (a) => [a.id, a.id]);
  },

  /** How many actions the filters select (the pages' "Showing n of total" and the API's total). */
  async count(db: Queryable, filters: ActionFilters): Promise<number> {
    const q = db('panel_actions as pa');
    applyFilters(db, q, filters);
    const row = (await q.count({ n: '*' }).first()) as { n: unknown } | undefined;
    return toNumber(row?.n ?? 0);
  },

  async countByStatus(db: Queryable): Promise<Record<ActionStatus, number>> {
    const rows = (await db('panel_actions').select('status').count({ n: '*' }).groupBy('status')) as Array<{ status: string; n: unknown }>;
    const counts = Object.fromEntries(actionStatuses.map((s) => [s, 0])) as Record<ActionStatus, number>;
    for (const r of rows) if (r.status in counts) counts[r.status as ActionStatus] = toNumber(r.n);
    return counts;
  },

  /**
   * Claims up to `limit` due actions for this worker. Candidates are read, then taken with one
   * conditional UPDATE stamped with a fresh lease token, so two workers never hold the same action.
   * An action taken over from a dead worker's lease is marked outcome_unknown: its call may have gone out.
   */
  async claim(db: Queryable, holder: string, limit: number, leaseMs: number, now: Date): Promise<PanelAction[]> {
    const at = toDbTime(now);
    const q = db('panel_actions').select('id');
    whereDue(q, at);
    const candidates = ((await q.orderBy('next_attempt_at').orderBy('id').limit(limit)) as Array<{ id: unknown }>).map((r) => toNumber(r.id));
    if (!candidates.length) return [];
    const token = `${holder.slice(0, 50)}#${crypto.randomBytes(6).toString('hex')}`;
    const update = db('panel_actions').whereIn('id', candidates);
    whereDue(update, at);
    // outcome_unknown first: MySQL applies SET clauses left to right and would otherwise see the new status.
    await update.update({
      outcome_unknown: db.raw("case when status = 'running' then ? else outcome_unknown end", [true]),
      status: 'running',
      lease_holder: token,
      lease_until: toDbTime(new Date(now.getTime() + leaseMs)),
      attempts: db.raw('attempts + 1'),
      updated_at: at,
    });
    const rows = (await selectWithServer(db).where('pa.lease_holder', token).where('pa.status', 'running')) as Record<string, unknown>[];
    return rows.map(mapAction);
  },

  /** Marks a call as sent with an unknown outcome before the worker waits on it. */
  async markInFlight(db: Queryable, id: number, holderToken: string | null): Promise<void> {
    const q = db('panel_actions').where('id', id).where('status', 'running');
    if (holderToken) q.where('lease_holder', holderToken);
    await q.update({ outcome_unknown: true });
  },

  async finishDone(db: Queryable, id: number, result: string, now: Date): Promise<boolean> {
    const at = toDbTime(now);
    const n = await db('panel_actions').where('id', id).where('status', 'running').update({ status: 'done', result: result.slice(0, 4000), last_error: null, lease_holder: null, lease_until: null, outcome_unknown: false, done_at: at, updated_at: at });
    return n > 0;
  },

  async scheduleRetry(db: Queryable, id: number, error: string, outcomeUnknown: boolean, nextAttemptAt: Date, now: Date): Promise<void> {
    await db('panel_actions')
      .where('id', id)
      .where('status', 'running')
      .update({ status: 'pending', last_error: error.slice(0, 4000), outcome_unknown: outcomeUnknown, next_attempt_at: toDbTime(nextAttemptAt), lease_holder: null, lease_until: null, updated_at: toDbTime(now) });
  },

  async finishFailed(db: Queryable, id: number, error: string, outcomeUnknown: boolean, now: Date): Promise<void> {
    await db('panel_actions')
      .where('id', id)
      .where('status', 'running')
      .update({ status: 'failed', last_error: error.slice(0, 4000), outcome_unknown: outcomeUnknown, lease_holder: null, lease_until: null, updated_at: toDbTime(now) });
  },

  /** awaiting_approval → pending. Returns false when the action was not awaiting approval. */
  async approve(db: Queryable, id: number, by: string, now: Date): Promise<boolean> {
    const at = toDbTime(now);
    const n = await db('panel_actions').where('id', id).where('status', 'awaiting_approval').update({ status: 'pending', approved_by: by.slice(0, 64), approved_at: at, next_attempt_at: at, updated_at: at });
    return n > 0;
  },

  /** failed → pending with a fresh attempt budget. */
  async retry(db: Queryable, id: number, now: Date): Promise<boolean> {
    const at = toDbTime(now);
    const n = await db('panel_actions').where('id', id).where('status', 'failed').update({ status: 'pending', attempts: 0, next_attempt_at: at, updated_at: at });
    return n > 0;
  },

  /** Only actions not yet running can be cancelled; a running call cannot be taken back. */
  async cancel(db: Queryable, id: number, by: string, reason: string, now: Date): Promise<boolean> {
    const n = await db('panel_actions')
      .where('id', id)
      .whereIn('status', ['awaiting_approval', 'pending', 'failed'])
      .update({ status: 'cancelled', cancelled_by: by.slice(0, 64), cancel_reason: reason.slice(0, 1000), next_attempt_at: null, updated_at: toDbTime(now) });
    return n > 0;
  },

  /** Whether some action is running under a lease that ran out (its worker died): it must be taken over. */
  async hasExpiredLease(db: Queryable, now: Date): Promise<boolean> {
    return Boolean(await db('panel_actions').where('status', 'running').where('lease_until', '<', toDbTime(now)).first('id'));
  },

  /** The earliest time a pending action becomes due (for the worker's sleep), or null. */
  async nextDueAt(db: Queryable): Promise<Date | null> {
    const row = (await db('panel_actions').where('status', 'pending').min({ at: 'next_attempt_at' }).first()) as { at: unknown } | undefined;
    return row?.at == null ? null : fromDbTime(row.at);
  },
};
