import { z } from 'zod';
import { accountStatuses, outgoingMailStates } from '../tenancy/types';

const emptyToUndefined = (v: unknown) => (v === '' ? undefined : v);

export const attentionQuery = z.object({
  q: z.preprocess(emptyToUndefined, z.string().trim().max(254).optional()),
  status: z.preprocess(emptyToUndefined, z.enum(accountStatuses, { message: 'expects active, suspended or terminated' }).optional()),
  mail: z.preprocess(emptyToUndefined, z.enum(outgoingMailStates, { message: 'expects active, hold or suspended' }).optional()),
  strikes: z.preprocess(emptyToUndefined, z.coerce.number({ message: 'expects a number of strikes' }).int('expects a whole number').min(1, 'expects 1 or more').max(1000).optional()),
  cursor: z.preprocess(emptyToUndefined, z.string().max(200).optional()),
});
export type AttentionQuery = z.infer<typeof attentionQuery>;

export const accountIdParam = z.object({ id: z.coerce.number({ message: 'expects an account number' }).int().positive() });
