import crypto from 'node:crypto';
import type session from 'express-session';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditRepository } from '../audit/auditRepository';
import { fromDbTime, toDbBool, toDbTime, toNumber } from '../db/dialect';
import { canonicalJson } from '../lib/hashChain';
import { ConflictError, NotFoundError, RateLimitedError, ValidationError } from '../lib/errors';
import { FixedClock } from '../lib/clock';
import { buildTenancy, testEpoch, type Tenancy } from '../testing/factories';
import { engines, migratedTestDb, type TestDb } from '../testing/testDb';
import { LoginRateLimiter } from './loginRateLimiter';
import { hashPassword, randomPassword, verifyPassword } from './password';
import { KnexSessionStore } from './sessionStore';
import { userRepository } from './userRepository';
import { actorOf, hashToken, UserService } from './userService';

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

describe('password hashing', () => {
  it('hashes with scrypt and a random salt, and verifies', async () => {
    const a = await hashPassword('s3cret-password');
    const b = await hashPassword('s3cret-password');
    expect(a).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain('s3cret-password');
    expect(await verifyPassword('s3cret-password', a)).toBe(true);
    expect(await verifyPassword('s3cret-password', b)).toBe(true);
    expect(await verifyPassword('s3cret-passwore', a)).toBe(false);
    expect(await verifyPassword('', a)).toBe(false);
  });

  it('refuses malformed or foreign hashes', async () => {
    expect(await verifyPassword('x', 'plaintext')).toBe(false);
    expect(await verifyPassword('x', 'bcrypt$10$abc$def')).toBe(false);
    expect(await verifyPassword('x', 'scrypt$16384$8$1$$')).toBe(false);
  });

  it('makes random passwords', () => {
    expect(randomPassword()).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(randomPassword()).not.toBe(randomPassword());
  });
});

