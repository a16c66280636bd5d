import crypto from 'node:crypto';
import type { ParsedComplaint, ReportedRecipient } from './parse/index';

/**
 * The identity of one complaint, so the same spam reported twice (again by the same feedback loop, or
 * through another channel such as a forward to abuse@) is counted once: the original Message-ID plus
 * the recipient (a hashed recipient token is stable, so it serves as well). Without a recipient the
 * reporter and arrival time stand in (complaints-arf.md §3.3). Without an original Message-ID there is
 * no key: such reports are deduplicated only by identical bytes or report Message-ID.
 */
export function dedupKeyOf(report: ParsedComplaint, recipient: ReportedRecipient | null): string | null {
  const messageId = report.original.messageId?.trim().toLowerCase();
  if (!messageId) return null;
  const who =
    recipient && recipient.redaction !== 'redacted' && (recipient.address ?? recipient.raw)
      ? `rcpt:${(recipient.address ?? recipient.raw).toLowerCase()}`
      : `reporter:${(report.reporter.from ?? report.reporter.userAgent ?? '').toLowerCase()}|${report.arrivalDate?.toISOString() ?? ''}`;
  return crypto.createHash('sha256').update(`${messageId}\n${who}`).digest('hex');
}
