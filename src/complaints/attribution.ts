import type { AttributionLookup, HostedDomain } from './attributionLookup';
import type { ParsedComplaint } from './parse/index';
import type { AttributionLevel } from './types';

export interface Attribution {
  level: AttributionLevel;
  /** Every signal looked at, in order, so the decision page can show why. */
  reason: string;
  serverId: number | null;
  domainId: number | null;
  accountId: number | null;
  resellerAccountId: number | null;
  /** The name of the domain `domainId` points at (read with it, so judging needs no lookup of its own). */
  domainName: string | null;
}

interface Signal {
  /** The domain the signal names. */
  domain: string;
  level: Exclude<AttributionLevel, 'none'>;
  what: string;
}

const domainOf = (address: string | null): string | null => {
  if (!address) return null;
  const at = address.lastIndexOf('@');
  const domain = (at >= 0 ? address.slice(at + 1) : address).trim().toLowerCase().replace(/\.$/, '');
  return /^[a-z0-9.-]+\.[a-z0-9-]+$/.test(domain) ? domain : null;
};

/**
 * The signals naming a sending domain, strongest first (complaints-arf.md §1.6 and §5): the panel's
 * own headers naming the authenticated sender, then the DKIM signer, the envelope sender, the From
 * domain, and last Reported-Domain (which feedback loops often set to the receiving ISP's domain).
 */
function signalsOf(report: ParsedComplaint): Signal[] {
  const out: Signal[] = [];
  const add = (domain: string | null, level: Signal['level'], what: string) => {
    if (domain && !out.some((s) => s.domain === domain && s.level === level)) out.push({ domain, level, what });
  };
  const { antiAbuse } = report.original;
  add(domainOf(antiAbuse.authenticatedUser), 'high', `X-Get-Message-Sender-Via authenticated_id ${antiAbuse.authenticatedUser}`);
  add(domainOf(antiAbuse.authenticatedSender), 'high', `X-Authenticated-Sender ${antiAbuse.authenticatedSender}`);
  add(domainOf(antiAbuse.senderDomain), 'high', `X-AntiAbuse Sender Address Domain ${antiAbuse.senderDomain}`);
  for (const d of report.original.dkimDomains) add(domainOf(d), 'medium', `DKIM signature d=${d}`);
  add(domainOf(report.originalMailFrom), 'medium', `Original-Mail-From ${report.originalMailFrom}`);
  add(domainOf(report.original.returnPath), 'medium', `Return-Path ${report.original.returnPath}`);
  add(domainOf(report.original.from), 'low', `From ${report.original.from}`);
  for (const d of report.reportedDomains) add(domainOf(d), 'low', `Reported-Domain ${d}`);
  return out;
}

/** `name` and its parents that could be hosted, most specific first (mail.example.com → mail.example.com, example.com). */
function candidateNames(name: string): string[] {
  const labels = name.split('.');
  return labels.slice(0, -1).map((_, i) => labels.slice(i).join('.'));
}

/** The hosted domain for `name` or its closest parent we host (mail.example.com → example.com). */
function findHostedDomain(hosted: Map<string, HostedDomain>, name: string): HostedDomain | null {
  for (const candidate of candidateNames(name)) {
    const domain = hosted.get(candidate);
    if (domain) return domain;
  }
  return null;
}

/** Every name attributing `report` may look up: the signals' domains and their parents. */
const namesOf = (signals: readonly Signal[]): string[] => [...new Set(signals.flatMap((s) => candidateNames(s.domain)))];

/** Reads what attributing these reports needs in two queries (rather than two per report). */
export async function preloadAttribution(lookup: AttributionLookup, reports: readonly ParsedComplaint[]): Promise<void> {
  const ips = reports.flatMap((r) => (r.sourceIp ? [r.sourceIp] : []));
  await lookup.load(ips, reports.flatMap((r) => namesOf(signalsOf(r))));
}

const lower: Record<Exclude<AttributionLevel, 'none'>, AttributionLevel> = { high: 'medium', medium: 'low', low: 'low' };

/**
 * Source IP → server; sending-domain signals → domain → account → reseller. The source IP confirms or
 * weakens a domain match: mail that names one of our customers but came from an IP that is none of our
 * servers' may be forged (a "joe-job"), so its confidence drops a level. Without a domain match, an IP
 * of a dedicated server attributes to the server's owner.
 */
export async function attribute(lookup: AttributionLookup, report: ParsedComplaint): Promise<Attribution> {
  const notes: string[] = [];
  const server = report.sourceIp ? await lookup.serverOfIp(report.sourceIp) : null;
  if (report.sourceIp) notes.push(server ? `source IP ${report.sourceIp} is server ${server.name}` : `source IP ${report.sourceIp} is not one of our servers' mail IPs`);
  else notes.push('no source IP in the report');

  // The panel named the authenticated cPanel user itself (no @): the account on the sending server.
  const panelUser = report.original.antiAbuse.authenticatedUser;
  if (panelUser && !panelUser.includes('@') && server) {
    const account = await lookup.accountOnServer(server.id, panelUser.toLowerCase());
    if (account) {
      notes.push(`X-Get-Message-Sender-Via authenticated user ${panelUser} on ${server.name} → account ${account.username}`);
      return { level: 'high', reason: notes.join('; '), serverId: server.id, domainId: null, accountId: account.id, resellerAccountId: account.ownerAccountId, domainName: null };
    }
  }

  const signals = signalsOf(report);
  const hosted = await lookup.hostedDomains(namesOf(signals));
  for (const signal of signals) {
    const domain = findHostedDomain(hosted, signal.domain);
    if (!domain) {
      notes.push(`${signal.what}: not a domain we host`);
      continue;
    }
    const { account } = domain;
    let level: AttributionLevel = signal.level;
    notes.push(`${signal.what} → ${domain.name} (account ${account.username})`);
    if (report.sourceIp && !server) {
      level = lower[signal.level];
      notes.push('the mail may not have passed through our servers (possibly forged sender): confidence lowered');
    } else if (server && server.id !== account.serverId) {
      level = lower[signal.level];
      notes.push(`the account is on ${account.serverName}, not on ${server.name}: confidence lowered`);
    }
    return { level, reason: notes.join('; '), serverId: server?.id ?? account.serverId, domainId: domain.id, accountId: account.id, resellerAccountId: account.ownerAccountId, domainName: domain.name };
  }

  if (server?.kind === 'dedicated' && server.ownerAccountId !== null) {
    const owner = await lookup.accountById(server.ownerAccountId);
    if (owner) {
      notes.push(`dedicated server ${server.name} belongs to ${owner.username}`);
      return { level: 'medium', reason: notes.join('; '), serverId: server.id, domainId: null, accountId: owner.id, resellerAccountId: owner.ownerAccountId, domainName: null };
    }
  }
  notes.push('no signal names an account we host');
  return { level: 'none', reason: notes.join('; '), serverId: server?.id ?? null, domainId: null, accountId: null, resellerAccountId: null, domainName: null };
}
