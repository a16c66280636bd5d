import { toNumber } from '../db/dialect';
import type { SeedFileInput } from '../panel/simulated/seedSchema';
import { startSimulatedWhm, type SimulatedWhm } from '../panel/simulated/server';
import type { Actor } from '../tenancy/actor';
import { buildHarness, type Harness } from '../testing/appHarness';
import { createUser } from '../testing/factories';
import type { Engine } from '../testing/testDb';

/** Tests of the postmaster pages, API and CLI: a simulated WHM server with known postmaster@ routes. */
export const pmServer = 'pm1.example.test';
export const pmToken = 'pm-sim-token';

/**
 * reseller pmres owns pmcust and pmnocontact; pmroot belongs to the provider.
 *   pmcust.test          nothing for postmaster@ (the default address fails)  → missing
 *   ok-pmcust.test       a postmaster@ mailbox                                 → ok
 *   hole-pmcust.test     default address :blackhole:                           → undeliverable
 *   pmnocontact.test     nothing, and the account has no contact address      → missing
 *   pmroot.test          a postmaster@ forwarder to the owner                  → ok
 */
export function postmasterSeed(): SeedFileInput {
  return {
    version: 1,
    servers: [
      {
        name: pmServer,
        kind: 'shared',
        resellers: ['pmres'],
        accounts: [
          { user: 'pmres', domain: 'pmres.test', plan: 'reseller', email: 'owner@pmres.test', mailboxes: ['postmaster@pmres.test'] },
          {
            user: 'pmcust',
            domain: 'pmcust.test',
            owner: 'pmres',
            plan: 'starter',
            email: 'owner@pmcust.test',
            domains: [
              { name: 'ok-pmcust.test', type: 'addon' },
              { name: 'hole-pmcust.test', type: 'addon' },
            ],
            mailboxes: ['owner@pmcust.test', 'postmaster@ok-pmcust.test'],
            defaultAddresses: [{ domain: 'hole-pmcust.test', to: ':blackhole:' }],
          },
          { user: 'pmnocontact', domain: 'pmnocontact.test', owner: 'pmres', plan: 'starter', email: null },
          { user: 'pmroot', domain: 'pmroot.test', plan: 'starter', email: 'owner@pmroot.test', forwarders: [{ from: 'postmaster@pmroot.test', to: 'owner@pmroot.test' }] },
        ],
      },
    ],
  };
}

export interface PostmasterRig {
  h: Harness;
  sim: SimulatedWhm;
  accountId(username: string): Promise<number>;
  domainId(name: string): Promise<number>;
  /** A user (password: the harness password) for an account of the simulated server. */
  user(login: string, role: 'customer' | 'reseller', username: string): Promise<Actor>;
  close(): Promise<void>;
}

/** The standard harness plus the simulated server, registered and synced through the app's own services. */
export async function startPostmasterRig(engine: Engine): Promise<PostmasterRig> {
  const h = await buildHarness(engine);
  const sim = await startSimulatedWhm({ seed: postmasterSeed(), token: pmToken });
  try {
    await h.container.servers.register(pmServer, { url: sim.url, user: 'root', token: pmToken, source: 'simulated' });
    const [sync] = await h.container.accountSync.syncAll('manual', pmServer);
    if (sync?.status !== 'ok') throw new Error(`sync failed: ${JSON.stringify(sync)}`);
  } catch (err) {
    await sim.close();
    await h.cleanup();
    throw err;
  }
  const idOf = async (table: 'accounts' | 'domains', column: string, value: string) => {
    const row = (await h.db(table).where(column, value).first('id')) as { id: unknown } | undefined;
    if (!row) throw new Error(`no ${table} row with ${column} = ${value}`);
    return toNumber(row.id);
  };
  return {
    h,
    sim,
    accountId: (username) => idOf('accounts', 'username', username),
    domainId: (name) => idOf('domains', 'name', name),
    async user(login, role, username) {
      const accountId = await idOf('accounts', 'username', username);
      const userId = await createUser(h.db, { login, role, accountId, clock: h.clock });
      return { userId, login, role, accountId };
    },
    close: async () => {
      await sim.close();
      await h.cleanup();
    },
  };
}
