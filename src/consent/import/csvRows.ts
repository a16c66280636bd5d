import { isUtf8 } from 'node:buffer';
import fs from 'node:fs';
import { Transform, type TransformCallback } from 'node:stream';
import { CsvError, parse } from 'csv-parse';
import { ImportFileError, type CsvDelimiter } from './types';

/**
 * Streamed reading of an uploaded CSV file: strict UTF-8, physical line numbers, recovery from
 * malformed records. Never holds more than a chunk (256 KB) and one record in memory.
 *
 * Line numbers are counted here, not taken from csv-parse: its `info.lines` counts a CRLF inside a
 * quoted field as two lines. A record starts on the line after the previous record ends; it spans
 * 1 + (newlines inside its fields) physical lines. Byte offsets come from csv-parse `info.bytes`
 * (bytes of the input, BOM included), so a run can restart at any record boundary.
 */

export interface CsvRow {
  kind: 'row';
  /** Physical line where the record starts (1-based). */
  line: number;
  /** Physical line where it ends (a quoted field may hold newlines). */
  endLine: number;
  /** Byte offset just after the record (its line break included): where the next record starts. */
  endByte: number;
  fields: string[];
}

export interface CsvMalformed {
  kind: 'malformed';
  line: number;
  endLine: number;
  endByte: number;
  reason: string;
  /** The start of the offending line, as text (at most 1000 characters). */
  raw: string;
}

export type CsvItem = CsvRow | CsvMalformed;

export interface CsvReadOptions {
  delimiter: CsvDelimiter;
  /** Byte offset to start at: 0, or the `endByte` of a record (resume). */
  startByte?: number;
  /** The physical line at `startByte`. */
  startLine?: number;
  /** Longest record accepted, in characters. */
  maxRecordChars?: number;
}

const chunkSize = 256 * 1024;
export const defaultMaxRecordChars = 100_000;

/** Recognises files that are not CSV text at all from their first bytes; null when they look fine. */
export function sniffProblem(head: Buffer): string | null {
  if (head.length === 0) return 'The file is empty: choose a CSV file with a header row and one row per address.';
  if ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff)) {
    return 'The file is UTF-16 text: save it as UTF-8 (in Excel: File → Save As → "CSV UTF-8 (Comma delimited)").';
  }
  if (head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04) {
    return 'This is an Excel workbook (.xlsx) or another ZIP file, not CSV: in Excel use File → Save As → "CSV UTF-8 (Comma delimited)".';
  }
  if (head[0] === 0xd0 && head[1] === 0xcf && head[2] === 0x11 && head[3] === 0xe0) {
    return 'This is an old Excel workbook (.xls), not CSV: in Excel use File → Save As → "CSV UTF-8 (Comma delimited)".';
  }
  if (head.includes(0)) return 'The file contains NUL bytes: it is not a text file (or it is UTF-16). Save it as CSV in UTF-8.';
  if (head.includes(0x0d) && !head.includes(0x0a)) {
    return 'The file ends its lines with CR only (old Mac format): save it again as "CSV UTF-8" so lines end with LF or CRLF.';
  }
  return null;
}

/** Length of the prefix of `buf` that does not end inside a multi-byte UTF-8 character. */
function completeLength(buf: Buffer): number {
  const len = buf.length;
  for (let i = len - 1; i >= Math.max(0, len - 4); i--) {
    const b = buf[i]!;
    if ((b & 0xc0) === 0x80) continue;
    if (b < 0xc0) return len;
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
    return len - i < need ? i : len;
  }
  return len;
}

function countNewlines(buf: Buffer): number {
  let n = 0;
  for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) n++;
  return n;
}

