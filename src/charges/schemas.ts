import { z } from 'zod';
import { billingStatuses, chargeStatuses } from './chargeRepository';
import { chargeDecisions, minReasonLength } from './chargeService';

const emptyToUndefined = (v: unknown) => (v === '' ? undefined : v);
const date = z.preprocess(emptyToUndefined, z.coerce.date({ message: 'expects a date (YYYY-MM-DD)' }).optional());

export const chargeListQuery = z.object({
  status: z.preprocess(emptyToUndefined, z.enum(chargeStatuses, { message: 'expects proposed, approved, waived or disputed' }).optional()),
  account: z.preprocess(emptyToUndefined, z.string().trim().toLowerCase().max(32).optional()),
  reseller: z.preprocess(emptyToUndefined, z.string().trim().toLowerCase().max(32).optional()),
  from: date,
  to: date,
  billing: z.preprocess(emptyToUndefined, z.enum([...billingStatuses, 'none'], { message: 'expects none, sending, sent, failed or unknown' }).optional()),
  cursor: z.preprocess(emptyToUndefined, z.string().max(200).optional()),
});
export type ChargeListQuery = z.infer<typeof chargeListQuery>;

export const chargeIdParam = z.object({ id: z.coerce.number({ message: 'expects a charge number' }).int().positive() });

export const chargeDecisionForm = z.object({
  status: z.enum(chargeDecisions, { message: 'expects approved, waived or disputed' }),
  reason: z.string({ message: 'is required' }).trim().min(minReasonLength, `is required: write why (at least ${minReasonLength} characters); it is kept with the charge and in the audit log`).max(2000),
});

export const billingResolveForm = z.object({
  billableId: z.preprocess(emptyToUndefined, z.string().trim().regex(/^\d{1,20}$/, 'expects the numeric id of the billable item in WHMCS').optional()),
  note: z.string({ message: 'is required' }).trim().min(10, 'is required: say what you found in WHMCS (at least 10 characters)').max(1000),
});
