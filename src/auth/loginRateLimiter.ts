import type { Knex } from 'knex';
import { fromDbTime, toDbTime, toNumber } from '../db/dialect';
import type { Clock } from '../lib/clock';
import { RateLimitedError } from '../lib/errors';

/**
 * Failed sign-ins counted per client IP and per login in the database, so every app
 * instance sees the same count. Too many in the window answers 429 until the oldest ages out.
 */
export class LoginRateLimiter {
  constructor(
    private readonly db: Knex,
    private readonly clock: Clock,
    private readonly maxFailures: number,
    private readonly windowMinutes: number,
  ) {}

  private keys(ip: string, login: string): string[] {
    return [`ip:${ip}`, `login:${login.toLowerCase().slice(0, 180)}`];
  }

  private windowStart(): Date {
    return new Date(this.clock.now().getTime() - this.windowMinutes * 60_000);
  }

  async assertAllowed(ip: string, login: string): Promise<void> {
    const since = toDbTime(this.windowStart());
    for (const key of this.keys(ip, login)) {
      const row = await this.db('login_failures').where('key', key).andWhere('at', '>', since).count({ n: '*' }).min({ oldest: 'at' }).first();
      const failures = toNumber(row?.n ?? 0);
      if (failures >= this.maxFailures && row?.oldest) {
        const retryAt = fromDbTime(row.oldest).getTime() + this.windowMinutes * 60_000;
        const seconds = Math.max(1, Math.ceil((retryAt - this.clock.now().getTime()) / 1000));
        const minutes = Math.ceil(seconds / 60);
        throw new RateLimitedError(
          `Too many failed sign-in attempts. Wait ${minutes} minute${minutes === 1 ? '' : 's'} and try again, or ask an administrator to reset your password.`,
          seconds,
        );
      }
    }
  }

  async recordFailure(ip: string, login: string): Promise<void> {
    const at = toDbTime(this.clock.now());
    await this.db('login_failures').insert(this.keys(ip, login).map((key) => ({ key, at })));
    await this.db('login_failures').where('at', '<', toDbTime(this.windowStart())).delete();
  }

  async recordSuccess(login: string): Promise<void> {
    await this.db('login_failures').where('key', `login:${login.toLowerCase()}`).delete();
  }
}
