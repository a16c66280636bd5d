import { classifyRcpt, classifySessionReply } from './classify';
import { SmtpConnection, SmtpTransportError } from './smtpConnection';
import { formatReply, replyText, type SmtpReply } from './smtpReply';
import { Transcript } from './transcript';
import type { ProbeStage, SmtpResult } from './types';

/**
 * One SMTP session to one MX address, carrying one or more recipients:
 *   220 ← · EHLO (HELO if refused) · [STARTTLS · EHLO] · MAIL FROM:<> (fallback sender once if refused)
 *   · for each recipient: [MAIL FROM again] · RCPT TO · RSET · … · QUIT
 * DATA is never sent: the answer to RCPT TO is all the evidence a probe may collect without
 * putting a message into somebody's mailbox.
 */
export interface SessionTarget {
  ip: string;
  port: number;
  /** The MX host name, for the evidence and the TLS server name. */
  host: string;
}

export interface SessionSettings {
  heloName: string;
  fallbackSender: string;
  localAddress: string | null;
  connectTimeoutMs: number;
  commandTimeoutMs: number;
  startTls: boolean;
}

export interface SessionFailure {
  stage: ProbeStage;
  result: SmtpResult;
  reply: SmtpReply | null;
  message: string;
}

export type RecipientOutcome =
  | { kind: 'answer'; reply: SmtpReply; result: SmtpResult }
  /**
   * `asked`: the RCPT for this recipient was sent but got no usable answer (timeout, 421, reset).
   * `afterAnswers`: recipients answered in this session before it broke; more than 0 means the
   * server works and only this session went wrong (a per-session limit), worth a session of its own.
   */
  | { kind: 'failure'; failure: SessionFailure; asked: boolean; afterAnswers: number };

export interface SessionOutcome {
  transcript: Transcript;
  outcomes: RecipientOutcome[];
}

const QUIT_WAIT_MS = 5_000;

/** Stops the session: the reason every recipient without an answer yet will carry. */
class SessionAbort extends Error {
  constructor(readonly failure: SessionFailure) {
    super(failure.message);
  }
}

function refused(stage: ProbeStage, reply: SmtpReply): SessionAbort {
  return new SessionAbort({ stage, result: classifySessionReply(reply), reply, message: replyText(reply) || formatReply(reply) });
}

function transportFailure(stage: ProbeStage, err: unknown): SessionFailure {
  if (err instanceof SessionAbort) return err.failure;
  const message = err instanceof Error ? err.message : String(err);
  const prefix = err instanceof SmtpTransportError && err.kind === 'timeout' ? `${stage}: ` : '';
  return { stage, result: 'unknown', reply: null, message: `${prefix}${message}` };
}

const is2xx = (reply: SmtpReply) => reply.code >= 200 && reply.code < 300;

