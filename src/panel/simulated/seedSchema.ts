import fs from 'node:fs';
import { z } from 'zod';

/**
 * Seed file of the simulated WHM server (PANEL_SEED). One file may describe several servers; one
 * simulator instance serves one of them (PANEL_SIM_SERVER, default the first).
 *
 * {
 *   "version": 1,
 *   "servers": [{
 *     "name": "cp1.example.test",            // required, unique
 *     "kind": "shared",                       // optional: shared | dedicated
 *     "ip": "192.0.2.10",                     // optional, shown as each account's ip
 *     "resellers": ["reseller1"],             // usernames with reseller privileges on this server
 *     "accounts": [{
 *       "user": "bluefin",                    // cPanel username: lowercase letter, then letters/digits, ≤ 16
 *       "domain": "bluefin.com",              // main domain
 *       "owner": "reseller1",                 // "root" (default) or one of this server's resellers
 *       "email": "owner@bluefin.com",         // contact address, or null
 *       "plan": "business",
 *       "suspended": false, "suspendReason": null, "suspendLocked": false,   // locked = disallowun=1
 *       "outgoingMailSuspended": false, "outgoingMailHold": false,
 *       "domains": [{ "name": "bluefin-shop.net", "type": "addon" }],        // addon | parked | sub (besides the main domain)
 *       "mailboxes": ["info@bluefin.com"],
 *       "forwarders": [{ "from": "postmaster@bluefin.com", "to": "owner@bluefin.com" }],   // to: address, ":fail: msg", ":blackhole:", "|/path"
 *       "domainForwarders": [{ "domain": "mail-bluefin.org", "to": "bluefin.com" }],
 *       "defaultAddresses": [{ "domain": "bluefin.com", "to": ":blackhole:" }],           // unset → ":fail: No Such User Here"
 *       "mx": [{ "domain": "bluefin.com", "host": "bluefin.com", "priority": 0 }]          // unset → the domain itself, priority 0
 *     }]
 *   }]
 * }
 *
 * Every mail item must name a domain of its own account. A reseller listed on a server may own
 * accounts there without having an account on that server itself (the demo fleet spreads a
 * reseller's customers over servers); real WHM would need a reseller account on each server.
 */

const username = z.string().regex(/^[a-z][a-z0-9]{0,15}$/, 'must be a cPanel username: a lowercase letter, then lowercase letters or digits, at most 16 characters');
const domainName = z
  .string()
  .regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}$/, 'must be a lowercase domain name like example.com');
