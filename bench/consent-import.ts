/**
 * CSV import of consent records at scale. Generates N rows (default 1,000,000) into a temp CSV, then
 * per engine:
 *   import    the real path: ImportService.start + ImportWorker (all or nothing: a pass that checks
 *             every row, then the write pass with chained `records_imported` events and progress)
 *   baseline  the same file read with the same CSV reader (csv-parse behind src/consent/import/csvRows.ts)
 *             and the same rows inserted with bare batched multi-row INSERTs (same statement size and
 *             rows per transaction, no validation, no events, no progress)
 * Each side runs in its own child process on its own fresh database (same schema, one list each), so
 * its peak RSS (process.resourceUsage().maxRSS) and its index sizes are its own. Prints time, rows/s,
 * peak RSS and the ratio import ÷ baseline (target ≤ 1.5, peak RSS ≤ 300 MB). Never asserts times.
 * SQLite always; MariaDB/MySQL too when TEST_MYSQL_URL is set (a user that may create databases).
 *
 *   npx tsx bench/consent-import.ts [rows]
 *   BENCH_ROWS=50000 npx tsx bench/consent-import.ts
 *   TEST_MYSQL_URL=mysql://root@127.0.0.1:3306/test npx tsx bench/consent-import.ts
 *   BENCH_MODE=skip_bad …        the single-pass mode instead of all or nothing
 *   BENCH_ROUNDS=3 …            alternate baseline and import 3 times, keep the best of each (a busy machine)
 *   BENCH_CHILD_ARGS=--cpu-prof …  extra node flags for the measured child processes (profiling)
 */
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import knexFactory, { type Knex } from 'knex';
import type { DatabaseConfig } from '../src/config/schema';
import { ConsentService } from '../src/consent/consentService';
import { isBlank, readCsvChunks } from '../src/consent/import/csvRows';
import { importRepository, type ImportedRecord } from '../src/consent/import/importRepository';
import { ImportService } from '../src/consent/import/importService';
import { ImportWorker } from '../src/consent/import/importWorker';
import { parseImportDate } from '../src/consent/import/rowValidation';
import { toDbTime } from '../src/db/dialect';
import { createDb } from '../src/db/knex';
import { migrateLatest } from '../src/db/migrator';
import { systemClock } from '../src/lib/clock';
import { setLogLevel } from '../src/lib/logger';
import type { Actor } from '../src/tenancy/actor';
import { createAccount, createDomain, createServer } from '../src/testing/factories';

const self = fileURLToPath(import.meta.url);
const batchSize = 2000;
const mode = process.env.BENCH_MODE === 'skip_bad' ? 'skip_bad' : 'all_or_nothing';

interface Result {
  ms: number;
  rows: number;
  maxRssMb: number;
  status: string;
}

/** A fresh database with the schema, one customer account and one list; returns its config and the list id. */
async function prepare(engine: 'sqlite' | 'mysql', dir: string, name: string): Promise<{ config: DatabaseConfig; listId: number; accountId: number; drop(): Promise<void> }> {
  let config: DatabaseConfig;
  let drop = async () => {};
  if (engine === 'sqlite') {
    config = { client: 'sqlite', filename: path.join(dir, `${name}.sqlite`) };
  } else {
    const url = new URL(process.env.TEST_MYSQL_URL!);
    const dbName = `antispam_bench_${name}_${crypto.randomBytes(3).toString('hex')}`;
    const admin = knexFactory({ client: 'mysql2', connection: { host: url.hostname, port: Number(url.port || 3306), user: decodeURIComponent(url.username), password: decodeURIComponent(url.password) } });
    await admin.raw('CREATE DATABASE ?? CHARACTER SET utf8mb4', [dbName]);
    await admin.destroy();
    url.pathname = `/${dbName}`;
    config = { client: 'mysql', url: url.toString() };
    drop = async () => {
      const a = knexFactory({ client: 'mysql2', connection: { host: url.hostname, port: Number(url.port || 3306), user: decodeURIComponent(url.username), password: decodeURIComponent(url.password) } });
      await a.raw('DROP DATABASE IF EXISTS ??', [dbName]);
      await a.destroy();
    };
  }
  const db = createDb(config);
  await migrateLatest(db);
  const serverId = await createServer(db, { name: 'bench.example.net' });
  const accountId = await createAccount(db, { serverId, username: 'benchcust' });
  const domainId = await createDomain(db, { accountId, name: 'bench.example.com' });
  const actor: Actor = { userId: null, login: 'benchcust', role: 'customer', accountId };
  const listId = await new ConsentService(db, systemClock).createList(actor, { name: `Bench ${name}`, domainId, doubleOptIn: false, text: 'Yes, send me the newsletter.' });
  await db.destroy();
  return { config, listId, accountId, drop };
}

