import { expect, test, type Page } from '@playwright/test';
import { columnTexts, fleet, loginAs, logout, saveScreenshot, users } from './helpers';

// Customer bluefin keeps consent records; its reseller (reseller1) sees the counts, never the addresses.
test.describe.configure({ mode: 'serial' });

const stamp = Date.now();
const listName = `Customers ${stamp}`;
const address = `ann.walker-${stamp}@example.org`;
const domain = fleet.domainsOf('bluefin')[0]!;

/** Lists, records and confirmed records of the signed-in customer, summed over its consent lists page. */
async function customerTotals(page: Page): Promise<{ lists: number; records: number; confirmed: number }> {
  await page.goto('/customer/consent');
  const table = page.getByTestId('consent-lists-table');
  const sum = async (column: number) => (await columnTexts(table, column)).reduce((n, t) => n + Number(t), 0);
  return { lists: (await columnTexts(table, 0)).length, records: await sum(3), confirmed: await sum(4) };
}

test('bluefin creates a list, adds a record with evidence, opens it and sees its timeline', async ({ page }, testInfo) => {
  await loginAs(page, users.bluefin);
  await page.getByRole('navigation', { name: /navigation/ }).getByRole('link', { name: 'Consent' }).click();
  await expect(page).toHaveURL(/\/customer\/consent$/);
  await page.getByRole('link', { name: 'New list' }).click();
  await page.getByLabel('Name').fill(listName);
  await page.getByLabel('Sending domain').selectOption({ label: domain });
  await page.getByLabel('Consent text').fill(`Yes, send me the customer newsletter of ${domain}.`);
  await page.getByRole('button', { name: 'Create list' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(listName);
  await expect(page.getByTestId('list-facts')).toContainText(domain);
  await expect(page.getByTestId('empty')).toContainText('No records yet');

  await page.getByRole('link', { name: 'Add a record' }).first().click();
  await page.getByLabel('Email address').fill(address.toUpperCase());
  await page.getByLabel('Status').selectOption('confirmed');
  await page.getByLabel('Method').selectOption('web_form');
  await page.getByLabel('Consented at (UTC)').fill('2026-01-05T09:30');
  await page.getByLabel('Source').fill(`https://${domain}/newsletter`);
  await page.getByLabel('IP address').fill('198.51.100.7');
  await page.getByRole('button', { name: 'Add record' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(address);

  // Open the record from the list, as a customer would later.
  await page.getByTestId('record-facts').getByRole('link', { name: listName }).click();
  await expect(page.getByTestId('consent-records-table')).toContainText(address);
  await page.getByRole('link', { name: address }).click();
  const facts = page.getByTestId('record-facts');
  await expect(facts).toContainText('confirmed');
  await expect(facts).toContainText('web_form');
  await expect(facts).toContainText('2026-01-05 09:30 UTC from 198.51.100.7');
  const timeline = page.getByTestId('timeline-table');
  await expect(timeline.locator('tbody tr')).toHaveCount(1);
  expect(await columnTexts(timeline, 1)).toEqual(['record added']);
  await expect(timeline).toContainText('method: web_form');
  await expect(timeline).toContainText(`source: https://${domain}/newsletter`);

  // Withdrawal is the next event of the same timeline.
  await page.getByLabel('How the consent was withdrawn').selectOption('unsubscribe');
  await page.getByRole('button', { name: 'Revoke consent' }).click();
  await expect(facts).toContainText('revoked');
  await expect(timeline.locator('tbody tr')).toHaveCount(2);
  expect(await columnTexts(timeline, 1)).toEqual(['record added', 'record revoked']);
  await expect(timeline.locator('tbody tr').nth(1)).toContainText('how: unsubscribe');
  await saveScreenshot(page, testInfo, 'consent-record-timeline');
});

test('reseller1 opens Consent and sees bluefin\'s counts, its nested reseller\'s customers, and no address', async ({ page }, testInfo) => {
  await loginAs(page, users.bluefin);
  const totals = await customerTotals(page);
  expect(totals.lists).toBeGreaterThanOrEqual(1);
  expect(totals.records).toBeGreaterThanOrEqual(1);
  await logout(page);

  await loginAs(page, users.reseller1);
  await page.getByRole('navigation', { name: /navigation/ }).getByRole('link', { name: 'Consent' }).click();
  await expect(page).toHaveURL(/\/reseller\/consent$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Consent by customer');
  await expect(page.getByTestId('privacy-note')).toContainText('Addresses stay private to the customer');

  const table = page.getByTestId('consent-stats-table');
  const shown = (await table.locator('tbody tr td:first-child a').allInnerTexts()).map((t) => t.trim());
  expect(shown).toEqual(fleet.accountsUnder('reseller1'));
  for (const nested of fleet.accountsUnder('reseller3')) expect(shown).toContain(nested);
  expect(shown).not.toContain('coralreef');

  const row = table.locator('tbody tr').filter({ has: page.getByRole('link', { name: 'bluefin', exact: true }) });
  await expect(row).toHaveCount(1);
  const cells = (await row.locator('td').allInnerTexts()).map((t) => t.trim());
  // Customer, lists, records, confirmed, confirmed share, pending, revocations, last activity.
  expect(cells[0]).toBe('bluefin');
  expect(Number(cells[1])).toBe(totals.lists);
  expect(Number(cells[2])).toBe(totals.records);
  expect(Number(cells[3])).toBe(totals.confirmed);
  expect(cells[4]).toBe(`${((totals.confirmed * 100) / totals.records).toFixed(1)} %`);
  expect(Number(cells[6])).toBeGreaterThanOrEqual(1);
  expect(Number(cells[3]) + Number(cells[5]) + Number(cells[6])).toBe(totals.records);
  expect(cells[7]).toMatch(/UTC$/);

  expect(await page.content()).not.toContain(address);
  expect(await page.content()).not.toContain('example.org');

  // A click on a column heading sorts by it, most records first.
  await table.getByRole('link', { name: 'Records' }).click();
  await expect(page).toHaveURL(/sort=records&dir=desc/);
  const records = (await columnTexts(page.getByTestId('consent-stats-table'), 2)).map(Number);
  expect(records).toEqual([...records].sort((a, b) => b - a));
  expect(records[0]).toBeGreaterThanOrEqual(totals.records);
  // Search narrows to one customer.
  await page.getByLabel('Search').fill('bluefin');
  await page.getByRole('button', { name: 'Search' }).click();
  expect(await columnTexts(page.getByTestId('consent-stats-table'), 0)).toEqual(['bluefin']);
  await saveScreenshot(page, testInfo, 'reseller-consent');
});
