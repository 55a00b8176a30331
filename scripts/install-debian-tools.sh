#!/bin/sh
# Install the Debian packages named that this machine lacks; nothing when none is. Each is named by its command, or as
# package:command when the two differ (openssh-client:ssh-keygen).
# Another apt or dpkg at work is waited for, up to 10 minutes: `install` waits for dpkg's lock by itself
# (DPkg::Lock::Timeout), `update` does not wait for the package lists' lock, so it is tried again.
set -eu
missing=""
for item in "$@"; do
  command -v "${item#*:}" >/dev/null 2>&1 || missing="$missing ${item%%:*}"
done
[ -n "$missing" ] || exit 0
sudo=""
[ "$(id -u)" = 0 ] || sudo=sudo
apt_get() { $sudo env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 "$@"; }
echo "installing Debian's$missing"
# shellcheck disable=SC2086  # one word per package
apt_get install -y -qq $missing >/dev/null 2>&1 && exit 0
waited=0
until output=$(apt_get update -qq 2>&1); do
  case "$output" in
    *"Could not get lock"*|*"Unable to lock"*) ;;
    *) echo "$output" >&2; exit 1 ;;
  esac
  [ "$waited" -lt 600 ] || { echo "apt-get update: the package lists stayed locked for 10 minutes" >&2; exit 1; }
  echo "apt-get update: another apt holds the package lists; waiting" >&2
  sleep 10
  waited=$((waited + 10))
done
# shellcheck disable=SC2086
apt_get install -y -qq $missing >/dev/null
