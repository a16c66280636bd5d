/**
 * The addresses already met in a file, for the duplicate check, without holding a million strings:
 * an open-addressing hash table in typed arrays (12 bytes a slot, ≤ 50 % full) keyed by a 64-bit
 * fingerprint of the normalised address (cyrb53's two 32-bit lanes), holding the line where the
 * address first appeared. Two different addresses share a fingerprint with a probability of about
 * n² / 2⁶⁵ for n rows (≈ 3·10⁻⁸ for a million): negligible, and the report would show both lines.
 */
export class SeenAddresses {
  private hi: Uint32Array;
  private lo: Uint32Array;
  private lines: Uint32Array;
  private mask: number;
  private count = 0;

  /** `expected`: a low estimate of the number of rows (the table doubles when it is half full). */
  constructor(expected = 1024) {
    let capacity = 1024;
    while (capacity < expected * 2) capacity *= 2;
    this.hi = new Uint32Array(capacity);
    this.lo = new Uint32Array(capacity);
    this.lines = new Uint32Array(capacity);
    this.mask = capacity - 1;
  }

  get size(): number {
    return this.count;
  }

  /** Records `email` at `line` unless it was met before; returns the earlier line, or 0 when it is new. */
  firstLineOrAdd(email: string, line: number): number {
    let h1 = 0xdeadbeef;
    let h2 = 0x41c6ce57;
    for (let i = 0; i < email.length; i++) {
      const ch = email.charCodeAt(i);
      h1 = Math.imul(h1 ^ ch, 2654435761);
      h2 = Math.imul(h2 ^ ch, 1597334677);
    }
    h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
    h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
    const a = h1 >>> 0;
    const b = h2 >>> 0;
    for (let slot = a & this.mask; ; slot = (slot + 1) & this.mask) {
      const at = this.lines[slot]!;
      if (at === 0) {
        this.hi[slot] = a;
        this.lo[slot] = b;
        this.lines[slot] = line;
        if (++this.count * 2 > this.mask) this.grow();
        return 0;
      }
      if (this.hi[slot] === a && this.lo[slot] === b) return at;
    }
  }

  private grow(): void {
    const { hi, lo, lines } = this;
    const capacity = (this.mask + 1) * 2;
    this.hi = new Uint32Array(capacity);
    this.lo = new Uint32Array(capacity);
    this.lines = new Uint32Array(capacity);
    this.mask = capacity - 1;
    for (let i = 0; i < lines.length; i++) {
      if (lines[i] === 0) continue;
      let slot = hi[i]! & this.mask;
      while (this.lines[slot] !== 0) slot = (slot + 1) & this.mask;
      this.hi[slot] = hi[i]!;
      this.lo[slot] = lo[i]!;
      this.lines[slot] = lines[i]!;
    }
  }
}
