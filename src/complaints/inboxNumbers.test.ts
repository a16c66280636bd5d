import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toDbTime } from '../db/dialect';
import { buildHarness, loginAs, type Harness } from '../testing/appHarness';
import { arfReport } from '../testing/arfReport';
import { engines } from '../testing/testDb';
import { InboxNumbers, inboxNumbersMaxAgeSeconds } from './inboxNumbers';

const report = (opts: { domain: string; recipient: string; messageId: string }) =>
  arfReport({ dkimDomain: opts.domain, sourceIp: opts.domain.startsWith('custb') ? '192.0.2.12' : '192.0.2.11', recipients: [opts.recipient], messageId: opts.messageId, subject: 'Great offer' });

/** "Showing N of TOTAL" of an inbox page. */
const totalOf = (html: string) => Number(/data-testid="count">Showing \d+ of (\d+)</.exec(html)?.[1]);

describe.each(engines)('the inbox total and trend, kept briefly (src/complaints/inboxNumbers.ts) on %s', { timeout: 120_000 }, (engine) => {
  let h: Harness;
  let n = 0;
  const ingest = async (domain: string) => {
    n += 1;
    return (await h.container.complaintIntake.ingest(report({ domain, recipient: `victim${n}@isp.example`, messageId: `numbers-${n}@x` }), 'api', 'test')).complaints[0]!.id;
  };

  beforeAll(async () => {
    h = await buildHarness(engine);
    await h.container.servers.setMailIps('srv1.example.net', ['192.0.2.11']);
    await h.container.servers.setMailIps('srv2.example.net', ['192.0.2.12']);
    await ingest('custa1.example.com');
    await ingest('custa1.example.com');
  });
  afterAll(async () => {
    await h?.cleanup();
  });

  it('keeps a number until a counted table is written (also at the commit of a transaction that wrote one), for a limited time, one computation for concurrent callers', async () => {
    let t = 0;
    const numbers = new InboxNumbers(h.db, 15_000, () => t);
    let runs = 0;
    const compute = async () => {
      runs += 1;
      return runs;
    };
    expect(await Promise.all([numbers.get('k', compute), numbers.get('k', compute)])).toEqual([1, 1]);
    expect(await numbers.get('k', compute)).toBe(1);
    // Writes elsewhere (sessions on every request) change nothing.
    await h.db('sessions').where('sid', 'none').update({ data: '{}' });
    expect(await numbers.get('k', compute)).toBe(1);

    await h.db('complaints').where('id', -1).update({ updated_at: toDbTime(h.clock.now()) });
    expect(await numbers.get('k', compute)).toBe(2);
    // Computed right after a write: used, not kept (another connection may not see the write yet).
    expect(await numbers.get('k', compute)).toBe(3);
    t = 1_000;
    expect(await numbers.get('k', compute)).toBe(4);
    expect(await numbers.get('k', compute)).toBe(4);
    t = 1_000 + 15_000;
    expect(await numbers.get('k', compute)).toBe(5);

    t = 20_000;
    await h.db.transaction(async (trx) => {
      await trx('account_tree').where('ancestor_id', -1).del();
      t = 21_000;
      // Kept while the transaction is open (other connections read the rows before it) …
      expect(await numbers.get('k', compute)).toBe(6);
      expect(await numbers.get('k', compute)).toBe(6);
    });
    // … and dropped when it commits.
    expect(await numbers.get('k', compute)).toBe(7);

    // Also when a nested transaction (a savepoint) ran after the write.
    t = 30_000;
    await h.db.transaction(async (trx) => {
      await trx('complaints').where('id', -1).del();
      await trx.transaction(async (inner) => {
        await inner('sessions').where('sid', 'none').del();
      });
      t = 31_000;
      expect(await numbers.get('k', compute)).toBe(8);
      expect(await numbers.get('k', compute)).toBe(8);
    });
    expect(await numbers.get('k', compute)).toBe(9);
  });

  it('names whose numbers they are in every key', () => {
    const keys = [h.f.actors.resellerA, h.f.actors.resellerB, h.f.actors.customerA1, h.f.actors.admin].map(InboxNumbers.scopeKey);
    expect(new Set(keys).size).toBe(4);
    expect(InboxNumbers.scopeKey({ ...h.f.actors.customerA1, role: 'reseller' })).not.toBe(InboxNumbers.scopeKey(h.f.actors.customerA1));
  });

  it("shows each reseller and customer the total and trend of their own reach, and this process's writes at once", async () => {
    const resa = await loginAs(h.app, h.f.logins.resellerA, h.f.password);
    const resb = await loginAs(h.app, h.f.logins.resellerB, h.f.password);
    const a1 = await loginAs(h.app, h.f.logins.customerA1, h.f.password);
    const first = await resa.agent.get('/reseller/complaints');
    expect(totalOf(first.text)).toBe(2);
    expect(first.text).toContain(`up to ${inboxNumbersMaxAgeSeconds} seconds`);
    expect(totalOf((await resb.agent.get('/reseller/complaints')).text)).toBe(0);
    expect(totalOf((await a1.agent.get('/customer/complaints')).text)).toBe(2);
    const trend = async () => (await h.container.cases.trend(h.f.actors.resellerA, { cached: true })).at(-1)!.count;
    expect(await trend()).toBe(2);

    const third = await ingest('custa1.example.com');
    expect(totalOf((await resa.agent.get('/reseller/complaints')).text)).toBe(3);
    expect(totalOf((await a1.agent.get('/customer/complaints')).text)).toBe(3);
    expect(await trend()).toBe(3);
    expect(await trend()).toBe((await h.container.cases.trend(h.f.actors.resellerA)).at(-1)!.count);
    expect(totalOf((await resb.agent.get('/reseller/complaints')).text)).toBe(0);
    await ingest('custb1.example.com');
    expect(totalOf((await resb.agent.get('/reseller/complaints')).text)).toBe(1);
    expect(totalOf((await resa.agent.get('/reseller/complaints')).text)).toBe(3);

    // A filtered total follows a desk change made on the case page.
    expect(totalOf((await resa.agent.get('/reseller/complaints?desk=resolved')).text)).toBe(0);
    const csrf = await resa.csrf(`/reseller/complaints/${third}`);
    expect((await resa.agent.post(`/reseller/complaints/${third}/desk`).type('form').send({ _csrf: csrf, status: 'resolved', resolution: 'Removed the address from the list.' })).status).toBe(302);
    expect(totalOf((await resa.agent.get('/reseller/complaints?desk=resolved')).text)).toBe(1);
  });
});
