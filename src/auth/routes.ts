import { Router, type Request } from 'express';
import type { Authenticator } from './passport';
import { z } from 'zod';
import { clientIp } from '../http/requestContext';
import { flash } from '../http/flash';
import { homePaths } from '../http/navigation';
import { renderBare } from '../http/render';
import { RateLimitedError } from '../lib/errors';
import type { LoginRateLimiter } from './loginRateLimiter';
import type { User } from './userRepository';

const loginForm = z.object({
  login: z.string().trim().max(64).default(''),
  password: z.string().max(1024).default(''),
  next: z.string().max(500).optional(),
});

/** Only same-site paths inside the user's own context are followed after sign-in. */
function safeNext(next: string | undefined, user: User): string {
  const home = homePaths[user.role];
  if (next && next.startsWith(home) && !next.startsWith('//')) return next;
  return home;
}

function logIn(req: Request, user: User): Promise<void> {
  // passport >= 0.6 regenerates the session here, so a pre-login session id is never reused.
  return new Promise((resolve, reject) => req.login(user, (err) => (err ? reject(err) : resolve())));
}

function authenticate(passport: Authenticator, req: Request): Promise<User | false> {
  return new Promise((resolve, reject) => {
    passport.authenticate('local', { session: false }, (err: unknown, user: User | false) => (err ? reject(err) : resolve(user)))(req, req.res!, () => {});
  });
}

export function authRoutes(deps: { passport: Authenticator; rateLimiter: LoginRateLimiter }): Router {
  const router = Router();

  router.get('/', (req, res) => res.redirect(req.user ? homePaths[req.user.role] : '/login'));

  router.get('/login', async (req, res) => {
    if (req.user) return res.redirect(homePaths[req.user.role]);
    await renderBare(req, res, 'auth/login', { title: 'Sign in', login: '', next: typeof req.query.next === 'string' ? req.query.next : '' });
  });

  router.post('/login', async (req, res) => {
    const form = loginForm.parse(req.body ?? {});
    const ip = clientIp(req);
    const again = (status: number, error: string) => renderBare(req, res, 'auth/login', { title: 'Sign in', status, error, login: form.login, next: form.next ?? '' });
    if (!form.login || !form.password) return again(422, 'Enter your login and your password.');
    try {
      await deps.rateLimiter.assertAllowed(ip, form.login);
    } catch (err) {
      if (err instanceof RateLimitedError) {
        res.setHeader('Retry-After', String(err.retryAfterSeconds));
        return again(429, err.message);
      }
      throw err;
    }
    const user = await authenticate(deps.passport, req);
    if (!user) {
      await deps.rateLimiter.recordFailure(ip, form.login);
      return again(401, 'That login and password do not match an active user. Check both and try again.');
    }
    await deps.rateLimiter.recordSuccess(form.login);
    await logIn(req, user);
    res.redirect(safeNext(form.next, user));
  });

  router.post('/logout', (req, res, next) => {
    req.logout((err) => {
      if (err) return next(err);
      flash(req, 'success', 'You are signed out.');
      res.redirect('/login');
    });
  });

  return router;
}
