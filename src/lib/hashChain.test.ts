import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson, ChainWalker, chainHash, genesisHash, verifyChain, type ChainLink } from './hashChain';

/** A well-formed chain of `n` links whose fields are { seq, note }. */
function chain(n: number): ChainLink[] {
  const links: ChainLink[] = [];
  let prev = genesisHash;
  for (let seq = 1; seq <= n; seq++) {
    const fields = { seq, note: `link ${seq}` };
    const hash = chainHash(prev, fields);
    links.push({ seq, prevHash: prev, hash, fields });
    prev = hash;
  }
  return links;
}

describe('hash chain', () => {
  it('serialises with keys sorted at every level, arrays in order, undefined left out', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: null }, u: undefined })).toBe('{"a":{"c":null,"d":[2,{"y":2,"z":1}]},"b":1}');
    expect(canonicalJson('ünï "q"')).toBe(JSON.stringify('ünï "q"'));
    expect(canonicalJson(undefined)).toBe('null');
  });

  it('hashes SHA-256 of the previous hash followed by the canonical JSON, whatever the key order', () => {
    const expected = crypto.createHash('sha256').update(genesisHash + '{"a":1,"b":"x"}').digest('hex');
    expect(chainHash(genesisHash, { b: 'x', a: 1 })).toBe(expected);
    expect(chainHash(genesisHash, { a: 1, b: 'x' })).toBe(expected);
    expect(chainHash('f'.repeat(64), { a: 1, b: 'x' })).not.toBe(expected);
  });

  it('accepts an intact chain and counts every link', () => {
    const walker = new ChainWalker('entry', 'entries');
    for (const link of chain(5)) expect(walker.step(link)).toBeNull();
    expect(walker.checked).toBe(5);
    expect(walker.lastHash).toBe(chain(5)[4]!.hash);
    expect(verifyChain([], 'entry', 'entries')).toBeNull();
  });

  it('names the first link whose fields, hash or prev_hash were changed', () => {
    const altered = chain(5);
    altered[2] = { ...altered[2]!, fields: { seq: 3, note: 'forged' } };
    expect(verifyChain(altered, 'entry', 'entries')).toEqual({ seq: 3, reason: "hash does not match the entry's contents" });

    const rehashed = chain(5);
    rehashed[1] = { ...rehashed[1]!, hash: chainHash(rehashed[1]!.prevHash, { seq: 2, note: 'forged' }), fields: { seq: 2, note: 'forged' } };
    expect(verifyChain(rehashed, 'entry', 'entries'), 'a rehashed forgery breaks the next link').toEqual({ seq: 3, reason: "prev_hash does not match the previous entry's hash" });

    const relinked = chain(4);
    relinked[0] = { ...relinked[0]!, prevHash: 'a'.repeat(64) };
    expect(verifyChain(relinked, 'event')).toEqual({ seq: 1, reason: "prev_hash does not match the previous event's hash" });
  });

  it('reports deleted, repeated and reordered links at the link where the sequence breaks', () => {
    const links = chain(6);
    expect(verifyChain([...links.slice(0, 2), ...links.slice(3)], 'entry', 'entries')).toEqual({ seq: 4, reason: 'sequence gap: expected seq 3, found seq 4: entry 3 was deleted or renumbered' });
    expect(verifyChain([links[0]!, ...links.slice(4)], 'entry', 'entries')?.reason).toBe('sequence gap: expected seq 2, found seq 5: entries 2-4 were deleted or renumbered');
    expect(verifyChain(links.slice(1), 'entry', 'entries')?.seq, 'the first link deleted').toBe(2);
    expect(verifyChain([links[0]!, links[1]!, links[1]!], 'entry', 'entries')?.reason).toBe('sequence gap: expected seq 3, found seq 2 again or out of order');
    expect(verifyChain([links[0]!, ...links.slice(3)], 'event')?.reason, 'the default plural').toBe('sequence gap: expected seq 2, found seq 4: events 2-3 were deleted or renumbered');
  });

  it('keeps answering the first break once the chain is broken', () => {
    const links = chain(4);
    const walker = new ChainWalker('entry', 'entries');
    walker.step(links[0]!);
    const broken = walker.step({ ...links[1]!, hash: '0'.repeat(64) });
    expect(broken?.seq).toBe(2);
    expect(walker.step(links[2]!)).toBe(broken);
    expect(walker.checked).toBe(2);
  });
});
