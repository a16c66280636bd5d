/**
 * Pre-send check at scale: 100,000 recipients checked against a 1,000,000-record consent list.
 * Half of the recipients are in the list (confirmed, pending and revoked records), the rest are
 * unknown, with some duplicates (in other letter cases) and some entries that are not addresses.
 *
 * The measured operation is ConsentService.check, the code path behind the page, the CSV and the API.
 * The baseline, measured in the same run on the same data, is a bare indexed lookup of the same
 * addresses already normalised and de-duplicated: batched
 *   select email, status from consent_records where list_id in (...) and email in (...)
 * Prints both times and the ratio check/baseline (target ≤ 1.5). Not a timed test: nothing is asserted.
 *
 * Runs on SQLite (a temporary file), then on MariaDB/MySQL when TEST_MYSQL_URL is set (a temporary
 * database created and dropped on that server, like the tests do).
 *
 *   npx tsx bench/consent-check.ts
 *   TEST_MYSQL_URL=mysql://root@127.0.0.1:3306/test npx tsx bench/consent-check.ts
 *   BENCH_RECORDS=100000 BENCH_RECIPIENTS=10000 BENCH_ROUNDS=3 npx tsx bench/consent-check.ts   # a quick run
 */
import { performance } from 'node:perf_hooks';
import type { Knex } from 'knex';
import { ConsentService } from '../src/consent/consentService';
import { normaliseEmail } from '../src/consent/schemas';
import { engineOf, toDbTime } from '../src/db/dialect';
import { migrateLatest } from '../src/db/migrator';
import { FixedClock } from '../src/lib/clock';
import { accountRepository } from '../src/tenancy/accountRepository';
import type { Actor } from '../src/tenancy/actor';
import { domainRepository } from '../src/tenancy/domainRepository';
import { serverRepository } from '../src/tenancy/serverRepository';
import { onEachEngine } from './support';

const recordCount = Number(process.env.BENCH_RECORDS ?? 1_000_000);
const recipientCount = Number(process.env.BENCH_RECIPIENTS ?? 100_000);
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
/** The baseline's batch size: a plain choice for a hand-written lookup. */
const baselineBatch = 1000;
const sender = 'bench-sender.example';
const clock = new FixedClock(new Date('2026-06-01T00:00:00Z'));

