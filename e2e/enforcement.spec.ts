import { expect, test, type Page } from '@playwright/test';
import { accountIdViaAdmin, demoPassword, loginAs, logout, saveScreenshot, submitLogin, users } from './helpers';

/**
 * Enforcement end to end: strikes added on an admin account page run the ladder; the worker started by
 * main.ts carries the actions out against the simulated WHM server within seconds. Customers of
 * reseller1 that no other spec touches: valleyoak is terminated, zephyrsail suspended.
 */
const terminated = 'valleyoak';
const suspended = 'zephyrsail';

/** Adds one strike with the account page's "Add strike" form and returns the flash text. */
async function addStrike(page: Page, accountId: number, reason: string): Promise<string> {
  await page.goto(`/admin/accounts/${accountId}`);
  const form = page.getByTestId('strike-form');
  await form.getByLabel('Reason').fill(reason);
  await form.getByRole('button', { name: 'Add strike' }).click();
  await expect(page).toHaveURL(new RegExp(`/admin/accounts/${accountId}$`));
  const flash = page.locator('.alert-success');
  await expect(flash).toContainText('Strike recorded.');
  return flash.innerText();
}

/** Reloads `url` until every action listed for the search is done (the worker runs within seconds). */
async function waitUntilAllDone(page: Page, username: string): Promise<void> {
  await expect(async () => {
    await page.goto(`/admin/enforcement?q=${username}`);
    const statuses = await page.getByTestId('actions-table').locator('[data-status]').evaluateAll((els) => els.map((e) => e.getAttribute('data-status')));
    expect(statuses.length).toBeGreaterThan(0);
    expect(statuses.every((s) => s === 'done')).toBe(true);
  }).toPass({ timeout: 30_000, intervals: [500, 1000, 2000] });
}

test.describe('enforcement', () => {
  test('admin: two strikes propose termination; approving needs the username typed; the panel carries it out', async ({ page }, testInfo) => {
    await loginAs(page, users.admin);
    const id = await accountIdViaAdmin(page, terminated);
    await page.goto(`/admin/accounts/${id}`);
    await expect(page.getByTestId('enforcement-card')).toBeVisible();
    await expect(page.getByTestId('enforcement-card')).toContainText(`type ${terminated} to confirm`);

    expect(await addStrike(page, id, 'Spam run seen in the exim log (e2e).')).toContain('suspend account (pending)');
    expect(await addStrike(page, id, 'Second spam run after the warning (e2e).')).toContain('terminate account (awaiting approval)');

    // The queue: the termination waits in the "awaiting approval" tab.
    await page.getByRole('navigation', { name: /navigation/ }).getByRole('link', { name: 'Enforcement' }).click();
    await expect(page).toHaveURL(/\/admin\/enforcement$/);
    await expect(page.getByTestId('awaiting-callout')).toBeVisible();
    await page.getByTestId('tab-awaiting_approval').click();
    const row = page.getByTestId('actions-table').locator('tbody tr').filter({ hasText: terminated });
    await expect(row).toHaveCount(1);
    await expect(row).toContainText('Terminate account');
    await saveScreenshot(page, testInfo, 'enforcement-queue');
    await row.locator('td').first().getByRole('link').click();
    await expect(page).toHaveURL(/\/admin\/enforcement\/\d+$/);
    const actionUrl = page.url();

    // A wrong username is refused with the reason beside the field; nothing changes.
    const approve = page.getByTestId('approve-form');
    await expect(approve).toContainText('cannot be undone');
    await approve.getByLabel(/to confirm/).fill('not-the-username');
    await approve.getByRole('button', { name: /^Approve/ }).click();
    await expect(page.getByTestId('form-errors')).toContainText(`type "${terminated}" to approve`);
    await expect(page.locator('#confirm')).toHaveClass(/is-invalid/);
    await expect(page.getByTestId('action-status')).toContainText('awaiting approval');

    await page.getByTestId('approve-form').getByLabel(/to confirm/).fill(terminated);
    await page.getByTestId('approve-form').getByRole('button', { name: /^Approve/ }).click();
    await expect(page.locator('.alert-success')).toContainText(`Approved: terminate account for ${terminated}`);

    await expect(async () => {
      await page.goto(actionUrl);
      await expect(page.getByTestId('action-status')).toContainText('done', { timeout: 1000 });
    }).toPass({ timeout: 30_000, intervals: [500, 1000, 2000] });
    await expect(page.getByTestId('action-timeline')).toContainText('enforcement.approve');
    await saveScreenshot(page, testInfo, 'enforcement-action-done');

    await page.goto(`/admin/accounts/${id}`);
    await expect(page.getByTestId('account-facts')).toContainText('terminated');
    await expect(page.getByTestId('terminated')).toBeVisible();

    // The ladder that made these decisions, explained on its settings page.
    await page.goto('/admin/enforcement');
    await page.getByRole('link', { name: 'Ladder settings' }).click();
    await expect(page.getByTestId('settings-summary')).toContainText('At 2 strikes: outgoing mail is suspended and the account is terminated once an admin approves.');
    await expect(page.getByLabel("Termination waits for an admin's approval")).toBeChecked();
    await saveScreenshot(page, testInfo, 'enforcement-settings');
  });

  test('a reseller sees its suspended customer, and the customer sees why', async ({ page }, testInfo) => {
    const reason = 'Phishing mail sent through a hacked contact form (e2e).';
    await loginAs(page, users.admin);
    const id = await accountIdViaAdmin(page, suspended);
    await addStrike(page, id, reason);
    await waitUntilAllDone(page, suspended);
    await page.goto(`/admin/accounts/${id}`);
    await expect(page.getByTestId('enforcement-state')).toContainText('suspended');
    await saveScreenshot(page, testInfo, 'enforcement-account-card');
    await logout(page);

    await loginAs(page, users.reseller1);
    await page.getByRole('navigation', { name: /navigation/ }).getByRole('link', { name: 'Enforcement' }).click();
    const row = page.getByTestId('enforcement-table').locator('tbody tr').filter({ hasText: suspended });
    await expect(row).toHaveCount(1);
    await expect(row).toContainText('suspended');
    await row.getByRole('link', { name: suspended }).click();
    await expect(page.getByTestId('standing-facts')).toContainText(`The account ${suspended} is suspended`);
    await expect(page.getByTestId('standing-actions')).toContainText(reason);
    await logout(page);

    // Every demo customer signs in with its username (src/demo/seed.ts); a suspension does not lock it out of this page.
    await page.goto('/login');
    await submitLogin(page, suspended, demoPassword());
    await expect(page).toHaveURL(/\/customer$/);
    await page.getByRole('navigation', { name: /navigation/ }).getByRole('link', { name: 'Account standing' }).click();
    await expect(page).toHaveURL(/\/customer\/standing$/);
    await expect(page.getByTestId('standing-facts')).toContainText('Your account is suspended');
    await expect(page.getByTestId('standing-facts')).toContainText('Outgoing mail is suspended');
    await expect(page.getByTestId('standing-strike-list')).toContainText(reason);
    await expect(page.getByTestId('standing-actions')).toContainText('Suspend the account');
    await expect(page.getByTestId('standing-appeal')).toBeVisible();
    await saveScreenshot(page, testInfo, 'enforcement-customer-standing');
  });
});
