import type { ConsentMethod } from '../types';

/**
 * CSV import of consent records: the shapes shared by the upload, the validation, the worker and the pages.
 *
 * Lifecycle of an import (consent_imports.status):
 *   uploaded   the file is stored, the customer has not confirmed the column mapping yet
 *   queued     waiting for the worker
 *   validating all_or_nothing pass 1: every row is checked, nothing but rejects and progress is written
 *   importing  writing records in batches (all_or_nothing pass 2, or the single skip_bad pass)
 *   done | rejected | failed | cancelled   final
 */
export const importStatuses = ['uploaded', 'queued', 'validating', 'importing', 'done', 'rejected', 'failed', 'cancelled'] as const;
export type ImportStatus = (typeof importStatuses)[number];
export const finalStatuses: readonly ImportStatus[] = ['done', 'rejected', 'failed', 'cancelled'];
export const runningStatuses: readonly ImportStatus[] = ['validating', 'importing'];

export const importModes = ['all_or_nothing', 'skip_bad'] as const;
export type ImportMode = (typeof importModes)[number];

/** The fields a CSV column can be mapped to ("ignore" drops the column). */
export const importFields = ['email', 'status', 'method', 'source', 'consented_at', 'ip', 'user_agent'] as const;
export type ImportField = (typeof importFields)[number];
export type ColumnTarget = ImportField | 'ignore';
/** One target per CSV column, by position. */
export type ColumnMapping = ColumnTarget[];

export const csvDelimiters = [',', ';', '\t'] as const;
export type CsvDelimiter = (typeof csvDelimiters)[number];

/** What the customer chose (stored in consent_imports.options, next to the worker's `state`). */
export interface ImportOptions {
  hasHeader: boolean;
  delimiter: CsvDelimiter;
  /** Method of rows whose method cell is empty (or with no method column). Never evidence by itself. */
  defaultMethod: ConsentMethod;
  /** Send confirmation mails to the rows imported as pending (only when a sender is configured). */
  sendConfirmations: boolean;
}

/** Bookkeeping of the worker, kept in the same JSON column so the page can announce it. */
export interface ImportState {
  /** Every time a run picked the import up after a crashed or stopped one. */
  resumes?: Array<{ at: string; phase: 'validating' | 'importing'; line: number }>;
  /** Highest consent_events.id when writing started: this import's events are above it (imports of one list run one at a time). */
  eventsAfter?: number;
  /** Rows skipped in pass 2 because their address got a record meanwhile. */
  lateSkips?: number;
  /** Runs that failed with an unexpected error (retried until maxAttempts). */
  attempts?: number;
  /** What happened to the confirmation mails. */
  confirmations?: string;
}

export interface StoredOptions extends ImportOptions {
  state?: ImportState;
}

export interface ConsentImport {
  id: number;
  accountId: number;
  listId: number;
  listName: string;
  createdBy: string;
  filename: string;
  filePath: string;
  fileBytes: number;
  fileSha256: string;
  mode: ImportMode;
  mapping: ColumnMapping;
  options: ImportOptions;
  state: ImportState;
  status: ImportStatus;
  phase: string | null;
  linesDone: number;
  bytesDone: number;
  rowsImported: number;
  rowsConfirmed: number;
  rowsPending: number;
  rowsRejected: number;
  error: string | null;
  leaseHolder: string | null;
  heartbeatAt: Date | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface ImportReject {
  line: number;
  email: string | null;
  reason: string;
  raw: string | null;
}

/**
 * Sends double opt-in confirmation mails for records an import stored as pending. Called by the
 * worker after the last batch is committed and before the import is marked done, so after a crash
 * it may be called again with the same records: implementations must be idempotent per record.
 */
export interface ImportConfirmationSender {
  sendForImported(listId: number, recordIds: number[]): Promise<void>;
}

/** A problem with the file as a whole (encoding, size, empty): shown to the customer as is. */
export class ImportFileError extends Error {
  constructor(
    message: string,
    readonly status = 422,
  ) {
    super(message);
    this.name = 'ImportFileError';
  }
}
