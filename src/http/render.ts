import type { Request, Response } from 'express';
import type { Role } from '../tenancy/actor';
import { takeFlash } from './flash';
import { contextTitles, navigation, type NavItem } from './navigation';

export interface Crumb {
  label: string;
  href?: string;
}

export interface PageOptions {
  title: string;
  breadcrumbs?: Crumb[];
  primaryAction?: { label: string; href: string };
  status?: number;
  [key: string]: unknown;
}

function renderView(res: Response, view: string, locals: Record<string, unknown>): Promise<string> {
  return new Promise((resolve, reject) => {
    res.app.render(view, { ...res.locals, ...locals }, (err, html) => (err ? reject(err) : resolve(html)));
  });
}

/** Renders `views/<view>.ejs` inside the layout of the signed-in user's panel context. */
export async function renderPage(req: Request, res: Response, view: string, options: PageOptions): Promise<void> {
  const role: Role = req.user?.role ?? 'customer';
  const nav: NavItem[] = navigation[role];
  const locals = {
    ...options,
    user: req.user,
    context: role,
    contextTitle: contextTitles[role],
    nav,
    // The full path: inside the /admin, /reseller and /customer routers req.path has lost its mount point, so the side navigation never matched.
    currentPath: new URL(req.originalUrl, 'http://localhost').pathname,
    flash: takeFlash(req),
    // Inside cPanel/WHM (?embedded=1, or a session started by panel SSO from the embedded entry) the panel's own chrome is not repeated.
    embedded: req.query.embedded === '1' || req.session?.embedded === true,
    breadcrumbs: options.breadcrumbs ?? [],
  };
  const body = await renderView(res, view, locals);
  const html = await renderView(res, `layouts/${role}`, { ...locals, body });
  res.status(options.status ?? 200).type('html').send(html);
}

/** Pages outside the panel frame (sign-in, errors for anonymous visitors). */
export async function renderBare(req: Request, res: Response, view: string, options: PageOptions): Promise<void> {
  const locals = { ...options, flash: takeFlash(req) };
  const body = await renderView(res, view, locals);
  const html = await renderView(res, 'layouts/bare', { ...locals, body });
  res.status(options.status ?? 200).type('html').send(html);
}
