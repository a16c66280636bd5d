import type { Queryable } from '../db/dialect';
import { attribute, preloadAttribution, type Attribution } from './attribution';
import { AttributionLookup } from './attributionLookup';
import type { MessageParse, NewComplaint } from './complaintRepository';
import { ConsentCandidates, type ConsentProof, type ConsentQuestion } from './consentLookup';
import { consequences, type ChargePolicy, type ValidComplaint } from './consequences';
import { dedupKeyOf } from './dedup';
import { complaintPlace, intakeRepository, reportPositionKey } from './intakeRepository';
import type { ParsedComplaint, ParseResult, ReportedRecipient } from './parse/index';
import { judge, type ValidityRules } from './validity';

export interface IntakeOptions extends ValidityRules, ChargePolicy {
  maxBytes: number;
  /** Hours a reseller has to act on a new case (due date; overdue cases escalate). */
  responseHours: number;
}

export interface ParsedMessage {
  messageId: number;
  receivedAt: Date;
  result: ParseResult;
}

/** One reported recipient of a parsed message, before the duplicate check and the verdict. */
interface Draft {
  messageId: number;
  recipientNo: number;
  received: Date;
  report: ParsedComplaint;
  attribution: Attribution;
  recipient: ReportedRecipient | null;
  dedupKey: string | null;
  reportPosition: string | null;
  /** An earlier complaint this one repeats: stored (its id) or earlier in this batch (its draft). */
  firstSeen: number | Draft | null;
  consent: ConsentQuestion | null;
}

/**
 * Processes parsed messages in one transaction: claims each still `pending` message by saving its parse,
 * then attributes, deduplicates and judges each reported recipient and writes the complaints and what
 * valid ones bring (strikes, ladder, charges). Reads are made for the whole batch at once (attribution,
 * duplicates, consent records) and writes are multi-row, so a batch costs a few dozen statements rather
 * than a few dozen per message; a single message takes the same path.
 */
export async function processParsedMessages(trx: Queryable, messages: readonly ParsedMessage[], options: IntakeOptions, now: Date): Promise<void> {
  const claimed = await intakeRepository.claimWithParses(trx, new Map(messages.map((m) => [m.messageId, parseOf(m.result)])));
  const mine = messages.filter((m) => claimed.has(m.messageId));
  if (!mine.length) return;

  const rows: NewComplaint[] = mine.flatMap((m) => (m.result.ok ? [] : [unparsedRow(m.messageId, m.receivedAt, m.result.reason)]));
  const drafts = await draftsOf(trx, mine);
  await findFirstsSeen(trx, drafts);
  const candidates = await ConsentCandidates.read(trx, drafts.flatMap((d) => (d.consent && d.firstSeen === null ? [d.consent] : [])));

  // Duplicates of complaints in this batch are judged once their first has an id.
  const later = drafts.filter((d) => typeof d.firstSeen === 'object' && d.firstSeen !== null);
  const laterSet = new Set(later);
  for (const d of drafts.filter((x) => !laterSet.has(x))) rows.push(complaintRow(d, typeof d.firstSeen === 'number' ? d.firstSeen : null, d.consent ? candidates.proofFor(d.consent) : null, options, now));
  const ids = await intakeRepository.insertComplaints(trx, rows, now);
  const idOf = (d: Draft) => ids.get(complaintPlace(d.messageId, d.recipientNo))!;
  if (later.length) {
    const laterRows = later.map((d) => complaintRow(d, idOf(d.firstSeen as Draft), null, options, now));
    for (const [place, id] of await intakeRepository.insertComplaints(trx, laterRows, now)) ids.set(place, id);
  }

  const valid: ValidComplaint[] = [];
  for (const row of [...rows].sort((a, b) => a.messageId - b.messageId || a.recipientNo - b.recipientNo)) {
    if (row.status === 'valid') valid.push({ complaintId: ids.get(complaintPlace(row.messageId, row.recipientNo))!, accountId: row.accountId!, resellerAccountId: row.resellerAccountId, reason: row.decisionReason ?? 'valid complaint' });
  }
  await consequences.validMany(trx, valid, options, now);
}

function parseOf(result: ParseResult): MessageParse {
  if (!result.ok) return { parseStatus: 'unparsed', parseError: result.reason, format: null, feedbackType: null, reportMessageId: null, reporter: null, parsed: null };
  const report = result.report;
  return { parseStatus: 'parsed', parseError: null, format: report.format, feedbackType: report.feedbackType, reportMessageId: report.reportMessageId, reporter: report.reporter.from ?? report.reporter.userAgent, parsed: report };
}

