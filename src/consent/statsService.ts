import type { Knex } from 'knex';
import type { Actor } from '../tenancy/actor';
import type { StatsQuery } from './schemas';
import { consentStatsRepository, type AccountConsentStats } from './statsRepository';

export interface StatsListing {
  items: AccountConsentStats[];
  total: number;
  nextCursor: string | null;
}

const defaultPageSize = 50;

/**
 * Consent statistics per account, scoped like everything else: admins every account, resellers the
 * accounts below them, customers their own. Counts only: no address ever leaves this service.
 */
export class ConsentStatsService {
  constructor(private readonly db: Knex) {}

  async list(actor: Actor, query: StatsQuery): Promise<StatsListing> {
    const sort = query.sort ?? 'customer';
    const direction = query.dir ?? (sort === 'customer' ? 'asc' : 'desc');
    const filters = { q: query.q };
    const page = { limit: query.limit ?? defaultPageSize, cursor: query.cursor };
    const [result, total] = await Promise.all([
      consentStatsRepository.page(this.db, actor, filters, sort, direction, page),
      consentStatsRepository.count(this.db, actor, filters),
    ]);
    return { ...result, total };
  }

  /** Accounts with a consent list or event, by username: the admin overview (admins only). */
  async accountsWithConsent(actor: Actor): Promise<AccountConsentStats[]> {
    return consentStatsRepository.all(this.db, actor, { activeOnly: true });
  }
}
