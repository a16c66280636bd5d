import fs from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import { z } from 'zod';
import { toDbTime } from '../../db/dialect';
import { parseInput } from '../../http/validate';
import type { Clock } from '../../lib/clock';
import { ConflictError, NotFoundError, ValidationError } from '../../lib/errors';
import type { Actor } from '../../tenancy/actor';
import type { ConsentService } from '../consentService';
import { consentMethods, type ConsentList } from '../types';
import { previewCsv, type CsvPreview } from './csvRows';
import { importRepository } from './importRepository';
import { guessMapping, looksLikeHeader, mappingProblem } from './rowValidation';
import { csvDelimiters, ImportFileError, importFields, importModes, type ColumnMapping, type ColumnTarget, type ConsentImport, type ImportOptions } from './types';
import type { StoredUpload } from './upload';

/** Create, map, start, follow, cancel and report CSV imports; every lookup is scoped by the actor (another account's id: 404). */

const targets = [...importFields, 'ignore'] as const;

export const startForm = z.object({
  mode: z.enum(importModes, { message: 'choose all or nothing, or skip bad rows' }).default('all_or_nothing'),
  defaultMethod: z.enum(consentMethods, { message: `expects one of ${consentMethods.join(', ')}` }).default('import'),
  hasHeader: z.preprocess((v) => v === true || v === 'yes' || v === 'on' || v === '1', z.boolean()),
  sendConfirmations: z.preprocess((v) => v === true || v === 'yes' || v === 'on' || v === '1', z.boolean()),
  delimiter: z.enum(csvDelimiters, { message: 'expects a comma, semicolon or tab' }).optional(),
  mapping: z.array(z.enum(targets, { message: `expects one of ${targets.join(', ')}` })),
});
export type StartForm = z.infer<typeof startForm>;

export interface MappingView {
  imp: ConsentImport;
  list: ConsentList;
  preview: CsvPreview;
  /** Column titles: the header's cells, or "Column 1", … */
  columns: string[];
  /** The rows shown under the titles (the header row excluded). */
  sample: Array<{ line: number; fields: string[] }>;
}

export interface ImportStatusJson {
  id: number;
  status: ConsentImport['status'];
  percent: number;
  finished: boolean;
  linesDone: number;
  rowsImported: number;
  rowsConfirmed: number;
  rowsPending: number;
  rowsRejected: number;
  summary: string;
}

export interface ImportServiceDeps {
  db: Knex;
  clock: Clock;
  consent: ConsentService;
  dataDir: string;
  maxBytes: number;
  /** The background worker: woken when an import is queued; knows whether confirmation mails can be sent. */
  worker?: { wake(): void; readonly canSendConfirmations: boolean } | null;
}

export class ImportService {
  constructor(private readonly deps: ImportServiceDeps) {}

  get uploadDir(): string {
    return path.join(this.deps.dataDir, 'imports');
  }

  get maxBytes(): number {
    return this.deps.maxBytes;
  }

  get canSendConfirmations(): boolean {
    return !!this.deps.worker?.canSendConfirmations;
  }

  /** The list the customer imports into (NotFoundError for another account's list). */
  getList(actor: Actor, listId: number): Promise<ConsentList> {
    return this.deps.consent.getList(actor, listId);
  }

  async forList(actor: Actor, listId: number): Promise<ConsentImport[]> {
    const list = await this.getList(actor, listId);
    return importRepository.forList(this.deps.db, actor, list.id);
  }

  async get(actor: Actor, id: number): Promise<ConsentImport> {
    const imp = await importRepository.find(this.deps.db, actor, id);
    if (!imp) throw new NotFoundError('Import');
    return imp;
  }

