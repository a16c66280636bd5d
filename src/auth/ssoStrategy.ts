import type { Request } from 'express';
import { Strategy } from 'passport-strategy';
import type { SsoService } from './ssoService';
import type { SsoClaims, SsoFailure } from './ssoToken';

export const panelSsoStrategyName = 'panel-sso';

/** What the strategy hands to passport's callback when it refuses a token. */
export interface SsoChallenge {
  reason: SsoFailure;
  /** Present only when the token's signature was valid. */
  claims?: SsoClaims;
}

/**
 * Passport strategy for panel SSO: the only input it reads is the signed `token` query parameter
 * (nothing else from the browser is trusted). Success carries the user; failure an SsoChallenge, 401.
 */
export class PanelSsoStrategy extends Strategy {
  readonly name = panelSsoStrategyName;

  constructor(private readonly sso: SsoService) {
    super();
  }

  override authenticate(req: Request): void {
    const token = typeof req.query.token === 'string' ? req.query.token : undefined;
    this.sso.signIn(token).then(
      (outcome) => {
        if (outcome.ok) this.success(outcome.user, { claims: outcome.claims });
        else this.fail({ reason: outcome.reason, claims: outcome.claims } satisfies SsoChallenge, 401);
      },
      (err: unknown) => this.error(err as Error),
    );
  }
}
