import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toDbTime } from '../db/dialect';
import { loginAs, unescapeHtml, type LoggedIn } from '../testing/appHarness';
import { engines } from '../testing/testDb';
import { startPostmasterRig, type PostmasterRig } from './pageTestRig';

/**
 * Customer → Postmaster against a simulated WHM server over HTTP: plain words per domain, check now,
 * the one-click fix creating the forwarder or mailbox in the panel, refusals shown as messages, the
 * history with its evidence, and tenancy (another account's domain is a 404).
 */
describe.each(engines)('customer postmaster pages on %s', { timeout: 120_000 }, (engine) => {
  let rig: PostmasterRig;
  let customer: LoggedIn;
  let noContact: LoggedIn;
  const ids: Record<string, number> = {};

  const post = async (session: LoggedIn, path: string, form: Record<string, string> = {}) => session.agent.post(path).type('form').send({ _csrf: await session.csrf('/customer/postmaster'), ...form });
  const follow = (session: LoggedIn, res: { headers: Record<string, string> }) => session.agent.get(String(res.headers.location));
  const status = async (name: string) => (await rig.h.db('postmaster_status').where('domain_id', ids[name]!).first()) as Record<string, unknown> | undefined;

  beforeAll(async () => {
    rig = await startPostmasterRig(engine);
    for (const name of ['pmcust.test', 'ok-pmcust.test', 'hole-pmcust.test', 'pmnocontact.test', 'pmroot.test', 'pmres.test']) ids[name] = await rig.domainId(name);
    ids['custa1.example.com'] = rig.h.f.domains.a1.main!;
    await rig.user('pmcust', 'customer', 'pmcust');
    await rig.user('pmnocontact', 'customer', 'pmnocontact');
    customer = await loginAs(rig.h.app, 'pmcust', rig.h.f.password);
    noContact = await loginAs(rig.h.app, 'pmnocontact', rig.h.f.password);
  });
  afterAll(async () => {
    await rig?.close();
  });

  it('lists only the account\'s own mail domains, "not checked yet" before any check, with the navigation entry and why postmaster@ matters', async () => {
    const page = await customer.agent.get('/customer/postmaster');
    expect(page.status).toBe(200);
    expect(page.text).toContain('aria-current="page" href="/customer/postmaster">Postmaster</a>');
    expect(page.text).toContain('data-testid="postmaster-why"');
    expect(page.text).toContain('RFC 5321');
    for (const name of ['pmcust.test', 'ok-pmcust.test', 'hole-pmcust.test']) expect(page.text).toContain(`data-domain="${name}"`);
    for (const name of ['pmroot.test', 'pmnocontact.test', 'pmres.test', 'custa1.example.com']) expect(page.text).not.toContain(name);
    expect(page.text).toContain('not checked yet');
    expect(page.text).toContain('Showing 3 of 3');
  });

  it('another account\'s domain is a 404 for every page and action; nothing is created in its panel', async () => {
    for (const name of ['pmroot.test', 'pmnocontact.test', 'custa1.example.com']) {
      expect((await customer.agent.get(`/customer/postmaster/${ids[name]}`)).status, name).toBe(404);
      expect((await post(customer, `/customer/postmaster/${ids[name]}/check`)).status, name).toBe(404);
      expect((await post(customer, `/customer/postmaster/${ids[name]}/fix`, { mode: 'forwarder' })).status, name).toBe(404);
      expect((await post(customer, `/customer/postmaster/${ids[name]}/verify`)).status, name).toBe(404);
    }
    expect(rig.sim.state.account('pmroot')!.mailboxes).not.toContain('postmaster@pmroot.test');
    expect(await rig.h.db('postmaster_checks').whereIn('domain_id', [ids['pmroot.test']!, ids['pmnocontact.test']!])).toHaveLength(0);
  });

  it('"Check now" shows the verdict in plain words and offers the fix for a missing domain only', async () => {
    const res = await post(customer, `/customer/postmaster/${ids['pmcust.test']}/check`, { back: '/customer/postmaster' });
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe('/customer/postmaster');
    const page = unescapeHtml((await follow(customer, res)).text);
    expect(page).toContain('Checked pmcust.test just now: missing: mail to postmaster@pmcust.test bounces');
    await post(customer, `/customer/postmaster/${ids['ok-pmcust.test']}/check`);
    const list = unescapeHtml((await customer.agent.get('/customer/postmaster')).text);
    expect(list).toContain('postmaster@ok-pmcust.test works (not yet confirmed as read)');
    expect(list).toContain('data-testid="needs-attention"');
    const row = (name: string) => list.slice(list.indexOf(`data-domain="${name}"`), list.indexOf('</tr>', list.indexOf(`data-domain="${name}"`)));
    expect(row('pmcust.test')).toContain('Forward postmaster@ to owner@pmcust.test');
    expect(row('pmcust.test')).toContain('Create a postmaster@ mailbox');
    expect(row('ok-pmcust.test')).not.toContain('data-testid="fix-forwarder"');
    expect(row('ok-pmcust.test')).toContain('data-verdict="ok"');
    // An outside "back" address is ignored: the browser goes to the domain's own page.
    const outside = await post(customer, `/customer/postmaster/${ids['ok-pmcust.test']}/check`, { back: 'https://evil.example/' });
    expect(outside.headers.location).toBe(`/customer/postmaster/${ids['ok-pmcust.test']}`);
  });

  it('fixes a missing domain with a forwarder to the contact address through the panel, re-checks at once and audits it', async () => {
    const res = await post(customer, `/customer/postmaster/${ids['pmcust.test']}/fix`, { mode: 'forwarder', back: '/customer/postmaster' });
    expect(res.status).toBe(302);
    const page = unescapeHtml((await follow(customer, res)).text);
    expect(page).toContain('Created a forwarder from postmaster@pmcust.test to owner@pmcust.test.');
    expect(page).toContain('Checked pmcust.test just now: postmaster@pmcust.test works.');
    expect(rig.sim.state.account('pmcust')!.forwarders).toEqual(expect.arrayContaining([expect.objectContaining({ from: 'postmaster@pmcust.test', to: 'owner@pmcust.test' })]));
    expect(await status('pmcust.test')).toMatchObject({ verdict: 'ok' });
    const checks = await rig.h.db('postmaster_checks').where('domain_id', ids['pmcust.test']!).orderBy('id');
    expect(checks.map((c: { trigger: string }) => c.trigger)).toEqual(['manual', 'fix']);
    expect(await rig.h.db('audit_log').where({ action: 'postmaster.fix', subject_id: String(ids['pmcust.test']) })).toHaveLength(1);
  });

  it('creates a mailbox for an undeliverable domain and shows its password once, stored nowhere', async () => {
    await post(customer, `/customer/postmaster/${ids['hole-pmcust.test']}/check`);
    expect(await status('hole-pmcust.test')).toMatchObject({ verdict: 'undeliverable' });
    const res = await post(customer, `/customer/postmaster/${ids['hole-pmcust.test']}/fix`, { mode: 'mailbox' });
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.text).toContain('data-testid="mailbox-password"');
    expect(res.text).toContain('shown only this once');
    const password = /data-testid="password">([^<]+)</.exec(res.text)![1]!;
    expect(password.length).toBeGreaterThanOrEqual(12);
    expect(unescapeHtml(res.text)).toContain('postmaster@hole-pmcust.test works');
    expect(rig.sim.state.account('pmcust')!.mailboxes).toContain('postmaster@hole-pmcust.test');
    const stored = JSON.stringify([await rig.h.db('audit_log').select('data'), await rig.h.db('postmaster_checks').select('evidence', 'reason'), await rig.h.db('sessions')]);
    expect(stored).not.toContain(password);
    // The next page does not show it again.
    expect((await customer.agent.get(`/customer/postmaster/${ids['hole-pmcust.test']}`)).text).not.toContain(password);
  });

  it('explains refusals instead of failing: no contact address (422), the panel refusing (502), a bad mode (422)', async () => {
    const noAddress = await post(noContact, `/customer/postmaster/${ids['pmnocontact.test']}/fix`, { mode: 'forwarder' });
    expect(noAddress.status).toBe(422);
    expect(unescapeHtml(noAddress.text)).toContain('the account has no contact address to forward to');
    const page = await noContact.agent.get('/customer/postmaster');
    expect(page.text).not.toContain('data-testid="fix-forwarder"'); // not checked yet: no fix offered at all
    await post(noContact, `/customer/postmaster/${ids['pmnocontact.test']}/check`);
    const checked = unescapeHtml((await noContact.agent.get('/customer/postmaster')).text);
    expect(checked).toContain('data-testid="fix-mailbox"');
    expect(checked).not.toContain('data-testid="fix-forwarder"');
    expect(checked).toContain('Your account has no contact address');

    rig.sim.knobs.failFunctions.add('Email::add_pop');
    try {
      const refused = await post(noContact, `/customer/postmaster/${ids['pmnocontact.test']}/fix`, { mode: 'mailbox' });
      expect(refused.status).toBe(502);
      expect(unescapeHtml(refused.text)).toContain('The control panel did not create the address');
      expect(refused.text).toContain('data-testid="problem"');
    } finally {
      rig.sim.knobs.failFunctions.delete('Email::add_pop');
    }
    expect(await status('pmnocontact.test')).toMatchObject({ verdict: 'missing' });
    const bad = await post(noContact, `/customer/postmaster/${ids['pmnocontact.test']}/fix`, { mode: 'teleport' });
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('expects forwarder or mailbox');
  });

  it('the domain page shows the facts and the history of checks with their evidence', async () => {
    const page = unescapeHtml((await customer.agent.get(`/customer/postmaster/${ids['pmcust.test']}`)).text);
    expect(page).toContain('data-testid="domain-facts"');
    expect(page).toContain('postmaster@pmcust.test works (not yet confirmed as read)');
    expect(page).toContain('data-testid="history"');
    expect(page).toContain('after a fix');
    expect(page).toContain('checked on request');
    expect(page).toContain('forwarder → <code>owner@pmcust.test</code>');
    expect(page).toContain('default address: :fail: No Such User Here');
    expect(page).toContain('not probed');
  });

  it('a verification mail on request; its link: GET changes nothing, POST confirms, then "already confirmed"; unknown links say only "not valid"', async () => {
    const sent = await post(customer, `/customer/postmaster/${ids['ok-pmcust.test']}/verify`);
    expect(sent.status).toBe(302);
    expect(unescapeHtml((await follow(customer, sent)).text)).toContain('A verification mail went to postmaster@ok-pmcust.test');
    const again = await post(customer, `/customer/postmaster/${ids['ok-pmcust.test']}/verify`);
    expect(again.status).toBe(409);
    expect(again.text).toContain('wait a few minutes');
    const mail = (await rig.h.db('mail_outbox').where({ to_address: 'postmaster@ok-pmcust.test', kind: 'postmaster_verification' }).first()) as { text_body: string };
    const token = /\/postmaster\/confirm\/([A-Za-z0-9_-]+)/.exec(mail.text_body)![1]!;

    const anon = rig.h.app;
    const ask = await request(anon).get(`/postmaster/confirm/${token}`);
    expect(ask.status).toBe(200);
    expect(ask.headers['cache-control']).toBe('no-store');
    expect(ask.text).toContain('Yes, postmaster@ok-pmcust.test is read');
    expect(ask.text).not.toContain('_csrf');
    expect(await status('ok-pmcust.test')).toMatchObject({ read_confirmed_at: null });

    const done = await request(anon).post(`/postmaster/confirm/${token}`);
    expect(done.status).toBe(200);
    expect(done.text).toContain('data-testid="confirm-done"');
    expect((await status('ok-pmcust.test'))!.read_confirmed_at).not.toBeNull();
    const twice = await request(anon).post(`/postmaster/confirm/${token}`);
    expect(twice.text).toContain('data-testid="confirm-already"');
    expect((await request(anon).get(`/postmaster/confirm/${token}`)).text).toContain('was already confirmed as read');

    for (const bogus of ['A'.repeat(32), 'short', 'x'.repeat(300)]) {
      for (const method of ['get', 'post'] as const) {
        const res = await request(anon)[method](`/postmaster/confirm/${bogus}`);
        expect(res.status, `${method} ${bogus}`).toBe(404);
        expect(res.text).toContain('This link is not valid');
        expect(res.text).not.toContain('pmcust');
      }
    }
  });

  it('an unread domain becomes ok once the link is used', async () => {
    // The verification mail went out long ago and its grace period passed: the check says unread.
    const long = toDbTime(new Date(rig.h.clock.now().getTime() - 40 * 86_400_000));
    await rig.h.container.postmasterReads.send(ids['ok-pmcust.test']!, await rig.accountId('pmcust'), 'ok-pmcust.test', 14);
    await rig.h.db('postmaster_status').where('domain_id', ids['ok-pmcust.test']!).update({ read_sent_at: long, read_confirmed_at: null });
    await post(customer, `/customer/postmaster/${ids['ok-pmcust.test']}/check`);
    expect(await status('ok-pmcust.test')).toMatchObject({ verdict: 'unread' });
    const list = unescapeHtml((await customer.agent.get('/customer/postmaster')).text);
    expect(list).toContain('not confirmed as read');
    const mail = (await rig.h.db('mail_outbox').where({ to_address: 'postmaster@ok-pmcust.test' }).orderBy('id', 'desc').first()) as { text_body: string };
    const token = /\/postmaster\/confirm\/([A-Za-z0-9_-]+)/.exec(mail.text_body)![1]!;
    expect((await request(rig.h.app).post(`/postmaster/confirm/${token}`)).status).toBe(200);
    expect(await status('ok-pmcust.test')).toMatchObject({ verdict: 'ok' });
  });
});
