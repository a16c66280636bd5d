import type { ConsentList } from '../types';

/**
 * The confirmation mail. Its wording is ours, not the customer's: it names the sender and the list and
 * carries nothing else of theirs, so the public form cannot be used to deliver marketing (or spam) to
 * addresses that never asked.
 */
export function confirmationMail(input: { list: ConsentList; url: string; expiresAt: Date; expiryHours: number }): { subject: string; text: string; headers: Record<string, string> } {
  const { list, url, expiresAt, expiryHours } = input;
  const listName = list.name.replace(/[\r\n]+/g, ' ').slice(0, 120);
  const subject = `Confirm your subscription to "${listName}" from ${list.domainName}`;
  const text = [
    'Hello,',
    '',
    `Someone, hopefully you, asked to receive mail from ${list.domainName} (list "${listName}") at this address.`,
    `To confirm, open this link and press "Confirm" within ${expiryHours} hours (until ${expiresAt.toISOString().replace('T', ' ').slice(0, 16)} UTC):`,
    '',
    url,
    '',
    'If you did not ask for this, ignore this message: you will not be added, and you will get no further mail about it.',
    '',
    `This message was sent on behalf of ${list.domainName} only to confirm the request. It contains no advertising.`,
  ].join('\n');
  // RFC 3834: an automatic message; auto-responders should not answer it.
  return { subject, text, headers: { 'Auto-Submitted': 'auto-generated' } };
}
