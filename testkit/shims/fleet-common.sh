# Sourced by every shim of an SSH fleet host, never run. Installed as <host dir>/lib/fleet-common.sh.
#
# Inside a host's mount namespace /var/lib/opsc-fleet/self is a bind mount of that host's own data
# directory (host-process.ts), so the shims find their state at a fixed path: sudo resets HOME and the
# environment, so nothing may come from there.
FLEET_SELF=/var/lib/opsc-fleet/self
FLEET_STATE=$FLEET_SELF/state
# The state is shared by the host user and opsc-fleet-root (what sudo runs as): group opsc-fleet,
# setgid directories, group-writable files.
umask 002

# State changes need "root", which on a fleet host is opsc-fleet-root, reached through sudo.
fleet_privileged() {
  [ "$(id -u)" = 0 ] || [ "$(id -un)" = opsc-fleet-root ]
}

# Serialises state changes, as dpkg's and rpm's locks do on a real host.
fleet_lock() {
  exec 9>>"$FLEET_STATE/.lock" && flock -w 120 9
}

# Also keeps names from escaping the state directory.
fleet_valid_name() {
  [[ $1 =~ ^[A-Za-z0-9][A-Za-z0-9_.+@-]*$ ]]
}

# Whether PID $1 is alive (not a zombie) and its process name is $2.
fleet_proc_is() {
  local stat rest comm
  { IFS= read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
  comm=${stat#*\(}
  comm=${comm%)*}
  rest=${stat##*) }
  [ "$comm" = "$2" ] && [ "${rest%% *}" != Z ]
}

# ---- Services. A unit exists when svc/<unit>.unit does; it holds "enabled" or "disabled".
# svc/<unit>.pid is the PID of its running process: a copy of sleep named after the unit
# (libexec/<unit>), so `pgrep -x <unit>` finds it on this host only.

svc_known() {
  fleet_valid_name "$1" && [ -f "$FLEET_STATE/svc/$1.unit" ]
}

svc_pid() {
  local pid
  { read -r pid <"$FLEET_STATE/svc/$1.pid"; } 2>/dev/null || return 1
  fleet_proc_is "$pid" "$1" && printf '%s\n' "$pid"
}

svc_active() {
  svc_pid "$1" >/dev/null
}

svc_enabled() {
  local state
  read -r state <"$FLEET_STATE/svc/$1.unit" && [ "$state" = enabled ]
}

# The host's change journal (state/journal): one line per real transition, "<epoch.ns> <start|stop|boot-start> <unit>",
# so a test can count how often a change ran on this host (the fleet's readJournal).
fleet_journal() {
  printf '%s %s %s\n' "$(date +%s.%N)" "$1" "$2" >>"$FLEET_STATE/journal" 2>/dev/null || true
}

svc_start() {
  local pid i
  svc_active "$1" && return 0
  # A background job of a non-interactive shell is no process-group leader, so setsid execs in
  # place and $! is the service's own PID.
  # argv[0] is the bare name, so ps shows "nginx infinity" rather than the libexec path. fd 9 (the
  # state lock) must not live on in the service.
  (cd / && exec setsid /bin/bash -c 'exec -a "$0" "$1" infinity' "$1" "$FLEET_SELF/libexec/$1" </dev/null >/dev/null 2>&1 9>&-) &
  pid=$!
  for ((i = 0; i < 200; i++)); do
    fleet_proc_is "$pid" "$1" && break
    sleep 0.01
  done
  printf '%s\n' "$pid" >"$FLEET_STATE/svc/$1.pid"
  printf '%(%s)T\n' -1 >"$FLEET_STATE/svc/$1.since"
  fleet_journal "${FLEET_BOOTING:+boot-}start" "$1"
}

svc_stop() {
  local pid i
  if pid=$(svc_pid "$1"); then
    kill "$pid" 2>/dev/null
    for ((i = 0; i < 200; i++)); do
      fleet_proc_is "$pid" "$1" || break
      sleep 0.01
    done
    fleet_proc_is "$pid" "$1" && kill -9 "$pid" 2>/dev/null
    fleet_journal stop "$1"
  fi
  rm -f "$FLEET_STATE/svc/$1.pid" "$FLEET_STATE/svc/$1.since"
}

# Run once as the host boots (before its sshd): enabled units start, as systemd would.
fleet_boot() {
  local unit_file unit FLEET_BOOTING=1
  rm -f "$FLEET_STATE"/svc/*.pid "$FLEET_STATE"/svc/*.since
  for unit_file in "$FLEET_STATE"/svc/*.unit; do
    [ -f "$unit_file" ] || continue
    unit=${unit_file##*/}
    unit=${unit%.unit}
    if svc_enabled "$unit"; then svc_start "$unit"; fi
  done
}

# ---- Power. A reboot or power-off is a request to the fleet harness (state/power), which takes the
# host's namespace down by PID; the caller's command returns first, as systemctl's does.
fleet_power() {
  if ! fleet_privileged; then
    echo "Failed to $1 system via logind: Access denied" >&2
    return 1
  fi
  fleet_journal "$1" system
  printf '%s\n' "$1" >"$FLEET_STATE/power.new" && mv -f "$FLEET_STATE/power.new" "$FLEET_STATE/power"
}

# ---- Packages. pkg/<name> exists for every package the host knows; line 1 is the installed
# version (empty: not installed), line 2 the version an install or upgrade brings.

pkg_known() {
  fleet_valid_name "$1" && [ -f "$FLEET_STATE/pkg/$1" ]
}

pkg_installed() {
  local installed
  { IFS= read -r installed; } <"$FLEET_STATE/pkg/$1" 2>/dev/null || return 1
  printf '%s' "$installed"
}

pkg_available() {
  local installed available
  { IFS= read -r installed; IFS= read -r available; } <"$FLEET_STATE/pkg/$1"
  printf '%s' "$available"
}

pkg_is_installed() {
  [ -n "$(pkg_installed "$1")" ]
}

# Tests force a failed installation with a package named broken-*.
pkg_broken() {
  [[ $1 == broken-* ]]
}

# Lines 3 and on: older versions the repository still holds, which a rollback can pin.
pkg_versions() {
  tail -n +3 "$FLEET_STATE/pkg/$1" 2>/dev/null
}

pkg_has_version() {
  [ "$2" = "$(pkg_available "$1")" ] || [ "$2" = "$(pkg_installed "$1")" ] || pkg_versions "$1" | grep -qxF -- "$2"
}

# Writes the installed version ($2); the version it replaces stays in the repository.
pkg_write() {
  local old available
  old=$(pkg_installed "$1")
  available=$(pkg_available "$1")
  {
    printf '%s\n%s\n' "$2" "$available"
    pkg_versions "$1"
    if [ -n "$old" ] && [ "$old" != "$available" ] && ! pkg_versions "$1" | grep -qxF -- "$old"; then printf '%s\n' "$old"; fi
  } >"$FLEET_STATE/pkg/$1.new" &&
    mv -f "$FLEET_STATE/pkg/$1.new" "$FLEET_STATE/pkg/$1"
}

# Installs or upgrades to version $2 (default: the available one); a running service of the same
# name restarts (as a package's maintainer scripts do).
pkg_install() {
  pkg_write "$1" "${2:-$(pkg_available "$1")}"
  if svc_known "$1" && svc_active "$1"; then
    svc_stop "$1"
    svc_start "$1"
  fi
}

pkg_remove() {
  if svc_known "$1"; then svc_stop "$1"; fi
  pkg_write "$1" ''
}

# The installed packages, one name a line.
pkg_list_installed() {
  local file name
  for file in "$FLEET_STATE"/pkg/*; do
    name=${file##*/}
    [ -f "$file" ] && [[ $name != *.new ]] && pkg_is_installed "$name" && printf '%s\n' "$name"
  done
}

# Asks like a package manager does without -y; EOF (no terminal, no input) counts as no.
fleet_confirm() {
  local answer
  printf '%s' "$1"
  if ! IFS= read -r answer; then
    printf '\n'
    return 1
  fi
  case $2 in
    default-yes) [[ -z $answer || $answer == [yY]* ]] ;;
    *) [[ $answer == [yY]* ]] ;;
  esac
}
