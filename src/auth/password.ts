import crypto from 'node:crypto';
import { promisify } from 'node:util';

const scrypt = promisify(crypto.scrypt) as (password: string, salt: Buffer, keylen: number, options: crypto.ScryptOptions) => Promise<Buffer>;
const params = { N: 16384, r: 8, p: 1 };
const keyLength = 64;

/** Stored as scrypt$N$r$p$salt$hash (base64) so parameters can be raised later. */
export async function hashPassword(password: string): Promise<string> {
  const salt = crypto.randomBytes(16);
  const hash = await scrypt(password, salt, keyLength, params);
  return ['scrypt', params.N, params.r, params.p, salt.toString('base64'), hash.toString('base64')].join('$');
}

/** Stored for users created by panel SSO: not a scrypt hash, so no password ever matches it. */
export const unusablePasswordHash = '!panel-sso-only';

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) {
    // Unusable (SSO-only) or unknown format: spend the same time as a real check, then refuse.
    await scrypt(password, Buffer.alloc(16), keyLength, params);
    return false;
  }
  const expected = Buffer.from(hash, 'base64');
  const actual = await scrypt(password, Buffer.from(salt, 'base64'), expected.length, { N: Number(n), r: Number(r), p: Number(p) });
  return crypto.timingSafeEqual(actual, expected);
}

/** A readable random password for demo and CLI-created users. */
export function randomPassword(): string {
  return crypto.randomBytes(12).toString('base64url');
}
