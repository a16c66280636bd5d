import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { detectDelimiter, previewCsv, readCsv, Utf8Check, type CsvItem } from './csvRows';
import { ImportFileError } from './types';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'csvrows-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
let n = 0;
function file(content: string | Buffer): string {
  const p = path.join(dir, `f${++n}.csv`);
  fs.writeFileSync(p, content);
  return p;
}

async function items(p: string, opts: { startByte?: number; startLine?: number } = {}): Promise<CsvItem[]> {
  const out: CsvItem[] = [];
  for await (const item of readCsv(p, { delimiter: ',', ...opts })) out.push(item);
  return out;
}

/** Runs bytes through Utf8Check (as the upload does, with sniffing) and returns the error message or null. */
async function checkBytes(bytes: Buffer, chunk = 7): Promise<string | null> {
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += chunk) chunks.push(bytes.subarray(i, i + chunk));
  try {
    await pipeline(Readable.from(chunks), new Utf8Check(1, true), async function* (source) {
      for await (const _ of source) yield;
    });
    return null;
  } catch (err) {
    if (!(err instanceof ImportFileError)) throw err;
    return err.message;
  }
}

describe('streamed CSV rows', () => {
  it('numbers physical lines: a quoted field with CRLF inside spans two lines; the next record starts after it', async () => {
    const p = file('\uFEFFemail,note\r\na@example.com,"two\r\nlines"\r\nb@example.com,x\r\n\r\nc@example.com,"é ""quoted"""\r\n');
    const rows = (await items(p)).filter((i) => i.kind === 'row');
    expect(rows.map((r) => [r.line, r.endLine, r.fields[0]])).toEqual([
      [1, 1, 'email'],
      [2, 3, 'a@example.com'],
      [4, 4, 'b@example.com'],
      [5, 5, ''],
      [6, 6, 'c@example.com'],
    ]);
    expect(rows[1]!.fields[1]).toBe('two\r\nlines');
    expect(rows[4]!.fields[1]).toBe('é "quoted"');
    // Resume from a record boundary: the same records with the same numbers.
    const resumed = await items(p, { startByte: rows[2]!.endByte, startLine: rows[2]!.endLine + 1 });
    expect(resumed.map((r) => [r.line, r.kind === 'row' ? r.fields[0] : r.kind])).toEqual([
      [5, ''],
      [6, 'c@example.com'],
    ]);
  });

  it('reports a malformed record at the line where it starts and goes on with the next line', async () => {
    const p = file('email,n\na@example.com,1\nb@example.com,"bad"x\nc@example.com,"ok\nstill ok"\nd@example.com,"never closed\ne@example.com,5\n');
    const out = await items(p);
    expect(out.map((i) => [i.kind, i.line, i.kind === 'row' ? i.fields[0] : i.reason])).toEqual([
      ['row', 1, 'email'],
      ['row', 2, 'a@example.com'],
      ['malformed', 3, 'malformed CSV: a closing quote is followed by other characters (inside a quoted field write a quote as "")'],
      ['row', 4, 'c@example.com'],
      ['malformed', 6, 'malformed CSV: a quote is opened but never closed'],
      ['row', 7, 'e@example.com'],
    ]);
    expect(out[2]).toMatchObject({ raw: 'b@example.com,"bad"x' });
  });

  it('names the line of the first byte that is not UTF-8, and guesses Latin-1', async () => {
    const latin1 = Buffer.concat([Buffer.from('email,name\na@example.com,Ann\n'.repeat(300)), Buffer.from('b@example.com,M'), Buffer.from([0xfc]), Buffer.from('ller\n')]);
    const msg = await checkBytes(latin1, 1000);
    expect(msg).toBe('Line 601 is not valid UTF-8 (byte 0xFC) — save the file as UTF-8 (it looks like Windows-1252/Latin-1; in Excel: File → Save As → "CSV UTF-8 (Comma delimited)").');
    // The same through readCsv (the worker re-checks the stored file).
    await expect(items(file(latin1))).rejects.toThrow(/^Line 601 is not valid UTF-8/);
    // Multi-byte characters split across chunks are fine.
    expect(await checkBytes(Buffer.from('email\n日本語@example.com\n'.repeat(500)), 3)).toBeNull();
    expect(await checkBytes(Buffer.concat([Buffer.from('email\nx'), Buffer.from([0xe6, 0x97])]))).toMatch(/^Line 2 is not valid UTF-8/);
  });

  it('recognises empty files, UTF-16, Excel workbooks and NUL bytes with a clear message', async () => {
    expect(await checkBytes(Buffer.alloc(0))).toMatch(/^The file is empty/);
    expect(await checkBytes(Buffer.from('\uFEFF\r\n\r\n'))).toMatch(/^The file is empty/);
    expect(await checkBytes(Buffer.from('\ufeffemail\n', 'utf16le'))).toMatch(/UTF-16/);
    expect(await checkBytes(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('email\n', 'utf16le')]))).toMatch(/^The file is UTF-16 text/);
    expect(await checkBytes(Buffer.from('PK\u0003\u0004rest of a zip'))).toMatch(/Excel workbook \(\.xlsx\)/);
    expect(await checkBytes(Buffer.from('email\na@example.com\u0000\n'))).toMatch(/NUL bytes/);
    expect(await checkBytes(Buffer.from('email\r\na@example.com\r\n'))).toBeNull();
    expect(await checkBytes(Buffer.from('email\ra@example.com\rb@example.com\r'))).toMatch(/CR only \(old Mac format\)/);
  });

  it('previews the first rows and detects the delimiter', async () => {
    expect(detectDelimiter('email;status;"a,b"')).toBe(';');
    expect(detectDelimiter('email\tstatus')).toBe('\t');
    expect(detectDelimiter('email')).toBe(',');
    const preview = await previewCsv(file('\uFEFFemail;status\r\n\r\na@example.com;pending\r\n'));
    expect(preview).toMatchObject({ delimiter: ';', columns: 2, rows: [{ line: 1, fields: ['email', 'status'] }, { line: 3, fields: ['a@example.com', 'pending'] }] });
    await expect(previewCsv(file(''))).rejects.toThrow(/^The file is empty/);
    expect((await previewCsv(file('email\n"a@example.com\nb@example.com\n'))).rows.map((r) => r.line)).toEqual([1, 3]);
  });
});
