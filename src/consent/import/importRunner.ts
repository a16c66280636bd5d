import crypto from 'node:crypto';
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Knex } from 'knex';
import { isLockConflict, isUniqueViolation, toDbTime } from '../../db/dialect';
import type { Clock } from '../../lib/clock';
import { logger } from '../../lib/logger';
import { systemActor } from '../../tenancy/actor';
import { consentRepository, type ChainEnd } from '../consentRepository';
import type { ConsentList } from '../types';
import { importRepository, type ImportedRecord } from './importRepository';
import { entryFields, entryPrefix, eventDataJson, type EntryRow } from './importEvent';
import { BatchReader, hasRow, type Batch, type Checked, type Position } from './importBatches';
import { SeenAddresses } from './seenAddresses';
import { removeSpool, SpoolWriter, spoolComplete } from './spool';
import { ImportFileError, type ConsentImport, type ImportConfirmationSender, type ImportReject, type ImportState, type ImportStatus } from './types';

/**
 * Runs one import whose lease this worker holds (see importWorker.ts for polling and leases).
 *
 * all_or_nothing: pass 1 streams the file and checks every row (format, duplicates in the file and
 * in the list) writing only rejects and progress; any reject ends the import `rejected` with nothing
 * stored. Pass 2 reads the checked rows pass 1 spooled (spool.ts; the CSV again when the spool is
 * missing) and writes batches: each transaction holds the batch's chain events, its records and the
 * import's progress, so after a crash pass 2 resumes after the last committed record (lines_done /
 * bytes_done), and a crash in pass 1 restarts pass 1.
 * skip_bad: one pass; each transaction holds the batch's rejects, events, records and progress.
 *
 * Chain: records of a batch are chained in `records_imported` events of at most ~60 KB of data each
 * (consent_events.data is TEXT, 64 KB, on MySQL): usually 250–400 rows per event. Each event is
 * appended before its records, which point at it through consent_records.import_event_id.
 */

export interface RunContext {
  db: Knex;
  clock: Clock;
  holder: string;
  batchSize: number;
  sender?: ImportConfirmationSender | null;
  /** True when the worker is stopping: the run stops at the next batch boundary and hands the import back. */
  stopping(): boolean;
  /** Test and bench hook: called after each committed batch. */
  afterBatch?: (progress: { id: number; status: ImportStatus; linesDone: number }) => Promise<void> | void;
}

/** Largest data of one records_imported event, in bytes of JSON (MySQL TEXT holds 65,535). */
export const maxEventDataBytes = 60_000;
/** A failing run (database down, …) is retried this many times before the import is marked failed. */
export const maxAttempts = 3;

class LeaseLost extends Error {}

/** What a batch writes: its records (in order) and the chain events listing them (each the next `count` records). */
interface BatchWrite {
  records: ImportedRecord[];
  events: Array<{ dataJson: string; count: number }>;
}

/** The worker is stopping: the import was handed back in `status`. */
class HandedBack extends Error {
  constructor(readonly status: ImportStatus) {
    super(`handed back while ${status}`);
  }
}

