import type { Knex } from 'knex';
import { fromDbTime, toDbTime, toNumber } from '../db/dialect';
import type { Clock } from '../lib/clock';
import { RateLimitedError } from '../lib/errors';

export interface HitLimit {
  /** What is counted, e.g. "subscribe:ip:203.0.113.9" (at most 191 characters). */
  key: string;
  max: number;
  windowMinutes: number;
  /** Shown to the user when the limit is reached. */
  message: string;
}

/**
 * Limits on public forms, counted in the database (rate_limit_hits) so every app instance sees the
 * same count. A refused attempt is not counted, so a blocked client is free again once the window passes.
 */
export class HitRateLimiter {
  constructor(
    private readonly db: Knex,
    private readonly clock: Clock,
  ) {}

  /** Throws RateLimitedError when any key is at its limit; otherwise records one hit on every key. */
  async hit(limits: HitLimit[]): Promise<void> {
    const now = this.clock.now();
    for (const limit of limits) {
      const windowStart = new Date(now.getTime() - limit.windowMinutes * 60_000);
      const row = await this.db('rate_limit_hits').where('key', limit.key.slice(0, 191)).andWhere('at', '>', toDbTime(windowStart)).count({ n: '*' }).min({ oldest: 'at' }).first();
      if (toNumber(row?.n ?? 0) >= limit.max && row?.oldest) {
        const retryAt = fromDbTime(row.oldest).getTime() + limit.windowMinutes * 60_000;
        throw new RateLimitedError(limit.message, Math.max(1, Math.ceil((retryAt - now.getTime()) / 1000)));
      }
    }
    await this.db('rate_limit_hits').insert(limits.map((l) => ({ key: l.key.slice(0, 191), at: toDbTime(now) })));
  }

  /** Removes hits older than the longest window in use (run by the expiry job). */
  async prune(olderThanMinutes: number): Promise<number> {
    return this.db('rate_limit_hits').where('at', '<', toDbTime(new Date(this.clock.now().getTime() - olderThanMinutes * 60_000))).delete();
  }
}
