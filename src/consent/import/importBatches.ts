import type { Clock } from '../../lib/clock';
import { normaliseEmail } from '../schemas';
import { isBlank, readCsv, readCsvChunks, type CsvItem } from './csvRows';
import { toEntryRow, type EntryRow } from './importEvent';
import { fieldIndexes, validateRow, type RowRules } from './rowValidation';
import { SeenAddresses } from './seenAddresses';
import { readSpool } from './spool';
import type { ConsentImport, ImportReject } from './types';

/**
 * The rows of an import in batches, checked (rowValidation.ts) and with duplicates in the file
 * caught: from the CSV (header and blank lines skipped, malformed records as rejects), or from the
 * spool of checked rows that pass 1 of an all_or_nothing import wrote (spool.ts).
 */

export interface Position {
  byte: number;
  line: number;
}

export interface Checked {
  line: number;
  /** Where the record ends (kept in the spool, for resuming). */
  endLine: number;
  endByte: number;
  /** The row when it passed the check, as it is written. */
  row?: EntryRow;
  /** The row's entry fields (entryFields) when read from the spool, which holds them as text. */
  fields?: string;
  reject?: ImportReject;
}

/** A checked item whose row passed. */
export const hasRow = (c: Checked): c is Checked & { row: EntryRow } => c.row !== undefined;

export interface Batch {
  items: Checked[];
  /** Where the batch ends: the last record's end. */
  end: { byte: number; line: number };
}

/** The record as read, written back as one CSV line (for the report). */
function rawOf(fields: string[], delimiter: string): string {
  return fields.map((f) => (f.includes(delimiter) || /["\r\n]/.test(f) ? `"${f.replace(/"/g, '""')}"` : f)).join(delimiter);
}

export class BatchReader {
  readonly rules: RowRules;
  private readonly indexes: ReturnType<typeof fieldIndexes>;

  constructor(
    private readonly imp: ConsentImport,
    private readonly batchSize: number,
    private readonly clock: Clock,
  ) {
    this.rules = { mapping: imp.mapping, defaultMethod: imp.options.defaultMethod, now: clock.now(), columns: imp.mapping.length };
    this.indexes = fieldIndexes(imp.mapping);
  }

  /** Data rows from `from` (the header skipped), in batches of up to batchSize rows. */
  async *fromCsv(from: Position, seen: SeenAddresses | null): AsyncGenerator<Batch> {
    let skipHeader = this.imp.options.hasHeader && from.byte === 0;
    let items: Checked[] = [];
    let endByte = from.byte;
    let endLine = from.line - 1;
    this.rules.now = this.clock.now();
    for await (const chunk of readCsvChunks(this.imp.filePath, { delimiter: this.imp.options.delimiter, startByte: from.byte, startLine: from.line })) {
      for (const item of chunk as CsvItem[]) {
        endByte = item.endByte;
        endLine = item.endLine;
        if (item.kind === 'malformed') {
          skipHeader = false;
          items.push({ line: item.line, endLine: item.endLine, endByte: item.endByte, reject: { line: item.line, email: null, reason: item.reason, raw: item.raw } });
        } else if (isBlank(item.fields)) {
          continue;
        } else if (skipHeader) {
          skipHeader = false;
          continue;
        } else {
          items.push(this.checkRow(item, seen));
        }
        if (items.length >= this.batchSize) {
          yield { items, end: { byte: endByte, line: endLine } };
          items = [];
          this.rules.now = this.clock.now();
        }
      }
    }
    if (items.length || endByte > from.byte) yield { items, end: { byte: endByte, line: endLine } };
  }

  private checkRow(item: { line: number; endLine: number; endByte: number; fields: string[] }, seen: SeenAddresses | null): Checked {
    const { line, endLine, endByte, fields } = item;
    const outcome = validateRow(fields, this.rules, this.indexes);
    const email = outcome.ok ? outcome.row.email : outcome.email;
    if (seen && email) {
      const first = seen.firstLineOrAdd(email, line);
      if (first !== 0) return { line, endLine, endByte, reject: { line, email, reason: `duplicate: the same address as line ${first}${outcome.ok ? '' : `; ${outcome.reason}`}`, raw: rawOf(fields, this.imp.options.delimiter) } };
    }
    if (!outcome.ok) return { line, endLine, endByte, reject: { line, email: outcome.email, reason: outcome.reason, raw: rawOf(fields, this.imp.options.delimiter) } };
    return { line, endLine, endByte, row: toEntryRow(line, outcome.row) };
  }

  /** all_or_nothing pass 2 from the spool of pass 1: the checked rows after CSV byte `afterByte`, in batches. */
  async *fromSpool(afterByte: number): AsyncGenerator<Batch> {
    let items: Checked[] = [];
    for await (const rows of readSpool(this.imp.filePath, afterByte)) {
      for (const r of rows) {
        items.push(r);
        if (items.length >= this.batchSize) {
          yield { items, end: { byte: r.endByte, line: r.endLine } };
          items = [];
        }
      }
    }
    const last = items[items.length - 1];
    if (last) yield { items, end: { byte: last.endByte, line: last.endLine } };
  }

  /** Addresses (and first lines) of the rows before `byte`, for the in-file duplicate check of a resumed skip_bad run. */
  async seenBefore(byte: number): Promise<SeenAddresses> {
    const seen = new SeenAddresses(this.imp.fileBytes / 256);
    if (byte === 0) return seen;
    const i = this.indexes.email;
    let header = this.imp.options.hasHeader;
    for await (const item of readCsv(this.imp.filePath, { delimiter: this.imp.options.delimiter })) {
      if (item.endByte > byte) break;
      if (item.kind !== 'row' || isBlank(item.fields)) continue;
      if (header) {
        header = false;
        continue;
      }
      const email = i === undefined ? null : normaliseEmail(item.fields[i] ?? '');
      if (email) seen.firstLineOrAdd(email, item.line);
    }
    return seen;
  }
}
