import { expect, test } from '@playwright/test';
import { demoPassword, loginAs, logout, pathOf, submitLogin, users } from './helpers';

test.describe('sign-in and sign-out', () => {
  test('an anonymous visitor is sent to the sign-in page', async ({ page }) => {
    await page.goto('/');
    await expect(page).toHaveURL(/\/login$/);
    await expect(page.locator('#login')).toBeVisible();
    await expect(page.locator('#password')).toBeVisible();

    for (const path of ['/admin', '/reseller/customers', '/customer/policy']) {
      await page.goto(path);
      expect(pathOf(page), `${path} without a session`).toBe('/login');
      expect(new URL(page.url()).searchParams.get('next')).toBe(path);
    }
  });

  test('a wrong password shows the error and stays on /login', async ({ page }) => {
    await page.goto('/login');
    await submitLogin(page, users.admin.login, `${demoPassword()}-wrong`);
    await expect(page.getByTestId('login-error')).toBeVisible();
    await expect(page.getByTestId('login-error')).toContainText('do not match');
    expect(pathOf(page)).toBe('/login');
    // The login is kept, the password is not; no panel chrome is shown.
    await expect(page.locator('#login')).toHaveValue(users.admin.login);
    await expect(page.locator('#password')).toHaveValue('');
    await expect(page.getByTestId('context')).toHaveCount(0);
    // Still signed out: a protected page redirects back to the sign-in page.
    await page.goto('/admin');
    expect(pathOf(page)).toBe('/login');
  });

  for (const user of [users.admin, users.reseller1, users.bluefin]) {
    test(`${user.login} signs in to ${user.home}, signs out, and is then locked out`, async ({ page }) => {
      await loginAs(page, user);
      expect(pathOf(page)).toBe(user.home);

      await logout(page);
      await expect(page.getByRole('status').filter({ hasText: 'You are signed out.' })).toBeVisible();
      await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible();

      for (const path of [user.home, `${user.home}/settings/tokens`]) {
        await page.goto(path);
        expect(pathOf(page), `${path} after sign-out`).toBe('/login');
      }
    });
  }

  test('after the redirect to /login, signing in returns to the page asked for', async ({ page }) => {
    await page.goto('/reseller/policy');
    expect(pathOf(page)).toBe('/login');
    await submitLogin(page, users.reseller1.login, demoPassword());
    await expect(page).toHaveURL(/\/reseller\/policy$/);
    await expect(page.getByTestId('context')).toHaveText(users.reseller1.context);
  });
});
