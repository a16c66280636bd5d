import type { Request } from 'express';

/** The current URL with some query parameters replaced (undefined removes one); used by pagers and filters. */
export function withQuery(req: Request, changes: Record<string, string | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(req.query)) if (typeof value === 'string' && value !== '') params.set(key, value);
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) params.delete(key);
    else params.set(key, value);
  }
  const qs = params.toString();
  return qs ? `${req.baseUrl}${req.path}?${qs}` : `${req.baseUrl}${req.path}`;
}
