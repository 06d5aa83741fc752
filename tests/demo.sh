#!/usr/bin/env bash
# vsgate demo: installs the build dependencies, builds, starts vsgated in a network-namespace lab
# and shows traffic going through the DPDK data plane and the exception path. Needs root.
#
#   client 10.0.0.2 ── veth ── [dpdk0  vsgated  dpdk1] ── veth ── server 10.0.1.2
#                                 │ dpdk0.kni   │ dpdk1.kni
#                              host stack of the appliance (10.0.0.1, 10.0.1.1)
#
# Usage: tests/demo.sh            (from anywhere; BUILD_DIR=build by default)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
VSGATED=$BUILD_DIR/daemon/vsgated
VSGATECTL=$BUILD_DIR/daemon/vsgatectl/vsgatectl
VSGATE_SNMP=$BUILD_DIR/snmp/vsgate-snmp
# Base MIB modules for snmpwalk to load VSGATE-MIB by name (Debian ships none).
SHARED_MIBS=${SHARED_MIBS:-$ROOT/../shared/mibs}
LAB=$ROOT/tests/lab/lab.sh
# Prefix, temporary directory, cleanup on exit or Ctrl-C, starting and stopping the processes:
# the same plumbing as the e2e tests.
# shellcheck source-path=SCRIPTDIR source=e2e/lib.sh
source "$ROOT/tests/e2e/lib.sh"
e2e_init demo vsd

step=0
section() {
  step=$((step + 1))
  if [[ -t 1 ]]; then
    printf '\n\033[1m=== %d. %s\033[0m\n' "$step" "$1"
  else
    printf '\n=== %d. %s\n' "$step" "$1"
  fi
  shift
  local line
  for line in "$@"; do echo "    $line"; done
}
run() { echo "\$ $*"; "$@"; }

need_root
e2e_start

section "Installing build dependencies" "packaging/install-deps.sh installs what is missing."
run "$ROOT/packaging/install-deps.sh"

section "Building (RelWithDebInfo, Ninja) into $BUILD_DIR"
echo "\$ cmake -S $ROOT -B $BUILD_DIR -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo"
if ! cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$TMP/cmake.log" 2>&1; then
  cat "$TMP/cmake.log" >&2
  exit 1
fi
# Everything the demo runs (the tests are built by tests/run_all.sh).
run ninja -C "$BUILD_DIR" vsgated vsgatectl vsgate-snmp
for f in "$VSGATED" "$VSGATECTL"; do
  [[ -x "$f" ]] || { echo "demo: $f was not built" >&2; exit 1; }
done

section "Creating the lab (namespaces $LAB_PREFIX-client, $LAB_PREFIX-app, $LAB_PREFIX-server)" \
  "The app namespace holds vsgated; its veths veth0/veth1 become DPDK ports dpdk0/dpdk1 (AF_XDP)."
echo "\$ $LAB up --rs 3"
lab_up --rs 3 || exit 1
"$LAB" status

section "vsgated configuration ($CONF)"
cat "$CONF"

section "Starting vsgated in $LAB_PREFIX-app" "log: $DAEMON_LOG"
run "$VSGATED" --check --config "$CONF"
daemon_start
echo "waiting up to 30 s for the control socket $SOCK"
if ! daemon_wait_ctl 30; then
  echo "demo: vsgated did not become ready (its log follows)" >&2
  exit 1
fi
run ctl version
section "Exception-path interfaces in the app namespace" \
  "vsgated created dpdk0.kni/dpdk1.kni (TAP PMD) and gave them the configured addresses."
run ip -n "$APP_NS" -br addr show

section "Ping the appliance (client -> 10.0.0.1)" \
  "Echo requests enter dpdk0, are punted to dpdk0.kni; the host stack's replies are injected back."
run ip netns exec "$CLIENT_NS" ping -c 3 -i 0.3 10.0.0.1

section "Ping the server through the appliance (client -> 10.0.1.2)" \
  "First packets go through the host stack until the neighbour 10.0.1.2 is learned;" \
  "then the data plane forwards them itself (TTL decrement, incremental checksum)."
run ip netns exec "$CLIENT_NS" ping -c 5 -i 0.3 10.0.1.2

