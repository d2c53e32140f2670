#!/usr/bin/env bash
# Install the Debian 12 packages espforge needs to build and test (as root; sudo otherwise).
# Only missing packages are installed, so a prepared machine pays nothing.
set -eu
pkgs=(build-essential cmake pkg-config libssl-dev zlib1g-dev libcjson-dev libcmocka-dev openssl)
[ "${ESF_WITH_FUZZ:-0}" = 1 ] && pkgs+=(clang libclang-rt-14-dev)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "deps: installing ${missing[*]}" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
