import { z } from 'zod';
import { complaintStatuses, deskStatuses } from './types';
import { complaintSorts, decisionStatuses } from './complaintService';

const emptyToUndefined = (v: unknown) => (v === '' ? undefined : v);

export const complaintListQuery = z.object({
  status: z.preprocess(emptyToUndefined, z.enum(complaintStatuses).optional()),
  desk: z.preprocess(emptyToUndefined, z.enum(deskStatuses).optional()),
  q: z.preprocess(emptyToUndefined, z.string().trim().max(200).optional()),
  from: z.preprocess(emptyToUndefined, z.coerce.date({ message: 'expects a date (YYYY-MM-DD)' }).optional()),
  to: z.preprocess(emptyToUndefined, z.coerce.date({ message: 'expects a date (YYYY-MM-DD)' }).optional()),
  overdue: z.preprocess((v) => v === '1' || v === 'yes' || v === 'on', z.boolean()).optional(),
  customer: z.preprocess(emptyToUndefined, z.string().trim().max(32).optional()),
  domain: z.preprocess(emptyToUndefined, z.string().trim().max(191).optional()),
  sort: z.preprocess(emptyToUndefined, z.enum(complaintSorts).default('newest')),
  cursor: z.preprocess(emptyToUndefined, z.string().max(200).optional()),
});
export type ComplaintListQuery = z.infer<typeof complaintListQuery>;

export const complaintIdParam = z.object({ id: z.coerce.number({ message: 'expects a complaint number' }).int().positive() });

export const decisionForm = z.object({
  status: z.enum(decisionStatuses, { message: 'expects valid, invalid or not_complaint' }),
  reason: z.string().trim().min(10, 'is required: write why (at least 10 characters); the customer and reseller see it').max(2000),
});

export const assignForm = z.object({
  username: z.string().trim().min(1, 'is required: the account the complaint is about').max(32),
  domain: z.string().trim().max(191).optional(),
  reason: z.string().trim().min(10, 'is required: write how you know (at least 10 characters)').max(1000),
});

export const noteForm = z.object({ body: z.string().trim().min(2, 'is required').max(10_000) });

export const forwardForm = z.object({ message: z.string().trim().min(10, 'is required: tell the customer what you need from them (at least 10 characters)').max(10_000) });

export const deskForm = z.object({
  status: z.enum(['investigating', 'resolved'], { message: 'expects investigating or resolved' }),
  resolution: z.string().trim().max(2000).optional(),
});

export const evidenceForm = z.object({
  text: z.string().trim().max(10_000).default(''),
  consentRecordId: z.preprocess(emptyToUndefined, z.coerce.number({ message: 'expects a consent record number' }).int().positive().optional()),
});
