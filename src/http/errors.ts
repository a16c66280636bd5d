import type { ErrorRequestHandler, Request, RequestHandler } from 'express';
import { AppError, NotFoundError, RateLimitedError } from '../lib/errors';
import { logger } from '../lib/logger';
import { renderBare, renderPage } from './render';

function wantsJson(req: Request): boolean {
  return req.path.startsWith('/api/') || req.path.startsWith('/hooks/') || req.path === '/healthz' || (!req.accepts('html') && !!req.accepts('json'));
}

export const notFoundHandler: RequestHandler = (_req, _res, next) => next(new NotFoundError('This page'));

/** One place that turns any thrown error into a JSON body with a stable code or an HTML page. */
export const errorHandler: ErrorRequestHandler = async (err, req, res, _next) => {
  const known = err instanceof AppError;
  const bodyTooLarge = (err as { type?: string }).type === 'entity.too.large';
  const badJson = (err as { type?: string }).type === 'entity.parse.failed';
  const status = known ? err.status : bodyTooLarge ? 413 : badJson ? 400 : 500;
  const code = known ? err.code : bodyTooLarge ? 'payload_too_large' : badJson ? 'invalid_json' : 'internal_error';
  const message = known
    ? err.message
    : bodyTooLarge
      ? 'The request body is larger than this endpoint accepts.'
      : badJson
        ? 'The request body is not valid JSON.'
        : 'Something went wrong on our side. The error was logged; quote the request id when you report it.';
  if (status >= 500) logger.error('request failed', { requestId: req.id, method: req.method, path: req.originalUrl, error: String(err?.stack ?? err) });
  if (err instanceof RateLimitedError) res.setHeader('Retry-After', String(err.retryAfterSeconds));
  if (res.headersSent) return;
  if (wantsJson(req)) {
    res.status(status).json({ error: { code, message, ...(known && err.details ? { details: err.details } : {}), requestId: req.id } });
    return;
  }
  const options = { title: status === 404 ? 'Not found' : status === 403 ? 'Not allowed' : status === 429 ? 'Slow down' : 'Error', status, message, code, requestId: req.id };
  try {
    if (req.user) await renderPage(req, res, 'errors/error', options);
    else await renderBare(req, res, 'errors/error', options);
  } catch (renderErr) {
    logger.error('error page failed', { requestId: req.id, error: String(renderErr) });
    res.status(status).type('text').send(`${message} (request ${req.id})`);
  }
};
