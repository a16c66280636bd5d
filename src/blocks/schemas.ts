import { z } from 'zod';
import { blockReasons, blockStatuses, maxTtlSeconds, minTtlSeconds, syncStates } from './types';

/** Empty form fields mean "not given". */
const optional = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === '' || v === null ? undefined : v), schema.optional());
const id = z.coerce.number({ message: 'expects a positive whole number' }).int('expects a positive whole number').positive('expects a positive whole number');

/** The durations the add form offers (the API and CLI take any TTL in range). */
export const ttlChoices = [
  { value: '3600', label: '1 hour' },
  { value: '21600', label: '6 hours' },
  { value: '86400', label: '1 day' },
  { value: '604800', label: '7 days' },
  { value: '2592000', label: '30 days' },
  { value: 'permanent', label: 'Permanent (until lifted)' },
] as const;

const reasonEnum = z.enum(blockReasons, { message: `expects one of ${blockReasons.join(', ')}` });
const ttlRange = `expects ${minTtlSeconds} seconds to ${maxTtlSeconds / 86_400} days`;
const ttlSeconds = z.coerce.number({ message: ttlRange }).int(ttlRange).min(minTtlSeconds, ttlRange).max(maxTtlSeconds, ttlRange);

export const blockListQuery = z.object({
  status: optional(z.enum(blockStatuses, { message: `expects one of ${blockStatuses.join(', ')}` })),
  reason: optional(reasonEnum),
  q: optional(z.string().trim().max(100, 'is too long (at most 100 characters)')).describe('An IP (finds the blocks of every network containing it), a network, or text in the address or reason'),
  server: optional(id).describe('Server id'),
  sync: optional(z.enum(syncStates, { message: `expects one of ${syncStates.join(', ')}` })).describe('Firewall sync state'),
  limit: optional(z.coerce.number().int().min(1, 'expects 1 to 200').max(200, 'expects 1 to 200')).describe('Page size (default 50, at most 200)'),
  cursor: optional(z.string().max(500)).describe('Opaque cursor from the previous page\'s nextCursor'),
});
export type BlockListQuery = z.infer<typeof blockListQuery>;

export const blockIdParam = z.object({ id });

/** The admin form: address, reason, text, a duration from ttlChoices or "permanent", an optional server. */
export const blockAddForm = z.object({
  // Not trimmed: the address is checked as typed (src/blocks/address.ts refuses spaces and anything else).
  address: z.string({ message: 'is required' }),
  reason: reasonEnum,
  reasonText: optional(z.string().trim().max(500, 'is too long (at most 500 characters)')),
  duration: z.union([z.literal('permanent'), ttlSeconds], { message: `expects a duration (${ttlRange}) or permanent` }),
  server: optional(id),
});

export const blockAddBody = z.object({
  address: z.string({ message: 'is required' }).describe('IPv4/IPv6 address or network (CIDR); stored in canonical form'),
  reason: reasonEnum.default('manual'),
  reasonText: optional(z.string().trim().max(500, 'is too long (at most 500 characters)')).describe('Why, in words (kept as the firewall comment)'),
  ttlSeconds: optional(ttlSeconds).describe(`Temporary block for this many seconds (${minTtlSeconds} to ${maxTtlSeconds}); omit with permanent: true`),
  permanent: optional(z.boolean({ message: 'expects true or false' })).describe('Block until lifted'),
  serverId: optional(id).describe('The server this block concerns (record only)'),
});

export const blockLiftBody = z.object({
  reason: z.string({ message: 'is required' }).describe('Why the block is lifted (at least 5 characters); kept with the block and in the audit log'),
});

/** "90", "30m", "12h", "7d", "2w" → seconds; null when it is none of those. */
export function parseDuration(text: string): number | null {
  const m = /^(\d{1,9})([smhdw]?)$/.exec(text.trim().toLowerCase());
  if (!m) return null;
  const factor = { '': 1, s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 }[m[2] as '' | 's' | 'm' | 'h' | 'd' | 'w'];
  return Number(m[1]) * factor;
}