function generate(file: string, rows: number): void {
  const fd = fs.openSync(file, 'w');
  const base = Date.UTC(2025, 0, 1);
  let chunk = 'email,status,method,source,consented_at,ip\n';
  for (let i = 0; i < rows; i++) {
    // 90 % carry evidence (confirmed), 10 % only an address (pending).
    chunk += i % 10 === 9 ? `Subscriber${i}@Example${i % 97}.com,,,,,\n` : `subscriber${i}@example${i % 97}.com,,web_form,https://shop.example.com/signup,${toDbTime(new Date(base + i * 1000)).slice(0, 19)},192.0.2.${i % 250}\n`;
    if (chunk.length > 1 << 20) {
      fs.writeSync(fd, chunk);
      chunk = '';
    }
  }
  fs.writeSync(fd, chunk);
  fs.closeSync(fd);
}

/** Child: the real import of `file` into the list, through the service and the worker. */
async function childImport(config: DatabaseConfig, listId: number, accountId: number, file: string, dataDir: string): Promise<Result> {
  const db = createDb(config);
  const consent = new ConsentService(db, systemClock);
  const worker = new ImportWorker({ db, clock: systemClock, batchSize });
  const imports = new ImportService({ db, clock: systemClock, consent, dataDir, maxBytes: 10 * 1024 * 1024 * 1024, worker });
  const actor: Actor = { userId: null, login: 'benchcust', role: 'customer', accountId };
  const bytes = fs.statSync(file).size;
  const sha256 = crypto.createHash('sha256');
  for await (const c of fs.createReadStream(file)) sha256.update(c as Buffer);
  const id = await imports.create(actor, listId, { filename: path.basename(file), filePath: file, bytes, sha256: sha256.digest('hex') });
  const imp = await imports.get(actor, id);
  const start = performance.now();
  await imports.start(actor, id, { mode, defaultMethod: 'import', hasHeader: 'yes', mapping: imp.mapping });
  await worker.drain();
  const ms = performance.now() - start;
  const done = await imports.get(actor, id);
  await db.destroy();
  return { ms, rows: done.rowsImported, maxRssMb: process.resourceUsage().maxRSS / 1024, status: `${done.status}${done.error ? `: ${done.error}` : ''}` };
}

/** Child: the same file, same reader, bare batched inserts of the same rows. */
async function childBaseline(config: DatabaseConfig, listId: number, file: string): Promise<Result> {
  const db = createDb(config);
  const start = performance.now();
  const now = systemClock.now();
  let batch: ImportedRecord[] = [];
  let rows = 0;
  let header = true;
  const flush = async () => {
    const records = batch;
    batch = [];
    await db.transaction((trx) => importRepository.insertRecords(trx, listId, records, now));
  };
  for await (const chunk of readCsvChunks(file, { delimiter: ',' })) {
    for (const item of chunk) {
      if (item.kind !== 'row' || isBlank(item.fields)) continue;
      if (header) {
        header = false;
        continue;
      }
      const [email, , method, source, consentedAt, ip] = item.fields;
      const at = consentedAt ? parseImportDate(consentedAt) : null;
      const confirmed = !!at;
      batch.push({
        email: email!.toLowerCase(),
        status: confirmed ? 'confirmed' : 'pending',
        method: (method || 'import') as ImportedRecord['method'],
        source: source || null,
        consentTextVersion: 1,
        ip: ip || null,
        userAgent: null,
        consentedAt: at,
        confirmedAt: at,
        confirmedIp: confirmed ? ip || null : null,
        revokedAt: null,
        revokedHow: null,
      });
      rows++;
      if (batch.length >= batchSize) await flush();
    }
  }
  if (batch.length) await flush();
  const ms = performance.now() - start;
  await db.destroy();
  return { ms, rows, maxRssMb: process.resourceUsage().maxRSS / 1024, status: 'done' };
}

