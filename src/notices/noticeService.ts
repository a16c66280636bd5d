import type { Knex } from 'knex';
import { auditRepository } from '../audit/auditRepository';
import type { Clock } from '../lib/clock';
import { ConflictError, ForbiddenError, NotFoundError } from '../lib/errors';
import type { Page, PageRequest } from '../lib/keyset';
import type { Actor } from '../tenancy/actor';
import { loadNoticeAccount } from './noticeFacts';
import { noticeRepository, type Notice, type NoticeFilters } from './noticeRepository';
import { recipientsFor } from './recipients';

export interface NoticeListing extends Page<Notice> {
  total: number;
}

/** Admin → Notices: every notice with its delivery state, and sending a failed or skipped one again. */
export class NoticeService {
  constructor(
    private readonly db: Knex,
    private readonly clock: Clock,
  ) {}

  async list(actor: Actor, filters: NoticeFilters, page: PageRequest): Promise<NoticeListing> {
    this.mustBeAdmin(actor);
    const [result, total] = await Promise.all([noticeRepository.list(this.db, actor, filters, page), noticeRepository.count(this.db, actor, filters)]);
    return { ...result, total };
  }

  async get(actor: Actor, id: number): Promise<Notice> {
    this.mustBeAdmin(actor);
    const notice = await noticeRepository.find(this.db, actor, id);
    if (!notice) throw new NotFoundError('Notice');
    return notice;
  }

  /**
   * Queues a failed or skipped notice again with the addresses the account has now (the usual fix
   * for both is a corrected contact address). The text stays as it was rendered. Audited.
   */
  async retry(actor: Actor, id: number, ip: string | null = null): Promise<Notice> {
    this.mustBeAdmin(actor);
    const now = this.clock.now();
    await this.db.transaction(async (trx) => {
      const notice = await noticeRepository.find(trx, actor, id);
      if (!notice) throw new NotFoundError('Notice');
      if (notice.status !== 'failed' && notice.status !== 'skipped') throw new ConflictError(`Notice #${id} is ${notice.status}: only a failed or skipped notice can be sent again.`);
      const account = await loadNoticeAccount(trx, notice.accountId);
      if (!account) throw new NotFoundError('Account');
      const r = recipientsFor(notice.kind, account);
      const status = r.skipReason ? 'skipped' : 'pending';
      if (!(await noticeRepository.requeue(trx, id, notice.status, { to: r.to, cc: r.cc, status, error: r.skipReason }, now))) throw new ConflictError(`Notice #${id} changed meanwhile; reload it.`);
      await auditRepository.append(trx, { actorUserId: actor.userId, actorLogin: actor.login, action: 'notice.retry', subjectType: 'notice', subjectId: id, data: { kind: notice.kind, account: notice.accountUsername, from: notice.status, to: status, toAddress: r.to, ccAddress: r.cc }, ip }, now);
    });
    return this.get(actor, id);
  }

  private mustBeAdmin(actor: Actor): void {
    if (actor.role !== 'admin') throw new ForbiddenError('Only administrators manage notices.');
  }
}
