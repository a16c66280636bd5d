/**
 * Complaint intake at volume: 20,000 messages made from the 14 ARF fixtures (src/complaints/parse/fixtures,
 * or BENCH_FIXTURES) go through the whole pipeline as the admin upload and `complaints import` send
 * them, 1,000 per call: ComplaintIntakeService.ingestMany (raw bytes and SHA-256 stored and committed
 * first, then parse, attribute, deduplicate, judge, complaints inserted, strikes, ladder and charges for
 * valid ones; one transaction per batch of 200) on a migrated database holding the standard test
 * tenancy (src/testing/factories.ts), a few hosted domains the fixtures name, and server mail IPs.
 * For information it also prints the rate of single-message calls (ingest: what the CLI's stdin mode and
 * the API do, one transaction per message) on the first BENCH_SINGLE (1,000) of the messages.
 *
 * The messages: fixture i % 14 with its report Message-ID made unique (added when the report has none),
 * and, for most, the original message's Message-ID made unique too, so each is a new complaint. Some are
 * true duplicates: ~5% report an earlier original again under a new report id (deduplicated by key, status
 * duplicate) and ~1% are the exact bytes of an earlier message (deduplicated by SHA-256, nothing stored).
 *
 * The baseline, measured in the same run on the same buffers in the same order, is bare parsing with
 * mailparser's simpleParser. The two alternate in chunks of 1,000 so drift affects both alike.
 * Prints messages/s of both and the ratio pipeline ÷ mailparser (higher is better; target ≥ 0.5), plus
 * the database queries per message and how the messages were classified. Not a timed test: nothing is asserted.
 *
 * Runs on SQLite (a temporary file), then on MariaDB/MySQL when TEST_MYSQL_URL is set (a temporary
 * database created and dropped on that server, like the tests do).
 *
 *   npx tsx bench/complaints-intake.ts
 *   TEST_MYSQL_URL=mysql://root@127.0.0.1:3306/test npx tsx bench/complaints-intake.ts
 *   BENCH_MESSAGES=2000 npx tsx bench/complaints-intake.ts   # a quick run
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Knex } from 'knex';
import { simpleParser } from 'mailparser';
import { ComplaintIntakeService, type IntakeOptions } from '../src/complaints/intakeService';
import { parseComplaint } from '../src/complaints/parse/index';
import { loadConfig } from '../src/config/load';
import { toDbTime } from '../src/db/dialect';
import { migrateLatest } from '../src/db/migrator';
import { FixedClock } from '../src/lib/clock';
import { setLogLevel } from '../src/lib/logger';
import { arfFixturesDir } from '../src/testing/arfFixtures';
import { buildTenancy, createDomain } from '../src/testing/factories';
import { onEachEngine } from './support';

const messageCount = Number(process.env.BENCH_MESSAGES ?? 20_000);
const warmupCount = Number(process.env.BENCH_WARMUP ?? 300);
const chunk = 1000;
const singleCount = Number(process.env.BENCH_SINGLE ?? 1000);
const fixtureDir = process.env.BENCH_FIXTURES ?? arfFixturesDir;
const clock = new FixedClock(new Date('2026-11-28T10:00:00Z'));

const fixtures = fs
  .readdirSync(fixtureDir)
  .filter((f) => f.endsWith('.eml'))
  .sort()
  .map((f) => ({ name: f, text: fs.readFileSync(path.join(fixtureDir, f)).toString('latin1') }));
if (fixtures.length === 0) throw new Error(`no .eml fixtures in ${fixtureDir}`);

const messageIdLine = /^(Message-I[Dd]:[ \t]*)(.*)$/gim;
/** `<abc@host>` → `<abc.tok@host>`; ids without `@` get the token appended. */
const tokenised = (value: string, token: string) => (value.includes('@') ? value.replace('@', `.${token}@`) : `${value.trimEnd()}.${token}`);

/** A fixture with a unique report Message-ID and the original's Message-ID(s) carrying `originalToken`. */
function vary(text: string, reportToken: string, originalToken: string): Buffer {
  const nl = text.includes('\r\n') ? '\r\n' : '\n';
  const end = text.indexOf(nl + nl);
  let head = end < 0 ? text : text.slice(0, end);
  const rest = end < 0 ? '' : text.slice(end);
  let hadId = false;
  head = head.replace(messageIdLine, (_m, name: string, value: string) => {
    hadId = true;
    return name + tokenised(value, reportToken);
  });
  if (!hadId) head += `${nl}Message-ID: <bench-${reportToken}@bench.invalid>`;
  return Buffer.from(head + rest.replace(messageIdLine, (_m, name: string, value: string) => name + tokenised(value, originalToken)), 'latin1');
}

/** `count` messages (prefix keeps warm-up messages apart from measured ones); deterministic. */
function generate(count: number, prefix: string): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const f = fixtures[i % fixtures.length]!;
    const back = i - fixtures.length * 3; // an earlier message of the same fixture
    if (i % 100 === 57 && back >= 0) out.push(out[back]!); // ~1%: the exact bytes again
    else if (i % 20 === 11 && back >= 0) out.push(vary(f.text, `${prefix}r${i}`, `${prefix}o${back}`)); // ~5%: the same original reported again
    else out.push(vary(f.text, `${prefix}r${i}`, `${prefix}o${i}`));
  }
  return out;
}

