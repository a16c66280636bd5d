import { replyText, type SmtpReply } from './smtpReply';
import type { SmtpResult } from './types';

/**
 * What a reply means for "does postmaster@ exist". The one rule that matters: only a permanent
 * (5xx) answer to RCPT TO that speaks about the address or mailbox is `missing`. Everything else —
 * 4xx, timeouts, refusals of *us* (blocklists, 5.7.x policy), protocol trouble — is not evidence that
 * the mailbox is missing, as rfc-ignorant.org practised and open-source verifiers learned the hard way.
 *
 * RCPT replies:
 *   2xx                                   → accepted
 *   4xx (greylisting, rate limits, …)     → temporary
 *   5xx naming a blocklist                → policy_block (checked first: "550 … listed at zen.spamhaus.org")
 *   5xx with enhanced 5.7.x               → policy_block (security/policy status, RFC 3463)
 *   5xx with enhanced 5.1.x or 5.2.x      → missing (address status, mailbox status: unknown user,
 *                                           disabled or full — either way postmaster@ cannot take mail)
 *   550 / 551 / 553 (no 5.7 code)         → missing (mailbox unavailable / not local / name not allowed;
 *                                           e.g. Microsoft's "550 5.4.1 Recipient address rejected")
 *   554 without an enhanced code          → policy_block ("transaction failed" is how filters refuse)
 *   other 5xx (500–504, 552, 554 x.y.z …) → unknown (syntax, sequence or limits: nothing about the mailbox)
 *   anything else                         → unknown
 */

// Word-bounded where the word is common English; "listed" alone is not enough: Lotus Domino's
// unknown-user reply is "User not listed in public Name & Address Book".
const BLOCKLIST =
  /spamhaus|spamcop|barracuda|sorbs|uceprotect|spamrats|abuseat|mailspike|senderscore|sender score|invaluement|\bpsbl\b|\bsurbl\b|dnsbl|\brbl\b|\bblacklist|\bblocklist|\bblack list|\bblock list|\bblocked\b|\bbanned\b|\breputation\b|listed (?:at|by|on)\b|listed in [a-z0-9-]+\.[a-z0-9.-]+/i;

export function mentionsBlocklist(text: string): boolean {
  return BLOCKLIST.test(text);
}

function isPolicy(reply: SmtpReply): boolean {
  return mentionsBlocklist(replyText(reply)) || (reply.enhanced?.startsWith('5.7.') ?? false);
}

export function classifyRcpt(reply: SmtpReply): SmtpResult {
  const { code, enhanced } = reply;
  if (code >= 200 && code < 300) return 'accepted';
  if (code >= 400 && code < 500) return 'temporary';
  if (code < 500 || code >= 600) return 'unknown';
  if (isPolicy(reply)) return 'policy_block';
  if (enhanced && (enhanced.startsWith('5.1.') || enhanced.startsWith('5.2.'))) return 'missing';
  if (code === 550 || code === 551 || code === 553) return 'missing';
  if (code === 554 && !enhanced) return 'policy_block';
  return 'unknown';
}

/**
 * A refusal before any RCPT (greeting, EHLO/HELO, MAIL FROM, RSET) says nothing about the address.
 * A 554 greeting is RFC 5321's "no SMTP service here", the one case where a server need not take
 * postmaster mail: unknown, unless it names a blocklist or a 5.7.x code (then it refuses us: policy).
 */
export function classifySessionReply(reply: SmtpReply): SmtpResult {
  if (reply.code >= 400 && reply.code < 500) return 'temporary';
  if (reply.code >= 500 && reply.code < 600 && isPolicy(reply)) return 'policy_block';
  return 'unknown';
}
