import { z } from 'zod';
import { accountStatuses, domainTypes } from './types';

/** Empty form fields mean "no filter". */
const optional = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === '' || v === null ? undefined : v), schema.optional());
const id = z.coerce.number().int().positive({ message: 'expects a positive whole number' });

export const pageQuery = {
  limit: optional(z.coerce.number().int().min(1, 'expects 1 to 200').max(200, 'expects 1 to 200')).describe('Page size (default 50, at most 200)'),
  cursor: optional(z.string().max(500)).describe('Opaque cursor from the previous page\'s nextCursor'),
};

export const accountQuerySchema = z.object({
  q: optional(z.string().trim().max(100)).describe('Search in username and contact email'),
  status: optional(z.enum(accountStatuses, { message: `expects one of ${accountStatuses.join(', ')}` })),
  server: optional(id).describe('Server id'),
  owner: optional(id).describe('Owning reseller account id'),
  kind: optional(z.enum(['reseller', 'customer'], { message: 'expects reseller or customer' })).describe('Resellers or plain customer accounts'),
  ...pageQuery,
});
export type AccountQuery = z.infer<typeof accountQuerySchema>;

export const domainQuerySchema = z.object({
  q: optional(z.string().trim().max(191)).describe('Search in the domain name'),
  type: optional(z.enum(domainTypes, { message: `expects one of ${domainTypes.join(', ')}` })),
  account: optional(id).describe('Account id'),
  server: optional(id).describe('Server id'),
  mail: optional(z.enum(['yes', 'no'], { message: 'expects yes or no' })).describe('Only domains whose mail is (yes) or is not (no) hosted here'),
  ...pageQuery,
});
export type DomainQuery = z.infer<typeof domainQuerySchema>;

export const idParamSchema = z.object({ id });
