import { fromDbTime, toNumber, type Queryable } from '../db/dialect';
import { appealText, type NoticeSettings } from './noticeSettings';
import type { PlaceholderValues } from './templateRenderer';

/** The account a notice is about, with what its recipients and wording need. */
export interface NoticeAccount {
  id: number;
  username: string;
  contactEmail: string | null;
  serverName: string;
  strikes: number;
  mainDomain: string | null;
  /** The owning reseller; null when the provider owns the account directly. */
  owner: { id: number; username: string; contactEmail: string | null } | null;
}

export interface ComplaintLine {
  id: number;
  at: Date;
  /** null when the feedback provider redacted or hashed it. */
  recipient: string | null;
  domain: string | null;
  accountUsername: string | null;
}

/** Longest complaint list written into one notice; the rest are counted. */
export const maxComplaintLines = 50;

export async function loadNoticeAccount(db: Queryable, accountId: number): Promise<NoticeAccount | null> {
  const row = (await db('accounts as a')
    .join('servers as s', 's.id', 'a.server_id')
    .leftJoin('accounts as o', 'o.id', 'a.owner_account_id')
    .where('a.id', accountId)
    .select('a.id', 'a.username', 'a.contact_email', 'a.strikes', 's.name as server_name', 'o.id as owner_id', 'o.username as owner_username', 'o.contact_email as owner_email')
    .first()) as Record<string, unknown> | undefined;
  if (!row) return null;
  const main = (await db('domains').where({ account_id: accountId, type: 'main' }).orderBy('id').select('name').first()) as { name: string } | undefined;
  return {
    id: toNumber(row.id),
    username: String(row.username),
    contactEmail: row.contact_email ? String(row.contact_email) : null,
    serverName: String(row.server_name),
    strikes: toNumber(row.strikes),
    mainDomain: main?.name ?? null,
    owner: row.owner_id == null ? null : { id: toNumber(row.owner_id), username: String(row.owner_username), contactEmail: row.owner_email ? String(row.owner_email) : null },
  };
}

export async function loadComplaintLines(db: Queryable, ids: readonly number[]): Promise<ComplaintLine[]> {
  if (!ids.length) return [];
  const rows = (await db('complaints as c')
    .leftJoin('domains as d', 'd.id', 'c.domain_id')
    .leftJoin('accounts as a', 'a.id', 'c.account_id')
    .whereIn('c.id', [...new Set(ids)])
    .orderBy('c.id')
    .select('c.id', 'c.arrival_at', 'c.received_at', 'c.recipient', 'c.recipient_redaction', 'd.name as domain', 'a.username')) as Record<string, unknown>[];
  return rows.map((r) => ({
    id: toNumber(r.id),
    at: fromDbTime(r.arrival_at ?? r.received_at),
    recipient: r.recipient_redaction === 'none' && r.recipient ? String(r.recipient) : null,
    domain: r.domain ? String(r.domain) : null,
    accountUsername: r.username ? String(r.username) : null,
  }));
}

/** One line per complaint: "- 2026-11-20 · to victim@isp.example · complaint #12 · example.com". */
export function complaintList(lines: ComplaintLine[], noticeAccount: string): string {
  if (!lines.length) return '(no complaint is attached to this decision)';
  const shown = lines.slice(0, maxComplaintLines).map((c) => {
    const parts = [c.at.toISOString().slice(0, 10), `to ${c.recipient ?? 'redacted'}`, `complaint #${c.id}`];
    if (c.domain) parts.push(c.domain);
    // A reseller's notice lists its customers' complaints: name whose each one is.
    if (c.accountUsername && c.accountUsername !== noticeAccount) parts.push(`customer ${c.accountUsername}`);
    return `- ${parts.join(' · ')}`;
  });
  if (lines.length > maxComplaintLines) shown.push(`- and ${lines.length - maxComplaintLines} more`);
  return shown.join('\n');
}

/** The complaints' domains (up to five), else the account's main domain, else its username. */
export function domainOf(account: NoticeAccount, lines: ComplaintLine[]): string {
  const names = [...new Set(lines.filter((c) => c.accountUsername === null || c.accountUsername === account.username).map((c) => c.domain).filter((d): d is string => !!d))];
  if (names.length) return names.length > 5 ? `${names.slice(0, 5).join(', ')} and ${names.length - 5} more` : names.join(', ');
  return account.mainDomain ?? account.username;
}

export function placeholderValues(input: { account: NoticeAccount; complaints: ComplaintLine[]; reason: string; nextStep: string; settings: NoticeSettings; now: Date }): PlaceholderValues {
  const { account, settings } = input;
  return {
    account: account.username,
    domain: domainOf(account, input.complaints),
    reason: input.reason,
    complaints: complaintList(input.complaints, account.username),
    strikes: String(account.strikes),
    next_step: input.nextStep,
    appeal: appealText(settings, account.username),
    reseller: account.owner?.username ?? settings.providerName,
    provider: settings.providerName,
    abuse_address: settings.abuseAddress ?? '(the address this notice came from)',
    server: account.serverName,
    date: `${input.now.toISOString().slice(0, 10)} (UTC)`,
  };
}

/** What the template editor's preview shows: an invented customer with two complaints. */
export function sampleValues(settings: NoticeSettings, nextStep: string, now: Date): PlaceholderValues {
  const account: NoticeAccount = { id: 0, username: 'examplecust', contactEmail: 'owner@example.com', serverName: 'cp1.example.net', strikes: 1, mainDomain: 'example.com', owner: { id: 0, username: 'examplereseller', contactEmail: null } };
  const day = 86_400_000;
  const complaints: ComplaintLine[] = [
    { id: 101, at: new Date(now.getTime() - 3 * day), recipient: 'someone@isp.example', domain: 'example.com', accountUsername: 'examplecust' },
    { id: 102, at: new Date(now.getTime() - 2 * day), recipient: null, domain: 'example.com', accountUsername: 'examplecust' },
  ];
  return placeholderValues({ account, complaints, reason: 'Valid spam complaint: no consent record for the recipient.', nextStep, settings, now });
}