/** Every reported recipient of the parsed messages (a report without one stands for one), attributed. */
async function draftsOf(trx: Queryable, messages: readonly ParsedMessage[]): Promise<Draft[]> {
  const parsed = messages.flatMap((m) => (m.result.ok ? [{ m, report: m.result.report }] : []));
  const lookup = new AttributionLookup(trx);
  await preloadAttribution(lookup, parsed.map((p) => p.report));
  const drafts: Draft[] = [];
  for (const { m, report } of parsed) {
    const attribution = await attribute(lookup, report);
    const arrival = report.arrivalDate ?? m.receivedAt;
    const recipients: Array<ReportedRecipient | null> = report.recipients.length ? report.recipients : [null];
    for (const [recipientNo, recipient] of recipients.entries()) {
      const address = recipient?.redaction === 'none' ? recipient.address : null;
      drafts.push({
        messageId: m.messageId,
        recipientNo,
        received: m.receivedAt,
        report,
        attribution,
        recipient,
        dedupKey: report.isComplaint ? dedupKeyOf(report, recipient) : null,
        reportPosition: report.isComplaint && report.reportMessageId ? reportPositionKey(report.reportMessageId, recipientNo) : null,
        firstSeen: null,
        consent: report.isComplaint && attribution.accountId !== null && address ? { accountId: attribution.accountId, domainId: attribution.domainId, recipient: address, before: arrival } : null,
      });
    }
  }
  return drafts;
}

/**
 * Marks drafts that repeat an earlier complaint: the same original message and recipient (dedup key),
 * else the same report at the same recipient position — stored before, or earlier in this batch.
 */
async function findFirstsSeen(trx: Queryable, drafts: Draft[]): Promise<void> {
  const byKey = new Map<string, number | Draft>(await intakeRepository.firstsByKey(trx, drafts.flatMap((d) => (d.dedupKey ? [d.dedupKey] : []))));
  const reportIds = [...new Set(drafts.flatMap((d) => (d.reportPosition && d.report.reportMessageId ? [d.report.reportMessageId] : [])))];
  const byReport = new Map<string, number | Draft>(await intakeRepository.firstsByReport(trx, reportIds));
  for (const d of drafts) {
    d.firstSeen = (d.dedupKey ? byKey.get(d.dedupKey) : undefined) ?? (d.reportPosition ? byReport.get(d.reportPosition) : undefined) ?? null;
    if (d.firstSeen !== null) continue;
    if (d.dedupKey) byKey.set(d.dedupKey, d);
    if (d.report.reportMessageId) {
      const position = reportPositionKey(d.report.reportMessageId, d.recipientNo);
      if (!byReport.has(position)) byReport.set(position, d);
    }
  }
}

function complaintRow(d: Draft, duplicateOf: number | null, consent: ConsentProof | null, options: IntakeOptions, now: Date): NewComplaint {
  const { report, attribution, recipient } = d;
  const arrival = report.arrivalDate ?? d.received;
  const address = recipient?.redaction === 'none' ? recipient.address : null;
  const verdict = judge(
    {
      isComplaint: report.isComplaint,
      feedbackType: report.feedbackType,
      duplicateOf,
      attribution: attribution.level,
      spamtrap: report.spamtrap,
      recipient: address,
      redaction: recipient?.redaction ?? 'redacted',
      domainName: attribution.domainId !== null ? attribution.domainName : null,
      arrival,
      consent,
    },
    options,
    now,
  );
  const decided = verdict.status === 'valid' || verdict.status === 'invalid' || verdict.status === 'not_complaint' || verdict.status === 'duplicate';
  const needsReseller = attribution.accountId !== null && ['valid', 'awaiting_evidence', 'review'].includes(verdict.status);
  return {
    messageId: d.messageId,
    recipientNo: d.recipientNo,
    recipient: recipient ? (recipient.address ?? recipient.raw).slice(0, 254) : null,
    recipientRedaction: recipient?.redaction ?? 'redacted',
    format: report.format,
    feedbackType: report.feedbackType,
    isComplaint: report.isComplaint,
    spamtrap: report.spamtrap,
    arrivalAt: report.arrivalDate,
    receivedAt: d.received,
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
    dedupKey: d.dedupKey,
    status: verdict.status,
    decisionReason: verdict.reason.slice(0, 2000),
    decidedBy: decided ? 'system' : null,
    decidedAt: decided ? now : null,
    evidenceDueAt: verdict.evidenceDueAt,
    dueAt: needsReseller ? new Date(now.getTime() + options.responseHours * 3600_000) : null,
  };
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
