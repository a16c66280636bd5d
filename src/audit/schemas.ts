import { z } from 'zod';
import type { AuditFilters } from './auditRepository';

/** Empty form fields mean "no filter". */
const optional = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === '' || v === null ? undefined : v), schema.optional());

/** A UTC date (YYYY-MM-DD, midnight) or date-time (ISO 8601); a string in the OpenAPI document. */
const instant = z
  .string()
  .trim()
  .regex(/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:?\d{2})?)?$/, 'expects a date (YYYY-MM-DD) or an ISO 8601 time')
  .transform((s, ctx) => {
    // A time without a zone is UTC, as every time in the product is.
    const date = new Date(/[T ]/.test(s) && !/(Z|[+-]\d{2}:?\d{2})$/.test(s) ? `${s.replace(' ', 'T')}Z` : s.replace(' ', 'T'));
    if (Number.isNaN(date.getTime())) {
      ctx.addIssue({ code: 'custom', message: 'expects a real date (YYYY-MM-DD)' });
      return z.NEVER;
    }
    return date;
  });

/** The filters of the admin page, its CSV and GET /api/v1/audit (one schema, so they cannot drift apart). */
export const auditFilterShape = {
  action: optional(z.string().trim().max(64)).describe('Action, or its beginning: "user." matches user.create, user.login, …'),
  actor: optional(z.string().trim().toLowerCase().max(64)).describe('Login of whoever acted (exact): a user, "system" (CLI and jobs) or "panel-sso"'),
  subjectType: optional(z.string().trim().max(32)).describe('What the action was about, e.g. user, api_token, charge, complaint, server'),
  subjectId: optional(z.string().trim().max(64)).describe('Its id (with subjectType)'),
  from: optional(instant).describe('At or after this UTC date or time'),
  to: optional(instant).describe('Before this UTC date or time'),
};

export const auditPageQuery = z.object({
  ...auditFilterShape,
  cursor: optional(z.string().max(500)).describe('Opaque cursor from the previous page\'s nextCursor'),
});
export type AuditPageQuery = z.infer<typeof auditPageQuery>;

export const auditSeqParam = z.object({ seq: z.coerce.number({ message: 'expects an entry number' }).int().positive({ message: 'expects an entry number' }) });

export function filtersOf(q: AuditFilters): AuditFilters {
  return { action: q.action, actor: q.actor, subjectType: q.subjectType, subjectId: q.subjectId, from: q.from, to: q.to };
}
