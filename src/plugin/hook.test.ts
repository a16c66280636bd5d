import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HOOK_REL, makeTempRoot, perl, pluginDir, writePluginConfig } from './pluginTestKit';

const hookScript = path.join(pluginDir, 'hooks/antispam-hook');
const HOOK_SECRET = 'hook-secret-for-tests-0123456789abcdef';
const PASSWORD = 'S3cr3t-Pa55word-never-logged';

/** A Whostmgr-shaped Accounts::Create event as cPanel writes it on stdin (incl. the password). */
function accountsCreateEvent(): string {
  // Pretty-printed with an odd key order and a non-ASCII char: the body must reach the app byte for byte.
  return (
    JSON.stringify(
      {
        data: {
          user: 'bob',
          domain: 'bob-example.com',
          owner: 'reseller1',
          plan: 'default',
          contactemail: 'bob@example.org',
          pass: PASSWORD,
          max_email_per_hour: 250,
          note: 'Bücher',
        },
        context: { category: 'Whostmgr', event: 'Accounts::Create', stage: 'post', point: 'main' },
        hook: { hook: '/usr/local/cpanel/3rdparty/antispam/bin/antispam-hook', exectype: 'script', escalateprivs: 0, stage: 'post', id: 'abc', weight: 100 },
      },
      null,
      2,
    ) + '\n'
  );
}

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

let root: string;
let cleanup: () => void;
const servers: http.Server[] = [];
const sockets = new Set<Socket>();

beforeAll(() => {
  ({ root, cleanup } = makeTempRoot('antispam-hook-'));
});
afterEach(async () => {
  for (const s of sockets) s.destroy();
  sockets.clear();
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
  fs.rmSync(path.join(root, 'var/log'), { recursive: true, force: true });
});
afterAll(() => cleanup());

function listen(handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  servers.push(server);
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)),
  );
}

/** An app that records requests and answers with the given status. */
async function recordingApp(status = 202): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  const url = await listen((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(status < 400 ? '{"ok":true}' : '{"error":"internal details that must not be logged"}');
    });
  });
  return { url, received };
}

/** A port where nothing listens (bound, then closed). */
async function closedPortUrl(): Promise<string> {
  const server = http.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return `http://127.0.0.1:${port}`;
}

function failureLog(): string {
  const file = path.join(root, 'var/log/antispam-plugin/hook-failures.log');
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
}

/**
 * How long starting the hook takes on this machine right now (perl start + module loading):
 * added to the time bounds so a loaded test machine does not make the timing tests flaky.
 */
async function startupMs(): Promise<number> {
  return (await runHook('', ['--describe'])).ms;
}

function runHook(input: string, args: string[] = []) {
  return perl(hookScript, args, { env: { ANTISPAM_ROOT: root }, input });
}

describe('antispam-hook --describe', () => {
  it('prints a JSON array of the 7 post-stage, non-blocking script hooks at the installed path', async () => {
    const res = await runHook('', ['--describe']);
    expect(res.code).toBe(0);
    const descriptors = JSON.parse(res.stdout) as Array<Record<string, unknown>>;
    expect(Array.isArray(descriptors)).toBe(true);
    expect(descriptors.map((d) => `${d.category}/${d.event}`).sort()).toEqual(
      [
        'Cpanel/UAPI::Email::add_pop',
        'Cpanel/UAPI::Email::delete_pop',
        'Whostmgr/Accounts::Create',
        'Whostmgr/Accounts::Modify',
        'Whostmgr/Accounts::Remove',
        'Whostmgr/Accounts::suspendacct',
        'Whostmgr/Accounts::unsuspendacct',
      ].sort(),
    );
    for (const d of descriptors) {
      expect(d).toMatchObject({ stage: 'post', exectype: 'script', blocking: 0, hook: path.join(root, HOOK_REL) });
      // Cpanel-category hooks run as the cPanel user, who cannot read the root-only hook secret.
      expect(d.escalateprivs).toBe(d.category === 'Cpanel' ? 1 : 0);
    }
  });

  it('uses the real install path when no root prefix is set', async () => {
    const res = await perl(hookScript, ['--describe']);
    const descriptors = JSON.parse(res.stdout) as Array<{ hook: string }>;
    expect(new Set(descriptors.map((d) => d.hook))).toEqual(new Set(['/usr/local/cpanel/3rdparty/antispam/bin/antispam-hook']));
  });
});

describe('antispam-hook forwarding an event', () => {
  it('POSTs the exact stdin body to /hooks/panel with a valid timestamped HMAC signature', async () => {
    const app = await recordingApp(202);
    writePluginConfig(root, { appUrl: app.url, ssoSecret: 'unused', hookSecret: HOOK_SECRET });
    const event = accountsCreateEvent();
    const before = Math.floor(Date.now() / 1000);
    const res = await runHook(event);
    const after = Math.floor(Date.now() / 1000);

    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^1 antispam: Whostmgr::Accounts::Create stage=post forwarded\n$/);
    expect(app.received).toHaveLength(1);
    const req = app.received[0]!;
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/hooks/panel');
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.body.equals(Buffer.from(event, 'utf8'))).toBe(true);

    const ts = req.headers['x-antispam-timestamp'] as string;
    expect(ts).toMatch(/^\d+$/);
    expect(Number(ts)).toBeGreaterThanOrEqual(before);
    expect(Number(ts)).toBeLessThanOrEqual(after);
    const expected = 'sha256=' + createHmac('sha256', HOOK_SECRET).update(`${ts}.`).update(req.body).digest('hex');
    expect(req.headers['x-antispam-signature']).toBe(expected);
    expect(failureLog()).toBe('');
  });

  it('forwards Cpanel UAPI events too', async () => {
    const app = await recordingApp(200);
    writePluginConfig(root, { appUrl: app.url, ssoSecret: 'unused', hookSecret: HOOK_SECRET });
    const event = JSON.stringify({
      context: { category: 'Cpanel', event: 'UAPI::Email::add_pop', stage: 'post' },
      data: { email: 'info', domain: 'example.com', password: PASSWORD, user: 'bob' },
      hook: {},
    });
    const res = await runHook(event);
    expect(res.stdout).toBe('1 antispam: Cpanel::UAPI::Email::add_pop stage=post forwarded\n');
    expect(app.received[0]?.body.toString('utf8')).toBe(event);
  });
});

