import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOOK_REL, makeTempRoot, parseCgi, perl, pluginDir, run, tokenFromLocation, verifySsoToken, writeFile } from './pluginTestKit';

const installSh = path.join(pluginDir, 'install.sh');
const uninstallSh = path.join(pluginDir, 'uninstall.sh');

let root: string;
let cleanup: () => void;
const p = (rel: string) => path.join(root, rel);

const CPANEL = 'usr/local/cpanel';
const BASE = `${CPANEL}/3rdparty/antispam`;
const FILES = {
  hook: HOOK_REL,
  blockReport: `${BASE}/bin/csf-block-report`,
  lib: `${BASE}/lib/AntispamPlugin.pm`,
  appconf: `${BASE}/appconfig/antispam.conf`,
  pkgJson: `${BASE}/cpanel-plugin/install.json`,
  pkgIcon: `${BASE}/cpanel-plugin/antispam.svg`,
  installedUninstall: `${BASE}/uninstall.sh`,
  whmCgi: `${CPANEL}/whostmgr/docroot/cgi/addons/antispam/index.cgi`,
  whmIcon: `${CPANEL}/whostmgr/docroot/addon_plugins/antispam.png`,
  cpPage: `${CPANEL}/base/frontend/jupiter/antispam/index.live.pl`,
  adminModule: 'var/cpanel/perl/Cpanel/Admin/Modules/Antispam/SSO.pm',
  conf: 'etc/antispam-plugin/plugin.conf',
  ssoKey: 'etc/antispam-plugin/sso.key',
  hookKey: 'etc/antispam-plugin/hook.key',
  appEnv: 'etc/antispam-plugin/app.env',
  unit: 'etc/systemd/system/antispam-plugin.service',
};

// ---- fake panel: every command appends "<name> <args>" to <root>/calls.log -------------------------

const recordLine = 'echo "$(basename "$0") $*" >> "$ANTISPAM_ROOT/calls.log"';
function fakeBash(rel: string, body = ''): void {
  writeFile(p(rel), `#!/usr/bin/env bash\nset -euo pipefail\n${recordLine}\n${body}\n`, 0o755);
}

function installFakePanel(): void {
  fakeBash(`${CPANEL}/bin/register_appconfig`, 'mkdir -p "$ANTISPAM_ROOT/var/cpanel/apps"; cp "$1" "$ANTISPAM_ROOT/var/cpanel/apps/antispam.conf"');
  fakeBash(`${CPANEL}/bin/unregister_appconfig`, 'rm -f "$ANTISPAM_ROOT/var/cpanel/apps/antispam.conf"');
  fakeBash(`${CPANEL}/bin/is_registered_with_appconfig`, '[[ -f "$ANTISPAM_ROOT/var/cpanel/apps/$2.conf" ]] && echo 1 || echo 0');
  const marker = '"$ANTISPAM_ROOT/usr/local/cpanel/base/frontend/${2#--theme=}/dynamicui/dynamicui_antispam.conf"';
  fakeBash(`${CPANEL}/scripts/install_plugin`, `[[ -f "$1/install.json" ]] || { echo "no install.json" >&2; exit 1; }\nmkdir -p "$(dirname ${marker})"; touch ${marker}`);
  fakeBash(`${CPANEL}/scripts/uninstall_plugin`, `[[ -f "$1/install.json" ]] || exit 1\nrm -f ${marker}`);
  // manage_hooks: "add script P" registers P's --describe output (skipping duplicates, like the real
  // one), "delete script P" removes it, "list --output=JSON" prints {category: {event: [hook...]}}.
  writeFile(
    p(`${CPANEL}/bin/manage_hooks`),
    `#!/usr/bin/env perl
use strict; use warnings; use JSON::PP;
my $root = $ENV{ANTISPAM_ROOT};
open(my $log, '>>', "$root/calls.log") or die; print $log join(' ', 'manage_hooks', @ARGV), "\\n"; close $log;
my $state = "$root/fake-hooks.json";
my $db = -f $state ? decode_json(do { local (@ARGV, $/) = $state; <> }) : {};
my ($action, $type, $hook) = @ARGV;
if ($action eq 'list') { print encode_json($db); exit 0 }
die "unexpected: @ARGV\\n" if $type ne 'script' || !-x $hook;
my $described = decode_json(scalar \`perl "$hook" --describe\`);
for my $d (@$described) {
    my $list = $db->{$d->{category}}{$d->{event}} ||= [];
    if ($action eq 'add') {
        push @$list, { %$d, id => scalar(@$list) } if !grep { $_->{hook} eq $d->{hook} && $_->{stage} eq $d->{stage} } @$list;
    } elsif ($action eq 'delete') {
        @$list = grep { $_->{hook} ne $d->{hook} } @$list;
    }
}
open(my $out, '>', $state) or die; print $out encode_json($db); close $out;
`,
    0o755,
  );
  // systemctl: remembers enabled/active per unit.
  writeFile(
    p('fake/systemctl'),
    `#!/usr/bin/env bash
set -euo pipefail
${recordLine.replace('$(basename "$0")', 'systemctl')}
state="$ANTISPAM_ROOT/fake/systemd-state"; mkdir -p "$state"
case "$1" in
  is-enabled) [[ -f "$state/\${!#}.enabled" ]] ;;
  is-active) [[ -f "$state/\${!#}.active" ]] ;;
  enable) touch "$state/\${!#}.enabled"; [[ "$2" != --now ]] || touch "$state/\${!#}.active" ;;
  disable) rm -f "$state/\${!#}.enabled"; [[ "$2" != --now ]] || rm -f "$state/\${!#}.active" ;;
  *) ;;
esac
`,
    0o755,
  );
  fs.mkdirSync(p(`${CPANEL}/base/frontend/jupiter`), { recursive: true });
  // The deployed app (install.sh checks it is there before writing a unit that runs it).
  writeFile(p('opt/antispam-plugin/src/main.ts'), '// app entry\n');
  fs.mkdirSync(p('opt/antispam-plugin/node_modules'), { recursive: true });
}

