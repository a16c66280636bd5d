import type { RequestHandler } from 'express';
import type { UserService } from '../auth/userService';
import { AppError } from '../lib/errors';

/** API requests authenticate with `Authorization: Bearer <token>` only; cookies are never read here. */
export function bearerAuth(users: UserService): RequestHandler {
  return async (req, _res, next) => {
    const header = req.get('authorization') ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) return next(new AppError(401, 'unauthorized', 'Send an API token in the Authorization header: "Authorization: Bearer <token>".'));
    const user = await users.userForToken(match[1]!);
    if (!user) return next(new AppError(401, 'invalid_token', 'This API token is unknown or has been revoked. Create a new one under Settings → API tokens.'));
    req.user = user;
    next();
  };
}
