#!/usr/bin/env bash
# Installs the panel side of the anti-spam policy plugin on a cPanel & WHM server (run as root):
# WHM AppConfig entry + CGI shim, cPanel (Jupiter) plugin entry + page shim + admin module,
# the Standardized Hook script, the shared secrets, and the systemd unit of the app.
#
#   plugin/install.sh [--app-url URL] [--public-url URL] [--app-dir DIR] [--node PATH] [--theme NAME]
#                     [--csf-block-report]
#
# Idempotent: a second run with the same options changes nothing (files are compared before they
# are replaced, keys are generated only when missing, registrations are skipped when present).
# Environment: ANTISPAM_ROOT (root prefix, default /), SYSTEMCTL (default systemctl).
set -euo pipefail
umask 022

SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=layout.sh
. "$SRC/layout.sh"

usage() {
  cat <<EOF
Usage: $0 [options]
  --app-url URL     where the hooks reach the app (loopback), default http://127.0.0.1:3000
  --public-url URL  browser-facing base URL of the app for the panel SSO redirect (default: app URL)
  --app-dir DIR     the deployed app (git checkout + npm ci), default $ROOT/opt/antispam-plugin
  --node PATH       node binary for the service (default: cPanel's ea-nodejs, else node on PATH)
  --theme NAME      cPanel theme to add the plugin to, default jupiter
  --csf-block-report  also point CSF's BLOCK_REPORT (csf.conf) at the plugin's script, so lfd's
                    blocks reach the app's IP block list, and restart lfd (only when BLOCK_REPORT
                    is empty; an existing script is never replaced)
Options left out keep the value of the previous install (stored in $PLUGIN_CONF).
Environment: ANTISPAM_ROOT (root prefix, default /), SYSTEMCTL (default systemctl).
EOF
}

opt_app_url="" opt_public_url="" opt_app_dir="" opt_node="" opt_theme="" opt_csf_block_report=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --app-url) opt_app_url="${2:?--app-url needs a value}"; shift 2 ;;
    --app-url=*) opt_app_url="${1#*=}"; shift ;;
    --public-url) opt_public_url="${2:?--public-url needs a value}"; shift 2 ;;
    --public-url=*) opt_public_url="${1#*=}"; shift ;;
    --app-dir) opt_app_dir="${2:?--app-dir needs a value}"; shift 2 ;;
    --app-dir=*) opt_app_dir="${1#*=}"; shift ;;
    --node) opt_node="${2:?--node needs a value}"; shift 2 ;;
    --node=*) opt_node="${1#*=}"; shift ;;
    --theme) opt_theme="${2:?--theme needs a value}"; shift 2 ;;
    --theme=*) opt_theme="${1#*=}"; shift ;;
    --csf-block-report) opt_csf_block_report=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
done

[[ -n "$ROOT" || "$(id -u)" == 0 ]] || die "run install.sh as root"

# ---- settings: option > previous install (plugin.conf) > default -------------------------------
app_url="${opt_app_url:-$(conf_get app_url)}"
app_url="${app_url:-http://127.0.0.1:3000}"
public_url="${opt_public_url:-$(conf_get public_url)}"
app_dir="${opt_app_dir:-$(conf_get app_dir)}"
app_dir="${app_dir:-$ROOT/opt/antispam-plugin}"
theme="${opt_theme:-$(conf_get theme)}"
theme="${theme:-jupiter}"
hook_timeout="$(conf_get hook_timeout)"
hook_timeout="${hook_timeout:-2}"
node="${opt_node:-$(conf_get node)}"
if [[ -z "$node" ]]; then
  for candidate in "$ROOT/opt/cpanel/ea-nodejs22/bin/node" "$ROOT/opt/cpanel/ea-nodejs20/bin/node"; do
    if [[ -x "$candidate" ]]; then node="$candidate"; break; fi
  done
fi
node="${node:-$(command -v node || echo /usr/bin/node)}"

