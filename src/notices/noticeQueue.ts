import { isUniqueViolation, type Queryable } from '../db/dialect';
import { ValidationError, type FieldErrors } from '../lib/errors';
import { logger } from '../lib/logger';
import { defaultNextSteps } from './defaultTemplates';
import { isNoticeKind, type NoticeKind } from './kinds';
import { domainOf, loadComplaintLines, loadNoticeAccount, placeholderValues } from './noticeFacts';
import { noticeRepository } from './noticeRepository';
import { noticeSettingsRepository } from './noticeSettings';
import { recipientsFor } from './recipients';
import { renderTemplate, templateProblems } from './templateRenderer';
import { noticeTemplateRepository } from './templateRepository';

export type { NoticeKind } from './kinds';

export interface NoticeRequest {
  /** Unique per decision, e.g. "strike:17:warning"; enqueueing the same key twice is a no-op returning the first id. */
  key: string;
  kind: NoticeKind;
  /** The account the notice is about (for reseller_warning: the reseller's own account). */
  accountId: number;
  reason: string;
  complaintIds?: number[];
  nextStep?: string;
  createdBy: string;
}

function checkRequest(req: NoticeRequest): void {
  const errors: FieldErrors = {};
  if (typeof req.key !== 'string' || !req.key.trim() || req.key.length > 191) errors.key = 'expects a non-empty idempotency key of at most 191 characters, e.g. "strike:17:warning"';
  if (typeof req.kind !== 'string' || !isNoticeKind(req.kind)) errors.kind = `expects warning, termination_pending, terminated, unsuspended, reseller_warning or server_suspension (got ${String(req.kind)})`;
  if (!Number.isInteger(req.accountId) || req.accountId <= 0) errors.accountId = 'expects the id of an account';
  if (typeof req.reason !== 'string' || !req.reason.trim()) errors.reason = 'is required: the notice tells the customer why';
  if (req.complaintIds !== undefined && !req.complaintIds.every((id) => Number.isInteger(id) && id > 0)) errors.complaintIds = 'expects complaint ids (positive whole numbers)';
  if (typeof req.createdBy !== 'string' || !req.createdBy.trim()) errors.createdBy = 'is required: who decided (a login, or "system")';
  if (Object.keys(errors).length) throw new ValidationError(errors);
}

/**
 * Renders the (possibly edited) template now and stores a pending notice: to = the account's
 * contact_email, cc = its owning reseller's contact_email (none for reseller_warning or when the
 * owner is the provider). No address → status 'skipped' with the reason in last_error.
 *
 * Called inside the deciding transaction, so the notice exists exactly when the decision does; the
 * NoticeSender delivers it after the commit. Rendering now keeps the notice as the customer was
 * told it, even if the template or the account changes later.
 */
export async function enqueueNotice(trx: Queryable, req: NoticeRequest, now: Date): Promise<number> {
  checkRequest(req);
  const existing = await noticeRepository.idByKey(trx, req.key);
  if (existing !== null) return existing;

  const account = await loadNoticeAccount(trx, req.accountId);
  if (!account) throw new ValidationError({ accountId: `no account has id ${req.accountId}` });
  const [complaints, settings, template] = await Promise.all([loadComplaintLines(trx, req.complaintIds ?? []), noticeSettingsRepository.get(trx), noticeTemplateRepository.effective(trx, req.kind)]);
  const reason = req.reason.trim().slice(0, 1000);
  const nextStep = req.nextStep?.trim() || defaultNextSteps[req.kind];
  const values = placeholderValues({ account, complaints, reason, nextStep, settings, now });
  for (const problem of [...templateProblems(template.subject), ...templateProblems(template.body)]) logger.warn('notice template has a problem; rendered as is', { kind: req.kind, problem });
  const recipients = recipientsFor(req.kind, account);

  const notice = {
    key: req.key,
    kind: req.kind,
    accountId: account.id,
    to: recipients.to,
    cc: recipients.cc,
    // A subject is one line: a reason with a line break must not split the header.
    subject: renderTemplate(template.subject, values).replace(/\s+/g, ' ').trim().slice(0, 300),
    body: renderTemplate(template.body, values),
    reason,
    data: { complaintIds: complaints.map((c) => c.id), nextStep, domain: domainOf(account, complaints), strikes: account.strikes, ccAccount: recipients.cc ? (account.owner?.username ?? null) : null },
    status: recipients.skipReason ? ('skipped' as const) : ('pending' as const),
    lastError: recipients.skipReason,
    createdBy: req.createdBy.trim().slice(0, 64),
  };
  try {
    return await noticeRepository.insert(trx, notice, now);
  } catch (err) {
    // A concurrent decision with the same key committed first: it is the notice.
    if (!isUniqueViolation(err)) throw err;
    const id = await noticeRepository.idByKey(trx, req.key, true);
    if (id === null) throw err;
    return id;
  }
}
