import type { OutgoingMailState } from '../../tenancy/types';
import { domainTypes, type DomainType } from '../../tenancy/types';
import type { DomainMailRoutes, MailForwarder, PanelAccount, PanelDomain } from '../panelAdapter';

type Json = Record<string, unknown>;

/** The listaccts / accountsummary fields PanelAccount needs (the `want=` list). */
export const accountFields = ['user', 'domain', 'owner', 'email', 'plan', 'suspended', 'suspendreason', 'outgoing_mail_suspended', 'outgoing_mail_hold'] as const;

function str(v: unknown): string {
  return v === undefined || v === null ? '' : String(v).trim();
}

function flag(v: unknown): boolean {
  return v === true || Number(v) === 1;
}

/** WHM shows "*unknown*" when an account has no contact address. */
function contactEmail(v: unknown): string | null {
  const s = str(v);
  return s && s !== '*unknown*' && s.includes('@') ? s.toLowerCase() : null;
}

export function outgoingMailState(row: Json): OutgoingMailState {
  if (flag(row.outgoing_mail_suspended)) return 'suspended';
  if (flag(row.outgoing_mail_hold)) return 'hold';
  return 'active';
}

/** One `acct` object of listaccts or accountsummary. */
export function toPanelAccount(row: Json): PanelAccount {
  const suspended = flag(row.suspended);
  const reason = str(row.suspendreason);
  const plan = str(row.plan);
  return {
    username: str(row.user).toLowerCase(),
    domain: str(row.domain).toLowerCase(),
    owner: (str(row.owner) || 'root').toLowerCase(),
    contactEmail: contactEmail(row.email),
    plan: plan && plan !== 'undefined' ? plan : null,
    suspended,
    suspendReason: suspended && reason && reason !== 'not suspended' ? reason : null,
    outgoingMail: outgoingMailState(row),
  };
}

/** One `domains` object of get_domain_info; null for a type this product does not model. */
export function toPanelDomain(row: Json): PanelDomain | null {
  const type = str(row.domain_type).toLowerCase();
  if (!(domainTypes as readonly string[]).includes(type)) return null;
  return { domain: str(row.domain).toLowerCase(), type: type as DomainType, username: str(row.user).toLowerCase() };
}

function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1);
}

export interface RawMailConfig {
  /** Email::list_pops rows ({email, login, …}). */
  pops: Json[];
  /** Email::list_forwarders rows ({dest, forward, …}). */
  forwarders: Json[];
  /** Email::list_domain_forwarders rows ({dest, forward}). */
  domainForwarders: Json[];
  /** Email::list_default_address rows ({domain, defaultaddress}). */
  defaults: Json[];
  /** Email::list_mxs rows ({domain, entries: [{mx, priority}], …}). */
  mxs: Json[];
}

/** Domains the account's mail config mentions (list_mxs and list_default_address list every one). */
export function domainsIn(raw: Pick<RawMailConfig, 'defaults' | 'mxs'>): string[] {
  const set = new Set<string>();
  for (const r of [...raw.mxs, ...raw.defaults]) if (str(r.domain)) set.add(str(r.domain).toLowerCase());
  return [...set].sort();
}

/** Groups the five UAPI answers by domain: one DomainMailRoutes per domain of the account, sorted. */
export function toDomainMailRoutes(raw: RawMailConfig): DomainMailRoutes[] {
  const byDomain = new Map<string, DomainMailRoutes>();
  const entry = (domain: string): DomainMailRoutes => {
    let e = byDomain.get(domain);
    if (!e) {
      e = { domain, mailboxes: [], forwarders: [], domainForwarder: null, defaultAddress: null, mx: [], mxRouting: null };
      byDomain.set(domain, e);
    }
    return e;
  };
  for (const d of domainsIn(raw)) entry(d);
  for (const p of raw.pops) {
    const email = str(p.email).toLowerCase();
    if (!email.includes('@')) continue; // the account's system mailbox ("Main Account"/username)
    entry(domainOf(email)).mailboxes.push(email);
  }
  for (const f of raw.forwarders) {
    const from = str(f.dest).toLowerCase();
    const to = str(f.forward);
    if (!from || !to) continue;
    const fwd: MailForwarder = { from, to };
    entry(from.includes('@') ? domainOf(from) : from).forwarders.push(fwd);
  }
  for (const f of raw.domainForwarders) {
    const domain = str(f.dest).toLowerCase();
    if (domain) entry(domain).domainForwarder = str(f.forward).toLowerCase() || null;
  }
  for (const d of raw.defaults) {
    const domain = str(d.domain).toLowerCase();
    if (domain) entry(domain).defaultAddress = str(d.defaultaddress) || null;
  }
  for (const m of raw.mxs) {
    const domain = str(m.domain).toLowerCase();
    if (!domain) continue;
    const routing = str(m.mxcheck || m.detected).toLowerCase();
    if (routing === 'local' || routing === 'remote' || routing === 'secondary' || routing === 'auto') entry(domain).mxRouting = routing;
    const entries = Array.isArray(m.entries) ? (m.entries as Json[]) : [];
    entry(domain).mx = entries
      .map((e) => ({ host: str(e.mx).toLowerCase(), priority: Number(e.priority) }))
      .filter((e) => e.host && Number.isFinite(e.priority))
      .sort((a, b) => a.priority - b.priority || a.host.localeCompare(b.host));
  }
  const list = [...byDomain.values()].sort((a, b) => a.domain.localeCompare(b.domain));
  for (const e of list) {
    e.mailboxes.sort();
    e.forwarders.sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to));
  }
  return list;
}

/** Email::add_forwarder parameters for a MailForwarder target (address, ":fail: msg", ":blackhole:", "|pipe"). */
export function forwarderParams(target: string): Record<string, string> {
  const t = target.trim();
  if (t.startsWith(':fail:')) return { fwdopt: 'fail', failmsgs: t.slice(':fail:'.length).trim() || 'No such person at this address' };
  if (t === ':blackhole:') return { fwdopt: 'blackhole' };
  if (t.startsWith('|')) return { fwdopt: 'pipe', pipefwd: t.slice(1).trim() };
  return { fwdopt: 'fwd', fwdemail: t };
}
