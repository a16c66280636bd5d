import type { DialogueEntry } from './probe/types';
import type { PostmasterRoute } from './routeDecider';
import type { VerdictFilter } from './statusQueries';
import type { Verdict } from './verdict';

/** The badge word of each verdict, the same on every page (the colour comes from badgeClass). */
export const verdictLabels: Record<VerdictFilter, string> = {
  ok: 'ok',
  missing: 'missing',
  undeliverable: 'undeliverable',
  unread: 'unread',
  unknown: 'unknown',
  not_applicable: 'not applicable',
  unchecked: 'not checked',
};

/** The read confirmation of a domain, when the caller has it (a status row); a fresh check result has not. */
export interface ReadProof {
  readSentAt: Date | null;
  readConfirmedAt: Date | null;
}

/** "ok" in words: it says "is read" only once someone used the link of the latest verification mail. */
function okSentence(address: string, read: ReadProof | null): string {
  if (!read) return `${address} works`;
  if (read.readConfirmedAt && (!read.readSentAt || read.readConfirmedAt >= read.readSentAt)) return `${address} works and is read`;
  if (read.readSentAt) return `${address} works; waiting for the link in the verification mail of ${read.readSentAt.toISOString().slice(0, 10)} to be used`;
  return `${address} works (not yet confirmed as read)`;
}

/** The verdict in plain words for the customer, about postmaster@<domain>. */
export function verdictSentence(verdict: Verdict | null, domain: string, reason: string | null = null, read: ReadProof | null = null): string {
  const address = `postmaster@${domain}`;
  switch (verdict) {
    case 'ok':
      return okSentence(address, read);
    case 'missing':
      return `missing: mail to ${address} bounces`;
    case 'undeliverable':
      return `undeliverable: mail to ${address} is accepted but reaches nobody`;
    case 'unread':
      return `not confirmed as read: nobody used the link in the verification mail sent to ${address}`;
    case 'unknown':
      return `could not be checked: ${reason ?? 'no answer from the panel or the mail server'}`;
    case 'not_applicable':
      return `${domain} does not receive mail, so it needs no postmaster@`;
    case null:
      return 'not checked yet';
  }
}

/** Verdicts the one-click fix addresses (the panel can create the address). */
export const fixableVerdicts: ReadonlyArray<Verdict> = ['missing', 'undeliverable', 'unread'];

export const triggerWords: Record<string, string> = {
  sweep: 'sweep',
  manual: 'checked on request',
  fix: 'after a fix',
  cli: 'command line',
  retry: 'retry after a temporary failure',
};

export const routeWords: Record<PostmasterRoute, string> = {
  mailbox: 'mailbox',
  forwarder: 'forwarder',
  domain_forwarder: 'domain forwarder',
  default_forward: 'default address (catch-all forward)',
  default_fail: 'default address (:fail:)',
  default_blackhole: 'default address (:blackhole:)',
  default_pipe: 'default address (pipe to a program)',
  remote_mx: 'mail handled by another server',
  null_mx: 'null MX: no mail',
  none: 'no mailbox, forwarder or default address',
  unknown: 'panel not read',
};

export const smtpWords: Record<string, string> = {
  accepted: 'accepted at RCPT TO',
  missing: 'rejected: no such address (5.1.x)',
  policy_block: 'refused for policy reasons (says nothing about postmaster@)',
  temporary: 'temporary failure (4xx), retried later',
  unknown: 'no answer (timeout, refused connection or TLS failure)',
  no_mail: 'the domain receives no mail',
  not_probed: 'not probed',
};

/** An SMTP dialogue as transcript lines: "+120 ms  C: RCPT TO:<postmaster@example.com>". */
export function transcriptLines(dialogue: unknown): string[] {
  if (!Array.isArray(dialogue)) return [];
  return (dialogue as DialogueEntry[]).map((e) => {
    const who = e.dir === 'note' ? '--' : `${e.dir}:`;
    return `+${String(Math.round(Number(e.at) || 0)).padStart(5)} ms  ${who} ${String(e.line)}`;
  });
}