/** Deterministic pseudo-random numbers, so every run checks the same recipients. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const emailOf = (i: number) => `subscriber${i}@mailbox${i % 997}.example`;
const statusOf = (i: number) => (i % 10 < 6 ? 'confirmed' : i % 10 < 8 ? 'pending' : 'revoked');

/** Half in the list, the rest unknown; then ~3% duplicates (some upper-cased) and ~2% invalid entries, shuffled. */
function recipients(): string[] {
  const random = prng(20261128);
  const out: string[] = [];
  const inList = Math.floor(recipientCount / 2);
  const duplicates = Math.floor(recipientCount * 0.03);
  const invalid = Math.floor(recipientCount * 0.02);
  for (let i = 0; i < inList; i++) out.push(emailOf(Math.floor(random() * recordCount)));
  for (let i = 0; out.length < recipientCount - duplicates - invalid; i++) out.push(`stranger${i}@elsewhere${i % 31}.example`);
  for (let i = 0; i < duplicates; i++) {
    const again = out[Math.floor(random() * out.length)]!;
    out.push(i % 2 ? again.toUpperCase() : ` ${again} `);
  }
  for (let i = 0; i < invalid; i++) out.push(i % 3 === 0 ? `not an address ${i}` : i % 3 === 1 ? `missing-at-${i}.example` : `user${i}@`);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** One account with one sending domain and one list of `recordCount` records, inserted in batches (not through the service). */
async function seed(db: Knex): Promise<{ actor: Actor; listId: number }> {
  await migrateLatest(db);
  const now = clock.now();
  const serverId = await serverRepository.insert(db, { name: 'bench.example.net', whmUrl: 'https://bench:2087', whmUser: 'root', kind: 'shared' }, now);
  const accountId = await accountRepository.insert(db, { serverId, username: 'benchcust', ownerAccountId: null, isReseller: false, contactEmail: null, plan: null }, now);
  const domainId = await domainRepository.insert(db, { accountId, name: sender, type: 'main', mailHosted: true }, now);
  const actor: Actor = { userId: null, login: 'benchcust', role: 'customer', accountId };
  const service = new ConsentService(db, clock);
  const listId = await service.createList(actor, { name: 'Everyone', domainId, doubleOptIn: false, text: 'Bench consent text' });
  const at = toDbTime(now);
  // One multi-row INSERT … VALUES per batch (knex's SQLite multi-row insert is a compound SELECT, limited to 500 rows).
  // SQLite allows 32,766 bound values per statement: 8 columns × 2,000 rows stays below it.
  const batch = 2000;
  const columns = ['list_id', 'email', 'status', 'method', 'consent_text_version', 'consented_at', 'created_at', 'updated_at'];
  const started = performance.now();
  await db.transaction(async (trx) => {
    for (let start = 0; start < recordCount; start += batch) {
      const end = Math.min(start + batch, recordCount);
      const values: Array<string | number> = [];
      for (let i = start; i < end; i++) values.push(listId, emailOf(i), statusOf(i), 'import', 1, at, at, at);
      const tuple = `(${columns.map(() => '?').join(', ')})`;
      await trx.raw(`insert into consent_records (${columns.join(', ')}) values ${Array.from({ length: end - start }, () => tuple).join(', ')}`, values);
    }
  });
  console.log(`  seeded ${recordCount.toLocaleString('en')} records in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  if (engineOf(db) === 'mysql') await db.raw('analyze table consent_records');
  else await db.raw('analyze');
  return { actor, listId };
}

/** The bare lookup: normalised, de-duplicated addresses, list ids known, one batched select per chunk. */
async function baseline(db: Knex, listIds: number[], emails: string[]): Promise<number> {
  let found = 0;
  for (let i = 0; i < emails.length; i += baselineBatch) {
    const rows = await db('consent_records').whereIn('list_id', listIds).whereIn('email', emails.slice(i, i + baselineBatch)).select('email', 'status');
    found += rows.length;
  }
  return found;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function run(label: string, db: Knex): Promise<void> {
  console.log(`${label}: ${recordCount.toLocaleString('en')} records, ${recipientCount.toLocaleString('en')} recipients, ${rounds} rounds (median)`);
  const { actor, listId } = await seed(db);
  const service = new ConsentService(db, clock);
  const list = recipients();
  const normalised = [...new Set(list.map((r) => normaliseEmail(r)).filter((e): e is string => e !== null))];

  // Warm-up (caches, JIT), and a sanity check that both paths see the same data.
  const result = await service.check(actor, sender, list);
  const found = await baseline(db, [listId], normalised);
  const { counts } = result;
  console.log(`  check result: ${JSON.stringify(counts)}; baseline found ${found} of ${normalised.length} distinct addresses`);
  if (counts.confirmed + counts.pending + counts.revoked !== found) console.log('  WARNING: the check and the baseline disagree on how many addresses are in the list');

  const checkTimes: number[] = [];
  const baseTimes: number[] = [];
  for (let r = 0; r < rounds; r++) {
    // Alternate, so drift (cache, other load) affects both sides alike.
    let t = performance.now();
    await baseline(db, [listId], normalised);
    baseTimes.push(performance.now() - t);
    t = performance.now();
    await service.check(actor, sender, list);
    checkTimes.push(performance.now() - t);
  }
  const check = median(checkTimes);
  const base = median(baseTimes);
  console.log(`  ConsentService.check           ${check.toFixed(0).padStart(7)} ms`);
  console.log(`  bare indexed lookup (baseline) ${base.toFixed(0).padStart(7)} ms`);
  console.log(`  ratio check/baseline: ${(check / base).toFixed(2)} (target ≤ 1.5)`);
}

await onEachEngine('consent', run);
