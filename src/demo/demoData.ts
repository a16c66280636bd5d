import type { DomainType, ServerKind } from '../tenancy/types';

/** The demo fleet: deterministic, so screenshots and docs stay the same across installs. */
export interface DemoServer {
  name: string;
  kind: ServerKind;
}

export interface DemoAccount {
  username: string;
  server: string;
  owner: string | null;
  isReseller: boolean;
  plan: string;
  domains: Array<{ name: string; type: DomainType; mailHosted: boolean }>;
}

export const demoServers: DemoServer[] = [
  { name: 'cp1.demo-hosting.test', kind: 'shared' },
  { name: 'cp2.demo-hosting.test', kind: 'shared' },
  { name: 'ded1.demo-hosting.test', kind: 'dedicated' },
];

const customerNames = [
  'bluefin', 'coralreef', 'driftwood', 'eastwind', 'fernhill', 'goldleaf', 'harborview', 'ironbark',
  'juniper', 'kestrel', 'lakeside', 'meadowlark', 'northstar', 'oakridge', 'pinecone', 'quartzite',
  'riverbend', 'saltmarsh', 'tidewater', 'umberfield', 'valleyoak', 'willowbrook', 'xenonlabs', 'yellowpine',
  'zephyrsail', 'amberglow', 'birchwood', 'cedarcrest', 'dunesend', 'emberly',
];

const tlds = ['com', 'net', 'org', 'io', 'co.uk', 'de'];

function domainsFor(username: string, index: number): DemoAccount['domains'] {
  const tld = tlds[index % tlds.length]!;
  const main = `${username}.${tld}`;
  const list: DemoAccount['domains'] = [{ name: main, type: 'main', mailHosted: index % 9 !== 4 }];
  if (index % 3 !== 2) list.push({ name: `${username}-shop.${tlds[(index + 1) % tlds.length]}`, type: 'addon', mailHosted: true });
  if (index % 2 === 0) list.push({ name: `mail-${username}.${tlds[(index + 2) % tlds.length]}`, type: 'parked', mailHosted: index % 4 !== 0 });
  list.push({ name: `blog.${main}`, type: 'sub', mailHosted: index % 5 !== 1 });
  if (index % 4 === 1) list.push({ name: `shop.${main}`, type: 'sub', mailHosted: true });
  return list;
}

/**
 * Three resellers (reseller3 nested under reseller1), 30 customers spread over them and the
 * provider itself, on two shared servers and one dedicated server.
 */
export function demoAccounts(): DemoAccount[] {
  const resellers: DemoAccount[] = [
    { username: 'reseller1', server: 'cp1.demo-hosting.test', owner: null, isReseller: true, plan: 'reseller-gold', domains: [{ name: 'reseller1-hosting.com', type: 'main', mailHosted: true }] },
    { username: 'reseller2', server: 'cp2.demo-hosting.test', owner: null, isReseller: true, plan: 'reseller-silver', domains: [{ name: 'reseller2-web.net', type: 'main', mailHosted: true }] },
    { username: 'reseller3', server: 'cp1.demo-hosting.test', owner: 'reseller1', isReseller: true, plan: 'reseller-bronze', domains: [{ name: 'reseller3-sites.org', type: 'main', mailHosted: true }] },
  ];
  const owners = ['reseller1', 'reseller2', 'reseller3', null] as const;
  const customers = customerNames.map((username, index): DemoAccount => {
    const owner = owners[index % owners.length]!;
    // A WHM reseller owns accounts only on its own server; the provider's own customers are spread out.
    const server =
      index === 7 ? 'ded1.demo-hosting.test' : owner === 'reseller2' || (owner === null && index % 8 === 3) ? 'cp2.demo-hosting.test' : 'cp1.demo-hosting.test';
    return { username, server, owner, isReseller: false, plan: index % 3 === 0 ? 'business' : 'starter', domains: domainsFor(username, index) };
  });
  return [...resellers, ...customers];
}

/** The provider's own starting policy; admins publish their own versions in the UI. */
export const demoPolicy = {
  title: 'Anti-spam policy',
  changeSummary: 'First published version.',
  body: `1. Consent. Send email only to people who asked, in a way you can prove, to receive mail from you specifically. Keep a record of each consent (who, when, how, and what they were told) for as long as you mail them.

2. Complaints. Every valid spam complaint about mail sent from your account is charged to the account at the rate in your contract.

3. Resellers. Resellers investigate complaints about their customers promptly and pass on this policy to them.

4. Enforcement. A domain that sends spam is suspended with a warning. If it happens again, the account is terminated. Addresses involved in hacking or port scanning are blocked.

5. Postmaster. Every domain that receives mail keeps a working postmaster@ address, and someone reads it.`,
};