const address = z.string().regex(/^[a-z0-9!#$%&'*+/=?^_`{|}~.-]+@[a-z0-9.-]+$/, 'must be a lowercase email address like info@example.com');
/** Where mail goes: an address (or several, comma-separated), ":fail: message", ":blackhole:", "|/path", or a system user. */
const target = z.string().trim().min(1, 'must not be empty');

const seedAccount = z.object({
  user: username,
  domain: domainName,
  owner: z.string().default('root'),
  email: address.nullable().default(null),
  plan: z.string().min(1).default('default'),
  suspended: z.boolean().default(false),
  suspendReason: z.string().nullable().default(null),
  suspendLocked: z.boolean().default(false),
  outgoingMailSuspended: z.boolean().default(false),
  outgoingMailHold: z.boolean().default(false),
  domains: z.array(z.object({ name: domainName, type: z.enum(['addon', 'parked', 'sub']) })).default([]),
  mailboxes: z.array(address).default([]),
  forwarders: z.array(z.object({ from: address, to: target })).default([]),
  domainForwarders: z.array(z.object({ domain: domainName, to: domainName })).default([]),
  defaultAddresses: z.array(z.object({ domain: domainName, to: target })).default([]),
  mx: z.array(z.object({ domain: domainName, host: z.string().regex(/^(\.|[a-z0-9.-]+)$/, 'must be a host name, or "." for a null MX'), priority: z.number().int().min(0).max(65535) })).default([]),
});

const seedServer = z.object({
  name: z.string().min(1),
  kind: z.enum(['shared', 'dedicated']).optional(),
  ip: z.string().default('192.0.2.10'),
  resellers: z.array(username).default([]),
  accounts: z.array(seedAccount),
});

export const seedFileSchema = z
  .object({
    version: z.literal(1),
    servers: z.array(seedServer).min(1, 'must list at least one server'),
  })
  .superRefine((seed, ctx) => {
    const issue = (path: Array<string | number>, message: string) => ctx.addIssue({ code: 'custom', path, message });
    const serverNames = new Set<string>();
    seed.servers.forEach((server, si) => {
      const sp = ['servers', si];
      if (serverNames.has(server.name)) issue([...sp, 'name'], `duplicate server name "${server.name}"`);
      serverNames.add(server.name);
      const resellers = new Set(server.resellers);
      const users = new Set<string>();
      const domainOwner = new Map<string, string>();
      server.accounts.forEach((acct, ai) => {
        const ap = [...sp, 'accounts', ai];
        if (users.has(acct.user)) issue([...ap, 'user'], `duplicate username "${acct.user}" on server "${server.name}"`);
        users.add(acct.user);
        if (acct.owner !== 'root' && !resellers.has(acct.owner)) issue([...ap, 'owner'], `owner "${acct.owner}" is neither "root" nor listed in servers[${si}].resellers`);
        if (acct.suspendReason !== null && !acct.suspended) issue([...ap, 'suspendReason'], 'a suspendReason needs "suspended": true');
        const own = new Set<string>();
        const claim = (domain: string, path: Array<string | number>) => {
          const holder = domainOwner.get(domain);
          if (holder !== undefined) issue(path, `domain "${domain}" already belongs to account "${holder}"`);
          domainOwner.set(domain, acct.user);
          own.add(domain);
        };
        claim(acct.domain, [...ap, 'domain']);
        acct.domains.forEach((d, di) => claim(d.name, [...ap, 'domains', di, 'name']));
        const mine = (domain: string, path: Array<string | number>) => {
          if (!own.has(domain)) issue(path, `"${domain}" is not a domain of account "${acct.user}"`);
        };
        acct.mailboxes.forEach((m, i) => mine(m.slice(m.lastIndexOf('@') + 1), [...ap, 'mailboxes', i]));
        acct.forwarders.forEach((f, i) => mine(f.from.slice(f.from.lastIndexOf('@') + 1), [...ap, 'forwarders', i, 'from']));
        acct.domainForwarders.forEach((f, i) => mine(f.domain, [...ap, 'domainForwarders', i, 'domain']));
        acct.defaultAddresses.forEach((d, i) => mine(d.domain, [...ap, 'defaultAddresses', i, 'domain']));
        acct.mx.forEach((m, i) => mine(m.domain, [...ap, 'mx', i, 'domain']));
      });
    });
  });

export type SeedFile = z.output<typeof seedFileSchema>;
export type SeedFileInput = z.input<typeof seedFileSchema>;
export type SeedServer = SeedFile['servers'][number];
export type SeedAccount = SeedServer['accounts'][number];

export interface SeedIssue {
  /** JSON path inside the seed, e.g. servers[0].accounts[3].owner */
  path: string;
  message: string;
}

export class SeedValidationError extends Error {
  constructor(
    readonly source: string,
    readonly issues: SeedIssue[],
  ) {
    super(`Invalid WHM simulator seed ${source}:\n${issues.map((i) => `  - ${i.path || '(root)'}: ${i.message}`).join('\n')}`);
    this.name = 'SeedValidationError';
  }
}

function jsonPath(path: ReadonlyArray<PropertyKey>): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('');
}

/** Validates a seed object; `source` names it in error messages (a file path or "demo seed"). */
export function parseSeed(input: unknown, source = 'seed'): SeedFile {
  const result = seedFileSchema.safeParse(input);
  if (!result.success) throw new SeedValidationError(source, result.error.issues.map((i) => ({ path: jsonPath(i.path), message: i.message })));
  return result.data;
}

/** Reads and validates a seed file. */
export function loadSeed(path: string): SeedFile {
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`Cannot read the WHM simulator seed ${path}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new SeedValidationError(path, [{ path: '', message: `not valid JSON: ${(err as Error).message}` }]);
  }
  return parseSeed(json, path);
}

/** The server named `name` in the seed (default: the first). */
export function seedServerNamed(seed: SeedFile, name?: string): SeedServer {
  if (!name) return seed.servers[0]!;
  const server = seed.servers.find((s) => s.name === name);
  if (!server) throw new Error(`The seed has no server named "${name}" (servers: ${seed.servers.map((s) => s.name).join(', ')})`);
  return server;
}
