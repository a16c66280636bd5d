import { deriveKey, readToken, signToken } from '../lib/signedToken';
import { normaliseEmail } from './schemas';

/**
 * RFC 8058 unsubscribe tokens: the URI itself must name list and recipient and be hard to forge, because
 * the one-click POST carries no cookies or other context.
 *
 *   token = base64url(JSON {"l": listId, "e": email}) "." base64url(HMAC-SHA256(key, payload-part))
 *
 * where key = HMAC-SHA256(SESSION_SECRET, "consent-unsubscribe") (derived once in the container; a fleet
 * sharing SESSION_SECRET accepts each other's links). Tokens do not expire: an unsubscribe link in an old
 * message must keep working.
 */
export interface UnsubscribeTarget {
  listId: number;
  email: string;
}

export function deriveUnsubscribeKey(sessionSecret: string): Buffer {
  return deriveKey(sessionSecret, 'consent-unsubscribe');
}

export function signUnsubscribeToken(key: Buffer, target: UnsubscribeTarget): string {
  return signToken(key, { l: target.listId, e: target.email });
}

/** The list and address a token names, or null when it is malformed or its signature does not match. */
export function readUnsubscribeToken(key: Buffer, token: string): UnsubscribeTarget | null {
  const reading = readToken(key, token);
  if (!reading.ok) return null;
  const { l, e } = reading.body;
  if (typeof l !== 'number' || !Number.isSafeInteger(l) || l <= 0 || typeof e !== 'string') return null;
  const email = normaliseEmail(e);
  return email && email === e ? { listId: l, email } : null;
}

/** "ja***@example.com": enough for the recipient to recognise the address, not the whole of it. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  const local = email.slice(0, at);
  const shown = local.length <= 2 ? local.slice(0, 1) : local.slice(0, 2);
  return `${shown}${'*'.repeat(Math.max(3, local.length - shown.length))}${email.slice(at)}`;
}
