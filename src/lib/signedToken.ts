import crypto from 'node:crypto';

/**
 * Signed tokens carried in URLs (unsubscribe links, opt-in confirmations, panel SSO):
 *
 *   token = base64url(JSON body) "." base64url(HMAC-SHA256(key, base64url(JSON body)))
 *
 * The body is readable by whoever holds the token; the signature makes it unforgeable.
 */
export type TokenKey = Buffer | string;

const base64url = /^[A-Za-z0-9_-]+$/;
/** Far longer than any real token; anything bigger is not parsed at all. */
const maxTokenLength = 2048;

export function macOf(key: TokenKey, payload: string): Buffer {
  return crypto.createHmac('sha256', typeof key === 'string' ? Buffer.from(key, 'utf8') : key).update(payload, 'utf8').digest();
}

export function signToken(key: TokenKey, body: Record<string, unknown>): string {
  const payload = Buffer.from(JSON.stringify(body)).toString('base64url');
  return `${payload}.${macOf(key, payload).toString('base64url')}`;
}

export type TokenReading = { ok: true; body: Record<string, unknown> } | { ok: false; reason: 'malformed' | 'bad_signature' };

/** Checks form and signature (in constant time) and returns the JSON object the token carries. */
export function readToken(key: TokenKey, token: unknown): TokenReading {
  if (typeof token !== 'string' || token.length > maxTokenLength) return { ok: false, reason: 'malformed' };
  const parts = token.split('.');
  if (parts.length !== 2) return { ok: false, reason: 'malformed' };
  const [payload, signature] = parts as [string, string];
  if (!base64url.test(payload) || !base64url.test(signature)) return { ok: false, reason: 'malformed' };
  const given = Buffer.from(signature, 'base64url');
  const expected = macOf(key, payload);
  // Same length first (timingSafeEqual requires it); the length of a SHA-256 MAC is no secret.
  if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) return { ok: false, reason: 'bad_signature' };
  try {
    const parsed: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return { ok: false, reason: 'malformed' };
    return { ok: true, body: parsed as Record<string, unknown> };
  } catch {
    return { ok: false, reason: 'malformed' };
  }
}

/** A key for one purpose derived from a shared secret, so a token of one kind is never valid as another. */
export function deriveKey(secret: string, purpose: string): Buffer {
  return crypto.createHmac('sha256', secret).update(purpose).digest();
}
