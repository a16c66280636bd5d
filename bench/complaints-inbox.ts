/**
 * The reseller's complaints inbox at volume: 1,000,000 complaints stored, 1% of them about the customers
 * of one reseller (resa of the standard test tenancy, src/testing/factories.ts, with extra customers),
 * the rest spread over 2,000 accounts of 40 other resellers, plus unattributed and unparsed ones.
 * Complaints and their messages are inserted in batches (not through the intake).
 *
 * The real app (createApp through src/testing/appHarness.ts buildTestApp) listens on an ephemeral port;
 * the bench signs in as resa through the sign-in form (a real session cookie) and fires 50 concurrent
 * GETs, round after round, at
 *   /reseller/complaints                       (first page)
 *   /reseller/complaints?status=valid
 *   /reseller/complaints?customer=<a customer of resa>
 * The baseline is a bare page of the same layout: a route the bench mounts on the same app, behind the
 * same session, sign-in and role gate, that renders the same view (complaints/inbox) in the reseller
 * layout with an empty listing and an empty trend, without the complaint queries; it is hit the same
 * way at the same concurrency, its rounds alternating with the inbox's so drift affects both alike.
 * The load comes from a worker thread, so the client does not share the server's event loop.
 * Prints p50/p95 of each and the ratio of the p95s inbox/bare (target ≤ 3). Not a timed test: nothing is asserted.
 *
 * Runs on SQLite (a temporary file), then on MariaDB/MySQL when TEST_MYSQL_URL is set (a temporary
 * database created and dropped on that server, like the tests do).
 *
 *   npx tsx bench/complaints-inbox.ts
 *   TEST_MYSQL_URL=mysql://root@127.0.0.1:3306/test npx tsx bench/complaints-inbox.ts
 *   BENCH_COMPLAINTS=100000 BENCH_ROUNDS=5 npx tsx bench/complaints-inbox.ts   # a quick run
 */
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type { Express, Request, Response } from 'express';
import type { Knex } from 'knex';
import { complaintListQuery } from '../src/complaints/schemas';
import { complaintStatuses, deskStatuses } from '../src/complaints/types';
import { engineOf, toDbBool, toDbTime } from '../src/db/dialect';
import { migrateLatest } from '../src/db/migrator';
import { notFoundHandler } from '../src/http/errors';
import { renderPage } from '../src/http/render';
import { requireRole } from '../src/http/roleGate';
import { parseInput } from '../src/http/validate';
import type { FixedClock } from '../src/lib/clock';
import { accountRepository } from '../src/tenancy/accountRepository';
import { buildTestApp, csrfFromHtml, harnessClock } from '../src/testing/appHarness';
import { buildTenancy, type Tenancy } from '../src/testing/factories';
import { onEachEngine } from './support';

const complaintCount = Number(process.env.BENCH_COMPLAINTS ?? 1_000_000);
const otherResellers = Number(process.env.BENCH_RESELLERS ?? 40);
const customersPerReseller = Number(process.env.BENCH_CUSTOMERS ?? 50);
/** Extra customers of resa (besides custa1, custa2, custa3 of the standard tenancy). */
const extraOwnCustomers = 20;
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 50);
const rounds = Number(process.env.BENCH_ROUNDS ?? 20);
const recipientsPerMessage = 4;
const barePath = '/bench/reseller-complaints-bare';

/** Share of statuses (per 100 complaints); unattributed and unparsed ones belong to no account. */
const statusMix: Array<[string, number]> = [
  ['valid', 40],
  ['not_complaint', 15],
  ['duplicate', 10],
  ['review', 10],
  ['unattributed', 8],
  ['awaiting_evidence', 7],
  ['invalid', 5],
  ['unparsed', 5],
];
const statusByPercent: string[] = statusMix.flatMap(([s, n]) => Array<string>(n).fill(s));

interface Owner {
  accountId: number;
  resellerId: number | null;
  serverId: number;
  domainId: number;
}

