export interface RetryPolicy {
  /** Extra attempts after the first one (0 = no retry). */
  retries: number;
  /** Cap of the first backoff window, in ms; doubled per attempt. */
  baseDelayMs: number;
  /** Upper bound of any backoff window, in ms. */
  maxDelayMs: number;
}

/**
 * "Full jitter" exponential backoff: a uniformly random wait in [0, min(max, base · 2^attempt)).
 * `attempt` counts from 0 for the wait after the first failure.
 */
export function fullJitterDelay(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const window = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return Math.floor(random() * window);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Runs `task` until it succeeds, `shouldRetry(err)` says no, or the retries are used up.
 * The last error is rethrown unchanged.
 */
export async function withRetries<T>(
  policy: RetryPolicy,
  task: (attempt: number) => Promise<T>,
  shouldRetry: (err: unknown) => boolean,
  random: () => number = Math.random,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await task(attempt);
    } catch (err) {
      if (attempt >= policy.retries || !shouldRetry(err)) throw err;
      await sleep(fullJitterDelay(policy, attempt, random));
    }
  }
}
