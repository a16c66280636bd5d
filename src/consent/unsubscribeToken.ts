import crypto from 'node:crypto';
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

const keyLabel = 'consent-unsubscribe';

export function deriveUnsubscribeKey(sessionSecret: string): Buffer {
  return crypto.createHmac('sha256', sessionSecret).update(keyLabel).digest();
}

function mac(key: Buffer, payload: string): Buffer {
  return crypto.createHmac('sha256', key).update(payload).digest();
}

export function signUnsubscribeToken(key: Buffer, target: UnsubscribeTarget): string {
  const payload = Buffer.from(JSON.stringify({ l: target.listId, e: target.email })).toString('base64url');
  return `${payload}.${mac(key, payload).toString('base64url')}`;
}

const base64url = /^[A-Za-z0-9_-]+$/;

/** The list and address a token names, or null when it is malformed or its signature does not match (checked in constant time). */
export function readUnsubscribeToken(key: Buffer, token: string): UnsubscribeTarget | null {
  if (typeof token !== 'string' || token.length > 2048) return null;
  const dot = token.indexOf('.');
  if (dot <= 0 || dot !== token.lastIndexOf('.')) return null;
  const payload = token.slice(0, dot);
  const signature = token.slice(dot + 1);
  if (!base64url.test(payload) || !base64url.test(signature)) return null;
  const given = Buffer.from(signature, 'base64url');
  const expected = mac(key, payload);
  if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  const { l, e } = (parsed ?? {}) as { l?: unknown; e?: unknown };
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
