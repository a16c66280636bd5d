import { deriveKey, readToken, signToken } from '../../lib/signedToken';

/**
 * The link in a double opt-in mail names one confirmation request:
 *   token = signed {"c": confirmationId}   (src/lib/signedToken.ts)
 * Expiry is read from the request row, so an expired or superseded link is recognised and explained.
 */
export function deriveOptInKey(sessionSecret: string): Buffer {
  return deriveKey(sessionSecret, 'consent-double-opt-in');
}

export function signOptInToken(key: Buffer, confirmationId: number): string {
  return signToken(key, { c: confirmationId });
}

export function readOptInToken(key: Buffer, token: string): number | null {
  const reading = readToken(key, token);
  if (!reading.ok) return null;
  const { c } = reading.body;
  return typeof c === 'number' && Number.isSafeInteger(c) && c > 0 ? c : null;
}
