import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { retryOnLockConflict } from '../db/dialect';
import type { Clock } from '../lib/clock';
import { AppError } from '../lib/errors';
import { systemActor } from '../tenancy/actor';
import { complaintRepository } from './complaintRepository';
import { processParsedMessages, type IntakeOptions, type ParsedMessage } from './intakeBatch';
import { intakeRepository } from './intakeRepository';
import { parseComplaint } from './parse/index';
import type { Complaint, IntakeChannel } from './types';

export type { IntakeOptions } from './intakeBatch';

export interface IngestOutcome {
  /** false when these exact bytes were already stored: the earlier complaints are returned. */
  stored: boolean;
  messageId: number;
  complaints: Complaint[];
}

/** What became of one message of a batch: stored (or found stored) under an id, or refused with the reason. */
export type BatchOutcome = { stored: boolean; messageId: number } | { error: AppError };

export class MessageTooLargeError extends AppError {
  constructor(size: number, limit: number) {
    const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
    super(413, 'message_too_large', `The message is ${mb(size)}; the limit is ${mb(limit)} (COMPLAINT_MAX_MB). Nothing was stored.`);
  }
}

export class EmptyMessageError extends AppError {
  constructor() {
    super(422, 'empty_message', 'The message is empty: send the complete report mail (headers and body). Nothing was stored.');
  }
}

/** Messages per batch, and their bytes: bounds memory and the size of one processing transaction. */
const messagesPerBatch = 200;
const bytesPerBatch = 16 * 1024 * 1024;

interface Arrival {
  index: number;
  raw: Buffer;
  sha256: string;
}

/**
 * Complaint intake: raw first (the exact bytes and their SHA-256 are committed before any parsing, so
 * nothing that arrived is ever lost), then parse, attribute, deduplicate and judge each reported
 * recipient, in one transaction per batch of messages (processParsedMessages). The same bytes twice give
 * the same complaints. One message (CLI, API) is a batch of one; uploads and imports send many.
 */
export class ComplaintIntakeService {
  constructor(
    private readonly db: Knex,
    private readonly clock: Clock,
    private readonly options: IntakeOptions,
  ) {}

  /** One message; a refused one (too large, empty) throws its error. Returns the message's complaints. */
  async ingest(raw: Buffer, via: IntakeChannel, by: string): Promise<IngestOutcome> {
    const [outcome] = await this.ingestMany([raw], via, by);
    if ('error' in outcome!) throw outcome.error;
    return { ...outcome!, complaints: await this.complaintsOf(outcome!.messageId) };
  }

  /** The complaints a stored message gave, in recipient order. */
  async complaintsOf(messageId: number): Promise<Complaint[]> {
    return complaintRepository.complaintsOfMessage(this.db, systemActor, messageId);
  }

  /** Many messages, in order, a batch at a time; one outcome per message (a refused one does not stop the rest). */
  async ingestMany(raws: readonly Buffer[], via: IntakeChannel, by: string): Promise<BatchOutcome[]> {
    const outcomes: BatchOutcome[] = new Array(raws.length);
    let batch: Arrival[] = [];
    let bytes = 0;
    for (const [index, raw] of raws.entries()) {
      const refused = this.refusal(raw);
      if (refused) {
        outcomes[index] = { error: refused };
        continue;
      }
      if (batch.length >= messagesPerBatch || (batch.length && bytes + raw.length > bytesPerBatch)) {
        await this.ingestBatch(batch, via, by, outcomes);
        batch = [];
        bytes = 0;
      }
      batch.push({ index, raw, sha256: crypto.createHash('sha256').update(raw).digest('hex') });
      bytes += raw.length;
    }
    if (batch.length) await this.ingestBatch(batch, via, by, outcomes);
    return outcomes;
  }

  /** Processes messages stored but left unprocessed (a crash between storing and parsing); run by the complaints job. */
  async processPending(olderThanMs = 60_000): Promise<number> {
    const pending = await intakeRepository.pendingRaws(this.db, new Date(this.clock.now().getTime() - olderThanMs), 500);
    for (let i = 0; i < pending.length; i += messagesPerBatch) {
      const part = pending.slice(i, i + messagesPerBatch);
      await this.process(await Promise.all(part.map(async (m) => ({ messageId: m.id, receivedAt: m.receivedAt, result: await parseComplaint(m.raw) }))));
    }
    return pending.length;
  }

  private refusal(raw: Buffer): AppError | null {
    if (raw.length > this.options.maxBytes) return new MessageTooLargeError(raw.length, this.options.maxBytes);
    if (raw.length === 0 || !raw.some((b) => b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09)) return new EmptyMessageError();
    return null;
  }

  /** Raw first for the whole batch (committed), then the parse and processing of what is new or was left pending. */
  private async ingestBatch(batch: Arrival[], via: IntakeChannel, by: string, outcomes: BatchOutcome[]): Promise<void> {
    const known = await intakeRepository.messagesBySha(this.db, batch.map((a) => a.sha256));
    const fresh = batch.filter((a, i) => !known.has(a.sha256) && batch.findIndex((b) => b.sha256 === a.sha256) === i);
    if (fresh.length) await intakeRepository.storeRaws(this.db, fresh.map((a) => ({ sha256: a.sha256, raw: a.raw, via, by })), this.clock.now());
    const stored = fresh.length ? await intakeRepository.messagesBySha(this.db, fresh.map((a) => a.sha256)) : new Map();

    const toProcess = new Map<number, Arrival & { receivedAt: Date }>();
    const isFresh = new Set(fresh);
    for (const a of batch) {
      const message = known.get(a.sha256) ?? stored.get(a.sha256);
      if (!message) throw new Error(`complaint message ${a.sha256} was neither stored nor found`);
      // Stored earlier but never processed (the process stopped in between): finish it now.
      if (message.parseStatus === 'pending' && !toProcess.has(message.id)) toProcess.set(message.id, { ...a, receivedAt: message.receivedAt });
      outcomes[a.index] = { stored: isFresh.has(a), messageId: message.id };
    }
    const parsed: ParsedMessage[] = [];
    for (const [messageId, a] of toProcess) parsed.push({ messageId, receivedAt: a.receivedAt, result: await parseComplaint(a.raw) });
    await this.process(parsed);
  }

  private async process(messages: ParsedMessage[]): Promise<void> {
    if (!messages.length) return;
    const now = this.clock.now();
    await retryOnLockConflict(() => this.db.transaction((trx) => processParsedMessages(trx, messages, this.options, now)));
  }
}
