import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fromDbBool, fromDbJson, fromDbTime, toDbTime, toNumber } from '../../db/dialect';
import { NotFoundError } from '../../lib/errors';
import type { FixedClock } from '../../lib/clock';
import { setLogLevel } from '../../lib/logger';
import { accountRepository } from '../../tenancy/accountRepository';
import type { Actor } from '../../tenancy/actor';
import { serverRepository } from '../../tenancy/serverRepository';
import type { Server } from '../../tenancy/types';
import { testClock } from '../../testing/factories';
import { engines, migratedTestDb, type TestDb } from '../../testing/testDb';
import { buildPanelServices, type PanelServices } from '../panelServices';
import type { SeedFileInput } from '../simulated/seedSchema';
import { startSimulatedWhm, type SimulatedWhm } from '../simulated/server';
import type { SimAccount } from '../simulated/simState';
import { WhmApiClient } from '../whm/whmClient';
import { accountSyncJob } from './accountSync';
import type { SyncCounts } from './reconcile';

type ServerSeed = SeedFileInput['servers'][number];

/**
 * The account sync end to end: real simulated WHM servers over HTTP, registered through
 * ServerService, synced by AccountSyncService into a real database (SQLite and MariaDB).
 */

const s1Name = 'sync1.example.test';
const s2Name = 'sync2.example.test';

/** Server 1: a reseller (resa) owning a sub-reseller (resa2) that owns a customer (cust2). */
function seed1(): ServerSeed {
  return {
    name: s1Name,
    resellers: ['resa', 'resa2'],
    accounts: [
      { user: 'resa', domain: 'resa.test', email: 'owner@resa.test', plan: 'reseller' },
      { user: 'resa2', domain: 'resa2.test', owner: 'resa', email: 'owner@resa2.test', plan: 'reseller' },
      {
        user: 'cust1',
        domain: 'cust1.test',
        owner: 'resa',
        email: 'info@cust1.test',
        plan: 'business',
        domains: [
          { name: 'cust1-shop.test', type: 'addon' },
          { name: 'cust1-alias.test', type: 'parked' },
          { name: 'blog.cust1.test', type: 'sub' },
        ],
      },
      { user: 'cust2', domain: 'cust2.test', owner: 'resa2', plan: 'starter' },
      { user: 'cust3', domain: 'cust3.test', plan: 'starter', outgoingMailSuspended: true, domains: [{ name: 'cust3-extra.test', type: 'addon' }] },
      { user: 'susp', domain: 'susp.test', suspended: true, suspendReason: 'Spam complaint', outgoingMailHold: true },
      { user: 'twin', domain: 'twin-one.test' },
    ],
  };
}

/** Server 2: another reseller tree, and an account named like one on server 1. */
function seed2(): ServerSeed {
  return {
    name: s2Name,
    resellers: ['resb'],
    accounts: [
      { user: 'resb', domain: 'resb.test', plan: 'reseller' },
      {
        user: 'custb',
        domain: 'custb.test',
        owner: 'resb',
        domains: [
          { name: 'custb-shop.test', type: 'addon' },
          { name: 'mail.custb.test', type: 'sub' },
        ],
      },
      { user: 'twin', domain: 'twin-two.test' },
    ],
  };
}

const zero: SyncCounts = { accountsAdded: 0, accountsUpdated: 0, accountsTerminated: 0, domainsAdded: 0, domainsUpdated: 0, domainsRemoved: 0 };

