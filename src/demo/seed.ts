import type { Knex } from 'knex';
import { hashPassword, randomPassword } from '../auth/password';
import { userRepository } from '../auth/userRepository';
import { toNumber } from '../db/dialect';
import type { Clock } from '../lib/clock';
import { policyRepository } from '../policy/policyRepository';
import { accountRepository } from '../tenancy/accountRepository';
import { domainRepository } from '../tenancy/domainRepository';
import { serverRepository } from '../tenancy/serverRepository';
import { readDemoLogins, writeDemoLogins, type DemoLogin } from './credentials';
import { demoAccounts, demoPolicy, demoServers } from './demoData';

export interface DemoResult {
  seeded: boolean;
  logins: DemoLogin[];
}

/**
 * Loads the demo fleet into an empty database (one transaction: all or nothing) and returns the
 * demo logins. On later starts it changes nothing but the passwords when DEMO_PASSWORD changed.
 */
export async function ensureDemoData(db: Knex, clock: Clock, opts: { dataDir: string; demoPassword?: string }): Promise<DemoResult> {
  const existing = await db('servers').count({ n: '*' }).first();
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

  const accounts = demoAccounts();
  const logins: DemoLogin[] = [
    { login: 'admin', role: 'admin', password: opts.demoPassword ?? randomPassword() },
    ...accounts.map((a) => ({ login: a.username, role: a.isReseller ? 'reseller' : 'customer', password: opts.demoPassword ?? randomPassword() })),
  ];
  // scrypt is deliberately slow: hash each distinct password once (all the same with DEMO_PASSWORD).
  const hashByPassword = new Map<string, string>();
  for (const l of logins) if (!hashByPassword.has(l.password)) hashByPassword.set(l.password, await hashPassword(l.password));
  const hashes = new Map(logins.map((l) => [l.login, hashByPassword.get(l.password)!]));

  await db.transaction(async (trx) => {
    const now = clock.now();
    const serverIds = new Map<string, number>();
    for (const s of demoServers) serverIds.set(s.name, await serverRepository.insert(trx, { name: s.name, whmUrl: `https://${s.name}:2087`, whmUser: 'root', kind: s.kind }, now));
    const accountIds = new Map<string, number>();
    for (const a of accounts) {
      const id = await accountRepository.insert(
        trx,
        {
          serverId: serverIds.get(a.server)!,
          username: a.username,
          ownerAccountId: a.owner ? accountIds.get(a.owner)! : null,
          isReseller: a.isReseller,
          contactEmail: `owner@${a.domains[0]!.name}`,
          plan: a.plan,
        },
        now,
      );
      accountIds.set(a.username, id);
      for (const d of a.domains) await domainRepository.insert(trx, { accountId: id, ...d }, now);
    }
    const dedicated = demoServers.find((s) => s.kind === 'dedicated');
    const dedicatedOwner = accounts.find((a) => a.server === dedicated?.name);
    if (dedicated && dedicatedOwner) await trx('servers').where('id', serverIds.get(dedicated.name)!).update({ owner_account_id: accountIds.get(dedicatedOwner.username)! });
    for (const l of logins) {
      await userRepository.insert(trx, { login: l.login, role: l.role as 'admin', accountId: l.role === 'admin' ? null : accountIds.get(l.login)!, passwordHash: hashes.get(l.login)! }, now);
    }
    await policyRepository.insert(trx, { ...demoPolicy, publishedBy: null }, now);
  });
  writeDemoLogins(opts.dataDir, logins);
  return { seeded: true, logins };
}
