import type { DomainType, OutgoingMailState } from '../tenancy/types';

/** What the product needs from a hosting panel. WHM API 1 implements it today; other panels may later. */

export interface PanelAccount {
  /** Panel username, lowercased. */
  username: string;
  /** Main domain of the account. */
  domain: string;
  /** Owning reseller's username, or "root" when the provider owns it. */
  owner: string;
  contactEmail: string | null;
  plan: string | null;
  suspended: boolean;
  suspendReason: string | null;
  outgoingMail: OutgoingMailState;
}

export interface PanelDomain {
  domain: string;
  type: DomainType;
  /** Panel username of the owning account. */
  username: string;
}

export interface MailForwarder {
  /** The forwarded address, e.g. postmaster@example.com. */
  from: string;
  /** Where it goes: an address, ":fail: message", ":blackhole:" or "|/path/to/pipe". */
  to: string;
}

export interface MxRecord {
  host: string;
  priority: number;
}

/** Everything that decides where mail for one domain goes, as the panel has it configured. */
export interface DomainMailRoutes {
  domain: string;
  /** Full addresses of the domain's mailboxes, lowercased. */
  mailboxes: string[];
  forwarders: MailForwarder[];
  /** Domain-level forwarder target (all mail for the domain goes to another domain), if any. */
  domainForwarder: string | null;
  /** Catch-all: an address or username, ":fail: …", ":blackhole:" or a pipe; null when unset. */
  defaultAddress: string | null;
  mx: MxRecord[];
  /** How the panel routes the domain's mail (Email::list_mxs `mxcheck`): remote = another server takes it, so panel routes do not apply. */
  mxRouting: 'local' | 'remote' | 'secondary' | 'auto' | null;
}

export interface PanelAdapter {
  /** Every account the credentials can see, in one call. */
  listAccounts(): Promise<PanelAccount[]>;
  /** Every domain of every account (main, addon, parked, sub), in one call. */
  listDomains(): Promise<PanelDomain[]>;
  /** Usernames of reseller accounts. */
  listResellers(): Promise<string[]>;
  accountSummary(username: string): Promise<PanelAccount>;
  /** Mail routes of every domain of one account, read with a fixed number of calls per account. */
  mailRoutes(username: string): Promise<DomainMailRoutes[]>;
  createMailbox(username: string, address: string, password: string): Promise<void>;
  createForwarder(username: string, address: string, target: string): Promise<void>;
  suspendAccount(username: string, reason: string, opts?: { disallowResellerUnsuspend?: boolean }): Promise<void>;
  unsuspendAccount(username: string): Promise<void>;
  suspendOutgoingEmail(username: string): Promise<void>;
  unsuspendOutgoingEmail(username: string): Promise<void>;
  holdOutgoingEmail(username: string): Promise<void>;
  releaseOutgoingEmail(username: string): Promise<void>;
  /** Irreversible. */
  terminateAccount(username: string, opts?: { keepDns?: boolean }): Promise<void>;
  suspendReseller(username: string, reason: string): Promise<void>;
  unsuspendReseller(username: string): Promise<void>;
  /** A one-time URL that logs the admin into the account's cPanel ("log in as"). */
  createLoginUrl(username: string): Promise<string>;
}
