import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildHarness, loginAs, type Harness } from '../testing/appHarness';
import { arfFixture, arfFixtureNames } from '../testing/arfFixtures';
import { arfReport, type ArfReportInput } from '../testing/arfReport';
import { runCli } from '../testing/cliRunner';
import { engines } from '../testing/testDb';


/** The report builder with this file's defaults (the spam's Message-ID names the sender's domain). */
function arf(input: Omit<ArfReportInput, 'messageId'> & { messageId?: string }): Buffer {
  return arfReport({ messageId: 'spam-1@sender.example', ...input });
}

describe.each(engines)('complaints on %s', { timeout: 120_000 }, (engine) => {
  let h: Harness;
  let adminToken: string;
  const intake = () => h.container.complaintIntake;
  const svc = () => h.container.complaints;
  const dkim = (domain: string) => `DKIM-Signature: v=1; a=rsa-sha256; d=${domain}; s=default; h=from:to:subject; bh=abc=; b=def=`;
  const strikesOf = async (accountId: number) => ((await h.db('strikes').where('account_id', accountId).whereNull('lifted_at')) as unknown[]).length;

  beforeAll(async () => {
    h = await buildHarness(engine);
    await h.container.servers.setMailIps('srv1.example.net', ['192.0.2.11']);
    await h.container.servers.setMailIps('srv2.example.net', ['192.0.2.22', '2001:db8::22']);
    adminToken = (await h.container.users.issueToken(h.f.users.admin, 'abuse pipe')).token;
  });
  afterAll(async () => {
    await h?.cleanup();
  });

  it('stores the exact bytes first; the same bytes twice give the same complaint and one strike', async () => {
    const raw = arf({ sourceIp: '192.0.2.11', recipients: ['victim1@isp.example'], messageId: 'same-bytes@custa1.example.com', originalHeaders: [dkim('custa1.example.com')] });
    const first = await intake().ingest(raw, 'api', 'test');
    expect(first.stored).toBe(true);
    expect(first.complaints).toHaveLength(1);
    expect(first.complaints[0]).toMatchObject({ status: 'valid', accountUsername: 'custa1', domainName: 'custa1.example.com', resellerUsername: 'resa', attribution: 'medium', serverName: 'srv1.example.net' });
    const stored = await h.db('complaint_messages').where('id', first.messageId).first();
    expect(Buffer.from(stored.raw as Uint8Array).equals(raw)).toBe(true);
    const again = await intake().ingest(raw, 'cli', 'test');
    expect(again).toMatchObject({ stored: false, messageId: first.messageId });
    expect(again.complaints.map((c) => c.id)).toEqual(first.complaints.map((c) => c.id));
    expect(await h.db('strikes').where('complaint_id', first.complaints[0]!.id)).toHaveLength(1);
  });

  it('refuses an oversized or empty message with a clear error and stores nothing', async () => {
    const before = ((await h.db('complaint_messages').count({ n: '*' }).first())!.n as number).toString();
    const big = Buffer.alloc(10 * 1024 * 1024 + 1, 0x61);
    await expect(intake().ingest(big, 'api', 'test')).rejects.toMatchObject({ status: 413, message: expect.stringContaining('the limit is 10.0 MB (COMPLAINT_MAX_MB)') as unknown as string });
    await expect(intake().ingest(Buffer.from('\r\n \n'), 'api', 'test')).rejects.toMatchObject({ status: 422 });
    expect(((await h.db('complaint_messages').count({ n: '*' }).first())!.n as number).toString()).toBe(before);
  });

  it('classifies every fixture; non-complaints are never charged; unparseable mail is kept as unparsed', async () => {
    const expectations: Record<string, { status: string; count?: number }> = {
      '03': { status: 'unattributed' },
      '08': { status: 'unattributed', count: 7 },
      '11': { status: 'not_complaint' },
      '12': { status: 'not_complaint' },
      '14': { status: 'not_complaint' },
    };
    for (const name of arfFixtureNames()) {
      const outcome = await intake().ingest(arfFixture(name.slice(0, 2)), 'upload', 'test');
      expect(outcome.complaints.length, name).toBeGreaterThan(0);
      const want = expectations[name.slice(0, 2)];
      if (want) {
        expect(outcome.complaints[0]!.status, name).toBe(want.status);
        if (want.count) expect(outcome.complaints, name).toHaveLength(want.count);
      }
      for (const c of outcome.complaints) expect(['valid', 'invalid'].includes(c.status) && !c.accountId, name).toBe(false);
    }
    const garbage = await intake().ingest(Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x02, 0x9c, 0x80]), 'api', 'test');
    expect(garbage.complaints[0]).toMatchObject({ status: 'unparsed' });
    expect(garbage.complaints[0]!.decisionReason).toMatch(/^Could not be parsed: ./);
    expect(await h.db('complaint_messages').where('id', garbage.messageId).first()).toMatchObject({ parse_status: 'unparsed' });
  });

  it('attributes by the panel\'s authenticated-sender headers (high), and lowers confidence for mail not from our servers', async () => {
    const viaPanel = await intake().ingest(
      arf({ sourceIp: '192.0.2.22', recipients: ['v2@isp.example'], messageId: 'antiabuse@x', originalHeaders: ['X-AntiAbuse: Sender Address Domain - custb1.example.com', 'X-Get-Message-Sender-Via: srv2.example.net: authenticated_id: info@custb1.example.com'] }),
      'api',
      'test',
    );
    expect(viaPanel.complaints[0]).toMatchObject({ attribution: 'high', accountUsername: 'custb1', resellerUsername: 'resb', status: 'valid' });
    const forged = await intake().ingest(arf({ sourceIp: '203.0.113.99', recipients: ['v3@isp.example'], messageId: 'forged@x', originalHeaders: [dkim('custc.example.com')] }), 'api', 'test');
    expect(forged.complaints[0]).toMatchObject({ attribution: 'low', accountUsername: 'custc', status: 'review' });
    expect(forged.complaints[0]!.attributionReason).toContain('possibly forged');
    const wrongServer = await intake().ingest(arf({ sourceIp: '192.0.2.11', recipients: ['v4@isp.example'], messageId: 'wrongserver@x', originalHeaders: [dkim('custc.example.com')] }), 'api', 'test');
    expect(wrongServer.complaints[0]).toMatchObject({ attribution: 'low', status: 'review' });
  });

  it('judges against consent in force at arrival: a confirmed record makes it invalid, none makes it valid', async () => {
    const actor = h.f.actors.customerA1;
    const listId = await h.container.consent.createList(actor, { name: 'News', domainId: h.f.domains.a1.main!, doubleOptIn: false, text: 'News please' });
    await h.container.consent.addRecord(actor, listId, { email: 'fan@isp.example', status: 'confirmed', method: 'web_form', consentedAt: new Date('2026-09-01T00:00:00Z') });
    const recordId = await h.container.consent.addRecord(actor, listId, { email: 'later@isp.example', status: 'confirmed', method: 'web_form', consentedAt: new Date('2026-09-01T00:00:00Z') });
    // Revoked after the mail arrived (often by the complaint itself): the permission held when it was sent.
    await h.container.consent.revokeRecord(actor, recordId, 'complaint');
    const report = arf({ sourceIp: '192.0.2.11', recipients: ['fan@isp.example', 'later@isp.example', 'stranger@isp.example'], messageId: 'consent@x', originalHeaders: [dkim('custa1.example.com')] });
    const outcome = await intake().ingest(report, 'api', 'test');
    expect(outcome.complaints.map((c) => [c.recipient, c.status])).toEqual([
      ['fan@isp.example', 'invalid'],
      ['later@isp.example', 'invalid'],
      ['stranger@isp.example', 'valid'],
    ]);
    expect(outcome.complaints[0]!.decisionReason).toContain('Consent record #');
    expect(outcome.complaints[2]!.decisionReason).toContain('no record means no permission');
  });

  it('counts each recipient once across reports and channels (duplicates link to the first)', async () => {
    const one = await intake().ingest(arf({ sourceIp: '192.0.2.11', recipients: ['d1@isp.example', 'd2@isp.example'], messageId: 'dup@x', originalHeaders: [dkim('custa1.example.com')] }), 'api', 'test');
    const strikes = await strikesOf(h.f.accounts.a1);
    const other = await intake().ingest(arf({ sourceIp: '192.0.2.11', recipients: ['D2@isp.example', 'd3@isp.example'], messageId: 'dup@x', originalHeaders: [dkim('custa1.example.com')] }), 'upload', 'test');
    expect(other.complaints.map((c) => [c.status, c.duplicateOf])).toEqual([
      ['duplicate', one.complaints[1]!.id],
      ['valid', null],
    ]);
    expect(await strikesOf(h.f.accounts.a1)).toBe(strikes + 1);
  });

  it('lets an admin assign an unattributed complaint and decide any case with a reason; both are audited and strikes follow', async () => {
    const outcome = await intake().ingest(arf({ sourceIp: '198.51.100.1', recipients: ['x@isp.example'], messageId: 'unknown@x' }), 'api', 'test');
    const id = outcome.complaints[0]!.id;
    expect(outcome.complaints[0]!.status).toBe('unattributed');
    const admin = h.f.actors.admin;
    await expect(svc().assign(admin, id, { username: 'nobody', reason: 'checked the logs' })).rejects.toMatchObject({ status: 422 });
    const assigned = await svc().assign(admin, id, { username: 'custc', domain: 'custc.example.com', reason: 'exim log shows custc sent it' });
    expect(assigned).toMatchObject({ status: 'valid', accountUsername: 'custc', attribution: 'high' });
    expect(await h.db('strikes').where('complaint_id', id).whereNull('lifted_at')).toHaveLength(1);
    await svc().decide(admin, id, 'invalid', 'The recipient showed a signed paper form.');
    expect((await svc().get(admin, id)).complaint).toMatchObject({ status: 'invalid', decidedBy: admin.login });
    expect((await h.db('strikes').where('complaint_id', id).first()).lifted_at).not.toBeNull();
    const audit = (await h.db('audit_log').where('subject_type', 'complaint').andWhere('subject_id', String(id)).orderBy('seq')) as Array<{ action: string }>;
    expect(audit.map((a) => a.action)).toEqual(['complaint.assign', 'complaint.decide']);
    await expect(svc().decide(h.f.actors.customerA1, id, 'valid', 'I want to')).rejects.toMatchObject({ status: 403 });
  });

  it('answers the API with the complaint as JSON, for admin tokens and message/rfc822 only', async () => {
    const raw = arf({ sourceIp: '192.0.2.22', recipients: ['api@isp.example'], messageId: 'api@x', originalHeaders: [dkim('custb1.example.com')] });
    const res = await request(h.app).post('/api/v1/complaints').set('Authorization', `Bearer ${adminToken}`).set('Content-Type', 'message/rfc822').send(raw);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'valid', feedbackType: 'abuse', account: 'custb1', domain: 'custb1.example.com', reseller: 'resb', duplicateOf: null, stored: true });
    const again = await request(h.app).post('/api/v1/complaints').set('Authorization', `Bearer ${adminToken}`).set('Content-Type', 'message/rfc822').send(raw);
    expect(again.body).toMatchObject({ id: res.body.id, stored: false });
    const json = await request(h.app).post('/api/v1/complaints').set('Authorization', `Bearer ${adminToken}`).send({ message: 'x' });
    expect(json.status).toBe(415);
    const big = await request(h.app).post('/api/v1/complaints').set('Authorization', `Bearer ${adminToken}`).set('Content-Type', 'message/rfc822').send(Buffer.alloc(10 * 1024 * 1024 + 10, 0x61));
    expect(big.status).toBe(413);
    expect(big.body.error.message).toContain('COMPLAINT_MAX_MB');
    const doc = await request(h.app).get('/api/v1/openapi.json');
    expect(doc.body.paths['/complaints'].post.requestBody.content['message/rfc822']).toBeDefined();
  });

  it('admin pages: the queue, a complaint with its evidence, upload of several .eml files, and manual entry', async () => {
    const admin = await loginAs(h.app, h.f.logins.admin, h.f.password);
    const list = await admin.agent.get('/admin/complaints?status=unattributed');
    expect(list.status).toBe(200);
    expect(list.text).toContain('data-testid="complaints-table"');
    const csrf = await admin.csrf('/admin/complaints/upload');
    const upload = await admin.agent
      .post(`/admin/complaints/upload?_csrf=${encodeURIComponent(csrf)}`)
      .attach('files', arfFixture('05'), '05.eml')
      .attach('files', arf({ sourceIp: '192.0.2.11', recipients: ['up@isp.example'], messageId: 'upload@x', originalHeaders: [dkim('custa1.example.com')] }), 'new.eml');
    expect(upload.status).toBe(200);
    expect(upload.text).toContain('data-testid="upload-results"');
    expect(upload.text).toContain('(already stored)');
    const manual = await admin.agent.post('/admin/complaints').type('form').send({ _csrf: csrf, feedbackType: 'abuse', reporter: 'Jane (phone)', recipient: 'jane@isp.example', sendingDomain: 'custa1.example.com', sourceIp: '192.0.2.11', arrivedAt: '2026-10-02T08:00', subject: 'Cheap pills', notes: 'Called our support line about repeated mail.' });
    expect(manual.status).toBe(302);
    const shown = await admin.agent.get(String(manual.headers.location));
    expect(shown.text).toContain('custa1');
    const id = Number(/\/admin\/complaints\/(\d+)/.exec(String(manual.headers.location))![1]);
    const raw = await admin.agent.get(`/admin/complaints/${id}/raw`);
    expect(raw.status).toBe(200);
    expect(raw.headers['content-type']).toContain('message/rfc822');
    const bad = await admin.agent.post('/admin/complaints').type('form').send({ _csrf: csrf, feedbackType: 'abuse', reporter: '', arrivedAt: 'yesterday', notes: '' });
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('reporter');
    const customer = await loginAs(h.app, h.f.logins.customerA1, h.f.password);
    expect((await customer.agent.get('/admin/complaints')).status).toBe(403);
    // The account page lists its strikes, each linked to its complaint.
    const account = await admin.agent.get(`/admin/accounts/${h.f.accounts.a1}`);
    expect(account.text).toContain('data-testid="strikes"');
    expect(account.text).toMatch(/href="\/admin\/complaints\/\d+">complaint #\d+<\/a>/);
  });

  it('the CLI reads one message on stdin and prints one line', async () => {
    const raw = arf({ sourceIp: '192.0.2.22', recipients: ['cli@isp.example'], messageId: 'cli@x', originalHeaders: [dkim('custb1.example.com')] });
    const out = await runCli(['complaints', 'ingest'], { DATABASE_URL: h.t.config.client === 'sqlite' ? `sqlite:${h.t.config.filename}` : h.t.config.url }, raw);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toMatch(/^stored: complaint #\d+ status valid feedback abuse account custb1 domain custb1\.example\.com reseller resb\n$/);
  });
  // Last: it moves the clock a week ahead (sign-in sessions of later tests would already be expired).
  it('gives redacted recipients an evidence deadline, after which the complaint becomes valid', async () => {
    const outcome = await intake().ingest(arf({ sourceIp: '192.0.2.22', messageId: 'redacted@x', originalHeaders: [dkim('custb1.example.com')] }), 'api', 'test');
    const c = outcome.complaints[0]!;
    expect(c).toMatchObject({ status: 'awaiting_evidence', recipientRedaction: 'redacted' });
    expect(c.evidenceDueAt!.getTime() - h.clock.now().getTime()).toBe(7 * 86_400_000);
    h.clock.advance(7 * 86_400_000 + 1000);
    const run = await h.container.complaintHousekeeping('manual');
    expect(run.ran).toBe(true);
    expect((await svc().get(h.f.actors.admin, c.id)).complaint).toMatchObject({ status: 'valid', decidedBy: 'system' });
    expect(await h.db('strikes').where('complaint_id', c.id).whereNull('lifted_at')).toHaveLength(1);
  });
});
