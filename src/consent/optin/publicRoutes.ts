import express, { Router, type Request, type Response } from 'express';
import { renderBare } from '../../http/render';
import { AppError, ValidationError } from '../../lib/errors';
import { logger } from '../../lib/logger';
import { maskEmail } from '../unsubscribeToken';
import type { OptInService } from './optInService';

/**
 * The public side of double opt-in, mounted before the session and CSRF middleware: the sign-up form
 * may be embedded in the customer's own site, and the confirmation link arrives in a mail.
 *
 *   GET  /subscribe/:id    the hosted sign-up form (404 unless the list has double opt-in on)
 *   POST /subscribe/:id    a sign-up: records a pending request and mails a confirmation link
 *   GET  /confirm/:token   the confirmation page (changes nothing: mail scanners prefetch links)
 *   POST /confirm/:token   the recipient confirms; repeating it is harmless
 *
 * Abuse is limited by database-backed rate limits (per IP, per address, per list), a honeypot field,
 * and a confirmation mail whose wording is ours alone.
 */
export function optInPublicRoutes(deps: { optIn: OptInService }): Router {
  const router = Router();
  const { optIn } = deps;
  const noStore = (res: Response) => res.set({ 'Cache-Control': 'no-store', 'X-Robots-Tag': 'noindex' });
  const origin = (req: Request) => `${req.protocol}://${req.get('host') ?? 'localhost'}`;
  const listId = (req: Request) => (/^\d{1,9}$/.test(String(req.params.id)) ? Number(req.params.id) : 0);

  const fail = async (req: Request, res: Response, title: string, err: unknown) => {
    if (!(err instanceof AppError) || err.status >= 500) logger.error('public opt-in page failed', { requestId: req.id, error: String((err as Error)?.stack ?? err) });
    const status = err instanceof AppError && err.status < 500 ? err.status : 500;
    const message = err instanceof AppError && err.status < 500 ? err.message : 'Something went wrong on our side; nothing was recorded. Please try again later.';
    if (err instanceof AppError && err.code === 'rate_limited') res.set('Retry-After', String(err.details?.retryAfterSeconds ?? 60));
    await renderBare(req, res, 'consent/optin-message', { title, status, message, done: null });
  };

  const showForm = async (req: Request, res: Response, id: number, email: string, errors: Record<string, string>, status = 200) => {
    const list = await optIn.publicList(id);
    await renderBare(req, res, 'consent/subscribe', { title: `Subscribe to ${list.name}`, list, action: `/subscribe/${list.id}`, email, errors, status });
  };

  router.get('/subscribe/:id', async (req, res) => {
    noStore(res);
    try {
      await showForm(req, res, listId(req), '', {});
    } catch (err) {
      await fail(req, res, 'Subscribe', err);
    }
  });

  router.post('/subscribe/:id', express.urlencoded({ extended: false, limit: '16kb' }), async (req, res) => {
    noStore(res);
    const fields = (req.body ?? {}) as Record<string, string>;
    const email = typeof fields.email === 'string' ? fields.email.slice(0, 320) : '';
    try {
      const id = listId(req);
      // A filled honeypot is a bot: answer as if all went well, record nothing.
      if (fields.website) {
        const list = await optIn.publicList(id);
        return await renderBare(req, res, 'consent/optin-message', { title: 'Check your inbox', message: null, done: sentText(list.domainName) });
      }
      const outcome = await optIn.subscribe(id, email, { ip: req.ip ?? null, userAgent: req.get('user-agent')?.slice(0, 500) ?? null, source: sourceOf(req, origin(req)) }, origin(req));
      if (outcome.outcome === 'mail_failed') {
        return await renderBare(req, res, 'consent/optin-message', { title: 'Not sent yet', status: 503, message: 'Your request was recorded, but the confirmation mail could not be sent right now. Please try again in a few minutes.', done: null });
      }
      await renderBare(req, res, 'consent/optin-message', { title: 'Check your inbox', message: null, done: sentText(outcome.list.domainName) });
    } catch (err) {
      if (err instanceof ValidationError) return showForm(req, res, listId(req), email, err.fields, 422).catch((e: unknown) => fail(req, res, 'Subscribe', e));
      await fail(req, res, 'Subscribe', err);
    }
  });

  const showConfirm = async (req: Request, res: Response, page: Awaited<ReturnType<OptInService['confirmPage']>>) =>
    renderBare(req, res, 'consent/confirm', { title: page.state === 'confirmed' ? 'Subscription confirmed' : 'Confirm your subscription', page, masked: maskEmail(page.email), action: `/confirm/${req.params.token}`, formUrl: `/subscribe/${page.list.id}`, status: page.state === 'expired' ? 410 : 200 });

  router.get('/confirm/:token', async (req, res) => {
    noStore(res);
    try {
      await showConfirm(req, res, await optIn.confirmPage(String(req.params.token)));
    } catch (err) {
      await fail(req, res, 'Confirm your subscription', err);
    }
  });

  router.post('/confirm/:token', async (req, res) => {
    noStore(res);
    try {
      await showConfirm(req, res, await optIn.confirm(String(req.params.token), { ip: req.ip ?? null, userAgent: req.get('user-agent') ?? null }));
    } catch (err) {
      await fail(req, res, 'Confirm your subscription', err);
    }
  });

  return router;
}

function sentText(domain: string): string {
  return `If this address can receive mail from ${domain}, a confirmation message is on its way. Open the link in it to confirm; until then you are not subscribed.`;
}

/** Where the form was: our hosted page, or the customer's page that embeds it (its address without the query). */
function sourceOf(req: Request, ownOrigin: string): string {
  const referer = req.get('referer');
  if (!referer) return 'sign-up form';
  try {
    const url = new URL(referer);
    if (url.origin === ownOrigin) return 'hosted sign-up form';
    return `sign-up form on ${url.origin}${url.pathname}`.slice(0, 500);
  } catch {
    return 'sign-up form';
  }
}
