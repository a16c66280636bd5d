import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCursor, type Page, type PageRequest } from '../lib/keyset';
import { NotFoundError, ValidationError } from '../lib/errors';
import { buildTenancy, createAccount, createDomain, customerKeys, type AccountKey, type Tenancy } from '../testing/factories';
import { engines, migratedTestDb, type TestDb } from '../testing/testDb';
import { accountRepository, type AccountFilters } from './accountRepository';
import type { Actor } from './actor';
import { domainRepository, type DomainFilters } from './domainRepository';
import { TenancyService } from './tenancyService';
import type { Account, Domain } from './types';

const sorted = (ids: number[]) => [...ids].sort((a, b) => a - b);

/** Follows nextCursor to the end; fails on a page that is too long or a loop. */
async function walk<T extends { id: number }>(fetch: (page: PageRequest) => Promise<Page<T>>, limit: number): Promise<T[]> {
  const all: T[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 100; pages++) {
    const page = await fetch({ limit, cursor });
    expect(page.items.length).toBeLessThanOrEqual(limit);
    all.push(...page.items);
    if (!page.nextCursor) return all;
    expect(page.items).toHaveLength(limit);
    cursor = page.nextCursor;
  }
  throw new Error('pagination did not end');
}

describe.each(engines)('tenancy scoping on %s', (engine) => {
  let t: TestDb;
  let f: Tenancy;
  beforeAll(async () => {
    t = await migratedTestDb(engine);
    f = await buildTenancy(t.db);
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  const ids = (...keys: AccountKey[]) => sorted(keys.map((k) => f.accounts[k]));
  const domainIdsOf = (...keys: AccountKey[]) => sorted(keys.flatMap((k) => Object.values(f.domains[k])));
  const allAccounts = async (actor: Actor, filters: AccountFilters = {}) => sorted((await walk((p) => accountRepository.list(t.db, actor, filters, p), 200)).map((a) => a.id));
  const allDomains = async (actor: Actor, filters: DomainFilters = {}) => sorted((await walk((p) => domainRepository.list(t.db, actor, filters, p), 200)).map((d) => d.id));

  describe('accounts', () => {
    it('admin sees every account', async () => {
      expect(await allAccounts(f.actors.admin)).toEqual(ids('A', 'a1', 'a2', 'A2', 'a3', 'B', 'b1', 'c'));
      expect(await accountRepository.count(t.db, f.actors.admin, {})).toBe(8);
    });

    it('a reseller sees its own account and every account below it, transitively', async () => {
      expect(await allAccounts(f.actors.resellerA)).toEqual(ids('A', 'a1', 'a2', 'A2', 'a3'));
      expect(await accountRepository.count(t.db, f.actors.resellerA, {})).toBe(5);
      expect(await allAccounts(f.actors.resellerA, { excludeSelf: true })).toEqual(ids('a1', 'a2', 'A2', 'a3'));
      expect(await accountRepository.count(t.db, f.actors.resellerA, { excludeSelf: true })).toBe(4);
      expect(await allAccounts(f.actors.resellerA2)).toEqual(ids('A2', 'a3'));
      expect(await allAccounts(f.actors.resellerB)).toEqual(ids('B', 'b1'));
    });

    it('a customer sees only its own account', async () => {
      expect(await allAccounts(f.actors.customerA1)).toEqual(ids('a1'));
      expect(await allAccounts(f.actors.customerC)).toEqual(ids('c'));
      expect(await accountRepository.count(t.db, f.actors.customerA3, {})).toBe(1);
    });

    it('an actor without an account sees nothing', async () => {
      const orphan: Actor = { userId: 999, login: 'orphan', role: 'reseller', accountId: null };
      expect(await allAccounts(orphan)).toEqual([]);
      expect(await accountRepository.count(t.db, { ...orphan, role: 'customer' }, {})).toBe(0);
    });

    it("finds another tenant's account by id as nothing", async () => {
      const { actors, accounts } = f;
      expect(await accountRepository.findById(t.db, actors.customerA1, accounts.a2)).toBeNull();
      expect(await accountRepository.findById(t.db, actors.customerA1, accounts.A)).toBeNull();
      expect(await accountRepository.findById(t.db, actors.resellerA, accounts.b1)).toBeNull();
      expect(await accountRepository.findById(t.db, actors.resellerA, accounts.B)).toBeNull();
      expect(await accountRepository.findById(t.db, actors.resellerA2, accounts.A), 'not its parent').toBeNull();
      expect(await accountRepository.findById(t.db, actors.resellerA2, accounts.a1), 'not its siblings').toBeNull();
      expect(await accountRepository.findById(t.db, actors.resellerB, accounts.c)).toBeNull();
      expect(await accountRepository.findByUsername(t.db, actors.resellerB, 'custa1')).toBeNull();
      await expect(new TenancyService(t.db).getAccount(actors.customerB1, accounts.a1)).rejects.toBeInstanceOf(NotFoundError);
    });

    it('finds an account in scope by id, with its owner and domain count', async () => {
      const a3 = await accountRepository.findById(t.db, f.actors.resellerA, f.accounts.a3);
      expect(a3).toMatchObject({ id: f.accounts.a3, username: 'custa3', ownerAccountId: f.accounts.A2, ownerUsername: 'resa2', serverName: 'srv1.example.net', domainCount: 4 });
      const c = await accountRepository.findById(t.db, f.actors.customerC, f.accounts.c);
      expect(c).toMatchObject({ ownerAccountId: null, ownerUsername: 'root', contactEmail: 'admin@custc.example' });
      expect((await accountRepository.findById(t.db, f.actors.resellerA, f.accounts.A))?.isReseller).toBe(true);
    });

    it('filters by search text, status, kind, server and owner', async () => {
      const { actors } = f;
      expect(await allAccounts(actors.admin, { q: 'custa' })).toEqual(ids('a1', 'a2', 'a3'));
      expect(await allAccounts(actors.admin, { q: 'CUSTA1.EXAMPLE' }), 'contact email, any case').toEqual(ids('a1'));
      expect(await allAccounts(actors.admin, { q: '_' }), 'LIKE wildcards are literal').toEqual([]);
      expect(await allAccounts(actors.admin, { q: '%' })).toEqual([]);
      expect(await allAccounts(actors.resellerB, { q: 'custa' }), 'search stays in scope').toEqual([]);
      expect(await allAccounts(actors.admin, { status: 'suspended' })).toEqual(ids('a2'));
      expect(await allAccounts(actors.resellerB, { status: 'suspended' })).toEqual([]);
      expect(await allAccounts(actors.admin, { isReseller: true })).toEqual(ids('A', 'A2', 'B'));
      expect(await allAccounts(actors.resellerA, { isReseller: true, excludeSelf: true })).toEqual(ids('A2'));
      expect(await allAccounts(actors.admin, { isReseller: false })).toEqual(ids('a1', 'a2', 'a3', 'b1', 'c'));
      expect(await allAccounts(actors.admin, { serverId: f.servers.s2 })).toEqual(ids('B', 'b1', 'c'));
      expect(await allAccounts(actors.resellerA, { serverId: f.servers.s2 })).toEqual([]);
      expect(await allAccounts(actors.admin, { ownerId: f.accounts.A })).toEqual(ids('a1', 'a2', 'A2'));
      expect(await allAccounts(actors.resellerB, { ownerId: f.accounts.A }), 'owner filter stays in scope').toEqual([]);
      expect(await accountRepository.count(t.db, actors.admin, { q: 'custa', status: 'active' })).toBe(2);
    });

    it('counts by status and lists resellers within scope', async () => {
      expect(await accountRepository.countByStatus(t.db, f.actors.admin)).toEqual({ active: 7, suspended: 1 });
      expect(await accountRepository.countByStatus(t.db, f.actors.resellerB)).toEqual({ active: 2 });
      expect((await accountRepository.listResellers(t.db, f.actors.resellerA)).map((a) => a.username)).toEqual(['resa', 'resa2']);
      expect(await accountRepository.listResellers(t.db, f.actors.customerA1)).toEqual([]);
    });
  });

  describe('domains', () => {
    it('admin sees every domain', async () => {
      expect(await allDomains(f.actors.admin)).toEqual(domainIdsOf('A', 'a1', 'a2', 'A2', 'a3', 'B', 'b1', 'c'));
      expect(await domainRepository.count(t.db, f.actors.admin, {})).toBe(customerKeys.length * 4 + 3);
    });

    it("a reseller sees the domains of its whole tree, a customer only its own", async () => {
      expect(await allDomains(f.actors.resellerA)).toEqual(domainIdsOf('A', 'a1', 'a2', 'A2', 'a3'));
      expect(await allDomains(f.actors.resellerA2)).toEqual(domainIdsOf('A2', 'a3'));
      expect(await allDomains(f.actors.resellerB)).toEqual(domainIdsOf('B', 'b1'));
      expect(await allDomains(f.actors.customerA1)).toEqual(domainIdsOf('a1'));
      expect(await domainRepository.count(t.db, f.actors.customerC, {})).toBe(4);
    });

    it("finds another tenant's domain by id as nothing", async () => {
      const { actors, domains } = f;
      expect(await domainRepository.findById(t.db, actors.customerA1, domains.a2.main!)).toBeNull();
      expect(await domainRepository.findById(t.db, actors.resellerA, domains.b1.addon!)).toBeNull();
      expect(await domainRepository.findById(t.db, actors.resellerA2, domains.A.main!)).toBeNull();
      expect(await domainRepository.findById(t.db, actors.resellerB, domains.c.sub!)).toBeNull();
      await expect(new TenancyService(t.db).getDomain(actors.customerC, domains.a1.main!)).rejects.toBeInstanceOf(NotFoundError);
      const own = await domainRepository.findById(t.db, actors.resellerA, domains.a3.parked!);
      expect(own).toMatchObject({ name: 'custa3-parked.example.org', type: 'parked', mailHosted: false, accountUsername: 'custa3', serverName: 'srv1.example.net' });
    });

    it('filters by search text, type, account, server and mail hosting', async () => {
      const { actors, domains, accounts } = f;
      const of = (type: 'main' | 'addon' | 'parked' | 'sub', ...keys: AccountKey[]) => sorted(keys.map((k) => domains[k][type]!));
      expect(await allDomains(actors.resellerA, { q: 'SHOP.' })).toEqual(of('sub', 'a1', 'a2', 'a3'));
      expect(await allDomains(actors.admin, { q: '_' })).toEqual([]);
      expect(await allDomains(actors.admin, { type: 'parked' })).toEqual(of('parked', 'a1', 'a2', 'a3', 'b1', 'c'));
      expect(await allDomains(actors.admin, { mailHosted: false })).toEqual(of('parked', 'a1', 'a2', 'a3', 'b1', 'c'));
      expect(await domainRepository.count(t.db, actors.admin, { mailHosted: true })).toBe(customerKeys.length * 3 + 3);
      expect(await allDomains(actors.resellerB, { type: 'main' })).toEqual(of('main', 'B', 'b1'));
      expect(await allDomains(actors.admin, { accountId: accounts.b1 })).toEqual(domainIdsOf('b1'));
      expect(await allDomains(actors.customerA1, { accountId: accounts.b1 }), 'account filter stays in scope').toEqual([]);
      expect(await allDomains(actors.admin, { serverId: f.servers.s2 })).toEqual(domainIdsOf('B', 'b1', 'c'));
      expect(await domainRepository.countByType(t.db, actors.customerA1)).toEqual({ main: 1, addon: 1, parked: 1, sub: 1 });
      expect(await domainRepository.countByType(t.db, actors.resellerB)).toEqual({ main: 2, addon: 1, parked: 1, sub: 1 });
    });
  });

  describe('keyset pagination', () => {
    const actorKeys = ['admin', 'resellerA', 'resellerA2', 'customerB1'] as const;

    it.each(actorKeys)('walks every account page for %s with limit 2, in order, without gaps or repeats', async (key) => {
      const actor = f.actors[key];
      for (const filters of [{}, { isReseller: false }, { q: 'cust' }, { excludeSelf: true }] as AccountFilters[]) {
        const unpaged = (await accountRepository.list(t.db, actor, filters, { limit: 200 })).items;
        const paged = await walk((p) => accountRepository.list(t.db, actor, filters, p), 2);
        expect(paged.map((a) => a.id)).toEqual(unpaged.map((a) => a.id));
        expect(new Set(paged.map((a) => a.id)).size).toBe(paged.length);
        expect(paged.length).toBe(await accountRepository.count(t.db, actor, filters));
        expect(paged.map((a) => a.username)).toEqual([...paged.map((a) => a.username)].sort());
      }
    });

    it.each(actorKeys)('walks every domain page for %s with limit 2, in order, without gaps or repeats', async (key) => {
      const actor = f.actors[key];
      for (const filters of [{}, { type: 'main' }, { mailHosted: true }, { q: 'example.com' }] as DomainFilters[]) {
        const unpaged = (await domainRepository.list(t.db, actor, filters, { limit: 200 })).items;
        const paged = await walk((p) => domainRepository.list(t.db, actor, filters, p), 2);
        expect(paged.map((d) => d.id)).toEqual(unpaged.map((d) => d.id));
        expect(new Set(paged.map((d) => d.id)).size).toBe(paged.length);
        expect(paged.length).toBe(await domainRepository.count(t.db, actor, filters));
      }
      expect((await walk((p) => domainRepository.list(t.db, actor, {}, p), 2)).length).toBeGreaterThan(2);
    });

    it('returns no next cursor on the last page', async () => {
      const page = await accountRepository.list(t.db, f.actors.resellerA2, {}, { limit: 2 });
      expect(page.items).toHaveLength(2);
      expect(page.nextCursor).toBeNull();
      const first = await accountRepository.list(t.db, f.actors.resellerA, {}, { limit: 4 });
      const rest = await accountRepository.list(t.db, f.actors.resellerA, {}, { limit: 4, cursor: first.nextCursor! });
      expect(rest.items).toHaveLength(1);
      expect(rest.nextCursor).toBeNull();
    });

    it('a cursor cannot reach outside the scope', async () => {
      // A cursor positioned before everything still only yields the actor's own rows.
      const cursor = encodeCursor('', 0);
      const page = await accountRepository.list(t.db, f.actors.customerA1, {}, { limit: 50, cursor });
      expect(page.items.map((a: Account) => a.id)).toEqual([f.accounts.a1]);
      const domains = await domainRepository.list(t.db, f.actors.customerA1, {}, { limit: 50, cursor });
      expect(sorted(domains.items.map((d: Domain) => d.id))).toEqual(domainIdsOf('a1'));
    });

    it.each([
      ['garbage', 'not base64 JSON'],
      [Buffer.from('{"a":1}').toString('base64url'), 'not a pair'],
      [Buffer.from('["custa1","7"]').toString('base64url'), 'id not a number'],
      [Buffer.from('[1]').toString('base64url'), 'too short'],
    ])('rejects a bad cursor (%s: %s) with a ValidationError', async (cursor) => {
      await expect(accountRepository.list(t.db, f.actors.admin, {}, { limit: 2, cursor })).rejects.toBeInstanceOf(ValidationError);
      await expect(domainRepository.list(t.db, f.actors.admin, {}, { limit: 2, cursor })).rejects.toThrow(ValidationError);
      const err = await accountRepository.list(t.db, f.actors.admin, {}, { limit: 2, cursor }).catch((e: unknown) => e);
      expect((err as ValidationError).fields).toHaveProperty('cursor');
    });
  });
});

describe.each(engines)('account pagination with equal usernames on %s', (engine) => {
  let t: TestDb;
  let f: Tenancy;
  beforeAll(async () => {
    t = await migratedTestDb(engine);
    f = await buildTenancy(t.db);
    // The same panel username on both servers: the sort key ties and the id must break it.
    for (const [serverId, username] of [
      [f.servers.s1, 'twin'],
      [f.servers.s2, 'twin'],
      [f.servers.s2, 'twin2'],
      [f.servers.s1, 'twin2'],
    ] as const) {
      const id = await createAccount(t.db, { serverId, username, ownerAccountId: f.accounts.A, clock: f.clock });
      await createDomain(t.db, { accountId: id, clock: f.clock });
    }
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  it.each([1, 2, 3])('pages through ties with limit %i without gaps or repeats', async (limit) => {
    const all = (await accountRepository.list(t.db, f.actors.resellerA, {}, { limit: 200 })).items;
    expect(all.filter((a) => a.username === 'twin')).toHaveLength(2);
    const paged = await walk((p) => accountRepository.list(t.db, f.actors.resellerA, {}, p), limit);
    expect(paged.map((a) => a.id)).toEqual(all.map((a) => a.id));
    expect(paged).toHaveLength(9);
  });
});
