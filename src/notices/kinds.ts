/** The notices the enforcement ladder sends; each has its own default wording (defaultTemplates.ts). */
export const noticeKinds = ['warning', 'termination_pending', 'terminated', 'unsuspended', 'reseller_warning', 'server_suspension', 'postmaster_failing'] as const;
export type NoticeKind = (typeof noticeKinds)[number];

export const noticeStatuses = ['pending', 'sent', 'captured', 'failed', 'skipped'] as const;
/**
 * - pending: stored with the decision, waiting for the sender (or its next retry)
 * - sent: the SMTP server accepted it; captured: stored in the outbox only (no SMTP_URL configured)
 * - failed: every attempt failed; an admin may send it again
 * - skipped: nobody to send it to (no contact address); the reason is in last_error
 */
export type NoticeStatus = (typeof noticeStatuses)[number];

/** What the admin pages call each kind, and when the ladder sends it. */
export const noticeKindInfo: Record<NoticeKind, { label: string; when: string }> = {
  warning: { label: 'Warning (strike 1)', when: 'The first valid complaint: the account or its outgoing mail is suspended with a warning.' },
  termination_pending: { label: 'Termination proposed (strike 2)', when: 'Spam again after a warning: termination is proposed and waits for an administrator’s approval.' },
  terminated: { label: 'Terminated', when: 'The account was terminated.' },
  unsuspended: { label: 'Suspension lifted', when: 'The customer removed the cause and the suspension was lifted.' },
  reseller_warning: { label: 'Reseller warning', when: 'Customers of a reseller collect strikes: the reseller is asked to act.' },
  server_suspension: { label: 'Server suspended', when: 'Spam continued on a dedicated server: the server is suspended.' },
  postmaster_failing: { label: 'postmaster@ missing', when: 'A domain of the account has no working postmaster@ address: the customer has a grace period to fix it before a strike is recorded.' },
};

export function isNoticeKind(value: string): value is NoticeKind {
  return (noticeKinds as readonly string[]).includes(value);
}
