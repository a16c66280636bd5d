import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, defineConfig, type ReporterDescription } from '@playwright/test';

/**
 * Browser (end-to-end) tests: Playwright starts the app on its own port with a fresh, empty
 * DATA_DIR (so the demo data is seeded anew on SQLite) and drives it with Chromium.
 *
 *   npx playwright test            # all specs in e2e/
 *   E2E_PORT=3299 npx playwright test      (the app's SMTP port follows: E2E_SMTP_PORT, default E2E_PORT + 1000)
 *   CHROMIUM_PATH=/path/to/chrome npx playwright test
 *
 * This file is loaded by the runner and again by each worker process. Settings the workers must
 * share with the runner (data dir, password, URL) travel through environment variables, which
 * the workers inherit from the runner.
 */

const port = Number(process.env.E2E_PORT ?? 3199);
if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`E2E_PORT expects a port number from 1 to 65535 (got "${process.env.E2E_PORT}")`);
const baseURL = `http://127.0.0.1:${port}`;
// The app sends mail to this SMTP port; e2e/consent-optin.spec.ts runs a real SMTP server (smtp-server) there.
process.env.E2E_SMTP_PORT ??= String(port + 1000);
const smtpPort = Number(process.env.E2E_SMTP_PORT);

// Every demo login gets this password (DEMO_PASSWORD); e2e/helpers.ts reads it back.
process.env.E2E_DEMO_PASSWORD ??= 'e2e-demo-password-1';
const demoPassword = process.env.E2E_DEMO_PASSWORD;
process.env.E2E_BASE_URL = baseURL;

// One fresh data directory per run, created by the runner process (workers reuse it) and
// removed when the runner exits.
if (!process.env.E2E_DATA_DIR) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'antispam-e2e-'));
  process.env.E2E_DATA_DIR = dir;
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
}
const dataDir = process.env.E2E_DATA_DIR;

// Panel SSO (e2e/sso.spec.ts): a fresh panel root (the Perl shims' ANTISPAM_ROOT) holding the
// plugin config and the SSO secret; the app reads the same key file (PANEL_SSO_SECRET_FILE).
if (!process.env.E2E_PANEL_ROOT) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'antispam-e2e-panel-'));
  const etc = path.join(root, 'etc/antispam-plugin');
  fs.mkdirSync(etc, { recursive: true });
  fs.writeFileSync(path.join(etc, 'sso.key'), `${crypto.randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
  fs.writeFileSync(path.join(etc, 'plugin.conf'), `app_url=${baseURL}\nsso_secret_file=${path.join(etc, 'sso.key')}\n`);
  process.env.E2E_PANEL_ROOT = root;
  process.on('exit', () => fs.rmSync(root, { recursive: true, force: true }));
}
const panelSsoKey = path.join(process.env.E2E_PANEL_ROOT, 'etc/antispam-plugin/sso.key');

/** CHROMIUM_PATH, else Debian's /usr/bin/chromium, else Playwright's own download; no browser is an error, never a skip. */
function findChromium(): string {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) {
    if (!fs.existsSync(fromEnv)) throw new Error(`CHROMIUM_PATH is set to ${fromEnv}, but no file exists there.`);
    return fromEnv;
  }
  if (fs.existsSync('/usr/bin/chromium')) return '/usr/bin/chromium';
  let bundled = '';
  try {
    bundled = chromium.executablePath();
  } catch {
    // No registry entry for this platform: treated as "not installed".
  }
  if (bundled && fs.existsSync(bundled)) return bundled;
  throw new Error(
    'No Chromium found for the browser tests. Install one with `apt-get install -y chromium` ' +
      '(Debian/Ubuntu, gives /usr/bin/chromium), or set CHROMIUM_PATH to a Chromium/Chrome executable.' +
      (bundled ? ` (Playwright's own Chromium is not installed either: ${bundled} is missing.)` : ''),
  );
}

const reporter: ReporterDescription[] = [['list'], ['html', { outputFolder: 'playwright-report', open: 'never' }]];
// .ci/run sets E2E_JSON_REPORT to check afterwards that the browser tests really ran.
if (process.env.E2E_JSON_REPORT) reporter.push(['json', { outputFile: process.env.E2E_JSON_REPORT }]);

export default defineConfig({
  testDir: 'e2e',
  outputDir: 'test-results',
  fullyParallel: false,
  workers: 1,
  forbidOnly: !!process.env.CI,
  retries: process.env.CI ? 2 : 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter,
  use: {
    baseURL,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: findChromium(),
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
    },
  },
  projects: [{ name: 'chromium' }],
  webServer: {
    command: 'npx tsx src/main.ts',
    url: `${baseURL}/healthz`,
    reuseExistingServer: false,
    timeout: 120_000,
    gracefulShutdown: { signal: 'SIGTERM', timeout: 10_000 },
    stdout: 'ignore',
    stderr: 'pipe',
    env: {
      HOST: '127.0.0.1',
      PORT: String(port),
      DATA_DIR: dataDir,
      DEMO_PASSWORD: demoPassword,
      DEMO_DATA: 'on',
      // Empty values count as unset in src/config/load.ts: always the run's own SQLite file.
      DATABASE_URL: '',
      CONFIG_FILE: '',
      BASE_URL: '',
      LOG_LEVEL: 'warn',
      PANEL_SSO_SECRET_FILE: panelSsoKey,
      SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
      MAIL_FROM: 'no-reply@antispam.example.net',
    },
  },
});
