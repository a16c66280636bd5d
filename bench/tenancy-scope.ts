/**
 * How much does the closure table (account_tree) save when scoping a reseller's domain list,
 * compared with walking the ownership tree with a recursive CTE on every query?
 * Prints a ratio measured in one run on one machine; not a timed test.
 *
 *   npx tsx bench/tenancy-scope.ts [accounts=4000] [rounds=200]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createDb } from '../src/db/knex';
import { migrateLatest } from '../src/db/migrator';
import { FixedClock } from '../src/lib/clock';
import { accountRepository } from '../src/tenancy/accountRepository';
import { domainRepository } from '../src/tenancy/domainRepository';
import { serverRepository } from '../src/tenancy/serverRepository';
import type { Actor } from '../src/tenancy/actor';

const accounts = Number(process.argv[2] ?? 4000);
const rounds = Number(process.argv[3] ?? 200);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-scope-'));
const db = createDb({ client: 'sqlite', filename: path.join(dir, 'bench.sqlite') });
const clock = new FixedClock(new Date('2026-01-01T00:00:00Z'));

async function seed(): Promise<number> {
  await migrateLatest(db);
  return db.transaction(async (trx) => {
    const serverId = await serverRepository.insert(trx, { name: 'bench', whmUrl: 'https://bench:2087', whmUser: 'root', kind: 'shared' }, clock.now());
    const resellers: number[] = [];
    for (let r = 0; r < 40; r++) {
      // Every fourth reseller is nested under the previous one, so the tree has depth.
      const owner = r % 4 === 0 || resellers.length === 0 ? null : resellers[resellers.length - 1]!;
      resellers.push(await accountRepository.insert(trx, { serverId, username: `res${r}`, ownerAccountId: owner, isReseller: true, contactEmail: null, plan: null }, clock.now()));
    }
    for (let i = 0; i < accounts; i++) {
      const id = await accountRepository.insert(trx, { serverId, username: `cust${i}`, ownerAccountId: resellers[i % resellers.length]!, isReseller: false, contactEmail: null, plan: null }, clock.now());
      await domainRepository.insert(trx, { accountId: id, name: `cust${i}.example`, type: 'main', mailHosted: true }, clock.now());
    }
    return resellers[0]!;
  });
}

async function time(label: string, fn: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 10; i++) await fn();
  const start = performance.now();
  for (let i = 0; i < rounds; i++) await fn();
  const ms = (performance.now() - start) / rounds;
  console.log(`${label.padEnd(34)} ${ms.toFixed(3)} ms/query`);
  return ms;
}

const topReseller = await seed();
const actor: Actor = { userId: 1, login: 'res0', role: 'reseller', accountId: topReseller };
const closure = await time('closure table (product code)', () => domainRepository.list(db, actor, {}, { limit: 50 }));
const cte = await time('recursive CTE (baseline)', () =>
  db
    .withRecursive('tree', (qb) => {
      qb.select('id').from('accounts').where('id', topReseller).unionAll((u) => u.select('a.id').from('accounts as a').join('tree', 'a.owner_account_id', 'tree.id'));
    })
    .select('d.*')
    .from('domains as d')
    .whereIn('d.account_id', db('tree').select('id'))
    .orderBy('d.name')
    .limit(51),
);
console.log(`ratio baseline/closure: ${(cte / closure).toFixed(2)}x (above 1 means the closure table is faster)`);
await db.destroy();
fs.rmSync(dir, { recursive: true, force: true });
