import fs from 'node:fs';
import { expect, test } from '@playwright/test';
import { columnTexts, fleet, loginAs, saveScreenshot, users } from './helpers';

// Customer bluefin creates a list, imports a CSV with one bad row (skip bad rows), follows the
// progress bar to the end and downloads the report of rejected rows.
const stamp = Date.now();
const listName = `Imported ${stamp}`;
const domain = fleet.domainsOf('bluefin')[0]!;

const csv = [
  'Email,Status,Method,Source,Consented at',
  `ann-${stamp}@example.org,,web_form,https://${domain}/signup,2026-01-05 09:30`,
  `bob-${stamp}@example.org,,,,`,
  'not-an-address,,,,',
  `"Cleo-${stamp}@Example.org",pending,paper,"shop, counter",2026-02-01`,
].join('\r\n');

test('bluefin imports a CSV with a bad row and downloads the report', async ({ page }, testInfo) => {
  await loginAs(page, users.bluefin);
  await page.goto('/customer/consent/lists/new');
  await page.getByLabel('Name').fill(listName);
  await page.getByLabel('Sending domain').selectOption({ label: domain });
  await page.getByLabel('Consent text').fill(`Yes, send me the news of ${domain}.`);
  await page.getByRole('button', { name: 'Create list' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(listName);

  await page.getByTestId('list-import').getByRole('link', { name: 'Import CSV' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(`Import CSV into ${listName}`);
  await expect(page.getByTestId('imports-empty')).toBeVisible();
  await page.getByLabel('CSV file').setInputFiles({ name: 'customers.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  await page.getByRole('button', { name: 'Upload and check the columns' }).click();

  // Mapping: guessed from the header; the customer keeps it and chooses to skip bad rows.
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Columns of customers.csv');
  await expect(page.getByTestId('import-preview')).toContainText(`ann-${stamp}@example.org`);
  await expect(page.getByLabel('Email', { exact: true })).toHaveValue('email');
  await expect(page.getByLabel('Consented at')).toHaveValue('consented_at');
  await page.getByLabel('Skip bad rows').check();
  await saveScreenshot(page, testInfo, 'consent-import-mapping');
  await page.getByRole('button', { name: 'Start the import' }).click();

  // The status page follows the import (its script reloads the page when it is finished).
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Import of customers.csv');
  await expect(page.locator('#import-progress')).toBeVisible();
  await expect(page.getByTestId('import-status')).toHaveText('done', { timeout: 30_000 });
  await expect(page.locator('#import-progress')).toHaveAttribute('value', '100');
  await expect(page.getByTestId('import-summary')).toContainText('Imported 3 rows: 1 confirmed, 2 pending. 1 row rejected: see the report.');
  expect(await columnTexts(page.getByTestId('import-rejects-table'), 0)).toEqual(['4']);
  await saveScreenshot(page, testInfo, 'consent-import-done');

  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('import-report').click()]);
  expect(download.suggestedFilename()).toMatch(/^import-\d+-rejected-rows\.csv$/);
  const report = fs.readFileSync((await download.path())!, 'utf8');
  expect(report).toBe('line,email,reason,raw\r\n4,,"email ""not-an-address"" is not a valid address","not-an-address,,,,"\r\n');

  // The records are in the list, and the import is listed with its report.
  await page.getByRole('link', { name: `Records of ${listName}` }).click();
  const records = await columnTexts(page.getByTestId('consent-records-table'), 0);
  expect(records).toEqual([`ann-${stamp}@example.org`, `bob-${stamp}@example.org`, `cleo-${stamp}@example.org`]);
  await page.goto(page.url() + '/import');
  await expect(page.getByTestId('imports-table')).toContainText('customers.csv');
});
