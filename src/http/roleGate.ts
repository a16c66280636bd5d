import type { Request, RequestHandler } from 'express';
import { ForbiddenError } from '../lib/errors';
import { actorOf } from '../auth/userService';
import type { Actor, Role } from '../tenancy/actor';

/** Browser routes of one panel context: sign in first, then only that role may enter. */
export function requireRole(role: Role): RequestHandler {
  return (req, res, next) => {
    if (!req.user) {
      const target = req.originalUrl.startsWith('/') ? req.originalUrl : '/';
      return res.redirect(`/login?next=${encodeURIComponent(target)}`);
    }
    if (req.user.role !== role) return next(new ForbiddenError(`This area is for ${role}s. You are signed in as a ${req.user.role}.`));
    next();
  };
}

/** The actor of a request that passed requireRole or the API token check. */
export function actorFrom(req: Request): Actor {
  if (!req.user) throw new ForbiddenError();
  return actorOf(req.user);
}
