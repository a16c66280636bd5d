import fs from 'node:fs';
import path from 'node:path';
import { configSchema, type AppConfig, type DatabaseConfig } from './schema';

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

/** Echoes a bad value in the error, except secrets: those end up in logs. */
function shown(name: string, value: string): string {
  if (/PASSWORD|SECRET/.test(name)) return `got ${value.length} characters`;
  return `got "${value.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@')}"`;
}

/** Panel SSO needs a readable, non-trivial secret; checked at start so a typo fails fast, not at the first sign-in. */
export const minPanelSsoSecretLength = 16;
function checkPanelSsoSecretFile(file: string | undefined): string | undefined {
  if (!file) return undefined;
  const resolved = path.resolve(file);
  let secret: string;
  try {
    secret = fs.readFileSync(resolved, 'utf8').trimEnd();
  } catch (err) {
    throw new ConfigError(
      `Configuration error: PANEL_SSO_SECRET_FILE expects a readable file holding the secret shared with the panel shims (cannot read ${resolved}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
  if (secret.length < minPanelSsoSecretLength) {
    throw new ConfigError(
      `Configuration error: PANEL_SSO_SECRET_FILE expects a file holding a secret of at least ${minPanelSsoSecretLength} characters (${resolved} holds ${secret.length})`,
    );
  }
  return resolved;
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
    panelSsoSecretFile: checkPanelSsoSecretFile(c.PANEL_SSO_SECRET_FILE),
  };
}
