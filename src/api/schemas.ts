import { z } from 'zod';

/** Shapes shared by every endpoint's response. */
export const errorResponse = z
  .object({
    error: z.object({
      code: z.string().describe('Stable machine-readable code, e.g. not_found, validation_failed, unauthorized, rate_limited'),
      message: z.string().describe('Human-readable explanation'),
      details: z.record(z.string(), z.unknown()).optional().describe('For validation_failed: { fields: { name: problem } }'),
      requestId: z.string(),
    }),
  });

export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({
    data: z.array(item),
    total: z.number().int().describe('Matching items across all pages'),
    nextCursor: z.string().nullable().describe('Pass as ?cursor= for the next page; null on the last page'),
  });
}

/** A service listing as the API's page shape. */
export function toPageJson<T, J>(listing: { items: T[]; total: number; nextCursor: string | null }, toJson: (item: T) => J) {
  return { data: listing.items.map(toJson), total: listing.total, nextCursor: listing.nextCursor };
}
