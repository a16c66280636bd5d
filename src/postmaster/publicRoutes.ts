import { Router, type Request, type Response } from 'express';
import { renderBare } from '../http/render';
import { logger } from '../lib/logger';
import type { ReadConfirmationService } from './readConfirmation';

/** Tokens are 24 random bytes in base64url (32 characters); anything else is not looked up at all. */
const tokenPattern = /^[A-Za-z0-9_-]{16,128}$/;

/**
 * The link in the verification mail to postmaster@domain, mounted before the session and CSRF
 * middleware (the link is the capability; whoever reads the mailbox has it):
 *
 *   GET  /postmaster/confirm/:token   shows the domain and a button; changes nothing (mail scanners fetch links)
 *   POST /postmaster/confirm/:token   records that postmaster@ is read; repeating it is harmless
 *
 * An unknown token says only "not valid": nothing about which domains exist.
 */
export function postmasterPublicRoutes(deps: { reads: ReadConfirmationService }): Router {
  const router = Router();
  const noStore = (res: Response) => res.set({ 'Cache-Control': 'no-store', 'X-Robots-Tag': 'noindex', 'Referrer-Policy': 'no-referrer' });
  const tokenOf = (req: Request) => String(req.params.token);

  const render = (req: Request, res: Response, locals: { state: 'ask' | 'already' | 'done' | 'invalid' | 'error'; domain?: string; confirmedAt?: Date | null }) => {
    const titles = { ask: 'Is postmaster@ read?', already: 'Already confirmed', done: 'Thank you', invalid: 'This link is not valid', error: 'Something went wrong' };
    const status = locals.state === 'invalid' ? 404 : locals.state === 'error' ? 500 : 200;
    return renderBare(req, res, 'postmaster/confirm', { title: titles[locals.state], status, domain: null, confirmedAt: null, action: `/postmaster/confirm/${encodeURIComponent(tokenOf(req))}`, ...locals });
  };

  const guarded = (handler: (req: Request, res: Response) => Promise<void>) => async (req: Request, res: Response) => {
    noStore(res);
    try {
      if (!tokenPattern.test(tokenOf(req))) return await render(req, res, { state: 'invalid' });
      await handler(req, res);
    } catch (err) {
      logger.error('postmaster confirmation page failed', { requestId: req.id, error: String((err as Error)?.stack ?? err) });
      await render(req, res, { state: 'error' });
    }
  };

  router.get(
    '/postmaster/confirm/:token',
    guarded(async (req, res) => {
      const found = await deps.reads.lookup(tokenOf(req));
      if (found.state !== 'valid') return render(req, res, { state: 'invalid' });
      await render(req, res, found.confirmedAt ? { state: 'already', domain: found.domain, confirmedAt: found.confirmedAt } : { state: 'ask', domain: found.domain });
    }),
  );

  router.post(
    '/postmaster/confirm/:token',
    guarded(async (req, res) => {
      // A second press (or a double click) says when it was confirmed; the first confirmation's time is kept.
      const before = await deps.reads.lookup(tokenOf(req));
      if (before.state === 'valid' && before.confirmedAt) return render(req, res, { state: 'already', domain: before.domain, confirmedAt: before.confirmedAt });
      const domain = await deps.reads.confirm(tokenOf(req), req.ip ?? null);
      await render(req, res, domain ? { state: 'done', domain } : { state: 'invalid' });
    }),
  );

  return router;
}
