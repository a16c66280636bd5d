import crypto from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildHarness, type Harness } from '../testing/appHarness';
import { arfFixture, arfFixtureNames } from '../testing/arfFixtures';
import { engines } from '../testing/testDb';
import { deepNest, mutate, prng } from './parse/fuzzInputs';


/**
 * The whole intake under mutated input, through the real API: never a 500; either a 4xx with a reason
 * or a stored message (parsed, or kept as `unparsed`); and every stored message's bytes are exactly
 * what was sent. (The parser alone takes 10,000 cases in src/complaints/parse/parse.test.ts; this runs
 * fewer because each one also writes to the database.)
 */
const seed = Number(process.env.FUZZ_SEED ?? 20261128) >>> 0;
/** 300 per engine in the suite; INTAKE_FUZZ_CASES=10000 for the full run (about 20 ms a case). */
const cases = Number(process.env.INTAKE_FUZZ_CASES ?? 300);

describe.each(engines)('complaint intake fuzz on %s', { timeout: Math.max(300_000, cases * 100) }, (engine) => {
  let h: Harness;
  let token: string;

  beforeAll(async () => {
    h = await buildHarness(engine);
    token = (await h.container.users.issueToken(h.f.users.admin, 'fuzz')).token;
  });
  afterAll(async () => {
    await h?.cleanup();
  });

  it(`${cases} mutated messages: no 500, a reason for every refusal, every stored byte kept (seed ${seed})`, async () => {
    const sent = new Map<string, Buffer>();
    const refusals = new Map<number, number>();
    for (let i = 0; i < cases; i += 1) {
      const body = mutatedCase(i);
      const res = await request(h.app).post('/api/v1/complaints').set('Authorization', `Bearer ${token}`).set('Content-Type', 'message/rfc822').send(body);
      expect(res.status, `case ${i} (seed ${seed}): ${JSON.stringify(res.body).slice(0, 300)}`).toBeLessThan(500);
      if (res.status === 200) {
        expect(res.body.id, `case ${i}`).toBeGreaterThan(0);
        sent.set(crypto.createHash('sha256').update(body).digest('hex'), body);
      } else {
        expect(res.body.error?.message, `case ${i}: a refusal names its reason`).toMatch(/\S/);
        refusals.set(res.status, (refusals.get(res.status) ?? 0) + 1);
      }
    }
    const rows = await expectStoredExactly(h, sent);
    const unparsed = rows.filter((r) => r.parse_status === 'unparsed').length;
    process.stdout.write(`intake fuzz ${engine}: ${cases} cases, ${rows.length} stored (${unparsed} unparsed), refusals ${JSON.stringify(Object.fromEntries(refusals))}\n`);
  });

  it(`the same mutated messages again and ${cases} more in one batch (ingestMany, as uploads and imports do): an outcome for each, nothing lost`, async () => {
    const bodies = Array.from({ length: cases * 2 }, (_, i) => mutatedCase(i));
    const outcomes = await h.container.complaintIntake.ingestMany(bodies, 'upload', 'fuzz');
    const sent = new Map<string, Buffer>();
    for (const [i, outcome] of outcomes.entries()) {
      if ('error' in outcome) expect(outcome.error.status, `case ${i}: ${outcome.error.message}`).toBeLessThan(500);
      else {
        sent.set(crypto.createHash('sha256').update(bodies[i]!).digest('hex'), bodies[i]!);
        // The first half was stored by the previous test through the API.
        if (i < cases) expect(outcome.stored, `case ${i}`).toBe(false);
      }
    }
    await expectStoredExactly(h, sent);
    const messages = (await h.db('complaint_messages').count({ n: '*' }).first()) as { n: unknown };
    const withComplaints = (await h.db('complaints').countDistinct({ n: 'message_id' }).first()) as { n: unknown };
    expect(Number(withComplaints.n), 'every stored message has its complaints').toBe(Number(messages.n));
  });
});

/** Fuzz case `i`: a mutated fixture (1% empty, 1% deeply nested), the same bytes for the same seed and index. */
const bases = arfFixtureNames().map((name) => arfFixture(name.slice(0, 2)).toString('latin1'));
function mutatedCase(i: number): Buffer {
  const rnd = prng((seed ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0);
  const special = rnd();
  const text = special < 0.01 ? '' : special < 0.02 ? deepNest(200, bases[Math.floor(rnd() * bases.length)]!) : mutate(bases[Math.floor(rnd() * bases.length)]!, rnd);
  return Buffer.from(text, 'latin1');
}

/** Every message in `sent` is stored byte for byte (and nothing else), parsed or kept as unparsed. */
async function expectStoredExactly(h: Harness, sent: Map<string, Buffer>): Promise<Array<{ sha256: string; parse_status: string }>> {
  const rows = (await h.db('complaint_messages').whereIn('sha256', [...sent.keys()]).select('sha256', 'raw', 'parse_status')) as Array<{ sha256: string; raw: Uint8Array; parse_status: string }>;
  expect(rows.length).toBe(sent.size);
  for (const row of rows) {
    expect(Buffer.from(row.raw).equals(sent.get(row.sha256)!), `stored bytes of ${row.sha256}`).toBe(true);
    expect(['parsed', 'unparsed']).toContain(row.parse_status);
  }
  return rows;
}
