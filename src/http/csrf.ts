import crypto from 'node:crypto';
import type { RequestHandler } from 'express';
import { CsrfError } from '../lib/errors';

const unsafeMethods = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Synchronizer token kept in the session; every HTML form posts it back as `_csrf`. */
export function ensureCsrfToken(session: { csrfToken?: string }): string {
  if (!session.csrfToken) session.csrfToken = crypto.randomBytes(24).toString('base64url');
  return session.csrfToken;
}

function matches(expected: string | undefined, given: unknown): boolean {
  if (!expected || typeof given !== 'string') return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

/**
 * For browser routes only; the JSON API authenticates with Bearer tokens and never reads cookies.
 * Views read `csrfToken` from res.locals, filled lazily so anonymous GETs create no session.
 */
export const csrfProtection: RequestHandler = (req, res, next) => {
  Object.defineProperty(res.locals, 'csrfToken', { get: () => ensureCsrfToken(req.session), configurable: true, enumerable: true });
  if (!unsafeMethods.has(req.method)) return next();
  // Multipart forms (file uploads) are streamed, not parsed up front: their form carries the token in its action URL (`?_csrf=`),
  // so it is checked here, before a byte of the file is read.
  const given = (req.body as Record<string, unknown> | undefined)?._csrf ?? req.get('x-csrf-token') ?? (req.is('multipart/form-data') ? req.query._csrf : undefined);
  if (!matches(req.session.csrfToken, given)) return next(new CsrfError());
  next();
};
