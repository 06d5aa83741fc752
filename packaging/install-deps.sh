#!/usr/bin/env bash
# Installs the Debian packages needed to build and test vsgate (Debian 12 "bookworm").
# Idempotent: installs only what is missing and runs apt-get update only when something is.
# Usage: packaging/install-deps.sh        (as root, or with sudo available)
set -euo pipefail

PACKAGES=(
  # build
  build-essential cmake ninja-build pkg-config
  libdpdk-dev dpdk
  libiniparser-dev libboost-program-options-dev libsystemd-dev nlohmann-json3-dev libmnl-dev
  # tests
  googletest libgtest-dev
  # lab, e2e test and demo
  iproute2 iputils-ping ethtool procps python3
  # load-balancer e2e test (real servers answer HTTP; tcpdump to look at captures by hand)
  curl tcpdump
  # SNMP subagent (vsgate-snmp), its end-to-end test and the MIB lint test
  libsnmp-dev snmpd snmp smitools
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
  if [[ "$status" != "installed" ]]; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#PACKAGES[@]} packages already installed"
  exit 0
fi

SUDO=()
if ((EUID != 0)); then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    echo "install-deps: missing packages (${missing[*]}) and not root; re-run as root" >&2
    exit 1
  fi
fi

echo "install-deps: installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -q || { echo "install-deps: apt-get update failed" >&2; exit 1; }
if ! "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
    "${missing[@]}"; then
  echo "install-deps: apt-get install failed" >&2
  exit 1
fi
echo "install-deps: done"
