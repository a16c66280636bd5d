import { expect, test } from '@playwright/test';
import { accountIdViaAdmin, columnTexts, fleet, loginAs, saveScreenshot, users } from './helpers';

const own = fleet.domainsOf('bluefin');
const others = fleet.accounts.filter((a) => a.username !== 'bluefin').flatMap((a) => a.domains.map((d) => d.name));

test.describe('customer bluefin (cPanel context)', () => {
  test('home shows its account and only its own domains', async ({ page }, testInfo) => {
    await loginAs(page, users.bluefin);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Your domains');
    await expect(page.locator('dl.facts')).toContainText('bluefin on');
    const names = (await columnTexts(page.getByTestId('domains-table'), 0)).sort();
    expect(names).toEqual(own);
    await expect(page.getByRole('heading', { name: `Domains (${own.length})` })).toBeVisible();
    await saveScreenshot(page, testInfo, 'customer-home');
  });

  test("domains page lists its own domains and no other customer's", async ({ page }) => {
    await loginAs(page, users.bluefin);
    await page.getByRole('navigation', { name: /navigation/ }).getByRole('link', { name: 'Domains' }).click();
    await expect(page).toHaveURL(/\/customer\/domains$/);
    const names = (await columnTexts(page.getByTestId('domains-table'), 0)).sort();
    expect(names).toEqual(own);
    const body = await page.locator('main').innerText();
    for (const d of ['coralreef.net', 'eastwind.io', 'driftwood.org']) {
      expect(others).toContain(d);
      expect(body).not.toContain(d);
    }
    // A search for another customer's domain finds nothing.
    await page.goto('/customer/domains?q=coralreef');
    await expect(page.getByTestId('empty')).toBeVisible();
    await expect(page.getByTestId('domains-table')).toHaveCount(0);
  });

  test("another account's domains cannot be reached by id", async ({ page }) => {
    await loginAs(page, users.admin);
    const coralreef = await accountIdViaAdmin(page, 'coralreef');
    await page.context().clearCookies();

    await loginAs(page, users.bluefin);
    const res = await page.goto(`/customer/domains?account=${coralreef}`);
    expect(res?.status()).toBe(404);
    await expect(page.locator('main')).not.toContainText('coralreef');
  });

  test('the admin and reseller areas answer 403', async ({ page }) => {
    await loginAs(page, users.bluefin);
    for (const path of ['/admin', '/admin/accounts', '/reseller']) {
      const res = await page.goto(path);
      expect(res?.status(), path).toBe(403);
      await expect(page.getByRole('heading', { level: 1 })).toHaveText('Not allowed');
      await expect(page.getByTestId('error-message')).toContainText('signed in as a customer');
      // Still in the customer's own context, not leaked into another one.
      await expect(page.getByTestId('context')).toHaveText(users.bluefin.context);
    }
  });

  test("accepts the policy, and reseller1's acceptance table then shows bluefin as current", async ({ page, browser }, testInfo) => {
    await loginAs(page, users.bluefin);
    // A retry (or --repeat-each) runs against the same database: the acceptance may already be recorded.
    const firstAttempt = testInfo.retry === 0 && testInfo.repeatEachIndex === 0;

    if (firstAttempt) {
      await expect(page.getByTestId('policy-reminder')).toBeVisible();
      await page.getByTestId('policy-reminder').getByRole('link', { name: 'Read and accept it' }).click();
    } else {
      await page.goto('/customer/policy');
    }
    await expect(page).toHaveURL(/\/customer\/policy$/);
    await expect(page.getByTestId('policy-text')).toBeVisible();

    if (firstAttempt || (await page.getByTestId('accepted').count()) === 0) {
      const accept = page.getByRole('button', { name: /^Accept version \d+$/ });
      const version = (await accept.innerText()).replace(/\D+/g, '');
      await page.getByRole('checkbox', { name: /I have read version/ }).check();
      await accept.click();
      await expect(page).toHaveURL(/\/customer\/policy$/);
      await expect(page.getByRole('status').filter({ hasText: `Thank you. Your acceptance of version ${version} is recorded.` })).toBeVisible();
    }
    await expect(page.getByTestId('accepted')).toBeVisible();
    await expect(page.getByRole('button', { name: /^Accept version/ })).toHaveCount(0);

    // The home page no longer asks for acceptance.
    await page.goto('/customer');
    await expect(page.getByTestId('policy-reminder')).toHaveCount(0);

    // reseller1, in its own browser session, sees the acceptance.
    const resellerContext = await browser.newContext();
    try {
      const reseller = await resellerContext.newPage();
      await loginAs(reseller, users.reseller1);
      await reseller.getByRole('navigation', { name: /navigation/ }).getByRole('link', { name: 'Policy' }).click();
      await expect(reseller).toHaveURL(/\/reseller\/policy$/);
      const row = reseller.getByTestId('acceptance-table').locator('tbody tr').filter({ has: reseller.locator('td:first-child', { hasText: /^bluefin$/ }) });
      await expect(row).toHaveCount(1);
      await expect(row.locator('td').nth(2)).toContainText('current');

      await reseller.goto('/reseller/policy?state=current');
      const current = await columnTexts(reseller.getByTestId('acceptance-table'), 0);
      expect(current).toContain('bluefin');
    } finally {
      await resellerContext.close();
    }
  });
});
