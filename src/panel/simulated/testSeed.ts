import type { SeedFileInput } from './seedSchema';

/**
 * A small seed with known content, for tests of the simulator and the WHM client:
 * one reseller (res1) owning alice and bob, two root-owned accounts (carol, dave), every domain type,
 * every kind of mail route on alice's domains, and dave with twelve domains (for call counting).
 */
export function smallSeed(): SeedFileInput {
  return {
    version: 1,
    servers: [
      {
        name: 'test1.example.test',
        kind: 'shared',
        resellers: ['res1'],
        accounts: [
          { user: 'res1', domain: 'res1.test', plan: 'reseller', email: 'owner@res1.test' },
          {
            user: 'alice',
            domain: 'alice.test',
            owner: 'res1',
            email: 'owner@alice.test',
            plan: 'business',
            domains: [
              { name: 'shop-alice.test', type: 'addon' },
              { name: 'alias-alice.test', type: 'parked' },
              { name: 'blog.alice.test', type: 'sub' },
            ],
            mailboxes: ['info@alice.test', 'postmaster@alice.test', 'info@shop-alice.test'],
            forwarders: [
              { from: 'postmaster@shop-alice.test', to: 'owner@alice.test' },
              { from: 'sales@alice.test', to: 'a@elsewhere.test' },
              { from: 'sales@alice.test', to: 'b@elsewhere.test' },
            ],
            domainForwarders: [{ domain: 'alias-alice.test', to: 'alice.test' }],
            defaultAddresses: [{ domain: 'blog.alice.test', to: ':blackhole:' }],
            mx: [
              { domain: 'shop-alice.test', host: 'mx2.remote.test', priority: 20 },
              { domain: 'shop-alice.test', host: 'mx1.remote.test', priority: 10 },
              { domain: 'blog.alice.test', host: '.', priority: 0 },
            ],
          },
          { user: 'bob', domain: 'bob.test', owner: 'res1', plan: 'starter', suspended: true, suspendReason: 'Spam complaint', outgoingMailHold: true },
          { user: 'carol', domain: 'carol.test', plan: 'starter', email: null, outgoingMailSuspended: true, outgoingMailHold: true },
          {
            user: 'dave',
            domain: 'dave.test',
            plan: 'business',
            domains: Array.from({ length: 11 }, (_, i) => ({ name: `dave${i + 1}.test`, type: 'addon' as const })),
            mailboxes: Array.from({ length: 11 }, (_, i) => `info@dave${i + 1}.test`),
          },
        ],
      },
      { name: 'test2.example.test', resellers: [], accounts: [{ user: 'erin', domain: 'erin.test' }] },
    ],
  };
}
