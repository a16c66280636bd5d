import { numberOrNull, toNumber, type Queryable } from '../db/dialect';
import { chunksOf } from '../lib/chunks';
import type { Account } from '../tenancy/types';
import { systemActor } from '../tenancy/actor';
import { accountRepository } from '../tenancy/accountRepository';

export interface MailServer {
  id: number;
  name: string;
  kind: string;
  ownerAccountId: number | null;
}

export interface HostedDomain {
  id: number;
  name: string;
  account: { id: number; username: string; serverId: number; serverName: string; ownerAccountId: number | null };
}

/**
 * What attribution reads from the database, remembered for the lifetime of one intake batch (one
 * transaction): a batch of reports from one feedback loop names the same few IPs and domains again and
 * again. `load` asks for a whole batch's IPs and names in two queries; anything not loaded is read on
 * first use. Misses are remembered too (null), so an unknown IP costs one lookup per batch.
 */
export class AttributionLookup {
  private readonly servers = new Map<string, MailServer | null>();
  private readonly domains = new Map<string, HostedDomain | null>();
  private readonly accounts = new Map<string, Account | null>();

  constructor(private readonly db: Queryable) {}

  /** Reads every given IP's server and every given name's hosted domain at once. */
  async load(ips: Iterable<string>, names: Iterable<string>): Promise<void> {
    await this.loadServers([...new Set([...ips].map((ip) => ip.toLowerCase()))].filter((ip) => !this.servers.has(ip)));
    await this.loadDomains([...new Set(names)].filter((n) => !this.domains.has(n)));
  }

  async serverOfIp(ip: string): Promise<MailServer | null> {
    const key = ip.toLowerCase();
    if (!this.servers.has(key)) await this.loadServers([key]);
    return this.servers.get(key) ?? null;
  }

  /** name → hosted domain, for those of `names` we host. */
  async hostedDomains(names: readonly string[]): Promise<Map<string, HostedDomain>> {
    await this.loadDomains([...new Set(names)].filter((n) => !this.domains.has(n)));
    const found = new Map<string, HostedDomain>();
    for (const name of names) {
      const domain = this.domains.get(name);
      if (domain) found.set(name, domain);
    }
    return found;
  }

  /** The account `username` on a server (the panel's own header names the cPanel user). */
  async accountOnServer(serverId: number, username: string): Promise<Account | null> {
    return this.account(`${serverId}:${username}`, async () => {
      const row = (await this.db('accounts').where({ server_id: serverId, username }).select('id').first()) as { id: unknown } | undefined;
      return row ? accountRepository.findById(this.db, systemActor, toNumber(row.id)) : null;
    });
  }

  async accountById(id: number): Promise<Account | null> {
    return this.account(`#${id}`, () => accountRepository.findById(this.db, systemActor, id));
  }

  private async account(key: string, read: () => Promise<Account | null>): Promise<Account | null> {
    if (!this.accounts.has(key)) this.accounts.set(key, await read());
    return this.accounts.get(key) ?? null;
  }

  private async loadServers(ips: string[]): Promise<void> {
    for (const part of chunksOf(ips, 500)) {
      for (const ip of part) this.servers.set(ip, null);
      const rows = (await this.db('server_ips as i').join('servers as s', 's.id', 'i.server_id').whereIn('i.ip', part).select('i.ip', 's.id', 's.name', 's.kind', 's.owner_account_id')) as Array<Record<string, unknown>>;
      for (const r of rows) this.servers.set(String(r.ip), { id: toNumber(r.id), name: String(r.name), kind: String(r.kind), ownerAccountId: numberOrNull(r.owner_account_id) });
    }
  }

  /** Any tenancy (the system looks across all); the first domain row of a name wins. */
  private async loadDomains(names: string[]): Promise<void> {
    for (const part of chunksOf(names, 500)) {
      const rows = (await this.db('domains as d')
        .join('accounts as a', 'a.id', 'd.account_id')
        .join('servers as s', 's.id', 'a.server_id')
        .whereIn('d.name', part)
        .orderBy('d.id')
        .select('d.id', 'd.name', 'a.id as account_id', 'a.username', 'a.server_id', 'a.owner_account_id', 's.name as server_name')) as Array<Record<string, unknown>>;
      const found = new Map<string, HostedDomain>();
      for (const r of rows) {
        const name = String(r.name);
        if (found.has(name)) continue;
        found.set(name, {
          id: toNumber(r.id),
          name,
          account: { id: toNumber(r.account_id), username: String(r.username), serverId: toNumber(r.server_id), serverName: String(r.server_name), ownerAccountId: numberOrNull(r.owner_account_id) },
        });
      }
      for (const name of part) this.domains.set(name, found.get(name) ?? null);
    }
  }
}