describe.each(engines)('auth on %s', (engine) => {
  let t: TestDb;
  let f: Tenancy;
  let clock: FixedClock;
  let users: UserService;
  beforeAll(async () => {
    t = await migratedTestDb(engine);
    clock = new FixedClock(testEpoch);
    f = await buildTenancy(t.db, clock);
    users = new UserService(t.db, clock);
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  describe('UserService.create', () => {
    const base = { password: 'long-enough-pw' };

    it.each([
      ['a', 'login'],
      ['Bad Login', 'login'],
      ['-dash-first', 'login'],
      ['x'.repeat(65), 'login'],
    ])('rejects the login %j', async (login, field) => {
      const err = await rejection(users.create({ ...base, login, role: 'admin' }));
      expect(err).toBeInstanceOf(ValidationError);
      expect(Object.keys((err as ValidationError).fields)).toEqual([field]);
    });

    it('rejects an unknown role and a short password', async () => {
      const err = (await rejection(users.create({ login: 'newbie', role: 'superuser', password: 'short' }))) as ValidationError;
      expect(err).toBeInstanceOf(ValidationError);
      expect(err.fields).toEqual({ role: expect.stringContaining('admin, reseller or customer'), password: expect.stringContaining('8 characters') });
    });

    it('requires resellers and customers to be linked to an existing account', async () => {
      const missing = (await rejection(users.create({ ...base, login: 'newcust', role: 'customer' }))) as ValidationError;
      expect(missing).toBeInstanceOf(ValidationError);
      expect(missing.fields.account).toContain('must be linked to a panel account');
      const unknown = (await rejection(users.create({ ...base, login: 'newcust', role: 'customer', accountUsername: 'nosuchacct' }))) as ValidationError;
      expect(unknown.fields.account).toContain('no panel account named "nosuchacct"');
    });

    it('refuses to link a reseller user to a non-reseller account', async () => {
      const err = (await rejection(users.create({ ...base, login: 'fakereseller', role: 'reseller', accountUsername: 'custa1' }))) as ValidationError;
      expect(err).toBeInstanceOf(ValidationError);
      expect(err.fields.account).toContain('"custa1" is not a reseller account');
      expect(await userRepository.findByLogin(t.db, 'fakereseller')).toBeNull();
    });

    it('creates users, normalising login and linking the account, with an audit entry', async () => {
      const user = await users.create({ ...base, login: '  New.Reseller ', role: 'reseller', accountUsername: 'RESA2', email: 'New@Example.COM' }, f.actors.admin);
      expect(user).toMatchObject({ login: 'new.reseller', role: 'reseller', accountId: f.accounts.A2, accountUsername: 'resa2', email: 'new@example.com', disabled: false });
      const admin = await users.create({ ...base, login: 'second-admin', role: 'admin', accountUsername: 'resa' });
      expect(admin.accountId, 'admins are never linked to an account').toBeNull();
      const [latest, previous] = await auditRepository.recent(t.db, 2);
      expect(latest).toMatchObject({ action: 'user.create', actorLogin: 'system', subjectType: 'user', subjectId: String(admin.id), data: { login: 'second-admin', role: 'admin' } });
      expect(previous).toMatchObject({ action: 'user.create', actorLogin: 'admin', subjectId: String(user.id) });
    });

    it('answers a duplicate login, in any case, with a ConflictError', async () => {
      const err = await rejection(users.create({ ...base, login: 'CustomerA1', role: 'customer', accountUsername: 'custa1' }));
      expect(err).toBeInstanceOf(ConflictError);
      expect(err.message).toContain('"customera1" already exists');
      expect((err as ConflictError).details).toEqual({ field: 'login' });
    });
  });

  describe('authenticate', () => {
    it('returns the user for the right password, any login case, and records the login time', async () => {
      clock.advance(60_000);
      const user = await users.authenticate('ResellerA', f.password);
      expect(user?.id).toBe(f.users.resellerA);
      expect((await userRepository.findById(t.db, f.users.resellerA))?.lastLoginAt?.toISOString()).toBe(clock.now().toISOString());
      expect(actorOf(user!)).toEqual(f.actors.resellerA);
    });

    it('returns null for a wrong password, an unknown login or a disabled user', async () => {
      expect(await users.authenticate('reseller' + 'a', 'wrong password')).toBeNull();
      expect(await users.authenticate('nobody', f.password)).toBeNull();
      await t.db('users').where({ id: f.users.customerA2 }).update({ disabled: toDbBool(true) });
      expect(await users.authenticate('customera2', f.password)).toBeNull();
      expect((await userRepository.findById(t.db, f.users.customerA2))?.lastLoginAt).toBeNull();
    });

    it('accepts a new password after setPassword and rejects the old one', async () => {
      await users.setPassword('customerb1', 'brand-new-password', f.actors.admin);
      expect(await users.authenticate('customerb1', f.password)).toBeNull();
      expect((await users.authenticate('customerb1', 'brand-new-password'))?.id).toBe(f.users.customerB1);
      await expect(users.setPassword('customerb1', 'short')).rejects.toBeInstanceOf(ValidationError);
      await expect(users.setPassword('nobody', 'long-enough-pw')).rejects.toBeInstanceOf(NotFoundError);
    });
  });

  describe('API tokens', () => {
    it('issues a token that resolves to its user, storing only its hash', async () => {
      const { token, record } = await users.issueToken(f.users.customerA1, '  billing system ');
      expect(token).toMatch(/^asp_[A-Za-z0-9_-]{43}$/);
      expect(record).toMatchObject({ userId: f.users.customerA1, name: 'billing system', prefix: token.slice(0, 10), revokedAt: null });

      const rows = await t.db('api_tokens').where({ id: record.id });
      expect(rows).toHaveLength(1);
      expect(rows[0].token_hash).toBe(crypto.createHash('sha256').update(token).digest('hex'));
      expect(rows[0].token_hash).toBe(hashToken(token));
      const everything = JSON.stringify(await t.db('api_tokens').select('*'));
      expect(everything).not.toContain(token);
      expect(everything).not.toContain(token.slice(10));

      clock.advance(1000);
      const user = await users.userForToken(token);
      expect(user?.id).toBe(f.users.customerA1);
      expect((await users.findToken(f.users.customerA1, record.id)).lastUsedAt?.toISOString()).toBe(clock.now().toISOString());
    });

    it('resolves nothing for unknown, malformed or tampered tokens', async () => {
      const { token } = await users.issueToken(f.users.customerC, 'probe');
      expect(await users.userForToken('')).toBeNull();
      expect(await users.userForToken(token.slice(4))).toBeNull();
      expect(await users.userForToken(token + 'x')).toBeNull();
      expect(await users.userForToken('asp_' + 'A'.repeat(43))).toBeNull();
      expect(await users.userForToken(hashToken(token)), 'the stored hash is not a credential').toBeNull();
    });

    it('revokes a token so it no longer resolves', async () => {
      const { token, record } = await users.issueToken(f.users.resellerB, 'cron');
      expect((await users.userForToken(token))?.id).toBe(f.users.resellerB);
      await users.revokeToken(f.actors.resellerB, record.id, '192.0.2.1');
      expect(await users.userForToken(token)).toBeNull();
      expect((await users.findToken(f.users.resellerB, record.id)).revokedAt).not.toBeNull();
      await expect(users.revokeToken(f.actors.resellerB, record.id), 'already revoked').rejects.toBeInstanceOf(NotFoundError);
      const [entry] = await auditRepository.recent(t.db, 1);
      expect(entry, 'the failed second revoke wrote nothing').toMatchObject({ action: 'api_token.revoke', actorLogin: 'resellerb', subjectId: String(record.id) });
      const revokes = await t.db('audit_log').where({ action: 'api_token.revoke', subject_id: String(record.id) });
      expect(revokes).toHaveLength(1);
      expect(revokes[0].ip).toBe('192.0.2.1');
    });

    it("cannot revoke or read another user's token", async () => {
      const { token, record } = await users.issueToken(f.users.customerA3, 'mine');
      await expect(users.revokeToken(f.actors.customerA1, record.id)).rejects.toBeInstanceOf(NotFoundError);
      await expect(users.revokeToken(f.actors.admin, record.id)).rejects.toBeInstanceOf(NotFoundError);
      await expect(users.revokeToken({ userId: null, login: 'system', role: 'admin', accountId: null }, record.id)).rejects.toBeInstanceOf(NotFoundError);
      await expect(users.findToken(f.users.customerA1, record.id)).rejects.toBeInstanceOf(NotFoundError);
      expect((await users.userForToken(token))?.id, 'still valid for its owner').toBe(f.users.customerA3);
      expect((await users.listTokens(f.users.customerA1)).map((x) => x.id)).not.toContain(record.id);
    });

    it("stops resolving a disabled user's token", async () => {
      const { token } = await users.issueToken(f.users.customerC, 'to be disabled');
      expect(await users.userForToken(token)).not.toBeNull();
      await t.db('users').where({ id: f.users.customerC }).update({ disabled: toDbBool(true) });
      expect(await users.userForToken(token)).toBeNull();
    });

    it('requires a token name and an existing user', async () => {
      await expect(users.issueToken(f.users.admin, '   ')).rejects.toBeInstanceOf(ValidationError);
      await expect(users.issueToken(f.users.admin, 'x'.repeat(101))).rejects.toBeInstanceOf(ValidationError);
      await expect(users.issueToken(999_999, 'ghost')).rejects.toBeInstanceOf(NotFoundError);
    });
  });

  describe('LoginRateLimiter', () => {
    it('blocks after the maximum failures and unblocks once the window has passed', async () => {
      const limiterClock = new FixedClock(new Date('2026-12-01T08:00:00.000Z'));
      const limiter = new LoginRateLimiter(t.db, limiterClock, 3, 15);
      for (let i = 0; i < 3; i++) {
        await limiter.assertAllowed('198.51.100.7', 'victim');
        await limiter.recordFailure('198.51.100.7', 'Victim');
        limiterClock.advance(10_000);
      }
      const err = (await rejection(limiter.assertAllowed('198.51.100.7', 'victim'))) as RateLimitedError;
      expect(err).toBeInstanceOf(RateLimitedError);
      // The oldest failure was 30 s ago; it ages out 15 min after it happened.
      expect(err.retryAfterSeconds).toBe(15 * 60 - 30);
      expect(err.message).toContain('Wait 15 minutes');

      await expect(limiter.assertAllowed('203.0.113.9', 'VICTIM'), 'the login is blocked from any address').rejects.toBeInstanceOf(RateLimitedError);
      await expect(limiter.assertAllowed('198.51.100.7', 'someone-else'), 'the address is blocked for any login').rejects.toBeInstanceOf(RateLimitedError);
      await limiter.assertAllowed('203.0.113.9', 'someone-else');

      limiterClock.advance(err.retryAfterSeconds * 1000 - 1);
      await expect(limiter.assertAllowed('198.51.100.7', 'victim'), '1 ms early').rejects.toBeInstanceOf(RateLimitedError);
      limiterClock.advance(1);
      await limiter.assertAllowed('198.51.100.7', 'victim');
    });

    it('keeps counting failures by address after a successful sign-in clears the login', async () => {
      const limiterClock = new FixedClock(new Date('2026-12-02T08:00:00.000Z'));
      const limiter = new LoginRateLimiter(t.db, limiterClock, 2, 5);
      await limiter.recordFailure('192.0.2.50', 'user1');
      await limiter.recordFailure('192.0.2.50', 'user1');
      await limiter.recordSuccess('USER1');
      await limiter.assertAllowed('192.0.2.51', 'user1');
      await expect(limiter.assertAllowed('192.0.2.50', 'user2')).rejects.toBeInstanceOf(RateLimitedError);
    });

    it('forgets failures older than the window', async () => {
      const limiterClock = new FixedClock(new Date('2026-12-03T08:00:00.000Z'));
      const limiter = new LoginRateLimiter(t.db, limiterClock, 5, 1);
      await limiter.recordFailure('192.0.2.99', 'old');
      limiterClock.advance(61_000);
      await limiter.recordFailure('192.0.2.99', 'new');
      const keys = (await t.db('login_failures').where('key', 'like', '%old').orWhere('key', 'ip:192.0.2.99')) as Array<{ key: string }>;
      expect(keys.map((k) => k.key).sort()).toEqual(['ip:192.0.2.99']);
    });
  });

  describe('KnexSessionStore', () => {
    const call = <T>(fn: (cb: (err?: unknown, value?: T) => void) => void) =>
      new Promise<T | undefined>((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value))));
    const sess = (data: Record<string, unknown>, expires?: Date) =>
      ({ cookie: { originalMaxAge: null, expires, httpOnly: true, path: '/' }, ...data }) as unknown as session.SessionData;

    it('stores, replaces, reads and destroys sessions', async () => {
      const storeClock = new FixedClock(new Date('2026-12-01T00:00:00.000Z'));
      const store = new KnexSessionStore(t.db, storeClock, 60 * 60_000);
      await call((cb) => store.set('sid-1', sess({ userId: 1, flash: ['hi'] }), cb));
      expect(await call((cb) => store.get('sid-1', cb))).toMatchObject({ userId: 1, flash: ['hi'] });
      await call((cb) => store.set('sid-1', sess({ userId: 2 }), cb));
      expect(await call((cb) => store.get('sid-1', cb))).toMatchObject({ userId: 2 });
      expect(await t.db('sessions').where({ sid: 'sid-1' })).toHaveLength(1);
      expect(await call((cb) => store.get('unknown', cb))).toBeNull();
      await call((cb) => store.destroy('sid-1', cb));
      expect(await call((cb) => store.get('sid-1', cb))).toBeNull();
    });

    it('expires sessions after the TTL, extends them on touch, and prunes expired ones', async () => {
      const storeClock = new FixedClock(new Date('2026-12-05T00:00:00.000Z'));
      const store = new KnexSessionStore(t.db, storeClock, 60 * 60_000);
      await t.db('sessions').delete();
      await call((cb) => store.set('short', sess({ n: 1 }), cb));
      await call((cb) => store.set('touched', sess({ n: 2 }), cb));
      await call((cb) => store.set('cookie', sess({ n: 3 }, new Date('2026-12-05T03:00:00.000Z')), cb));

      storeClock.advance(30 * 60_000);
      await call((cb) => store.touch('touched', sess({ n: 2 }), cb));
      storeClock.advance(30 * 60_000 - 1);
      expect(await call((cb) => store.get('short', cb)), '1 ms before expiry').toMatchObject({ n: 1 });
      storeClock.advance(1);
      expect(await call((cb) => store.get('short', cb)), 'at expiry').toBeNull();
      expect(await call((cb) => store.get('touched', cb))).toMatchObject({ n: 2 });
      expect(await call((cb) => store.get('cookie', cb)), 'the cookie expiry wins over the TTL').toMatchObject({ n: 3 });

      expect(await store.prune()).toBe(1);
      expect((await t.db('sessions').pluck('sid')).sort()).toEqual(['cookie', 'touched']);
      storeClock.advance(2 * 60 * 60_000);
      expect(await store.prune()).toBe(2);
      expect(toNumber((await t.db('sessions').count({ n: '*' }).first())?.n)).toBe(0);
    });
  });

  describe('audit log', () => {
    const genesis = '0'.repeat(64);
    const verifyChain = async () => {
      const rows = (await t.db('audit_log').orderBy('seq')) as Array<Record<string, unknown>>;
      let prev = genesis;
      for (const row of rows) {
        expect(row.prev_hash, `prev_hash of seq ${String(row.seq)}`).toBe(prev);
        // Recomputed here from the documented formula (src/audit/auditRepository.ts), not with the code under test.
        const fields = {
          seq: toNumber(row.seq),
          at: toDbTime(fromDbTime(row.at)),
          actor_user_id: row.actor_user_id == null ? null : toNumber(row.actor_user_id),
          actor_login: row.actor_login,
          action: row.action,
          subject_type: row.subject_type,
          subject_id: row.subject_id,
          data: row.data,
          ip: row.ip,
        };
        const expected = crypto.createHash('sha256').update(prev).update(canonicalJson(fields)).digest('hex');
        expect(row.hash, `hash of seq ${String(row.seq)} covers its fields and prev_hash`).toBe(expected);
        prev = String(row.hash);
      }
      return rows;
    };

    it('links every appended entry to the previous one, from the genesis hash', async () => {
      const before = await verifyChain();
      expect(before.length, 'the earlier tests wrote audit entries').toBeGreaterThan(3);
      await auditRepository.append(t.db, { actorUserId: f.users.admin, actorLogin: 'admin', action: 'test.one', subjectType: 'account', subjectId: f.accounts.c, data: { why: 'ünïcødé 😀' }, ip: '::1' }, clock.now());
      await auditRepository.append(t.db, { actorUserId: null, actorLogin: 'system', action: 'test.two' }, clock.now());
      const rows = await verifyChain();
      expect(rows).toHaveLength(before.length + 2);
      const [two, one] = await auditRepository.recent(t.db, 2);
      expect(one).toMatchObject({ action: 'test.one', subjectId: String(f.accounts.c), data: { why: 'ünïcødé 😀' }, ip: '::1' });
      expect(one!.at.toISOString()).toBe(clock.now().toISOString());
      expect(two).toMatchObject({ action: 'test.two', subjectType: null, data: null });
    });

    it('detects a tampered entry', async () => {
      const [last] = await t.db('audit_log').orderBy('seq', 'desc').limit(1);
      await t.db('audit_log').where({ seq: last.seq }).update({ actor_login: 'mallory' });
      await expect(verifyChain()).rejects.toThrow(/covers its fields/);
      await t.db('audit_log').where({ seq: last.seq }).update({ actor_login: last.actor_login });
      await verifyChain();
    });

    it('keeps one chain when audited actions run concurrently', async () => {
      const before = (await verifyChain()).length;
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) =>
          t.db.transaction((trx) => auditRepository.append(trx, { actorUserId: null, actorLogin: 'system', action: `test.concurrent.${i}` }, clock.now())),
        ),
      );
      expect(results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
      expect(await verifyChain()).toHaveLength(before + 8);
    });
  });
});