function runChild(args: string[]): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, ...(process.env.BENCH_CHILD_ARGS ?? '').split(' ').filter(Boolean), self, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('{')) return reject(new Error(`bench child ${args[1]} failed (exit ${code}):\n${out}`));
      resolve(JSON.parse(line) as Result);
    });
  });
}

const fmt = (n: number, digits = 0) => n.toLocaleString('en', { minimumFractionDigits: digits, maximumFractionDigits: digits });

async function main(): Promise<void> {
  setLogLevel('warn');
  const rows = Number(process.argv[2] ?? process.env.BENCH_ROWS ?? 1_000_000);
  const rounds = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 1));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-import-'));
  const file = path.join(dir, 'consent.csv');
  const genStart = performance.now();
  generate(file, rows);
  const size = fs.statSync(file).size;
  console.log(`${fmt(rows)} generated rows, ${fmt(size / 1024 / 1024, 1)} MB CSV (${fmt((performance.now() - genStart) / 1000, 1)} s to write); batches of ${fmt(batchSize)} rows`);
  const engines: Array<'sqlite' | 'mysql'> = process.env.TEST_MYSQL_URL ? ['sqlite', 'mysql'] : ['sqlite'];
  try {
    for (const engine of engines) {
      // Rounds alternate baseline and import on fresh databases; the best time of each is kept (less noise from other load).
      let baseline: Result | null = null;
      let result: Result | null = null;
      for (let round = 0; round < rounds; round++) {
        const base = await prepare(engine, dir, `baseline${round}`);
        const imp = await prepare(engine, dir, `import${round}`);
        try {
          const b = await runChild(['--child', 'baseline', JSON.stringify(base.config), String(base.listId), '0', file, dir]);
          const r = await runChild(['--child', 'import', JSON.stringify(imp.config), String(imp.listId), String(imp.accountId), file, dir]);
          if (!baseline || b.ms < baseline.ms) baseline = b;
          if (!result || r.ms < result.ms) result = r;
        } finally {
          await base.drop();
          await imp.drop();
        }
      }
      const line = (label: string, r: Result) =>
        `  ${label.padEnd(38)} ${fmt(r.ms / 1000, 1).padStart(7)} s  ${fmt(r.rows / (r.ms / 1000)).padStart(9)} rows/s  peak RSS ${fmt(r.maxRssMb).padStart(4)} MB  ${fmt(r.rows)} rows`;
      console.log(`${engine === 'sqlite' ? 'SQLite' : 'MariaDB/MySQL'}${rounds > 1 ? ` (best of ${rounds})` : ''}:`);
      console.log(line(mode === 'all_or_nothing' ? 'import (all or nothing, 2 passes)' : 'import (skip bad rows, 1 pass)', result!) + (result!.status === 'done' ? '' : `  (${result!.status})`));
      console.log(line('baseline (same reader + bare INSERTs)', baseline!));
      console.log(`  ratio import ÷ baseline ${fmt(result!.ms / baseline!.ms, 2)} (target ≤ 1.5); import peak RSS ${fmt(result!.maxRssMb)} MB (target ≤ 300 MB)`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') {
  setLogLevel('warn');
  const [, , , mode, configJson, listId, accountId, file, dataDir] = process.argv;
  const config = JSON.parse(configJson!) as DatabaseConfig;
  const result = mode === 'import' ? await childImport(config, Number(listId), Number(accountId), file!, dataDir!) : await childBaseline(config, Number(listId), file!);
  process.stdout.write(`${JSON.stringify(result)}\n`);
} else {
  await main();
}