export async function runSmtpSession(target: SessionTarget, recipients: string[], settings: SessionSettings): Promise<SessionOutcome> {
  const transcript = new Transcript();
  const outcomes: RecipientOutcome[] = [];
  const local = settings.localAddress ? ` from ${settings.localAddress}` : '';
  // The MX name is left out: a session may carry several customers' domains that share this address.
  transcript.note(`connecting to [${target.ip}]:${target.port}${local}`);

  let connection: SmtpConnection;
  try {
    connection = await SmtpConnection.open({ ...target, localAddress: settings.localAddress, connectTimeoutMs: settings.connectTimeoutMs, transcript });
  } catch (err) {
    const failure = transportFailure('connect', err);
    transcript.note(failure.message);
    return { transcript, outcomes: recipients.map(() => ({ kind: 'failure', failure, asked: false, afterAnswers: 0 })) };
  }

  const wait = settings.commandTimeoutMs;
  let stage: ProbeStage = 'greeting';
  let healthy = true;
  try {
    const greeting = await connection.read(wait);
    if (greeting.code !== 220) throw refused('greeting', greeting);
    stage = 'helo';
    const extensions = await hello(connection, settings.heloName, wait, transcript);
    if (settings.startTls && extensions.includes('STARTTLS')) {
      const answer = await connection.command('STARTTLS', wait);
      if (answer.code === 220) {
        stage = 'tls';
        await connection.startTls(target.host, settings.connectTimeoutMs);
        stage = 'helo';
        // RFC 3207: everything learned before TLS is forgotten, so EHLO again.
        await hello(connection, settings.heloName, wait, transcript);
      } else {
        transcript.note('STARTTLS refused; going on without TLS');
      }
    }
    stage = 'mail';
    const sender = await firstMailFrom(connection, settings.fallbackSender, wait, transcript);

    for (let i = 0; i < recipients.length; i++) {
      transcript.tag = i;
      if (i > 0) {
        stage = 'mail';
        const mail = await connection.command(`MAIL FROM:<${sender}>`, wait);
        if (!is2xx(mail)) throw refused('mail', mail);
      }
      stage = 'rcpt';
      const reply = await connection.command(`RCPT TO:<${recipients[i]}>`, wait);
      // 421 is the server hanging up on the session, not an answer about this address.
      if (reply.code === 421) throw refused('rcpt', reply);
      outcomes.push({ kind: 'answer', reply, result: classifyRcpt(reply) });
      stage = 'rset';
      const reset = await connection.command('RSET', wait);
      if (!is2xx(reset) && i < recipients.length - 1) throw refused('rset', reset);
    }
  } catch (err) {
    healthy = !(err instanceof SmtpTransportError);
    const failure = transportFailure(stage, err);
    if (!(err instanceof SessionAbort)) transcript.note(failure.message);
    const afterAnswers = outcomes.length;
    while (outcomes.length < recipients.length) {
      outcomes.push({ kind: 'failure', failure, asked: stage === 'rcpt' && outcomes.length === afterAnswers, afterAnswers });
    }
  } finally {
    transcript.tag = undefined;
    if (healthy) await quit(connection, Math.min(wait, QUIT_WAIT_MS));
    connection.close();
  }
  return { transcript, outcomes };
}

/** EHLO, or HELO when EHLO is refused (RFC 5321 §4.1.4); returns the EHLO keywords (none after HELO). */
async function hello(connection: SmtpConnection, name: string, wait: number, transcript: Transcript): Promise<string[]> {
  const ehlo = await connection.command(`EHLO ${name}`, wait);
  if (is2xx(ehlo)) return ehlo.lines.slice(1).map((line) => (line.trim().split(/\s+/)[0] ?? '').toUpperCase());
  if (ehlo.code < 500) throw refused('helo', ehlo);
  transcript.note('EHLO refused; trying HELO');
  const helo = await connection.command(`HELO ${name}`, wait);
  if (!is2xx(helo)) throw refused('helo', helo);
  return [];
}

/**
 * MAIL FROM:<> first: bounces and callouts use the null sender and postmaster@ must take them.
 * Some servers refuse it; then once with our own postmaster address, as Exim's use_postmaster does.
 */
async function firstMailFrom(connection: SmtpConnection, fallback: string, wait: number, transcript: Transcript): Promise<string> {
  const nullSender = await connection.command('MAIL FROM:<>', wait);
  if (is2xx(nullSender)) return '';
  if (nullSender.code < 500) throw refused('mail', nullSender);
  transcript.note('null sender refused; retrying once with the fallback sender');
  const second = await connection.command(`MAIL FROM:<${fallback}>`, wait);
  if (!is2xx(second)) throw refused('mail', second);
  return fallback;
}

/** A polite end; a server that does not answer QUIT quickly is simply disconnected. */
async function quit(connection: SmtpConnection, wait: number): Promise<void> {
  try {
    await connection.command('QUIT', wait);
  } catch {
    // Nothing depends on the 221.
  }
}
