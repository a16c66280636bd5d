import { AppError, ValidationError } from '../lib/errors';
import type { Actor } from '../tenancy/actor';
import type { ConsentService } from './consentService';
import { normaliseEmail } from './schemas';
import type { ConsentList } from './types';
import { readUnsubscribeToken, signUnsubscribeToken, type UnsubscribeTarget } from './unsubscribeToken';

export interface UnsubscribeHeaders {
  email: string;
  token: string;
  url: string;
  /** Value of the `List-Unsubscribe` header (RFC 2369): the HTTPS URI in angle brackets. */
  listUnsubscribe: string;
  /** Value of the `List-Unsubscribe-Post` header (RFC 8058). */
  listUnsubscribePost: string;
}

export const oneClickBody = 'List-Unsubscribe=One-Click';

export class InvalidUnsubscribeLink extends AppError {
  constructor() {
    super(400, 'invalid_unsubscribe_link', 'This unsubscribe link is not valid: it is incomplete or was changed. Use the link from the message exactly as it came.');
  }
}

/** Unsubscribe links: header values for the customer, and the public side that reads a token. */
export class UnsubscribeService {
  constructor(
    private readonly consent: ConsentService,
    private readonly key: Buffer,
    private readonly baseUrl?: string,
  ) {}

  /** The header values for `rawEmail` in one of the actor's lists (another account's list reads as 404). `origin` is used when no BASE_URL is configured. */
  async headersFor(actor: Actor, listId: number, rawEmail: string, origin: string): Promise<UnsubscribeHeaders> {
    const list = await this.consent.getList(actor, listId);
    const email = normaliseEmail(rawEmail);
    if (!email) throw new ValidationError({ email: 'is not a valid email address (expected e.g. jane@example.com)' });
    return this.headers(list.id, email, origin);
  }

  headers(listId: number, email: string, origin: string): UnsubscribeHeaders {
    const token = signUnsubscribeToken(this.key, { listId, email });
    const url = `${(this.baseUrl || origin).replace(/\/+$/, '')}/u/${token}`;
    return { email, token, url, listUnsubscribe: `<${url}>`, listUnsubscribePost: oneClickBody };
  }

  /** The list and address a token names; throws 400 for a malformed or forged token, 404 when the list no longer exists. */
  async resolve(token: string): Promise<{ target: UnsubscribeTarget; list: ConsentList }> {
    const target = readUnsubscribeToken(this.key, token);
    if (!target) throw new InvalidUnsubscribeLink();
    return { target, list: await this.consent.unsubscribeList(target.listId) };
  }

  async unsubscribe(token: string, meta: { ip?: string | null; userAgent?: string | null }) {
    const { target, list } = await this.resolve(token);
    const outcome = await this.consent.unsubscribe(list.id, target.email, meta);
    return { ...outcome, list, email: target.email };
  }
}