section "Port statistics" "ethdev counters of dpdk0/dpdk1 (ipackets, opackets, drops)."
run ctl port stats
section "Lcore statistics" "Per-worker rx/tx, punted to / injected from the host, forwarded, drops."
run ctl lcore stats
section "Neighbours" "Mirrored from the host stack (netlink + /proc/net/arp)."
run ctl neigh show
section "Routes" "Mirrored from the host stack's routing table."
run ctl route show
section "Addresses" "The appliance's own addresses (on the kni interfaces)."
run ctl addr show

section "Load balancing HTTP over three real servers (FULLNAT, round robin)" \
  "ipvsadm syntax: a virtual service 10.0.0.100:80, rs1..rs3 (10.0.1.11..13), local address 10.0.1.1."
run "$LAB" rs-start
run ctl -A -t 10.0.0.100:80 -s rr
for rs in 10.0.1.11 10.0.1.12 10.0.1.13; do run ctl -a -t 10.0.0.100:80 -r "$rs:80" -b -w 1; done
run ctl --add-laddr -z 10.0.1.1 -t 10.0.0.100:80 -F dpdk1
echo "Six requests from the client; each real server answers with its name and the client it saw:"
for _ in 1 2 3 4 5 6; do
  ip netns exec "$CLIENT_NS" curl -s -m 5 http://10.0.0.100/ || echo "(request failed)"
done
run ctl -L -n
run ctl -L -n --stats
run ctl -L -n -c

section "SNMP: snmpd with the vsgate-snmp AgentX subagent" \
  "A private snmpd on 127.0.0.1 (AgentX socket in a temporary directory); vsgate-snmp reads" \
  "vsgated's control socket and serves VSGATE-MIB (docs/SNMP.md)."
snmpd_prepare demo .1.3.6.1.4.1.8072.9999.9999
snmpd_start
subagent_start
if [[ -f "$SHARED_MIBS/SNMPv2-SMI.txt" ]]; then
  SNMP=(-v2c -c demo -M "$SHARED_MIBS:$ROOT/snmp" -m VSGATE-MIB "127.0.0.1:$SNMP_PORT")
  VS_TABLE=VSGATE-MIB::vsgateVirtualServerTable
else
  echo "(the base MIB modules are not in $SHARED_MIBS: numeric OIDs below)"
  SNMP=(-v2c -c demo -m "" "127.0.0.1:$SNMP_PORT")
  VS_TABLE=.1.3.6.1.4.1.8072.9999.9999.4847.1.4
fi
# Wait for rows, not for any answer: before the subagent registers, snmpd answers
# "No more variables left in this MIB View".
vs_rows() {
  snmpwalk "${SNMP[@]}" "$VS_TABLE" 2>/dev/null |
    grep -Eq ' = (INTEGER|Gauge32|Counter64|STRING|Hex-STRING|Unsigned32): '
}
rows=""
if wait_for -i 0.25 20 vs_rows; then rows=yes; fi
echo "\$ snmpwalk ${SNMP[*]} $VS_TABLE"
snmpwalk "${SNMP[@]}" "$VS_TABLE"
if [[ -z "$rows" ]]; then
  echo "(no rows after 20 s; vsgate-snmp log:)"
  tail -n 20 "$SUB_LOG"
  echo "demo: the SNMP subagent served no VSGATE-MIB rows" >&2
  exit 1
fi
stop_pid "$SUB_PID"
SUB_PID=""
stop_pid "$SNMPD_PID"
SNMPD_PID=""

section "Stopping vsgated (SIGTERM)"
if ! daemon_term 10; then
  echo "demo: vsgated still running 10 s after SIGTERM" >&2
  exit 1
fi
daemon_rc=$DAEMON_RC
echo "vsgated exited with status $daemon_rc; last lines of its log:"
tail -n 5 "$DAEMON_LOG"

section "Tearing down the lab"
"$LAB" down
E2E_LAB_UP=0
echo
if ((daemon_rc != 0)); then
  echo "demo: vsgated exited with status $daemon_rc on SIGTERM" >&2
  exit 1
fi
echo "demo: done"
