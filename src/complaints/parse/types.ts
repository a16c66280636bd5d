/** Public shapes of the complaint parser (re-exported by index.ts). */

export type ComplaintFormat = 'arf' | 'jmrp' | 'forwarded' | 'unsubscribe' | 'unknown';

export type FeedbackType = 'abuse' | 'fraud' | 'virus' | 'other' | 'not-spam' | 'auth-failure' | 'opt-out' | 'unsubscribe';

export interface ReportedRecipient {
  raw: string;
  /** Normalised lowercase address, or null (redacted, hashed, or not an address). */
  address: string | null;
  redaction: 'none' | 'hashed' | 'redacted';
}

export interface OriginalMessage {
  present: 'full' | 'headers' | 'redacted' | 'missing';
  /** Without angle brackets. */
  messageId: string | null;
  /** Address only, lowercased. */
  from: string | null;
  /** Address only; domain lowercased, local part as sent (VERP tokens can be case-sensitive). */
  returnPath: string | null;
  subject: string | null;
  date: Date | null;
  to: string[];
  /** d= of every DKIM-Signature header, lowercased, in order, without duplicates. */
  dkimDomains: string[];
  /** From-clause IPs of the Received headers (top first; loopback dropped), then X-Originating-IP. */
  receivedIps: string[];
  antiAbuse: {
    /** X-AntiAbuse: Sender Address Domain - … */
    senderDomain: string | null;
    /** X-Get-Message-Sender-Via: …: authenticated_id: user@domain (or authenticated_local_user: user) */
    authenticatedUser: string | null;
    /** X-Authenticated-Sender: host: user@domain */
    authenticatedSender: string | null;
    /** X-AntiAbuse: Originator/Caller UID/GID - … */
    caller: string | null;
  };
  /** The original's header block as text (LF line endings), capped at 64 KiB. */
  headerText: string | null;
}

export interface ParsedComplaint {
  format: ComplaintFormat;
  feedbackType: FeedbackType;
  /** abuse | fraud | virus: the only kinds that are complaints (chargeable after validation). */
  isComplaint: boolean;
  /** Spamtrap hit rather than a user complaint (heuristic, see index.ts). */
  spamtrap: boolean;
  reporter: { from: string | null; userAgent: string | null; reportingMta: string | null; version: string | null };
  /** Message-ID of the report mail itself, without angle brackets. */
  reportMessageId: string | null;
  arrivalDate: Date | null;
  sourceIp: string | null;
  sourceIpFrom: 'field' | 'original-headers' | 'subject' | null;
  incidents: number;
  /** Original-Mail-From, address only; domain lowercased, local part as sent (VERP). */
  originalMailFrom: string | null;
  recipients: ReportedRecipient[];
  reportedDomains: string[];
  reportedUris: string[];
  authFailure: string | null;
  original: OriginalMessage;
  warnings: string[];
}

export type ParseResult = { ok: true; report: ParsedComplaint } | { ok: false; reason: string };