  /** Registers an uploaded file (already streamed to disk) as an import awaiting its column mapping. The file is deleted when refused. */
  async create(actor: Actor, listId: number, upload: StoredUpload): Promise<number> {
    try {
      const list = await this.getList(actor, listId);
      const preview = await previewCsv(upload.filePath);
      const first = preview.rows[0];
      if (!first) throw new ImportFileError('The file is empty (only blank lines): choose a CSV file with a header row and one row per address.');
      const hasHeader = looksLikeHeader(first.fields);
      if (hasHeader && preview.rows.length === 1) throw new ImportFileError(`The file has a header row (line ${first.line}) but no data rows: add one row per address below it.`);
      const columns = hasHeader ? first.fields.length : preview.columns;
      const mapping = padMapping(guessMapping(first.fields, hasHeader), columns);
      const options: ImportOptions = { hasHeader, delimiter: preview.delimiter, defaultMethod: 'import', sendConfirmations: false };
      return await importRepository.insert(
        this.deps.db,
        { accountId: list.accountId, listId: list.id, createdBy: actor.login, filename: upload.filename, filePath: upload.filePath, fileBytes: upload.bytes, fileSha256: upload.sha256, mode: 'all_or_nothing', mapping, options },
        this.deps.clock.now(),
      );
    } catch (err) {
      await fs.promises.rm(upload.filePath, { force: true });
      throw err;
    }
  }

  async mappingView(actor: Actor, id: number, override?: { hasHeader?: boolean; delimiter?: ImportOptions['delimiter'] }): Promise<MappingView> {
    const imp = await this.get(actor, id);
    const list = await this.getList(actor, imp.listId);
    const preview = await previewCsv(imp.filePath, 6, override?.delimiter ?? imp.options.delimiter);
    const hasHeader = override?.hasHeader ?? imp.options.hasHeader;
    const first = preview.rows[0]?.fields ?? [];
    const count = hasHeader ? first.length : preview.columns;
    const columns = Array.from({ length: count }, (_, i) => (hasHeader ? first[i]?.trim() || `Column ${i + 1}` : `Column ${i + 1}`));
    return { imp, list, preview, columns, sample: hasHeader ? preview.rows.slice(1) : preview.rows.slice(0, 5) };
  }

  /** Confirms the mapping and options, and queues the import for the worker. */
  async start(actor: Actor, id: number, input: unknown): Promise<ConsentImport> {
    const imp = await this.get(actor, id);
    if (imp.status !== 'uploaded') throw new ConflictError(`This import has already been started (${imp.status}).`);
    const form = parseInput(startForm, input);
    const view = await this.mappingView(actor, id, { hasHeader: form.hasHeader, delimiter: form.delimiter });
    const mapping = padMapping(form.mapping as ColumnMapping, view.columns.length).slice(0, view.columns.length);
    const problem = mappingProblem(mapping);
    if (problem) throw new ValidationError({ mapping: problem });
    const options: ImportOptions = {
      hasHeader: form.hasHeader,
      delimiter: form.delimiter ?? imp.options.delimiter,
      defaultMethod: form.defaultMethod,
      sendConfirmations: form.sendConfirmations && this.canSendConfirmations && view.list.doubleOptIn,
    };
    const queued = await importRepository.queue(this.deps.db, imp.id, { mode: form.mode, mapping, options }, this.deps.clock.now());
    if (!queued) throw new ConflictError('This import has already been started.');
    this.deps.worker?.wake();
    return this.get(actor, id);
  }

  /**
   * Cancels an import that has not written records yet, or a skip_bad import between two batches
   * (the rows already committed stay and the page says how many). An all_or_nothing import that
   * passed its check and is writing cannot be stopped: it finishes in full.
   */
  async cancel(actor: Actor, id: number): Promise<ConsentImport> {
    const imp = await this.get(actor, id);
    const now = this.deps.clock.now();
    const cancellable: ConsentImport['status'][] = imp.mode === 'skip_bad' ? ['uploaded', 'queued', 'validating', 'importing'] : ['uploaded', 'queued', 'validating'];
    if (imp.status === 'importing' && imp.mode === 'all_or_nothing') {
      throw new ConflictError('The file passed the check and its records are being written: an all-or-nothing import cannot be stopped now. It finishes in full.');
    }
    const done = await importRepository.transition(this.deps.db, imp.id, cancellable, 'cancelled', now, { finished_at: toDbTime(now), lease_holder: null, error: `Cancelled by ${actor.login}.` });
    if (!done) throw new ConflictError(`This import cannot be cancelled any more (${(await this.get(actor, id)).status}).`);
    // Nothing was read from a file discarded before its import started: it is not kept.
    if (imp.status === 'uploaded' || imp.status === 'queued') await fs.promises.rm(imp.filePath, { force: true });
    return this.get(actor, id);
  }

