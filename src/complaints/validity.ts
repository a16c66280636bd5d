import type { ConsentProof } from './consentLookup';
import type { AttributionLevel, ComplaintStatus } from './types';

export interface ValidityRules {
  /** Days a customer has to attach evidence when the recipient is redacted or hashed. */
  evidenceDays: number;
  /** Spamtrap hits count as valid complaints (the policy's default) or go to an admin. */
  spamtrapsValid: boolean;
}

export interface ValidityFacts {
  isComplaint: boolean;
  feedbackType: string | null;
  duplicateOf: number | null;
  attribution: AttributionLevel;
  spamtrap: boolean;
  recipient: string | null;
  redaction: 'none' | 'hashed' | 'redacted';
  /** The sending domain, for the message. */
  domainName: string | null;
  arrival: Date;
  /** The consent record found for the recipient (looked up only when there is a readable recipient). */
  consent: ConsentProof | null;
}

export interface Verdict {
  status: ComplaintStatus;
  reason: string;
  evidenceDueAt: Date | null;
}

/**
 * The policy's validity rule as one function (issue: complaints, item 6): a complaint is valid when it
 * is an attributable abuse/fraud/virus report and the customer holds no confirmed, unrevoked consent
 * record for the recipient from the sending domain dated before the arrival — no record means no
 * permission. Anything uncertain goes to a person rather than to a $3000 charge.
 */
export function judge(f: ValidityFacts, rules: ValidityRules, now: Date): Verdict {
  const none = (status: ComplaintStatus, reason: string): Verdict => ({ status, reason, evidenceDueAt: null });
  if (!f.isComplaint) {
    if (f.feedbackType === 'other') return none('review', 'Feedback-Type "other": a person decides whether this is a complaint.');
    return none('not_complaint', `Feedback-Type "${f.feedbackType ?? 'unknown'}" is not a spam complaint: recorded, never charged.`);
  }
  if (f.duplicateOf !== null) return none('duplicate', `The same message and recipient as complaint #${f.duplicateOf}: counted once.`);
  if (f.attribution === 'none') return none('unattributed', 'No account could be found for this report: waiting for an admin to assign it.');
  if (f.attribution === 'low') return none('review', 'The account was found with low confidence (see attribution): an admin confirms before anything is charged.');
  if (f.spamtrap) {
    return rules.spamtrapsValid
      ? none('valid', 'Spamtrap hit: a trap address never asks for mail, so the hit is valid (policy setting COMPLAINT_SPAMTRAPS_VALID).')
      : none('review', 'Spamtrap hit: spamtraps are set to be decided by an admin (COMPLAINT_SPAMTRAPS_VALID=false).');
  }
  if (!f.recipient || f.redaction !== 'none') {
    const due = new Date(now.getTime() + rules.evidenceDays * 86_400_000);
    return {
      status: 'awaiting_evidence',
      reason: `The recipient is ${f.redaction === 'hashed' ? 'hashed' : 'redacted or missing'} in the report, so consent records cannot be matched: the customer has ${rules.evidenceDays} days to attach evidence, after which the complaint is valid.`,
      evidenceDueAt: due,
    };
  }
  if (f.consent) {
    return none('invalid', `Consent record #${f.consent.recordId} (list "${f.consent.listName}") shows ${f.recipient} confirmed on ${f.consent.confirmedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC, before the mail arrived: the recipient asked for it.`);
  }
  return none('valid', `No confirmed, unrevoked consent record for ${f.recipient} from ${f.domainName ?? 'this account'} dated before ${f.arrival.toISOString().slice(0, 16).replace('T', ' ')} UTC: no record means no permission.`);
}
