import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { auditRepository } from '../audit/auditRepository';
import { isUniqueViolation } from '../db/dialect';
import type { Clock } from '../lib/clock';
import { ConflictError, NotFoundError, ValidationError } from '../lib/errors';
import { accountRepository } from '../tenancy/accountRepository';
import { isRole, systemActor, type Actor, type Role } from '../tenancy/actor';
import { apiTokenRepository, type ApiToken } from './apiTokenRepository';
import { hashPassword, verifyPassword } from './password';
import { userRepository, type User } from './userRepository';

export interface NewUserInput {
  login: string;
  role: string;
  accountUsername?: string;
  password: string;
  email?: string;
}

const tokenPrefix = 'asp_';

export function hashToken(token: string): string {
  return crypto.createHash('sha256').update(token).digest('hex');
}

export function actorOf(user: User): Actor {
  return { userId: user.id, login: user.login, role: user.role, accountId: user.accountId };
}

/** Users, passwords and API tokens: the rules around them, with an audit entry for each change. */
export class UserService {
  constructor(
    private readonly db: Knex,
    private readonly clock: Clock,
  ) {}

  /**
   * Returns the user when login and password match an enabled user; null otherwise. Sign-ins of admins
   * and resellers are audited (`user.login`), and so are refused ones naming such a user
   * (`user.login_failed`): the login rate limit caps those per login. Customers' sign-ins are not
   * audited (only their last sign-in time is kept), nor are attempts at logins that do not exist, which
   * anyone could send in any number.
   */
  async authenticate(login: string, password: string, ip: string | null = null): Promise<User | null> {
    const user = await userRepository.findByLogin(this.db, login);
    const hash = user ? await userRepository.passwordHashOf(this.db, user.id) : null;
    // Hash even for unknown logins so response time does not reveal which logins exist.
    const ok = await verifyPassword(password, hash ?? 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAA');
    if (!user) return null;
    const audited = user.role !== 'customer';
    const signedIn = ok && !user.disabled;
    if (!signedIn && !audited) return null;
    await this.db.transaction(async (trx) => {
      const now = this.clock.now();
      if (signedIn) await userRepository.recordLogin(trx, user.id, now);
      if (!audited) return;
      const entry = { actorUserId: user.id, actorLogin: user.login, subjectType: 'user', subjectId: user.id, ip };
      if (signedIn) await auditRepository.append(trx, { ...entry, action: 'user.login', data: { role: user.role, method: 'password' } }, now);
      else await auditRepository.append(trx, { ...entry, action: 'user.login_failed', data: { role: user.role, method: 'password', reason: ok ? 'user disabled' : 'wrong password' } }, now);
    });
    return signedIn ? user : null;
  }

  async findById(id: number): Promise<User | null> {
    return userRepository.findById(this.db, id);
  }

  async list(): Promise<User[]> {
    return userRepository.list(this.db);
  }

  async create(input: NewUserInput, by: Actor = systemActor): Promise<User> {
    const fields: Record<string, string> = {};
    const login = input.login.trim().toLowerCase();
    if (!/^[a-z0-9][a-z0-9._-]{1,63}$/.test(login)) fields.login = 'use 2-64 letters, digits, dots, dashes or underscores, starting with a letter or digit';
    if (!isRole(input.role)) fields.role = 'must be admin, reseller or customer';
    if (input.password.length < 8) fields.password = 'must be at least 8 characters';
    const role = input.role as Role;
    let accountId: number | null = null;
    if (isRole(input.role) && role !== 'admin') {
      if (!input.accountUsername) fields.account = `a ${role} must be linked to a panel account (--account <username>)`;
      else {
        const account = await accountRepository.findByUsername(this.db, systemActor, input.accountUsername);
        if (!account) fields.account = `no panel account named "${input.accountUsername}"`;
        else if (role === 'reseller' && !account.isReseller) fields.account = `"${account.username}" is not a reseller account`;
        else accountId = account.id;
      }
    }
    if (Object.keys(fields).length) throw new ValidationError(fields);
    const passwordHash = await hashPassword(input.password);
    try {
      const id = await this.db.transaction(async (trx) => {
        const now = this.clock.now();
        const newId = await userRepository.insert(trx, { login, role, accountId, passwordHash, email: input.email ?? null }, now);
        await auditRepository.append(trx, { actorUserId: by.userId, actorLogin: by.login, action: 'user.create', subjectType: 'user', subjectId: newId, data: { login, role } }, now);
        return newId;
      });
      return (await userRepository.findById(this.db, id))!;
    } catch (err) {
      if (isUniqueViolation(err)) throw new ConflictError(`A user with login "${login}" already exists.`, 'login');
      throw err;
    }
  }

  async setPassword(login: string, password: string, by: Actor = systemActor): Promise<void> {
    if (password.length < 8) throw new ValidationError({ password: 'must be at least 8 characters' });
    const user = await userRepository.findByLogin(this.db, login);
    if (!user) throw new NotFoundError(`User "${login}"`);
    const hash = await hashPassword(password);
    await this.db.transaction(async (trx) => {
      const now = this.clock.now();
      await userRepository.setPassword(trx, user.id, hash, now);
      await auditRepository.append(trx, { actorUserId: by.userId, actorLogin: by.login, action: 'user.password', subjectType: 'user', subjectId: user.id }, now);
    });
  }

  /** Creates an API token carrying the user's role and tenancy. The plain token exists only in the return value. */
  async issueToken(userId: number, name: string, ip: string | null = null): Promise<{ token: string; record: ApiToken }> {
    const cleanName = name.trim();
    if (!cleanName || cleanName.length > 100) throw new ValidationError({ name: 'give the token a name of 1-100 characters, e.g. "billing system"' });
    const user = await userRepository.findById(this.db, userId);
    if (!user) throw new NotFoundError('User');
    const token = tokenPrefix + crypto.randomBytes(32).toString('base64url');
    const id = await this.db.transaction(async (trx) => {
      const now = this.clock.now();
      const newId = await apiTokenRepository.insert(trx, { userId, name: cleanName, tokenHash: hashToken(token), prefix: token.slice(0, 10) }, now);
      await auditRepository.append(trx, { actorUserId: user.id, actorLogin: user.login, action: 'api_token.create', subjectType: 'api_token', subjectId: newId, data: { name: cleanName }, ip }, now);
      return newId;
    });
    return { token, record: (await apiTokenRepository.findForUser(this.db, userId, id))! };
  }

  async listTokens(userId: number): Promise<ApiToken[]> {
    return apiTokenRepository.listForUser(this.db, userId);
  }

  async findToken(userId: number, tokenId: number): Promise<ApiToken> {
    const token = await apiTokenRepository.findForUser(this.db, userId, tokenId);
    if (!token) throw new NotFoundError('API token');
    return token;
  }

  async revokeToken(actor: Actor, tokenId: number, ip: string | null = null): Promise<void> {
    if (actor.userId === null) throw new NotFoundError('API token');
    const userId = actor.userId;
    await this.db.transaction(async (trx) => {
      const now = this.clock.now();
      if (!(await apiTokenRepository.revoke(trx, userId, tokenId, now))) throw new NotFoundError('Active API token');
      await auditRepository.append(trx, { actorUserId: userId, actorLogin: actor.login, action: 'api_token.revoke', subjectType: 'api_token', subjectId: tokenId, ip }, now);
    });
  }

  /** Resolves a Bearer token to its user, or null when unknown, revoked or the user is disabled. */
  async userForToken(token: string): Promise<User | null> {
    if (!token.startsWith(tokenPrefix)) return null;
    const record = await apiTokenRepository.findActiveByHash(this.db, hashToken(token));
    if (!record) return null;
    const user = await userRepository.findById(this.db, record.userId);
    if (!user || user.disabled) return null;
    await apiTokenRepository.touch(this.db, record.id, this.clock.now());
    return user;
  }
}