async function fileSha256(filePath: string): Promise<string> {
  const hash = crypto.createHash('sha256');
  for await (const chunk of fs.createReadStream(filePath, { highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export class ImportRun {
  private readonly reader: BatchReader;
  private state: ImportState;
  private lostLease = false;
  private readonly heartbeat: NodeJS.Timeout;
  /**
   * Whether each batch must look its addresses up in the list. Not needed while the list has not
   * changed since the rows were checked: every change to a record appends a consent event in the same
   * transaction, so "no event of this list since seq `listSeq`" (read under the account's chain lock)
   * means no new record. The unique index on (list_id, email) stays the safety net: a violation
   * retries the batch with the lookup.
   */
  private lookups = true;
  /** The account's last chain seq when the list was last known unchanged (null: unknown, always look up). */
  private listSeq: number | null = null;

  constructor(
    private readonly ctx: RunContext,
    private imp: ConsentImport,
    private readonly list: ConsentList,
    heartbeatMs: number,
  ) {
    this.reader = new BatchReader(imp, ctx.batchSize, ctx.clock);
    this.state = { ...imp.state };
    this.heartbeat = setInterval(() => {
      importRepository.heartbeat(ctx.db, imp.id, ctx.holder, ctx.clock.now()).then(
        (held) => {
          if (!held) this.lostLease = true;
        },
        (err: unknown) => logger.warn('import heartbeat failed', { importId: imp.id, error: String(err) }),
      );
    }, heartbeatMs);
    this.heartbeat.unref();
  }

  /** Runs the import from the status it had when taken; returns the status it ends in (or holds when handed back). */
  async run(previous: ImportStatus): Promise<ImportStatus> {
    try {
      if (previous === 'validating' || previous === 'importing') {
        this.state.resumes = [...(this.state.resumes ?? []), { at: toDbTime(this.ctx.clock.now()), phase: previous, line: previous === 'validating' ? 0 : this.imp.linesDone }];
        await this.saveState();
        logger.info('import resumed after an interruption', { importId: this.imp.id, phase: previous, line: this.imp.linesDone });
      }
      if ((await fileSha256(this.imp.filePath)) !== this.imp.fileSha256) throw new ImportFileError('The stored file no longer matches the uploaded file (its SHA-256 changed): upload it again.');
      if (this.imp.mode === 'all_or_nothing') {
        if (previous === 'queued' || previous === 'validating') {
          const passed = await this.validateAll(previous);
          if (!passed) return 'rejected';
        }
        return await this.write('importing');
      }
      return await this.write(previous === 'queued' ? 'queued' : 'importing');
    } catch (err) {
      if (err instanceof HandedBack) return err.status;
      return this.failed(err);
    } finally {
      clearInterval(this.heartbeat);
    }
  }

  private async saveState(): Promise<void> {
    await importRepository.setState(this.ctx.db, this.imp.id, this.imp.options, this.state, this.ctx.clock.now());
  }

  private check(): void {
    if (this.lostLease) throw new LeaseLost();
  }

  /** Rejects rows whose address already has a record in the list. */
  private async checkList(db: Knex | Knex.Transaction, items: Checked[], reason: (status: string) => string): Promise<number> {
    const emails = items.filter((c) => c.row).map((c) => c.row!.email);
    if (!emails.length) return 0;
    const existing = await importRepository.existing(db, this.imp.listId, emails);
    let n = 0;
    for (const c of items) {
      const status = c.row && existing.get(c.row.email);
      if (!status) continue;
      c.reject = { line: c.line, email: c.row!.email, reason: reason(status), raw: null };
      delete c.row;
      n++;
    }
    return n;
  }

  /** all_or_nothing pass 1: returns true when every row passed. */
  private async validateAll(previous: ImportStatus): Promise<boolean> {
    const { db, clock, holder } = this.ctx;
    const now = clock.now();
    if (previous === 'validating') await importRepository.deleteRejects(db, this.imp.id);
    const moved = await importRepository.advance(db, this.imp.id, holder, previous, 'validating', now, {
      phase: 'validate',
      lines_done: 0,
      bytes_done: 0,
      rows_rejected: 0,
      error: null,
      ...(this.imp.startedAt ? {} : { started_at: toDbTime(now) }),
    });
    if (!moved) throw new LeaseLost();
    const seen = new SeenAddresses(this.imp.fileBytes / 256);
    let rows = 0;
    let rejected = 0;
    // An empty list cannot hold duplicates yet; a record added while this pass runs is caught by pass 2 (skipped and reported).
    this.listSeq = await importRepository.lastSeq(db, this.list.accountId);
    const listHadRecords = await importRepository.listHasRecords(db, this.imp.listId);
    const spool = await SpoolWriter.create(this.imp.filePath);
    let spoolDone = false;
    let pendingRejects: ImportReject[] = [];
    let lastWrite = performance.now();
    let end = { byte: 0, line: 0 };
    const flush = async (at: { byte: number; line: number }) => {
      const rejects = pendingRejects;
      pendingRejects = [];
      lastWrite = performance.now();
      await db.transaction(async (trx) => {
        if (rejects.length) await importRepository.insertRejects(trx, this.imp.id, rejects);
        const ok = await importRepository.progress(trx, this.imp.id, holder, 'validating', { linesDone: at.line, bytesDone: at.byte, rowsRejected: rejected }, clock.now());
        if (!ok) throw new LeaseLost();
      });
    };
    try {
      for await (const batch of this.reader.fromCsv({ byte: 0, line: 1 }, seen)) {
        this.check();
        if (this.ctx.stopping()) await this.handBack('validating');
        if (listHadRecords) await this.checkList(db, batch.items, (status) => `already in this list (${status})`);
        const rejects = batch.items.filter((c) => c.reject).map((c) => c.reject!);
        rows += batch.items.length;
        rejected += rejects.length;
        pendingRejects.push(...rejects);
        // Once a row is rejected the spool is useless (nothing will be written): stop filling it.
        if (!rejected) await spool.write(batch.items.filter(hasRow));
        // Nothing to resume in this pass (a crash starts it again): progress and rejects are written about once a second.
        if (pendingRejects.length >= 1000 || performance.now() - lastWrite >= 1000) await flush(batch.end);
        await this.ctx.afterBatch?.({ id: this.imp.id, status: 'validating', linesDone: batch.end.line });
        end = batch.end;
      }
      await flush(end);
      if (!rejected && rows) {
        await spool.finish();
        spoolDone = true;
      }
    } finally {
      if (!spoolDone) await spool.abandon(this.imp.filePath);
    }
    if (rejected || !rows) {
      const error = rows
        ? `${rejected.toLocaleString('en')} of ${rows.toLocaleString('en')} rows were rejected, so nothing was imported (all or nothing). Download the report, fix those rows and import the file again.`
        : 'The file has no data rows (only a header or blank lines): nothing was imported.';
      await importRepository.advance(db, this.imp.id, holder, 'validating', 'rejected', clock.now(), { error });
      return false;
    }
    this.state.eventsAfter = await importRepository.maxEventId(db);
    const started = await importRepository.advance(db, this.imp.id, holder, 'validating', 'importing', clock.now(), {
      phase: 'insert',
      lines_done: 0,
      bytes_done: 0,
      options: JSON.stringify({ ...this.imp.options, state: this.state }),
    });
    if (!started) throw new LeaseLost();
    this.imp = { ...this.imp, linesDone: 0, bytesDone: 0, rowsImported: 0, rowsConfirmed: 0, rowsPending: 0, rowsRejected: 0 };
    // Pass 1 checked the list (when it had records); pass 2 looks up again only if the list changes.
    this.lookups = false;
    return true;
  }

  /** Writes records: all_or_nothing pass 2 (from `importing`), or the skip_bad pass (from `queued`, or resumed). */
  private async write(entry: 'queued' | 'importing'): Promise<ImportStatus> {
    const { db, clock, holder } = this.ctx;
    const skipBad = this.imp.mode === 'skip_bad';
    if (entry === 'queued') {
      this.listSeq = await importRepository.lastSeq(db, this.list.accountId);
      this.lookups = await importRepository.listHasRecords(db, this.imp.listId);
      this.state.eventsAfter = await importRepository.maxEventId(db);
      const now = clock.now();
      const moved = await importRepository.advance(db, this.imp.id, holder, 'queued', 'importing', now, {
        phase: 'single',
        started_at: toDbTime(now),
        options: JSON.stringify({ ...this.imp.options, state: this.state }),
      });
      if (!moved) throw new LeaseLost();
    }
    const imp = this.imp;
    const totals = { imported: imp.rowsImported, confirmed: imp.rowsConfirmed, pending: imp.rowsPending, rejected: imp.rowsRejected };
    // skip_bad keeps the in-file duplicate check across a resume: the rows before the resume point are read again (parse only).
    const seen = skipBad ? await this.reader.seenBefore(imp.bytesDone) : null;
    const from: Position = imp.bytesDone > 0 ? { byte: imp.bytesDone, line: imp.linesDone + 1 } : { byte: 0, line: 1 };
    const source = !skipBad && (await spoolComplete(imp.filePath)) ? this.reader.fromSpool(imp.bytesDone) : this.reader.fromCsv(from, seen);
    for await (const batch of source) {
      this.check();
      if (this.ctx.stopping()) await this.handBack('importing');
      if (!skipBad) {
        const bad = batch.items.find((c) => c.reject);
        if (bad) throw new Error(`line ${bad.line} passed the check but fails now (${bad.reject!.reason})`);
      }
      await this.commitBatch(batch, skipBad, totals);
      await this.ctx.afterBatch?.({ id: imp.id, status: 'importing', linesDone: batch.end.line });
    }
    await removeSpool(imp.filePath);
    // In all_or_nothing every reject of pass 2 is a row skipped because its address got a record meanwhile.
    const lateSkips = skipBad ? 0 : totals.rejected;
    if (lateSkips) this.state.lateSkips = lateSkips;
    await this.sendConfirmations();
    const note = lateSkips
      ? `${lateSkips.toLocaleString('en')} row${lateSkips === 1 ? ' was' : 's were'} skipped because the address got a record in this list while the import ran (for example an unsubscribe): see the report.`
      : null;
    const done = await importRepository.advance(db, imp.id, holder, 'importing', 'done', clock.now(), { error: note, options: JSON.stringify({ ...imp.options, state: this.state }) });
    if (!done) throw new LeaseLost();
    return 'done';
  }

  /** One transaction: the late or bad rows' rejects, the chain events, the records, the progress. Retried when a concurrent write takes an address. */
  private async commitBatch(batch: Batch, skipBad: boolean, totals: { imported: number; confirmed: number; pending: number; rejected: number }): Promise<void> {
    const { db, clock, holder } = this.ctx;
    for (let attempt = 1; ; attempt++) {
      try {
        const add = await db.transaction(async (trx) => {
          let items = batch.items;
          // The account's chain lock first: no consent change of this account can commit while the batch is written.
          const end = await consentRepository.lockChain(trx, this.list.accountId);
          const last = end.seq;
          if (!this.lookups && (this.listSeq === null || (last > this.listSeq && (await importRepository.listChanged(trx, this.list.accountId, this.imp.listId, this.listSeq))))) this.lookups = true;
          if (this.lookups) {
            // checkList marks items: on copies, so a retry of the batch starts from the rows as read.
            items = items.map((c) => ({ ...c }));
            await this.checkList(trx, items, (status) =>
              skipBad ? `already in this list (${status})` : `skipped: the address got a record in this list while the import ran (now ${status}); that record was left as it is`,
            );
          }
          const rejects = items.filter((c) => c.reject).map((c) => c.reject!);
          const now = clock.now();
          const write = this.batchWrite(items.filter(hasRow), now);
          const events = await this.writeRecords(trx, write, now, end);
          if (rejects.length) await importRepository.insertRejects(trx, this.imp.id, rejects);
          const add = { imported: write.records.length, confirmed: 0, pending: 0, rejected: rejects.length };
          for (const r of write.records) if (r.status === 'confirmed') add.confirmed++;
          else if (r.status === 'pending') add.pending++;
          const ok = await importRepository.progress(
            trx,
            this.imp.id,
            holder,
            'importing',
            {
              linesDone: batch.end.line,
              bytesDone: batch.end.byte,
              rowsImported: totals.imported + add.imported,
              rowsConfirmed: totals.confirmed + add.confirmed,
              rowsPending: totals.pending + add.pending,
              rowsRejected: totals.rejected + add.rejected,
            },
            now,
          );
          if (!ok) throw new LeaseLost();
          return { add, lastSeq: last + events };
        });
        totals.imported += add.add.imported;
        totals.confirmed += add.add.confirmed;
        totals.pending += add.add.pending;
        totals.rejected += add.add.rejected;
        if (!this.lookups) this.listSeq = add.lastSeq;
        return;
      } catch (err) {
        // A record that appeared anyway (or a deadlock with a concurrent change): the batch again, with the lookup.
        if ((isUniqueViolation(err) || isLockConflict(err)) && attempt < 3) {
          this.lookups = true;
          continue;
        }
        throw err;
      }
    }
  }

  /**
   * What the good rows of a batch write: their records, and the chain events listing them (each at most
   * maxEventDataBytes of data, built by importEvent.ts from the rows' entry fields).
   */
  private batchWrite(good: Array<{ row: EntryRow; fields?: string }>, now: Date): BatchWrite {
    const textVersion = this.list.textVersion;
    const prefixBytes = Buffer.byteLength(entryPrefix(textVersion));
    const records: ImportedRecord[] = [];
    const events: BatchWrite['events'] = [];
    let fields: string[] = [];
    let fromLine = 0;
    let toLine = 0;
    let size = 0;
    const close = () => {
      if (!fields.length) return;
      events.push({ dataJson: eventDataJson(this.imp.id, fromLine, toLine, textVersion, fields), count: fields.length });
      fields = [];
      size = 0;
    };
    for (const item of good) {
      const row = item.row;
      const text = item.fields ?? entryFields(row);
      const bytes = prefixBytes + Buffer.byteLength(text) + 1;
      if (fields.length && size + bytes > maxEventDataBytes) close();
      if (!fields.length) fromLine = row.line;
      toLine = row.line;
      fields.push(text);
      size += bytes;
      const confirmed = row.status === 'confirmed';
      const consentedAt = row.consentedAt ?? null;
      const ip = row.ip ?? null;
      records.push({
        email: row.email,
        status: row.status,
        method: row.method,
        source: row.source ?? null,
        consentTextVersion: textVersion,
        ip,
        userAgent: row.userAgent ?? null,
        // The times go in as the text the entry holds (insertRecords reads the *Text fields).
        consentedAt: null,
        confirmedAt: null,
        consentedAtText: consentedAt,
        confirmedAtText: confirmed ? consentedAt : null,
        confirmedIp: confirmed ? ip : null,
        revokedAt: row.status === 'revoked' ? now : null,
        revokedHow: row.revokedHow ?? null,
      });
    }
    close();
    return { records, events };
  }

  /** Appends the batch's chain events, then inserts its records in multi-row statements, each pointing at the event that lists it. */
  private async writeRecords(trx: Knex.Transaction, write: BatchWrite, now: Date, chainEnd: ChainEnd): Promise<number> {
    const { records, events } = write;
    const ids = await consentRepository.appendEvents(
      trx,
      events.map((e) => ({ accountId: this.list.accountId, listId: this.list.id, recordId: null, type: 'records_imported', actor: this.imp.createdBy, dataJson: e.dataJson })),
      now,
      chainEnd,
    );
    let i = 0;
    events.forEach((e, k) => {
      for (const end = i + e.count; i < end; i++) records[i]!.importEventId = ids[k]!;
    });
    await importRepository.insertRecords(trx, this.list.id, records, now);
    return ids.length;
  }

  private async sendConfirmations(): Promise<void> {
    const sender = this.ctx.sender;
    if (!this.imp.options.sendConfirmations || !sender) return;
    try {
      const ids = await importRepository.pendingImported(this.ctx.db, this.imp.listId, this.state.eventsAfter ?? 0);
      for (let i = 0; i < ids.length; i += 1000) await sender.sendForImported(this.imp.listId, ids.slice(i, i + 1000));
      this.state.confirmations = `Confirmation mails requested for ${ids.length.toLocaleString('en')} pending record${ids.length === 1 ? '' : 's'}.`;
    } catch (err) {
      logger.warn('import confirmation mails failed', { importId: this.imp.id, error: String(err) });
      this.state.confirmations = 'The records were imported, but the confirmation mails could not be requested. Send them from the records, or ask your provider.';
    }
  }

  /** The worker is stopping: hand the import back so the next start (or another instance) resumes it at once. */
  private async handBack(status: ImportStatus): Promise<never> {
    await this.ctx.db('consent_imports').where({ id: this.imp.id, lease_holder: this.ctx.holder }).update({ lease_holder: null, heartbeat_at: null, updated_at: toDbTime(this.ctx.clock.now()) });
    throw new HandedBack(status);
  }

  /** Ends the run after an error: deterministic problems fail at once; others are retried by a later run, then fail. */
  private async failed(err: unknown): Promise<ImportStatus> {
    const { db, clock, holder } = this.ctx;
    const current = await importRepository.get(db, this.imp.id);
    if (!current) return 'failed';
    if (err instanceof LeaseLost) {
      if (['done', 'rejected', 'failed', 'cancelled'].includes(current.status)) await removeSpool(this.imp.filePath);
      return current.status;
    }
    const message = err instanceof ImportFileError ? err.message : err instanceof Error ? err.message : String(err);
    if (!(err instanceof ImportFileError)) logger.error('import run failed', { importId: this.imp.id, error: String((err as Error)?.stack ?? err) });
    const attempts = (this.state.attempts ?? 0) + 1;
    const retry = !(err instanceof ImportFileError) && attempts < maxAttempts && (current.status === 'validating' || current.status === 'importing');
    if (retry) {
      // Handed back with a fresh heartbeat: another run takes it once the heartbeat is stale (the worker's back-off).
      await db('consent_imports').where({ id: this.imp.id, lease_holder: holder }).update({
        lease_holder: null,
        heartbeat_at: toDbTime(clock.now()),
        options: JSON.stringify({ ...this.imp.options, state: { ...this.state, attempts } }),
        updated_at: toDbTime(clock.now()),
      });
      return current.status;
    }
    const stored = current.rowsImported;
    const where = stored ? ` (up to line ${current.linesDone.toLocaleString('en')})` : '';
    const outcome =
      current.status === 'importing' && stored
        ? `${stored.toLocaleString('en')} row${stored === 1 ? ' was' : 's were'} stored${where}; the rest of the file was not imported. Importing the file again reports the stored rows as already in the list.`
        : 'Nothing was imported.';
    await importRepository.advance(db, this.imp.id, holder, current.status, 'failed', clock.now(), { error: `The import failed: ${message} ${outcome}`.slice(0, 60_000) });
    await removeSpool(this.imp.filePath);
    return 'failed';
  }
}

/** Loads what a run needs; null when the import or its list is gone. */
export async function loadRun(db: Knex, id: number): Promise<{ imp: ConsentImport; list: ConsentList } | null> {
  const imp = await importRepository.get(db, id);
  if (!imp) return null;
  const list = await consentRepository.findList(db, systemActor, imp.listId);
  return list ? { imp, list } : null;
}