/** Adds an account to a simulator's state the way WHM's createacct would leave it (the simulator has no createacct). */
function addSimAccount(sim: SimulatedWhm, a: { user: string; domain: string; owner: string; domains?: SimAccount['domains'] }): void {
  // SimState keeps its accounts private: element access is TypeScript's sanctioned way in for a test.
  const accounts = sim.state['accounts'];
  accounts.set(a.user, {
    user: a.user,
    domain: a.domain,
    owner: a.owner,
    email: null,
    plan: 'default',
    suspended: false,
    suspendReason: null,
    suspendLocked: false,
    suspendTime: null,
    outgoingMailSuspended: false,
    outgoingMailHold: false,
    startTime: 1_735_689_600,
    uid: 2000 + accounts.size,
    domains: [{ name: a.domain, type: 'main' }, ...(a.domains ?? [])],
    mailboxes: [],
    forwarders: [],
    domainForwarders: new Map(),
    defaultAddresses: new Map(),
    mx: new Map(),
  });
}

interface Fixture {
  t: TestDb;
  db: Knex;
  clock: FixedClock;
  panel: PanelServices;
  sims: Record<string, SimulatedWhm>;
  tokens: Record<string, string>;
  servers: Record<string, Server>;
  dataDir: string;
  close(): Promise<void>;
}

async function setup(engine: 'sqlite' | 'mysql', seeds: ServerSeed[] = [seed1(), seed2()]): Promise<Fixture> {
  setLogLevel('silent');
  const t = await migratedTestDb(engine);
  const clock = testClock();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'antispam-sync-'));
  const panel = buildPanelServices({ db: t.db, clock, dataDir, panel: { timeoutMs: 5000 } });
  const sims: Record<string, SimulatedWhm> = {};
  const tokens: Record<string, string> = {};
  const servers: Record<string, Server> = {};
  const close = async () => {
    await Promise.all(Object.values(sims).map((s) => s.close()));
    await t.cleanup();
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    for (const seed of seeds) {
      const name = seed.name;
      tokens[name] = `TOKEN-${name.toUpperCase().replace(/\W/g, '')}-0123456789`;
      sims[name] = await startSimulatedWhm({ seed: { version: 1, servers: [seed] }, token: tokens[name]! });
      servers[name] = await panel.servers.register(name, { url: sims[name]!.url, user: 'root', token: tokens[name]!, source: 'simulated' });
    }
  } catch (err) {
    await close();
    throw err;
  }
  return { t, db: t.db, clock, panel, sims, tokens, servers, dataDir, close };
}

interface DbAccount {
  id: number;
  username: string;
  owner: string | null;
  isReseller: boolean;
  contactEmail: string | null;
  plan: string | null;
  status: string;
  outgoingMail: string;
  updatedAt: string;
}

async function dbAccounts(db: Knex, serverId: number): Promise<DbAccount[]> {
  const rows = (await db('accounts as a')
    .leftJoin('accounts as o', 'o.id', 'a.owner_account_id')
    .where('a.server_id', serverId)
    .orderBy('a.username')
    .select('a.id', 'a.username', 'o.username as owner', 'a.is_reseller', 'a.contact_email', 'a.plan', 'a.status', 'a.outgoing_mail', 'a.updated_at')) as Array<Record<string, unknown>>;
  return rows.map((r) => ({
    id: toNumber(r.id),
    username: String(r.username),
    owner: (r.owner as string | null) ?? null,
    isReseller: fromDbBool(r.is_reseller),
    contactEmail: (r.contact_email as string | null) ?? null,
    plan: (r.plan as string | null) ?? null,
    status: String(r.status),
    outgoingMail: String(r.outgoing_mail),
    updatedAt: toDbTime(fromDbTime(r.updated_at)),
  }));
}

async function dbDomains(db: Knex, serverId: number): Promise<Array<{ id: number; name: string; type: string; username: string }>> {
  const rows = (await db('domains as d').join('accounts as a', 'a.id', 'd.account_id').where('a.server_id', serverId).orderBy('d.name').select('d.id', 'd.name', 'd.type', 'a.username')) as Array<
    Record<string, unknown>
  >;
  return rows.map((r) => ({ id: toNumber(r.id), name: String(r.name), type: String(r.type), username: String(r.username) }));
}