/** Index of the first byte of `seg` that does not start a valid UTF-8 character, or -1. */
function firstInvalidByte(seg: Buffer): number {
  let i = 0;
  while (i < seg.length) {
    const b = seg[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    const need = b >= 0xf0 && b <= 0xf4 ? 4 : b >= 0xe0 && b < 0xf0 ? 3 : b >= 0xc2 && b < 0xe0 ? 2 : 0;
    if (!need || !isUtf8(seg.subarray(i, i + need))) return i;
    i += need;
  }
  return -1;
}

/** The error for the first invalid line of `body`, whose first byte is on line `firstLine`. */
function invalidUtf8Error(body: Buffer, firstLine: number): ImportFileError {
  let line = firstLine;
  let start = 0;
  while (start <= body.length) {
    const nl = body.indexOf(10, start);
    const end = nl === -1 ? body.length : nl;
    const segment = body.subarray(start, end);
    if (!isUtf8(segment)) {
      const bad = Math.max(0, firstInvalidByte(segment));
      const byte = segment[bad] ?? 0;
      const looksLatin1 = byte >= 0x80;
      return new ImportFileError(
        `Line ${line} is not valid UTF-8 (byte 0x${byte.toString(16).toUpperCase().padStart(2, '0')}) — save the file as UTF-8` +
          (looksLatin1 ? ' (it looks like Windows-1252/Latin-1; in Excel: File → Save As → "CSV UTF-8 (Comma delimited)").' : '.'),
      );
    }
    if (nl === -1) break;
    line++;
    start = nl + 1;
  }
  return new ImportFileError(`Line ${line} is not valid UTF-8 (a character is cut off at the end of the file) — save the file as UTF-8.`);
}

/**
 * Passes bytes through unchanged, failing with a line-numbered ImportFileError at the first byte
 * that is not UTF-8 or is NUL. Chunks are cut at character boundaries.
 */
export class Utf8Check extends Transform {
  private carry: Buffer = Buffer.alloc(0);
  /** With `sniff`, the first 4 KB are held back and checked by sniffProblem (empty, UTF-16, Excel, …) first. */
  private head: Buffer[] | null;
  private headBytes = 0;
  /** Line number of the first byte not yet passed on. */
  line: number;
  /** Bytes passed on so far. */
  bytes = 0;

  constructor(startLine = 1, sniff = false) {
    super();
    this.line = startLine;
    this.head = sniff ? [] : null;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (this.head) {
      this.head.push(chunk);
      this.headBytes += chunk.length;
      if (this.headBytes < 4096) return done();
      const head = Buffer.concat(this.head);
      this.head = null;
      const problem = sniffProblem(head);
      if (problem) return done(new ImportFileError(problem));
      return this.pass(head, done);
    }
    this.pass(chunk, done);
  }

  private pass(chunk: Buffer, done: TransformCallback): void {
    const buf = this.carry.length ? Buffer.concat([this.carry, chunk]) : chunk;
    const cut = completeLength(buf);
    const body = buf.subarray(0, cut);
    this.carry = Buffer.from(buf.subarray(cut));
    if (!isUtf8(body)) return done(invalidUtf8Error(body, this.line));
    const nul = body.indexOf(0);
    if (nul !== -1) return done(new ImportFileError(`Line ${this.line + countNewlines(body.subarray(0, nul))} contains a NUL byte: the file is not plain text (or it is UTF-16). Save it as CSV in UTF-8.`));
    this.line += countNewlines(body);
    this.bytes += body.length;
    done(null, body);
  }

  override _flush(done: TransformCallback): void {
    if (this.head) {
      const head = Buffer.concat(this.head);
      this.head = null;
      const problem = sniffProblem(head) ?? (head.toString('utf8').replace(/^\uFEFF/, '').trim() === '' ? 'The file is empty (only blank lines): choose a CSV file with a header row and one row per address.' : null);
      if (problem) return done(new ImportFileError(problem));
      this.pass(head, (err, data) => {
        if (err) return done(err);
        if (data) this.push(data);
        this.finish(done);
      });
      return;
    }
    this.finish(done);
  }

  private finish(done: TransformCallback): void {
    if (this.carry.length) return done(invalidUtf8Error(this.carry, this.line));
    done();
  }
}

const csvProblems: Record<string, string> = {
  CSV_INVALID_CLOSING_QUOTE: 'malformed CSV: a closing quote is followed by other characters (inside a quoted field write a quote as "")',
  CSV_QUOTE_NOT_CLOSED: 'malformed CSV: a quote is opened but never closed',
  CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE: 'malformed CSV: a closing quote is followed by other characters (inside a quoted field write a quote as "")',
  CSV_INVALID_OPENING_QUOTE: 'malformed CSV: a quote appears inside an unquoted field',
};

function csvProblem(err: CsvError, maxRecordChars: number): string {
  if (err.code === 'CSV_MAX_RECORD_SIZE') return `malformed CSV: the record is longer than ${maxRecordChars.toLocaleString('en')} characters (a quote that is never closed?)`;
  return csvProblems[err.code] ?? `malformed CSV: ${err.message.replace(/ at line \d+.*$/, '')}`;
}

/** Reads up to the next line break from `offset`: the offending line's text and where the next line starts. */
async function skipLine(filePath: string, offset: number): Promise<{ raw: string; next: number | null }> {
  const handle = await fs.promises.open(filePath, 'r');
  try {
    const parts: Buffer[] = [];
    let kept = 0;
    let pos = offset;
    const buf = Buffer.alloc(64 * 1024);
    for (;;) {
      const { bytesRead } = await handle.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) return { raw: rawText(parts), next: null };
      const nl = buf.subarray(0, bytesRead).indexOf(10);
      const piece = buf.subarray(0, nl === -1 ? bytesRead : nl);
      if (kept < 4000) {
        parts.push(Buffer.from(piece.subarray(0, 4000 - kept)));
        kept += piece.length;
      }
      if (nl !== -1) return { raw: rawText(parts), next: pos + nl + 1 };
      pos += bytesRead;
    }
  } finally {
    await handle.close();
  }
}

