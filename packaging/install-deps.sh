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
  googletest libgtest-dev clang-format
  # fuzz harnesses (tests/fuzz): clang, its sanitizer and libFuzzer runtimes
  clang-14 libclang-rt-14-dev libfuzzer-14-dev
  # lab, e2e test and demo
  iproute2 iputils-ping ethtool procps python3
  # load-balancer e2e test (real servers answer HTTP; tcpdump to look at captures by hand)
  curl tcpdump
  # SNMP subagent (vsgate-snmp), its end-to-end test and the MIB lint test
  libsnmp-dev snmpd snmp smitools
)
# Appliance: packages, image build, boot tests (installed without Recommends: qemu's would pull
# in a desktop's worth of libraries).
APPLIANCE_PACKAGES=(
  dpkg-dev fakeroot file lintian
  mmdebstrap genimage mtools dosfstools e2fsprogs zstd systemd-boot-efi
  systemd-container qemu-system-x86 qemu-utils ovmf
  driverctl snmp iperf3 shellcheck
)

is_installed() {
  [[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" == "installed" ]]
}
missing=() missing_appliance=()
for pkg in "${PACKAGES[@]}"; do
  is_installed "$pkg" || missing+=("$pkg")
done
for pkg in "${APPLIANCE_PACKAGES[@]}"; do
  is_installed "$pkg" || missing_appliance+=("$pkg")
done

if ((${#missing[@]} + ${#missing_appliance[@]} == 0)); then
  echo "install-deps: all $((${#PACKAGES[@]} + ${#APPLIANCE_PACKAGES[@]})) packages already installed"
  exit 0
fi

SUDO=()
if ((EUID != 0)); then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    echo "install-deps: missing packages (${missing[*]} ${missing_appliance[*]}) and not root; re-run as root" >&2
    exit 1
  fi
fi

echo "install-deps: installing: ${missing[*]} ${missing_appliance[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -q || { echo "install-deps: apt-get update failed" >&2; exit 1; }
if ((${#missing[@]})) && ! "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
    "${missing[@]}"; then
  echo "install-deps: apt-get install failed" >&2
  exit 1
fi
if ((${#missing_appliance[@]})) && ! "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "${missing_appliance[@]}"; then
  echo "install-deps: apt-get install (appliance packages) failed" >&2
  exit 1
fi
echo "install-deps: done"
