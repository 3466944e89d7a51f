#!/bin/sh
# Install the Debian packages the real-component tests and the demo use, if any is missing.
# Idempotent and quiet when everything is there; needs root (CI and dev machines are root).
set -eu
PACKAGES="rabbitmq-server resource-agents pacemaker corosync pacemaker-cli-utils libxml2-utils pcs postgresql"
missing=""
for pkg in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
        || missing="$missing $pkg"
done
[ -z "$missing" ] && exit 0
echo "installing Debian packages:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq $missing >/dev/null
