import { Router, type Request, type Response } from 'express';
import { clientIp } from '../http/requestContext';
import { homePaths } from '../http/navigation';
import { renderBare } from '../http/render';
import type { Authenticator } from './passport';
import type { SsoService } from './ssoService';
import { panelSsoStrategyName, type SsoChallenge } from './ssoStrategy';
import { allowedClockSkewSeconds, maxTokenLifetimeSeconds, type SsoClaims, type SsoFailure } from './ssoToken';
import type { User } from './userRepository';

const again = 'Open the plugin again from cPanel/WHM.';
const askProvider = 'Ask your hosting provider to check it.';

/** What each refusal tells the visitor, in plain words, with what to do next. */
const refusals: Record<SsoFailure, { title: string; message: (c?: SsoClaims) => string }> = {
  missing: { title: 'Sign-in link incomplete', message: () => `This address signs you in from cPanel/WHM, but the link carries no sign-in token. ${again}` },
  malformed: { title: 'Sign-in link damaged', message: () => `This sign-in link is damaged or incomplete, so it cannot be checked. ${again}` },
  bad_signature: {
    title: 'Sign-in link not accepted',
    message: () =>
      `This sign-in link is not signed with the secret this app shares with the panel, so it cannot be trusted. ${again} If it keeps happening, the server administrator should check that the panel plugin and the app use the same SSO secret file.`,
  },
  unsupported_version: {
    title: 'Sign-in link not understood',
    message: () => `This sign-in link comes from a version of the panel plugin this app does not understand. The server administrator should update the plugin and the app together.`,
  },
  invalid_role: { title: 'Sign-in link not accepted', message: () => `This sign-in link names a panel role this app does not know (only admin, reseller and customer exist). ${askProvider}` },
  lifetime_too_long: {
    title: 'Sign-in link not accepted',
    message: () => `This sign-in link claims to stay valid for longer than the ${maxTokenLifetimeSeconds} seconds allowed, so it was refused. ${again} If it keeps happening, the server administrator should check the panel plugin.`,
  },
  issued_in_future: {
    title: 'Clocks disagree',
    message: () =>
      `This sign-in link was issued in the future by this app's clock: the clocks of the panel server and of this app differ by more than ${allowedClockSkewSeconds} seconds. ${again} If it keeps happening, the server administrator should synchronise the clocks (NTP).`,
  },
  expired: {
    title: 'Sign-in link expired',
    message: () => `This sign-in link has expired. ${again} (Links work for one minute; if a fresh link expires too, the clocks of the panel server and of this app disagree.)`,
  },
  replayed: { title: 'Sign-in link already used', message: () => `This sign-in link was already used. Each link signs you in once; ${again.charAt(0).toLowerCase()}${again.slice(1)}` },
  unknown_account: {
    title: 'Account not known here',
    message: (c) => `This app does not know a panel account named "${c?.user}". If the account was created just now, try again after the next account sync; otherwise ${askProvider.charAt(0).toLowerCase()}${askProvider.slice(1)}`,
  },
  ambiguous_account: {
    title: 'Account not unique',
    message: (c) => `More than one server has a panel account named "${c?.user}", so this app cannot tell which one is yours. Ask your hosting provider to link your user to the right account.`,
  },
  not_reseller: { title: 'Not a reseller here', message: (c) => `The panel signed you in as reseller "${c?.user}", but that account is not a reseller in this app. ${askProvider}` },
  account_terminated: { title: 'Account terminated', message: (c) => `The account "${c?.user}" is terminated, so it cannot sign in here.` },
  role_mismatch: {
    title: 'User does not match the panel',
    message: (c) =>
      `A user named "${c?.user}" exists in this app with a different role or account than the panel reports (the panel says: ${c?.role}). Nothing was changed. Ask your hosting provider to correct the user.`,
  },
  user_disabled: { title: 'User disabled', message: (c) => `The user "${c?.user}" is disabled in this app. ${askProvider}` },
};

function authenticate(passport: Authenticator, req: Request, res: Response): Promise<{ user: User | false; challenge?: SsoChallenge }> {
  return new Promise((resolve, reject) => {
    passport.authenticate(panelSsoStrategyName, { session: false }, (err: unknown, user: User | false, challenge?: SsoChallenge) =>
      err ? reject(err) : resolve({ user, challenge }),
    )(req, res, () => {});
  });
}

function logIn(req: Request, user: User): Promise<void> {
  // Regenerates the session (as /login does): a session id from before the sign-in is never reused.
  return new Promise((resolve, reject) => req.login(user, (err) => (err ? reject(err) : resolve())));
}

function logOut(req: Request): Promise<void> {
  return new Promise((resolve, reject) => req.logout((err) => (err ? reject(err) : resolve())));
}

/**
 * GET /sso?token=<signed token>[&embedded=1]: the entry the panel shims in plugin/ redirect to.
 * Without PANEL_SSO_SECRET_FILE the route exists but answers 404 "not configured".
 */
export function ssoRoutes(deps: { passport: Authenticator; sso: SsoService | null }): Router {
  const router = Router();

  router.get('/sso', async (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    if (!deps.sso) {
      return renderBare(req, res, 'auth/sso', {
        title: 'Single sign-on is not configured',
        status: 404,
        code: 'sso_not_configured',
        requestId: req.id,
        message:
          'Signing in from cPanel/WHM is not set up on this server (PANEL_SSO_SECRET_FILE is not configured), so this link cannot sign you in. Sign in with your login and password, or ask your hosting provider to finish the panel installation.',
      });
    }
    const embedded = req.query.embedded === '1';
    const ip = clientIp(req);
    const { user, challenge } = await authenticate(deps.passport, req, res);
    if (!user) {
      const reason = challenge?.reason ?? 'malformed';
      await deps.sso.recordRefusal(reason, challenge?.claims, ip);
      // Whoever was signed in before in this browser is not who the panel is showing the app to now.
      if (req.user) await logOut(req);
      const refusal = refusals[reason];
      return renderBare(req, res, 'auth/sso', { title: refusal.title, status: 401, code: reason, requestId: req.id, message: refusal.message(challenge?.claims) });
    }
    await logIn(req, user);
    if (embedded) req.session.embedded = true;
    await deps.sso.recordSignIn(user, ip, embedded);
    res.redirect(`${homePaths[user.role]}${embedded ? '?embedded=1' : ''}`);
  });

  return router;
}
