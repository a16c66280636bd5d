import type { Knex } from 'knex';
import { NotFoundError } from '../lib/errors';
import type { Page } from '../lib/keyset';
import { strikeRepository, type Strike } from '../strikes/strikeRepository';
import type { Actor } from './actor';
import { accountRepository, type AccountFilters } from './accountRepository';
import { domainRepository, type DomainFilters } from './domainRepository';
import type { AccountQuery, DomainQuery } from './schemas';
import { serverRepository } from './serverRepository';
import type { Account, Domain, Server } from './types';

export const defaultPageSize = 50;

export interface Listing<T> extends Page<T> {
  total: number;
}

function accountFilters(actor: Actor, q: AccountQuery): AccountFilters {
  return {
    q: q.q,
    status: q.status,
    serverId: q.server,
    ownerId: q.owner,
    isReseller: q.kind === undefined ? undefined : q.kind === 'reseller',
    excludeSelf: actor.role === 'reseller',
  };
}

function domainFilters(q: DomainQuery): DomainFilters {
  return { q: q.q, type: q.type, accountId: q.account, serverId: q.server, mailHosted: q.mail === undefined ? undefined : q.mail === 'yes' };
}

/** Servers, accounts and domains as each actor may see them. */
export class TenancyService {
  constructor(private readonly db: Knex) {}

  async listAccounts(actor: Actor, query: AccountQuery): Promise<Listing<Account>> {
    const filters = accountFilters(actor, query);
    const page = { limit: query.limit ?? defaultPageSize, cursor: query.cursor };
    const [result, total] = await Promise.all([accountRepository.list(this.db, actor, filters, page), accountRepository.count(this.db, actor, filters)]);
    return { ...result, total };
  }

  async getAccount(actor: Actor, id: number): Promise<Account> {
    const account = await accountRepository.findById(this.db, actor, id);
    if (!account) throw new NotFoundError('Account');
    return account;
  }

  /** The account's strikes (newest first), lifted ones included; the account must be in the actor's reach. */
  async strikesOf(actor: Actor, accountId: number): Promise<Strike[]> {
    const account = await this.getAccount(actor, accountId);
    return strikeRepository.ofAccount(this.db, account.id);
  }

  async listDomains(actor: Actor, query: DomainQuery): Promise<Listing<Domain>> {
    const filters = domainFilters(query);
    const page = { limit: query.limit ?? defaultPageSize, cursor: query.cursor };
    const [result, total] = await Promise.all([domainRepository.list(this.db, actor, filters, page), domainRepository.count(this.db, actor, filters)]);
    return { ...result, total };
  }

  async getDomain(actor: Actor, id: number): Promise<Domain> {
    const domain = await domainRepository.findById(this.db, actor, id);
    if (!domain) throw new NotFoundError('Domain');
    return domain;
  }

  /** One of the actor's domains by its name, or null (another account's domain reads as unknown). */
  async findDomainByName(actor: Actor, name: string): Promise<Domain | null> {
    return domainRepository.findByName(this.db, actor, name);
  }

  async listResellers(actor: Actor): Promise<Account[]> {
    return accountRepository.listResellers(this.db, actor);
  }

  async listServers(): Promise<Server[]> {
    return serverRepository.list(this.db);
  }

  async summary(actor: Actor): Promise<{ accountsByStatus: Record<string, number>; domainsByType: Record<string, number> }> {
    const [accountsByStatus, domainsByType] = await Promise.all([accountRepository.countByStatus(this.db, actor), domainRepository.countByType(this.db, actor)]);
    return { accountsByStatus, domainsByType };
  }
}
