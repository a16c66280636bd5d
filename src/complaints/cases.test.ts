import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildHarness, loginAs, type Harness, type LoggedIn } from '../testing/appHarness';
import { arfReport } from '../testing/arfReport';
import { engines } from '../testing/testDb';

/** A report about a message DKIM-signed by `domain`, sent from `ip`. */
const report = (opts: { domain: string; ip: string; recipient?: string; messageId: string }) =>
  arfReport({ dkimDomain: opts.domain, sourceIp: opts.ip, recipients: opts.recipient ? [opts.recipient] : [], messageId: opts.messageId, subject: 'Great offer' });

describe.each(engines)('complaint cases (reseller inbox, customer view) on %s', { timeout: 120_000 }, (engine) => {
  let h: Harness;
  let resa: LoggedIn;
  let resb: LoggedIn;
  let a1: LoggedIn;
  let b1: LoggedIn;
  let validId: number;
  let redactedId: number;

  beforeAll(async () => {
    h = await buildHarness(engine);
    await h.container.servers.setMailIps('srv1.example.net', ['192.0.2.11']);
    validId = (await h.container.complaintIntake.ingest(report({ domain: 'custa1.example.com', ip: '192.0.2.11', recipient: 'victim@isp.example', messageId: 'case-1@x' }), 'api', 'test')).complaints[0]!.id;
    redactedId = (await h.container.complaintIntake.ingest(report({ domain: 'custa3.example.com', ip: '192.0.2.11', messageId: 'case-2@x' }), 'api', 'test')).complaints[0]!.id;
    resa = await loginAs(h.app, h.f.logins.resellerA, h.f.password);
    resb = await loginAs(h.app, h.f.logins.resellerB, h.f.password);
    a1 = await loginAs(h.app, h.f.logins.customerA1, h.f.password);
    b1 = await loginAs(h.app, h.f.logins.customerB1, h.f.password);
  });
  afterAll(async () => {
    await h?.cleanup();
  });

  it('shows a reseller the cases of its whole tree, and no other reseller\'s (UI and API)', async () => {
    const inbox = await resa.agent.get('/reseller/complaints');
    expect(inbox.status).toBe(200);
    expect(inbox.text).toContain(`/reseller/complaints/${validId}`);
    // custa3 belongs to resa2, which resa owns.
    expect(inbox.text).toContain(`/reseller/complaints/${redactedId}`);
    expect(inbox.text).toContain('data-testid="complaint-trend"');
    const other = await resb.agent.get('/reseller/complaints');
    expect(other.text).not.toContain(`/reseller/complaints/${validId}`);
    expect(other.text).toContain('data-testid="empty"');
    expect((await resb.agent.get(`/reseller/complaints/${validId}`)).status).toBe(404);
    const tokenB = (await h.container.users.issueToken(h.f.users.resellerB, 'b')).token;
    const tokenA = (await h.container.users.issueToken(h.f.users.resellerA, 'a')).token;
    expect((await request(h.app).get(`/api/v1/complaints/${validId}`).set('Authorization', `Bearer ${tokenB}`)).status).toBe(404);
    expect((await request(h.app).get('/api/v1/complaints').set('Authorization', `Bearer ${tokenB}`)).body.data).toEqual([]);
    const mine = await request(h.app).get('/api/v1/complaints?customer=custa1').set('Authorization', `Bearer ${tokenA}`);
    expect(mine.body.data.map((c: { id: number }) => c.id)).toEqual([validId]);
    // Filters and sorting.
    expect((await resa.agent.get('/reseller/complaints?customer=custa3')).text).not.toContain(`/reseller/complaints/${validId}"`);
    expect((await resa.agent.get('/reseller/complaints?sort=due')).status).toBe(200);
    expect((await resa.agent.get('/reseller/complaints?from=nonsense')).status).toBe(422);
  });

  it('lets the reseller keep internal notes, forward the case to the customer by mail, and resolve it with a resolution', async () => {
    const csrf = await resa.csrf(`/reseller/complaints/${validId}`);
    expect((await resa.agent.post(`/reseller/complaints/${validId}/notes`).type('form').send({ _csrf: csrf, body: 'Checked exim log: custa1 newsletter.' })).status).toBe(302);
    const fwd = await resa.agent.post(`/reseller/complaints/${validId}/forward`).type('form').send({ _csrf: csrf, message: 'Please send us the consent record for this recipient.' });
    expect(fwd.status).toBe(302);
    const mail = await h.db('mail_outbox').where({ kind: 'complaint_forward' }).first();
    expect(mail).toMatchObject({ to_address: 'admin@custa1.example', status: 'captured' });
    expect(String(mail.text_body)).toContain(`/customer/complaints/${validId}`);
    expect((await h.container.complaints.get(h.f.actors.admin, validId)).complaint.deskStatus).toBe('forwarded');
    const noResolution = await resa.agent.post(`/reseller/complaints/${validId}/desk`).type('form').send({ _csrf: csrf, status: 'resolved', resolution: '' });
    expect(noResolution.status).toBe(422);
    expect(noResolution.text).toContain('resolution');
    // Another reseller cannot act on it.
    expect((await resb.agent.post(`/reseller/complaints/${validId}/notes`).type('form').send({ _csrf: await resb.csrf(), body: 'x' })).status).toBe(404);
  });

  it('shows the customer its case with the reseller\'s message but not the internal note; the customer replies and attaches evidence', async () => {
    const page = await a1.agent.get(`/customer/complaints/${validId}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('Please send us the consent record');
    expect(page.text).not.toContain('Checked exim log');
    expect((await b1.agent.get(`/customer/complaints/${validId}`)).status).toBe(404);
    const csrf = await a1.csrf(`/customer/complaints/${validId}`);
    expect((await a1.agent.post(`/customer/complaints/${validId}/notes`).type('form').send({ _csrf: csrf, body: 'This person bought from us last year.' })).status).toBe(302);
    // Another customer's consent record is refused, naming the field.
    const listB = await h.container.consent.createList(h.f.actors.customerB1, { name: 'B', domainId: h.f.domains.b1.main!, doubleOptIn: false, text: 't' });
    const recordB = await h.container.consent.addRecord(h.f.actors.customerB1, listB, { email: 'victim@isp.example', status: 'confirmed', method: 'web_form', consentedAt: new Date('2026-01-01T00:00:00Z') });
    const refused = await a1.agent.post(`/customer/complaints/${validId}/evidence`).type('form').send({ _csrf: csrf, consentRecordId: String(recordB), text: 'mine' });
    expect(refused.status).toBe(422);
    expect(refused.text).toContain('is not one of your consent records');
    const list = await h.container.consent.createList(h.f.actors.customerA1, { name: 'A', domainId: h.f.domains.a1.main!, doubleOptIn: false, text: 't' });
    const record = await h.container.consent.addRecord(h.f.actors.customerA1, list, { email: 'victim@isp.example', status: 'confirmed', method: 'paper', consentedAt: new Date('2026-01-01T00:00:00Z') });
    expect((await a1.agent.post(`/customer/complaints/${validId}/evidence`).type('form').send({ _csrf: csrf, consentRecordId: String(record), text: 'Signed at our shop.' })).status).toBe(302);
    const admin = await loginAs(h.app, h.f.logins.admin, h.f.password);
    const decisionPage = await admin.agent.get(`/admin/complaints/${validId}`);
    expect(decisionPage.text).toContain('Signed at our shop.');
    expect(decisionPage.text).toContain(`Consent record #${record}`);
    // The reseller sees the customer's reply and evidence.
    const resellerView = await resa.agent.get(`/reseller/complaints/${validId}`);
    expect(resellerView.text).toContain('This person bought from us last year.');
  });

  it('moves a case waiting for evidence to an admin as soon as the customer attaches some', async () => {
    const a3 = await loginAs(h.app, h.f.logins.customerA3, h.f.password);
    expect((await h.container.complaints.get(h.f.actors.admin, redactedId)).complaint.status).toBe('awaiting_evidence');
    const csrf = await a3.csrf(`/customer/complaints/${redactedId}`);
    expect((await a3.agent.post(`/customer/complaints/${redactedId}/evidence`).type('form').send({ _csrf: csrf, text: 'Our list is double opt-in only; see list "News".' })).status).toBe(302);
    expect((await h.container.complaints.get(h.f.actors.admin, redactedId)).complaint.status).toBe('review');
  });

  it('counts complaints per week and escalates overdue cases once', async () => {
    const trend = await h.container.cases.trend(h.f.actors.resellerA, {});
    expect(trend).toHaveLength(12);
    expect(trend.at(-1)!.count).toBe(2);
    h.clock.advance(73 * 3600_000);
    const first = await h.container.complaintHousekeeping('manual');
    expect(first.ran && first.run.counts).toMatchObject({ escalated: 2 });
    const again = await h.container.complaintHousekeeping('manual');
    expect(again.ran && again.run.counts).toMatchObject({ escalated: 0 });
    expect(await h.db('complaint_notes').where({ complaint_id: validId, kind: 'system' })).toHaveLength(1);
    expect((await h.container.complaints.list(h.f.actors.resellerA, { overdue: true }, { limit: 10 })).items.map((c) => c.id).sort()).toEqual([validId, redactedId].sort());
  });
});
