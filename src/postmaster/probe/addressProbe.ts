import crypto from 'node:crypto';
import type { ProbeScheduler, TaskResult } from './probeScheduler';
import { replyText, type SmtpReply } from './smtpReply';
import type { SessionFailure } from './smtpSession';
import type { Candidate } from './targets';
import type { TranscriptEntry } from './transcript';
import type { ProbeStage, SmtpResult } from './types';

/**
 * Probes one address over its candidate MX addresses: the next one is tried only when this one
 * gave no answer to RCPT (connection refused, timeout, 4xx/5xx before RCPT, TLS failure). A
 * definite answer to RCPT — including a 4xx there — ends the search: a backup MX typically accepts
 * everything, so asking it after the primary refused would only hide the primary's answer.
 */
export interface AddressOutcome {
  result: SmtpResult;
  code: number | null;
  enhancedCode: string | null;
  message: string;
  mxHost: string | null;
  stage: ProbeStage;
  catchAll: boolean | null;
  /** Absolute (performance.now) times; the caller makes them relative. */
  entries: TranscriptEntry[];
}

export interface AddressProbeSettings {
  port: number;
  catchAllCheck: boolean;
}

// A failure that says more is reported over one that says less: a policy refusal from the primary
// tells the admin more than "connection refused" from the backup.
const FAILURE_RANK: Record<SmtpResult, number> = { policy_block: 3, temporary: 2, unknown: 1, missing: 0, accepted: 0 };

function note(line: string): TranscriptEntry {
  return { t: performance.now(), dir: 'note', line };
}

/** "Too many recipients": an artefact of sharing the session, not the server's view of the address. */
function isRecipientLimit(reply: SmtpReply): boolean {
  return reply.code === 452 || reply.enhanced === '4.5.3' || reply.enhanced === '5.5.3';
}

function fromFailure(candidate: Candidate, failure: SessionFailure): Omit<AddressOutcome, 'catchAll' | 'entries'> {
  return {
    result: failure.result,
    code: failure.reply?.code ?? null,
    enhancedCode: failure.reply?.enhanced ?? null,
    message: failure.message,
    mxHost: candidate.host,
    stage: failure.stage,
  };
}

export async function probeAddress(
  address: string,
  candidates: Candidate[],
  scheduler: ProbeScheduler,
  settings: AddressProbeSettings,
): Promise<AddressOutcome> {
  const entries: TranscriptEntry[] = [];
  let best: { candidate: Candidate; failure: SessionFailure } | null = null;

  for (const candidate of candidates) {
    let solo = false;
    let retriedSession = false;
    for (;;) {
      entries.push(note(`MX ${candidate.host} (preference ${candidate.priority}) at ${candidate.ip}`));
      const run: TaskResult = await scheduler.run({
        recipient: address,
        kind: 'postmaster',
        target: { ip: candidate.ip, port: settings.port, host: candidate.host },
        solo,
      });
      entries.push(...run.entries);
      const { outcome } = run;
      if (outcome.kind === 'answer') {
        if (outcome.result === 'temporary' && isRecipientLimit(outcome.reply) && run.position > 0 && !solo) {
          entries.push(note('refused for the number of recipients in the session; asking again in a session of its own'));
          solo = true;
          continue;
        }
        const catchAll = outcome.result === 'accepted' && settings.catchAllCheck ? await testCatchAll(address, candidate, scheduler, settings, entries) : null;
        return {
          result: outcome.result,
          code: outcome.reply.code,
          enhancedCode: outcome.reply.enhanced,
          message: replyText(outcome.reply),
          mxHost: candidate.host,
          stage: 'rcpt',
          catchAll,
          entries,
        };
      }
      // The server answered others in this session and then broke it off (a per-session limit, a
      // 421 after n recipients): it works, so this address gets one session of its own there.
      if (outcome.afterAnswers > 0 && !retriedSession) {
        entries.push(note('the session broke off after answering other addresses; asking again in a session of its own'));
        retriedSession = true;
        solo = true;
        continue;
      }
      if (!best || FAILURE_RANK[outcome.failure.result] > FAILURE_RANK[best.failure.result]) best = { candidate, failure: outcome.failure };
      break;
    }
  }

  if (!best) {
    return { result: 'unknown', code: null, enhancedCode: null, message: 'no MX host has a usable address', mxHost: null, stage: 'dns', catchAll: null, entries };
  }
  return { ...fromFailure(best.candidate, best.failure), catchAll: null, entries };
}

/**
 * RCPT of a random local part on the host that accepted postmaster@, in a separate session.
 * Accepted → catch-all (the positive answer proves little; the panel's route check decides);
 * refused as missing → not a catch-all; anything else (greylisting a new address, timeouts) → untested.
 */
async function testCatchAll(
  address: string,
  candidate: Candidate,
  scheduler: ProbeScheduler,
  settings: AddressProbeSettings,
  entries: TranscriptEntry[],
): Promise<boolean | null> {
  const domain = address.slice(address.lastIndexOf('@') + 1);
  const random = `pm-check-${crypto.randomBytes(6).toString('hex')}@${domain}`;
  entries.push(note(`catch-all test: ${random} in a separate session`));
  const run = await scheduler.run({ recipient: random, kind: 'catchall', target: { ip: candidate.ip, port: settings.port, host: candidate.host } });
  entries.push(...run.entries);
  if (run.outcome.kind !== 'answer') return null;
  if (run.outcome.result === 'accepted') return true;
  if (run.outcome.result === 'missing') return false;
  return null;
}