  /** Rejected rows in line order, in pages (for the page's sample and the streamed report). */
  async rejects(actor: Actor, id: number, limit: number, after?: { line: number; id: number }) {
    const imp = await this.get(actor, id);
    return importRepository.rejects(this.deps.db, imp.id, limit, after);
  }

  statusJson(imp: ConsentImport): ImportStatusJson {
    return {
      id: imp.id,
      status: imp.status,
      percent: progressPercent(imp),
      finished: ['done', 'rejected', 'failed', 'cancelled'].includes(imp.status),
      linesDone: imp.linesDone,
      rowsImported: imp.rowsImported,
      rowsConfirmed: imp.rowsConfirmed,
      rowsPending: imp.rowsPending,
      rowsRejected: imp.rowsRejected,
      summary: importSummary(imp),
    };
  }
}

function padMapping(mapping: ColumnTarget[], length: number): ColumnMapping {
  const out = mapping.slice(0, length);
  while (out.length < length) out.push('ignore');
  return out;
}

/** Progress in percent: all_or_nothing spends the first half checking and the second writing. */
export function progressPercent(imp: ConsentImport): number {
  if (imp.status === 'done') return 100;
  const share = imp.fileBytes ? Math.min(1, imp.bytesDone / imp.fileBytes) : 0;
  if (imp.status === 'validating') return Math.floor(share * 50);
  if (imp.status === 'importing') return Math.floor(imp.mode === 'all_or_nothing' ? 50 + share * 50 : share * 100);
  return 0;
}

const n = (v: number) => v.toLocaleString('en');
const rows = (v: number) => `${n(v)} row${v === 1 ? '' : 's'}`;

/** One or two sentences saying where the import stands, including what was and was not stored. */
export function importSummary(imp: ConsentImport): string {
  const stored = imp.rowsImported;
  switch (imp.status) {
    case 'uploaded':
      return 'Uploaded: choose which column holds what, then start the import.';
    case 'queued':
      return 'Waiting to start.';
    case 'validating':
      return `Checking every row (step 1 of 2, line ${n(imp.linesDone)}): nothing is stored until the whole file has passed.`;
    case 'importing':
      return imp.mode === 'all_or_nothing'
        ? `The file passed the check. Writing records (step 2 of 2): ${rows(stored)} stored so far.`
        : `Importing: ${rows(stored)} stored and ${rows(imp.rowsRejected)} rejected so far (line ${n(imp.linesDone)}).`;
    case 'done': {
      const revoked = stored - imp.rowsConfirmed - imp.rowsPending;
      const parts = [`${n(imp.rowsConfirmed)} confirmed`, `${n(imp.rowsPending)} pending`];
      if (revoked > 0) parts.push(`${n(revoked)} revoked`);
      const rejected = imp.rowsRejected ? ` ${rows(imp.rowsRejected)} ${imp.mode === 'all_or_nothing' ? 'skipped' : 'rejected'}: see the report.` : '';
      return `Imported ${rows(stored)}: ${parts.join(', ')}.${rejected}`;
    }
    case 'rejected':
      return imp.error ?? `${rows(imp.rowsRejected)} rejected: nothing was imported.`;
    case 'failed':
      return imp.error ?? 'The import failed.';
    case 'cancelled':
      return stored
        ? `Cancelled: ${rows(stored)} ${stored === 1 ? 'was' : 'were'} stored (up to line ${n(imp.linesDone)}); the rest of the file was not imported.`
        : 'Cancelled: nothing was imported.';
  }
}
