import type { Knex } from 'knex';
import { ForbiddenError, NotFoundError } from '../lib/errors';
import type { Page, PageRequest } from '../lib/keyset';
import { noticeRepository, type Notice } from '../notices/noticeRepository';
import { noticeSettingsRepository, type NoticeSettings } from '../notices/noticeSettings';
import { strikeRepository, type Strike } from '../strikes/strikeRepository';
import type { Actor } from '../tenancy/actor';
import { accountRepository } from '../tenancy/accountRepository';
import type { Account } from '../tenancy/types';
import { standingRepository, type AttentionFilters, type AttentionRow, type VisibleAction } from './standingRepository';

/** Most notices and actions one standing page lists (an account rarely has more than a handful). */
export const standingListLimit = 100;

/** Everything a customer (or its reseller) sees of the enforcement on one account. */
export interface Standing {
  account: Account;
  activeStrikes: Strike[];
  liftedStrikes: Strike[];
  notices: Notice[];
  actions: VisibleAction[];
  /** Where to appeal: the abuse desk and appeal page set by the provider. */
  appeal: NoticeSettings;
}

export interface AttentionListing extends Page<AttentionRow> {
  total: number;
}

/** Item 9 of the enforcement issue: customers see their own state and why; resellers see their customers'. */
export class StandingService {
  constructor(private readonly db: Knex) {}

  /** The standing of one account in the actor's reach; another tenant's account is a 404. */
  async standing(actor: Actor, accountId: number): Promise<Standing> {
    const account = await accountRepository.findById(this.db, actor, accountId);
    if (!account) throw new NotFoundError('Account');
    const [strikes, notices, actions, appeal] = await Promise.all([
      strikeRepository.ofAccount(this.db, account.id),
      noticeRepository.ofAccount(this.db, account.id, standingListLimit),
      standingRepository.actionsOf(this.db, account.id, standingListLimit),
      noticeSettingsRepository.get(this.db),
    ]);
    return {
      account,
      activeStrikes: strikes.filter((s) => !s.liftedAt),
      liftedStrikes: strikes.filter((s) => s.liftedAt),
      notices,
      actions,
      appeal: { providerName: appeal.providerName, abuseAddress: appeal.abuseAddress, appealUrl: appeal.appealUrl },
    };
  }

  /** The reseller's downstream customers (transitively) with strikes or a suspension of any kind. */
  async attention(actor: Actor, filters: AttentionFilters, page: PageRequest): Promise<AttentionListing> {
    if (actor.role !== 'reseller') throw new ForbiddenError('Only resellers list the enforcement state of their customers.');
    const [result, total] = await Promise.all([standingRepository.attention(this.db, actor, filters, page), standingRepository.attentionCount(this.db, actor, filters)]);
    return { ...result, total };
  }
}
