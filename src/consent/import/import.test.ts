import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError } from '../../lib/errors';
import type { Actor } from '../../tenancy/actor';
import { buildHarness, csrfFromHtml, loginAs, type Harness, type LoggedIn } from '../../testing/appHarness';
import { repoRoot, runCommand } from '../../testing/cliRunner';
import { engines } from '../../testing/testDb';
import { canonicalJson } from '../chain';
import { bundleJson } from '../evidence';
import { ImportWorker, type ImportWorkerOptions } from './importWorker';
import type { ColumnMapping, ImportMode } from './types';

/** The CSV import on each engine: service and worker rules, chain, pages, report, CSRF and tenancy. */

const verifierDir = fs.mkdtempSync(path.join(os.tmpdir(), 'import-verify-'));
fs.copyFileSync(path.join(repoRoot, 'src/consent/verify-bundle.mjs'), path.join(verifierDir, 'verify-bundle.mjs'));
afterAll(() => fs.rmSync(verifierDir, { recursive: true, force: true }));

describe.each(engines)('consent CSV import on %s', { timeout: 120_000 }, (engine) => {
  let h: Harness;
  let a1: LoggedIn;
  let b1: LoggedIn;
  let actor: Actor;
  let listB: number;
  const consent = () => h.container.consent;
  const imports = () => h.container.consentImports;

  beforeAll(async () => {
    h = await buildHarness(engine);
    actor = h.f.actors.customerA1;
    a1 = await loginAs(h.app, h.f.logins.customerA1, h.f.password);
    b1 = await loginAs(h.app, h.f.logins.customerB1, h.f.password);
    listB = await consent().createList(h.f.actors.customerB1, { name: 'B news', domainId: h.f.domains.b1.main!, doubleOptIn: false, text: 'B text' });
  });
  afterAll(async () => {
    await h?.cleanup();
  });

  let listCounter = 0;
  const newList = (name = `List ${++listCounter}`) => consent().createList(actor, { name, domainId: h.f.domains.a1.main!, doubleOptIn: false, text: 'Send me news' });

  /** Stores `csv` as an upload would, registers it and starts it; returns the import id. */
  async function queueImport(listId: number, csv: string | Buffer, opts: { mode?: ImportMode; mapping?: ColumnMapping; defaultMethod?: string } = {}): Promise<number> {
    fs.mkdirSync(imports().uploadDir, { recursive: true });
    const filePath = path.join(imports().uploadDir, `${crypto.randomBytes(8).toString('hex')}.csv`);
    const bytes = Buffer.from(csv);
    fs.writeFileSync(filePath, bytes);
    const id = await imports().create(actor, listId, { filename: 'people.csv', filePath, bytes: bytes.length, sha256: crypto.createHash('sha256').update(bytes).digest('hex') });
    const imp = await imports().get(actor, id);
    await imports().start(actor, id, { mode: opts.mode ?? 'all_or_nothing', defaultMethod: opts.defaultMethod ?? 'import', hasHeader: imp.options.hasHeader ? 'yes' : '', mapping: opts.mapping ?? imp.mapping, delimiter: imp.options.delimiter });
    return id;
  }

  const worker = (opts: Partial<ImportWorkerOptions> = {}) => new ImportWorker({ db: h.db, clock: h.clock, batchSize: 3, ...opts });
  const run = async (listId: number, csv: string | Buffer, opts: Parameters<typeof queueImport>[2] = {}, w = worker()) => {
    const id = await queueImport(listId, csv, opts);
    await w.drain();
    return imports().get(actor, id);
  };
  const counts = async () => ({
    records: Number((await h.db('consent_records').count({ n: '*' }).first())?.n),
    events: Number((await h.db('consent_events').count({ n: '*' }).first())?.n),
  });
  const rejectLines = async (id: number) => (await imports().rejects(actor, id, 100)).map((r) => [r.line, r.reason]);
  const recordsOf = async (listId: number) => (await consent().listRecords(actor, listId, { limit: 500 })).items;

  // Line 3 holds a quoted field with a newline: the next record starts on line 5.
  const malformed = [
    'email,status,method,source,consented_at',
    'ok1@example.com,,web_form,,2026-01-01 10:00',
    'ok2@example.com,pending,,"shop, checkout',
    'page 2",',
    'not-an-address,,,,',
    'ok3@example.com,confirmed,,,2026-01-01',
    'ok4@example.com,,"bad"quote,,',
    'OK1@Example.com,,,,',
    'ok5@example.com,,,,2999-01-01 00:00',
    '',
    'ok6@example.com,sure,,,31/12/2025',
  ].join('\r\n');

  describe('all or nothing', () => {
    it('a malformed CSV reports the right line numbers and stores nothing', async () => {
      const listId = await newList();
      const before = await counts();
      const imp = await run(listId, malformed);
      expect(imp.status).toBe('rejected');
      expect(await rejectLines(imp.id)).toEqual([
        [5, 'email "not-an-address" is not a valid address'],
        [6, expect.stringMatching(/^status confirmed needs evidence in the file/)],
        [7, expect.stringMatching(/^malformed CSV: a closing quote is followed by other characters/)],
        [8, 'duplicate: the same address as line 2'],
        [9, 'consented_at "2999-01-01 00:00" is in the future'],
        [11, expect.stringMatching(/^status "sure" is not one of .*; consented_at "31\/12\/2025" is not a date/)],
      ]);
      expect(imp.rowsRejected).toBe(6);
      expect(imp.rowsImported).toBe(0);
      expect(imp.error).toMatch(/^6 of 8 rows were rejected, so nothing was imported \(all or nothing\)/);
      // Only the list's own creation event: no record, no import event.
      expect(await counts()).toEqual({ records: before.records, events: before.events });
      expect(await recordsOf(listId)).toEqual([]);
    });

    it('an address already in the list rejects the whole file', async () => {
      const listId = await newList();
      await consent().addRecord(actor, listId, { email: 'known@example.com', status: 'confirmed', method: 'web_form', consentedAt: new Date('2026-01-01T00:00:00Z') });
      const imp = await run(listId, 'email\nnew@example.com\nKNOWN@example.com\n');
      expect(imp.status).toBe('rejected');
      expect(await rejectLines(imp.id)).toEqual([[3, 'already in this list (confirmed)']]);
      expect((await recordsOf(listId)).map((r) => r.email)).toEqual(['known@example.com']);
    });

    it('imports a clean file in batches: one chain event per batch chunk, records pointing at it, chain intact', async () => {
      const listId = await newList();
      const csv = ['Email;Opt-in date;Method;Source;IP', ...Array.from({ length: 8 }, (_, i) => `user${i}@Example.com;2026-02-0${i + 1} 08:00;web form;;192.0.2.${i}`), 'plain@example.com;;;;', 'gone@example.com;;;;'].join('\n');
      const imp = await run(listId, csv);
      expect(imp).toMatchObject({ status: 'done', rowsImported: 10, rowsConfirmed: 8, rowsPending: 2, rowsRejected: 0, linesDone: 11 });
      const records = await recordsOf(listId);
      expect(records.map((r) => r.email)).toContain('user0@example.com');
      const user0 = records.find((r) => r.email === 'user0@example.com')!;
      expect(user0).toMatchObject({ status: 'confirmed', method: 'web_form', ip: '192.0.2.0', consentTextVersion: 1 });
      expect(user0.confirmedAt?.toISOString()).toBe('2026-02-01T08:00:00.000Z');
      const events = (await h.db('consent_events').where({ list_id: listId, type: 'records_imported' }).orderBy('seq')) as Array<{ id: number; data: string; record_id: number | null; actor: string }>;
      // Batches of 3 rows: 4 batches, each one event.
      expect(events).toHaveLength(4);
      expect(events.every((e) => e.record_id === null && e.actor === actor.login)).toBe(true);
      const first = JSON.parse(events[0]!.data) as { importId: number; fromLine: number; toLine: number; records: Array<Record<string, unknown>> };
      expect(first).toMatchObject({ importId: imp.id, fromLine: 2, toLine: 4 });
      expect(first.records[0]).toEqual({ line: 2, email: 'user0@example.com', status: 'confirmed', method: 'web_form', consentedAt: '2026-02-01 08:00:00.000', ip: '192.0.2.0', consentTextVersion: 1 });
      // Written from the spool's text as it is: still exactly the canonical JSON of the data.
      for (const e of events) expect(e.data).toBe(canonicalJson(JSON.parse(e.data)));
      expect(JSON.parse(events[3]!.data).records).toEqual([{ line: 11, email: 'gone@example.com', status: 'pending', method: 'import', consentTextVersion: 1 }]);
      const pointing = (await h.db('consent_records').where('list_id', listId).select('email', 'import_event_id')) as Array<{ email: string; import_event_id: number }>;
      expect(new Set(pointing.map((p) => Number(p.import_event_id)))).toEqual(new Set(events.map((e) => Number(e.id))));
      expect((await consent().verifyChains()).every((c) => c.broken === null)).toBe(true);
      // The record's timeline shows the import event, narrowed to its own entry.
      const timeline = await consent().timeline(actor, user0.id);
      expect(timeline.map((e) => e.type)).toEqual(['records_imported']);
      expect(timeline[0]!.data).toMatchObject({ importId: imp.id, line: 2, email: 'user0@example.com', status: 'confirmed' });
      // An evidence bundle of an imported record verifies with the standalone verifier, also after a later revocation.
      await consent().revokeRecord(actor, user0.id, 'complaint');
      for (const scope of [{ kind: 'record' as const, id: user0.id }, { kind: 'list' as const, id: listId }]) {
        const bundle = await consent().evidence(actor, scope);
        const file = path.join(verifierDir, `bundle-${engine}-${scope.kind}.json`);
        fs.writeFileSync(file, bundleJson(bundle));
        const out = await runCommand(process.execPath, ['verify-bundle.mjs', file], { cwd: verifierDir });
        expect(out.stdout + out.stderr, scope.kind).toMatch(/^OK /);
      }
    });

    it('a row whose address got a record between the passes is skipped and reported; the import ends done with a note', async () => {
      const listId = await newList();
      const csv = 'email\nfirst@example.com\nlate@example.com\nlast@example.com\n';
      let added = false;
      const w = worker({
        batchSize: 100,
        afterBatch: async (p) => {
          if (p.status !== 'validating' || added) return;
          added = true;
          await consent().unsubscribe(listId, 'late@example.com');
        },
      });
      const imp = await run(listId, csv, {}, w);
      expect(imp).toMatchObject({ status: 'done', rowsImported: 2, rowsRejected: 1 });
      expect(imp.error).toMatch(/^1 row was skipped because the address got a record in this list while the import ran/);
      expect(await rejectLines(imp.id)).toEqual([[3, 'skipped: the address got a record in this list while the import ran (now revoked); that record was left as it is']]);
      expect((await recordsOf(listId)).map((r) => [r.email, r.status])).toEqual([
        ['first@example.com', 'pending'],
        ['last@example.com', 'pending'],
        ['late@example.com', 'revoked'],
      ]);
      const page = await a1.agent.get(`/customer/consent/imports/${imp.id}`);
      expect(page.text).toContain('data-testid="import-note"');
    });

    it('cannot be cancelled once the checked file is being written; a queued one can', async () => {
      const listId = await newList();
      const id = await queueImport(listId, 'email\na@example.com\n');
      await h.db('consent_imports').where('id', id).update({ status: 'importing' });
      await expect(imports().cancel(actor, id)).rejects.toBeInstanceOf(ConflictError);
      await h.db('consent_imports').where('id', id).update({ status: 'queued' });
      expect((await imports().cancel(actor, id)).status).toBe('cancelled');
      expect(fs.existsSync((await imports().get(actor, id)).filePath)).toBe(false);
      await worker().drain();
      expect((await imports().get(actor, id)).status).toBe('cancelled');
      expect(await recordsOf(listId)).toEqual([]);
    });
  });

  describe('skip bad rows', () => {
    it('stores the good rows and reports the bad ones with their lines', async () => {
      const listId = await newList();
      const existing = await consent().addRecord(actor, listId, { email: 'known@example.com', status: 'pending', method: 'manual' });
      const imp = await run(listId, `${malformed}\r\nKnown@example.com,,,,\r\n`, { mode: 'skip_bad' });
      expect(imp.status).toBe('done');
      expect((await rejectLines(imp.id)).map(([line]) => line)).toEqual([5, 6, 7, 8, 9, 11, 12]);
      expect((await rejectLines(imp.id)).at(-1)).toEqual([12, 'already in this list (pending)']);
      expect(imp).toMatchObject({ rowsImported: 2, rowsConfirmed: 1, rowsPending: 1, rowsRejected: 7 });
      expect((await recordsOf(listId)).map((r) => [r.email, r.status, r.source])).toEqual([
        ['known@example.com', 'pending', null],
        ['ok1@example.com', 'confirmed', null],
        ['ok2@example.com', 'pending', 'shop, checkout\r\npage 2'],
      ]);
      expect((await consent().getRecord(actor, existing)).status).toBe('pending');
      expect((await consent().verifyChains()).every((c) => c.broken === null)).toBe(true);
    });

    it('imports revoked (unsubscribed) rows and the default method; counts confirmed, pending and revoked', async () => {
      const listId = await newList();
      const csv = 'email,status,source,consented_at\na@example.com,,https://form,2026-01-01\nb@example.com,unsubscribed,,\nc@example.com,,,\n';
      const imp = await run(listId, csv, { mode: 'skip_bad', defaultMethod: 'paper' });
      expect(imp).toMatchObject({ status: 'done', rowsImported: 3, rowsConfirmed: 1, rowsPending: 1, rowsRejected: 0 });
      expect((await recordsOf(listId)).map((r) => [r.email, r.status, r.method, r.revokedHow])).toEqual([
        ['a@example.com', 'confirmed', 'paper', null],
        ['b@example.com', 'revoked', 'paper', 'unsubscribe'],
        ['c@example.com', 'pending', 'paper', null],
      ]);
      // An unsubscribed import stays suppressed: adding the address again is refused as revoked.
      await expect(consent().addRecord(actor, listId, { email: 'b@example.com', status: 'pending', method: 'manual' })).rejects.toThrow(/revoked/);
    });

    it('a stopped skip_bad import says exactly how many rows were stored', async () => {
      const listId = await newList();
      const id = await queueImport(listId, ['email', ...Array.from({ length: 9 }, (_, i) => `s${i}@example.com`)].join('\n'), { mode: 'skip_bad' });
      let batches = 0;
      await worker({
        afterBatch: async () => {
          if (++batches === 2) await imports().cancel(actor, id);
        },
      }).drain();
      const imp = await imports().get(actor, id);
      expect(imp).toMatchObject({ status: 'cancelled', rowsImported: 6, linesDone: 7 });
      expect((await recordsOf(listId)).length).toBe(6);
      expect(imp.finishedAt).not.toBeNull();
      const page = await a1.agent.get(`/customer/consent/imports/${id}`);
      expect(page.text).toContain('Cancelled: 6 rows were stored (up to line 7); the rest of the file was not imported.');
    });
  });

  describe('confirmation mails', () => {
    it('asks the sender to confirm the rows imported as pending, once the import is complete, only for double opt-in lists', async () => {
      expect(imports().canSendConfirmations).toBe(true);
      const listId = await consent().createList(actor, { name: 'DOI', domainId: h.f.domains.a1.main!, doubleOptIn: true, text: 'News' });
      const id = await queueImport(listId, 'email,method,consented_at\nsure@example.com,web_form,2026-01-01\nmaybe1@example.com,,\nmaybe2@example.com,,\n');
      // The form's checkbox: start() is given sendConfirmations.
      await h.db('consent_imports').where('id', id).update({ status: 'uploaded' });
      const imp = await imports().get(actor, id);
      await imports().start(actor, id, { mode: 'skip_bad', defaultMethod: 'import', hasHeader: 'yes', sendConfirmations: 'yes', mapping: imp.mapping });
      const calls: Array<[number, number[]]> = [];
      await worker({ sender: { sendForImported: async (l, ids) => void calls.push([l, ids]) } }).drain();
      const done = await imports().get(actor, id);
      expect(done.status).toBe('done');
      const pending = (await recordsOf(listId)).filter((r) => r.status === 'pending').map((r) => r.id).sort((a, b) => a - b);
      expect(calls).toEqual([[listId, pending]]);
      expect(done.state.confirmations).toBe('Confirmation mails requested for 2 pending records.');
      // Without double opt-in on the list, the option is not kept.
      const plain = await newList();
      const other = await queueImport(plain, 'email\nx@example.com\n');
      await h.db('consent_imports').where('id', other).update({ status: 'uploaded' });
      const started = await imports().start(actor, other, { mode: 'skip_bad', hasHeader: 'yes', sendConfirmations: 'yes', mapping: ['email'] });
      expect(started.options.sendConfirmations).toBe(false);
      await imports().cancel(actor, other);
    });
  });

  describe('interruptions', () => {
    it('a run that fails is handed back and resumed after the last committed batch; the page announces it', async () => {
      const listId = await newList();
      const csv = ['email', ...Array.from({ length: 10 }, (_, i) => `r${i}@example.com`)].join('\n');
      const id = await queueImport(listId, csv);
      let writes = 0;
      await worker({
        afterBatch: (p) => {
          if (p.status === 'importing' && ++writes === 2) throw new Error('connection lost');
        },
      }).drain();
      let imp = await imports().get(actor, id);
      expect(imp).toMatchObject({ status: 'importing', rowsImported: 6, linesDone: 7, leaseHolder: null });
      expect(imp.state.attempts).toBe(1);
      // The back-off: not taken again until its heartbeat is stale.
      expect(await worker().runOnce()).toBeNull();
      await worker({ staleAfterMs: -1 }).drain();
      imp = await imports().get(actor, id);
      expect(imp).toMatchObject({ status: 'done', rowsImported: 10 });
      expect(imp.state.resumes).toEqual([{ at: expect.any(String), phase: 'importing', line: 7 }]);
      expect((await recordsOf(listId)).length).toBe(10);
      expect((await consent().verifyChains()).every((c) => c.broken === null)).toBe(true);
      const page = await a1.agent.get(`/customer/consent/imports/${id}`);
      expect(page.text).toContain('Resumed after an interruption at line 7');
    });

    it('an import whose worker died (stale heartbeat) is taken over; one that keeps failing ends failed, saying what was stored', async () => {
      const listId = await newList();
      const id = await queueImport(listId, ['email', ...Array.from({ length: 10 }, (_, i) => `f${i}@example.com`)].join('\n'), { mode: 'skip_bad' });
      // A live lease of another process is left alone…
      await h.db('consent_imports').where('id', id).update({ lease_holder: 'other-host:1', heartbeat_at: h.db.raw('heartbeat_at'), status: 'queued' });
      await h.db('consent_imports').where('id', id).update({ heartbeat_at: new Date(h.clock.now().getTime() - 1000).toISOString().replace('T', ' ').replace('Z', '') });
      expect(await worker().runOnce()).toBeNull();
      // …until its heartbeat is older than staleAfterMs; then every run fails after one batch.
      const failing = () => worker({ staleAfterMs: 500, afterBatch: () => Promise.reject(new Error('disk full')) });
      for (let i = 0; i < 3; i++) {
        await h.db('consent_imports').where('id', id).update({ heartbeat_at: '2000-01-01 00:00:00.000' });
        await failing().drain();
      }
      const imp = await imports().get(actor, id);
      expect(imp.status).toBe('failed');
      // Three runs of one batch (3 rows) each.
      expect(imp.error).toBe('The import failed: disk full 9 rows were stored (up to line 10); the rest of the file was not imported. Importing the file again reports the stored rows as already in the list.');
      expect((await recordsOf(listId)).length).toBe(9);
    });
  });

  describe('pages', () => {
    const uploadPath = (listId: number, csrf: string) => `/customer/consent/lists/${listId}/import?_csrf=${encodeURIComponent(csrf)}`;

    it('a customer uploads, maps, starts, follows and downloads the report (BOM, CRLF and semicolons are fine)', async () => {
      const listId = await newList('Page list');
      const listPage = await a1.agent.get(`/customer/consent/lists/${listId}`);
      expect(listPage.text).toContain(`href="/customer/consent/lists/${listId}/import"`);
      const form = await a1.agent.get(`/customer/consent/lists/${listId}/import`);
      expect(form.status).toBe(200);
      expect(form.text).toContain('data-testid="imports-empty"');
      const csrf = csrfFromHtml(form.text);
      const csv = '\uFEFFName;E-mail;Opt-in date\r\nJane;jane@example.com;2026-01-01 10:00\r\nBad;nope;\r\nJoe;joe@example.com;\r\n';
      const uploaded = await a1.agent.post(uploadPath(listId, csrf)).attach('file', Buffer.from(csv), 'people.csv');
      expect(uploaded.status, uploaded.text.slice(0, 500)).toBe(302);
      const mappingPath = String(uploaded.headers.location);
      expect(mappingPath).toMatch(/^\/customer\/consent\/imports\/\d+\/mapping$/);
      const id = Number(mappingPath.split('/')[4]);
      const mapping = await a1.agent.get(mappingPath);
      expect(mapping.status).toBe(200);
      expect(mapping.text).toContain('jane@example.com');
      expect(mapping.text).toMatch(/<option value="email" selected>/);
      // The status page of an import not started yet leads to the mapping.
      expect((await a1.agent.get(`/customer/consent/imports/${id}`)).headers.location).toBe(mappingPath);
      const noEmail = await a1.agent.post(mappingPath).type('form').send({ _csrf: csrf, col0: 'ignore', col1: 'ignore', col2: 'consented_at', hasHeader: 'yes', mode: 'skip_bad', defaultMethod: 'import', delimiter: ';' });
      expect(noEmail.status).toBe(422);
      expect(noEmail.text).toContain('Choose the column that holds the email addresses.');
      // "Show the columns again" with the header box unticked: the first row becomes data, columns are numbered; nothing starts.
      const refreshed = await a1.agent.post(mappingPath).type('form').send({ _csrf: csrf, action: 'refresh', col0: 'ignore', col1: 'email', col2: 'ignore', mode: 'skip_bad', defaultMethod: 'import', delimiter: ';' });
      expect(refreshed.status).toBe(200);
      expect(refreshed.text).toContain('Column 1');
      expect(refreshed.text).toMatch(/<td class="text-truncate">E-mail<\/td>/);
      expect((await imports().get(actor, id)).status).toBe('uploaded');
      const started = await a1.agent.post(mappingPath).type('form').send({ _csrf: csrf, col0: 'ignore', col1: 'email', col2: 'consented_at', hasHeader: 'yes', mode: 'skip_bad', defaultMethod: 'web_form', delimiter: ';' });
      expect(started.status).toBe(302);
      expect(started.headers.location).toBe(`/customer/consent/imports/${id}`);
      const queued = await a1.agent.get(`/customer/consent/imports/${id}`);
      expect(queued.text).toContain('<progress id="import-progress"');
      expect(queued.text).toContain('src="/static/consent-import.js"');
      expect(queued.text).toContain('data-testid="import-reload"');
      const json = await a1.agent.get(`/customer/consent/imports/${id}/status.json`);
      expect(json.body).toMatchObject({ id, status: 'queued', percent: 0, finished: false });
      await worker().drain();
      const done = await a1.agent.get(`/customer/consent/imports/${id}`);
      expect(done.text).toMatch(/data-testid="import-status"><span class="badge text-bg-success">done/);
      expect(done.text).toContain('Imported 2 rows: 0 confirmed, 2 pending. 1 row rejected: see the report.');
      expect(done.text).not.toContain('consent-import.js');
      expect((await a1.agent.get(`/customer/consent/imports/${id}/status.json`)).body).toMatchObject({ status: 'done', percent: 100, finished: true, rowsImported: 2, rowsRejected: 1 });
      const report = await a1.agent.get(`/customer/consent/imports/${id}/report.csv`);
      expect(report.status).toBe(200);
      expect(report.headers['content-type']).toMatch(/^text\/csv/);
      expect(report.headers['content-disposition']).toContain(`import-${id}-rejected-rows.csv`);
      expect(report.text).toBe('line,email,reason,raw\r\n3,,"email ""nope"" is not a valid address",Bad;nope;\r\n');
      const past = await a1.agent.get(`/customer/consent/lists/${listId}/import`);
      expect(past.text).toContain(`href="/customer/consent/imports/${id}"`);
    });

    it('refuses Latin-1, empty, header-only and oversized files with a clear message, and keeps nothing', async () => {
      const listId = await newList();
      const csrf = await a1.csrf(`/customer/consent/lists/${listId}/import`);
      const before = fs.existsSync(imports().uploadDir) ? fs.readdirSync(imports().uploadDir) : [];
      const send = (body: Buffer) => a1.agent.post(uploadPath(listId, csrf)).attach('file', body, 'people.csv');
      const latin1 = await send(Buffer.concat([Buffer.from('email,name\r\na@example.com,Ann\r\nb@example.com,M'), Buffer.from([0xfc]), Buffer.from('ller\r\n')]));
      expect(latin1.status).toBe(422);
      expect(latin1.text).toContain('Line 3 is not valid UTF-8 (byte 0xFC) — save the file as UTF-8 (it looks like Windows-1252/Latin-1');
      const empty = await send(Buffer.alloc(0));
      expect(empty.status).toBe(422);
      expect(empty.text).toContain('The file is empty');
      const headerOnly = await send(Buffer.from('email,status\r\n\r\n'));
      expect(headerOnly.status).toBe(422);
      expect(headerOnly.text).toContain('The file has a header row (line 1) but no data rows');
      const none = await a1.agent.post(uploadPath(listId, csrf)).field('other', 'x');
      expect(none.status).toBe(422);
      expect(none.text).toContain('Choose a CSV file to upload.');
      expect(fs.readdirSync(imports().uploadDir)).toEqual(before);
      expect(await imports().forList(actor, listId)).toEqual([]);

      const small = await buildHarness(engine, { env: { CONSENT_IMPORT_MAX_MB: '1' } });
      try {
        const customer = await loginAs(small.app, small.f.logins.customerA1, small.f.password);
        const smallList = await small.container.consent.createList(small.f.actors.customerA1, { name: 'L', domainId: small.f.domains.a1.main!, doubleOptIn: false, text: 't' });
        const token = await customer.csrf(`/customer/consent/lists/${smallList}/import`);
        const big = Buffer.from(`email\n${'someone@example.com\n'.repeat(60_000)}`);
        const res = await customer.agent.post(uploadPath(smallList, token)).attach('file', big, 'big.csv');
        expect(res.status).toBe(413);
        expect(res.text).toContain('The file is larger than the import limit of 1 MB (CONSENT_IMPORT_MAX_MB)');
        expect(fs.existsSync(small.container.consentImports.uploadDir) ? fs.readdirSync(small.container.consentImports.uploadDir).filter((f) => f.endsWith('.csv')).length : 0).toBe(fs.existsSync(imports().uploadDir) ? fs.readdirSync(imports().uploadDir).length : 0);
      } finally {
        await small.cleanup();
      }
    });

    it('an upload without the CSRF token (or with a wrong one) is refused before anything is stored', async () => {
      const listId = await newList();
      const before = fs.existsSync(imports().uploadDir) ? fs.readdirSync(imports().uploadDir).length : 0;
      for (const url of [`/customer/consent/lists/${listId}/import`, `/customer/consent/lists/${listId}/import?_csrf=forged`]) {
        const res = await a1.agent.post(url).attach('file', Buffer.from('email\na@example.com\n'), 'x.csv');
        expect(res.status, url).toBe(403);
        expect(res.text).toContain('This form has expired');
      }
      // A token in the query is only read for multipart bodies: an ordinary form must carry it in its body.
      const csrf = await a1.csrf(`/customer/consent/lists/${listId}/import`);
      expect((await a1.agent.post(`/logout?_csrf=${encodeURIComponent(csrf)}`).type('form').send({})).status).toBe(403);
      expect(fs.existsSync(imports().uploadDir) ? fs.readdirSync(imports().uploadDir).length : 0).toBe(before);
      expect(await imports().forList(actor, listId)).toEqual([]);
    });

    it('another account\'s list or import is a 404 on every import page, and nothing changes', async () => {
      const listId = await newList();
      const id = await queueImport(listId, 'email\na@example.com\nbad\n', { mode: 'skip_bad' });
      await worker().drain();
      const csrfB = await b1.csrf('/customer/consent');
      for (const p of [`/customer/consent/lists/${listId}/import`, `/customer/consent/imports/${id}`, `/customer/consent/imports/${id}/mapping`, `/customer/consent/imports/${id}/status.json`, `/customer/consent/imports/${id}/report.csv`]) {
        expect((await b1.agent.get(p)).status, p).toBe(404);
      }
      expect((await b1.agent.post(`/customer/consent/imports/${id}/cancel`).type('form').send({ _csrf: csrfB })).status).toBe(404);
      expect((await b1.agent.post(`/customer/consent/imports/${id}/mapping`).type('form').send({ _csrf: csrfB, col0: 'email' })).status).toBe(404);
      const upload = await b1.agent.post(`/customer/consent/lists/${listId}/import?_csrf=${encodeURIComponent(csrfB)}`).attach('file', Buffer.from('email\nsneak@example.com\n'), 'x.csv');
      expect(upload.status).toBe(404);
      await expect(imports().get(h.f.actors.customerB1, id)).rejects.toBeInstanceOf(NotFoundError);
      expect((await imports().forList(actor, listId)).length).toBe(1);
      // A's page for B's list is a 404 too.
      expect((await a1.agent.get(`/customer/consent/lists/${listB}/import`)).status).toBe(404);
      // Resellers and admins do not reach the customer pages.
      const reseller = await loginAs(h.app, h.f.logins.resellerA, h.f.password);
      expect((await reseller.agent.get(`/customer/consent/imports/${id}`)).status).toBe(403);
      expect((await request(h.app).get(`/customer/consent/imports/${id}`)).status).toBe(302);
    });
  });
});
