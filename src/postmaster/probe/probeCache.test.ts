import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FixedClock } from '../../lib/clock';
import { engines, migratedTestDb, type TestDb } from '../../testing/testDb';
import { ProbeCache } from './probeCache';
import type { ProbeResult } from './types';

const HOUR = 3_600_000;
const start = new Date('2026-12-01T08:00:00.000Z');

function result(overrides: Partial<ProbeResult> = {}): ProbeResult {
  return {
    domain: 'example.test',
    address: 'postmaster@example.test',
    mx: { kind: 'mx', hosts: [{ host: 'mx1.example.test', priority: 10 }] },
    result: 'accepted',
    code: 250,
    enhancedCode: '2.1.5',
    message: 'Ok',
    mxHost: 'mx1.example.test',
    catchAll: false,
    dialogue: [
      { at: 0, dir: 'note', line: 'connecting to [127.0.0.11]:2525' },
      { at: 3, dir: 'S', line: '220 mx1.example.test ESMTP' },
      { at: 5, dir: 'C', line: 'RCPT TO:<postmaster@example.test>' },
    ],
    fromCache: false,
    checkedAt: start,
    stage: 'rcpt',
    ...overrides,
  };
}

describe.each(engines)('ProbeCache on %s', (engine) => {
  let testDb: TestDb;
  let clock: FixedClock;
  let cache: ProbeCache;

  beforeAll(async () => {
    testDb = await migratedTestDb(engine);
  });
  afterAll(() => testDb?.cleanup());
  beforeEach(async () => {
    await testDb.db('postmaster_probe_cache').delete();
    clock = new FixedClock(start);
    cache = new ProbeCache(testDb.db, clock, { positiveTtlMs: 24 * HOUR, negativeTtlMs: 2 * HOUR, temporaryTtlMs: 0 });
  });

  it('round-trips a result, marked as from the cache', async () => {
    expect(await cache.put(result())).toBe(true);
    const found = await cache.getMany(['postmaster@example.test', 'postmaster@other.test']);
    expect([...found.keys()]).toEqual(['postmaster@example.test']);
    expect(found.get('postmaster@example.test')).toEqual({ ...result(), fromCache: true });
    const row = await testDb.db('postmaster_probe_cache').first();
    expect(row).toMatchObject({ address: 'postmaster@example.test', result: 'accepted', mx_host: 'mx1.example.test' });
  });

  it('keeps accepted for 24 h, missing and policy blocks for 2 h', async () => {
    await cache.put(result());
    await cache.put(result({ domain: 'gone.test', address: 'postmaster@gone.test', result: 'missing', code: 550, catchAll: null }));
    await cache.put(result({ domain: 'blocked.test', address: 'postmaster@blocked.test', result: 'policy_block', code: 554, catchAll: null }));
    const all = ['postmaster@example.test', 'postmaster@gone.test', 'postmaster@blocked.test'];
    clock.advance(2 * HOUR - 1);
    expect((await cache.getMany(all)).size).toBe(3);
    clock.advance(1);
    expect([...(await cache.getMany(all)).keys()]).toEqual(['postmaster@example.test']);
    clock.advance(22 * HOUR);
    expect((await cache.getMany(all)).size).toBe(0);
  });

  it('does not store temporary, unknown or no_mail results unless a temporary TTL is set', async () => {
    expect(await cache.put(result({ result: 'temporary', code: 451 }))).toBe(false);
    expect(await cache.put(result({ result: 'unknown', code: null }))).toBe(false);
    expect(await cache.put(result({ result: 'no_mail', code: null }))).toBe(false);
    expect(await testDb.db('postmaster_probe_cache').select('address')).toEqual([]);
    expect((await cache.getMany(['postmaster@example.test'])).size).toBe(0);

    const short = new ProbeCache(testDb.db, clock, { positiveTtlMs: 24 * HOUR, negativeTtlMs: 2 * HOUR, temporaryTtlMs: 60_000 });
    expect(await short.put(result({ result: 'temporary', code: 451 }))).toBe(true);
    expect((await short.getMany(['postmaster@example.test'])).get('postmaster@example.test')?.result).toBe('temporary');
  });

  it('replaces the previous result of an address', async () => {
    await cache.put(result({ result: 'missing', code: 550, catchAll: null }));
    clock.advance(HOUR);
    await cache.put(result({ checkedAt: clock.now() }));
    const found = (await cache.getMany(['postmaster@example.test'])).get('postmaster@example.test');
    expect(found).toMatchObject({ result: 'accepted', code: 250, checkedAt: clock.now() });
    expect(await testDb.db('postmaster_probe_cache').select('address')).toHaveLength(1);
  });

  it('shrinks a huge dialogue to fit the column, keeping its start and end', async () => {
    const dialogue = Array.from({ length: 2_000 }, (_, i) => ({ at: i, dir: 'S' as const, line: `250-${'x'.repeat(100)} ${i}` }));
    await cache.put(result({ dialogue }));
    const found = (await cache.getMany(['postmaster@example.test'])).get('postmaster@example.test')!;
    expect(found.dialogue.length).toBeLessThan(2_000);
    expect(found.dialogue[0]).toEqual(dialogue[0]);
    expect(found.dialogue.at(-1)).toEqual(dialogue.at(-1));
    expect(found.dialogue.some((d) => d.dir === 'note' && /dropped from the cache/.test(d.line))).toBe(true);
  });

  it('purges expired rows', async () => {
    await cache.put(result());
    await cache.put(result({ domain: 'gone.test', address: 'postmaster@gone.test', result: 'missing', code: 550 }));
    clock.advance(3 * HOUR);
    expect(await cache.purgeExpired()).toBe(1);
    expect((await testDb.db('postmaster_probe_cache').select('address')).map((r: { address: string }) => r.address)).toEqual(['postmaster@example.test']);
  });
});
