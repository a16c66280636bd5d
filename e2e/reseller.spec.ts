import { expect, test } from '@playwright/test';
import { accountIdViaAdmin, columnTexts, fleet, loginAs, logout, saveScreenshot, usernamesIn, users } from './helpers';

const ownScope = fleet.accountsUnder('reseller1');
const nestedCustomers = fleet.accountsUnder('reseller3');

test.describe('reseller1 (reseller context)', () => {
  test('the fleet has what these tests rely on', () => {
    // reseller3 is nested under reseller1 and has customers of its own; coralreef and eastwind are outside.
    expect(ownScope).toContain('bluefin');
    expect(ownScope).toContain('reseller3');
    expect(nestedCustomers.length).toBeGreaterThan(0);
    expect(ownScope).not.toContain('coralreef');
    expect(ownScope).not.toContain('eastwind');
  });

  test('home shows its own customers only', async ({ page }, testInfo) => {
    await loginAs(page, users.reseller1);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Your customers');
    await expect(page.getByTestId('reseller-summary').locator('.stat').first()).toHaveText(String(ownScope.length));
    const shown = await usernamesIn(page.getByTestId('customers-table'));
    expect(shown.length).toBeGreaterThan(0);
    for (const name of shown) expect(ownScope, `${name} belongs to reseller1`).toContain(name);
    await saveScreenshot(page, testInfo, 'reseller-home');
  });

  test('customers page lists its customers and those of nested reseller3, but not coralreef nor eastwind', async ({ page }) => {
    await loginAs(page, users.reseller1);
    await page.getByRole('navigation', { name: /navigation/ }).getByRole('link', { name: 'Customers' }).click();
    await expect(page).toHaveURL(/\/reseller\/customers$/);
    const shown = (await usernamesIn(page.getByTestId('accounts-table'))).sort();
    expect(shown).toEqual(ownScope);
    for (const nested of nestedCustomers) expect(shown).toContain(nested);
    expect(shown).not.toContain('coralreef');
    expect(shown).not.toContain('eastwind');
    expect(shown).not.toContain('reseller1');
    expect(shown).not.toContain('reseller2');

    // Searching for an account outside the scope finds nothing.
    await page.goto('/reseller/customers?q=coralreef');
    await expect(page.getByTestId('empty')).toBeVisible();
    await expect(page.getByTestId('accounts-table')).toHaveCount(0);
  });

  test('domains page lists only domains of its own accounts (its own and those below it)', async ({ page }) => {
    await loginAs(page, users.reseller1);
    await page.goto('/reseller/domains?limit=200');
    const table = page.getByTestId('domains-table');
    const owners = new Set(await columnTexts(table, 3));
    const visible = ['reseller1', ...ownScope];
    for (const owner of owners) expect(visible, `domain owner ${owner}`).toContain(owner);
    const expectedCount = visible.flatMap((u) => fleet.domainsOf(u)).length;
    await expect(page.getByTestId('count')).toHaveText(`Showing ${expectedCount} of ${expectedCount}`);
    const names = await columnTexts(table, 0);
    for (const d of fleet.domainsOf('bluefin')) expect(names).toContain(d);
    for (const d of [...fleet.domainsOf('coralreef'), ...fleet.domainsOf('eastwind')]) expect(names).not.toContain(d);
  });

  test("another reseller's customer and the provider's own customer answer 404", async ({ page }) => {
    await loginAs(page, users.admin);
    const coralreef = await accountIdViaAdmin(page, 'coralreef');
    const eastwind = await accountIdViaAdmin(page, 'eastwind');
    const bluefin = await accountIdViaAdmin(page, 'bluefin');
    await logout(page);

    await loginAs(page, users.reseller1);
    // Positive control: its own customer opens.
    const own = await page.goto(`/reseller/customers/${bluefin}`);
    expect(own?.status()).toBe(200);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('bluefin');

    for (const [name, id] of [['coralreef', coralreef], ['eastwind', eastwind]] as const) {
      const res = await page.goto(`/reseller/customers/${id}`);
      expect(res?.status(), `/reseller/customers/${id} (${name})`).toBe(404);
      await expect(page.getByRole('heading', { level: 1 })).toHaveText('Not found');
      await expect(page.getByTestId('error-message')).toBeVisible();
      await expect(page.locator('body')).not.toContainText(name);
      // Nor through the domain filter.
      const domains = await page.goto(`/reseller/domains?account=${id}`);
      expect(domains?.status(), `/reseller/domains?account=${id} (${name})`).toBe(404);
    }
  });

  test('creates an API token (shown once) and revokes it after confirming', async ({ page }) => {
    await loginAs(page, users.reseller1);
    await page.getByRole('navigation', { name: /navigation/ }).getByRole('link', { name: 'API tokens' }).click();
    await expect(page).toHaveURL(/\/reseller\/settings\/tokens$/);

    const name = `e2e billing ${Date.now()}`;
    await page.getByLabel('Token name').fill(name);
    await page.getByRole('button', { name: 'Create token' }).click();
    await expect(page).toHaveURL(/\/reseller\/settings\/tokens$/);
    await expect(page.getByRole('status').filter({ hasText: `Token "${name}" created` })).toBeVisible();
    const token = (await page.getByTestId('new-token').innerText()).trim();
    expect(token.length).toBeGreaterThanOrEqual(20);

    const row = page.getByTestId('tokens-table').locator('tbody tr').filter({ hasText: name });
    await expect(row).toHaveCount(1);
    await expect(row).toContainText('active');
    const prefix = (await row.locator('code').innerText()).replace(/…$/, '');
    expect(token.startsWith(prefix)).toBe(true);

    // The token works on the API while active.
    const before = await page.request.get('/api/v1/accounts', { headers: { Authorization: `Bearer ${token}` } });
    expect(before.status()).toBe(200);

    // Shown only once: a reload no longer reveals it.
    await page.reload();
    await expect(page.getByTestId('new-token')).toHaveCount(0);
    await expect(page.locator('body')).not.toContainText(token);

    // Revoke goes through a confirmation page; nothing changes until it is confirmed.
    await row.getByRole('link', { name: 'Revoke…' }).click();
    await expect(page).toHaveURL(/\/reseller\/settings\/tokens\/\d+\/revoke$/);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(`Revoke "${name}"?`);
    await page.getByRole('link', { name: 'Keep it' }).click();
    await expect(page).toHaveURL(/\/reseller\/settings\/tokens$/);
    await expect(row).toContainText('active');

    await row.getByRole('link', { name: 'Revoke…' }).click();
    await page.getByRole('button', { name: 'Revoke the token' }).click();
    await expect(page).toHaveURL(/\/reseller\/settings\/tokens$/);
    await expect(page.getByRole('status').filter({ hasText: `Token "${name}" is revoked` })).toBeVisible();
    await expect(row).toContainText('revoked');
    await expect(row.getByRole('link', { name: 'Revoke…' })).toHaveCount(0);

    const after = await page.request.get('/api/v1/accounts', { headers: { Authorization: `Bearer ${token}` } });
    expect(after.status()).toBe(401);
  });
});
