import type { Knex } from 'knex';
import { hashPassword, randomPassword } from '../auth/password';
import { userRepository } from '../auth/userRepository';
import { toNumber } from '../db/dialect';
import type { Clock } from '../lib/clock';
import { policyRepository } from '../policy/policyRepository';
import { accountRepository } from '../tenancy/accountRepository';
import { systemActor } from '../tenancy/actor';
import { readDemoLogins, writeDemoLogins, type DemoLogin } from './credentials';
import { demoPolicy } from './demoData';

export interface DemoResult {
  seeded: boolean;
  logins: DemoLogin[];
}

/**
 * Demo logins for the accounts the panel sync brought in: `admin`, each reseller and each customer by
 * its panel username, plus the first policy version. Runs once on an empty users table (one
 * transaction); later starts only apply a changed DEMO_PASSWORD.
 */
export async function ensureDemoData(db: Knex, clock: Clock, opts: { dataDir: string; demoPassword?: string }): Promise<DemoResult> {
  const existing = await db('users').count({ n: '*' }).first();
  if (toNumber(existing?.n ?? 0) > 0) {
    const logins = readDemoLogins(opts.dataDir);
    if (opts.demoPassword && logins.some((l) => l.password !== opts.demoPassword)) {
      const hash = await hashPassword(opts.demoPassword);
      for (const l of logins) {
        const user = await userRepository.findByLogin(db, l.login);
        if (user) await userRepository.setPassword(db, user.id, hash, clock.now());
      }
      const updated = logins.map((l) => ({ ...l, password: opts.demoPassword! }));
      writeDemoLogins(opts.dataDir, updated);
      return { seeded: false, logins: updated };
    }
    return { seeded: false, logins };
  }

  const accounts = (await accountRepository.list(db, systemActor, { status: 'active' }, { limit: 10_000 })).items;
  const logins: DemoLogin[] = [
    { login: 'admin', role: 'admin', password: opts.demoPassword ?? randomPassword() },
    ...accounts.map((a) => ({ login: a.username, role: a.isReseller ? 'reseller' : 'customer', password: opts.demoPassword ?? randomPassword() })),
  ];
  // scrypt is deliberately slow: hash each distinct password once (all the same with DEMO_PASSWORD).
  const hashByPassword = new Map<string, string>();
  for (const l of logins) if (!hashByPassword.has(l.password)) hashByPassword.set(l.password, await hashPassword(l.password));
  const accountIdOf = new Map(accounts.map((a) => [a.username, a.id]));

  await db.transaction(async (trx) => {
    const now = clock.now();
    for (const l of logins) {
      await userRepository.insert(
        trx,
        { login: l.login, role: l.role as 'admin' | 'reseller' | 'customer', accountId: l.role === 'admin' ? null : accountIdOf.get(l.login)!, passwordHash: hashByPassword.get(l.password)! },
        now,
      );
    }
    if (!(await policyRepository.current(trx))) await policyRepository.insert(trx, { ...demoPolicy, publishedBy: null }, now);
  });
  writeDemoLogins(opts.dataDir, logins);
  return { seeded: true, logins };
}
