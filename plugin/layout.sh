# shellcheck shell=bash
# Install layout of the anti-spam policy plugin, sourced by install.sh and uninstall.sh.
# Every path is under the root prefix ANTISPAM_ROOT (default "/"), so tests can install into a
# temporary directory with fake panel commands. Keep in sync with plugin/lib/AntispamPlugin.pm
# ($BASE_REL, $HOOK_REL, $CONF_REL ...) and plugin/README.md.

ROOT="${ANTISPAM_ROOT:-/}"
while [[ "$ROOT" == */ ]]; do ROOT="${ROOT%/}"; done # "" for "/"

SYSTEMCTL="${SYSTEMCTL:-systemctl}"
UNIT_NAME="antispam-plugin.service"

CPANEL="$ROOT/usr/local/cpanel"

# cPanel's own commands (taken from the root prefix, so tests can put recording fakes there)
REGISTER_APPCONFIG="$CPANEL/bin/register_appconfig"
UNREGISTER_APPCONFIG="$CPANEL/bin/unregister_appconfig"
IS_REGISTERED_WITH_APPCONFIG="$CPANEL/bin/is_registered_with_appconfig"
INSTALL_PLUGIN="$CPANEL/scripts/install_plugin"
UNINSTALL_PLUGIN="$CPANEL/scripts/uninstall_plugin"
MANAGE_HOOKS="$CPANEL/bin/manage_hooks"

# Our files
BASE="$CPANEL/3rdparty/antispam"                 # plugin home: bin/, lib/, appconfig/, cpanel-plugin/
HOOK="$BASE/bin/antispam-hook"
BLOCK_REPORT_SCRIPT="$BASE/bin/csf-block-report" # CSF's BLOCK_REPORT (lfd → app)
CSF_CONF_FILE="$ROOT/etc/csf/csf.conf"           # CSF's own configuration (only read, or BLOCK_REPORT set on request)
LIB_FILE="$BASE/lib/AntispamPlugin.pm"
APPCONF="$BASE/appconfig/antispam.conf"          # the file handed to register_appconfig
PLUGIN_PKG="$BASE/cpanel-plugin"                 # the directory handed to install_plugin
WHM_CGI_DIR="$CPANEL/whostmgr/docroot/cgi/addons/antispam"
WHM_CGI="$WHM_CGI_DIR/index.cgi"
WHM_ICON="$CPANEL/whostmgr/docroot/addon_plugins/antispam.png"
ADMIN_MODULE_DIR="$ROOT/var/cpanel/perl/Cpanel/Admin/Modules/Antispam"
ADMIN_MODULE="$ADMIN_MODULE_DIR/SSO.pm"

ETC_DIR="$ROOT/etc/antispam-plugin"
PLUGIN_CONF="$ETC_DIR/plugin.conf"
SSO_KEY="$ETC_DIR/sso.key"
HOOK_KEY="$ETC_DIR/hook.key"
APP_ENV="$ETC_DIR/app.env"                       # extra environment of the service (admin-edited)
UNIT_FILE="$ROOT/etc/systemd/system/$UNIT_NAME"
DATA_DIR="$ROOT/var/lib/antispam-plugin"
LOG_DIR="$ROOT/var/log/antispam-plugin"

# The cPanel theme directory of the page shim depends on the theme (default jupiter).
theme_paths() {
  local theme="$1"
  THEME_ROOT="$CPANEL/base/frontend/$theme"
  CP_PAGE_DIR="$THEME_ROOT/antispam"
  CP_PAGE="$CP_PAGE_DIR/index.live.pl"
  DYNAMICUI_MARKER="$THEME_ROOT/dynamicui/dynamicui_antispam.conf"
}

# Value of key=value in plugin.conf (empty when absent).
conf_get() {
  local key="$1"
  [[ -r "$PLUGIN_CONF" ]] || return 0
  sed -n "s/^[[:space:]]*$key[[:space:]]*=[[:space:]]*//p" "$PLUGIN_CONF" | tail -n 1 | sed 's/[[:space:]]*$//'
}

# Value of KEY = "value" in CSF's csf.conf, quotes removed (empty when absent or CSF is not installed).
csf_conf_get() {
  local key="$1"
  [[ -r "$CSF_CONF_FILE" ]] || return 0
  sed -n "s/^[[:space:]]*$key[[:space:]]*=[[:space:]]*\"\{0,1\}\([^\"]*\)\"\{0,1\}[[:space:]]*\$/\1/p" "$CSF_CONF_FILE" | tail -n 1
}

# Sets KEY = "VALUE" in csf.conf: its line is replaced (or one appended); every other line, the
# file's mode and owner stay as they were. The new file replaces the old one in one rename.
csf_conf_set() {
  local key="$1" value="$2" tmp
  tmp="$(mktemp "$CSF_CONF_FILE.antispam.XXXXXX")"
  KEY="$key" VALUE="$value" perl -e '
    my ($k, $v, $done) = ($ENV{KEY}, $ENV{VALUE}, 0);
    while (my $line = <STDIN>) {
      if ($line =~ /^\s*\Q$k\E\s*=/) { $line = "$k = \"$v\"\n"; $done = 1 }
      print $line;
    }
    print "$k = \"$v\"\n" if !$done;
  ' <"$CSF_CONF_FILE" >"$tmp"
  chmod --reference="$CSF_CONF_FILE" "$tmp"
  chown --reference="$CSF_CONF_FILE" "$tmp" 2>/dev/null || true
  mv -f "$tmp" "$CSF_CONF_FILE"
}

# lfd reads csf.conf only when it starts: restart it if it runs (it does not in CSF's TESTING mode).
restart_lfd() {
  if "$SYSTEMCTL" is-active --quiet lfd.service 2>/dev/null; then
    "$SYSTEMCTL" restart lfd.service || warn "restarting lfd failed; restart it yourself: systemctl restart lfd"
  else
    say "lfd is not running; it reads BLOCK_REPORT when it starts"
  fi
}

say() { printf 'antispam: %s\n' "$*"; }
warn() { printf 'antispam: WARNING: %s\n' "$*" >&2; }
die() {
  printf 'antispam: ERROR: %s\n' "$*" >&2
  exit 1
}
