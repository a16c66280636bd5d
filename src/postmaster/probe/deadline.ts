/** Thrown by withDeadline; callers turn it into "unknown", never into a definite answer. */
export class DeadlineExceeded extends Error {
  constructor(label: string, ms: number) {
    super(`${label} timed out after ${ms} ms`);
    this.name = 'DeadlineExceeded';
  }
}

/**
 * Settles with `work`, or rejects with DeadlineExceeded after `ms`. The work itself keeps running
 * (c-ares queries cannot be cancelled one by one) but is bounded by its own timeouts.
 */
export function withDeadline<T>(work: Promise<T>, ms: number, label: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineExceeded(label, ms)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
