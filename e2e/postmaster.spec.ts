import { expect, test, type Page } from '@playwright/test';
import { demoPassword, escapeRegExp, loginAs, logout, saveScreenshot, submitLogin, users } from './helpers';

/**
 * Postmaster end to end on the embedded demo (simulated panel, SMTP probes off): the admin runs a sweep,
 * a customer sees a domain whose postmaster@ is missing, fixes it in one click (a forwarder created
 * through the simulated WHM server) and sees ok; the reseller's compliance table follows.
 * reseller2 and its customer kestrel are used by no other spec; blog.kestrel.io has no postmaster@ in
 * the demo seed (its default address fails), so its mail to postmaster@ bounces.
 */
const reseller = { login: 'reseller2', home: '/reseller', context: 'Reseller' };
const customer = { login: 'kestrel', home: '/customer', context: 'Customer · cPanel' };
const domain = 'blog.kestrel.io';
const contact = 'owner@kestrel.io';

async function signIn(page: Page, user: { login: string; home: string; context: string }): Promise<void> {
  await page.goto('/login');
  await submitLogin(page, user.login, demoPassword());
  await expect(page).toHaveURL(new RegExp(`${escapeRegExp(user.home)}$`));
  await expect(page.getByTestId('context')).toHaveText(user.context);
}

/** The table row of one domain (its first cell carries data-domain). */
const rowOf = (page: Page, name: string) => page.getByTestId('postmaster-table').locator('tbody tr').filter({ has: page.locator(`td[data-domain="${name}"]`) });

async function resellerCounts(page: Page): Promise<{ ok: number; missing: number; percent: string }> {
  await page.goto('/reseller/postmaster');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Postmaster');
  const number = async (id: string) => Number((await page.getByTestId(id).innerText()).trim());
  return { ok: await number('count-ok'), missing: await number('count-missing'), percent: (await page.getByTestId('compliance-percent').innerText()).trim() };
}

test.describe('postmaster', () => {
  test('admin sweeps; a customer sees missing, fixes it in one click and sees ok; the reseller\'s compliance follows', async ({ page }, testInfo) => {
    // Admin: run a sweep now; the page follows it (its script reloads the page when the run ends).
    await loginAs(page, users.admin);
    await page.getByRole('navigation', { name: /navigation/ }).getByRole('link', { name: 'Postmaster' }).click();
    await expect(page).toHaveURL(/\/admin\/postmaster$/);
    await page.getByTestId('run-sweep').click();
    await expect(page.locator('.alert-success')).toContainText('Sweep started');
    await expect(async () => {
      await page.goto('/admin/postmaster');
      await expect(page.getByTestId('sweep-latest')).toHaveAttribute('data-run-status', 'ok', { timeout: 1000 });
    }).toPass({ timeout: 60_000, intervals: [500, 1000, 2000] });
    await expect(page.getByTestId('sweep-counts')).toContainText('missing');
    await expect(page.getByTestId('count-unchecked')).toHaveText('0');
    await expect(page.getByTestId('postmaster-trend')).toBeVisible();
    await saveScreenshot(page, testInfo, 'postmaster-admin');
    await logout(page);

    // Reseller: its customers' compliance before the fix.
    await signIn(page, reseller);
    const before = await resellerCounts(page);
    expect(before.missing).toBeGreaterThan(0);
    await page.getByLabel('Customer').fill(customer.login);
    await page.getByRole('button', { name: 'Filter' }).click();
    await expect(rowOf(page, domain).locator('[data-verdict]')).toHaveAttribute('data-verdict', 'missing');
    await logout(page);

    // Customer: the domain in plain words, then the one-click fix.
    await signIn(page, customer);
    await page.getByRole('navigation', { name: /navigation/ }).getByRole('link', { name: 'Postmaster' }).click();
    await expect(page).toHaveURL(/\/customer\/postmaster$/);
    const row = rowOf(page, domain);
    await expect(row.locator('[data-verdict]')).toHaveText('missing');
    await expect(row.getByTestId('sentence')).toHaveText(`missing: mail to postmaster@${domain} bounces`);
    await expect(page.getByTestId('needs-attention')).toBeVisible();
    await saveScreenshot(page, testInfo, 'postmaster-customer-missing');
    await row.getByRole('button', { name: `Forward postmaster@ to ${contact}` }).click();
    await expect(page).toHaveURL(/\/customer\/postmaster$/);
    await expect(page.locator('.alert-success')).toContainText(`Created a forwarder from postmaster@${domain} to ${contact}.`);
    await expect(page.locator('.alert-success')).toContainText(`postmaster@${domain} works`);
    await expect(row.locator('[data-verdict]')).toHaveText('ok');
    await expect(row.getByTestId('sentence')).toHaveText(`postmaster@${domain} works (not yet confirmed as read)`);
    await expect(row.getByRole('button', { name: /^Forward postmaster@/ })).toHaveCount(0);
    await saveScreenshot(page, testInfo, 'postmaster-customer-fixed');

    // The domain's page: the history holds the sweep and the check after the fix, with the route.
    await row.getByRole('link', { name: domain }).click();
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(domain);
    const history = page.getByTestId('history');
    await expect(history.locator('li').first()).toContainText('after a fix');
    await expect(history.locator('li').first()).toContainText(`forwarder → ${contact}`);
    await expect(history.locator('li').last()).toContainText('sweep');
    await logout(page);

    // Reseller: one domain moved from missing to ok.
    await signIn(page, reseller);
    const after = await resellerCounts(page);
    expect(after).toMatchObject({ ok: before.ok + 1, missing: before.missing - 1 });
    expect(after.percent).not.toBe(before.percent);
    await expect(rowOf(page, domain).locator('[data-verdict]')).toHaveAttribute('data-verdict', 'ok');
    await saveScreenshot(page, testInfo, 'postmaster-reseller');
  });
});