interface Seeded {
  f: Tenancy;
  /** A customer of resa with complaints (for ?customer=). */
  customer: string;
  theirs: number;
}

async function insertRows(db: Knex, table: string, columns: string[], count: number, row: (i: number) => unknown[]): Promise<void> {
  // SQLite allows 32,766 bound values per statement; MySQL a 16 MB packet by default: both fit.
  const batch = Math.floor(30_000 / columns.length);
  const tuple = `(${columns.map(() => '?').join(', ')})`;
  for (let start = 0; start < count; start += batch) {
    const end = Math.min(start + batch, count);
    const values: unknown[] = [];
    for (let i = start; i < end; i++) values.push(...row(i));
    await db.raw(`insert into ${table} (${columns.join(', ')}) values ${Array.from({ length: end - start }, () => tuple).join(', ')}`, values as Knex.RawBinding[]);
  }
}

async function seed(db: Knex, clock: FixedClock): Promise<Seeded> {
  const started = performance.now();
  await migrateLatest(db);
  const f = await buildTenancy(db, clock);
  const now = clock.now();
  const at = toDbTime(now);
  const servers = [f.servers.s1, f.servers.s2];

  // Accounts (closure rows through the repository), each with a main domain.
  const mine: Array<{ id: number; serverId: number; username: string }> = [
    { id: f.accounts.a1, serverId: f.servers.s1, username: f.usernames.a1 },
    { id: f.accounts.a2, serverId: f.servers.s1, username: f.usernames.a2 },
    { id: f.accounts.a3, serverId: f.servers.s1, username: f.usernames.a3 },
  ];
  const others: Array<{ id: number; serverId: number; resellerId: number }> = [];
  await db.transaction(async (trx) => {
    for (let i = 0; i < extraOwnCustomers; i++) {
      const username = `resacust${i}`;
      const owner = i % 4 === 3 ? f.accounts.A2 : f.accounts.A; // some under the sub-reseller, so the tree has depth
      mine.push({ id: await accountRepository.insert(trx, { serverId: f.servers.s1, username, ownerAccountId: owner, isReseller: false, contactEmail: `owner@${username}.example`, plan: 'basic' }, now), serverId: f.servers.s1, username });
    }
    for (let r = 0; r < otherResellers; r++) {
      const serverId = servers[r % 2]!;
      const reseller = await accountRepository.insert(trx, { serverId, username: `benchres${r}`, ownerAccountId: null, isReseller: true, contactEmail: null, plan: 'reseller' }, now);
      for (let c = 0; c < customersPerReseller; c++) {
        const username = `r${r}cust${c}`;
        others.push({ id: await accountRepository.insert(trx, { serverId, username, ownerAccountId: reseller, isReseller: false, contactEmail: null, plan: 'basic' }, now), serverId, resellerId: reseller });
      }
    }
  });
  const newAccounts = [...mine.slice(3).map((a) => ({ id: a.id, name: `${a.username}.example.com` })), ...others.map((a) => ({ id: a.id, name: `bench-${a.id}.example.com` }))];
  await insertRows(db, 'domains', ['account_id', 'name', 'type', 'mail_hosted', 'created_at', 'updated_at'], newAccounts.length, (i) => [newAccounts[i]!.id, newAccounts[i]!.name, 'main', toDbBool(true), at, at]);
  const domainOf = new Map(((await db('domains').where('type', 'main').select('id', 'account_id')) as Array<{ id: unknown; account_id: unknown }>).map((d) => [Number(d.account_id), Number(d.id)]));
  const ownerOf = (a: { id: number; serverId: number }, resellerId: number | null): Owner => ({ accountId: a.id, resellerId, serverId: a.serverId, domainId: domainOf.get(a.id)! });
  // The reseller of each of resa's customers is its direct owner (resa, or the sub-reseller resa2).
  const ownerRows = (await db('accounts').whereIn('id', mine.map((a) => a.id)).select('id', 'owner_account_id')) as Array<{ id: unknown; owner_account_id: unknown }>;
  const directOwner = new Map(ownerRows.map((r) => [Number(r.id), Number(r.owner_account_id)]));
  const mineOwners = mine.map((a) => ownerOf(a, directOwner.get(a.id)!));
  const otherOwners = others.map((a) => ownerOf(a, a.resellerId));

  // Messages: one per `recipientsPerMessage` complaints; small placeholder bytes (the inbox never reads them).
  const messageCount = Math.ceil(complaintCount / recipientsPerMessage);
  const span = 364 * 86_400_000;
  const firstAt = now.getTime() - 3600_000 - span;
  const receivedAt = (i: number) => toDbTime(new Date(firstAt + Math.floor((i / complaintCount) * span)));
  const raw = Buffer.from('From: fbl@isp.example\r\nSubject: bench placeholder\r\n\r\nnot a real report\r\n');
  await insertRows(
    db,
    'complaint_messages',
    ['id', 'sha256', 'size_bytes', 'raw', 'received_via', 'received_by', 'received_at', 'parse_status', 'format', 'feedback_type', 'report_message_id', 'reporter'],
    messageCount,
    (m) => [m + 1, crypto.createHash('sha256').update(`bench-${m}`).digest('hex'), raw.length, raw, 'api', 'bench', receivedAt(m * recipientsPerMessage), 'parsed', 'arf', 'abuse', `report-${m}@isp.example`, 'fbl@isp.example'],
  );

  // Complaints: 1% about resa's customers, the rest about the other accounts (or none: unattributed, unparsed).
  let theirs = 0;
  const counts = new Map<number, number>();
  const columns = [
    'message_id', 'recipient_no', 'recipient', 'recipient_redaction', 'format', 'feedback_type', 'is_complaint', 'spamtrap', 'arrival_at', 'received_at', 'source_ip',
    'original_message_id', 'original_mail_from', 'subject', 'server_id', 'domain_id', 'account_id', 'reseller_account_id', 'attribution', 'attribution_reason', 'dedup_key',
    'duplicate_of', 'status', 'decision_reason', 'decided_by', 'decided_at', 'desk_status', 'due_at', 'created_at', 'updated_at',
  ];
  await db.transaction(async (trx) => {
    await insertRows(trx, 'complaints', columns, complaintCount, (i) => {
      const mineRow = i % 100 === 0;
      const status = statusByPercent[(i * 37) % 100]!;
      const owner = mineRow ? mineOwners[(i / 100) % mineOwners.length]! : status === 'unattributed' || status === 'unparsed' ? null : otherOwners[i % otherOwners.length]!;
      if (mineRow) {
        theirs += 1;
        counts.set(owner!.accountId, (counts.get(owner!.accountId) ?? 0) + 1);
      }
      const when = receivedAt(i);
      const open = owner && ['valid', 'awaiting_evidence', 'review'].includes(status);
      const decided = ['valid', 'invalid', 'not_complaint', 'duplicate'].includes(status);
      return [
        Math.floor(i / recipientsPerMessage) + 1, i % recipientsPerMessage, `user${i}@isp${i % 50}.example`, status === 'awaiting_evidence' ? 'redacted' : 'none', status === 'unparsed' ? null : 'arf',
        status === 'unparsed' ? null : status === 'not_complaint' ? 'opt-out' : 'abuse', toDbBool(status !== 'unparsed' && status !== 'not_complaint'), toDbBool(false), when, when, `192.0.2.${i % 250}`,
        `<orig-${i}@sender.example>`, `bounce-${i}@sender.example`, `Offer number ${i % 997}`, owner?.serverId ?? null, owner?.domainId ?? null, owner?.accountId ?? null, owner?.resellerId ?? null,
        owner ? 'medium' : 'none', owner ? 'DKIM signature d=sender.example → sender.example' : 'no signal names an account we host', crypto.createHash('sha256').update(`k${i}`).digest('hex'),
        null, status, `Bench decision for a ${status} complaint.`, decided ? 'system' : null, decided ? when : null, i % 7 === 0 ? 'resolved' : 'new',
        open ? toDbTime(new Date(Date.parse(`${when.replace(' ', 'T')}Z`) + 72 * 3600_000)) : null, when, when,
      ];
    });
  });
  if (engineOf(db) === 'mysql') await db.raw('analyze table complaints, complaint_messages, accounts, account_tree, domains');
  else await db.raw('analyze');
  const customer = mine.find((a) => a.id === [...counts].sort((a, b) => b[1] - a[1])[0]![0])!.username;
  console.log(`  seeded ${complaintCount.toLocaleString('en')} complaints (${theirs.toLocaleString('en')} about resa's ${mine.length} customers) and ${messageCount.toLocaleString('en')} messages in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  return { f, customer, theirs };
}

/** The bare page: same gate, same view and layout, empty listing and trend, no complaint queries. */
function mountBarePage(app: Express, clock: FixedClock): void {
  const bare = async (req: Request, res: Response) => {
    const query = parseInput(complaintListQuery, req.query);
    const now = clock.now();
    const monday = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - ((now.getUTCDay() + 6) % 7));
    const trend = Array.from({ length: 12 }, (_, i) => ({ week: new Date(monday - (11 - i) * 7 * 86_400_000), count: 0 }));
    await renderPage(req, res, 'complaints/inbox', {
      title: 'Complaints',
      breadcrumbs: [{ label: 'Home', href: '/reseller' }, { label: 'Complaints' }],
      listing: { items: [], nextCursor: null, total: 0 },
      query,
      role: 'reseller',
      base: '/reseller/complaints',
      trend,
      statuses: complaintStatuses,
      deskStatuses,
      nextHref: null,
      firstHref: null,
    });
  };
  app.get(barePath, requireRole('reseller'), bare);
  // createApp ends with the 404 and error handlers: move the new route in front of them.
  const stack = (app as unknown as { router: { stack: Array<{ handle: unknown }> } }).router.stack;
  const route = stack.pop()!;
  stack.splice(stack.findIndex((layer) => layer.handle === notFoundHandler), 0, route);
}

/** Signs in through the form on the listening server; returns the Cookie header of the session. */
async function signIn(base: string, login: string, password: string): Promise<string> {
  const page = await fetch(`${base}/login`);
  const cookie = (page.headers.getSetCookie()[0] ?? '').split(';')[0]!;
  const body = new URLSearchParams({ login, password, _csrf: csrfFromHtml(await page.text()) });
  const res = await fetch(`${base}/login`, { method: 'POST', body, headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, redirect: 'manual' });
  if (res.status !== 302) throw new Error(`sign-in of ${login} answered ${res.status}`);
  return (res.headers.getSetCookie().find((c) => c.startsWith('antispam.sid=')) ?? cookie).split(';')[0]!;
}

/** The load generator: a worker thread running `concurrency` requests at once per batch, answering latencies in ms. */
const workerSource = `
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
const { performance } = require('node:perf_hooks');
const agent = new http.Agent({ keepAlive: true, maxSockets: workerData.concurrency });
function get(path) {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const req = http.get({ host: '127.0.0.1', port: workerData.port, path, agent, headers: { cookie: workerData.cookie } }, (res) => {
      let bytes = 0;
      res.on('data', (chunk) => (bytes += chunk.length));
      res.on('end', () => resolve({ ms: performance.now() - start, status: res.statusCode, bytes }));
    });
    req.on('error', reject);
  });
}
parentPort.on('message', async ({ path, count }) => {
  try {
    const results = await Promise.all(Array.from({ length: count }, () => get(path)));
    parentPort.postMessage({ results });
  } catch (err) {
    parentPort.postMessage({ error: String(err) });
  }
});
`;

interface Batch {
  results: Array<{ ms: number; status: number; bytes: number }>;
}

function loadGenerator(port: number, cookie: string): { batch(path: string): Promise<Batch['results']>; close(): Promise<number> } {
  const worker = new Worker(workerSource, { eval: true, workerData: { port, cookie, concurrency } });
  return {
    batch: (pathname) =>
      new Promise((resolve, reject) => {
        worker.once('message', (m: Batch & { error?: string }) => (m.error ? reject(new Error(m.error)) : resolve(m.results)));
        worker.postMessage({ path: pathname, count: concurrency });
      }),
    close: () => worker.terminate(),
  };
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

async function run(label: string, db: Knex): Promise<void> {
  console.log(`${label}: ${complaintCount.toLocaleString('en')} complaints, ${concurrency} concurrent requests × ${rounds} rounds per page`);
  const clock = harnessClock();
  const { f, customer, theirs } = await seed(db, clock);
  const { app } = buildTestApp(db, { clock });
  mountBarePage(app, clock);
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const cookie = await signIn(`http://127.0.0.1:${port}`, f.logins.resellerA, f.password);
  const load = loadGenerator(port, cookie);
  try {
    const pages: Array<[string, string]> = [
      ['inbox, first page', '/reseller/complaints'],
      ['inbox, ?status=valid', '/reseller/complaints?status=valid'],
      [`inbox, ?customer=${customer}`, `/reseller/complaints?customer=${customer}`],
    ];
    /** One request first, to check the page is what it should be. */
    const check = async (pathname: string, mustContain: string) => {
      const res = await fetch(`http://127.0.0.1:${port}${pathname}`, { headers: { cookie }, redirect: 'manual' });
      const html = await res.text();
      if (res.status !== 200 || !html.includes(mustContain)) throw new Error(`GET ${pathname} answered ${res.status} without ${mustContain}:\n${html.slice(0, 400)}`);
      return { bytes: Buffer.byteLength(html) };
    };
    const bareSample = await check(barePath, 'data-testid="empty"');
    console.log(`  resa sees ${theirs.toLocaleString('en')} complaints; bare page ${(bareSample.bytes / 1024).toFixed(0)} KiB`);
    for (const [name, pathname] of pages) {
      const sample = await check(pathname, 'data-testid="complaints-table"');
      // Warm-up round of each, then alternate rounds: bare, inbox, bare, inbox, …
      await load.batch(barePath);
      await load.batch(pathname);
      const bare: number[] = [];
      const inbox: number[] = [];
      const started = performance.now();
      for (let r = 0; r < rounds; r++) {
        for (const res of await load.batch(barePath)) bare.push(res.ms);
        const results = await load.batch(pathname);
        if (results.some((res) => res.status !== 200)) throw new Error(`GET ${pathname}: statuses ${[...new Set(results.map((res) => res.status))].join(', ')}`);
        for (const res of results) inbox.push(res.ms);
      }
      bare.sort((a, b) => a - b);
      inbox.sort((a, b) => a - b);
      const ratio = percentile(inbox, 95) / percentile(bare, 95);
      console.log(`  ${name} (${(sample.bytes / 1024).toFixed(0)} KiB, ${((performance.now() - started) / 1000).toFixed(0)} s)`);
      console.log(`    inbox          p50 ${percentile(inbox, 50).toFixed(1).padStart(7)} ms   p95 ${percentile(inbox, 95).toFixed(1).padStart(7)} ms`);
      console.log(`    bare (baseline) p50 ${percentile(bare, 50).toFixed(1).padStart(6)} ms   p95 ${percentile(bare, 95).toFixed(1).padStart(7)} ms`);
      console.log(`    ratio of p95s inbox/bare: ${ratio.toFixed(2)} (target ≤ 3)`);
    }
  } finally {
    await load.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

await onEachEngine('inbox', run);