/** The variations must not change what the parser makes of a fixture. */
async function checkVariations(): Promise<void> {
  for (const f of fixtures) {
    const summary = async (raw: Buffer) => {
      const r = await parseComplaint(raw);
      return r.ok ? `${r.report.format}/${r.report.feedbackType}/${r.report.isComplaint}/${r.report.recipients.length}/${r.report.sourceIp}` : 'unparsed';
    };
    const before = await summary(Buffer.from(f.text, 'latin1'));
    const after = await summary(vary(f.text, 'check1', 'check2'));
    if (before !== after) console.log(`  WARNING: varying the ids of ${f.name} changes its parse: ${before} → ${after}`);
  }
}

/** Standard tenancy, three hosted domains the fixtures name (one only through a parent: server.domain4.tld), and mail IPs the fixtures report. */
async function seed(db: Knex): Promise<void> {
  await migrateLatest(db);
  const f = await buildTenancy(db, clock);
  for (const [account, name] of [
    [f.accounts.a1, 'example.net'],
    [f.accounts.a3, 'domain4.tld'],
    [f.accounts.b1, 'example.jp'],
  ] as const) {
    await createDomain(db, { accountId: account, name, type: 'addon', clock });
  }
  const at = toDbTime(clock.now());
  const ips: Array<[number, string]> = [
    [f.servers.s1, '192.0.2.2'],
    [f.servers.s1, '10.17.18.6'],
    [f.servers.s2, '192.0.2.1'],
    [f.servers.s2, '192.0.2.3'],
  ];
  await db('server_ips').insert(ips.map(([serverId, ip]) => ({ server_id: serverId, ip, created_at: at })));
}

async function run(label: string, db: Knex, options: IntakeOptions): Promise<void> {
  console.log(`${label}: ${messageCount.toLocaleString('en')} messages from ${fixtures.length} fixtures, 1,000 per ingestMany call`);
  await seed(db);
  const intake = new ComplaintIntakeService(db, clock, options);
  let queries = 0;
  db.on('query', () => (queries += 1));

  // Warm-up (JIT, caches) on other messages than the measured ones.
  for (const raw of generate(warmupCount, 'w')) {
    await simpleParser(raw);
    await intake.ingest(raw, 'cli', 'bench');
  }

  const messages = generate(messageCount, 'm');
  let parseMs = 0;
  let pipelineMs = 0;
  let stored = 0;
  const queriesBefore = queries;
  for (let start = 0; start < messages.length; start += chunk) {
    const slice = messages.slice(start, start + chunk);
    let t = performance.now();
    for (const raw of slice) await simpleParser(raw);
    parseMs += performance.now() - t;
    t = performance.now();
    for (const outcome of await intake.ingestMany(slice, 'upload', 'bench')) if ('stored' in outcome && outcome.stored) stored += 1;
    pipelineMs += performance.now() - t;
  }
  const perMessageQueries = (queries - queriesBefore) / messages.length;

  const statuses = (await db('complaints').select('status').count({ n: '*' }).groupBy('status').orderBy('status')) as Array<{ status: string; n: unknown }>;
  console.log(`  stored ${stored} new messages (${messages.length - stored} identical bytes); complaints by status: ${statuses.map((s) => `${s.status} ${Number(s.n)}`).join(', ')}`);
  const pipelineRate = messages.length / (pipelineMs / 1000);
  const parseRate = messages.length / (parseMs / 1000);
  console.log(`  ComplaintIntakeService.ingestMany ${pipelineRate.toFixed(0).padStart(7)} msg/s  (${(pipelineMs / messages.length).toFixed(3)} ms/msg, ${perMessageQueries.toFixed(1)} queries/msg)`);
  console.log(`  mailparser simpleParser (baseline) ${parseRate.toFixed(0).padStart(6)} msg/s  (${(parseMs / messages.length).toFixed(3)} ms/msg)`);
  console.log(`  ratio pipeline/mailparser: ${(pipelineRate / parseRate).toFixed(2)} (target ≥ 0.5)`);

  // For information: single-message calls on other messages of the same kind.
  const singles = generate(singleCount, 's');
  const t = performance.now();
  for (const raw of singles) await intake.ingest(raw, 'cli', 'bench');
  const singleMs = (performance.now() - t) / singles.length;
  console.log(`  (one message per call, ingest: ${(1000 / singleMs).toFixed(0)} msg/s, ${singleMs.toFixed(3)} ms/msg, on ${singles.length.toLocaleString('en')} messages)`);
}

setLogLevel('silent');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-intake-'));
const options = loadConfig({ DATA_DIR: dir, DEMO_DATA: 'off', LOG_LEVEL: 'silent' }).complaints;
await checkVariations();

fs.rmSync(dir, { recursive: true, force: true });
await onEachEngine('intake', (label, db) => run(label, db, options));
