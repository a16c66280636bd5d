import net from 'node:net';
import cron from 'node-cron';
import { z } from 'zod';

/** Every setting the app reads, with its default and what it expects (used in error messages). */
const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'], { message: 'expects true or false' })
    .default(fallback ? 'true' : 'false')
    .transform((v) => ['true', '1', 'yes', 'on'].includes(v));

const intIn = (min: number, max: number, fallback: number) =>
  z
    .string()
    .default(String(fallback))
    .refine((v) => /^\d+$/.test(v) && Number(v) >= min && Number(v) <= max, {
      message: `expects a whole number from ${min} to ${max}`,
    })
    .transform(Number);

export const configSchema = z.object({
  PORT: intIn(1, 65535, 3000),
  HOST: z.string().min(1, 'expects a host name or IP address to listen on').default('127.0.0.1'),
  DATA_DIR: z.string().min(1, 'expects a directory path').default('data'),
  DATABASE_URL: z
    .string()
    .refine((v) => /^(mysql|mariadb):\/\/[^/]+\/[^/?]+/.test(v) || /^sqlite:.+/.test(v), {
      message: 'expects mysql://user:password@host:port/database or sqlite:path/to/file.sqlite',
    })
    .optional(),
  DEMO_PASSWORD: z.string().min(8, 'expects at least 8 characters').optional(),
  DEMO_DATA: z
    .enum(['auto', 'on', 'off'], { message: 'expects auto, on or off' })
    .default('auto'),
  SESSION_SECRET: z.string().min(32, 'expects at least 32 characters').optional(),
  SESSION_TTL_HOURS: intIn(1, 24 * 30, 12),
  BASE_URL: z.url({ message: 'expects an absolute URL such as https://antispam.example.com' }).optional(),
  TRUST_PROXY: bool(false),
  LOGIN_MAX_FAILURES: intIn(1, 1000, 5),
  LOGIN_WINDOW_MINUTES: intIn(1, 24 * 60, 15),
  PANEL_SSO_SECRET_FILE: z.string().min(1, 'expects the path of the file holding the panel SSO secret').optional(),
  PANEL_HOOK_SECRET_FILE: z.string().min(1, 'expects the path of the file holding the panel hook secret').optional(),
  WHM_URL: z
    .string()
    .refine((v) => /^https:\/\/[^/]+/.test(v) || /^http:\/\/(127\.0\.0\.1|localhost)(:\d+)?/.test(v), { message: 'expects the WHM address, e.g. https://cp1.example.net:2087' })
    .optional(),
  WHM_USER: z.string().regex(/^[a-z0-9_-]{1,64}$/i, 'expects the WHM user the token belongs to, e.g. root').default('root'),
  WHM_TOKEN: z.string().min(8, 'expects a WHM API token').optional(),
  WHM_SERVER_NAME: z.string().regex(/^[a-z0-9][a-z0-9.-]{0,190}$/i, 'expects a server name of letters, digits, dots and dashes').optional(),
  WHM_CA_FILE: z.string().min(1, 'expects the path of a PEM certificate').optional(),
  WHM_FINGERPRINT: z.string().regex(/^(sha256[:=])?\s*([0-9a-f]{2}:?){31}[0-9a-f]{2}$/i, 'expects a SHA-256 certificate fingerprint (64 hex digits)').optional(),
  PANEL_SIMULATED: z.enum(['auto', 'on', 'off'], { message: 'expects auto, on or off' }).default('auto'),
  PANEL_TIMEOUT_MS: intIn(1000, 300_000, 30_000),
  SYNC_SCHEDULE: z
    .string()
    .refine((v) => cron.validate(v), { message: 'expects a cron expression such as "*/30 * * * *"' })
    .default('*/30 * * * *'),
  SMTP_URL: z
    .string()
    .refine((v) => /^smtps?:\/\/[^/]+/.test(v), { message: 'expects smtp://host:port or smtps://user:password@host:port' })
    .optional(),
  MAIL_FROM: z.string().regex(/^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/, 'expects the sender address of the mail the app sends, e.g. no-reply@antispam.example.com').optional(),
  OPTIN_EXPIRY_HOURS: intIn(1, 24 * 30, 48),
  CONSENT_IMPORT_MAX_MB: intIn(1, 10_240, 500),
  COMPLAINT_MAX_MB: intIn(1, 100, 10),
  COMPLAINT_EVIDENCE_DAYS: intIn(1, 90, 7),
  COMPLAINT_SPAMTRAPS_VALID: bool(true),
  COMPLAINT_RESPONSE_HOURS: intIn(1, 24 * 30, 72),
  CHARGE_AMOUNT: z.string().regex(/^\d{1,7}(\.\d{1,2})?$/, 'expects an amount such as 3000.00').default('3000.00'),
  CHARGE_CURRENCY: z.string().regex(/^[A-Z]{3}$/, 'expects a three-letter currency code such as USD').default('USD'),
  WHMCS_URL: z
    .string()
    .refine((v) => /^https:\/\/[^/]+/.test(v) || /^http:\/\/(127\.0\.0\.1|localhost)(:\d+)?(\/|$)/.test(v), { message: 'expects the WHMCS address, e.g. https://billing.example.com (http:// only on localhost)' })
    .optional(),
  WHMCS_IDENTIFIER: z.string().min(8, 'expects the API credential identifier (WHMCS admin → Manage API Credentials)').optional(),
  WHMCS_SECRET: z.string().min(8, 'expects the API credential secret').optional(),
  POSTMASTER_SCHEDULE: z
    .string()
    .refine((v) => cron.validate(v), { message: 'expects a cron expression such as "0 3 * * *"' })
    .default('0 3 * * *'),
  POSTMASTER_PROBE: z.enum(['auto', 'on', 'off'], { message: 'expects auto (off with the simulated panel), on or off' }).default('auto'),
  POSTMASTER_PROBE_PORT: intIn(1, 65535, 25),
  POSTMASTER_HELO: z.string().regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/i, 'expects the fully qualified host name the probe announces in EHLO, e.g. cp1.example.net').optional(),
  POSTMASTER_PROBE_SOURCE: z.string().refine((v) => net.isIP(v) !== 0, { message: 'expects the local IP address probes are sent from (e.g. the mail server\'s own)' }).optional(),
  POSTMASTER_DNS_SERVERS: z
    .string()
    .refine((v) => v.split(',').every((s) => /^[0-9a-f.:[\]]+$/i.test(s.trim())), { message: 'expects DNS servers as a comma-separated list of ip or ip:port' })
    .optional(),
  SERVER_SUSPEND_COMMAND: z.string().regex(/^\/\S+$/, 'expects the absolute path of an executable (it gets the server name, the action id and the reason as arguments)').optional(),
  SERVER_SUSPEND_WEBHOOK_URL: z.url({ message: 'expects an absolute URL the app POSTs server suspensions to' }).optional(),
  WHMCS_INVOICE_ACTION: z.enum(['nextcron', 'nextinvoice', 'noinvoice'], { message: 'expects nextcron, nextinvoice or noinvoice' }).default('nextcron'),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent'], { message: 'expects debug, info, warn, error or silent' }).default('info'),
  // IP block list (src/blocks/)
  FIREWALL: z.enum(['none', 'csf'], { message: 'expects none (blocks are recorded only) or csf' }).default('none'),
  CSF_PATH: z.string().regex(/^\/[^\0\s]*$/, 'expects the absolute path of the csf command, e.g. /usr/sbin/csf').default('/usr/sbin/csf'),
  CSF_CONF: z.string().regex(/^\/[^\0\s]*$/, 'expects the absolute path of csf.conf, e.g. /etc/csf/csf.conf').default('/etc/csf/csf.conf'),
  BLOCK_REPEAT_COUNT: intIn(2, 100, 4),
  BLOCK_REPEAT_HOURS: intIn(1, 24 * 30, 24),
  BLOCK_SYNC_SCHEDULE: z
    .string()
    .refine((v) => cron.validate(v), { message: 'expects a cron expression such as "*/5 * * * *"' })
    .default('*/5 * * * *'),
});

