import { describe, expect, it } from 'vitest';
import { SeenAddresses } from './seenAddresses';

describe('seen addresses', () => {
  it('returns the first line of an address met before, 0 for a new one, across growth', () => {
    const seen = new SeenAddresses(10);
    const n = 300_000;
    let repeats = 0;
    for (let i = 0; i < n; i++) if (seen.firstLineOrAdd(`user${i}@example${i % 97}.com`, i + 2) !== 0) repeats++;
    expect(repeats).toBe(0);
    expect(seen.size).toBe(n);
    expect(seen.firstLineOrAdd('user7@example7.com', 999_999)).toBe(9);
    expect(seen.firstLineOrAdd(`user${n - 1}@example${(n - 1) % 97}.com`, 1_000_000)).toBe(n + 1);
    expect(seen.firstLineOrAdd('someone.new@example.com', 5)).toBe(0);
    expect(seen.firstLineOrAdd('someone.new@example.com', 6)).toBe(5);
    // Addresses differing in one character are different.
    expect(seen.firstLineOrAdd('user7@example7.co', 7)).toBe(0);
  });
});
