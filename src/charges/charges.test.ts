import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildHarness, buildTestApp, loginAs, testConfig, type Harness } from '../testing/appHarness';
import { arfReport } from '../testing/arfReport';
import { engines } from '../testing/testDb';
import { ConfigError, loadConfig } from '../config/load';
import { chargeLedger } from './chargeRepository';
import { WhmcsBilling } from './whmcsBilling';
import { SimulatedWhmcs } from './whmcs/simulatedWhmcs';
import { WhmcsClient } from './whmcs/whmcsClient';

const identifier = 'sim-identifier-0123';
const secret = 'sim-secret-0123456789';

let seq = 0;
/** One abuse complaint about mail DKIM-signed by `domain` (a fresh recipient and message unless given). */
function arf(opts: { domain: string; sourceIp: string; recipient?: string; messageId?: string; reportId?: string }): Buffer {
  const n = ++seq;
  return arfReport({ dkimDomain: opts.domain, sourceIp: opts.sourceIp, recipients: [opts.recipient ?? `victim${n}@isp.example`], messageId: opts.messageId ?? `charge-spam-${n}@${opts.domain}`, reportId: opts.reportId });
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

const ips: Record<string, string> = { 'custa1.example.com': '192.0.2.11', 'custa3.example.com': '192.0.2.11', 'custc.example.com': '192.0.2.22', 'custb1.example.com': '192.0.2.22' };

describe.each(engines)('charges on %s', { timeout: 120_000 }, (engine) => {
  let h: Harness;
  let sim: SimulatedWhmcs;
  const admin = () => h.f.actors.admin;
  const svc = () => h.container.charges;
  const billing = () => h.container.chargeBilling;
  const chargesOf = async (complaintId: number) => (await h.db('charges').where('complaint_id', complaintId)) as Array<Record<string, unknown>>;

  /** Ingests a new valid complaint about `domain` and returns its id and its charge's id. */
  async function validComplaint(domain = 'custa1.example.com'): Promise<{ complaintId: number; chargeId: number }> {
    const outcome = await h.container.complaintIntake.ingest(arf({ domain, sourceIp: ips[domain]! }), 'api', 'test');
    const c = outcome.complaints[0]!;
    expect(c.status, c.decisionReason ?? '').toBe('valid');
    const [charge] = await chargesOf(c.id);
    return { complaintId: c.id, chargeId: Number(charge!.id) };
  }

  async function approved(domain = 'custa1.example.com'): Promise<{ complaintId: number; chargeId: number }> {
    const ids = await validComplaint(domain);
    await svc().decide(admin(), ids.chargeId, 'approved', 'Valid complaint, no consent record.');
    return ids;
  }

  beforeAll(async () => {
    sim = await SimulatedWhmcs.start({
      identifier,
      secret,
      clients: [
        { id: 11, email: 'admin@custa1.example', firstname: 'Ann', lastname: 'One', currency_code: 'USD' },
        { id: 12, email: 'admin@custb1.example', firstname: 'Bob', currency_code: 'EUR' },
        // A prefix of custa1's address: GetClients' search matches it too, the client must not pick it.
        { id: 13, email: 'admin@custa1.example.org', currency_code: 'USD' },
      ],
    });
    h = await buildHarness(engine, { env: { CHARGE_AMOUNT: '2500.50', CHARGE_CURRENCY: 'USD', WHMCS_URL: sim.url, WHMCS_IDENTIFIER: identifier, WHMCS_SECRET: secret } });
    await h.container.servers.setMailIps('srv1.example.net', ['192.0.2.11']);
    await h.container.servers.setMailIps('srv2.example.net', ['192.0.2.22']);
  });
  afterAll(async () => {
    await h?.cleanup();
    await sim?.close();
  });

  it('configuration: 3000.00 USD by default; WHMCS needs URL, identifier and secret, and never echoes them', () => {
    expect(testConfig().complaints).toMatchObject({ amountCents: 300_000, currency: 'USD' });
    expect(testConfig().whmcs).toBeUndefined();
    expect(h.config.whmcs).toMatchObject({ url: sim.url, invoiceAction: 'nextcron' });
    expect(() => loadConfig({ WHMCS_URL: 'https://billing.example.com', WHMCS_IDENTIFIER: 'abcdefgh12345678' })).toThrow(/WHMCS_SECRET expects/);
    expect(() => loadConfig({ WHMCS_SECRET: 'topsecret-value' })).toThrow(/WHMCS_URL expects/);
    expect(() => loadConfig({ WHMCS_URL: 'http://billing.example.com' })).toThrow(/WHMCS_URL expects/);
    let err: unknown;
    try {
      loadConfig({ WHMCS_URL: 'https://b.example.com', WHMCS_IDENTIFIER: 'short', WHMCS_SECRET: 'tiny', WHMCS_INVOICE_ACTION: 'recur' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const message = (err as Error).message;
    expect(message).toContain('WHMCS_SECRET expects the API credential secret (got 4 characters)');
    expect(message).toContain('WHMCS_IDENTIFIER expects');
    expect(message).not.toContain('tiny');
    expect(message).not.toContain('short');
    expect(message).toContain('WHMCS_INVOICE_ACTION expects nextcron, nextinvoice or noinvoice');
  });

  it('a valid complaint proposes exactly one charge of the configured amount; the same message again or a duplicate report adds none', async () => {
    const raw = arf({ domain: 'custa1.example.com', sourceIp: '192.0.2.11', recipient: 'once@isp.example', messageId: 'charged-once@custa1.example.com' });
    const first = await h.container.complaintIntake.ingest(raw, 'api', 'test');
    const id = first.complaints[0]!.id;
    expect(first.complaints[0]!.status).toBe('valid');
    const rows = await chargesOf(id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ account_id: h.f.accounts.a1, reseller_account_id: h.f.accounts.A, amount_cents: 250_050, currency: 'USD', status: 'proposed' });
    const before = Number((await h.db('charges').count({ n: '*' }).first())!.n);
    await h.container.complaintIntake.ingest(raw, 'cli', 'test');
    const dup = await h.container.complaintIntake.ingest(arf({ domain: 'custa1.example.com', sourceIp: '192.0.2.11', recipient: 'ONCE@isp.example', messageId: 'charged-once@custa1.example.com' }), 'upload', 'test');
    expect(dup.complaints[0]).toMatchObject({ status: 'duplicate', duplicateOf: id });
    expect(Number((await h.db('charges').count({ n: '*' }).first())!.n)).toBe(before);
    // Deciding it valid again by hand proposes nothing new either.
    await h.container.complaints.decide(admin(), id, 'valid', 'Confirmed by hand after review.');
    expect(await chargesOf(id)).toHaveLength(1);
    const detail = await svc().get(admin(), Number(rows[0]!.id));
    expect(detail.charge).toMatchObject({ complaintId: id, accountUsername: 'custa1', resellerUsername: 'resa', complaintStatus: 'valid', accountEmail: 'admin@custa1.example' });
  });

  it('decisions need a reason and an admin, are audited, and refuse nonsense transitions with 409', async () => {
    const { chargeId } = await validComplaint();
    await expect(svc().decide(admin(), chargeId, 'approved', '  ')).rejects.toMatchObject({ status: 422 });
    await expect(svc().decide(h.f.actors.resellerA, chargeId, 'waived', 'My customer says sorry.')).rejects.toMatchObject({ status: 403 });
    await expect(svc().decide(h.f.actors.customerA1, chargeId, 'waived', 'I did not send this.')).rejects.toMatchObject({ status: 403 });
    await expect(svc().list(h.f.actors.customerA1, {}, { limit: 10 })).rejects.toMatchObject({ status: 403 });
    await expect(svc().decide(admin(), 999_999, 'approved', 'No such charge here.')).rejects.toMatchObject({ status: 404 });
    expect(await svc().decide(admin(), chargeId, 'disputed', 'Customer sent a signup log; checking.')).toMatchObject({ status: 'disputed', decidedBy: admin().login });
    expect(await svc().decide(admin(), chargeId, 'approved', 'The signup log predates the list.')).toMatchObject({ status: 'approved', reason: 'The signup log predates the list.' });
    await expect(svc().decide(admin(), chargeId, 'approved', 'Approving it twice over.')).rejects.toMatchObject({ status: 409 });
    await svc().decide(admin(), chargeId, 'waived', 'First offence, goodwill waiver.');
    const audit = (await h.db('audit_log').where({ subject_type: 'charge', subject_id: String(chargeId) }).orderBy('seq')) as Array<{ action: string; actor_login: string; data: string }>;
    expect(audit.map((a) => a.action)).toEqual(['charge.dispute', 'charge.approve', 'charge.waive']);
    expect(JSON.parse(audit[2]!.data)).toMatchObject({ from: 'approved', to: 'waived', reason: 'First offence, goodwill waiver.' });
    expect((await svc().get(admin(), chargeId)).history.map((e) => e.action)).toEqual(['charge.dispute', 'charge.approve', 'charge.waive']);
  });

  it('deciding the complaint invalid waives its unbilled charge; approving it then is refused; valid again proposes it again', async () => {
    const { complaintId, chargeId } = await validComplaint();
    await svc().decide(admin(), chargeId, 'approved', 'Valid complaint, no consent record.');
    await h.container.complaints.decide(admin(), complaintId, 'invalid', 'The recipient had confirmed consent on paper.');
    const waived = await svc().get(admin(), chargeId);
    expect(waived.charge).toMatchObject({ status: 'waived', decidedBy: 'system', complaintStatus: 'invalid' });
    expect(waived.charge.reason).toContain('confirmed consent on paper');
    await expect(svc().decide(admin(), chargeId, 'approved', 'Charge it anyway, please.')).rejects.toMatchObject({ status: 409, message: expect.stringContaining('not valid') as unknown as string });
    await expect(svc().decide(admin(), chargeId, 'disputed', 'Contested by the reseller.')).rejects.toMatchObject({ status: 409 });
    await h.container.complaints.decide(admin(), complaintId, 'valid', 'The paper form was for another list.');
    expect((await chargesOf(complaintId)).map((c) => c.status)).toEqual(['proposed']);
  });

  it('lists with filters (status, account, reseller through sub-resellers, dates, billing), keyset pages and totals per currency', async () => {
    const a3 = await validComplaint('custa3.example.com');
    const b1 = await validComplaint('custb1.example.com');
    const c = await validComplaint('custc.example.com');
    const byAccount = await svc().list(admin(), { account: 'custb1' }, { limit: 50 });
    expect(byAccount.items.map((x) => x.id)).toContain(b1.chargeId);
    expect(byAccount.items.every((x) => x.accountUsername === 'custb1')).toBe(true);
    const resa = await svc().list(admin(), { reseller: 'resa' }, { limit: 50 });
    expect(resa.items.map((x) => x.id)).toContain(a3.chargeId);
    expect(resa.items.some((x) => x.id === b1.chargeId || x.id === c.chargeId)).toBe(false);
    expect(resa.items.every((x) => ['custa1', 'custa2', 'custa3'].includes(x.accountUsername))).toBe(true);
    expect((await svc().list(admin(), { reseller: 'resa2' }, { limit: 50 })).items.map((x) => x.accountUsername)).toEqual(['custa3']);
    expect((await svc().list(admin(), { from: new Date(h.clock.now().getTime() + 86_400_000) }, { limit: 50 })).total).toBe(0);
    expect((await svc().list(admin(), { to: new Date(h.clock.now().getTime() + 86_400_000), account: 'custc' }, { limit: 50 })).items.map((x) => x.id)).toEqual([c.chargeId]);
    expect((await svc().list(admin(), { billing: 'sent', account: 'custc' }, { limit: 50 })).total).toBe(0);
    expect((await svc().list(admin(), { billing: 'none', account: 'custc' }, { limit: 50 })).total).toBe(1);

    const all = await svc().list(admin(), {}, { limit: 50 });
    const first = await svc().list(admin(), {}, { limit: 2 });
    const second = await svc().list(admin(), {}, { limit: 2, cursor: first.nextCursor! });
    expect(first.items.map((x) => x.id)).toEqual(all.items.slice(0, 2).map((x) => x.id));
    expect(second.items.map((x) => x.id)).toEqual(all.items.slice(2, 4).map((x) => x.id));
    expect(first.total).toBe(all.total);
    const proposed = all.totals.find((t) => t.currency === 'USD' && t.status === 'proposed')!;
    const count = all.items.filter((x) => x.status === 'proposed').length;
    expect(proposed).toMatchObject({ count, amountCents: count * 250_050 });
    expect(all.totals.reduce((n, t) => n + t.count, 0)).toBe(all.total);

    // Resellers: only their own customers' charges.
    const mine = await svc().listForReseller(h.f.actors.resellerA2, {}, { limit: 50 });
    expect(mine.items.map((x) => x.accountUsername)).toEqual(['custa3']);
    await expect(svc().listForReseller(h.f.actors.customerA3, {}, { limit: 50 })).rejects.toMatchObject({ status: 403 });
  });

  it('exports approved charges as safe CSV, with the filters applied', async () => {
    const a = await validComplaint('custa1.example.com');
    const b = await validComplaint('custb1.example.com');
    const p = await validComplaint('custb1.example.com');
    await svc().decide(admin(), a.chargeId, 'approved', '=HYPERLINK("http://evil.example","click"), confirmed');
    await svc().decide(admin(), b.chargeId, 'approved', 'Valid, second offence this month.');
    const session = await loginAs(h.app, h.f.logins.admin, h.f.password);
    const res = await session.agent.get('/admin/charges.csv');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toContain('text/csv');
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename="?charges-approved-\d{4}-\d{2}-\d{2}\.csv"?$/);
    const lines = res.text.split('\r\n').filter(Boolean);
    expect(lines[0]).toBe('id,complaint_id,account,reseller,amount,currency,approved_at,approved_by,reason,billing_status,billing_ref');
    const rowA = lines.find((l) => l.startsWith(`${a.chargeId},`))!;
    expect(rowA).toBe(`${a.chargeId},${a.complaintId},custa1,resa,2500.50,USD,${h.clock.now().toISOString()},${admin().login},"'=HYPERLINK(""http://evil.example"",""click""), confirmed",,`);
    expect(lines.some((l) => l.startsWith(`${p.chargeId},`))).toBe(false);
    const filtered = await session.agent.get('/admin/charges.csv?account=custb1&status=proposed');
    const ids = filtered.text.split('\r\n').slice(1).filter(Boolean).map((l) => Number(l.split(',')[0]));
    expect(ids).toContain(b.chargeId);
    expect(ids).not.toContain(a.chargeId);
    expect(ids).not.toContain(p.chargeId);
  });

  it('sends an approved charge to WHMCS once: billable item on the client found by email, billed_at set, never sent again', async () => {
    const { chargeId, complaintId } = await approved();
    const before = sim.items.length;
    const report = await billing().send(admin(), { chargeId });
    expect(report.results).toEqual([{ chargeId, outcome: 'sent', ref: expect.any(String) as unknown as string }]);
    const item = sim.items.at(-1)!;
    expect(sim.items.length).toBe(before + 1);
    expect(item).toMatchObject({ clientid: 11, amount: '2500.50', unit: 'quantity', quantity: '1', invoiceaction: 'nextcron' });
    expect(item.description).toBe(`Anti-spam policy charge #${chargeId}: valid spam complaint #${complaintId} (account custa1)`);
    const charge = (await svc().get(admin(), chargeId)).charge;
    expect(charge).toMatchObject({ billingStatus: 'sent', billingRef: String(item.id), billingError: null });
    expect(charge.billedAt).not.toBeNull();
    const again = await billing().send(admin(), { chargeId });
    expect(again.results[0]).toMatchObject({ outcome: 'skipped', message: expect.stringContaining('already sent') as unknown as string });
    expect((await billing().send(admin(), 'all')).results.some((r) => r.chargeId === chargeId)).toBe(false);
    expect(sim.items.filter((i) => i.description.includes(`charge #${chargeId}:`))).toHaveLength(1);
    await expect(svc().decide(admin(), chargeId, 'waived', 'Changed our mind after billing.')).rejects.toMatchObject({ status: 409, message: expect.stringContaining('credit') as unknown as string });
    // Overturning the complaint leaves a billed charge alone (credit it in WHMCS).
    await h.container.complaints.decide(admin(), complaintId, 'invalid', 'Turned out to be a forwarded newsletter.');
    expect((await svc().get(admin(), chargeId)).charge).toMatchObject({ status: 'approved', billingStatus: 'sent' });
    await expect(billing().send(h.f.actors.resellerA, { chargeId })).rejects.toMatchObject({ status: 403 });
    const audit = (await h.db('audit_log').where({ subject_type: 'charge', subject_id: String(chargeId), action: 'charge.bill' })) as unknown[];
    expect(audit).toHaveLength(1);
  });

  it('a client not found, another currency, refused credentials or a server down are failures that bill nothing and can be retried', async () => {
    const before = sim.items.length;
    const c = await approved('custc.example.com');
    const notFound = await billing().send(admin(), { chargeId: c.chargeId });
    expect(notFound.results[0]).toMatchObject({ outcome: 'failed', message: expect.stringContaining('no WHMCS client has the email admin@custc.example') as unknown as string });
    expect((await svc().get(admin(), c.chargeId)).charge).toMatchObject({ billingStatus: 'failed', billedAt: null });

    const eur = await approved('custb1.example.com');
    expect((await billing().send(admin(), { chargeId: eur.chargeId })).results[0]).toMatchObject({ outcome: 'failed', message: expect.stringContaining('billed in EUR') as unknown as string });

    const wrong = new WhmcsBilling(h.db, h.clock, new WhmcsClient({ url: sim.url, identifier, secret: 'not-the-secret' }));
    const a = await approved();
    const b = await approved();
    const auth = await wrong.send(admin(), 'all');
    const forA = auth.results.find((r) => r.chargeId === a.chargeId || r.chargeId === b.chargeId || r.chargeId === c.chargeId)!;
    expect(auth.results[0]).toMatchObject({ outcome: 'failed', message: expect.stringContaining('refused the API credentials: Authentication Failed') as unknown as string });
    expect(auth.failed).toBe(1);
    expect(auth.results.slice(1).every((r) => r.outcome === 'skipped' && r.message!.startsWith('not tried'))).toBe(true);
    expect(forA).toBeDefined();

    const down = new WhmcsBilling(h.db, h.clock, new WhmcsClient({ url: `http://127.0.0.1:${await closedPort()}`, identifier, secret }));
    const refused = await down.send(admin(), { chargeId: b.chargeId });
    expect(refused.results[0]).toMatchObject({ outcome: 'failed', message: expect.stringContaining('cannot reach WHMCS') as unknown as string });
    sim.failNext = 1;
    expect((await billing().send(admin(), { chargeId: b.chargeId })).results[0]).toMatchObject({ outcome: 'failed', message: expect.stringContaining('HTTP 500') as unknown as string });
    expect(sim.items.length).toBe(before);

    // Fixed in WHMCS: the retries go through.
    sim.clients.push({ id: 14, email: 'admin@custc.example', currency_code: 'USD' });
    expect((await billing().send(admin(), { chargeId: c.chargeId })).results[0]).toMatchObject({ outcome: 'sent' });
    expect((await billing().send(admin(), { chargeId: b.chargeId })).results[0]).toMatchObject({ outcome: 'sent' });
    expect(sim.items.slice(before).map((i) => i.clientid)).toEqual([14, 11]);
  });

  it('never bills twice when sends run concurrently, and leaves a lost answer for an admin to settle', async () => {
    const { chargeId } = await approved();
    const before = sim.items.length;
    sim.latencyMs = 100;
    const other = new WhmcsBilling(h.db, h.clock, new WhmcsClient({ url: sim.url, identifier, secret }));
    try {
      const reports = await Promise.all([billing().send(admin(), { chargeId }), other.send(admin(), { chargeId }), billing().send(admin(), 'all')]);
      const outcomes = reports.flatMap((r) => r.results.filter((x) => x.chargeId === chargeId).map((x) => x.outcome));
      expect(outcomes.filter((o) => o === 'sent')).toHaveLength(1);
      expect(outcomes.filter((o) => o !== 'sent').every((o) => o === 'skipped')).toBe(true);
    } finally {
      sim.latencyMs = 0;
    }
    expect(sim.items.slice(before).filter((i) => i.description.includes(`charge #${chargeId}:`))).toHaveLength(1);
    // The claim itself: of many simultaneous claims on one charge exactly one wins.
    const raced = await approved();
    const claims = await Promise.all(Array.from({ length: 8 }, () => chargeLedger.claim(h.db, raced.chargeId, h.clock.now())));
    expect(claims.filter(Boolean)).toHaveLength(1);
    await chargeLedger.settle(h.db, raced.chargeId, { status: 'failed', error: 'test: released' }, h.clock.now());

    // The item is created but the answer is lost: unknown, not retried, until an admin records what WHMCS shows.
    const lost = await approved();
    sim.dropNextAddAnswer = true;
    const first = await billing().send(admin(), { chargeId: lost.chargeId });
    expect(first.results[0]).toMatchObject({ outcome: 'unknown' });
    const created = sim.items.at(-1)!;
    expect(created.description).toContain(`charge #${lost.chargeId}:`);
    expect((await billing().send(admin(), 'all')).results.find((r) => r.chargeId === lost.chargeId)).toBeUndefined();
    expect((await billing().send(admin(), { chargeId: lost.chargeId })).results[0]!.outcome).toBe('skipped');
    await expect(svc().decide(admin(), lost.chargeId, 'waived', 'Trying to waive an unsettled one.')).rejects.toMatchObject({ status: 409 });
    await expect(billing().resolve(admin(), lost.chargeId, { billableId: 'abc', note: 'Found it in WHMCS.' })).rejects.toMatchObject({ status: 422 });
    const settled = await billing().resolve(admin(), lost.chargeId, { billableId: String(created.id), note: 'Item is there in WHMCS, created 10:02.' });
    expect(settled).toMatchObject({ billingStatus: 'sent', billingRef: String(created.id) });
    await expect(billing().resolve(admin(), lost.chargeId, { note: 'Trying to settle it twice.' })).rejects.toMatchObject({ status: 409 });
    expect(sim.items.filter((i) => i.description.includes(`charge #${lost.chargeId}:`))).toHaveLength(1);
  });

  it('admin pages: list, detail, decision form, CSV link, send confirmation; the complaint links its charge; others get 403', async () => {
    const { chargeId, complaintId } = await validComplaint();
    const session = await loginAs(h.app, h.f.logins.admin, h.f.password);
    const list = await session.agent.get('/admin/charges?status=proposed');
    expect(list.status).toBe(200);
    expect(list.text).toContain('data-testid="charges-table"');
    expect(list.text).toContain('data-testid="charge-totals"');
    expect(list.text).toContain('href="/admin/charges.csv"');
    expect(list.text).toContain('href="/admin/charges/send"');
    expect(list.text).toContain('href="/admin/charges"');
    expect(list.text).not.toContain('data-testid="whmcs-not-configured"');
    const empty = await session.agent.get('/admin/charges?account=nobody');
    expect(empty.text).toContain('No charge matches these filters');
    expect((await session.agent.get('/admin/charges?status=bogus')).status).toBe(422);
    const page = await session.agent.get(`/admin/charges/${chargeId}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain(`href="/admin/complaints/${complaintId}"`);
    expect(page.text).toContain('2500.50 USD');
    const complaintPage = await session.agent.get(`/admin/complaints/${complaintId}`);
    expect(complaintPage.text).toContain(`href="/admin/charges/${chargeId}"`);
    const csrf = await session.csrf(`/admin/charges/${chargeId}`);
    const noReason = await session.agent.post(`/admin/charges/${chargeId}/decision`).type('form').send({ _csrf: csrf, status: 'approved', reason: '' });
    expect(noReason.status).toBe(422);
    expect(noReason.text).toContain('is required');
    const ok = await session.agent.post(`/admin/charges/${chargeId}/decision`).type('form').send({ _csrf: csrf, status: 'approved', reason: 'Valid complaint, no consent record.' });
    expect(ok.status).toBe(302);
    const twice = await session.agent.post(`/admin/charges/${chargeId}/decision`).type('form').send({ _csrf: csrf, status: 'approved', reason: 'Valid complaint, no consent record.' });
    expect(twice.status).toBe(409);
    expect(twice.text).toContain('already approved');
    const confirm = await session.agent.get('/admin/charges/send');
    expect(confirm.status).toBe(200);
    expect(confirm.text).toContain('data-testid="send-confirm"');
    expect(confirm.text).toContain(new URL(sim.url).host);
    const sent = await session.agent.post('/admin/charges/send').type('form').send({ _csrf: csrf });
    expect(sent.status).toBe(302);
    expect((await svc().get(admin(), chargeId)).charge.billingStatus).toBe('sent');
    const after = await session.agent.get(String(sent.headers.location));
    expect(after.text).toMatch(/\d+ sent to WHMCS/);

    for (const who of [h.f.logins.customerA1, h.f.logins.resellerA]) {
      const other = await loginAs(h.app, who, h.f.password);
      for (const path of ['/admin/charges', `/admin/charges/${chargeId}`, '/admin/charges.csv', '/admin/charges/send']) expect((await other.agent.get(path)).status, `${who} ${path}`).toBe(403);
    }

    // Without WHMCS configured the pages say so and offer only CSV.
    const plain = buildTestApp(h.db, { clock: h.clock });
    const noWhmcs = await loginAs(plain.app, h.f.logins.admin, h.f.password);
    const bare = await noWhmcs.agent.get('/admin/charges');
    expect(bare.text).toContain('data-testid="whmcs-not-configured"');
    expect(bare.text).not.toContain('href="/admin/charges/send"');
    expect((await noWhmcs.agent.get('/admin/charges/send')).text).toContain('not configured');
    const csrf2 = await noWhmcs.csrf('/admin/charges');
    const refused = await noWhmcs.agent.post('/admin/charges/send').type('form').send({ _csrf: csrf2 });
    expect(refused.status).toBe(302);
    expect((await noWhmcs.agent.get('/admin/charges')).text).toContain('not configured');
  });
});