function env() {
  return { ANTISPAM_ROOT: root, SYSTEMCTL: p('fake/systemctl') };
}

function calls(): string[] {
  return fs.existsSync(p('calls.log')) ? fs.readFileSync(p('calls.log'), 'utf8').split('\n').filter(Boolean) : [];
}
function clearCalls(): void {
  fs.rmSync(p('calls.log'), { force: true });
}
/** The calls that change something (queries left out). */
function mutatingCalls(): string[] {
  return calls().filter((c) => !/^(is_registered_with_appconfig|manage_hooks list|systemctl is-(enabled|active))\b/.test(c));
}
function mode(rel: string): number {
  return fs.statSync(p(rel)).mode & 0o777;
}
function read(rel: string): string {
  return fs.readFileSync(p(rel), 'utf8');
}
function hookState(): Record<string, Record<string, Array<{ hook: string; stage: string }>>> {
  return JSON.parse(fs.readFileSync(p('fake-hooks.json'), 'utf8'));
}
function registeredHooks(): string[] {
  const db = hookState();
  return Object.entries(db).flatMap(([cat, events]) => Object.entries(events).flatMap(([ev, hooks]) => hooks.map((h) => `${cat}/${ev}/${h.stage}/${h.hook}`)));
}

beforeAll(() => {
  ({ root, cleanup } = makeTempRoot('antispam-install-'));
  installFakePanel();
});
afterAll(() => cleanup());

