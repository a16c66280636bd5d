#!/usr/bin/env bash
# Removes the panel side of the anti-spam policy plugin (run as root). install.sh also places a
# copy at /usr/local/cpanel/3rdparty/antispam/uninstall.sh.
#
#   uninstall.sh [--purge]
#
# Unregisters the hooks, the WHM AppConfig and the cPanel plugin entry, resets CSF's BLOCK_REPORT
# when it runs the plugin's script, disables and removes the systemd unit, and removes every file
# install.sh placed. It KEEPS:
#   /var/lib/antispam-plugin   the app's data (consent evidence, complaints, audit): always kept;
#                              remove it by hand if you really mean to destroy the records
#   /etc/antispam-plugin       plugin.conf and the SSO/hook keys, so a reinstall resumes as before
#   /var/log/antispam-plugin   the hook failure log
# --purge also removes /etc/antispam-plugin and /var/log/antispam-plugin (never the data).
# The deployed app (--app-dir of install.sh) is not touched.
# Idempotent: a second run finds nothing to do and succeeds.
# Environment: ANTISPAM_ROOT (root prefix, default /), SYSTEMCTL (default systemctl).
set -euo pipefail

SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=layout.sh
. "$SRC/layout.sh"

purge=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --purge) purge=1; shift ;;
    -h | --help)
      sed -n '2,17p' "${BASH_SOURCE[0]}"
      exit 0
      ;;
    *) die "unknown option: $1 (see --help)" ;;
  esac
done

[[ -n "$ROOT" || "$(id -u)" == 0 ]] || die "run uninstall.sh as root"

theme="$(conf_get theme)"
theme_paths "${theme:-jupiter}"

failed=0
# Runs a panel command; a failure is reported and remembered, the rest of the uninstall goes on.
run() {
  if ! "$@"; then
    warn "failed: $*"
    failed=1
  fi
}

# 1. hooks first, so the panel stops calling the app (manage_hooks runs the script's --describe)
if [[ -f "$HOOK" && -x "$MANAGE_HOOKS" ]]; then
  say "unregistering the Standardized Hooks"
  run "$MANAGE_HOOKS" delete script "$HOOK"
fi

# 1b. CSF: BLOCK_REPORT must not point at a script that is about to be removed
if [[ -f "$CSF_CONF_FILE" && "$(csf_conf_get BLOCK_REPORT)" == "$BLOCK_REPORT_SCRIPT" ]]; then
  csf_conf_set BLOCK_REPORT ""
  say "reset BLOCK_REPORT in $CSF_CONF_FILE"
  restart_lfd
fi

# 2. WHM AppConfig (unregister_appconfig reads name= from the file)
if [[ -f "$APPCONF" && -x "$UNREGISTER_APPCONFIG" ]]; then
  registered=1
  if [[ -x "$IS_REGISTERED_WITH_APPCONFIG" ]]; then
    registered="$("$IS_REGISTERED_WITH_APPCONFIG" whostmgr antispam 2>/dev/null || echo 1)"
  fi
  if [[ "$registered" == 1 ]]; then
    say "unregistering the WHM AppConfig"
    run "$UNREGISTER_APPCONFIG" "$APPCONF"
  fi
fi

# 3. cPanel plugin entry (uninstall_plugin reads the same install.json)
if [[ -f "$PLUGIN_PKG/install.json" && -x "$UNINSTALL_PLUGIN" ]]; then
  say "removing the cPanel plugin entry"
  run "$UNINSTALL_PLUGIN" "$PLUGIN_PKG" --theme="${theme:-jupiter}"
fi

# 4. the service
if [[ -f "$UNIT_FILE" ]]; then
  say "stopping and removing $UNIT_NAME"
  run "$SYSTEMCTL" disable --now "$UNIT_NAME"
  rm -f "$UNIT_FILE"
  run "$SYSTEMCTL" daemon-reload
fi

# 5. the placed files
for path in "$WHM_CGI_DIR" "$CP_PAGE_DIR" "$WHM_ICON" "$ADMIN_MODULE" "$BASE"; do
  if [[ -e "$path" || -L "$path" ]]; then
    rm -rf -- "$path"
    say "removed $path"
  fi
done
rmdir -- "$ADMIN_MODULE_DIR" 2>/dev/null || true

if [[ $purge == 1 ]]; then
  for path in "$ETC_DIR" "$LOG_DIR"; do
    if [[ -e "$path" ]]; then
      rm -rf -- "$path"
      say "purged $path"
    fi
  done
fi

kept=("$DATA_DIR")
[[ $purge == 1 ]] || kept+=("$ETC_DIR" "$LOG_DIR")
for path in "${kept[@]}"; do
  [[ ! -e "$path" ]] || say "kept $path"
done

if [[ $failed == 1 ]]; then
  die "some panel commands failed (see above); fix and run uninstall.sh again"
fi
say "uninstalled"
