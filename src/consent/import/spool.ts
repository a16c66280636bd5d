import fs from 'node:fs';
import type { ValidRow } from './rowValidation';

/**
 * The checked rows of an all_or_nothing import, written by pass 1 next to the uploaded file
 * (`<file>.rows`, one JSON array per line, a final `["end",<rows>]` line once the check is complete),
 * so pass 2 writes records without parsing and checking the CSV a second time. The spool is a
 * cache: when it is missing or incomplete (the end line is absent), pass 2 reads the CSV again.
 */

export interface SpoolRow {
  line: number;
  endLine: number;
  endByte: number;
  row: ValidRow;
}

export const spoolPathOf = (filePath: string) => `${filePath}.rows`;

function encode(r: SpoolRow): string {
  const v = r.row;
  return JSON.stringify([r.line, r.endLine, r.endByte, v.email, v.status, v.method, v.source, v.consentedAt ? v.consentedAt.getTime() : null, v.ip, v.userAgent, v.revokedHow]);
}

function decode(text: string): SpoolRow | null {
  const a = JSON.parse(text) as unknown[];
  if (a[0] === 'end') return null;
  return {
    line: a[0] as number,
    endLine: a[1] as number,
    endByte: a[2] as number,
    row: {
      email: a[3] as string,
      status: a[4] as ValidRow['status'],
      method: a[5] as ValidRow['method'],
      source: a[6] as string | null,
      consentedAt: a[7] === null ? null : new Date(a[7] as number),
      ip: a[8] as string | null,
      userAgent: a[9] as string | null,
      revokedHow: a[10] as ValidRow['revokedHow'],
    },
  };
}

export class SpoolWriter {
  private rows = 0;
  private constructor(private readonly handle: fs.promises.FileHandle) {}

  /** Starts a new spool (an old one, from a run that crashed, is replaced). */
  static async create(filePath: string): Promise<SpoolWriter> {
    return new SpoolWriter(await fs.promises.open(spoolPathOf(filePath), 'w', 0o600));
  }

  async write(rows: SpoolRow[]): Promise<void> {
    if (!rows.length) return;
    let text = '';
    for (const r of rows) text += `${encode(r)}\n`;
    await this.handle.write(text);
    this.rows += rows.length;
  }

  /** Marks the spool complete and flushes it to disk. */
  async finish(): Promise<void> {
    await this.handle.write(`["end",${this.rows}]\n`);
    await this.handle.sync();
    await this.handle.close();
  }

  async abandon(filePath: string): Promise<void> {
    await this.handle.close().catch(() => {});
    await removeSpool(filePath);
  }
}

export async function removeSpool(filePath: string): Promise<void> {
  await fs.promises.rm(spoolPathOf(filePath), { force: true });
}

/** Whether the spool exists and ends with its end line. */
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
    return /\n?\["end",\d+\]\n$/.test(tail.toString('utf8'));
  } finally {
    await handle.close();
  }
}

/** The spooled rows after CSV byte `afterByte` (0: all), in order, in arrays (one per chunk read). */
export async function* readSpool(filePath: string, afterByte: number): AsyncGenerator<SpoolRow[]> {
  let rest = '';
  for await (const chunk of fs.createReadStream(spoolPathOf(filePath), { encoding: 'utf8', highWaterMark: 256 * 1024 })) {
    const text = rest + (chunk as string);
    const rows: SpoolRow[] = [];
    let start = 0;
    let ended = false;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      const row = decode(text.slice(start, nl));
      start = nl + 1;
      if (!row) {
        ended = true;
        break;
      }
      if (row.endByte > afterByte) rows.push(row);
    }
    if (rows.length) yield rows;
    if (ended) return;
    rest = text.slice(start);
  }
}
