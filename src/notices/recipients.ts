import type { NoticeKind } from './kinds';
import type { NoticeAccount } from './noticeFacts';

export interface NoticeRecipients {
  to: string | null;
  cc: string | null;
  /** Set when there is nobody to send to: the notice is stored as skipped with this text. */
  skipReason: string | null;
}

/**
 * The customer gets the notice and the owning reseller a copy, since the policy makes resellers
 * answer for their customers. No copy for a reseller's own warning, or when the provider owns the
 * account directly (the provider wrote the notice).
 */
export function recipientsFor(kind: NoticeKind, account: NoticeAccount): NoticeRecipients {
  const to = account.contactEmail;
  const ownerEmail = kind === 'reseller_warning' ? null : (account.owner?.contactEmail ?? null);
  const cc = ownerEmail && ownerEmail !== to ? ownerEmail : null;
  if (!to) {
    const copy = account.owner && kind !== 'reseller_warning' ? ` Its reseller ${account.owner.username} was not copied either.` : '';
    return { to: null, cc, skipReason: `${account.username} has no contact email address in the panel, so there is nobody to send this notice to.${copy} Add the address in the panel (the next account sync reads it), then send the notice again.` };
  }
  return { to, cc, skipReason: null };
}
