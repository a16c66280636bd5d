import session from 'express-session';
import type { Knex } from 'knex';
import { toDbTime } from '../db/dialect';
import type { Clock } from '../lib/clock';

type Callback = (err?: unknown, data?: session.SessionData | null) => void;

/** express-session store on the app database, so several app instances share sessions. */
export class KnexSessionStore extends session.Store {
  constructor(
    private readonly db: Knex,
    private readonly clock: Clock,
    private readonly ttlMs: number,
  ) {
    super();
  }

  private expiry(sess: session.SessionData): string {
    const cookieExpiry = sess.cookie?.expires ? new Date(sess.cookie.expires) : null;
    return toDbTime(cookieExpiry ?? new Date(this.clock.now().getTime() + this.ttlMs));
  }

  override get(sid: string, cb: Callback): void {
    this.db('sessions')
      .where('sid', sid)
      .andWhere('expires_at', '>', toDbTime(this.clock.now()))
      .first()
      .then((row) => cb(null, row ? (JSON.parse(String(row.data)) as session.SessionData) : null), cb);
  }

  override set(sid: string, sess: session.SessionData, cb?: (err?: unknown) => void): void {
    const row = { sid, data: JSON.stringify(sess), expires_at: this.expiry(sess) };
    // sid is the table's only unique key, so the upsert behaves the same on both engines.
    this.db('sessions')
      .insert(row)
      .onConflict('sid')
      .merge(['data', 'expires_at'])
      .then(() => cb?.(), (err) => cb?.(err));
  }

  override touch(sid: string, sess: session.SessionData, cb?: (err?: unknown) => void): void {
    this.db('sessions')
      .where('sid', sid)
      .update({ expires_at: this.expiry(sess) })
      .then(() => cb?.(), (err) => cb?.(err));
  }

  override destroy(sid: string, cb?: (err?: unknown) => void): void {
    this.db('sessions')
      .where('sid', sid)
      .delete()
      .then(() => cb?.(), (err) => cb?.(err));
  }

  /** Deletes expired sessions; called on a timer by the composition root. */
  async prune(): Promise<number> {
    return this.db('sessions').where('expires_at', '<=', toDbTime(this.clock.now())).delete();
  }
}
