import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { isUniqueViolation, type Queryable } from '../db/dialect';
import type { Clock } from '../lib/clock';
import { AppError } from '../lib/errors';
import { systemActor } from '../tenancy/actor';
import { attribute, type Attribution } from './attribution';
import { complaintRepository, type NewComplaint } from './complaintRepository';
import { consentBefore } from './consentLookup';
import { consequences, type ChargePolicy } from './consequences';
import { dedupKeyOf } from './dedup';
import { parseComplaint, type ParsedComplaint, type ReportedRecipient } from './parse/index';
import type { Complaint, IntakeChannel } from './types';
import { judge, type ValidityRules } from './validity';

export interface IntakeOptions extends ValidityRules, ChargePolicy {
  maxBytes: number;
  /** Hours a reseller has to act on a new case (due date; overdue cases escalate). */
  responseHours: number;
}

export interface IngestOutcome {
  /** false when these exact bytes were already stored: the earlier complaints are returned. */
  stored: boolean;
  messageId: number;
  complaints: Complaint[];
}

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

/**
 * Complaint intake: raw first (the exact bytes and their SHA-256 are committed before any parsing, so
 * nothing that arrived is ever lost), then parse, attribute, deduplicate and judge each reported
 * recipient, in one transaction per message. The same bytes twice give the same complaints.
 */
export class ComplaintIntakeService {
  constructor(
    private readonly db: Knex,
    private readonly clock: Clock,
    private readonly options: IntakeOptions,
  ) {}

  async ingest(raw: Buffer, via: IntakeChannel, by: string): Promise<IngestOutcome> {
    if (raw.length > this.options.maxBytes) throw new MessageTooLargeError(raw.length, this.options.maxBytes);
    if (raw.length === 0 || !raw.some((b) => b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09)) throw new EmptyMessageError();
    const sha256 = crypto.createHash('sha256').update(raw).digest('hex');
    const known = await complaintRepository.findMessageBySha(this.db, sha256);
    if (known) {
      // Stored earlier but never processed (the process stopped in between): finish it now.
      if (known.parseStatus === 'pending') await this.process(known.id, raw);
      return this.outcome(false, known.id);
    }

    let messageId: number;
    const received = this.clock.now();
    try {
      messageId = await complaintRepository.insertMessage(this.db, { sha256, raw, via, by }, received);
    } catch (err) {
      // The same bytes arrived twice at once: the other request stored them.
      if (!isUniqueViolation(err)) throw err;
      return this.outcome(false, (await complaintRepository.findMessageBySha(this.db, sha256))!.id);
    }
    await this.process(messageId, raw, received);
    return this.outcome(true, messageId);
  }

  /**
   * Parses a stored message and writes its complaints; a message left `pending` by a crash can be processed again.
   * `receivedAt` is the message's stored received_at when the caller just wrote it (saves reading it back).
   */
  async process(messageId: number, raw: Buffer, receivedAt?: Date): Promise<void> {
    const result = await parseComplaint(raw);
    const now = this.clock.now();
    const received = receivedAt ?? (await complaintRepository.receivedAtOf(this.db, messageId))!;
    await this.db.transaction(async (trx) => {
      // Saving the parse claims the message: one already processed (parsed, with its complaints) is left as it is.
      if (!result.ok) {
        if (!(await complaintRepository.saveParse(trx, messageId, { parseStatus: 'unparsed', parseError: result.reason, format: null, feedbackType: null, reportMessageId: null, reporter: null, parsed: null }))) return;
        await complaintRepository.insertComplaint(trx, unparsedRow(messageId, received, result.reason), now);
        return;
      }
      const report = result.report;
      const claimed = await complaintRepository.saveParse(trx, messageId, {
        parseStatus: 'parsed',
        parseError: null,
        format: report.format,
        feedbackType: report.feedbackType,
        reportMessageId: report.reportMessageId,
        reporter: report.reporter.from ?? report.reporter.userAgent,
        parsed: report,
      });
      if (!claimed) return;
      const attribution = await attribute(trx, report);
      const recipients: Array<ReportedRecipient | null> = report.recipients.length ? report.recipients : [null];
      for (const [index, recipient] of recipients.entries()) {
        const row = await this.judgeRecipient(trx, { messageId, received, report, attribution, recipient, index, now });
        const id = await complaintRepository.insertComplaint(trx, row, now);
        if (row.status === 'valid') await consequences.valid(trx, { complaintId: id, accountId: row.accountId!, resellerAccountId: row.resellerAccountId, reason: row.decisionReason ?? 'valid complaint' }, this.options, now);
      }
    });
  }

