import { z } from 'zod';
import { fixModes } from './postmasterService';
import { postmasterSettingsSchema } from './settings';
import { verdictFilters, type StatusFilters } from './statusQueries';
import { settingsInputFromForm as formInput } from '../settings/settingsForm';

/** Empty form fields and query parameters mean "not given". */
const optional = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === '' || v === null ? undefined : v), schema.optional());
const positiveId = (what: string) => z.coerce.number({ message: `expects ${what}` }).int(`expects ${what}`).positive(`expects ${what}`);

export const statusListQuery = z.object({
  q: optional(z.string().trim().max(100)).describe('Part of the domain name or the username'),
  verdict: optional(z.enum(verdictFilters, { message: `expects one of ${verdictFilters.join(', ')}` })).describe('Only domains with this verdict; unchecked = never checked'),
  failing: optional(z.enum(['yes', 'no'], { message: 'expects yes or no' })).describe('yes: only missing, undeliverable and unread domains'),
  account: optional(positiveId('an account id')).describe('Only domains of this account (id)'),
  customer: optional(z.string().trim().max(64)).describe("Only domains of this account (username)"),
  cursor: optional(z.string().max(500)).describe("Opaque cursor from the previous page's nextCursor"),
});
export type StatusListQuery = z.infer<typeof statusListQuery>;

/** The API's list adds a page size; the pages always show 50. */
export const statusListApiQuery = statusListQuery.extend({
  limit: optional(z.coerce.number().int().min(1, 'expects 1 to 200').max(200, 'expects 1 to 200')).describe('Page size (default 50, at most 200)'),
});

export const filtersOf = (q: Omit<StatusListQuery, 'cursor'>): StatusFilters => ({ q: q.q, verdict: q.verdict, failing: q.failing === 'yes', accountId: q.account, customer: q.customer });

/** The filters as query parameters again (for links and the notify form's hidden fields). */
export function filterParams(q: Omit<StatusListQuery, 'cursor'>): Record<string, string> {
  const out: Record<string, string> = {};
  if (q.q) out.q = q.q;
  if (q.verdict) out.verdict = q.verdict;
  if (q.failing) out.failing = q.failing;
  if (q.account) out.account = String(q.account);
  if (q.customer) out.customer = q.customer;
  return out;
}

export const domainIdParam = z.object({ id: positiveId('a domain id') });

export const fixForm = z.object({
  mode: z.enum(fixModes, { message: 'expects forwarder or mailbox' }),
});

/**
 * Where a form sends the browser back to: a path inside `base` only (the list or a detail page),
 * never another site.
 */
export function safeBack(raw: unknown, base: string, fallback: string): string {
  if (typeof raw !== 'string' || raw.includes('//') || raw.includes('\\')) return fallback;
  const inside = raw === base || raw.startsWith(`${base}/`) || raw.startsWith(`${base}?`);
  return inside ? raw : fallback;
}

const settingsKeys = Object.keys(postmasterSettingsSchema.shape);
const checkboxKeys = new Set<string>(['escalationEnabled']);

/** The settings form as the service's input (see settingsInputFromForm in src/settings). */
export function settingsInputFromForm(raw: Record<string, unknown>): Record<string, unknown> {
  return formInput(settingsKeys, checkboxKeys, raw);
}
