import { expect, test } from '@playwright/test';
import { startSmtpCapture, type SmtpCapture } from '../src/testing/smtpCapture';
import { fleet, loginAs, saveScreenshot, users } from './helpers';

// The app under test sends mail to E2E_SMTP_PORT (playwright.config.ts); this spec runs the real SMTP server there.
let smtp: SmtpCapture;
test.beforeAll(async () => {
  smtp = await startSmtpCapture(Number(process.env.E2E_SMTP_PORT));
});
test.afterAll(async () => {
  await smtp?.close();
});

test('a visitor subscribes on the hosted form, confirms from the mail, and the customer sees the timeline', async ({ page, browser }, testInfo) => {
  const domain = fleet.domainsOf('bluefin')[0]!;
  const listName = `Opt-in news ${Date.now()}`;
  const visitorEmail = `visitor-${Date.now()}@example.org`;

  await loginAs(page, users.bluefin);
  await page.goto('/customer/consent/lists/new');
  await page.getByLabel('Name').fill(listName);
  await page.getByLabel('Sending domain').selectOption({ label: domain });
  await page.getByLabel('Consent text').fill('Yes, send me the monthly news of bluefin.');
  await page.getByLabel('Double opt-in sign-up form').check();
  await page.getByRole('button', { name: 'Create list' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(listName);
  const formUrl = await page.getByTestId('optin-form-url').getAttribute('href');
  expect(formUrl).toMatch(/\/subscribe\/\d+$/);

  // The visitor: another browser context, no session.
  const visitor = await browser.newContext();
  const v = await visitor.newPage();
  await v.goto(formUrl!);
  await expect(v.getByTestId('consent-text')).toHaveText('Yes, send me the monthly news of bluefin.');
  await v.getByLabel('Your email address').fill(visitorEmail);
  await v.getByRole('button', { name: 'Subscribe' }).click();
  await expect(v.getByTestId('optin-done')).toContainText('a confirmation message is on its way');

  const mail = await smtp.waitFor(visitorEmail, 20_000);
  expect(mail.subject).toContain(listName);
  const link = /https?:\/\/\S+\/confirm\/[A-Za-z0-9_.-]+/.exec(mail.text)?.[0];
  expect(link).toBeTruthy();
  await v.goto(link!);
  await v.getByRole('button', { name: 'Confirm subscription' }).click();
  await expect(v.getByTestId('confirm-done')).toContainText('Confirmed');
  await saveScreenshot(v, testInfo, 'optin-confirmed');
  await visitor.close();

  // The customer: the record is confirmed by double opt-in, with its timeline.
  await page.reload();
  await page.getByRole('link', { name: visitorEmail }).click();
  await expect(page.getByTestId('record-facts')).toContainText('confirmed');
  await expect(page.getByTestId('record-facts')).toContainText('double_opt_in');
  const timeline = page.getByTestId('timeline-table');
  await expect(timeline).toContainText('record added');
  await expect(timeline).toContainText('optin requested');
  await expect(timeline).toContainText('record confirmed');
  await expect(page.getByTestId('confirmations-table')).toContainText('confirmed');
  await saveScreenshot(page, testInfo, 'optin-record-timeline');
});
