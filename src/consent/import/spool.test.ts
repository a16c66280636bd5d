import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { entryFields, toEntryRow } from './importEvent';
import type { ValidRow } from './rowValidation';
import { readSpool, removeSpool, spoolComplete, spoolPathOf, SpoolWriter, type SpooledRow, type SpoolRow } from './spool';

describe('spool of checked rows', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spool-'));
  const file = path.join(dir, 'upload.csv');
  afterEach(() => removeSpool(file));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const rows: ValidRow[] = [
    { email: 'a@example.com', status: 'confirmed', method: 'web_form', source: 'https://x/"form"\n,]', consentedAt: new Date('2026-01-02T03:04:05.678Z'), ip: '2001:db8::1', userAgent: 'Mozilla/5.0 (é) \u2028 {', revokedHow: null },
    { email: 'b@example.com', status: 'pending', method: 'import', source: null, consentedAt: null, ip: null, userAgent: null, revokedHow: null },
    { email: 'c@example.com', status: 'revoked', method: 'paper', source: null, consentedAt: new Date('2025-05-06T07:08:09Z'), ip: '192.0.2.1', userAgent: null, revokedHow: 'unsubscribe' },
    // Values that look like a boundary between two rows of a batch line.
    { email: 'd@example.com', status: 'confirmed', method: 'web_form', source: 'a},{', consentedAt: new Date('2025-05-06T07:08:09Z'), ip: null, userAgent: '},{"email":"x@example.com"}', revokedHow: null },
    { email: 'e@example.com', status: 'pending', method: 'import', source: '},{"\\', consentedAt: null, ip: null, userAgent: 'ends in },{', revokedHow: null },
    { email: 'f@example.com', status: 'pending', method: 'import', source: null, consentedAt: null, ip: null, userAgent: '\\},{\\', revokedHow: null },
  ];
  const spooled: SpoolRow[] = rows.map((r, i) => ({ endLine: i * 2 + 3, endByte: 100 * (i + 1), row: toEntryRow(i * 2 + 2, r) }));

  const readBack = spooled.map((r) => ({ ...r, line: r.row.line, fields: entryFields(r.row) }));

  async function read(afterByte: number): Promise<SpooledRow[]> {
    const out: SpooledRow[] = [];
    for await (const chunk of readSpool(file, afterByte)) out.push(...chunk);
    return out;
  }

  it('gives back exactly the rows written (values and entry text), after a resume point too, once complete', async () => {
    const writer = await SpoolWriter.create(file);
    await writer.write(spooled.slice(0, 2));
    expect(await spoolComplete(file)).toBe(false);
    await writer.write(spooled.slice(2, 3));
    await writer.write(spooled.slice(3));
    await writer.finish();
    expect(await spoolComplete(file)).toBe(true);
    const all = await read(0);
    expect(all).toEqual(readBack);
    expect(all.map((r) => r.fields)).toStrictEqual(readBack.map((r) => r.fields));
    expect(await read(100)).toEqual(readBack.slice(1));
  });

  it('reads lines longer than a read chunk', async () => {
    const many: SpoolRow[] = Array.from({ length: 9000 }, (_, i) => ({ endLine: i + 2, endByte: (i + 1) * 300, row: toEntryRow(i + 2, { ...rows[i % rows.length]!, email: `r${i}@example.com` }) }));
    const writer = await SpoolWriter.create(file);
    await writer.write(many.slice(0, 7000));
    await writer.write(many.slice(7000));
    await writer.finish();
    expect(fs.statSync(spoolPathOf(file)).size).toBeGreaterThan(1024 * 1024);
    const back = await read(150_000);
    expect(back.map((r) => r.row)).toEqual(many.slice(500).map((r) => r.row));
    expect(back.map((r) => r.fields)).toStrictEqual(many.slice(500).map((r) => entryFields(r.row)));
  });

  it('a spool of the earlier format (no format in its end line) is not complete: pass 2 reads the CSV again', async () => {
    fs.writeFileSync(spoolPathOf(file), '[2,3,60,"a@example.com","pending","import",null,null,null,null,null]\n["end",1]\n');
    expect(await spoolComplete(file)).toBe(false);
  });
});
