import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import session from 'express-session';
import type { RequestHandler } from 'express';
import type { User as AppUser } from '../auth/userRepository';
import type { KnexSessionStore } from '../auth/sessionStore';

export interface Flash {
  kind: 'success' | 'danger' | 'warning' | 'info';
  message: string;
}

declare module 'express-session' {
  interface SessionData {
    csrfToken?: string;
    flash?: Flash[];
    /** A freshly created API token, shown once on the next page and then forgotten. */
    revealToken?: { id: number; token: string };
    /** Set by panel SSO (/sso?embedded=1): every page of this session renders without the app's top bar. */
    embedded?: boolean;
  }
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    // Passport's req.user is our user record.
    // eslint-disable-next-line @typescript-eslint/no-empty-object-type
    interface User extends AppUser {}
  }
}

export const sessionCookieName = 'antispam.sid';

/** The configured secret, or one generated once and kept in DATA_DIR so restarts keep sessions. */
export function resolveSessionSecret(configured: string | undefined, dataDir: string): string {
  if (configured) return configured;
  const file = path.join(dataDir, 'session-secret');
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    fs.mkdirSync(dataDir, { recursive: true });
    const secret = crypto.randomBytes(48).toString('base64url');
    fs.writeFileSync(file, secret, { mode: 0o600 });
    return secret;
  }
}

export function sessionMiddleware(opts: { store: KnexSessionStore; secret: string; ttlHours: number }): RequestHandler {
  return session({
    name: sessionCookieName,
    store: opts.store,
    secret: opts.secret,
    resave: false,
    saveUninitialized: false,
    rolling: true,
    cookie: {
      httpOnly: true,
      sameSite: 'lax',
      // Secure whenever the request arrived over TLS (directly or via a trusted proxy).
      secure: 'auto',
      maxAge: opts.ttlHours * 3600_000,
    },
  });
}
