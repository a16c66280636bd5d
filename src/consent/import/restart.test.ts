import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../lib/clock';
import { setLogLevel } from '../../lib/logger';
import { repoRoot } from '../../testing/cliRunner';
import { buildTenancy, type Tenancy } from '../../testing/factories';
import { engines, migratedTestDb, type TestDb } from '../../testing/testDb';
import { ConsentService } from '../consentService';
import { ImportService } from './importService';
import { ImportWorker } from './importWorker';
import type { ImportMode } from './types';

/**
 * Restart safety with a real crash: a child process runs the import worker (runImportWorker.ts) and
 * is killed with SIGKILL after some batches have committed; the worker then runs again here. The end
 * state must be the whole import (or, for a file with a bad row, none of it), with an intact chain
 * and no record twice, and the page data must announce the resume.
 */

const rows = 600;
const batch = 20;

describe.each(engines)('import killed mid-way on %s', { timeout: 180_000 }, (engine) => {
  let t: TestDb;
  let f: Tenancy;
  let consent: ConsentService;
  let imports: ImportService;
  let dataDir: string;
  let child: ChildProcess | null = null;

  beforeAll(async () => {
    setLogLevel('silent');
    t = await migratedTestDb(engine);
    f = await buildTenancy(t.db);
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'import-restart-'));
    consent = new ConsentService(t.db, systemClock);
    imports = new ImportService({ db: t.db, clock: systemClock, consent, dataDir, maxBytes: 10 * 1024 * 1024 });
  });
  afterAll(async () => {
    child?.kill('SIGKILL');
    await t?.cleanup();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const databaseUrl = () => (t.config.client === 'sqlite' ? `sqlite:${t.config.filename}` : t.config.url);

  async function queue(csv: string, mode: ImportMode): Promise<{ id: number; listId: number }> {
    const actor = f.actors.customerA1;
    const listId = await consent.createList(actor, { name: `Restart ${crypto.randomBytes(3).toString('hex')}`, domainId: f.domains.a1.main!, doubleOptIn: false, text: 'News' });
    fs.mkdirSync(imports.uploadDir, { recursive: true });
    const filePath = path.join(imports.uploadDir, `${crypto.randomBytes(8).toString('hex')}.csv`);
    fs.writeFileSync(filePath, csv);
    const id = await imports.create(actor, listId, { filename: 'big.csv', filePath, bytes: Buffer.byteLength(csv), sha256: crypto.createHash('sha256').update(csv).digest('hex') });
    const imp = await imports.get(actor, id);
    await imports.start(actor, id, { mode, hasHeader: 'yes', defaultMethod: 'import', mapping: imp.mapping });
    return { id, listId };
  }

  /** Starts the worker in a child process and kills that process with SIGKILL once `until` holds for a committed batch line ("batch <status> <line>"). */
  async function killWhen(until: (status: string, line: number) => boolean, delayMs = 40): Promise<void> {
    // node itself with tsx's loader, not the tsx CLI: the CLI runs node as a child, and SIGKILL on the CLI would leave that child running.
    const proc = spawn(process.execPath, ['--import', 'tsx', 'src/consent/import/runImportWorker.ts'], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? os.tmpdir(), DATABASE_URL: databaseUrl(), DATA_DIR: dataDir, LOG_LEVEL: 'silent', IMPORT_BATCH_SIZE: String(batch), IMPORT_BATCH_DELAY_MS: String(delayMs) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    let stderr = '';
    proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      let buffered = '';
      proc.stdout!.on('data', (d: Buffer) => {
        buffered += d.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        for (const l of lines) {
          const [, status, line] = l.split(' ');
          if (until(status ?? '', Number(line))) {
            proc.kill('SIGKILL');
            resolve();
          }
        }
      });
      void exited.then((code) => reject(new Error(`the worker exited (${code}) before it was killed:\n${stderr}\n${buffered}`)));
    });
    await exited;
    child = null;
    // Really gone (no orphan left running the worker).
    expect(() => process.kill(proc.pid!, 0)).toThrow();
  }

  const count = async (listId: number) => {
    const row = (await t.db('consent_records').where('list_id', listId).select(t.db.raw('count(*) as n'), t.db.raw('count(distinct email) as d')).first()) as { n: unknown; d: unknown };
    return { records: Number(row.n), distinct: Number(row.d) };
  };

  it('SIGKILL while records are written: the restarted worker completes the whole import, once, with an intact chain', async () => {
    const rows = 3000;
    const csv = ['email,method,consented_at', ...Array.from({ length: rows }, (_, i) => `user${i}@example.com,web_form,2026-01-01 10:00`)].join('\n');
    const { id, listId } = await queue(csv, 'all_or_nothing');
    // No pause between batches: the kill lands wherever the worker is, inside a transaction or not.
    await killWhen((status, line) => status === 'importing' && line > 200, 0);

    // What the killed process left: only whole batches, each with its chain events and progress.
    const left = (await imports.get(f.actors.customerA1, id))!;
    expect(left.status).toBe('importing');
    expect(left.linesDone).toBeGreaterThan(200);
    expect(left.linesDone).toBeLessThan(rows + 1);
    expect(left.rowsImported).toBeLessThan(rows);
    const partial = await count(listId);
    expect(partial.records).toBe(left.rowsImported);
    expect(partial.records).toBe(left.linesDone - 1);
    expect((left.linesDone - 1) % batch).toBe(0);

    // The heartbeat of the dead process is fresh: a worker waits for it to go stale (here: at once).
    await new ImportWorker({ db: t.db, clock: systemClock, batchSize: batch, staleAfterMs: 0 }).drain();
    const done = await imports.get(f.actors.customerA1, id);
    expect(done).toMatchObject({ status: 'done', rowsImported: rows, rowsConfirmed: rows, rowsRejected: 0 });
    expect(done.state.resumes).toEqual([{ at: expect.any(String), phase: 'importing', line: left.linesDone }]);
    expect(await count(listId)).toEqual({ records: rows, distinct: rows });
    expect(Number((await t.db('consent_records').where('list_id', listId).whereNull('import_event_id').count({ n: '*' }).first())?.n)).toBe(0);
    // Every row is in exactly one chained import event.
    const events = (await t.db('consent_events').where({ list_id: listId, type: 'records_imported' }).select('data')) as Array<{ data: string }>;
    const lines = events.flatMap((e) => (JSON.parse(e.data) as { records: Array<{ line: number }> }).records.map((r) => r.line)).sort((a, b) => a - b);
    expect(lines).toEqual(Array.from({ length: rows }, (_, i) => i + 2));
    expect((await consent.verifyChains()).every((c) => c.broken === null)).toBe(true);
  });

  it('SIGKILL while the file is checked: the check starts again and the import still stores none of a file with a bad row', async () => {
    const body = Array.from({ length: rows }, (_, i) => (i === rows - 5 ? 'not-an-address' : `check${i}@example.com`));
    const { id, listId } = await queue(['email', ...body].join('\n'), 'all_or_nothing');
    await killWhen((status, line) => status === 'validating' && line > 200);
    expect((await imports.get(f.actors.customerA1, id)).status).toBe('validating');
    await new ImportWorker({ db: t.db, clock: systemClock, batchSize: batch, staleAfterMs: 0 }).drain();
    const imp = await imports.get(f.actors.customerA1, id);
    expect(imp).toMatchObject({ status: 'rejected', rowsImported: 0, rowsRejected: 1 });
    expect(imp.state.resumes).toEqual([{ at: expect.any(String), phase: 'validating', line: 0 }]);
    expect((await imports.rejects(f.actors.customerA1, id, 10)).map((r) => r.line)).toEqual([rows - 5 + 2]);
    expect(await count(listId)).toEqual({ records: 0, distinct: 0 });
  });

  it('SIGKILL during a skip_bad import: the rest is imported on restart, in-file duplicates across the resume point still caught', async () => {
    // Row 500 (line 502) repeats row 7 (line 9): the first is before the resume point, the repeat after it.
    const body = Array.from({ length: rows }, (_, i) => (i === 500 ? 'skip7@example.com' : `skip${i}@example.com`));
    const { id, listId } = await queue(['email', ...body].join('\n'), 'skip_bad');
    await killWhen((status, line) => status === 'importing' && line > 200);
    await new ImportWorker({ db: t.db, clock: systemClock, batchSize: batch, staleAfterMs: 0 }).drain();
    const imp = await imports.get(f.actors.customerA1, id);
    expect(imp).toMatchObject({ status: 'done', rowsImported: rows - 1, rowsRejected: 1 });
    expect((await imports.rejects(f.actors.customerA1, id, 10)).map((r) => [r.line, r.reason])).toEqual([[502, 'duplicate: the same address as line 9']]);
    expect(await count(listId)).toEqual({ records: rows - 1, distinct: rows - 1 });
    expect((await consent.verifyChains()).every((c) => c.broken === null)).toBe(true);
  });
});
