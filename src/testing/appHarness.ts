import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Express } from 'express';
import type { Knex } from 'knex';
import request from 'supertest';
import { createApp } from '../app';
import { loadConfig } from '../config/load';
import type { AppConfig } from '../config/schema';
import { buildContainer, type Container } from '../container';
import { FixedClock } from '../lib/clock';
import { setLogLevel } from '../lib/logger';
import { buildTenancy, type Tenancy } from './factories';
import { migratedTestDb, type Engine, type TestDb } from './testDb';

/** Failed sign-ins allowed before the limiter answers 429 in test apps (low, so the limit is cheap to reach). */
export const testLoginMaxFailures = 3;
export const testLoginWindowMinutes = 15;
export const testSessionSecret = 'test-session-secret-0123456789-abcdefghijklmnop';

/** The clock of a test app: fixed at the (whole-second) real time, so session cookie expiry, which express-session computes from real time, stays in the future. */
export function harnessClock(): FixedClock {
  return new FixedClock(new Date(Math.floor(Date.now() / 1000) * 1000));
}

let dataDir: string | null = null;
function testDataDir(): string {
  dataDir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'antispam-app-'));
  return dataDir;
}

/** Configuration as the app would load it from the environment, with test defaults (`env` wins). */
export function testConfig(env: Record<string, string | undefined> = {}): AppConfig {
  return loadConfig({
    DATA_DIR: testDataDir(),
    LOGIN_MAX_FAILURES: String(testLoginMaxFailures),
    LOGIN_WINDOW_MINUTES: String(testLoginWindowMinutes),
    SESSION_SECRET: testSessionSecret,
    DEMO_DATA: 'off',
    LOG_LEVEL: 'silent',
    ...env,
  });
}

export interface TestApp {
  app: Express;
  container: Container;
  config: AppConfig;
  clock: FixedClock;
}

/** The real app (same composition root as main.ts) on a given database. */
export function buildTestApp(db: Knex, opts: { clock?: FixedClock; env?: Record<string, string | undefined> } = {}): TestApp {
  const config = testConfig(opts.env);
  setLogLevel(config.logLevel);
  const clock = opts.clock ?? harnessClock();
  const container = buildContainer({ config, db, clock, sessionSecret: testSessionSecret });
  return { app: createApp(container), container, config, clock };
}

export interface Harness extends TestApp {
  t: TestDb;
  db: Knex;
  /** The standard tenancy tree (src/testing/factories.ts), stamped with the harness clock. */
  f: Tenancy;
  cleanup(): Promise<void>;
}

/** A migrated private database of `engine`, the standard tenancy, and the real app on top. */
export async function buildHarness(engine: Engine, opts: { env?: Record<string, string | undefined> } = {}): Promise<Harness> {
  const t = await migratedTestDb(engine);
  try {
    const clock = harnessClock();
    const f = await buildTenancy(t.db, clock);
    return { ...buildTestApp(t.db, { clock, env: opts.env }), t, db: t.db, f, cleanup: () => t.cleanup() };
  } catch (err) {
    await t.cleanup();
    throw err;
  }
}

export type Agent = ReturnType<typeof request.agent>;

const csrfPattern = /name="_csrf" value="([^"]+)"/;

/** The `_csrf` value of the first form in an HTML page; throws when the page has none. */
export function csrfFromHtml(html: string): string {
  const match = csrfPattern.exec(html);
  if (!match) throw new Error(`no _csrf field in the page:\n${html.slice(0, 500)}`);
  return match[1]!;
}

/** GETs `pathname` with the agent and returns the CSRF token of its form (every panel page has the sign-out form). */
export async function csrfOf(agent: Agent, pathname: string): Promise<string> {
  const res = await agent.get(pathname);
  if (res.status !== 200) throw new Error(`GET ${pathname} answered ${res.status}, expected 200 to read a CSRF token`);
  return csrfFromHtml(res.text);
}

/** The session id inside a Set-Cookie header of `antispam.sid` (signed cookie "s:<sid>.<signature>"), or null. */
export function sessionIdFrom(setCookie: string[] | string | undefined): string | null {
  const headers = setCookie === undefined ? [] : Array.isArray(setCookie) ? setCookie : [setCookie];
  for (const header of headers) {
    const match = /^antispam\.sid=([^;]*)/.exec(header);
    if (match) {
      const value = decodeURIComponent(match[1]!);
      return value.startsWith('s:') ? value.slice(2, value.lastIndexOf('.')) : value;
    }
  }
  return null;
}

export interface LoggedIn {
  agent: Agent;
  /** Where the sign-in redirected to (the role's home unless `next` applied). */
  location: string;
  /** The CSRF token of the page at `pathname` (default: the role home the sign-in led to). */
  csrf(pathname?: string): Promise<string>;
}

/** Signs in through the real form: GET /login, read `_csrf`, POST login + password + `_csrf`; expects the 302. */
export async function loginAs(app: Express, login: string, password: string, opts: { next?: string } = {}): Promise<LoggedIn> {
  const agent = request.agent(app);
  const page = await agent.get('/login');
  if (page.status !== 200) throw new Error(`GET /login answered ${page.status}`);
  const form: Record<string, string> = { login, password, _csrf: csrfFromHtml(page.text) };
  if (opts.next !== undefined) form.next = opts.next;
  const res = await agent.post('/login').type('form').send(form);
  if (res.status !== 302) throw new Error(`sign-in of ${login} answered ${res.status}, expected 302:\n${res.text.slice(0, 800)}`);
  const location = String(res.headers.location);
  return { agent, location, csrf: (pathname = location) => csrfOf(agent, pathname) };
}

/** Decodes the few entities EJS's escaping produces, so hrefs in HTML can be requested again. */
export function unescapeHtml(text: string): string {
  return text.replace(/&amp;/g, '&').replace(/&#34;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>');
}

/** Text of the first cell of every body row of the table with `data-testid="<testId>"` (tags stripped). */
export function firstColumn(html: string, testId: string): string[] {
  const start = html.indexOf(`data-testid="${testId}"`);
  if (start < 0) return [];
  const table = html.slice(start, html.indexOf('</table>', start));
  const body = table.slice(table.indexOf('<tbody>'));
  return [...body.matchAll(/<tr>\s*<td[^>]*>([\s\S]*?)<\/td>/g)].map((m) => unescapeHtml(m[1]!.replace(/<span[\s\S]*?<\/span>/g, '').replace(/<[^>]+>/g, '').trim()));
}

/** The href of the pager's rel="next" link, unescaped, or null on the last page. */
export function nextHref(html: string): string | null {
  const match = /href="([^"]+)" rel="next"/.exec(html);
  return match ? unescapeHtml(match[1]!) : null;
}