while [[ "$app_url" == */ ]]; do app_url="${app_url%/}"; done
while [[ "$public_url" == */ ]]; do public_url="${public_url%/}"; done
[[ "$app_url" =~ ^https?://[^/[:space:]]+(/[^[:space:]]*)?$ ]] || die "--app-url must be an http(s) URL, not '$app_url'"
[[ -z "$public_url" || "$public_url" =~ ^https?://[^/[:space:]]+(/[^[:space:]]*)?$ ]] || die "--public-url must be an http(s) URL, not '$public_url'"
[[ "$theme" =~ ^[A-Za-z0-9_-]+$ ]] || die "--theme must be a theme name, not '$theme'"
[[ "$hook_timeout" =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "hook_timeout in $PLUGIN_CONF must be a number of seconds"

# The port the app listens on comes from app_url (the app listens on 127.0.0.1 only).
hostport="${app_url#*://}"
hostport="${hostport%%/*}"
if [[ "$hostport" =~ :([0-9]+)$ ]]; then
  port="${BASH_REMATCH[1]}"
elif [[ "$app_url" == https://* ]]; then
  port=443
else
  port=80
fi
case "${hostport%:*}" in
  127.0.0.1 | localhost | "[::1]") ;;
  *) warn "app_url $app_url is not a loopback address, but the service listens on 127.0.0.1 only" ;;
esac

theme_paths "$theme"

# ---- preconditions -----------------------------------------------------------------------------
for cmd in "$REGISTER_APPCONFIG" "$INSTALL_PLUGIN" "$MANAGE_HOOKS"; do
  [[ -x "$cmd" ]] || die "cPanel & WHM not found: $cmd is missing (is this a cPanel server? ANTISPAM_ROOT=${ANTISPAM_ROOT:-/})"
done
[[ -d "$THEME_ROOT" ]] || die "the cPanel theme '$theme' does not exist ($THEME_ROOT)"
[[ -f "$app_dir/src/main.ts" && -d "$app_dir/node_modules" ]] ||
  die "the app is not deployed in $app_dir (expected src/main.ts and node_modules: clone it there and run npm ci --omit=dev), or pass --app-dir"

PERL="$CPANEL/3rdparty/bin/perl"
[[ -x "$PERL" ]] || PERL="$(command -v perl)" || die "perl not found"

# ---- helpers -----------------------------------------------------------------------------------
# place SRC DEST MODE: copies SRC to DEST only when the content differs; sets CHANGED=1 if it did.
CHANGED=0
place() {
  local src="$1" dest="$2" mode="$3"
  mkdir -p "$(dirname "$dest")"
  if [[ -f "$dest" ]] && cmp -s "$src" "$dest"; then
    chmod "$mode" "$dest"
    CHANGED=0
  else
    install -m "$mode" "$src" "$dest.new.$$"
    mv -f "$dest.new.$$" "$dest"
    say "placed $dest"
    CHANGED=1
  fi
}

# write_file DEST MODE < content: like place, for generated content.
write_file() {
  local dest="$1" mode="$2" tmp
  mkdir -p "$(dirname "$dest")"
  tmp="$(mktemp "$dest.new.XXXXXX")"
  cat >"$tmp"
  chmod "$mode" "$tmp"
  if [[ -f "$dest" ]] && cmp -s "$tmp" "$dest"; then
    rm -f "$tmp"
    chmod "$mode" "$dest"
    CHANGED=0
  else
    mv -f "$tmp" "$dest"
    say "wrote $dest"
    CHANGED=1
  fi
}

gen_key() {
  local file="$1"
  if [[ -s "$file" ]]; then
    chmod 600 "$file"
    return
  fi
  (
    umask 077
    head -c 32 /dev/urandom | od -An -v -tx1 | tr -d ' \n' >"$file.new.$$"
    echo >>"$file.new.$$"
    mv -f "$file.new.$$" "$file"
  )
  chmod 600 "$file"
  say "generated $file"
}

# ---- settings and secrets ----------------------------------------------------------------------
mkdir -p "$ETC_DIR"
chmod 755 "$ETC_DIR"
gen_key "$SSO_KEY"
gen_key "$HOOK_KEY"
{
  echo "# Anti-spam policy plugin: settings of the panel-side scripts (WHM/cPanel shims, hook)."
  echo "# Written by install.sh; options left out of a later install.sh run keep these values."
  echo "app_url=$app_url"
  [[ -z "$public_url" ]] || echo "public_url=$public_url"
  echo "sso_secret_file=$SSO_KEY"
  echo "hook_secret_file=$HOOK_KEY"
  echo "hook_timeout=$hook_timeout"
  echo "app_dir=$app_dir"
  echo "node=$node"
  echo "theme=$theme"
} | write_file "$PLUGIN_CONF" 644

# Extra settings of the app (WHM token, database ...): created once as a commented template, then
# left to the admin. systemd reads it through EnvironmentFile=.
if [[ ! -e "$APP_ENV" ]]; then
  (
    umask 077
    cat >"$APP_ENV" <<'EOF'
# Extra environment of the antispam-plugin service: KEY=value lines, read by systemd
# (EnvironmentFile=). Settings here override the unit's Environment= lines. Restart the service
# after editing:  systemctl restart antispam-plugin.service
# The app's settings are listed in its README (src/config/schema.ts), for example:
#WHM_URL=https://127.0.0.1:2087
#WHM_TOKEN=
#DATABASE_URL=mysql://antispam:password@localhost:3306/antispam
# Apply the IP block list through CSF on this server (blocks are only recorded otherwise):
#FIREWALL=csf
EOF
  )
  say "wrote $APP_ENV"
fi
chmod 600 "$APP_ENV"

mkdir -p "$DATA_DIR" "$LOG_DIR"
chmod 700 "$DATA_DIR"
chmod 750 "$LOG_DIR"

# ---- files -------------------------------------------------------------------------------------
place "$SRC/lib/AntispamPlugin.pm" "$LIB_FILE" 644
place "$SRC/hooks/antispam-hook" "$HOOK" 755
place "$SRC/bin/csf-block-report" "$BLOCK_REPORT_SCRIPT" 700
place "$SRC/layout.sh" "$BASE/layout.sh" 644
place "$SRC/uninstall.sh" "$BASE/uninstall.sh" 755
place "$SRC/whm/antispam.cgi" "$WHM_CGI" 700
place "$SRC/whm/antispam.png" "$WHM_ICON" 644
place "$SRC/cpanel/index.live.pl" "$CP_PAGE" 755
place "$SRC/cpanel/adminbin/SSO.pm" "$ADMIN_MODULE" 644
chmod 755 "$BASE" "$BASE/bin" "$BASE/lib" "$CP_PAGE_DIR"
chmod 700 "$WHM_CGI_DIR"

# ---- WHM: AppConfig ----------------------------------------------------------------------------
place "$SRC/whm/antispam.conf" "$APPCONF" 644
appconfig_changed=$CHANGED
registered=0
if [[ -x "$IS_REGISTERED_WITH_APPCONFIG" ]]; then
  registered="$("$IS_REGISTERED_WITH_APPCONFIG" whostmgr antispam 2>/dev/null || true)"
fi
if [[ $appconfig_changed == 1 || "$registered" != 1 ]]; then
  say "registering the WHM AppConfig"
  "$REGISTER_APPCONFIG" "$APPCONF"
fi

# ---- cPanel: Jupiter plugin (install.json) -----------------------------------------------------
place "$SRC/cpanel/install.json" "$PLUGIN_PKG/install.json" 644
pkg_changed=$CHANGED
place "$SRC/cpanel/antispam.svg" "$PLUGIN_PKG/antispam.svg" 644
[[ $CHANGED == 0 ]] || pkg_changed=1
if [[ $pkg_changed == 1 || ! -e "$DYNAMICUI_MARKER" ]]; then
  say "adding the cPanel plugin to the $theme theme"
  "$INSTALL_PLUGIN" "$PLUGIN_PKG" --theme="$theme"
fi

# ---- Standardized Hooks ------------------------------------------------------------------------
# manage_hooks skips a hook that is already registered, but we only call it when one of the
# described hooks is missing from "manage_hooks list --output=JSON", so a rerun changes nothing.
hooks_registered() {
  local listing
  listing="$("$MANAGE_HOOKS" list --output=JSON 2>/dev/null)" || return 1
  HOOK_LIST="$listing" "$PERL" -MJSON::PP -e '
    my $list = eval { JSON::PP->new->decode($ENV{HOOK_LIST}) };
    exit 1 if ref $list ne "HASH";
    my $want = JSON::PP->new->decode(scalar `"$ARGV[0]" "$ARGV[1]" --describe`);
    for my $d (@$want) {
      my $have = $list->{ $d->{category} }{ $d->{event} } || [];
      exit 1 if !grep { ref $_ eq "HASH" && ($_->{hook} // "") eq $d->{hook} && ($_->{stage} // "") eq $d->{stage} } @$have;
    }
    exit 0;
  ' "$PERL" "$HOOK"
}
if ! hooks_registered; then
  say "registering the Standardized Hooks"
  "$MANAGE_HOOKS" add script "$HOOK"
fi

# ---- CSF BLOCK_REPORT ---------------------------------------------------------------------------
# lfd runs BLOCK_REPORT (as root) for every block it makes; our script forwards it to the app's IP
# block list. csf.conf is the admin's: it is changed only with --csf-block-report, only when
# BLOCK_REPORT is empty (another script there is never replaced), and a rerun changes nothing.
if [[ -f "$CSF_CONF_FILE" ]]; then
  block_report="$(csf_conf_get BLOCK_REPORT)"
  if [[ "$block_report" == "$BLOCK_REPORT_SCRIPT" ]]; then
    :
  elif [[ $opt_csf_block_report == 1 && -z "$block_report" ]]; then
    csf_conf_set BLOCK_REPORT "$BLOCK_REPORT_SCRIPT"
    say "set BLOCK_REPORT = \"$BLOCK_REPORT_SCRIPT\" in $CSF_CONF_FILE"
    restart_lfd
  elif [[ $opt_csf_block_report == 1 ]]; then
    warn "BLOCK_REPORT in $CSF_CONF_FILE already runs $block_report; left as it is. To report lfd's blocks to the app as well, call $BLOCK_REPORT_SCRIPT from that script with the same arguments"
  else
    say "CSF found: to record lfd's blocks in the app's IP block list, set BLOCK_REPORT = \"$BLOCK_REPORT_SCRIPT\" in $CSF_CONF_FILE and restart lfd (or run install.sh --csf-block-report)"
  fi
  if [[ "$(csf_conf_get TESTING)" == 1 ]]; then
    warn "CSF is in TESTING mode (TESTING = \"1\" in $CSF_CONF_FILE): its blocks are cleared every few minutes and lfd does not run. Set TESTING = \"0\" and run csf -ra once the firewall is confirmed working"
  fi
elif [[ $opt_csf_block_report == 1 ]]; then
  warn "--csf-block-report: CSF is not installed ($CSF_CONF_FILE not found); BLOCK_REPORT was not set"
fi

# ---- systemd unit of the app -------------------------------------------------------------------
base_url_env=""
[[ -z "$public_url" ]] || base_url_env="Environment=\"BASE_URL=$public_url\""$'\n'
write_file "$UNIT_FILE" 644 <<EOF
# Anti-spam policy plugin: the app behind the cPanel/WHM shims and hooks. Written by install.sh.
[Unit]
Description=Anti-spam policy plugin (app for the cPanel/WHM panel)
After=network.target mariadb.service mysqld.service
Wants=network.target

[Service]
Type=simple
User=root
WorkingDirectory=$app_dir
ExecStart=$node --import tsx src/main.ts
Environment="HOST=127.0.0.1"
Environment="PORT=$port"
Environment="DATA_DIR=$DATA_DIR"
Environment="PANEL_SSO_SECRET_FILE=$SSO_KEY"
Environment="PANEL_HOOK_SECRET_FILE=$HOOK_KEY"
${base_url_env}EnvironmentFile=-$APP_ENV
UMask=0077
Restart=on-failure
RestartSec=2

[Install]
WantedBy=multi-user.target
EOF
unit_changed=$CHANGED
if [[ $unit_changed == 1 ]]; then
  "$SYSTEMCTL" daemon-reload
fi
if ! "$SYSTEMCTL" is-enabled --quiet "$UNIT_NAME" || ! "$SYSTEMCTL" is-active --quiet "$UNIT_NAME"; then
  say "enabling and starting $UNIT_NAME"
  "$SYSTEMCTL" enable --now "$UNIT_NAME"
elif [[ $unit_changed == 1 ]]; then
  say "restarting $UNIT_NAME (unit changed)"
  "$SYSTEMCTL" restart "$UNIT_NAME"
fi

say "installed. WHM: Plugins > Anti-Spam Policy. cPanel: enable the feature 'antispam' in WHM > Feature Manager for the packages that should see it."
say "uninstall with $BASE/uninstall.sh (keeps $DATA_DIR and $ETC_DIR)"