export type RawConfig = z.infer<typeof configSchema>;

export type DatabaseConfig =
  | { client: 'sqlite'; filename: string }
  | { client: 'mysql'; url: string };

export interface AppConfig {
  port: number;
  host: string;
  dataDir: string;
  database: DatabaseConfig;
  demoPassword?: string;
  demoData: boolean;
  sessionSecret?: string;
  sessionTtlHours: number;
  baseUrl?: string;
  trustProxy: boolean;
  loginMaxFailures: number;
  loginWindowMinutes: number;
  logLevel: RawConfig['LOG_LEVEL'];
  /** Absolute path of the secret shared with the panel shims (plugin/); unset = panel SSO off. */
  panelSsoSecretFile?: string;
  /** Absolute path of the secret the panel hook scripts sign events with; unset = /hooks/panel refuses everything. */
  panelHookSecretFile?: string;
  /** One WHM server from WHM_* variables (its token stays in memory). */
  whm?: { url: string; user: string; token: string; serverName: string; caPem: string | null; fingerprint: string | null };
  /** Start the built-in simulated WHM servers with the demo fleet (the embedded default). */
  panelSimulated: boolean;
  panelTimeoutMs: number;
  syncSchedule: string;
  /** Largest CSV file a consent import accepts (CONSENT_IMPORT_MAX_MB). */
  consentImportMaxBytes: number;
  /** Where mail goes out; unset = every mail is captured in the outbox (admin → Mail) and not sent. */
  smtpUrl?: string;
  mailFrom: string;
  /** How long a double opt-in confirmation link stays valid. */
  optInExpiryHours: number;
  complaints: {
    /** Largest complaint message accepted (COMPLAINT_MAX_MB). */
    maxBytes: number;
    /** Days a customer has to attach evidence when the recipient is redacted. */
    evidenceDays: number;
    spamtrapsValid: boolean;
    /** Hours a reseller has to act on a new case. */
    responseHours: number;
    /** What one valid complaint proposes to charge (CHARGE_AMOUNT, CHARGE_CURRENCY). */
    amountCents: number;
    currency: string;
  };
  postmaster: {
    /** When the daily sweep runs (POSTMASTER_SCHEDULE). */
    schedule: string;
    /** SMTP probing on or off (auto: off with the simulated panel, whose domains have no real mail servers). */
    probe: boolean;
    probePort: number;
    heloName: string;
    probeSource?: string;
    dnsServers?: string[];
  };
  /** The provider's own server-suspension command and webhook (SERVER_SUSPEND_*); unset = only "suspend every account". */
  serverSuspension: { command?: string; webhookUrl?: string };
  /** WHMCS API access for sending approved charges (WHMCS_*); unset = charges export as CSV only. */
  whmcs?: { url: string; identifier: string; secret: string; invoiceAction: 'nextcron' | 'nextinvoice' | 'noinvoice' };
  /** IP block list: the firewall blocks are applied to, the repeat-offender rule, and the expiry/sync job's schedule. */
  blocks: {
    firewall: 'none' | 'csf';
    csfPath: string;
    csfConf: string;
    repeatCount: number;
    repeatHours: number;
    schedule: string;
  };
}
