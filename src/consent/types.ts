export const consentStatuses = ['pending', 'confirmed', 'revoked'] as const;
export type ConsentStatus = (typeof consentStatuses)[number];
export const consentMethods = ['double_opt_in', 'web_form', 'import', 'manual', 'api', 'paper'] as const;
export type ConsentMethod = (typeof consentMethods)[number];
export const revokeHows = ['manual', 'unsubscribe', 'complaint'] as const;
export type RevokeHow = (typeof revokeHows)[number];

export interface ConsentList {
  id: number;
  accountId: number;
  accountUsername: string;
  domainId: number;
  domainName: string;
  name: string;
  doubleOptIn: boolean;
  textVersion: number;
  text: string;
  recordCount: number;
  confirmedCount: number;
  createdAt: Date;
  updatedAt: Date;
}

/** The evidence fields of a record: what a change writes. */
export interface RecordValues {
  status: ConsentStatus;
  method: ConsentMethod;
  source: string | null;
  consentTextVersion: number | null;
  ip: string | null;
  userAgent: string | null;
  consentedAt: Date | null;
  confirmedAt: Date | null;
  confirmedIp: string | null;
  revokedAt: Date | null;
  revokedHow: RevokeHow | null;
}

export interface ConsentRecord extends RecordValues {
  id: number;
  /** The `records_imported` chain event that created the record (CSV import), else null/absent. */
  importEventId?: number | null;
  listId: number;
  listName: string;
  accountId: number;
  domainName: string;
  email: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface ConsentEvent {
  id: number;
  accountId: number;
  seq: number;
  recordId: number | null;
  listId: number;
  type: string;
  at: Date;
  actor: string;
  data: Record<string, unknown> | null;
  hash: string;
}