/** The live accounts and their domains in the database are exactly what the simulator's state says. */
async function expectDbMatchesPanel(db: Knex, serverId: number, sim: SimulatedWhm): Promise<void> {
  const live = (await dbAccounts(db, serverId)).filter((a) => a.status !== 'terminated');
  const panelAccounts = sim.state.allAccounts();
  expect(live.map(({ id: _id, updatedAt: _u, ...rest }) => rest)).toEqual(
    panelAccounts.map((a) => ({
      username: a.user,
      owner: a.owner === 'root' ? null : a.owner,
      isReseller: sim.state.resellers.has(a.user),
      contactEmail: a.email,
      plan: a.plan,
      status: a.suspended ? 'suspended' : 'active',
      outgoingMail: a.outgoingMailSuspended ? 'suspended' : a.outgoingMailHold ? 'hold' : 'active',
    })),
  );
  const liveUsers = new Set(live.map((a) => a.username));
  const domains = (await dbDomains(db, serverId)).filter((d) => liveUsers.has(d.username));
  expect(domains.map(({ id: _id, ...rest }) => rest)).toEqual(
    panelAccounts.flatMap((a) => a.domains.map((d) => ({ name: d.name, type: d.type, username: a.user }))).sort((x, y) => x.name.localeCompare(y.name)),
  );
}

/** account_tree is exactly the closure of the owner links (self at depth 0, each ancestor at its distance). */
async function expectTreeIsClosureOfOwners(db: Knex): Promise<void> {
  const owners = new Map(((await db('accounts').select('id', 'owner_account_id')) as Array<Record<string, unknown>>).map((r) => [toNumber(r.id), r.owner_account_id == null ? null : toNumber(r.owner_account_id)]));
  const expected: string[] = [];
  for (const id of owners.keys()) {
    let depth = 0;
    for (let at: number | null = id; at !== null; at = owners.get(at) ?? null) expected.push(`${at}>${id}@${depth++}`);
  }
  const rows = (await db('account_tree').select('ancestor_id', 'account_id', 'depth')) as Array<Record<string, unknown>>;
  expect(rows.map((r) => `${toNumber(r.ancestor_id)}>${toNumber(r.account_id)}@${toNumber(r.depth)}`).sort()).toEqual(expected.sort());
}

/** Usernames the actor may see, through the same scoped repository the pages use. */
async function visibleTo(db: Knex, actor: Actor): Promise<string[]> {
  return (await accountRepository.list(db, actor, {}, { limit: 1000 })).items.map((a) => a.username);
}

async function accountId(db: Knex, serverId: number, username: string): Promise<number> {
  const row = (await db('accounts').where({ server_id: serverId, username }).first('id')) as { id: unknown } | undefined;
  if (!row) throw new Error(`no account ${username} on server ${serverId}`);
  return toNumber(row.id);
}

const reseller = (accountId: number): Actor => ({ userId: null, login: 'r', role: 'reseller', accountId });
const customer = (accountId: number): Actor => ({ userId: null, login: 'c', role: 'customer', accountId });

async function jobRuns(db: Knex): Promise<Array<{ subject: string; trigger: string; status: string; counts: Record<string, number> | null; error: string | null }>> {
  const rows = (await db('job_runs').where('job', accountSyncJob).orderBy('id')) as Array<Record<string, unknown>>;
  return rows.map((r) => ({
    subject: String(r.subject),
    trigger: String(r.trigger),
    status: String(r.status),
    counts: fromDbJson<Record<string, number>>(r.counts),
    error: (r.error as string | null) ?? null,
  }));
}

const byServer = <T extends { server: string }>(results: T[]): Record<string, T> => Object.fromEntries(results.map((r) => [r.server, r]));

