import type { DialogueEntry } from './types';

/**
 * The evidence of one SMTP session: every command, reply line and note, with the monotonic time
 * it happened. A session may carry several recipients; lines that belong to one recipient are
 * tagged with its index, so each address's evidence shows only its own RCPT exchange (another
 * customer's address on the same server is not theirs to see).
 */
export interface TranscriptEntry {
  t: number;
  dir: DialogueEntry['dir'];
  line: string;
  tag?: number;
}

const MAX_LINE = 512;

export class Transcript {
  readonly entries: TranscriptEntry[] = [];
  /** Index of the recipient the session is working on; undefined for the shared part. */
  tag: number | undefined;

  constructor(private readonly now: () => number = () => performance.now()) {}

  client(line: string): void {
    this.add('C', line);
  }

  server(line: string): void {
    this.add('S', line);
  }

  note(line: string): void {
    this.add('note', line);
  }

  private add(dir: TranscriptEntry['dir'], line: string): void {
    const clipped = line.length > MAX_LINE ? `${line.slice(0, MAX_LINE)}…` : line;
    const entry: TranscriptEntry = { t: this.now(), dir, line: clipped };
    if (this.tag !== undefined) entry.tag = this.tag;
    this.entries.push(entry);
  }

  /** The shared lines plus recipient `index`'s own; other recipients' lines become one note per run. */
  forRecipient(index: number): TranscriptEntry[] {
    const out: TranscriptEntry[] = [];
    let skipped = 0;
    let skippedAt = 0;
    const flush = () => {
      if (skipped > 0) out.push({ t: skippedAt, dir: 'note', line: `(${skipped} line${skipped === 1 ? '' : 's'} for other recipients in this session omitted)` });
      skipped = 0;
    };
    for (const entry of this.entries) {
      if (entry.tag === undefined || entry.tag === index) {
        flush();
        out.push(entry);
      } else {
        if (skipped === 0) skippedAt = entry.t;
        skipped++;
      }
    }
    flush();
    return out;
  }
}

/** Evidence entries made relative to `origin` (the first line of the first session). */
export function toDialogue(entries: TranscriptEntry[], origin: number): DialogueEntry[] {
  return entries.map((e) => ({ at: Math.max(0, Math.round(e.t - origin)), dir: e.dir, line: e.line }));
}
