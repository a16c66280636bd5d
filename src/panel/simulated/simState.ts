import type { SeedAccount, SeedServer } from './seedSchema';

export type SimDomainType = 'main' | 'addon' | 'parked' | 'sub';

export interface SimDomain {
  name: string;
  type: SimDomainType;
}

export interface SimForwarder {
  from: string;
  to: string;
}

export interface SimMx {
  host: string;
  priority: number;
}

export interface SimAccount {
  user: string;
  domain: string;
  owner: string;
  email: string | null;
  plan: string;
  suspended: boolean;
  suspendReason: string | null;
  /** Suspended with disallowun=1: only root may unsuspend. */
  suspendLocked: boolean;
  suspendTime: number | null;
  outgoingMailSuspended: boolean;
  outgoingMailHold: boolean;
  startTime: number;
  uid: number;
  /** Main domain first, then addon, parked and sub domains in seed order. */
  domains: SimDomain[];
  mailboxes: string[];
  forwarders: SimForwarder[];
  /** domain → destination domain */
  domainForwarders: Map<string, string>;
  /** domain → default address (unset = the cPanel default) */
  defaultAddresses: Map<string, string>;
  /** domain → MX entries (unset = the domain itself, priority 0) */
  mx: Map<string, SimMx[]>;
}

/** The catch-all a new cPanel domain gets when nothing else is configured. */
export const defaultCatchAll = ':fail: No Such User Here';

/** Start dates: 2024-01-01T00:00:00Z plus one day per account, so listaccts output is stable. */
const epoch = 1_704_067_200;

function fromSeed(a: SeedAccount, index: number): SimAccount {
  return {
    user: a.user,
    domain: a.domain,
    owner: a.owner,
    email: a.email,
    plan: a.plan,
    suspended: a.suspended,
    suspendReason: a.suspended ? (a.suspendReason ?? 'Unknown') : null,
    suspendLocked: a.suspended && a.suspendLocked,
    suspendTime: a.suspended ? epoch + index * 86_400 + 3600 : null,
    outgoingMailSuspended: a.outgoingMailSuspended,
    outgoingMailHold: a.outgoingMailHold,
    startTime: epoch + index * 86_400,
    uid: 1000 + index,
    domains: [{ name: a.domain, type: 'main' }, ...a.domains.map((d) => ({ name: d.name, type: d.type }))],
    mailboxes: [...a.mailboxes],
    forwarders: a.forwarders.map((f) => ({ ...f })),
    domainForwarders: new Map(a.domainForwarders.map((f) => [f.domain, f.to])),
    defaultAddresses: new Map(a.defaultAddresses.map((d) => [d.domain, d.to])),
    mx: a.mx.reduce((m, e) => m.set(e.domain, [...(m.get(e.domain) ?? []), { host: e.host, priority: e.priority }]), new Map<string, SimMx[]>()),
  };
}

/**
 * The in-memory state of one simulated WHM server. Handlers change it; tests read it
 * (`sim.state.account('bluefin')?.suspended`).
 */
export class SimState {
  readonly name: string;
  readonly ip: string;
  readonly resellers: Set<string>;
  private readonly accounts = new Map<string, SimAccount>();

  constructor(server: SeedServer) {
    this.name = server.name;
    this.ip = server.ip;
    this.resellers = new Set(server.resellers);
    server.accounts.forEach((a, i) => this.accounts.set(a.user, fromSeed(a, i)));
  }

  account(user: string): SimAccount | undefined {
    return this.accounts.get(user);
  }

  allAccounts(): SimAccount[] {
    return [...this.accounts.values()].sort((a, b) => a.user.localeCompare(b.user));
  }

  /** Accounts whose owner is `reseller` (direct ownership, as WHM records it). */
  ownedBy(reseller: string): SimAccount[] {
    return this.allAccounts().filter((a) => a.owner === reseller);
  }

  domainOwner(domain: string): SimAccount | undefined {
    for (const a of this.accounts.values()) if (a.domains.some((d) => d.name === domain)) return a;
    return undefined;
  }

  /** Removes the account and with it its domains and mail configuration. */
  remove(user: string): boolean {
    this.resellers.delete(user);
    return this.accounts.delete(user);
  }

  suspend(a: SimAccount, reason: string, locked: boolean, now: number): void {
    a.suspended = true;
    a.suspendReason = reason;
    a.suspendLocked = locked;
    a.suspendTime = now;
  }

  unsuspend(a: SimAccount): void {
    a.suspended = false;
    a.suspendReason = null;
    a.suspendLocked = false;
    a.suspendTime = null;
  }

  mxFor(a: SimAccount, domain: string): SimMx[] {
    return a.mx.get(domain) ?? [{ host: domain, priority: 0 }];
  }

  defaultAddressFor(a: SimAccount, domain: string): string {
    return a.defaultAddresses.get(domain) ?? defaultCatchAll;
  }
}
