import { z } from 'zod';
import { pageQuery } from '../tenancy/schemas';
import { consentMethods, consentStatuses, revokeHows } from './types';

const optional = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === '' || v === null ? undefined : v), schema.optional());
const id = z.coerce.number().int().positive({ message: 'expects a positive whole number' });

const addressPattern = /^[^\s@<>(),;:"\[\]\\]+@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;

/** Trimmed and lowercased (compared case-insensitively); null when it is not a plausible address. */
export function normaliseEmail(input: string): string | null {
  let email = input.trim();
  // Only "<address>" needs unwrapping: the regex is skipped for the rest (a CSV import checks a million).
  if (email.charCodeAt(0) === 0x3c) email = email.replace(/^<(.*)>$/, '$1');
  email = email.toLowerCase();
  if (email.length > 254 || !addressPattern.test(email)) return null;
  // The local part (before the @) is at most 64 characters.
  return email.lastIndexOf('@') > 64 ? null : email;
}

export const emailField = z
  .string({ message: 'is required' })
  .trim()
  .min(1, 'is required')
  .transform((v, ctx) => {
    const email = normaliseEmail(v);
    if (!email) {
      ctx.addIssue({ code: 'custom', message: 'is not a valid email address (expected e.g. jane@example.com)' });
      return z.NEVER;
    }
    return email;
  });

export const listIdParam = z.object({ id });

export const listForm = z.object({
  name: z.string({ message: 'is required' }).trim().min(1, 'is required').max(191, 'is at most 191 characters'),
  domainId: z.coerce.number({ message: 'choose one of your domains' }).int().positive({ message: 'choose one of your domains' }),
  doubleOptIn: z.preprocess((v) => v === true || v === 'yes' || v === 'on' || v === '1', z.boolean()),
  text: z.string({ message: 'is required' }).trim().min(1, 'is required: the words your recipients agree to').max(20000, 'is at most 20,000 characters'),
});
export type ListForm = z.infer<typeof listForm>;

export const textForm = z.object({
  text: z.string({ message: 'is required' }).trim().min(1, 'is required: the words your recipients agree to').max(20000, 'is at most 20,000 characters'),
});

/** A date-time from a form (`2026-11-28T10:00`, taken as UTC) or ISO 8601 from the API. */
const dateTime = z.string().trim().transform((v, ctx) => {
  const iso = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(v) ? `${v}Z` : /^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T00:00:00Z` : v;
  const date = new Date(iso);
  if (Number.isNaN(date.getTime()) || !/^\d{4}-\d{2}-\d{2}/.test(v)) {
    ctx.addIssue({ code: 'custom', message: 'is not a date and time (expected e.g. 2026-11-28T10:00, UTC)' });
    return z.NEVER;
  }
  return date;
});

const ipField = z.string().trim().max(45, 'is at most 45 characters').regex(/^[0-9a-fA-F:.]+$/, 'is not an IP address');

export const recordForm = z.object({
  email: emailField,
  status: optional(z.enum(['pending', 'confirmed'], { message: 'expects pending or confirmed' })).default('pending'),
  method: optional(z.enum(consentMethods, { message: `expects one of ${consentMethods.join(', ')}` })).default('manual'),
  source: optional(z.string().trim().max(500, 'is at most 500 characters')),
  consentedAt: optional(dateTime),
  ip: optional(ipField),
  userAgent: optional(z.string().trim().max(500, 'is at most 500 characters')),
});
export type RecordForm = z.infer<typeof recordForm>;

export const confirmForm = z.object({
  method: z.enum(consentMethods, { message: `expects one of ${consentMethods.join(', ')}` }),
  source: optional(z.string().trim().max(500, 'is at most 500 characters')),
  consentedAt: optional(dateTime),
  ip: optional(ipField),
});
export type ConfirmForm = z.infer<typeof confirmForm>;

export const revokeForm = z.object({
  how: z.enum(revokeHows, { message: `expects one of ${revokeHows.join(', ')}` }),
});

export const recordQuerySchema = z.object({
  q: optional(z.string().trim().max(254)).describe('Search in the address'),
  status: optional(z.enum(consentStatuses, { message: `expects one of ${consentStatuses.join(', ')}` })),
  ...pageQuery,
});
export type RecordQuery = z.infer<typeof recordQuerySchema>;

export const listQuerySchema = z.object({ ...pageQuery });

export const checkBody = z.object({
  sender: z.string({ message: 'is required' }).trim().min(1, 'is required').max(253).describe('The sending domain, one of the caller\'s domains'),
  recipients: z.array(z.string().max(320)).max(100_000, 'at most 100,000 recipients per check').describe('Recipient addresses'),
});

export const checkForm = z.object({
  sender: z.string({ message: 'choose one of your domains' }).trim().min(1, 'choose one of your domains'),
  recipients: z.string().default(''),
});

/** Splits pasted text on newlines, commas and semicolons. */
export function splitRecipients(text: string): string[] {
  return text.split(/[\r\n,;]+/).map((s) => s.trim()).filter(Boolean);
}

/** POST /api/v1/consent/lists: the form's fields, with the sending domain given by id or by name. */
export const listBody = z
  .object({
    name: listForm.shape.name,
    domainId: optional(z.number({ message: 'expects a domain id (a whole number)' }).int().positive({ message: 'expects a domain id (a whole number)' })).describe('Id of one of the caller\'s domains (or give `domain`)'),
    domain: optional(z.string().trim().toLowerCase().max(253, 'is at most 253 characters')).describe('Name of one of the caller\'s domains (or give `domainId`)'),
    doubleOptIn: z.boolean({ message: 'expects true or false' }).default(false),
    text: listForm.shape.text.describe('The consent text recipients agree to (version 1)'),
  })
  .refine((b) => b.domainId !== undefined || b.domain !== undefined, { message: 'is required: give domainId or domain', path: ['domainId'] });

/** POST /api/v1/consent/lists/:id/records: the form's fields; the method defaults to `api`. */
export const recordBody = recordForm.extend({
  consentedAt: recordForm.shape.consentedAt.describe('When the recipient consented: ISO 8601 (UTC when no offset is given); required for a confirmed record'),
  method: optional(z.enum(consentMethods, { message: `expects one of ${consentMethods.join(', ')}` })).default('api').describe('How the consent was given (default api); manual is not evidence for a confirmed record'),
});

export const statsSorts = ['customer', 'lists', 'records', 'confirmed', 'share', 'pending', 'revoked', 'activity'] as const;
export const statsQuerySchema = z.object({
  q: optional(z.string().trim().max(100)).describe('Search in the account username'),
  sort: optional(z.enum(statsSorts, { message: `expects one of ${statsSorts.join(', ')}` })).describe('Sort column (default customer)'),
  dir: optional(z.enum(['asc', 'desc'], { message: 'expects asc or desc' })).describe('Sort direction (default asc for customer, desc otherwise)'),
  ...pageQuery,
});
export type StatsQuery = z.infer<typeof statsQuerySchema>;
