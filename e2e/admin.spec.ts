import { expect, test } from '@playwright/test';
import { accountIdViaAdmin, columnTexts, fleet, loginAs, saveScreenshot, usernamesIn, users } from './helpers';

test.describe('admin (WHM context)', () => {
  test.beforeEach(async ({ page }) => {
    await loginAs(page, users.admin);
  });

  test('home shows the whole fleet: every server and every reseller', async ({ page }, testInfo) => {
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Fleet overview');
    const servers = page.getByTestId('servers-table');
    await expect(servers).toBeVisible();
    expect((await columnTexts(servers, 0)).sort()).toEqual([...fleet.servers].sort());
    expect((await usernamesIn(page.getByTestId('resellers-table'))).sort()).toEqual([...fleet.resellers].sort());
    // The summary cards count every account and server.
    const summary = page.getByTestId('fleet-summary');
    await expect(summary.locator('.stat').nth(0)).toHaveText(String(fleet.servers.length));
    await expect(summary.locator('.stat').nth(1)).toHaveText(String(fleet.resellers.length));
    await expect(summary.locator('.stat').nth(2)).toHaveText(String(fleet.accounts.length));

    await saveScreenshot(page, testInfo, 'admin-home');
  });

  test('servers and resellers pages list all of them', async ({ page }) => {
    await page.getByRole('navigation', { name: /navigation/ }).getByRole('link', { name: 'Servers' }).click();
    await expect(page).toHaveURL(/\/admin\/servers$/);
    expect((await columnTexts(page.getByTestId('servers-table'), 0)).sort()).toEqual([...fleet.servers].sort());

    await page.getByRole('navigation', { name: /navigation/ }).getByRole('link', { name: 'Resellers' }).click();
    await expect(page).toHaveURL(/\/admin\/resellers$/);
    const resellers = page.getByTestId('resellers-table');
    expect((await usernamesIn(resellers)).sort()).toEqual([...fleet.resellers].sort());
    // reseller3 is nested under reseller1.
    await expect(resellers.locator('tbody tr').filter({ hasText: 'reseller3' }).locator('td').nth(1)).toHaveText('reseller1');
  });

  test('accounts page lists every account, of every reseller and of the provider', async ({ page }) => {
    await page.goto('/admin/accounts');
    const table = page.getByTestId('accounts-table');
    await expect(table).toBeVisible();
    const all = fleet.accounts.map((a) => a.username).sort();
    expect((await usernamesIn(table)).sort()).toEqual(all);
    await expect(page.getByTestId('count')).toHaveText(`Showing ${all.length} of ${all.length}`);
  });

  test('search finds one account, and its page shows its owner and domains', async ({ page }) => {
    const id = await accountIdViaAdmin(page, 'coralreef');
    await expect(page.getByTestId('count')).toHaveText('Showing 1 of 1');
    await page.getByTestId('accounts-table').getByRole('link', { name: 'coralreef', exact: true }).click();
    await expect(page).toHaveURL(new RegExp(`/admin/accounts/${id}$`));
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('coralreef');
    const facts = page.getByTestId('account-facts');
    await expect(facts.locator('dt', { hasText: 'Owner' }).locator('+ dd')).toHaveText('reseller2');
    expect((await columnTexts(page.getByTestId('domains-table'), 0)).sort()).toEqual(fleet.domainsOf('coralreef'));
  });

  test('domains page covers accounts of every owner', async ({ page }) => {
    for (const username of ['bluefin', 'coralreef', 'eastwind']) {
      await page.goto(`/admin/domains?q=${encodeURIComponent(username)}`);
      const names = await columnTexts(page.getByTestId('domains-table'), 0);
      for (const domain of fleet.domainsOf(username)) expect(names, `admin sees ${domain}`).toContain(domain);
    }
  });
});
