import fs from 'node:fs';
import type { EntryRow } from './importEvent';

/**
 * The checked rows of an all_or_nothing import, written by pass 1 next to the uploaded file
 * (`<file>.rows`, one JSON line per batch of rows, a final `["end",<rows>,<format>]` line once the
 * check is complete), so pass 2 writes records without parsing and checking the CSV a second time.
 * The spool is a cache: when it is missing, incomplete (the end line is absent) or of another format,
 * pass 2 reads the CSV again.
 *
 * A batch's line is `[[endLine,endByte,…],[<EntryRow>,…]]`, made by one JSON.stringify and read back
 * by one JSON.parse (per row, both cost about twice as much). Each row object's text is its entry's
 * fields (importEvent.ts), which pass 2 cuts out of the line and puts in the chain event as they are.
 */

export interface SpoolRow {
  endLine: number;
  endByte: number;
  row: EntryRow;
}

/** A row read back: with its line and the text of its entry's fields (entryFields). */
export interface SpooledRow extends SpoolRow {
  line: number;
  fields: string;
}

/** Bumped when the line format changes: a spool of another format is not complete for this code (read the CSV). */
const format = 2;
const endLinePattern = new RegExp(`\\n?\\["end",\\d+,${format}\\]\\n$`);

export const spoolPathOf = (filePath: string) => `${filePath}.rows`;

function encode(rows: readonly SpoolRow[]): string {
  const ends = new Array<number>(rows.length * 2);
  const entries = new Array<EntryRow>(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    ends[2 * i] = r.endLine;
    ends[2 * i + 1] = r.endByte;
    entries[i] = r.row;
  }
  return JSON.stringify([ends, entries]);
}

const isKeyStart = (code: number) => code >= 0x61 && code <= 0x7a;

/**
 * Where the row object starting at `from` (its `{`) ends in a batch line: the index of its `}`.
 * Rows are flat objects whose keys start with a lowercase letter, so a row ends where `},{"` is
 * followed by such a letter: inside a string value `"` is always escaped, and a value that merely
 * ends in `},{` is followed by its closing quote and then `,` or `}`, not a letter.
 */
function rowEnd(line: string, from: number, last: boolean): number {
  if (last) return line.length - 3; // …}]]
  for (let at = line.indexOf('},{"', from); at !== -1; at = line.indexOf('},{"', at + 1)) {
    if (isKeyStart(line.charCodeAt(at + 4))) return at;
  }
  throw new Error('spool line: a row boundary is missing');
}

/** Adds the rows of a batch line that end after CSV byte `afterByte` to `out`; false for the end line. */
function decode(line: string, afterByte: number, out: SpooledRow[]): boolean {
  const parsed = JSON.parse(line) as [number[], EntryRow[]] | ['end', number, number];
  if (parsed[0] === 'end') return false;
  const [ends, rows] = parsed as [number[], EntryRow[]];
  // The first `{` opens the first row: the ends before it are numbers.
  let start = line.indexOf('{');
  for (let i = 0; i < rows.length; i++) {
    const end = rowEnd(line, start, i === rows.length - 1);
    const row = rows[i]!;
    const endByte = ends[2 * i + 1]!;
    if (endByte > afterByte) out.push({ line: row.line, endLine: ends[2 * i]!, endByte, row, fields: line.slice(start + 1, end + 1) });
    start = end + 2;
  }
  return true;
}

/** Batch lines written but not yet on disk before the check waits (memory stays a few batches' worth). */
const maxQueuedWrites = 4;

export class SpoolWriter {
  private rows = 0;
  /** The writes queued, in order: the check goes on meanwhile, instead of waiting for each at the next batch. */
  private writing: Promise<unknown> = Promise.resolve();
  private queued = 0;
  private constructor(private readonly handle: fs.promises.FileHandle) {}

  /** Starts a new spool (an old one, from a run that crashed, is replaced). */
  static async create(filePath: string): Promise<SpoolWriter> {
    return new SpoolWriter(await fs.promises.open(spoolPathOf(filePath), 'w', 0o600));
  }

  /** Queues a batch's line (a failed write is thrown by a later write or by finish). */
  async write(rows: readonly SpoolRow[]): Promise<void> {
    if (!rows.length) return;
    const line = `${encode(rows)}\n`;
    this.queued++;
    this.writing = this.writing.then(async () => {
      await this.handle.write(line);
      this.queued--;
    });
    // Handled where it is awaited (a later write, finish, abandon); not an unhandled rejection meanwhile.
    this.writing.catch(() => {});
    this.rows += rows.length;
    if (this.queued > maxQueuedWrites) await this.writing;
  }

  /** Marks the spool complete and flushes it to disk. */
  async finish(): Promise<void> {
    await this.writing;
    await this.handle.write(`["end",${this.rows},${format}]\n`);
    await this.handle.sync();
    await this.handle.close();
  }

  async abandon(filePath: string): Promise<void> {
    await this.writing.catch(() => {});
    await this.handle.close().catch(() => {});
    await removeSpool(filePath);
  }
}

export async function removeSpool(filePath: string): Promise<void> {
  await fs.promises.rm(spoolPathOf(filePath), { force: true });
}

/** Whether the spool exists and ends with its end line (of this format). */
export async function spoolComplete(filePath: string): Promise<boolean> {
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(spoolPathOf(filePath), 'r');
  } catch {
    return false;
  }
  try {
    const { size } = await handle.stat();
    const tail = Buffer.alloc(Math.min(size, 64));
    await handle.read(tail, 0, tail.length, size - tail.length);
    return endLinePattern.test(tail.toString('utf8'));
  } finally {
    await handle.close();
  }
}

/** The spooled rows after CSV byte `afterByte` (0: all), in order, in arrays (one per chunk read). */
export async function* readSpool(filePath: string, afterByte: number): AsyncGenerator<SpooledRow[]> {
  let rest: Buffer | null = null;
  // Lines are found in the bytes and each decoded once (no string decoder, no joined text to copy again);
  // chunks larger than a batch's line (about 200 bytes a row) keep reads and split lines few.
  for await (const chunk of fs.createReadStream(spoolPathOf(filePath), { highWaterMark: 1024 * 1024 })) {
    const bytes: Buffer = rest ? Buffer.concat([rest, chunk as Buffer]) : (chunk as Buffer);
    const rows: SpooledRow[] = [];
    let start = 0;
    let ended = false;
    for (let nl = bytes.indexOf(10); nl !== -1; nl = bytes.indexOf(10, start)) {
      const more = decode(bytes.toString('utf8', start, nl), afterByte, rows);
      start = nl + 1;
      if (!more) {
        ended = true;
        break;
      }
    }
    if (rows.length) yield rows;
    if (ended) return;
    rest = start < bytes.length ? bytes.subarray(start) : null;
  }
}
