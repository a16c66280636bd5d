import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { demoAccounts, demoServers, type DemoAccount } from '../../demo/demoData';
import { parseSeed, type SeedFile, type SeedFileInput } from './seedSchema';

/** The example seed file beside this module, generated from buildDemoSeed() (a test keeps them equal). */
export const demoSeedPath = path.join(path.dirname(fileURLToPath(import.meta.url)), 'demo-seed.json');

type AccountInput = SeedFileInput['servers'][number]['accounts'][number];

/** Remote mail providers for domains whose mail is not hosted on the panel. */
const remoteMx: Array<(domain: string) => Array<{ host: string; priority: number }>> = [
  () => [
    { host: 'aspmx.l.google.com', priority: 1 },
    { host: 'alt1.aspmx.l.google.com', priority: 5 },
    { host: 'alt2.aspmx.l.google.com', priority: 5 },
  ],
  (d) => [{ host: `${d.replace(/\./g, '-')}.mail.protection.outlook.com`, priority: 0 }],
  () => [
    { host: 'mx1.mailprovider.test', priority: 10 },
    { host: 'mx2.mailprovider.test', priority: 20 },
  ],
];

/**
 * How postmaster@ is routed, cycling over the fleet's mail-hosted domains so every case appears on
 * every server: a mailbox, a forwarder (local or external), a catch-all default address of each kind,
 * or nothing at all (then the cPanel default ":fail: No Such User Here" applies).
 */
const postmasterCases = ['mailbox', 'forwarder-local', 'default-address', 'default-fail', 'default-blackhole', 'default-pipe', 'forwarder-external', 'none', 'none'] as const;

/**
 * Builds the simulator seed from the demo fleet (src/demo/demoData.ts): the same three servers,
 * resellers (reseller3 nested under reseller1), 30 customers and their domains, plus per domain a
 * few mailboxes and forwarders and a deterministic variety of mail routing for postmaster checks:
 * postmaster@ mailboxes, postmaster@ forwarders, default addresses (an address, :fail:, :blackhole:,
 * a pipe), remote MX for domains whose mail is hosted elsewhere, and one null MX (host ".").
 */
export function buildDemoSeed(): SeedFile {
  const accounts = demoAccounts();
  let hostedIndex = 0;
  let remoteIndex = 0;
  let nullMxGiven = false;
  let staleMailboxGiven = false;

  const toSeedAccount = (a: DemoAccount, accountIndex: number): AccountInput => {
    const main = a.domains[0]!.name;
    const owner = `owner@${main}`;
    const seed: Required<Pick<AccountInput, 'mailboxes' | 'forwarders' | 'domainForwarders' | 'defaultAddresses' | 'mx'>> = {
      mailboxes: [owner],
      forwarders: [],
      domainForwarders: [],
      defaultAddresses: [],
      mx: [],
    };
    for (const d of a.domains) {
      if (!d.mailHosted) {
        // Mail for this domain lives elsewhere: remote MX (one domain of the fleet gets a null MX).
        if (!nullMxGiven && d.type === 'sub') {
          nullMxGiven = true;
          seed.mx.push({ domain: d.name, host: '.', priority: 0 });
        } else {
          for (const mx of remoteMx[remoteIndex++ % remoteMx.length]!(d.name)) seed.mx.push({ domain: d.name, ...mx });
          // A stale local postmaster@ mailbox on one remote-MX domain: the panel has it, the world never reaches it.
          if (!staleMailboxGiven && d.type === 'main') {
            staleMailboxGiven = true;
            seed.mailboxes.push(`postmaster@${d.name}`);
          }
        }
        if (d.name === main) seed.mailboxes = seed.mailboxes.filter((m) => m !== owner);
        continue;
      }
      const k = hostedIndex++;
      seed.mx.push({ domain: d.name, host: d.name, priority: 0 });
      seed.mailboxes.push(`info@${d.name}`);
      if (k % 3 === 0) seed.mailboxes.push(`sales@${d.name}`);
      if (k % 4 === 1) seed.forwarders.push({ from: `sales@${d.name}`, to: owner });
      if (k % 5 === 2) {
        seed.forwarders.push({ from: `team@${d.name}`, to: owner });
        seed.forwarders.push({ from: `team@${d.name}`, to: `partner@example.org` });
      }
      if (d.type === 'parked' && k % 2 === 0) seed.domainForwarders.push({ domain: d.name, to: main });
      const routing = postmasterCases[k % postmasterCases.length]!;
      switch (routing) {
        case 'mailbox':
          seed.mailboxes.push(`postmaster@${d.name}`);
          break;
        case 'forwarder-local':
          seed.forwarders.push({ from: `postmaster@${d.name}`, to: owner });
          break;
        case 'forwarder-external':
          seed.forwarders.push({ from: `postmaster@${d.name}`, to: `abuse-desk@${accountIndex % 2 === 0 ? 'example.net' : 'example.org'}` });
          break;
        case 'default-address':
          seed.defaultAddresses.push({ domain: d.name, to: owner });
          break;
        case 'default-fail':
          seed.defaultAddresses.push({ domain: d.name, to: ':fail: No such person at this address' });
          break;
        case 'default-blackhole':
          seed.defaultAddresses.push({ domain: d.name, to: ':blackhole:' });
          break;
        case 'default-pipe':
          seed.defaultAddresses.push({ domain: d.name, to: `|/home/${a.username}/mail-filter.php` });
          break;
        case 'none':
          break;
      }
    }
    seed.mailboxes = [...new Set(seed.mailboxes)].sort();
    return {
      user: a.username,
      domain: main,
      owner: a.owner ?? 'root',
      email: owner,
      plan: a.plan,
      domains: a.domains.slice(1).map((d) => ({ name: d.name, type: d.type as 'addon' | 'parked' | 'sub' })),
      ...seed,
    };
  };

  const servers = demoServers.map((s, serverIndex) => {
    const here = accounts.map((a, i) => ({ a, i })).filter(({ a }) => a.server === s.name);
    const resellers = new Set<string>();
    for (const { a } of here) {
      if (a.isReseller) resellers.add(a.username);
      if (a.owner) resellers.add(a.owner);
    }
    return { name: s.name, kind: s.kind, ip: `192.0.2.${10 * (serverIndex + 1)}`, resellers: [...resellers].sort(), accounts: here.map(({ a, i }) => toSeedAccount(a, i)) };
  });
  return parseSeed({ version: 1, servers } satisfies SeedFileInput, 'demo seed');
}

/** The demo seed as the JSON text of demo-seed.json. */
export function demoSeedJson(): string {
  return `${JSON.stringify(buildDemoSeed(), null, 2)}\n`;
}

/** Writes the demo seed as a JSON seed file (PANEL_SEED format). */
export function writeDemoSeed(file: string = demoSeedPath): void {
  fs.writeFileSync(file, demoSeedJson());
}
