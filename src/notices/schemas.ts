import { z } from 'zod';
import { noticeKinds, noticeStatuses } from './kinds';

const emptyToUndefined = (v: unknown) => (v === '' ? undefined : v);
const emptyToNull = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? null : v);

export const noticeListQuery = z.object({
  kind: z.preprocess(emptyToUndefined, z.enum(noticeKinds, { message: `expects one of ${noticeKinds.join(', ')}` }).optional()),
  status: z.preprocess(emptyToUndefined, z.enum(noticeStatuses, { message: `expects one of ${noticeStatuses.join(', ')}` }).optional()),
  account: z.preprocess(emptyToUndefined, z.string().trim().toLowerCase().max(32, 'expects a panel username').optional()),
  cursor: z.preprocess(emptyToUndefined, z.string().max(200).optional()),
});
export type NoticeListQuery = z.infer<typeof noticeListQuery>;

export const noticeIdParam = z.object({ id: z.coerce.number({ message: 'expects a notice number' }).int().positive() });

export const noticeKindParam = z.object({ kind: z.enum(noticeKinds, { message: `expects one of ${noticeKinds.join(', ')}` }) });

/** The template editor posts both buttons through one form: preview re-renders, save stores. */
export const templateForm = z.object({
  subject: z.string({ message: 'is required' }),
  body: z.string({ message: 'is required' }),
  action: z.enum(['preview', 'save'], { message: 'expects preview or save' }).default('save'),
});

export const noticeSettingsForm = z.object({
  providerName: z.string({ message: 'is required' }).trim().min(1, 'is required: the name customers know you by').max(100, 'expects at most 100 characters'),
  abuseAddress: z.preprocess(emptyToNull, z.email({ message: 'expects an email address such as abuse@example.com' }).max(254).toLowerCase().nullable()),
  appealUrl: z.preprocess(
    emptyToNull,
    z
      .url({ message: 'expects an absolute address such as https://example.com/appeal' })
      .max(500)
      .refine((v) => /^https?:\/\//i.test(v), 'expects an http:// or https:// address')
      .nullable(),
  ),
});
