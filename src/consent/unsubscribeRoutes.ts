import express, { Router, type Request, type Response } from 'express';
import { renderBare } from '../http/render';
import { AppError } from '../lib/errors';
import { logger } from '../lib/logger';
import { maskEmail } from './unsubscribeToken';
import { oneClickBody, type UnsubscribeService } from './unsubscribeService';

/**
 * Public unsubscribe links, mounted before the session and CSRF middleware: RFC 8058 mail clients POST
 * without cookies, and the token in the path is the capability. Nothing here reads or creates a session.
 *
 *   GET  /u/:token  the manual page (changes nothing, so link scanners that prefetch do no harm)
 *   POST /u/:token  one-click: body `List-Unsubscribe=One-Click` (urlencoded or multipart; an empty
 *                   body is tolerated); 200, never a redirect; repeating it is harmless
 */
export function unsubscribeRoutes(deps: { unsubscribe: UnsubscribeService }): Router {
  const router = Router();

  const noStore = (res: Response) => res.set({ 'Cache-Control': 'no-store', 'X-Robots-Tag': 'noindex' });
  const wantsHtml = (req: Request) => (req.get('accept') ?? '').includes('text/html');

  const fail = async (req: Request, res: Response, err: unknown) => {
    if (!(err instanceof AppError) || err.status >= 500) {
      logger.error('unsubscribe failed', { requestId: req.id, error: String((err as Error)?.stack ?? err) });
    }
    const status = err instanceof AppError && err.status < 500 ? err.status : 500;
    const message = err instanceof AppError && err.status < 500 ? err.message : 'Something went wrong on our side; the unsubscribe was not recorded. Please try again later.';
    if (req.method === 'GET' || wantsHtml(req)) {
      await renderBare(req, res, 'consent/unsubscribe', { title: 'Unsubscribe', status, message, done: null, page: null });
    } else {
      res.status(status).type('text/plain').send(`${message}\n`);
    }
  };

  router.get('/u/:token', async (req, res) => {
    noStore(res);
    try {
      const { target, list } = await deps.unsubscribe.resolve(req.params.token);
      await renderBare(req, res, 'consent/unsubscribe', {
        title: 'Unsubscribe',
        message: null,
        done: null,
        page: { listName: list.name, domainName: list.domainName, masked: maskEmail(target.email), action: `/u/${req.params.token}` },
      });
    } catch (err) {
      await fail(req, res, err);
    }
  });

  router.post(
    '/u/:token',
    express.urlencoded({ extended: false, limit: '16kb' }),
    express.raw({ type: 'multipart/form-data', limit: '16kb' }),
    async (req, res) => {
      noStore(res);
      try {
        if (!isOneClick(req.body)) throw new AppError(400, 'not_one_click', `The request body must be ${oneClickBody} (RFC 8058).`);
        const outcome = await deps.unsubscribe.unsubscribe(req.params.token, { ip: req.ip ?? null, userAgent: req.get('user-agent') ?? null });
        const masked = maskEmail(outcome.email);
        const text = outcome.changed
          ? `Unsubscribed: ${masked} will get no more mail from "${outcome.list.name}" (${outcome.list.domainName}).`
          : `Already unsubscribed: ${masked} gets no mail from "${outcome.list.name}" (${outcome.list.domainName}).`;
        if (wantsHtml(req)) await renderBare(req, res, 'consent/unsubscribe', { title: 'Unsubscribed', message: null, done: text, page: null });
        else res.status(200).type('text/plain').send(`${text}\n`);
      } catch (err) {
        await fail(req, res, err);
      }
    },
  );

  return router;
}

/** True for `List-Unsubscribe=One-Click` (urlencoded object or multipart bytes) and for an empty body. */
export function isOneClick(body: unknown): boolean {
  if (Buffer.isBuffer(body)) {
    const text = body.toString('utf8');
    if (!text.trim()) return true;
    const part = /content-disposition:[^\r\n]*name="?List-Unsubscribe"?[^\r\n]*\r?\n(?:[^\r\n]+\r?\n)*\r?\n([^\r\n]*)\r?\n/i.exec(text);
    return !!part && part[1]!.trim() === 'One-Click';
  }
  if (!body || typeof body !== 'object') return true;
  const fields = body as Record<string, unknown>;
  if (!Object.keys(fields).length) return true;
  return fields['List-Unsubscribe'] === 'One-Click';
}
