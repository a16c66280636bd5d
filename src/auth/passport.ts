import { Passport } from 'passport';

export type Authenticator = InstanceType<typeof Passport>;
import { Strategy as LocalStrategy } from 'passport-local';
import { clientIp } from '../http/requestContext';
import type { SsoService } from './ssoService';
import { PanelSsoStrategy } from './ssoStrategy';
import type { UserService } from './userService';

/** A passport instance of our own (not the module singleton) with the local strategy, and panel SSO when configured. */
export function createPassport(users: UserService, sso?: SsoService): Authenticator {
  const passport = new Passport();
  passport.use(
    new LocalStrategy({ usernameField: 'login', passwordField: 'password', passReqToCallback: true }, (req, login, password, done) => {
      // The address goes into the audit entry of an admin's or reseller's sign-in.
      users.authenticate(login, password, clientIp(req)).then((user) => done(null, user ?? false), done);
    }),
  );
  if (sso) passport.use(new PanelSsoStrategy(sso));
  passport.serializeUser((user, done) => done(null, user.id));
  passport.deserializeUser((id: number, done) => {
    users.findById(id).then((user) => done(null, user && !user.disabled ? user : false), done);
  });
  return passport;
}