function rawText(parts: Buffer[]): string {
  return Buffer.concat(parts).toString('utf8').replace(/\r$/, '').slice(0, 1000);
}

function newlinesIn(fields: string[]): number {
  let n = 0;
  for (const f of fields) {
    if (f.indexOf('\n') === -1) continue;
    for (let i = f.indexOf('\n'); i !== -1; i = f.indexOf('\n', i + 1)) n++;
  }
  return n;
}

/** The synchronous core of a csv-parse Parser (`parser.api`): parse(chunk, end, push, close) returns the error, if any. */
interface CsvCore {
  parse(buf: Buffer | undefined, end: boolean, push: (record: string[]) => void, close: () => void): Error | undefined;
  info: { bytes: number };
}

/**
 * csv-parse driven synchronously through its core (the same code its stream runs): each record is
 * taken with the byte offset just after it (`info.bytes`, set before the record is pushed), and the
 * records parsed before an error in the same chunk are kept. No stream, no per-record info object.
 */
function csvCore(opts: { delimiter: CsvDelimiter; maxRecordChars: number; bom: boolean }): CsvCore {
  const parser = parse({
    bom: opts.bom,
    delimiter: opts.delimiter,
    record_delimiter: ['\r\n', '\n'],
    relax_column_count: true,
    max_record_size: opts.maxRecordChars,
  }) as unknown as { api?: CsvCore };
  if (!parser.api || typeof parser.api.parse !== 'function' || !parser.api.info) throw new Error('csv-parse no longer exposes its parser core (parser.api): see src/consent/import/csvRows.ts');
  return parser.api;
}

/**
 * The records of a CSV file from `startByte`, with their physical line numbers, in arrays of the
 * records of one 256 KB chunk (an await per chunk, not per record). A malformed record is given as
 * `malformed` (line = where it starts) and reading resumes on the next physical line, so one bad
 * quote costs one line, not the rest of the file. Encoding problems throw ImportFileError.
 */
