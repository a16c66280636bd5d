export const accountStatuses = ['active', 'suspended', 'terminated'] as const;
export type AccountStatus = (typeof accountStatuses)[number];
export const outgoingMailStates = ['active', 'hold', 'suspended'] as const;
export type OutgoingMailState = (typeof outgoingMailStates)[number];
export const domainTypes = ['main', 'addon', 'parked', 'sub'] as const;
export type DomainType = (typeof domainTypes)[number];
export const serverKinds = ['shared', 'dedicated'] as const;
export type ServerKind = (typeof serverKinds)[number];

export interface Server {
  id: number;
  name: string;
  whmUrl: string;
  whmUser: string;
  kind: ServerKind;
  ownerAccountId: number | null;
  status: string;
  accountCount: number;
  createdAt: Date;
}

export interface Account {
  id: number;
  serverId: number;
  serverName: string;
  username: string;
  ownerAccountId: number | null;
  /** Panel username of the owning reseller; "root" when the provider owns the account directly. */
  ownerUsername: string;
  isReseller: boolean;
  contactEmail: string | null;
  plan: string | null;
  status: AccountStatus;
  outgoingMail: OutgoingMailState;
  strikes: number;
  domainCount: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface Domain {
  id: number;
  accountId: number;
  accountUsername: string;
  serverName: string;
  name: string;
  type: DomainType;
  mailHosted: boolean;
  createdAt: Date;
}
