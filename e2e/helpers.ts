import fs from 'node:fs';
import path from 'node:path';
import { expect, type Locator, type Page, type TestInfo } from '@playwright/test';
import { demoAccounts, demoServers } from '../src/demo/demoData';

export type Role = 'admin' | 'reseller' | 'customer';

/** Set by playwright.config.ts, which also passes it to the app as DEMO_PASSWORD. */
export function demoPassword(): string {
  const pw = process.env.E2E_DEMO_PASSWORD;
  if (!pw) throw new Error('E2E_DEMO_PASSWORD is not set: run the browser tests with `npx playwright test` (playwright.config.ts sets it).');
  return pw;
}

/** The demo logins used by the specs (src/demo/demoData.ts). */
export const users = {
  admin: { login: 'admin', role: 'admin', home: '/admin', context: 'Admin · WHM' },
  reseller1: { login: 'reseller1', role: 'reseller', home: '/reseller', context: 'Reseller' },
  bluefin: { login: 'bluefin', role: 'customer', home: '/customer', context: 'Customer · cPanel' },
} as const satisfies Record<string, { login: string; role: Role; home: string; context: string }>;

export type DemoUser = (typeof users)[keyof typeof users];

/**
 * What the seeded demo fleet contains (src/demo/demoData.ts), the oracle for "who sees what".
 * Only names come from here; database ids are always looked up through the UI.
 */
export const fleet = {
  servers: demoServers.map((s) => s.name),
  accounts: demoAccounts(),
  resellers: demoAccounts().filter((a) => a.isReseller).map((a) => a.username),
  /** Every account below a reseller, at any depth (a nested reseller and its customers too). */
  accountsUnder(reseller: string): string[] {
    const all = demoAccounts();
    const below = new Set<string>();
    let frontier = [reseller];
    while (frontier.length) {
      const children = all.filter((a) => a.owner !== null && frontier.includes(a.owner) && !below.has(a.username)).map((a) => a.username);
      children.forEach((c) => below.add(c));
      frontier = children;
    }
    return [...below].sort();
  },
  domainsOf(username: string): string[] {
    const account = demoAccounts().find((a) => a.username === username);
    if (!account) throw new Error(`No demo account ${username}`);
    return account.domains.map((d) => d.name).sort();
  },
};

/** Fills and submits the sign-in form; does not check the outcome. */
export async function submitLogin(page: Page, login: string, password: string): Promise<void> {
  if (!new URL(page.url(), 'http://x').pathname.startsWith('/login')) await page.goto('/login');
  await page.locator('#login').fill(login);
  await page.locator('#password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** Signs in as a demo user and waits for that role's home page. */
export async function loginAs(page: Page, user: DemoUser): Promise<void> {
  await page.goto('/login');
  await submitLogin(page, user.login, demoPassword());
  await expect(page).toHaveURL(new RegExp(`${escapeRegExp(user.home)}$`));
  await expect(page.getByTestId('context')).toHaveText(user.context);
  await expect(page.getByTestId('signed-in-as')).toContainText(user.login);
}

/** Signs out with the top bar button and waits for the sign-in page. */
export async function logout(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login$/);
}

/** The path of the current page (no origin, no query). */
export function pathOf(page: Page): string {
  return new URL(page.url()).pathname;
}

/** The trimmed text of every cell in one column of a table (0-based column index). */
export async function columnTexts(table: Locator, column: number): Promise<string[]> {
  const cells = table.locator(`tbody tr td:nth-child(${column + 1})`);
  return (await cells.allInnerTexts()).map((t) => t.trim());
}

/** Account usernames listed in a table whose first column is the username (a link, maybe with a "reseller" badge). */
export async function usernamesIn(table: Locator): Promise<string[]> {
  return table.locator('tbody tr td:first-child a').allInnerTexts().then((list) => list.map((t) => t.trim()));
}

/**
 * The numeric id of an account, looked up as admin through the accounts search
 * (`/admin/accounts?q=<username>`): the link of the row whose username matches exactly.
 */
export async function accountIdViaAdmin(page: Page, username: string): Promise<number> {
  await page.goto(`/admin/accounts?q=${encodeURIComponent(username)}`);
  const link = page.getByTestId('accounts-table').locator('tbody tr td:first-child a').filter({ hasText: new RegExp(`^${escapeRegExp(username)}$`) });
  await expect(link).toHaveCount(1);
  const href = await link.getAttribute('href');
  const match = /\/admin\/accounts\/(\d+)$/.exec(href ?? '');
  if (!match) throw new Error(`Unexpected account link for ${username}: ${href}`);
  return Number(match[1]);
}

/**
 * A full-page screenshot of the current page: attached to the test report and also written to
 * test-results/screenshots/<name>.png (test-results is the config's outputDir).
 */
export async function saveScreenshot(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  const body = await page.screenshot({ fullPage: true });
  await testInfo.attach(name, { body, contentType: 'image/png' });
  const dir = path.join(testInfo.project.outputDir, 'screenshots');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, `${name}.png`), body);
}

export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
