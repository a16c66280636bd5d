import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { columnTexts, fleet, usernamesIn } from './helpers';

/**
 * Panel SSO end to end: the real Perl page shims of plugin/ run as cpsrvd would run them (a CGI
 * environment with the panel login in REMOTE_USER), and the browser follows their redirect.
 * playwright.config.ts created the panel root (E2E_PANEL_ROOT: plugin.conf + sso.key) and gave the
 * app the same key file through PANEL_SSO_SECRET_FILE.
 */

const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const cpanelShim = path.join(repo, 'plugin/cpanel/index.live.pl');
const whmShim = path.join(repo, 'plugin/whm/antispam.cgi');

function panelRoot(): string {
  const root = process.env.E2E_PANEL_ROOT;
  if (!root) throw new Error('E2E_PANEL_ROOT is not set: run the browser tests with `npx playwright test` (playwright.config.ts sets it).');
  return root;
}

/**
 * What the shims need besides plugin.conf and the key, written into the panel root:
 * - var/cpanel/resellers: WHM's reseller list, which the WHM shim reads to tell reseller from admin;
 * - stand-ins for cPanel's privilege escalation (Cpanel::AdminBin::Call calling the admin module
 *   plugin/cpanel/adminbin/SSO.pm as root), used by the cPanel shim when it does not run as root.
 */
function preparePanelRoot(root: string): string {
  fs.mkdirSync(path.join(root, 'var/cpanel'), { recursive: true });
  fs.writeFileSync(path.join(root, 'var/cpanel/resellers'), 'reseller1:list-accts,create-acct,suspend-acct\nreseller2:list-accts\nreseller3:list-accts\n');

  const lib = path.join(root, 'perl-fakes');
  const write = (rel: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(lib, rel)), { recursive: true });
    fs.writeFileSync(path.join(lib, rel), text);
  };
  write(
    'Cpanel/AdminBin/Call.pm',
    `package Cpanel::AdminBin::Call;
use strict; use warnings;
# Test stand-in: cPanel would run the admin module as root for the calling user.
sub call { my ($ns, $module, $action, @args) = @_; my $class = "Cpanel::Admin::Modules::$\{ns}::$module";
  (my $file = "$class.pm") =~ s{::}{/}g; require $file; return $class->new->$action(@args); }
1;
`,
  );
  write(
    'Cpanel/Admin/Base.pm',
    `package Cpanel::Admin::Base;
use strict; use warnings;
sub new { return bless {}, shift }
sub get_caller_username { return $ENV{REMOTE_USER} }
sub cpuser_has_feature_or_die { return 1 }
1;
`,
  );
  write('Cpanel/Admin/Modules/Antispam/SSO.pm', fs.readFileSync(path.join(repo, 'plugin/cpanel/adminbin/SSO.pm'), 'utf8'));
  return lib;
}

/** Runs a shim as cpsrvd would (GET, REMOTE_USER, nothing from the parent environment) and returns its Location. */
function runShim(shim: string, remoteUser: string): string {
  const root = panelRoot();
  const fakes = preparePanelRoot(root);
  const result = spawnSync('perl', [shim], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', REQUEST_METHOD: 'GET', REMOTE_USER: remoteUser, ANTISPAM_ROOT: root, PERL5LIB: fakes },
    encoding: 'utf8',
    timeout: 20_000,
  });
  if (result.error) throw new Error(`could not run perl ${shim}: ${result.error.message}`);
  const out = result.stdout;
  expect(result.status, `${path.basename(shim)} exit status; stderr: ${result.stderr}`).toBe(0);
  expect(out, `${path.basename(shim)} output:\n${out}\n${result.stderr}`).toMatch(/^Status: 302 Found\r?\n/);
  const location = /^Location: (\S+)\r?$/m.exec(out)?.[1];
  if (!location) throw new Error(`no Location header in the output of ${shim}:\n${out}`);
  return location;
}

async function expectEmbedded(page: Page): Promise<void> {
  await expect(page.locator('body')).toHaveClass(/\bembedded\b/);
  await expect(page.locator('header.topbar')).toHaveCount(0);
  await expect(page.getByTestId('signed-in-as')).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Sign out' })).toHaveCount(0);
}

test.describe('panel SSO through the real shims', () => {
  test('the cPanel shim signs bluefin into its customer context, embedded; its link works once', async ({ page }) => {
    const location = runShim(cpanelShim, 'bluefin');
    expect(location).toMatch(new RegExp(`^${process.env.E2E_BASE_URL}/sso\\?token=[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+&embedded=1$`));

    await page.goto(location);
    await expect(page).toHaveURL(/\/customer\?embedded=1$/);
    await expectEmbedded(page);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Your domains');
    await expect(page.locator('dl.facts')).toContainText('bluefin on');
    expect((await columnTexts(page.getByTestId('domains-table'), 0)).sort()).toEqual(fleet.domainsOf('bluefin'));

    // The embedded frame sticks for the session: a link inside the app keeps it.
    await page.getByRole('navigation', { name: /navigation/ }).getByRole('link', { name: 'Domains' }).click();
    await expect(page).toHaveURL(/\/customer\/domains$/);
    await expectEmbedded(page);
    expect((await columnTexts(page.getByTestId('domains-table'), 0)).sort()).toEqual(fleet.domainsOf('bluefin'));
    expect((await page.goto('/reseller'))?.status()).toBe(403);

    // The same link a second time: refused, and no session is left behind.
    const again = await page.goto(location);
    expect(again?.status()).toBe(401);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Sign-in link already used');
    await expect(page.getByTestId('sso-message')).toContainText('This sign-in link was already used.');
    await page.goto('/customer');
    await expect(page).toHaveURL(/\/login\?next=/);
  });

  test('the WHM shim signs reseller1 into its reseller context, embedded, over its own customers only', async ({ page }) => {
    const location = runShim(whmShim, 'reseller1');
    await page.goto(location);
    await expect(page).toHaveURL(/\/reseller\?embedded=1$/);
    await expectEmbedded(page);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Your customers');
    const ownScope = fleet.accountsUnder('reseller1');
    await expect(page.getByTestId('reseller-summary').locator('.stat').first()).toHaveText(String(ownScope.length));
    const shown = await usernamesIn(page.getByTestId('customers-table'));
    expect(shown.length).toBeGreaterThan(0);
    for (const name of shown) expect(ownScope, `${name} belongs to reseller1`).toContain(name);

    await page.getByRole('navigation', { name: /navigation/ }).getByRole('link', { name: 'Customers' }).click();
    await expect(page).toHaveURL(/\/reseller\/customers$/);
    await expectEmbedded(page);
    const all = (await usernamesIn(page.getByTestId('accounts-table'))).sort();
    expect(all).toEqual(ownScope);
    expect((await page.goto('/admin'))?.status()).toBe(403);

    const again = await page.goto(location);
    expect(again?.status()).toBe(401);
    await expect(page.getByTestId('sso-message')).toContainText('This sign-in link was already used.');
  });
});
