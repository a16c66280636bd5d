import fs from 'node:fs/promises';
import type { Knex } from 'knex';
import { auditRepository } from '../audit/auditRepository';
import { isUniqueViolation } from '../db/dialect';
import type { Clock } from '../lib/clock';
import { AppError } from '../lib/errors';
import { logger } from '../lib/logger';
import type { Role } from '../tenancy/actor';
import { unusablePasswordHash } from './password';
import { ssoRepository, type PanelAccountRef } from './ssoRepository';
import { secretFromFileContent, verifySsoToken, type SsoClaims, type SsoFailure } from './ssoToken';
import { userRepository, type User } from './userRepository';

export type SsoOutcome = { ok: true; user: User; claims: SsoClaims } | { ok: false; reason: SsoFailure; claims?: SsoClaims };

/** The secret file is configured but cannot be read now: the administrator's problem, not the visitor's. */
export class SsoUnavailableError extends AppError {
  constructor() {
    super(503, 'sso_unavailable', 'Single sign-on from the panel is configured, but this app cannot read its secret right now. Ask your hosting provider to check the installation; you can still sign in with a login and password.');
  }
}

/** Actor of audit entries written on the panel's word (the signed token), before any user is signed in. */
const panelActor = 'panel-sso';

/** What is wrong with this account for a sign-in in this role, if anything. */
function accountProblem(role: Exclude<Role, 'admin'>, account: PanelAccountRef | null): SsoFailure | null {
  if (!account) return 'unknown_account';
  if (role === 'reseller' && !account.isReseller) return 'not_reseller';
  if (account.status === 'terminated') return 'account_terminated';
  return null;
}

/**
 * Panel SSO: checks a token (ssoToken.ts), uses its nonce up, and maps the panel identity to a user.
 * The panel username is the login: an admin token for `root` is the admin user `root`; a reseller or
 * customer token is the user whose login is the panel username and who is linked to the account of
 * that name. A missing user is provisioned (no usable password); an existing one with another role or
 * account is refused, never changed.
 */
export class SsoService {
  constructor(
    private readonly db: Knex,
    private readonly clock: Clock,
    private readonly secretFile: string,
  ) {}

  private async secret(): Promise<string> {
    try {
      return secretFromFileContent(await fs.readFile(this.secretFile, 'utf8'));
    } catch (err) {
      logger.error('panel SSO secret file unreadable', { file: this.secretFile, error: (err as NodeJS.ErrnoException).code ?? String(err) });
      throw new SsoUnavailableError();
    }
  }

  /** Verifies the token, spends its nonce and resolves (or provisions) its user. */
  async signIn(token: string | undefined): Promise<SsoOutcome> {
    // Read on every sign-in, so a rotated secret takes effect without a restart.
    const secret = await this.secret();
    const checked = verifySsoToken(token, secret, this.clock.now());
    if (!checked.ok) return checked;
    const { claims } = checked;
    if (!(await ssoRepository.consumeNonce(this.db, claims.nonce, new Date(claims.exp * 1000), this.clock.now()))) {
      return { ok: false, reason: 'replayed', claims };
    }
    return this.userFor(claims);
  }

  private async userFor(claims: SsoClaims, retried = false): Promise<SsoOutcome> {
    const refuse = (reason: SsoFailure): SsoOutcome => ({ ok: false, reason, claims });
    const existing = await userRepository.findByLogin(this.db, claims.user);
    if (existing) {
      if (existing.role !== claims.role) return refuse('role_mismatch');
      if (claims.role !== 'admin') {
        if (existing.accountId === null || existing.accountUsername !== claims.user) return refuse('role_mismatch');
        const problem = accountProblem(claims.role, await ssoRepository.accountById(this.db, existing.accountId));
        if (problem) return refuse(problem);
      }
      if (existing.disabled) return refuse('user_disabled');
      return { ok: true, user: existing, claims };
    }

    let accountId: number | null = null;
    if (claims.role !== 'admin') {
      const accounts = await ssoRepository.accountsNamed(this.db, claims.user);
      if (accounts.length > 1) return refuse('ambiguous_account');
      const problem = accountProblem(claims.role, accounts[0] ?? null);
      if (problem) return refuse(problem);
      accountId = accounts[0]!.id;
    }
    try {
      const user = await this.provision(claims, accountId);
      return { ok: true, user, claims };
    } catch (err) {
      // Two first sign-ins of the same panel user at once: the other one created the user; use it.
      if (isUniqueViolation(err) && !retried) return this.userFor(claims, true);
      throw err;
    }
  }

  private async provision(claims: SsoClaims, accountId: number | null): Promise<User> {
    const id = await this.db.transaction(async (trx) => {
      const now = this.clock.now();
      const newId = await userRepository.insert(trx, { login: claims.user, role: claims.role, accountId, passwordHash: unusablePasswordHash }, now);
      await auditRepository.append(
        trx,
        { actorUserId: null, actorLogin: panelActor, action: 'user.provision_sso', subjectType: 'user', subjectId: newId, data: { login: claims.user, role: claims.role, accountId } },
        now,
      );
      return newId;
    });
    return (await userRepository.findById(this.db, id))!;
  }

  /** After the session started: last sign-in time and the audit entry. */
  async recordSignIn(user: User, ip: string, embedded: boolean): Promise<void> {
    const now = this.clock.now();
    await this.db.transaction(async (trx) => {
      await userRepository.recordLogin(trx, user.id, now);
      await auditRepository.append(trx, { actorUserId: user.id, actorLogin: user.login, action: 'user.sso_login', subjectType: 'user', subjectId: user.id, data: { role: user.role, embedded }, ip }, now);
    });
  }

  /**
   * A refused sign-in. Audited only when the panel really signed the token (claims present): forged or
   * damaged links are logged, so strangers cannot fill the audit log. Never the token itself.
   */
  async recordRefusal(reason: SsoFailure, claims: SsoClaims | undefined, ip: string): Promise<void> {
    if (!claims) {
      logger.warn('panel SSO link refused', { reason, ip });
      return;
    }
    const now = this.clock.now();
    await this.db.transaction((trx) =>
      auditRepository.append(trx, { actorUserId: null, actorLogin: panelActor, action: 'user.sso_refused', subjectType: 'user', data: { panelUser: claims.user, panelRole: claims.role, reason }, ip }, now),
    );
  }
}
