import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  makeTempRoot,
  parseCgi,
  perl,
  pluginDir,
  tokenFromLocation,
  verifySsoToken,
  writeFile,
  writePluginConfig,
} from './pluginTestKit';

const whmShim = path.join(pluginDir, 'whm/antispam.cgi');
const cpanelShim = path.join(pluginDir, 'cpanel/index.live.pl');
const adminModule = path.join(pluginDir, 'cpanel/adminbin/SSO.pm');

const APP_URL = 'http://127.0.0.1:3999';
const SSO_SECRET = 'sso-secret-for-tests-0123456789abcdef';

let root: string;
let cleanup: () => void;

beforeAll(() => {
  ({ root, cleanup } = makeTempRoot('antispam-shims-'));
});
afterAll(() => cleanup());

beforeEach(() => {
  fs.rmSync(path.join(root, 'etc'), { recursive: true, force: true });
  // Key file with trailing whitespace: the secret is the content with trailing whitespace trimmed.
  writePluginConfig(root, { appUrl: APP_URL, ssoSecret: SSO_SECRET, hookSecret: 'unused', ssoKeyFileContent: `${SSO_SECRET}\n\n  ` });
  writeFile(
    path.join(root, 'var/cpanel/resellers'),
    ['bob:list-accts,acct-summary,create-acct', 'boss:all', 'nolist:acct-summary,basic-whm-functions', ''].join('\n'),
  );
});

/** A CGI environment as cpsrvd sets it for an authenticated session. */
function cgiEnv(extra: Record<string, string | undefined>): Record<string, string | undefined> {
  return {
    ANTISPAM_ROOT: root,
    GATEWAY_INTERFACE: 'CGI/1.1',
    REQUEST_METHOD: 'GET',
    SERVER_PROTOCOL: 'HTTP/1.1',
    SCRIPT_NAME: '/cpsess1234567890/cgi/addons/antispam/index.cgi',
    QUERY_STRING: '',
    REMOTE_ADDR: '203.0.113.7',
    cp_security_token: '/cpsess1234567890',
    ...extra,
  };
}

async function runShim(script: string, env: Record<string, string | undefined>) {
  const res = await perl(script, [], { env: cgiEnv(env) });
  expect(res.code).toBe(0);
  expect(res.stderr).toBe('');
  return parseCgi(res.stdout);
}

function expectRedirect(page: ReturnType<typeof parseCgi>) {
  expect(page.status).toBe(302);
  expect(page.headers['cache-control']).toBe('no-store');
  const token = tokenFromLocation(page.headers.location ?? '', APP_URL);
  return verifySsoToken(token, SSO_SECRET);
}

function expectErrorPage(page: ReturnType<typeof parseCgi>, status: number, text: RegExp) {
  expect(page.status).toBe(status);
  expect(page.headers.location).toBeUndefined();
  expect(page.headers['content-type']).toMatch(/^text\/html/);
  expect(page.body).toMatch(/<html/);
  expect(page.body).toMatch(text);
  expect(page.body).not.toMatch(/token=/);
}

