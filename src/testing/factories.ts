import type { Knex } from 'knex';
import { hashPassword } from '../auth/password';
import { userRepository } from '../auth/userRepository';
import { FixedClock } from '../lib/clock';
import { accountRepository, type NewAccount } from '../tenancy/accountRepository';
import type { Actor, Role } from '../tenancy/actor';
import { domainRepository } from '../tenancy/domainRepository';
import { serverRepository } from '../tenancy/serverRepository';
import { domainTypes, type AccountStatus, type DomainType, type ServerKind } from '../tenancy/types';

/** The instant every factory-built row is stamped with unless a clock says otherwise. */
export const testEpoch = new Date('2026-11-28T10:00:00.000Z');

export function testClock(at: Date = testEpoch): FixedClock {
  return new FixedClock(at);
}

/** The password of every user a factory creates. */
export const testPassword = 'correct horse battery';

let cachedHash: Promise<string> | null = null;
/** scrypt is deliberately slow; hash the shared test password once per worker. */
function testPasswordHash(): Promise<string> {
  cachedHash ??= hashPassword(testPassword);
  return cachedHash;
}

let counter = 0;
const unique = (prefix: string) => `${prefix}${++counter}`;

export async function createServer(
  db: Knex,
  opts: { name?: string; kind?: ServerKind; whmUrl?: string; ownerAccountId?: number | null; clock?: FixedClock } = {},
): Promise<number> {
  const name = opts.name ?? `${unique('srv')}.example.net`;
  return serverRepository.insert(
    db,
    { name, whmUrl: opts.whmUrl ?? `https://${name}:2087`, whmUser: 'root', kind: opts.kind ?? 'shared', ownerAccountId: opts.ownerAccountId ?? null },
    (opts.clock ?? testClock()).now(),
  );
}

export async function createAccount(
  db: Knex,
  opts: Partial<NewAccount> & { serverId: number; status?: AccountStatus; clock?: FixedClock },
): Promise<number> {
  const username = opts.username ?? unique('acct');
  return accountRepository.insert(
    db,
    {
      serverId: opts.serverId,
      username,
      ownerAccountId: opts.ownerAccountId ?? null,
      isReseller: opts.isReseller ?? false,
      contactEmail: opts.contactEmail === undefined ? `owner@${username}.example` : opts.contactEmail,
      plan: opts.plan ?? 'basic',
      status: opts.status,
      outgoingMail: opts.outgoingMail,
    },
    (opts.clock ?? testClock()).now(),
  );
}

export async function createDomain(
  db: Knex,
  opts: { accountId: number; name?: string; type?: DomainType; mailHosted?: boolean; clock?: FixedClock },
): Promise<number> {
  return domainRepository.insert(
    db,
    { accountId: opts.accountId, name: opts.name ?? `${unique('d')}.example.com`, type: opts.type ?? 'main', mailHosted: opts.mailHosted ?? true },
    (opts.clock ?? testClock()).now(),
  );
}

/** Inserts a user whose password is `testPassword`; returns its id. */
export async function createUser(
  db: Knex,
  opts: { login?: string; role: Role; accountId?: number | null; email?: string | null; clock?: FixedClock },
): Promise<number> {
  return userRepository.insert(
    db,
    {
      login: opts.login ?? unique('user'),
      role: opts.role,
      accountId: opts.accountId ?? null,
      passwordHash: await testPasswordHash(),
      email: opts.email ?? null,
    },
    (opts.clock ?? testClock()).now(),
  );
}

export const accountKeys = ['A', 'a1', 'a2', 'A2', 'a3', 'B', 'b1', 'c'] as const;
export type AccountKey = (typeof accountKeys)[number];
export const customerKeys = ['a1', 'a2', 'a3', 'b1', 'c'] as const satisfies readonly AccountKey[];
export const userKeys = ['admin', 'resellerA', 'resellerA2', 'resellerB', 'customerA1', 'customerA2', 'customerA3', 'customerB1', 'customerC'] as const;
export type UserKey = (typeof userKeys)[number];

export interface Tenancy {
  clock: FixedClock;
  password: string;
  servers: { s1: number; s2: number };
  /** Account ids by key; `usernames` holds their panel usernames. */
  accounts: Record<AccountKey, number>;
  usernames: Record<AccountKey, string>;
  /** Customers have one domain of every type; resellers have a main domain. */
  domains: Record<AccountKey, Partial<Record<DomainType, number>>>;
  domainNames: Record<AccountKey, Partial<Record<DomainType, string>>>;
  users: Record<UserKey, number>;
  logins: Record<UserKey, string>;
  actors: Record<UserKey, Actor>;
}