  /** Processes messages stored but left unprocessed (a crash between storing and parsing); run by the complaints job. */
  async processPending(olderThanMs = 60_000): Promise<number> {
    const ids = await complaintRepository.pendingMessageIds(this.db, new Date(this.clock.now().getTime() - olderThanMs));
    for (const id of ids) await this.process(id, (await complaintRepository.rawOf(this.db, id))!);
    return ids.length;
  }

  private async judgeRecipient(
    trx: Queryable,
    input: { messageId: number; received: Date; report: ParsedComplaint; attribution: Attribution; recipient: ReportedRecipient | null; index: number; now: Date },
  ): Promise<NewComplaint> {
    const { report, attribution, recipient, now } = input;
    const dedupKey = report.isComplaint ? dedupKeyOf(report, recipient) : null;
    const duplicateOf = await complaintRepository.firstDuplicate(trx, {
      dedupKey,
      reportMessageId: report.isComplaint ? report.reportMessageId : null,
      recipientNo: input.index,
      exceptMessageId: input.messageId,
    });
    const arrival = report.arrivalDate ?? input.received;
    const address = recipient?.redaction === 'none' ? recipient.address : null;
    const consent =
      report.isComplaint && attribution.accountId !== null && address ? await consentBefore(trx, { accountId: attribution.accountId, domainId: attribution.domainId, recipient: address, before: arrival }) : null;
    const domainName = attribution.domainId !== null ? attribution.domainName : null;
    const verdict = judge(
      {
        isComplaint: report.isComplaint,
        feedbackType: report.feedbackType,
        duplicateOf,
        attribution: attribution.level,
        spamtrap: report.spamtrap,
        recipient: address,
        redaction: recipient?.redaction ?? 'redacted',
        domainName,
        arrival,
        consent,
      },
      this.options,
      now,
    );
    const decided = verdict.status === 'valid' || verdict.status === 'invalid' || verdict.status === 'not_complaint' || verdict.status === 'duplicate';
    const needsReseller = attribution.accountId !== null && ['valid', 'awaiting_evidence', 'review'].includes(verdict.status);
    return {
      messageId: input.messageId,
      recipientNo: input.index,
      recipient: recipient ? (recipient.address ?? recipient.raw).slice(0, 254) : null,
      recipientRedaction: recipient?.redaction ?? 'redacted',
      format: report.format,
      feedbackType: report.feedbackType,
      isComplaint: report.isComplaint,
      spamtrap: report.spamtrap,
      arrivalAt: report.arrivalDate,
      receivedAt: input.received,
      sourceIp: report.sourceIp,
      originalMessageId: report.original.messageId?.slice(0, 255) ?? null,
      originalMailFrom: (report.originalMailFrom ?? report.original.returnPath)?.slice(0, 254) ?? null,
      subject: report.original.subject?.slice(0, 255) ?? null,
      serverId: attribution.serverId,
      domainId: attribution.domainId,
      accountId: attribution.accountId,
      resellerAccountId: attribution.resellerAccountId,
      attribution: attribution.level,
      attributionReason: attribution.reason.slice(0, 1000),
      duplicateOf,
      dedupKey,
      status: verdict.status,
      decisionReason: verdict.reason.slice(0, 2000),
      decidedBy: decided ? 'system' : null,
      decidedAt: decided ? now : null,
      evidenceDueAt: verdict.evidenceDueAt,
      dueAt: needsReseller ? new Date(now.getTime() + this.options.responseHours * 3600_000) : null,
    };
  }

  private async outcome(stored: boolean, messageId: number): Promise<IngestOutcome> {
    return { stored, messageId, complaints: await complaintRepository.complaintsOfMessage(this.db, systemActor, messageId) };
  }
}

function unparsedRow(messageId: number, received: Date, reason: string): NewComplaint {
  return {
    messageId,
    recipientNo: 0,
    recipient: null,
    recipientRedaction: 'redacted',
    format: null,
    feedbackType: null,
    isComplaint: false,
    spamtrap: false,
    arrivalAt: null,
    receivedAt: received,
    sourceIp: null,
    originalMessageId: null,
    originalMailFrom: null,
    subject: null,
    serverId: null,
    domainId: null,
    accountId: null,
    resellerAccountId: null,
    attribution: 'none',
    attributionReason: null,
    duplicateOf: null,
    dedupKey: null,
    status: 'unparsed',
    decisionReason: `Could not be parsed: ${reason}`.slice(0, 2000),
    decidedBy: null,
    decidedAt: null,
    evidenceDueAt: null,
    dueAt: null,
  };
}