describe('WHM shim (plugin/whm/antispam.cgi)', () => {
  it('root -> 302 to /sso with a valid 60-second admin token', async () => {
    const claims = expectRedirect(await runShim(whmShim, { REMOTE_USER: 'root' }));
    expect(claims).toMatchObject({ v: 1, user: 'root', role: 'admin' });
    expect(claims.exp - claims.iat).toBe(60);
  });

  it('reseller with list-accts -> role reseller; user name lowercased', async () => {
    expect(expectRedirect(await runShim(whmShim, { REMOTE_USER: 'bob' }))).toMatchObject({ user: 'bob', role: 'reseller' });
    expect(expectRedirect(await runShim(whmShim, { REMOTE_USER: 'Bob' }))).toMatchObject({ user: 'bob', role: 'reseller' });
  });

  it('reseller with "all" (root-level) -> role admin', async () => {
    expect(expectRedirect(await runShim(whmShim, { REMOTE_USER: 'boss' }))).toMatchObject({ user: 'boss', role: 'admin' });
  });

  it('every token gets a fresh nonce', async () => {
    const a = expectRedirect(await runShim(whmShim, { REMOTE_USER: 'root' }));
    const b = expectRedirect(await runShim(whmShim, { REMOTE_USER: 'root' }));
    expect(a.nonce).not.toBe(b.nonce);
  });

  it('reseller without list-accts -> 403 page naming the privilege', async () => {
    expectErrorPage(await runShim(whmShim, { REMOTE_USER: 'nolist' }), 403, /list-accts/);
  });

  it('WHM user that is not a reseller -> 403', async () => {
    expectErrorPage(await runShim(whmShim, { REMOTE_USER: 'mallory' }), 403, /not listed as a reseller/);
  });

  it('missing REMOTE_USER -> error page, no redirect', async () => {
    expectErrorPage(await runShim(whmShim, { REMOTE_USER: undefined }), 403, /REMOTE_USER/);
    expectErrorPage(await runShim(whmShim, { REMOTE_USER: '' }), 403, /REMOTE_USER/);
  });

  it('API-token session (WHM_API_TOKEN_NAME) -> 403, even for root', async () => {
    expectErrorPage(await runShim(whmShim, { REMOTE_USER: 'root', WHM_API_TOKEN_NAME: 'billing' }), 403, /API token/);
  });

  it('config or secret unreadable -> 500 page saying what is wrong', async () => {
    fs.rmSync(path.join(root, 'etc/antispam-plugin/sso.key'));
    expectErrorPage(await runShim(whmShim, { REMOTE_USER: 'root' }), 500, /cannot read the secret file/);
    fs.rmSync(path.join(root, 'etc'), { recursive: true });
    expectErrorPage(await runShim(whmShim, { REMOTE_USER: 'root' }), 500, /cannot read the plugin config/);
  });

  it('reseller list unreadable -> 500 for resellers, root still works', async () => {
    fs.rmSync(path.join(root, 'var/cpanel/resellers'));
    expectErrorPage(await runShim(whmShim, { REMOTE_USER: 'bob' }), 500, /reseller list/);
    expectRedirect(await runShim(whmShim, { REMOTE_USER: 'root' }));
  });

  it('only GET/HEAD: POST -> 405', async () => {
    expectErrorPage(await runShim(whmShim, { REMOTE_USER: 'root', REQUEST_METHOD: 'POST' }), 405, /GET/);
  });

  it('redirects to public_url when plugin.conf sets one', async () => {
    fs.appendFileSync(path.join(root, 'etc/antispam-plugin/plugin.conf'), 'public_url=https://antispam.example.com/\n');
    const page = await runShim(whmShim, { REMOTE_USER: 'root' });
    const token = tokenFromLocation(page.headers.location ?? '', 'https://antispam.example.com');
    expect(verifySsoToken(token, SSO_SECRET).role).toBe('admin');
  });
});

describe('cPanel shim (plugin/cpanel/index.live.pl)', () => {
  it('cPanel user -> 302 with a valid customer token', async () => {
    const claims = expectRedirect(await runShim(cpanelShim, { REMOTE_USER: 'carol' }));
    expect(claims).toMatchObject({ v: 1, user: 'carol', role: 'customer' });
  });

  it('team user -> 403 page saying team users are not supported yet', async () => {
    expectErrorPage(
      await runShim(cpanelShim, { REMOTE_USER: 'carol', TEAM_USER: 'dave', TEAM_OWNER: 'carol', TEAM_LOGIN_DOMAIN: 'carol.example' }),
      403,
      /[Tt]eam users are not supported yet/,
    );
  });

  it('missing REMOTE_USER -> error page, no redirect', async () => {
    expectErrorPage(await runShim(cpanelShim, { REMOTE_USER: undefined }), 403, /REMOTE_USER/);
  });

  it('secret unreadable -> 500 page, no redirect', async () => {
    fs.rmSync(path.join(root, 'etc/antispam-plugin/sso.key'));
    expectErrorPage(await runShim(cpanelShim, { REMOTE_USER: 'carol' }), 500, /cannot read the secret file/);
  });
});