describe.each(engines)('account sync on %s', (engine) => {
  describe('a fleet of two servers, synced, changed through WHM, synced again', () => {
    let f: Fixture;
    let whm: WhmApiClient;
    let s1: Server;
    let s2: Server;
    let sim1: SimulatedWhm;
    let sim2: SimulatedWhm;
    /** Ids and domains from the first sync, to check that later syncs keep them. */
    let firstIds: Map<string, number>;

    beforeAll(async () => {
      f = await setup(engine);
      s1 = f.servers[s1Name]!;
      s2 = f.servers[s2Name]!;
      sim1 = f.sims[s1Name]!;
      sim2 = f.sims[s2Name]!;
      whm = new WhmApiClient({ url: sim1.url, token: f.tokens[s1Name]!, serverName: s1Name });
    });
    afterAll(async () => {
      whm?.close();
      await f?.close();
    });

    it('registers both servers as active simulated servers whose token is kept in memory only', async () => {
      const servers = await f.panel.servers.list();
      expect(servers.map((s) => [s.name, s.status, s.source, s.tokenRef, s.whmUrl, s.lastSyncAt])).toEqual([
        [s1Name, 'active', 'simulated', null, sim1.url, null],
        [s2Name, 'active', 'simulated', null, sim2.url, null],
      ]);
      expect(fs.readdirSync(f.dataDir)).toEqual([]);
    });

    it('first sync: every account, reseller, owner and domain of each server, in three panel calls per server', async () => {
      const results = byServer(await f.panel.accountSync.syncAll('manual'));
      expect(results[s1Name]).toEqual({ server: s1Name, status: 'ok', counts: { ...zero, accountsAdded: 7, domainsAdded: 11 } });
      expect(results[s2Name]).toEqual({ server: s2Name, status: 'ok', counts: { ...zero, accountsAdded: 3, domainsAdded: 5 } });

      for (const sim of [sim1, sim2]) {
        expect([sim.callCount('listresellers'), sim.callCount('listaccts'), sim.callCount('get_domain_info')]).toEqual([1, 1, 1]);
        expect(sim.totalCalls()).toBe(3);
      }

      await expectDbMatchesPanel(f.db, s1.id, sim1);
      await expectDbMatchesPanel(f.db, s2.id, sim2);
      await expectTreeIsClosureOfOwners(f.db);

      // Spelled out, so the check above is not only the simulator compared with itself.
      const accounts1 = await dbAccounts(f.db, s1.id);
      const a = Object.fromEntries(accounts1.map((x) => [x.username, x]));
      expect(accounts1.map((x) => x.username)).toEqual(['cust1', 'cust2', 'cust3', 'resa', 'resa2', 'susp', 'twin']);
      expect(a.resa).toMatchObject({ owner: null, isReseller: true, contactEmail: 'owner@resa.test', plan: 'reseller', status: 'active' });
      expect(a.resa2).toMatchObject({ owner: 'resa', isReseller: true });
      expect(a.cust1).toMatchObject({ owner: 'resa', isReseller: false, contactEmail: 'info@cust1.test', plan: 'business', status: 'active', outgoingMail: 'active' });
      expect(a.cust2).toMatchObject({ owner: 'resa2', isReseller: false, contactEmail: null });
      expect(a.cust3).toMatchObject({ owner: null, outgoingMail: 'suspended' });
      expect(a.susp).toMatchObject({ status: 'suspended', outgoingMail: 'hold' });
      const domains1 = await dbDomains(f.db, s1.id);
      expect(domains1.filter((d) => d.username === 'cust1').map((d) => [d.name, d.type])).toEqual([
        ['blog.cust1.test', 'sub'],
        ['cust1-alias.test', 'parked'],
        ['cust1-shop.test', 'addon'],
        ['cust1.test', 'main'],
      ]);
      // The same username on two servers is two accounts.
      const twins = (await f.db('accounts').where('username', 'twin').orderBy('server_id')) as Array<Record<string, unknown>>;
      expect(twins.map((r) => toNumber(r.server_id))).toEqual([s1.id, s2.id]);
      expect((await dbDomains(f.db, s2.id)).filter((d) => d.username === 'twin').map((d) => d.name)).toEqual(['twin-two.test']);

      // Tenancy: a reseller sees its sub-reseller's customers; a sub-reseller does not see up; a customer sees itself.
      const id = (u: string) => a[u]!.id;
      expect(await visibleTo(f.db, reseller(id('resa')))).toEqual(['cust1', 'cust2', 'resa', 'resa2']);
      expect(await visibleTo(f.db, reseller(id('resa2')))).toEqual(['cust2', 'resa2']);
      expect(await visibleTo(f.db, reseller(await accountId(f.db, s2.id, 'resb')))).toEqual(['custb', 'resb']);
      expect(await visibleTo(f.db, customer(id('cust2')))).toEqual(['cust2']);
      expect(await accountRepository.count(f.db, reseller(id('resa')), {})).toBe(4);
      const tree = (await f.db('account_tree').where('account_id', id('cust2')).orderBy('depth')) as Array<Record<string, unknown>>;
      expect(tree.map((r) => [toNumber(r.ancestor_id), toNumber(r.depth)])).toEqual([
        [id('cust2'), 0],
        [id('resa2'), 1],
        [id('resa'), 2],
      ]);

      // One run per server, with its counts; each server records its last sync.
      const runs = await jobRuns(f.db);
      expect(runs.sort((x, y) => x.subject.localeCompare(y.subject))).toEqual([
        { subject: s1Name, trigger: 'manual', status: 'ok', counts: { ...zero, accountsAdded: 7, domainsAdded: 11 }, error: null },
        { subject: s2Name, trigger: 'manual', status: 'ok', counts: { ...zero, accountsAdded: 3, domainsAdded: 5 }, error: null },
      ]);
      for (const s of await f.panel.servers.list()) {
        expect([s.lastSyncStatus, s.lastSyncError, s.lastSyncAt?.toISOString()]).toEqual(['ok', null, f.clock.now().toISOString()]);
      }
      expect((await serverRepository.findById(f.db, s1.id))!.accountCount).toBe(7);
      expect(await f.db('job_leases')).toEqual([]);
      firstIds = new Map(accounts1.map((x) => [x.username, x.id]));
    });

    it('a second sync with nothing changed on the panel changes nothing (zero counts, no row touched)', async () => {
      const before1 = await dbAccounts(f.db, s1.id);
      const before2 = await dbAccounts(f.db, s2.id);
      const domainsBefore = [...(await dbDomains(f.db, s1.id)), ...(await dbDomains(f.db, s2.id))];
      const treeBefore = await f.db('account_tree').orderBy(['ancestor_id', 'account_id']);
      f.clock.advance(60_000);
      sim1.resetCounters();
      const results = byServer(await f.panel.accountSync.syncAll('schedule'));
      expect(results[s1Name]).toEqual({ server: s1Name, status: 'ok', counts: zero });
      expect(results[s2Name]).toEqual({ server: s2Name, status: 'ok', counts: zero });
      expect(sim1.totalCalls()).toBe(3);
      // updated_at would move with the clock had any row been rewritten.
      expect(await dbAccounts(f.db, s1.id)).toEqual(before1);
      expect(await dbAccounts(f.db, s2.id)).toEqual(before2);
      expect([...(await dbDomains(f.db, s1.id)), ...(await dbDomains(f.db, s2.id))]).toEqual(domainsBefore);
      expect(await f.db('account_tree').orderBy(['ancestor_id', 'account_id'])).toEqual(treeBefore);
      const runs = await jobRuns(f.db);
      expect(runs).toHaveLength(4);
      expect(runs.slice(2).map((r) => [r.trigger, r.status, r.counts])).toEqual([
        ['schedule', 'ok', zero],
        ['schedule', 'ok', zero],
      ]);
      expect((await serverRepository.findById(f.db, s1.id))!.lastSyncAt!.toISOString()).toBe(f.clock.now().toISOString());
    });

    it('changes made in WHM (suspend, hold, unsuspend, remove, new account, owner and domain changes) arrive with the next sync', async () => {
      // Through the WHM API, as an admin working in WHM would.
      await whm.suspendAccount('cust1', 'Phishing');
      await whm.holdOutgoingEmail('cust2');
      await whm.unsuspendAccount('susp');
      await whm.terminateAccount('cust3');
      expect(sim1.state.account('cust3')).toBeUndefined();
      // What the simulator has no API for, directly in its state: a new account under the sub-reseller,
      // the sub-reseller moved to root, a parked domain dropped, and (server 2) an addon turned parked.
      addSimAccount(sim1, { user: 'newbie', domain: 'newbie.test', owner: 'resa2', domains: [{ name: 'newbie-shop.test', type: 'addon' }] });
      sim1.state.account('resa2')!.owner = 'root';
      const cust1 = sim1.state.account('cust1')!;
      cust1.domains = cust1.domains.filter((d) => d.name !== 'cust1-alias.test');
      sim2.state.account('custb')!.domains.find((d) => d.name === 'custb-shop.test')!.type = 'parked';
      const cust3Domains = (await dbDomains(f.db, s1.id)).filter((d) => d.username === 'cust3');
      expect(cust3Domains).toHaveLength(2);

      f.clock.advance(60_000);
      const results = byServer(await f.panel.accountSync.syncAll('manual'));
      expect(results[s1Name]).toEqual({
        server: s1Name,
        status: 'ok',
        counts: { accountsAdded: 1, accountsUpdated: 4, accountsTerminated: 1, domainsAdded: 2, domainsUpdated: 0, domainsRemoved: 1 },
      });
      expect(results[s2Name]).toEqual({ server: s2Name, status: 'ok', counts: { ...zero, domainsUpdated: 1 } });

      await expectDbMatchesPanel(f.db, s1.id, sim1);
      await expectDbMatchesPanel(f.db, s2.id, sim2);
      await expectTreeIsClosureOfOwners(f.db);

      const accounts1 = await dbAccounts(f.db, s1.id);
      const a = Object.fromEntries(accounts1.map((x) => [x.username, x]));
      expect(a.cust1).toMatchObject({ status: 'suspended', outgoingMail: 'active' });
      expect(a.cust2).toMatchObject({ status: 'active', outgoingMail: 'hold' });
      expect(a.susp).toMatchObject({ status: 'active', outgoingMail: 'hold' });
      // Removed in WHM: terminated, same row, domains and history kept.
      expect(a.cust3).toMatchObject({ id: firstIds.get('cust3'), status: 'terminated', owner: null });
      expect((await dbDomains(f.db, s1.id)).filter((d) => d.username === 'cust3')).toEqual(cust3Domains);
      // Every other account kept its id.
      for (const [username, id] of firstIds) expect(a[username]!.id).toBe(id);
      expect(a.newbie).toMatchObject({ owner: 'resa2', status: 'active', isReseller: false });
      expect(await f.db('domains').where('name', 'cust1-alias.test')).toEqual([]);
      expect((await dbDomains(f.db, s2.id)).find((d) => d.name === 'custb-shop.test')).toMatchObject({ type: 'parked', username: 'custb' });

      // The sub-reseller now belongs to root: its customers left resa's tree, and newbie joined resa2's.
      expect(await visibleTo(f.db, reseller(a.resa!.id))).toEqual(['cust1', 'resa']);
      expect(await visibleTo(f.db, reseller(a.resa2!.id))).toEqual(['cust2', 'newbie', 'resa2']);
      const tree = (await f.db('account_tree').where('account_id', a.cust2!.id).orderBy('depth')) as Array<Record<string, unknown>>;
      expect(tree.map((r) => [toNumber(r.ancestor_id), toNumber(r.depth)])).toEqual([
        [a.cust2!.id, 0],
        [a.resa2!.id, 1],
      ]);
      // Server 1 counts its live accounts only.
      expect((await serverRepository.findById(f.db, s1.id))!.accountCount).toBe(7);
    });

    it('a terminated account stays terminated (and is not counted again) on later syncs', async () => {
      const results = byServer(await f.panel.accountSync.syncAll('manual', s1Name.toUpperCase()));
      expect(Object.keys(results)).toEqual([s1Name]);
      expect(results[s1Name]).toEqual({ server: s1Name, status: 'ok', counts: zero });
      expect((await dbAccounts(f.db, s1.id)).find((x) => x.username === 'cust3')).toMatchObject({ status: 'terminated' });
    });
  });

  it('servers sync in parallel without getting in each other\'s way (a first sync of four servers at once, then a change on each)', async () => {
    const fleetSeed = (i: number): ServerSeed => ({
      name: `par${i}.example.test`,
      resellers: [`res${i}`, `sub${i}`],
      accounts: [
        { user: `res${i}`, domain: `res${i}.test` },
        { user: `sub${i}`, domain: `sub${i}.test`, owner: `res${i}` },
        ...Array.from({ length: 6 }, (_, j) => ({ user: `c${i}x${j}`, domain: `c${i}x${j}.test`, owner: j % 2 ? `sub${i}` : `res${i}`, domains: [{ name: `shop.c${i}x${j}.test`, type: 'sub' as const }] })),
      ],
    });
    const f = await setup(engine, [1, 2, 3, 4].map(fleetSeed));
    try {
      const first = await f.panel.accountSync.syncAll('startup');
      expect(first.map((r) => [r.server, r.status, r.status === 'failed' ? r.error : ''])).toEqual([1, 2, 3, 4].map((i) => [`par${i}.example.test`, 'ok', '']));
      for (const i of [1, 2, 3, 4]) {
        const sim = f.sims[`par${i}.example.test`]!;
        addSimAccount(sim, { user: `new${i}`, domain: `new${i}.test`, owner: `sub${i}` });
        sim.state.account(`c${i}x0`)!.owner = `sub${i}`;
      }
      const second = await f.panel.accountSync.syncAll('schedule');
      expect(second.map((r) => [r.status, r.status === 'ok' ? [r.counts.accountsAdded, r.counts.accountsUpdated] : r])).toEqual([1, 2, 3, 4].map(() => ['ok', [1, 1]]));
      for (const i of [1, 2, 3, 4]) await expectDbMatchesPanel(f.db, f.servers[`par${i}.example.test`]!.id, f.sims[`par${i}.example.test`]!);
      await expectTreeIsClosureOfOwners(f.db);
    } finally {
      await f.close();
    }
  });

  describe('failures and coordination', () => {
    let f: Fixture;
    beforeEach(async () => {
      f = await setup(engine);
    });
    afterEach(async () => {
      await f.close();
    });

    it('a server with a wrong token fails (run, server row and result say why) while the other server syncs', async () => {
      const sim2 = f.sims[s2Name]!;
      await f.panel.servers.register(s2Name, { url: sim2.url, user: 'root', token: 'WRONG-TOKEN-0000', source: 'simulated' });
      const results = byServer(await f.panel.accountSync.syncAll('schedule'));
      expect(results[s1Name]).toMatchObject({ status: 'ok', counts: { accountsAdded: 7 } });
      const failed = results[s2Name]!;
      expect(failed.status).toBe('failed');
      const error = failed.status === 'failed' ? failed.error : '';
      expect(error).toMatch(new RegExp(`^WHM ${s2Name.replace(/\./g, '\\.')}: \\w+: HTTP 403: access denied`, 'i'));
      expect(error).not.toContain('WRONG-TOKEN');

      const s2 = (await serverRepository.findByName(f.db, s2Name))!;
      expect([s2.lastSyncStatus, s2.lastSyncError, s2.lastSyncAt?.toISOString()]).toEqual(['failed', error, f.clock.now().toISOString()]);
      expect((await serverRepository.findByName(f.db, s1Name))!.lastSyncStatus).toBe('ok');
      expect(await f.db('accounts').where('server_id', s2.id)).toEqual([]);
      const runs = await jobRuns(f.db);
      expect(runs.find((r) => r.subject === s2Name)).toEqual({ subject: s2Name, trigger: 'schedule', status: 'failed', counts: null, error });
      expect(runs.find((r) => r.subject === s1Name)).toMatchObject({ status: 'ok' });
      expect(await f.db('job_leases')).toEqual([]);

      // With the right token again the next sync succeeds and clears the error.
      await f.panel.servers.register(s2Name, { url: sim2.url, user: 'root', token: f.tokens[s2Name]!, source: 'simulated' });
      const again = byServer(await f.panel.accountSync.syncAll('manual', s2Name));
      expect(again[s2Name]).toMatchObject({ status: 'ok', counts: { accountsAdded: 3 } });
      const fixed = (await serverRepository.findByName(f.db, s2Name))!;
      expect([fixed.lastSyncStatus, fixed.lastSyncError]).toEqual(['ok', null]);
    });

    it('two syncs of the same server at once: one runs, the other is told busy; the lease is freed after', async () => {
      const sim1 = f.sims[s1Name]!;
      sim1.knobs.latencyMs = 40; // keep the first sync inside its lease while the second asks
      const server = f.servers[s1Name]!;
      const results = await Promise.all([f.panel.accountSync.syncServer(server, 'manual'), f.panel.accountSync.syncServer(server, 'schedule')]);
      expect(results.map((r) => r.status).sort()).toEqual(['busy', 'ok']);
      expect(results.find((r) => r.status === 'busy')).toEqual({ server: s1Name, status: 'busy' });
      expect(sim1.totalCalls()).toBe(3);
      expect(await jobRuns(f.db)).toHaveLength(1);
      expect(await f.db('job_leases')).toEqual([]);
      // The same through syncAll (a schedule tick meeting a manual sync): each server runs once.
      sim1.resetCounters();
      const both = await Promise.all([f.panel.accountSync.syncAll('schedule'), f.panel.accountSync.syncAll('manual')]);
      const s1Statuses = both.flat().filter((r) => r.server === s1Name).map((r) => r.status).sort();
      expect(s1Statuses).toEqual(['busy', 'ok']);
      expect(sim1.totalCalls()).toBe(3);
      // And once free, the next sync runs.
      expect((await f.panel.accountSync.syncServer(server, 'manual')).status).toBe('ok');
    });

    it('a removed server is skipped by syncAll (its accounts stay); naming it or an unknown server is NotFoundError', async () => {
      expect((await f.panel.accountSync.syncAll('manual')).map((r) => r.status)).toEqual(['ok', 'ok']);
      const s2 = f.servers[s2Name]!;
      const accountsBefore = await dbAccounts(f.db, s2.id);
      await f.panel.servers.remove(s2Name);
      const sim2 = f.sims[s2Name]!;
      sim2.resetCounters();
      // A change that would be synced, were the server still managed.
      await new WhmApiClient({ url: sim2.url, token: f.tokens[s2Name]!, serverName: s2Name }).suspendAccount('custb', 'test');

      const results = await f.panel.accountSync.syncAll('schedule');
      expect(results.map((r) => [r.server, r.status])).toEqual([[s1Name, 'ok']]);
      expect(sim2.callCount('listaccts')).toBe(0);
      expect(await dbAccounts(f.db, s2.id)).toEqual(accountsBefore);
      expect((await serverRepository.findById(f.db, s2.id))!.status).toBe('removed');

      await expect(f.panel.accountSync.syncAll('manual', s2Name)).rejects.toBeInstanceOf(NotFoundError);
      const unknown = f.panel.accountSync.syncAll('manual', 'nosuch');
      await expect(unknown).rejects.toBeInstanceOf(NotFoundError);
      await expect(unknown).rejects.toThrow(/"nosuch"/);
      expect(sim2.callCount('listaccts')).toBe(0);
    });
  });
});