/**
 * The standard tenancy tree:
 *
 *   server s1 (srv1.example.net)          server s2 (srv2.example.net)
 *   root ─┬─ reseller A (resa)            root ─┬─ reseller B (resb)
 *         │    ├─ a1 (custa1)                   │    └─ b1 (custb1)
 *         │    ├─ a2 (custa2, suspended)        └─ c (custc, owned by root)
 *         │    └─ sub-reseller A2 (resa2)
 *         │         └─ a3 (custa3)
 *
 * Domains: customers get main `<user>.example.com`, addon `<user>-addon.example.net`,
 * parked `<user>-parked.example.org` (mail not hosted) and sub `shop.<user>.example.com`;
 * resellers get a main domain. Users: admin, resellera, resellera2, resellerb, customera1,
 * customera2, customera3, customerb1, customerc, all with password `testPassword`.
 */
export async function buildTenancy(db: Knex, clock: FixedClock = testClock()): Promise<Tenancy> {
  const at = { clock };
  const s1 = await createServer(db, { name: 'srv1.example.net', ...at });
  const s2 = await createServer(db, { name: 'srv2.example.net', ...at });

  const usernames: Record<AccountKey, string> = {
    A: 'resa',
    a1: 'custa1',
    a2: 'custa2',
    A2: 'resa2',
    a3: 'custa3',
    B: 'resb',
    b1: 'custb1',
    c: 'custc',
  };
  const accounts = {} as Record<AccountKey, number>;
  const account = async (key: AccountKey, serverId: number, owner: AccountKey | null, isReseller: boolean, status?: AccountStatus) => {
    accounts[key] = await createAccount(db, {
      serverId,
      username: usernames[key],
      ownerAccountId: owner === null ? null : accounts[owner],
      isReseller,
      status,
      contactEmail: `Admin@${usernames[key]}.Example`,
      ...at,
    });
  };
  await account('A', s1, null, true);
  await account('a1', s1, 'A', false);
  await account('a2', s1, 'A', false, 'suspended');
  await account('A2', s1, 'A', true);
  await account('a3', s1, 'A2', false);
  await account('B', s2, null, true);
  await account('b1', s2, 'B', false);
  await account('c', s2, null, false);

  const domains = {} as Tenancy['domains'];
  const domainNames = {} as Tenancy['domainNames'];
  const nameFor = (u: string, type: DomainType) =>
    ({ main: `${u}.example.com`, addon: `${u}-addon.example.net`, parked: `${u}-parked.example.org`, sub: `shop.${u}.example.com` })[type];
  for (const key of accountKeys) {
    domains[key] = {};
    domainNames[key] = {};
    const types: readonly DomainType[] = (customerKeys as readonly string[]).includes(key) ? domainTypes : ['main'];
    for (const type of types) {
      const name = nameFor(usernames[key], type);
      domains[key][type] = await createDomain(db, { accountId: accounts[key], name, type, mailHosted: type !== 'parked', ...at });
      domainNames[key][type] = name;
    }
  }

  const userSpecs: Record<UserKey, { role: Role; account: AccountKey | null }> = {
    admin: { role: 'admin', account: null },
    resellerA: { role: 'reseller', account: 'A' },
    resellerA2: { role: 'reseller', account: 'A2' },
    resellerB: { role: 'reseller', account: 'B' },
    customerA1: { role: 'customer', account: 'a1' },
    customerA2: { role: 'customer', account: 'a2' },
    customerA3: { role: 'customer', account: 'a3' },
    customerB1: { role: 'customer', account: 'b1' },
    customerC: { role: 'customer', account: 'c' },
  };
  const users = {} as Record<UserKey, number>;
  const logins = {} as Record<UserKey, string>;
  const actors = {} as Record<UserKey, Actor>;
  for (const key of userKeys) {
    const spec = userSpecs[key];
    const login = key.toLowerCase();
    const accountId = spec.account === null ? null : accounts[spec.account];
    users[key] = await createUser(db, { login, role: spec.role, accountId, email: `${login}@users.example`, ...at });
    logins[key] = login;
    actors[key] = { userId: users[key], login, role: spec.role, accountId };
  }

  return { clock, password: testPassword, servers: { s1, s2 }, accounts, usernames, domains, domainNames, users, logins, actors };
}
