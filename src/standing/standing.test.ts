import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueueNotice } from '../notices/noticeQueue';
import { buildHarness, firstColumn, loginAs, nextHref, type Harness, type LoggedIn } from '../testing/appHarness';
import { insertPanelAction, insertStrike, insertValidComplaint } from '../testing/enforcementRows';
import { createAccount } from '../testing/factories';
import { engines } from '../testing/testDb';

describe.each(engines)('account standing on %s', { timeout: 120_000 }, (engine) => {
  let h: Harness;
  let customerA1: LoggedIn;
  let customerB1: LoggedIn;
  let resellerA: LoggedIn;
  let resellerA2: LoggedIn;
  let resellerB: LoggedIn;
  let complaintA1: number;
  let n = 0;

  const notify = (kind: 'warning' | 'termination_pending' | 'reseller_warning', accountId: number, reason: string, complaintIds: number[] = []) =>
    h.db.transaction((trx) => enqueueNotice(trx, { key: `standing:${++n}`, kind, accountId, reason, complaintIds, createdBy: 'policy-ladder' }, h.clock.now()));

  beforeAll(async () => {
    h = await buildHarness(engine);
    const { accounts, servers, domains } = h.f;
    const now = h.clock.now();
    const earlier = new Date(now.getTime() - 3 * 86_400_000);
    complaintA1 = await insertValidComplaint(h.db, { accountId: accounts.a1, domainId: domains.a1.main, resellerAccountId: accounts.A, recipient: 'victim@isp.example', at: earlier });
    const overturned = await insertValidComplaint(h.db, { accountId: accounts.a1, domainId: domains.a1.main, resellerAccountId: accounts.A, recipient: null, at: earlier });
    await insertStrike(h.db, { accountId: accounts.a1, complaintId: complaintA1, reason: 'Valid complaint: mail to victim@isp.example without consent.', at: earlier });
    await insertStrike(h.db, { accountId: accounts.a1, complaintId: overturned, reason: 'Valid complaint (redacted recipient).', at: earlier, lifted: { at: now, reason: 'Consent evidence accepted on review.' } });
    await h.db('accounts').where('id', accounts.a1).update({ outgoing_mail: 'suspended' });
    await notify('warning', accounts.a1, 'First valid complaint about custa1.', [complaintA1]);
    await notify('termination_pending', accounts.a1, 'Spam again after the warning.', [complaintA1]);
    await insertPanelAction(h.db, { key: 't:1', kind: 'suspend_outgoing_email', serverId: servers.s1, accountId: accounts.a1, username: 'custa1', reason: 'Strike 1: outgoing mail suspended.', status: 'done', at: earlier, doneAt: earlier });
    await insertPanelAction(h.db, { key: 't:2', kind: 'terminate_account', serverId: servers.s1, accountId: accounts.a1, username: 'custa1', reason: 'Strike 2: termination proposed.', status: 'awaiting_approval', at: now });
    await insertPanelAction(h.db, { key: 't:3', kind: 'hold_outgoing_email', serverId: servers.s1, accountId: accounts.a1, username: 'custa1', reason: 'Cancelled by an admin, never happened.', status: 'cancelled', at: now });
    // Another tenant's customer with its own enforcement history.
    await insertStrike(h.db, { accountId: accounts.b1, complaintId: null, reason: 'Manual strike for custb1.', at: now });
    await notify('warning', accounts.b1, 'Secret reason of custb1.');
    await insertPanelAction(h.db, { key: 't:4', kind: 'suspend_account', serverId: servers.s2, accountId: accounts.b1, username: 'custb1', reason: 'Suspension of custb1.', status: 'pending', at: now });
    // A transitive customer of resa (through resa2) with mail on hold; resa's own warning.
    await h.db('accounts').where('id', accounts.a3).update({ outgoing_mail: 'hold' });
    await notify('reseller_warning', accounts.A, 'Your customers collected strikes.', [complaintA1]);

    customerA1 = await loginAs(h.app, h.f.logins.customerA1, h.f.password);
    customerB1 = await loginAs(h.app, h.f.logins.customerB1, h.f.password);
    resellerA = await loginAs(h.app, h.f.logins.resellerA, h.f.password);
    resellerA2 = await loginAs(h.app, h.f.logins.resellerA2, h.f.password);
    resellerB = await loginAs(h.app, h.f.logins.resellerB, h.f.password);
  });
  afterAll(async () => {
    await h?.cleanup();
  });

  it('a customer sees its state in plain words, its strikes with their cases, the notices it received, the actions and how to appeal', async () => {
    const res = await customerA1.agent.get('/customer/standing');
    expect(res.status).toBe(200);
    const page = res.text;
    expect(page).toContain('Your account is active.');
    expect(page).toContain('Outgoing mail is suspended: your messages to outside addresses are refused.');
    expect(page).toContain('1 active strike, 1 lifted');
    expect(page).toContain(`href="/customer/complaints/${complaintA1}"`);
    expect(page).toContain('Valid complaint: mail to victim@isp.example without consent.');
    expect(page).toContain('Consent evidence accepted on review.');
    // Notices: subject, date and the body as mailed.
    expect(page).toContain('Warning: spam from custa1.example.com (custa1) — suspended with a warning');
    expect(page).toContain('Reason: First valid complaint about custa1.');
    expect(page).toContain('Termination proposed for custa1');
    // Actions: cancelled ones are not shown; a termination waiting for approval is the provider's review.
    expect(page).toContain('Suspend outgoing mail');
    expect(page).toContain('Strike 1: outgoing mail suspended.');
    expect(page).toContain('data-testid="termination-review"');
    expect(page).toContain('termination awaiting provider review');
    expect(page).not.toContain('Cancelled by an admin');
    expect(page).toContain('data-testid="standing-appeal"');
    // Nothing of another customer, nor of the reseller's own warning.
    expect(page).not.toContain('custb1');
    expect(page).not.toContain('Your customers collected strikes.');

    const home = await customerA1.agent.get('/customer');
    expect(home.text).toMatch(/data-testid="standing-summary"[^>]*>1 active strike on your account; outgoing mail is suspended\./);
    expect(home.text).toContain('href="/customer/standing"');
  });

  it('a customer without enforcement sees an empty, explained page; another customer sees only its own', async () => {
    const c3 = await loginAs(h.app, h.f.logins.customerA3, h.f.password);
    const page = (await c3.agent.get('/customer/standing')).text;
    expect(page).toContain('Outgoing mail is on hold');
    for (const id of ['no-strikes', 'no-actions', 'no-notices']) expect(page).toContain(`data-testid="${id}"`);
    expect(page).not.toContain('custa1');

    const b1 = (await customerB1.agent.get('/customer/standing')).text;
    expect(b1).toContain('Secret reason of custb1.');
    expect(b1).toContain('Suspension of custb1.');
    expect(b1).not.toContain('custa1');
    // The reseller pages are not the customer's.
    expect((await customerB1.agent.get(`/reseller/customers/${h.f.accounts.a1}/standing`)).status).toBe(403);
  });

  it('a reseller lists its downstream customers with strikes or suspensions, transitively, and filters them', async () => {
    const res = await resellerA.agent.get('/reseller/enforcement');
    expect(res.status).toBe(200);
    // custa2 is suspended (factory), custa1 has a strike and suspended mail, custa3 (under resa2) has mail on hold.
    expect(firstColumn(res.text, 'enforcement-table')).toEqual(['custa1', 'custa2', 'custa3']);
    expect(res.text).toContain('Showing 3 of 3');
    expect(firstColumn((await resellerA.agent.get('/reseller/enforcement?mail=hold')).text, 'enforcement-table')).toEqual(['custa3']);
    expect(firstColumn((await resellerA.agent.get('/reseller/enforcement?status=suspended')).text, 'enforcement-table')).toEqual(['custa2']);
    expect(firstColumn((await resellerA.agent.get('/reseller/enforcement?strikes=1&q=CUSTA')).text, 'enforcement-table')).toEqual(['custa1']);
    expect((await resellerA.agent.get('/reseller/enforcement?strikes=2')).text).toContain('data-testid="empty"');
    const bad = await resellerA.agent.get('/reseller/enforcement?strikes=many');
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('strikes');

    expect(firstColumn((await resellerA2.agent.get('/reseller/enforcement')).text, 'enforcement-table')).toEqual(['custa3']);
    expect(firstColumn((await resellerB.agent.get('/reseller/enforcement')).text, 'enforcement-table')).toEqual(['custb1']);
  });

  it('the list pages by 50', async () => {
    for (let i = 0; i < 52; i++) await createAccount(h.db, { serverId: h.f.servers.s2, username: `held${String(i).padStart(2, '0')}`, ownerAccountId: h.f.accounts.B, outgoingMail: 'hold', clock: h.clock });
    const first = await resellerB.agent.get('/reseller/enforcement');
    const names = firstColumn(first.text, 'enforcement-table');
    expect(names).toHaveLength(50);
    expect(first.text).toContain('Showing 50 of 53');
    const second = await resellerB.agent.get(nextHref(first.text)!);
    expect([...names, ...firstColumn(second.text, 'enforcement-table')]).toEqual(['custb1', ...Array.from({ length: 52 }, (_, i) => `held${String(i).padStart(2, '0')}`)]);
  });

  it('a reseller sees the standing of its customer as the customer does, and a 404 for another reseller’s customer', async () => {
    const res = await resellerA.agent.get(`/reseller/customers/${h.f.accounts.a1}/standing`);
    expect(res.status).toBe(200);
    expect(res.text).toContain('Outgoing mail is suspended: its messages to outside addresses are refused.');
    expect(res.text).toContain(`href="/reseller/complaints/${complaintA1}"`);
    expect(res.text).toContain('Reason: First valid complaint about custa1.');
    expect(res.text).toContain('termination awaiting provider review');
    // Linked from the customer's page.
    expect((await resellerA.agent.get(`/reseller/customers/${h.f.accounts.a1}`)).text).toContain(`href="/reseller/customers/${h.f.accounts.a1}/standing"`);
    // Through the sub-reseller, and its own account with its own warning.
    expect((await resellerA.agent.get(`/reseller/customers/${h.f.accounts.a3}/standing`)).status).toBe(200);
    const own = await resellerA.agent.get(`/reseller/customers/${h.f.accounts.A}/standing`);
    expect(own.text).toContain('Your customers collected strikes.');

    expect((await resellerB.agent.get(`/reseller/customers/${h.f.accounts.a1}/standing`)).status).toBe(404);
    expect((await resellerA2.agent.get(`/reseller/customers/${h.f.accounts.a1}/standing`)).status).toBe(404);
    expect((await resellerA.agent.get(`/reseller/customers/${h.f.accounts.b1}/standing`)).status).toBe(404);
    expect((await resellerA.agent.get(`/reseller/customers/${h.f.accounts.c}/standing`)).status).toBe(404);
    const missing = await resellerB.agent.get(`/reseller/customers/${h.f.accounts.a1}/standing`);
    expect(missing.text).not.toContain('custa1');
  });
});
