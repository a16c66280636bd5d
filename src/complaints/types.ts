export const complaintStatuses = ['unparsed', 'not_complaint', 'duplicate', 'review', 'unattributed', 'awaiting_evidence', 'valid', 'invalid'] as const;
/**
 * - unparsed: the message could not be read (kept raw, for admin triage)
 * - not_complaint: classified but never charged (auth-failure, not-spam, opt-out, unsubscribe mail)
 * - duplicate: the same original message and recipient, or the same report, as an earlier complaint
 * - review: needs an admin (Feedback-Type other, or a low-confidence attribution)
 * - unattributed: a complaint no account could be found for (admin queue for manual assignment)
 * - awaiting_evidence: the recipient is redacted or hashed; the customer has until evidence_due_at
 * - valid / invalid: decided (by the rules or an admin, always with a reason)
 */
export type ComplaintStatus = (typeof complaintStatuses)[number];

export const attributionLevels = ['high', 'medium', 'low', 'none'] as const;
export type AttributionLevel = (typeof attributionLevels)[number];

export const deskStatuses = ['new', 'investigating', 'forwarded', 'resolved'] as const;
/** The reseller's own track of a case, separate from its validity. */
export type DeskStatus = (typeof deskStatuses)[number];

export const noteKinds = ['note', 'message', 'evidence', 'system'] as const;
/**
 * - note: internal to the reseller and admins (the customer never sees it)
 * - message: between reseller and customer (a forward, a reply); the customer sees it
 * - evidence: the customer's evidence (text, optionally a consent record); everyone on the case sees it
 * - system: escalations and other automatic entries
 */
export type NoteKind = (typeof noteKinds)[number];

export interface ComplaintNote {
  id: number;
  complaintId: number;
  author: string;
  authorRole: string;
  kind: NoteKind;
  body: string;
  consentRecordId: number | null;
  createdAt: Date;
}

export const intakeChannels = ['cli', 'api', 'upload', 'manual'] as const;
export type IntakeChannel = (typeof intakeChannels)[number];

export interface Complaint {
  id: number;
  messageId: number;
  recipientNo: number;
  recipient: string | null;
  recipientRedaction: 'none' | 'hashed' | 'redacted';
  format: string | null;
  feedbackType: string | null;
  isComplaint: boolean;
  spamtrap: boolean;
  arrivalAt: Date | null;
  receivedAt: Date;
  sourceIp: string | null;
  originalMessageId: string | null;
  originalMailFrom: string | null;
  subject: string | null;
  serverId: number | null;
  serverName: string | null;
  domainId: number | null;
  domainName: string | null;
  accountId: number | null;
  accountUsername: string | null;
  resellerAccountId: number | null;
  resellerUsername: string | null;
  attribution: AttributionLevel;
  attributionReason: string | null;
  duplicateOf: number | null;
  status: ComplaintStatus;
  decisionReason: string | null;
  decidedBy: string | null;
  decidedAt: Date | null;
  evidenceDueAt: Date | null;
  deskStatus: DeskStatus;
  dueAt: Date | null;
  /** When the overdue case was escalated to the admins (once). */
  escalatedAt: Date | null;
  resolution: string | null;
  createdAt: Date;
  updatedAt: Date;
}
