import type { RouteDecision } from './routeDecider';

export const verdicts = ['ok', 'missing', 'undeliverable', 'unread', 'unknown', 'not_applicable'] as const;
export type Verdict = (typeof verdicts)[number];

/** The part of an SMTP probe the verdict needs (see probe/types.ts for the whole result). */
export interface ProbeFinding {
  result: 'accepted' | 'missing' | 'policy_block' | 'temporary' | 'unknown' | 'no_mail';
  message: string;
  catchAll: boolean | null;
}

export interface ReadState {
  sentAt: Date | null;
  confirmedAt: Date | null;
}

export interface VerdictInput {
  /** null when the panel could not be read. */
  route: RouteDecision | null;
  routeError?: string | null;
  /** null when no probe ran (probing off, or not needed). */
  probe: ProbeFinding | null;
  read: ReadState;
  readGraceDays: number;
  now: Date;
}

export interface VerdictOutcome {
  verdict: Verdict;
  reason: string;
  /** Worth checking again before the next sweep (a 4xx, an unreachable server, the panel down). */
  retry: boolean;
}

const dayMs = 86_400_000;

/** A verification mail went out, its grace period passed, and its link was not used since. */
function unreadSince(read: ReadState, graceDays: number, now: Date): boolean {
  if (!read.sentAt) return false;
  if (read.confirmedAt && read.confirmedAt >= read.sentAt) return false;
  return now.getTime() - read.sentAt.getTime() > graceDays * dayMs;
}

/** Deliverable so far: the read confirmation decides between ok and unread. */
function readCheck(input: VerdictInput, delivered: string): VerdictOutcome {
  if (unreadSince(input.read, input.readGraceDays, input.now)) {
    return { verdict: 'unread', reason: `${delivered}, but the verification mail sent ${input.read.sentAt!.toISOString().slice(0, 10)} was not opened within ${input.readGraceDays} days`, retry: false };
  }
  return { verdict: 'ok', reason: delivered, retry: false };
}

/**
 * One verdict per domain from the panel route, the SMTP probe and the read confirmation. A probe that
 * could not decide (4xx, timeout, refusal, policy block) never makes a domain `missing`: for a local
 * domain the panel configuration decides; for a remote one the verdict is `unknown` and retried.
 */
export function decideVerdict(input: VerdictInput): VerdictOutcome {
  const { route, probe } = input;
  if (probe?.result === 'no_mail') return { verdict: 'not_applicable', reason: `the domain receives no mail (${probe.message})`, retry: false };

  if (!route || route.finding === 'probe_only') {
    const where = route ? route.explanation : `the panel could not be read (${input.routeError ?? 'no answer'})`;
    if (!probe) return { verdict: 'unknown', reason: `${where}; no SMTP test was possible`, retry: true };
    switch (probe.result) {
      case 'accepted':
        return readCheck(input, `the mail server accepts postmaster@${probe.catchAll ? ' (it accepts every address: catch-all)' : ''}`);
      case 'missing':
        return { verdict: 'missing', reason: `the mail server rejects postmaster@: ${probe.message}`, retry: false };
      case 'policy_block':
        return { verdict: 'unknown', reason: `the mail server refused our test for policy reasons (${probe.message}); that says nothing about postmaster@`, retry: true };
      default:
        return { verdict: 'unknown', reason: `the SMTP test could not finish (${probe.message})`, retry: true };
    }
  }

  switch (route.finding) {
    case 'not_applicable':
      return { verdict: 'not_applicable', reason: route.explanation, retry: false };
    case 'missing':
      return { verdict: 'missing', reason: route.explanation, retry: false };
    case 'undeliverable':
      return { verdict: 'undeliverable', reason: route.explanation, retry: false };
    case 'delivered':
      if (probe?.result === 'missing') return { verdict: 'undeliverable', reason: `${route.explanation}, but the mail server rejects it: ${probe.message}`, retry: false };
      return readCheck(input, route.explanation);
  }
}
