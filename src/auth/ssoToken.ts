import { readToken } from '../lib/signedToken';
import { isRole, type Role } from '../tenancy/actor';

/**
 * Panel SSO tokens, minted by the shims in plugin/ (plugin/whm/antispam.cgi, plugin/cpanel/index.live.pl):
 *
 *   <payload>.<sig>
 *   payload = base64url(JSON {"v":1,"user":"<panel user, lowercased>","role":"admin"|"reseller"|"customer",
 *                             "iat":<unix s>,"exp":<unix s>,"nonce":"<32 hex>"})   (no padding)
 *   sig     = base64url(HMAC-SHA256(secret, payload string))
 *
 * The secret is the content of the shared secret file with trailing whitespace removed (utf8 bytes).
 * This module checks the token itself; whether its nonce was used before and which user it maps to
 * are decided by the caller (ssoStrategy.ts, ssoService.ts).
 */

export interface SsoClaims {
  v: 1;
  user: string;
  role: Role;
  iat: number;
  exp: number;
  nonce: string;
}

/** Why a token is refused; each has a plain-words page in ssoRoutes.ts. */
export type SsoFailure =
  | 'missing'
  | 'malformed'
  | 'bad_signature'
  | 'unsupported_version'
  | 'invalid_role'
  | 'lifetime_too_long'
  | 'issued_in_future'
  | 'expired'
  | 'replayed'
  | 'unknown_account'
  | 'ambiguous_account'
  | 'not_reseller'
  | 'account_terminated'
  | 'role_mismatch'
  | 'user_disabled';

/** A token is valid for at most this long after it was issued. */
export const maxTokenLifetimeSeconds = 60;
/** How far the panel's clock may run ahead of ours. */
export const allowedClockSkewSeconds = 30;
const panelUser = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const nonceFormat = /^[0-9a-f]{32}$/;

export type VerifyResult = { ok: true; claims: SsoClaims } | { ok: false; reason: SsoFailure; claims?: SsoClaims };

/** Trailing whitespace (the newline an editor or `echo` leaves) is not part of the secret. */
export function secretFromFileContent(content: string): string {
  return content.replace(/\s+$/, '');
}

function isWholeNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/**
 * Checks form, signature (constant time), version, role and times. `claims` is returned with a refusal
 * only when the signature was valid, so callers may audit what the panel said without trusting forgeries.
 */
export function verifySsoToken(token: string | undefined, secret: string, now: Date): VerifyResult {
  if (!token) return { ok: false, reason: 'missing' };
  const reading = readToken(secret, token);
  if (!reading.ok) return { ok: false, reason: reading.reason };
  const body = reading.body;
  if (body.v !== 1) return { ok: false, reason: 'unsupported_version' };
  const { user, role, iat, exp, nonce } = body;
  if (typeof user !== 'string' || !panelUser.test(user)) return { ok: false, reason: 'malformed' };
  if (!isWholeNumber(iat) || !isWholeNumber(exp) || typeof nonce !== 'string' || !nonceFormat.test(nonce)) return { ok: false, reason: 'malformed' };
  if (typeof role !== 'string' || !isRole(role)) return { ok: false, reason: 'invalid_role' };

  const claims: SsoClaims = { v: 1, user, role, iat, exp, nonce };
  const nowSeconds = now.getTime() / 1000;
  if (exp <= iat) return { ok: false, reason: 'malformed', claims };
  if (exp - iat > maxTokenLifetimeSeconds) return { ok: false, reason: 'lifetime_too_long', claims };
  if (iat > nowSeconds + allowedClockSkewSeconds) return { ok: false, reason: 'issued_in_future', claims };
  if (exp <= nowSeconds) return { ok: false, reason: 'expired', claims };
  return { ok: true, claims };
}
