import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { configSchema, type AppConfig, type DatabaseConfig, type RawConfig } from './schema';

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

/** Optional JSON file (CONFIG_FILE) supplies defaults; real environment variables win. */
function readConfigFile(file: string): Env {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new ConfigError(`Configuration error: CONFIG_FILE expects a readable JSON file (cannot read ${file})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`Configuration error: CONFIG_FILE expects valid JSON (${(err as Error).message})`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError('Configuration error: CONFIG_FILE expects a JSON object of VARIABLE: value pairs');
  }
  return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, v == null ? undefined : String(v)]));
}

function resolveDatabase(url: string | undefined, dataDir: string): DatabaseConfig {
  if (!url) return { client: 'sqlite', filename: path.join(dataDir, 'antispam.sqlite') };
  if (url.startsWith('sqlite:')) return { client: 'sqlite', filename: url.slice('sqlite:'.length).replace(/^\/\//, '') };
  return { client: 'mysql', url: url.replace(/^mariadb:/, 'mysql:') };
}

/** Echoes a bad value in the error, except secrets (SMTP_URL may carry a password): those end up in logs. */
function shown(name: string, value: string): string {
  if (/PASSWORD|SECRET|TOKEN|IDENTIFIER|SMTP_URL/.test(name)) return `got ${value.length} characters`;
  return `got "${value.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@')}"`;
}

/** Panel secrets (SSO, hooks) must be readable and non-trivial; checked at start so a typo fails fast, not at the first use. */
export const minPanelSsoSecretLength = 16;
function checkPanelSecretFile(variable: string, purpose: string, file: string | undefined): string | undefined {
  if (!file) return undefined;
  const resolved = path.resolve(file);
  let secret: string;
  try {
    secret = fs.readFileSync(resolved, 'utf8').trimEnd();
  } catch (err) {
    throw new ConfigError(
      `Configuration error: ${variable} expects a readable file holding the secret shared with the panel ${purpose} (cannot read ${resolved}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
  if (secret.length < minPanelSsoSecretLength) {
    throw new ConfigError(
      `Configuration error: ${variable} expects a file holding a secret of at least ${minPanelSsoSecretLength} characters (${resolved} holds ${secret.length})`,
    );
  }
  return resolved;
}

function resolveWhm(c: RawConfig): AppConfig['whm'] {
  if (!c.WHM_URL) {
    if (c.WHM_TOKEN) throw new ConfigError('Configuration error: WHM_URL expects the WHM address when WHM_TOKEN is set (it is not set)');
    return undefined;
  }
  if (!c.WHM_TOKEN) throw new ConfigError('Configuration error: WHM_TOKEN expects a WHM API token when WHM_URL is set (it is not set)');
  if (c.WHM_CA_FILE && c.WHM_FINGERPRINT) throw new ConfigError('Configuration error: WHM_FINGERPRINT expects to be used without WHM_CA_FILE (set one of them)');
  let caPem: string | null = null;
  if (c.WHM_CA_FILE) {
    try {
      caPem = fs.readFileSync(c.WHM_CA_FILE, 'utf8');
    } catch {
      throw new ConfigError(`Configuration error: WHM_CA_FILE expects a readable PEM certificate file (cannot read ${c.WHM_CA_FILE})`);
    }
  }
  return {
    url: c.WHM_URL,
    user: c.WHM_USER,
    token: c.WHM_TOKEN,
    serverName: (c.WHM_SERVER_NAME ?? new URL(c.WHM_URL).hostname).toLowerCase(),
    caPem,
    fingerprint: c.WHM_FINGERPRINT ?? null,
  };
}

/** WHMCS needs all three of URL, identifier and secret; the secret is never echoed. */
function resolveWhmcs(c: RawConfig): AppConfig['whmcs'] {
  if (!c.WHMCS_URL) {
    if (c.WHMCS_IDENTIFIER || c.WHMCS_SECRET) throw new ConfigError('Configuration error: WHMCS_URL expects the WHMCS address when WHMCS_IDENTIFIER or WHMCS_SECRET is set (it is not set)');
    return undefined;
  }
  if (!c.WHMCS_IDENTIFIER) throw new ConfigError('Configuration error: WHMCS_IDENTIFIER expects the API credential identifier when WHMCS_URL is set (it is not set)');
  if (!c.WHMCS_SECRET) throw new ConfigError('Configuration error: WHMCS_SECRET expects the API credential secret when WHMCS_URL is set (it is not set)');
  return { url: c.WHMCS_URL, identifier: c.WHMCS_IDENTIFIER, secret: c.WHMCS_SECRET, invoiceAction: c.WHMCS_INVOICE_ACTION };
}

/** Reads and validates every setting; throws one ConfigError naming each bad variable. */
export function loadConfig(env: Env = process.env): AppConfig {
  const fromFile = env.CONFIG_FILE ? readConfigFile(env.CONFIG_FILE) : {};
  const merged: Env = { ...fromFile };
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v !== '') merged[k] = v;
  const result = configSchema.safeParse(merged);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? 'configuration');
      const got = merged[name] === undefined ? 'it is not set' : shown(name, merged[name]);
      return `${name} ${issue.message.replace(/^Invalid input: /, '')} (${got})`;
    });
    throw new ConfigError(`Configuration error: ${lines.join('; ')}`);
  }
  const c = result.data;
  const dataDir = path.resolve(c.DATA_DIR);
  const database = resolveDatabase(c.DATABASE_URL, dataDir);
  return {
    port: c.PORT,
    host: c.HOST,
    dataDir,
    database,
    demoPassword: c.DEMO_PASSWORD,
    demoData: c.DEMO_DATA === 'on' || (c.DEMO_DATA === 'auto' && !c.DATABASE_URL),
    sessionSecret: c.SESSION_SECRET,
    sessionTtlHours: c.SESSION_TTL_HOURS,
    baseUrl: c.BASE_URL,
    trustProxy: c.TRUST_PROXY,
    loginMaxFailures: c.LOGIN_MAX_FAILURES,
    loginWindowMinutes: c.LOGIN_WINDOW_MINUTES,
    logLevel: c.LOG_LEVEL,
    panelSsoSecretFile: checkPanelSecretFile('PANEL_SSO_SECRET_FILE', 'shims', c.PANEL_SSO_SECRET_FILE),
    panelHookSecretFile: checkPanelSecretFile('PANEL_HOOK_SECRET_FILE', 'hook scripts', c.PANEL_HOOK_SECRET_FILE),
    whm: resolveWhm(c),
    // Embedded default: no WHM configured and the embedded SQLite database → simulated servers with the demo fleet.
    panelSimulated: c.PANEL_SIMULATED === 'on' || (c.PANEL_SIMULATED === 'auto' && !c.WHM_URL && !c.DATABASE_URL),
    panelTimeoutMs: c.PANEL_TIMEOUT_MS,
    syncSchedule: c.SYNC_SCHEDULE,
    consentImportMaxBytes: c.CONSENT_IMPORT_MAX_MB * 1024 * 1024,
    smtpUrl: c.SMTP_URL,
    mailFrom: c.MAIL_FROM ?? `no-reply@${mailDomainOf(c.BASE_URL)}`,
    optInExpiryHours: c.OPTIN_EXPIRY_HOURS,
    complaints: {
      maxBytes: c.COMPLAINT_MAX_MB * 1024 * 1024,
      evidenceDays: c.COMPLAINT_EVIDENCE_DAYS,
      spamtrapsValid: c.COMPLAINT_SPAMTRAPS_VALID,
      responseHours: c.COMPLAINT_RESPONSE_HOURS,
      amountCents: Math.round(Number(c.CHARGE_AMOUNT) * 100),
      currency: c.CHARGE_CURRENCY,
    },
    whmcs: resolveWhmcs(c),
    blocks: { firewall: c.FIREWALL, csfPath: c.CSF_PATH, csfConf: c.CSF_CONF, repeatCount: c.BLOCK_REPEAT_COUNT, repeatHours: c.BLOCK_REPEAT_HOURS, schedule: c.BLOCK_SYNC_SCHEDULE },
    serverSuspension: { command: c.SERVER_SUSPEND_COMMAND, webhookUrl: c.SERVER_SUSPEND_WEBHOOK_URL },
    postmaster: {
      schedule: c.POSTMASTER_SCHEDULE,
      probe: c.POSTMASTER_PROBE === 'on' || (c.POSTMASTER_PROBE === 'auto' && !(c.PANEL_SIMULATED === 'on' || (c.PANEL_SIMULATED === 'auto' && !c.WHM_URL && !c.DATABASE_URL))),
      probePort: c.POSTMASTER_PROBE_PORT,
      heloName: (c.POSTMASTER_HELO ?? fqdnOrFallback()).toLowerCase(),
      probeSource: c.POSTMASTER_PROBE_SOURCE,
      dnsServers: c.POSTMASTER_DNS_SERVERS?.split(',').map((s) => s.trim()).filter(Boolean),
    },
  };
}

/** The probe's EHLO name: this host's name when it is fully qualified, else a placeholder an admin should replace (POSTMASTER_HELO). */
function fqdnOrFallback(): string {
  const host = os.hostname().toLowerCase();
  return /^[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(host) ? host : 'localhost.localdomain';
}

/** The default sender's domain: BASE_URL's host, else localhost (fine for captured mail; set MAIL_FROM for real sending). */
function mailDomainOf(baseUrl: string | undefined): string {
  const host = baseUrl ? new URL(baseUrl).hostname : '';
  return host && host.includes('.') ? host : 'localhost.localdomain';
}
