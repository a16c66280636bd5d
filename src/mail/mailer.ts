import type { Knex } from 'knex';
import nodemailer, { type Transporter } from 'nodemailer';
import type { Clock } from '../lib/clock';
import { logger } from '../lib/logger';
import type { Page, PageRequest } from '../lib/keyset';
import { outboxRepository, type MailFilters, type MailKind, type MailRecord, type MailStatus } from './outboxRepository';

export interface OutgoingMail {
  accountId: number | null;
  kind: MailKind;
  to: string;
  /** One copy recipient (e.g. the reseller of an enforcement notice); kept in the outbox row's headers as Cc. */
  cc?: string;
  subject: string;
  text: string;
  headers?: Record<string, string>;
}

export interface MailerOptions {
  /** smtp:// or smtps:// URL (nodemailer syntax); unset = capture only. */
  smtpUrl?: string;
  from: string;
  timeoutMs?: number;
}

/**
 * Sends mail and records every message in mail_outbox: the row is written (queued) before the SMTP
 * conversation, then updated with the server's answer, so a crash in between leaves a visible
 * `queued` row rather than nothing. Without SMTP_URL (the embedded default) nothing leaves the
 * machine: messages are stored as `captured` and read in the admin outbox viewer.
 */
export class Mailer {
  private readonly transport: Transporter | null;

  constructor(
    private readonly db: Knex,
    private readonly clock: Clock,
    private readonly options: MailerOptions,
  ) {
    const timeout = options.timeoutMs ?? 20_000;
    this.transport = options.smtpUrl
      ? nodemailer.createTransport({ url: options.smtpUrl, connectionTimeout: timeout, greetingTimeout: timeout, socketTimeout: timeout })
      : null;
  }

  get mode(): 'smtp' | 'capture' {
    return this.transport ? 'smtp' : 'capture';
  }

  get from(): string {
    return this.options.from;
  }

  async send(mail: OutgoingMail): Promise<{ id: number; status: MailStatus; error: string | null }> {
    const headers = mail.headers ?? {};
    // mail_outbox has no cc column: the copy recipient is recorded with the headers (the viewer lists them).
    const recorded = mail.cc ? { ...headers, Cc: mail.cc } : headers;
    const id = await outboxRepository.insert(
      this.db,
      { accountId: mail.accountId, kind: mail.kind, to: mail.to, from: this.options.from, subject: mail.subject, text: mail.text, headers: recorded, transport: this.mode, status: this.transport ? 'queued' : 'captured' },
      this.clock.now(),
    );
    if (!this.transport) return { id, status: 'captured', error: null };
    try {
      const info = (await this.transport.sendMail({ from: this.options.from, to: mail.to, cc: mail.cc, subject: mail.subject, text: mail.text, headers })) as { response?: string };
      await outboxRepository.finish(this.db, id, { status: 'sent', response: info.response ?? null }, this.clock.now());
      return { id, status: 'sent', error: null };
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      logger.warn('mail not sent', { id, kind: mail.kind, error });
      await outboxRepository.finish(this.db, id, { status: 'failed', error }, this.clock.now());
      return { id, status: 'failed', error };
    }
  }

  list(filters: MailFilters, page: PageRequest): Promise<Page<MailRecord>> {
    return outboxRepository.list(this.db, filters, page);
  }

  find(id: number): Promise<MailRecord | null> {
    return outboxRepository.find(this.db, id);
  }

  close(): void {
    this.transport?.close();
  }
}