describe('install.sh / uninstall.sh against a temporary root with a fake panel', () => {
  let ssoKey = '';
  let hookKey = '';

  it('refuses to install where cPanel is missing, placing nothing', async () => {
    const empty = makeTempRoot('antispam-nocpanel-');
    try {
      const res = await run('bash', [installSh], { env: { ANTISPAM_ROOT: empty.root, SYSTEMCTL: '/bin/false' } });
      expect(res.code).toBe(1);
      expect(res.stderr).toMatch(/cPanel & WHM not found/);
      expect(fs.readdirSync(empty.root)).toEqual([]);
    } finally {
      empty.cleanup();
    }
  });

  it('first install places the files with their modes, generates keys, registers everything', async () => {
    const res = await run('bash', [installSh, '--app-url', 'http://127.0.0.1:3456/'], { env: env() });
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);

    expect(mode(FILES.whmCgi)).toBe(0o700);
    expect(mode(FILES.hook)).toBe(0o755);
    expect(mode(FILES.blockReport)).toBe(0o700); // run by lfd as root only
    expect(mode(FILES.cpPage)).toBe(0o755); // runs as the cPanel user
    expect(mode(FILES.lib)).toBe(0o644);
    expect(mode(FILES.adminModule)).toBe(0o644);
    expect(mode(FILES.whmIcon)).toBe(0o644);
    expect(mode(FILES.ssoKey)).toBe(0o600);
    expect(mode(FILES.hookKey)).toBe(0o600);
    expect(mode('var/lib/antispam-plugin')).toBe(0o700);
    for (const [name, rel] of [
      ['hooks/antispam-hook', FILES.hook],
      ['bin/csf-block-report', FILES.blockReport],
      ['lib/AntispamPlugin.pm', FILES.lib],
      ['whm/antispam.cgi', FILES.whmCgi],
      ['whm/antispam.conf', FILES.appconf],
      ['cpanel/install.json', FILES.pkgJson],
      ['cpanel/index.live.pl', FILES.cpPage],
      ['cpanel/adminbin/SSO.pm', FILES.adminModule],
      ['uninstall.sh', FILES.installedUninstall],
    ] as const) {
      expect(read(rel), name).toBe(fs.readFileSync(path.join(pluginDir, name), 'utf8'));
    }

    ssoKey = read(FILES.ssoKey);
    hookKey = read(FILES.hookKey);
    expect(ssoKey).toMatch(/^[0-9a-f]{64}\n$/);
    expect(hookKey).toMatch(/^[0-9a-f]{64}\n$/);
    expect(ssoKey).not.toBe(hookKey);

    const conf = read(FILES.conf);
    expect(conf).toContain('app_url=http://127.0.0.1:3456\n');
    expect(conf).toContain(`sso_secret_file=${p(FILES.ssoKey)}\n`);
    expect(conf).toContain(`hook_secret_file=${p(FILES.hookKey)}\n`);
    expect(conf).toContain('hook_timeout=2\n');

    const unit = read(FILES.unit);
    expect(unit).toContain(`WorkingDirectory=${p('opt/antispam-plugin')}\n`);
    expect(unit).toMatch(/^ExecStart=\/\S*node --import tsx src\/main\.ts$/m);
    expect(unit).toContain('Environment="HOST=127.0.0.1"');
    expect(unit).toContain('Environment="PORT=3456"');
    expect(unit).toContain(`Environment="DATA_DIR=${p('var/lib/antispam-plugin')}"`);
    expect(unit).toContain(`Environment="PANEL_SSO_SECRET_FILE=${p(FILES.ssoKey)}"`);
    expect(unit).toContain(`Environment="PANEL_HOOK_SECRET_FILE=${p(FILES.hookKey)}"`);
    expect(unit).toContain(`EnvironmentFile=-${p('etc/antispam-plugin/app.env')}\n`);
    expect(unit).toContain('WantedBy=multi-user.target');
    expect(mode('etc/antispam-plugin/app.env')).toBe(0o600);
    expect(read('etc/antispam-plugin/app.env')).toMatch(/^#WHM_TOKEN=$/m);
    expect(read('etc/antispam-plugin/app.env')).toMatch(/^#FIREWALL=csf$/m);

    expect(mutatingCalls()).toEqual([
      `register_appconfig ${p(FILES.appconf)}`,
      `install_plugin ${p(`${BASE}/cpanel-plugin`)} --theme=jupiter`,
      `manage_hooks add script ${p(FILES.hook)}`,
      'systemctl daemon-reload',
      'systemctl enable --now antispam-plugin.service',
    ]);
    expect(registeredHooks()).toHaveLength(7);
    expect(new Set(registeredHooks().map((h) => h.split('/').slice(2).join('/')))).toEqual(new Set([`post/${p(FILES.hook)}`]));
  });

  it('the installed WHM shim works with the generated key', async () => {
    const res = await perl(p(FILES.whmCgi), [], { env: { ANTISPAM_ROOT: root, REQUEST_METHOD: 'GET', REMOTE_USER: 'root' } });
    const page = parseCgi(res.stdout);
    expect(page.status).toBe(302);
    const claims = verifySsoToken(tokenFromLocation(page.headers.location ?? '', 'http://127.0.0.1:3456'), ssoKey.trim());
    expect(claims).toMatchObject({ user: 'root', role: 'admin' });
  });

  it('second install changes nothing: same files and keys, no registration or service call', async () => {
    clearCalls();
    const before = Object.fromEntries(Object.values(FILES).map((rel) => [rel, read(rel)]));
    const res = await run('bash', [installSh], { env: env() });
    expect(res.code).toBe(0);
    expect(res.stdout).not.toMatch(/placed|wrote|generated/);
    for (const rel of Object.values(FILES)) expect(read(rel), rel).toBe(before[rel]);
    expect(read(FILES.ssoKey)).toBe(ssoKey);
    expect(read(FILES.hookKey)).toBe(hookKey);
    expect(read(FILES.conf)).toContain('app_url=http://127.0.0.1:3456\n'); // kept from the first run
    expect(mutatingCalls()).toEqual([]);
    expect(registeredHooks()).toHaveLength(7);
  });

  it('a new --app-url rewrites plugin.conf and the unit, reloads and restarts; keys stay', async () => {
    clearCalls();
    const res = await run('bash', [installSh, '--app-url=http://127.0.0.1:4000', '--public-url', 'https://antispam.example.com'], { env: env() });
    expect(res.code).toBe(0);
    expect(read(FILES.conf)).toContain('app_url=http://127.0.0.1:4000\n');
    expect(read(FILES.conf)).toContain('public_url=https://antispam.example.com\n');
    expect(read(FILES.unit)).toContain('Environment="PORT=4000"');
    expect(read(FILES.unit)).toContain('Environment="BASE_URL=https://antispam.example.com"');
    expect(read(FILES.ssoKey)).toBe(ssoKey);
    expect(read(FILES.hookKey)).toBe(hookKey);
    expect(mutatingCalls()).toEqual(['systemctl daemon-reload', 'systemctl restart antispam-plugin.service']);
  });

  it('re-registers what went missing (e.g. hooks deleted in WHM)', async () => {
    fs.rmSync(p('fake-hooks.json'));
    clearCalls();
    expect((await run('bash', [installSh], { env: env() })).code).toBe(0);
    expect(mutatingCalls()).toEqual([`manage_hooks add script ${p(FILES.hook)}`]);
    expect(registeredHooks()).toHaveLength(7);
  });

  it('uninstall unregisters everything, removes the placed files, keeps data and keys', async () => {
    writeFile(p('var/lib/antispam-plugin/antispam.sqlite'), 'data');
    writeFile(p('var/log/antispam-plugin/hook-failures.log'), 'a line\n');
    clearCalls();
    const res = await run('bash', [uninstallSh], { env: env() });
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(mutatingCalls()).toEqual([
      `manage_hooks delete script ${p(FILES.hook)}`,
      `unregister_appconfig ${p(FILES.appconf)}`,
      `uninstall_plugin ${p(`${BASE}/cpanel-plugin`)} --theme=jupiter`,
      'systemctl disable --now antispam-plugin.service',
      'systemctl daemon-reload',
    ]);
    expect(registeredHooks()).toEqual([]);
    for (const rel of [FILES.hook, FILES.blockReport, FILES.lib, FILES.whmCgi, FILES.whmIcon, FILES.cpPage, FILES.adminModule, FILES.unit, BASE]) {
      expect(fs.existsSync(p(rel)), rel).toBe(false);
    }
    expect(fs.existsSync(p(`${CPANEL}/whostmgr/docroot/cgi/addons/antispam`))).toBe(false);
    expect(fs.existsSync(p(`${CPANEL}/base/frontend/jupiter/antispam`))).toBe(false);
    expect(fs.existsSync(p('var/cpanel/perl/Cpanel/Admin/Modules/Antispam'))).toBe(false);
    // kept
    expect(read('var/lib/antispam-plugin/antispam.sqlite')).toBe('data');
    expect(read(FILES.ssoKey)).toBe(ssoKey);
    expect(read(FILES.hookKey)).toBe(hookKey);
    expect(fs.existsSync(p(FILES.conf))).toBe(true);
    expect(read('var/log/antispam-plugin/hook-failures.log')).toBe('a line\n');
    expect(fs.existsSync(p(`${CPANEL}/bin/manage_hooks`))).toBe(true); // the panel's own files are untouched
  });

  it('second uninstall finds nothing to do and succeeds', async () => {
    clearCalls();
    const res = await run('bash', [uninstallSh], { env: env() });
    expect(res.code).toBe(0);
    expect(calls()).toEqual([]);
  });

  it('reinstall after uninstall reuses the kept keys and settings', async () => {
    clearCalls();
    const res = await run('bash', [installSh], { env: env() });
    expect(res.code).toBe(0);
    expect(read(FILES.ssoKey)).toBe(ssoKey);
    expect(read(FILES.conf)).toContain('app_url=http://127.0.0.1:4000\n');
    expect(registeredHooks()).toHaveLength(7);
    expect(mutatingCalls()).toContain('systemctl enable --now antispam-plugin.service');
  });

  it('the installed uninstall.sh --purge also removes settings, keys and log, never the data', async () => {
    const res = await run('bash', [p(FILES.installedUninstall), '--purge'], { env: env() });
    expect(res.code).toBe(0);
    expect(fs.existsSync(p('etc/antispam-plugin'))).toBe(false);
    expect(fs.existsSync(p('var/log/antispam-plugin'))).toBe(false);
    expect(fs.existsSync(p(BASE))).toBe(false);
    expect(read('var/lib/antispam-plugin/antispam.sqlite')).toBe('data');
  });
});

describe('install.sh / uninstall.sh and CSF\'s BLOCK_REPORT', () => {
  const csfConf = 'etc/csf/csf.conf';
  const script = () => p(FILES.blockReport);
  const conf = (blockReport: string, testing = '0') =>
    `# csf.conf (abridged)\nTESTING = "${testing}"\nTCP_IN = "20,21,22,25,53,80,110,143,443"\n\n# Block reporting\nBLOCK_REPORT = "${blockReport}"\nUNBLOCK_REPORT = ""\n`;
  const lfdRunning = () => writeFile(p('fake/systemd-state/lfd.service.active'), '');

  it('without CSF, --csf-block-report says CSF is not installed and installs the rest', async () => {
    clearCalls();
    const res = await run('bash', [installSh, '--csf-block-report'], { env: env() });
    expect(res.code).toBe(0);
    expect(res.stderr).toMatch(/--csf-block-report: CSF is not installed .*csf\.conf not found/);
    expect(mode(FILES.blockReport)).toBe(0o700);
    expect(fs.existsSync(p(csfConf))).toBe(false);
  });

  it('with CSF and no flag: tells the admin how to enable it, warns about TESTING mode, leaves csf.conf alone', async () => {
    writeFile(p(csfConf), conf('', '1'), 0o600);
    clearCalls();
    const res = await run('bash', [installSh], { env: env() });
    expect(res.code).toBe(0);
    expect(res.stdout).toContain(`CSF found: to record lfd's blocks in the app's IP block list, set BLOCK_REPORT = "${script()}" in ${p(csfConf)} and restart lfd (or run install.sh --csf-block-report)`);
    expect(res.stderr).toMatch(/CSF is in TESTING mode \(TESTING = "1"/);
    expect(read(csfConf)).toBe(conf('', '1'));
    expect(mutatingCalls().filter((c) => c.includes('lfd'))).toEqual([]);
  });

  it('--csf-block-report sets BLOCK_REPORT, keeps every other line and the mode, restarts a running lfd; a rerun changes nothing', async () => {
    writeFile(p(csfConf), conf(''), 0o600);
    lfdRunning();
    clearCalls();
    const res = await run('bash', [installSh, '--csf-block-report'], { env: env() });
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toContain(`set BLOCK_REPORT = "${script()}" in ${p(csfConf)}`);
    expect(read(csfConf)).toBe(conf(script()));
    expect(mode(csfConf)).toBe(0o600);
    expect(fs.readdirSync(p('etc/csf'))).toEqual(['csf.conf']); // no temporary file left behind
    expect(mutatingCalls()).toEqual(['systemctl restart lfd.service']);

    clearCalls();
    const again = await run('bash', [installSh, '--csf-block-report'], { env: env() });
    expect(again.code).toBe(0);
    expect(again.stdout).not.toMatch(/placed|wrote|generated|BLOCK_REPORT/);
    expect(read(csfConf)).toBe(conf(script()));
    expect(mutatingCalls()).toEqual([]);
  });

  it('never replaces a BLOCK_REPORT script of the admin\'s own', async () => {
    writeFile(p(csfConf), conf('/usr/local/sbin/abuseipdb-report'), 0o600);
    clearCalls();
    const res = await run('bash', [installSh, '--csf-block-report'], { env: env() });
    expect(res.code).toBe(0);
    expect(res.stderr).toContain('BLOCK_REPORT in');
    expect(res.stderr).toContain('already runs /usr/local/sbin/abuseipdb-report; left as it is');
    expect(read(csfConf)).toBe(conf('/usr/local/sbin/abuseipdb-report'));
    expect(mutatingCalls()).toEqual([]);
  });

  it('uninstall resets a BLOCK_REPORT that runs the plugin\'s script (and restarts lfd), but not someone else\'s', async () => {
    writeFile(p(csfConf), conf(script()), 0o600);
    lfdRunning();
    clearCalls();
    const res = await run('bash', [uninstallSh], { env: env() });
    expect(res.code).toBe(0);
    expect(read(csfConf)).toBe(conf(''));
    expect(mode(csfConf)).toBe(0o600);
    expect(mutatingCalls()).toContain('systemctl restart lfd.service');
    expect(fs.existsSync(script())).toBe(false);

    await run('bash', [installSh], { env: env() });
    writeFile(p(csfConf), conf('/usr/local/sbin/abuseipdb-report'), 0o600);
    await run('bash', [uninstallSh], { env: env() });
    expect(read(csfConf)).toBe(conf('/usr/local/sbin/abuseipdb-report'));
  });
});