export async function* readCsvChunks(filePath: string, opts: CsvReadOptions): AsyncGenerator<CsvItem[]> {
  const maxRecordChars = opts.maxRecordChars ?? defaultMaxRecordChars;
  let offset = opts.startByte ?? 0;
  let line = opts.startLine ?? 1;
  for (;;) {
    const source = fs.createReadStream(filePath, { start: offset, highWaterMark: chunkSize });
    const check = new Utf8Check(line);
    const core = csvCore({ delimiter: opts.delimiter, maxRecordChars, bom: offset === 0 });
    const base = offset;
    let rows: CsvItem[] = [];
    let recordStart = offset;
    const push = (fields: string[]) => {
      const endByte = base + core.info.bytes;
      const endLine = line + newlinesIn(fields);
      rows.push({ kind: 'row', line, endLine, endByte, fields });
      line = endLine + 1;
      recordStart = endByte;
    };
    const close = () => {};
    let failure: Error | undefined;
    try {
      source.on('error', (err) => check.destroy(err));
      for await (const chunk of source.pipe(check) as AsyncIterable<Buffer>) {
        failure = core.parse(chunk, false, push, close);
        if (rows.length) {
          yield rows;
          rows = [];
        }
        if (failure) break;
      }
      if (!failure) {
        failure = core.parse(undefined, true, push, close);
        if (rows.length) {
          yield rows;
          rows = [];
        }
      }
    } finally {
      source.destroy();
      check.destroy();
    }
    if (!failure) return;
    if (!(failure instanceof CsvError)) throw failure;
    // `line` is where the failed record starts: the line after the last good record.
    const skipped = await skipLine(filePath, recordStart);
    const next = skipped.next;
    yield [{ kind: 'malformed', line, endLine: line, endByte: next ?? recordStart, reason: csvProblem(failure, maxRecordChars), raw: skipped.raw }];
    if (next === null) return;
    offset = next;
    line += 1;
  }
}

/** readCsvChunks one record at a time. */
export async function* readCsv(filePath: string, opts: CsvReadOptions): AsyncGenerator<CsvItem> {
  for await (const items of readCsvChunks(filePath, opts)) yield* items;
}

/** A record of nothing but whitespace (an empty line, or only delimiters): skipped, not an error. */
export function isBlank(fields: string[]): boolean {
  for (const f of fields) if (f.trim() !== '') return false;
  return true;
}

/** The delimiter used most outside quotes in the first line (comma when none). */
export function detectDelimiter(firstLine: string): CsvDelimiter {
  const counts: Record<CsvDelimiter, number> = { ',': 0, ';': 0, '\t': 0 };
  let quoted = false;
  for (const ch of firstLine) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && (ch === ',' || ch === ';' || ch === '\t')) counts[ch]++;
  }
  let best: CsvDelimiter = ',';
  for (const d of [';', '\t'] as const) if (counts[d] > counts[best]) best = d;
  return best;
}

/** The first bytes of a file (for sniffing and delimiter detection). */
export async function readHead(filePath: string, bytes = 64 * 1024): Promise<Buffer> {
  const handle = await fs.promises.open(filePath, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const { bytesRead } = await handle.read(buf, 0, bytes, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

export interface CsvPreview {
  delimiter: CsvDelimiter;
  /** The first non-blank records (at most `limit`), with their line numbers. */
  rows: Array<{ line: number; fields: string[] }>;
  /** The number of columns of the widest previewed record. */
  columns: number;
}

/** The first non-blank, well-formed records of a file, for the mapping page. Throws ImportFileError on files that are not CSV text. */
export async function previewCsv(filePath: string, limit = 6, delimiter?: CsvDelimiter): Promise<CsvPreview> {
  const head = await readHead(filePath);
  const problem = sniffProblem(head);
  if (problem) throw new ImportFileError(problem);
  const text = head.toString('utf8').replace(/^\uFEFF/, '');
  if (text.trim() === '') throw new ImportFileError('The file is empty (only blank lines): choose a CSV file with a header row and one row per address.');
  const chosen = delimiter ?? detectDelimiter(text.slice(0, text.search(/\r?\n|$/)));
  const rows: CsvPreview['rows'] = [];
  for await (const item of readCsv(filePath, { delimiter: chosen })) {
    // A malformed record is left out of the preview; the import reports it with its line.
    if (item.kind === 'malformed' || isBlank(item.fields)) continue;
    rows.push({ line: item.line, fields: item.fields });
    if (rows.length >= limit) break;
  }
  return { delimiter: chosen, rows, columns: Math.max(0, ...rows.map((r) => r.fields.length)) };
}