// On a cPanel server the cPanel page runs as the cPanel user and mints through cPanel's AdminBin
// (root). Here cPanel's two modules are faked; the shim and the admin module are the real files,
// and the shim runs as an unprivileged user ("nobody").
describe.skipIf(process.getuid?.() !== 0)('cPanel shim as the cPanel user, through the AdminBin admin module', () => {
  const NOBODY = 65534;
  let fakeLib: string;

  beforeAll(() => {
    fakeLib = path.join(root, 'fake-cpanel-lib');
    writeFile(
      path.join(fakeLib, 'Cpanel/AdminBin/Call.pm'),
      `package Cpanel::AdminBin::Call;
# Fake of cPanel's Cpanel::AdminBin::Call: runs the admin module in-process (the real one runs it as root).
use strict; use warnings;
sub call {
    my ($ns, $module, $action, @args) = @_;
    my $class = "Cpanel::Admin::Modules::\${ns}::\${module}";
    (my $file = "$class.pm") =~ s{::}{/}g;
    require $file;
    die "action $action not allowed\\n" if !grep { $_ eq $action } $class->_actions;
    my $self = $class->new(caller => scalar getpwuid($<));
    return $self->$action(@args);
}
1;
`,
    );
    writeFile(
      path.join(fakeLib, 'Cpanel/Admin/Base.pm'),
      `package Cpanel::Admin::Base;
# Fake of cPanel's Cpanel::Admin::Base: the caller and the feature check come from the test.
use strict; use warnings;
sub new { my ($class, %args) = @_; return bless {%args}, $class }
sub get_caller_username { return $_[0]{caller} }
sub cpuser_has_feature_or_die {
    my ($self, $feature) = @_;
    die "feature $feature is disabled\\n" if $ENV{FAKE_FEATURES_OFF};
    die "unexpected feature $feature\\n" if $feature ne 'antispam';
    return 1;
}
1;
`,
    );
    // The real admin module, at the path cPanel loads it from (relative to /var/cpanel/perl).
    writeFile(path.join(fakeLib, 'Cpanel/Admin/Modules/Antispam/SSO.pm'), fs.readFileSync(adminModule));
  });

  beforeEach(() => {
    // The fake escalation runs as "nobody", so it needs to read what root would read.
    for (const dir of [root, path.join(root, 'etc'), path.join(root, 'etc/antispam-plugin')]) fs.chmodSync(dir, 0o755);
    fs.chmodSync(path.join(root, 'etc/antispam-plugin/sso.key'), 0o644);
    for (const f of fs.readdirSync(fakeLib, { recursive: true }) as string[]) fs.chmodSync(path.join(fakeLib, f), 0o755);
    fs.chmodSync(fakeLib, 0o755);
  });

  async function runAsNobody(env: Record<string, string | undefined>) {
    const res = await perl(cpanelShim, [], { env: cgiEnv({ PERL5LIB: fakeLib, ...env }), uid: NOBODY, gid: NOBODY });
    expect(res.stderr).toBe('');
    return parseCgi(res.stdout);
  }

  it('the token is for the user cPanel says called (get_caller_username), role customer', async () => {
    const claims = expectRedirect(await runAsNobody({ REMOTE_USER: 'nobody' }));
    expect(claims).toMatchObject({ user: 'nobody', role: 'customer' });
  });

  it('account without the antispam feature -> 500 page, no redirect', async () => {
    expectErrorPage(await runAsNobody({ REMOTE_USER: 'nobody', FAKE_FEATURES_OFF: '1' }), 500, /helper failed/);
  });

  it('without AdminBin, an unprivileged shim only mints for its own system user', async () => {
    const res = await perl(cpanelShim, [], { env: cgiEnv({ REMOTE_USER: 'carol' }), uid: NOBODY, gid: NOBODY });
    expectErrorPage(parseCgi(res.stdout), 403, /different system user/);
  });

  it('the admin module compiles against the cPanel base class', async () => {
    const res = await perl('-c', [adminModule], { env: { PERL5LIB: fakeLib, ANTISPAM_ROOT: root } });
    expect(res.stderr).toMatch(/syntax OK/);
  });
});
