#!/usr/bin/env bash
# Install Debian packages whose command is missing: `scripts/apt-ensure.sh COMMAND[:PACKAGE] ...`.
# CI and the benchmarks call it so a fresh machine needs no manual step (chromium, wrk).
set -euo pipefail
missing=()
for spec in "$@"; do
  command -v "${spec%%:*}" >/dev/null 2>&1 || missing+=("${spec##*:}")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "missing: ${missing[*]} (run: sudo apt-get install ${missing[*]})" >&2
  exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