describe('antispam-hook when the app cannot take the event', () => {
  function expectNonBlockingSuccess(stdout: string) {
    expect(stdout).toMatch(/^1 antispam: app unreachable, sync will catch up/);
    expect(stdout.split('\n').filter(Boolean)).toHaveLength(1);
    expect(stdout).not.toContain('BAILOUT');
  }
  function expectOneLogLine(pattern: RegExp) {
    const lines = failureLog().split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ event=Whostmgr::Accounts::Create stage=post user=bob error="/);
    expect(lines[0]).toMatch(pattern);
    return lines[0]!;
  }
  function expectNoSecretsLogged() {
    const log = failureLog();
    expect(log).not.toContain(PASSWORD);
    expect(log).not.toMatch(/\bpass\b/);
    expect(log).not.toContain(HOOK_SECRET);
  }

  it('app down (closed port): exits at once with result 1 and one failure log line', async () => {
    writePluginConfig(root, { appUrl: await closedPortUrl(), ssoSecret: 'unused', hookSecret: HOOK_SECRET });
    const slack = await startupMs();
    const res = await runHook(accountsCreateEvent());
    expect(res.code).toBe(0);
    expect(res.ms).toBeLessThan(1000 + slack); // refused at once, far below hook_timeout (2 s)
    expectNonBlockingSuccess(res.stdout);
    expectOneLogLine(/refused/i);
    expectNoSecretsLogged();
  });

  it('app hanging (never answers): gives up after hook_timeout, result 1, logged', async () => {
    const url = await listen(() => {
      /* accept the request, never answer */
    });
    writePluginConfig(root, { appUrl: url, ssoSecret: 'unused', hookSecret: HOOK_SECRET, hookTimeout: 1 });
    const slack = await startupMs();
    const res = await runHook(accountsCreateEvent());
    expect(res.code).toBe(0);
    expect(res.ms).toBeGreaterThanOrEqual(900);
    expect(res.ms).toBeLessThan(1000 + 1000 + slack); // hook_timeout + 1 s (+ process start under load)
    expectNonBlockingSuccess(res.stdout);
    expectOneLogLine(/tim(ed )?out/i);
    expectNoSecretsLogged();
  });

  it('app trickling bytes forever: the wall-clock budget still ends it', async () => {
    const url = await listen((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': '1000000' });
      const timer = setInterval(() => res.write('x'), 200);
      res.on('close', () => clearInterval(timer));
    });
    writePluginConfig(root, { appUrl: url, ssoSecret: 'unused', hookSecret: HOOK_SECRET, hookTimeout: 1 });
    const slack = await startupMs();
    const res = await runHook(accountsCreateEvent());
    expect(res.ms).toBeLessThan(1000 + 1000 + slack);
    expectNonBlockingSuccess(res.stdout);
    expectOneLogLine(/timed out/);
  });

  it('app answering an error: result 1, status logged, not the response body', async () => {
    const app = await recordingApp(500);
    writePluginConfig(root, { appUrl: app.url, ssoSecret: 'unused', hookSecret: HOOK_SECRET });
    const res = await runHook(accountsCreateEvent());
    expectNonBlockingSuccess(res.stdout);
    const line = expectOneLogLine(/error="HTTP 500 Internal Server Error"/);
    expect(line).not.toContain('internal details');
    expectNoSecretsLogged();
  });

  it('plugin not configured (no plugin.conf): still result 1, logged', async () => {
    fs.rmSync(path.join(root, 'etc'), { recursive: true, force: true });
    const res = await runHook(accountsCreateEvent());
    expect(res.code).toBe(0);
    expectNonBlockingSuccess(res.stdout);
    expectOneLogLine(/cannot read the plugin config/);
    expectNoSecretsLogged();
  });

  it('garbage on stdin: result 1, nothing posted, logged', async () => {
    const app = await recordingApp(202);
    writePluginConfig(root, { appUrl: app.url, ssoSecret: 'unused', hookSecret: HOOK_SECRET });
    const res = await runHook(`not json pass=${PASSWORD}`);
    expectNonBlockingSuccess(res.stdout);
    expect(app.received).toHaveLength(0);
    expect(failureLog()).toMatch(/event=unknown user=- error="the event on stdin is not JSON"/);
    expectNoSecretsLogged();
  });

  it('appends one line per failure', async () => {
    writePluginConfig(root, { appUrl: await closedPortUrl(), ssoSecret: 'unused', hookSecret: HOOK_SECRET });
    await runHook(accountsCreateEvent());
    await runHook(accountsCreateEvent());
    expect(failureLog().split('\n').filter(Boolean)).toHaveLength(2);
  });
});
