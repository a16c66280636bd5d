import type { Knex } from 'knex';
import { fromDbTime, fromDbTimeOrNull, insertedId, LIKE_ESCAPE, likePattern, numberOrNull, toDbBool, toDbTime, toNumber, type Queryable } from '../db/dialect';
import { applyKeyset, finishPage, type Page, type PageRequest } from '../lib/keyset';
import type { Actor } from '../tenancy/actor';
import { scopeToActor } from '../tenancy/scope';

export interface PolicyVersion {
  id: number;
  version: number;
  title: string;
  body: string;
  changeSummary: string | null;
  publishedAt: Date;
  publishedBy: string | null;
  acceptanceCount: number;
}

export interface Acceptance {
  accountId: number;
  username: string;
  ownerUsername: string;
  /** Latest version this account accepted, or null when it never accepted one. */
  acceptedVersion: number | null;
  acceptedAt: Date | null;
  ip: string | null;
}

export const acceptanceStates = ['current', 'outdated', 'never'] as const;
export type AcceptanceState = (typeof acceptanceStates)[number];

function mapVersion(row: Record<string, unknown>): PolicyVersion {
  return {
    id: toNumber(row.id),
    version: toNumber(row.version),
    title: String(row.title),
    body: String(row.body),
    changeSummary: (row.change_summary as string | null) ?? null,
    publishedAt: fromDbTime(row.published_at),
    publishedBy: (row.published_by_login as string | null) ?? null,
    acceptanceCount: toNumber(row.acceptance_count ?? 0),
  };
}

const versions = (db: Queryable) =>
  db('policy_versions as v')
    .leftJoin('users as u', 'u.id', 'v.published_by')
    .select('v.*', 'u.login as published_by_login', db('policy_acceptances').count('*').whereRaw('policy_acceptances.policy_version_id = v.id').as('acceptance_count'));

export const policyRepository = {
  async current(db: Queryable): Promise<PolicyVersion | null> {
    const row = await versions(db).orderBy('v.version', 'desc').first();
    return row ? mapVersion(row) : null;
  },

  async list(db: Queryable): Promise<PolicyVersion[]> {
    const rows = (await versions(db).orderBy('v.version', 'desc')) as Record<string, unknown>[];
    return rows.map(mapVersion);
  },

  async findByVersion(db: Queryable, version: number): Promise<PolicyVersion | null> {
    const row = await versions(db).where('v.version', version).first();
    return row ? mapVersion(row) : null;
  },

  /** Next version number is max + 1; the unique key on `version` stops two publishers racing. */
  async insert(db: Queryable, input: { title: string; body: string; changeSummary: string | null; publishedBy: number | null }, now: Date): Promise<number> {
    const row = await db('policy_versions').max({ v: 'version' }).first();
    const version = toNumber(row?.v ?? 0) + 1;
    await db('policy_versions').insert({
      version,
      title: input.title,
      body: input.body,
      change_summary: input.changeSummary,
      published_by: input.publishedBy,
      published_at: toDbTime(now),
    });
    return version;
  },

  async findAcceptance(db: Queryable, accountId: number, policyVersionId: number): Promise<{ acceptedAt: Date; ip: string | null } | null> {
    const row = await db('policy_acceptances').where({ account_id: accountId, policy_version_id: policyVersionId }).first();
    return row ? { acceptedAt: fromDbTime(row.accepted_at), ip: (row.ip as string | null) ?? null } : null;
  },

  async insertAcceptance(
    db: Queryable,
    input: { accountId: number; policyVersionId: number; userId: number | null; ip: string | null; userAgent: string | null },
    now: Date,
  ): Promise<number> {
    return insertedId(
      await db('policy_acceptances').insert({
        account_id: input.accountId,
        policy_version_id: input.policyVersionId,
        user_id: input.userId,
        accepted_at: toDbTime(now),
        ip: input.ip,
        user_agent: input.userAgent?.slice(0, 500) ?? null,
      }),
    );
  },

  /** Customer accounts (resellers do not accept; their customers do) in the actor's scope, with the latest version each accepted. */
  async acceptances(
    db: Queryable,
    actor: Actor,
    filters: { q?: string; state?: AcceptanceState; currentVersion: number | null },
    page: PageRequest,
  ): Promise<Page<Acceptance> & { total: number }> {
    const latest = db('policy_acceptances as pa')
      .join('policy_versions as pv', 'pv.id', 'pa.policy_version_id')
      .select('pa.account_id')
      .max({ accepted_version: 'pv.version' })
      .groupBy('pa.account_id')
      .as('l');
    const base = (): Knex.QueryBuilder => {
      const q = db('accounts as a').leftJoin(latest, 'l.account_id', 'a.id').whereNot('a.status', 'terminated').where('a.is_reseller', toDbBool(false));
      scopeToActor(db, q, actor, 'a.id');
      if (filters.q) q.whereRaw(`a.username like ? ${LIKE_ESCAPE}`, [likePattern(filters.q.toLowerCase())]);
      if (filters.state === 'never') q.whereNull('l.accepted_version');
      if (filters.state === 'current') q.where('l.accepted_version', filters.currentVersion ?? -1);
      if (filters.state === 'outdated') q.where('l.accepted_version', '<', filters.currentVersion ?? -1);
      return q;
    };
    const query = base()
      .leftJoin('accounts as o', 'o.id', 'a.owner_account_id')
      .leftJoin('policy_versions as v', 'v.version', 'l.accepted_version')
      .leftJoin('policy_acceptances as x', (j) => j.on('x.account_id', 'a.id').andOn('x.policy_version_id', 'v.id'))
      .select('a.id', 'a.username', 'o.username as owner_username', 'l.accepted_version', 'x.accepted_at', 'x.ip');
    applyKeyset(query, { column: 'a.username', idColumn: 'a.id', direction: 'asc', page });
    const [rows, countRow] = await Promise.all([query as Promise<Record<string, unknown>[]>, base().count({ n: '*' }).first()]);
    const mapped: Acceptance[] = rows.map((row) => ({
      accountId: toNumber(row.id),
      username: String(row.username),
      ownerUsername: (row.owner_username as string | null) ?? 'root',
      acceptedVersion: numberOrNull(row.accepted_version),
      acceptedAt: fromDbTimeOrNull(row.accepted_at),
      ip: (row.ip as string | null) ?? null,
    }));
    return { ...finishPage(mapped, page, (a) => [a.username, a.accountId]), total: toNumber(countRow?.n ?? 0) };
  },
};
