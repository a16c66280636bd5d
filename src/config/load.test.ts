import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './load';

function configError(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error(`expected loadConfig(${JSON.stringify(env)}) to throw`);
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'antispam-config-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
function configFile(name: string, content: string): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, content);
  return file;
}

describe('loadConfig', () => {
  it('has working defaults with an empty environment', () => {
    const c = loadConfig({});
    expect(c).toEqual({
      port: 3000,
      host: '127.0.0.1',
      dataDir: path.resolve('data'),
      database: { client: 'sqlite', filename: path.join(path.resolve('data'), 'antispam.sqlite') },
      demoPassword: undefined,
      demoData: true,
      sessionSecret: undefined,
      sessionTtlHours: 12,
      baseUrl: undefined,
      trustProxy: false,
      loginMaxFailures: 5,
      loginWindowMinutes: 15,
      logLevel: 'info',
      panelSimulated: true,
      panelTimeoutMs: 30_000,
      syncSchedule: '*/30 * * * *',
      consentImportMaxBytes: 500 * 1024 * 1024,
      smtpUrl: undefined,
      mailFrom: 'no-reply@localhost.localdomain',
      optInExpiryHours: 48,
      complaints: { maxBytes: 10 * 1024 * 1024, evidenceDays: 7, spamtrapsValid: true, responseHours: 72, amountCents: 300_000, currency: 'USD' },
      blocks: { firewall: 'none', csfPath: '/usr/sbin/csf', csfConf: '/etc/csf/csf.conf', repeatCount: 4, repeatHours: 24, schedule: '*/5 * * * *' },
      serverSuspension: { command: undefined, webhookUrl: undefined },
      postmaster: { schedule: '0 3 * * *', probe: false, probePort: 25, heloName: expect.any(String), probeSource: undefined, dnsServers: undefined },
    });
  });

  it('reads one WHM server from WHM_* variables and then leaves the simulator off', () => {
    const c = loadConfig({ WHM_URL: 'https://CP9.example.net:2087', WHM_TOKEN: 'ABCDEFGH12345678', WHM_FINGERPRINT: 'ab'.repeat(32) });
    expect(c.whm).toEqual({ url: 'https://CP9.example.net:2087', user: 'root', token: 'ABCDEFGH12345678', serverName: 'cp9.example.net', caPem: null, fingerprint: 'ab'.repeat(32) });
    expect(c.panelSimulated).toBe(false);
    expect(loadConfig({ DATABASE_URL: 'mysql://u@h/db' }).panelSimulated).toBe(false);
    expect(loadConfig({ DATABASE_URL: 'mysql://u@h/db', PANEL_SIMULATED: 'on' }).panelSimulated).toBe(true);
  });

  it('names the WHM variable that is missing or wrong, without echoing the token', () => {
    expect(() => loadConfig({ WHM_URL: 'https://cp9.example.net:2087' })).toThrow(/WHM_TOKEN expects a WHM API token when WHM_URL is set/);
    expect(() => loadConfig({ WHM_TOKEN: 'ABCDEFGH12345678' })).toThrow(/WHM_URL expects the WHM address when WHM_TOKEN is set/);
    expect(() => loadConfig({ WHM_URL: 'http://cp9.example.net:2086', WHM_TOKEN: 'ABCDEFGH12345678' })).toThrow(/WHM_URL expects the WHM address/);
    expect(() => loadConfig({ WHM_URL: 'https://cp9.example.net:2087', WHM_TOKEN: 'short' })).toThrow(/WHM_TOKEN expects a WHM API token \(got 5 characters\)/);
    expect(() => loadConfig({ WHM_URL: 'https://cp9.example.net:2087', WHM_TOKEN: 'ABCDEFGH12345678', WHM_FINGERPRINT: 'nope' })).toThrow(/WHM_FINGERPRINT expects a SHA-256/);
    expect(() => loadConfig({ WHM_URL: 'https://cp9.example.net:2087', WHM_TOKEN: 'ABCDEFGH12345678', WHM_CA_FILE: '/nonexistent/ca.pem' })).toThrow(/WHM_CA_FILE expects a readable PEM/);
    expect(() => loadConfig({ PANEL_SIMULATED: 'maybe' })).toThrow(/PANEL_SIMULATED expects auto, on or off/);
    expect(() => loadConfig({ SYNC_SCHEDULE: 'every hour' })).toThrow(/SYNC_SCHEDULE expects a cron expression/);
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ PORT: '', DATABASE_URL: '', DEMO_DATA: '' }).port).toBe(3000);
  });

  it('parses valid values into typed settings', () => {
    const c = loadConfig({
      PORT: '8080',
      HOST: '0.0.0.0',
      DATA_DIR: '/var/lib/antispam',
      DATABASE_URL: 'mariadb://app:p%40ss@db.internal:3307/antispam',
      DEMO_PASSWORD: 'demo-password',
      DEMO_DATA: 'auto',
      SESSION_SECRET: 'x'.repeat(32),
      SESSION_TTL_HOURS: '24',
      BASE_URL: 'https://antispam.example.com',
      TRUST_PROXY: 'yes',
      LOGIN_MAX_FAILURES: '3',
      LOGIN_WINDOW_MINUTES: '30',
      LOG_LEVEL: 'warn',
    });
    expect(c.port).toBe(8080);
    expect(c.dataDir).toBe('/var/lib/antispam');
    expect(c.database).toEqual({ client: 'mysql', url: 'mysql://app:p%40ss@db.internal:3307/antispam' });
    expect(c.demoData, 'auto means no demo data on a configured database').toBe(false);
    expect(c.trustProxy).toBe(true);
    expect([c.sessionTtlHours, c.loginMaxFailures, c.loginWindowMinutes]).toEqual([24, 3, 30]);
    expect(c.logLevel).toBe('warn');
    expect(loadConfig({ DATABASE_URL: 'sqlite:/srv/antispam/db.sqlite' }).database).toEqual({ client: 'sqlite', filename: '/srv/antispam/db.sqlite' });
    expect(loadConfig({ DATABASE_URL: 'mysql://u@h/d', DEMO_DATA: 'on' }).demoData).toBe(true);
    expect(loadConfig({ DEMO_DATA: 'off' }).demoData).toBe(false);
  });

  it.each([
    ['PORT', 'abc', 'expects a whole number from 1 to 65535'],
    ['PORT', '0', 'expects a whole number from 1 to 65535'],
    ['PORT', '65536', 'expects a whole number from 1 to 65535'],
    ['PORT', '80.5', 'expects a whole number from 1 to 65535'],
    ['DATABASE_URL', 'postgres://x', 'expects mysql://user:password@host:port/database or sqlite:path/to/file.sqlite'],
    ['DATABASE_URL', 'mysql://host-without-database', 'expects mysql://user:password@host:port/database'],
    ['DEMO_PASSWORD', 'short', 'expects at least 8 characters'],
    ['SESSION_SECRET', 'too-short', 'expects at least 32 characters'],
    ['BASE_URL', 'not a url', 'expects an absolute URL'],
    ['DEMO_DATA', 'maybe', 'expects auto, on or off'],
    ['TRUST_PROXY', 'perhaps', 'expects true or false'],
    ['LOG_LEVEL', 'verbose', 'expects debug, info, warn, error or silent'],
    ['LOGIN_MAX_FAILURES', '0', 'expects a whole number from 1 to 1000'],
  ])('rejects %s=%s, naming the variable and what it expects', (name, value, expects) => {
    const err = configError({ [name]: value });
    expect(err.message).toContain(`${name} ${expects}`);
    expect(err.message.split(';')).toHaveLength(1);
  });

  it('echoes ordinary bad values but never secrets', () => {
    expect(configError({ PORT: 'abc' }).message).toContain('got "abc"');
    const password = configError({ DEMO_PASSWORD: 'hunter2' }).message;
    expect(password).not.toContain('hunter2');
    expect(password).toContain('got 7 characters');
    expect(configError({ SESSION_SECRET: 'not-long-enough' }).message).not.toContain('not-long-enough');
    const url = configError({ DATABASE_URL: 'mysql://app:s3cret@db.internal:3306' }).message;
    expect(url).not.toContain('s3cret');
    expect(url).toContain('mysql://app:***@db.internal:3306');
  });

  it('reports every bad variable in one error', () => {
    const err = configError({ PORT: 'abc', DATABASE_URL: 'postgres://x', DEMO_PASSWORD: 'short', BASE_URL: 'nope', DEMO_DATA: 'maybe' });
    for (const name of ['PORT', 'DATABASE_URL', 'DEMO_PASSWORD', 'BASE_URL', 'DEMO_DATA']) expect(err.message).toContain(`${name} expects`);
    expect(err.message.split(';')).toHaveLength(5);
  });

  it('takes values from CONFIG_FILE, with environment variables winning', () => {
    const file = configFile('ok.json', JSON.stringify({ PORT: 8081, HOST: '0.0.0.0', DEMO_DATA: 'off', LOG_LEVEL: 'debug', TRUST_PROXY: true }));
    const c = loadConfig({ CONFIG_FILE: file, PORT: '9090', LOG_LEVEL: '' });
    expect(c.port, 'environment wins').toBe(9090);
    expect(c.host).toBe('0.0.0.0');
    expect(c.demoData).toBe(false);
    expect(c.logLevel, 'an empty variable does not override the file').toBe('debug');
    expect(c.trustProxy, 'JSON true is accepted').toBe(true);
  });

  it('validates values that come from CONFIG_FILE', () => {
    const file = configFile('bad-value.json', JSON.stringify({ PORT: 'abc' }));
    expect(configError({ CONFIG_FILE: file }).message).toContain('PORT expects a whole number from 1 to 65535');
    expect(loadConfig({ CONFIG_FILE: file, PORT: '3001' }).port, 'a valid variable overrides a bad file value').toBe(3001);
  });

  it('rejects an unreadable CONFIG_FILE', () => {
    const missing = path.join(tmp, 'missing.json');
    const err = configError({ CONFIG_FILE: missing });
    expect(err.message).toContain('CONFIG_FILE expects a readable JSON file');
    expect(err.message).toContain(missing);
    expect(configError({ CONFIG_FILE: tmp }).message, 'a directory is not a file').toContain('CONFIG_FILE expects a readable JSON file');
  });

  it('rejects a CONFIG_FILE that is not a JSON object', () => {
    expect(configError({ CONFIG_FILE: configFile('broken.json', '{"PORT": 80,') }).message).toContain('CONFIG_FILE expects valid JSON');
    expect(configError({ CONFIG_FILE: configFile('array.json', '[1, 2]') }).message).toContain('CONFIG_FILE expects a JSON object');
    expect(configError({ CONFIG_FILE: configFile('null.json', 'null') }).message).toContain('CONFIG_FILE expects a JSON object');
  });
});
