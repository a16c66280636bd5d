export const accountStatuses = ['active', 'suspended', 'terminated'] as const;
export type AccountStatus = (typeof accountStatuses)[number];
export const outgoingMailStates = ['active', 'hold', 'suspended'] as const;
export type OutgoingMailState = (typeof outgoingMailStates)[number];
export const domainTypes = ['main', 'addon', 'parked', 'sub'] as const;
export type DomainType = (typeof domainTypes)[number];
export const serverKinds = ['shared', 'dedicated'] as const;
export type ServerKind = (typeof serverKinds)[number];

export const serverSources = ['cli', 'env', 'simulated'] as const;
/** Where a server's configuration came from: the CLI, WHM_* variables, or the embedded simulator. */
export type ServerSource = (typeof serverSources)[number];

export interface Server {
  id: number;
  name: string;
  whmUrl: string;
  whmUser: string;
  /** Where the API token is kept ("file:<path>"), null for env/simulated servers whose token is in memory. */
  tokenRef: string | null;
  kind: ServerKind;
  ownerAccountId: number | null;
  status: string;
  source: ServerSource;
  tlsCa: string | null;
  tlsFingerprint: string | null;
  lastSyncAt: Date | null;
  lastSyncStatus: string | null;
  lastSyncError: string | null;
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
