import fs from 'node:fs';
import { expect, test } from '@playwright/test';
import { arfFixture } from '../src/testing/arfFixtures';
import { arfReport } from '../src/testing/arfReport';
import { startSmtpCapture, type SmtpCapture } from '../src/testing/smtpCapture';
import { fleet, loginAs, logout, saveScreenshot, users } from './helpers';

// The app mails the forwarded case to the customer through E2E_SMTP_PORT (playwright.config.ts): a real SMTP server here.
let smtp: SmtpCapture;
test.beforeAll(async () => {
  smtp = await startSmtpCapture(Number(process.env.E2E_SMTP_PORT));
});
test.afterAll(async () => {
  await smtp?.close();
});


/** A feedback-loop report about a message bluefin's server sent; the recipient is hashed, so bluefin gets to bring evidence. */
function bluefinReport(domain: string, stamp: number): Buffer {
  return arfReport({
    reporter: 'feedbackloop@comcastfbl.senderscore.net',
    userAgent: 'ReturnPathFBL/1.0',
    reportId: `e2e-report-${stamp}@fbl.example`,
    arrival: 'Thu, 19 Nov 2026 15:14:53 +0000',
    sourceIp: '192.0.2.10',
    recipients: ['27a4767fd6480dcd6301d3711503069b@comcast.net'],
    reportedDomain: 'comcast.net',
    messageId: `e2e-spam-${stamp}@${domain}`,
    subject: 'Spring sale',
    dkimDomain: domain,
    originalHeaders: [`From: News <news@${domain}>`],
  });
}

test('an admin uploads reports; the reseller notes and forwards; the customer brings evidence; the admin decides', async ({ page }, testInfo) => {
  const bluefin = fleet.accounts.find((a) => a.username === 'bluefin')!;
  const domain = bluefin.domains[0]!.name;
  const stamp = Date.now();

  await loginAs(page, users.admin);
  await page.goto('/admin/complaints/upload');
  await page.getByLabel('Report files').setInputFiles([
    { name: 'bluefin.eml', mimeType: 'message/rfc822', buffer: bluefinReport(domain, stamp) },
    { name: 'dmarc.eml', mimeType: 'message/rfc822', buffer: arfFixture('12') },
  ]);
  await page.getByRole('button', { name: 'Upload' }).click();
  const results = page.getByTestId('upload-results');
  await expect(results.locator('tbody tr')).toHaveCount(2);
  await expect(results.locator('tr', { hasText: 'bluefin.eml' })).toContainText('awaiting_evidence');
  await expect(results.locator('tr', { hasText: 'dmarc.eml' })).toContainText('not_complaint');
  const caseLink = results.locator('tr', { hasText: 'bluefin.eml' }).getByRole('link');
  const id = Number((await caseLink.textContent())!.replace(/\D/g, ''));
  await logout(page);

  // The reseller: the case is in the inbox; an internal note, then a forward to the customer.
  await loginAs(page, users.reseller1);
  await page.getByRole('navigation', { name: /navigation/ }).getByRole('link', { name: 'Complaints' }).click();
  await page.getByRole('link', { name: `#${id}` }).click();
  await expect(page.getByTestId('complaint-facts')).toContainText('bluefin');
  await page.getByLabel('Note (not shown to the customer)').fill('Second report this month for bluefin.');
  await page.getByRole('button', { name: 'Add note' }).click();
  await page.getByLabel('Message').fill('Please attach the consent record of this recipient.');
  await page.getByRole('button', { name: 'Forward' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Forwarded to' })).toBeVisible();
  const mail = await smtp.waitFor(`owner@${domain}`); // the demo accounts' contact address: owner@<main domain>
  expect(mail.subject).toBe(`Spam complaint #${id} about ${domain}`);
  expect(mail.text).toContain('Please attach the consent record of this recipient.');
  await saveScreenshot(page, testInfo, 'reseller-complaint-case');
  await logout(page);

  // The customer: sees the reseller's message (not the internal note) and attaches evidence.
  await loginAs(page, users.bluefin);
  await page.goto(`/customer/complaints/${id}`);
  const notes = page.getByTestId('complaint-notes');
  await expect(notes).toContainText('Please attach the consent record');
  await expect(notes).not.toContainText('Second report this month');
  await page.getByLabel('Explanation').fill('This subscriber signed up at our shop counter; the paper form is on file.');
  await page.getByRole('button', { name: 'Attach evidence' }).click();
  await expect(page.getByTestId('complaint-facts')).toContainText('review');
  await logout(page);

  // The admin sees the evidence and decides.
  await loginAs(page, users.admin);
  await page.goto(`/admin/complaints/${id}`);
  await expect(page.getByTestId('complaint-notes')).toContainText('paper form is on file');
  await page.getByLabel('Decision').selectOption('valid');
  await page.getByLabel('Reason').fill('A paper form is not produced; the hashed recipient cannot be matched to a record.');
  await page.getByRole('button', { name: 'Record decision' }).click();
  await expect(page.getByTestId('complaint-facts')).toContainText('valid');
  await saveScreenshot(page, testInfo, 'admin-complaint-decided');

  // The valid complaint proposed one charge; the admin approves it and it appears in the CSV export.
  await expect(page.getByTestId('complaint-charge')).toContainText('3000.00 USD');
  await page.getByTestId('complaint-charge').getByRole('link').click();
  await page.getByLabel('Decision').selectOption('approved');
  await page.getByLabel('Reason').fill('Valid complaint, approved for billing.');
  await page.getByRole('button', { name: 'Record decision' }).click();
  await expect(page.getByTestId('charge-facts')).toContainText('approved');
  await page.goto('/admin/charges');
  const download = page.waitForEvent('download');
  await page.getByTestId('charges-csv').click();
  const csv = fs.readFileSync(await (await download).path(), 'utf8');
  expect(csv.split(/\r?\n/)[0]).toContain('complaint_id');
  expect(csv).toMatch(new RegExp(`^\\d+,${id},bluefin,reseller1,3000\\.00,USD,`, 'm'));
});
