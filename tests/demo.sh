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
export LAB_PREFIX=${LAB_PREFIX:-vsd$(printf '%05d' $(($$ % 100000)))}
unset LAB_RUN_DIR

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
# True while PID exists and is not a zombie (an un-waited child still answers kill -0).
is_running() {
  local state
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [[ -n "$state" && "$state" != Z ]]
}

if ((EUID != 0)); then
  echo "demo: needs root (network namespaces, DPDK); run it as root" >&2
  exit 1
fi

TMP=$(mktemp -d /tmp/vsgate-demo.XXXXXX)
CONF=$TMP/vsgate.conf
DAEMON_LOG=$TMP/vsgated.log
DAEMON_PID=""
SNMPD_PID=""
SUBAGENT_PID=""
LAB_IS_UP=0

stop_child() {  # stop_child PID: TERM, up to 5 s, then KILL (our own children only)
  kill -TERM "$1" 2>/dev/null
  for _ in $(seq 50); do is_running "$1" || break; sleep 0.1; done
  kill -KILL "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  set +e
  trap - EXIT INT TERM
  [[ -n "$SUBAGENT_PID" ]] && stop_child "$SUBAGENT_PID"
  [[ -n "$SNMPD_PID" ]] && stop_child "$SNMPD_PID"
  if [[ -n "$DAEMON_PID" ]] && is_running "$DAEMON_PID"; then
    echo "demo: stopping vsgated (pid $DAEMON_PID)"
    kill -TERM "$DAEMON_PID"
    for _ in $(seq 100); do is_running "$DAEMON_PID" || break; sleep 0.1; done
    kill -KILL "$DAEMON_PID" 2>/dev/null
    wait "$DAEMON_PID" 2>/dev/null
  fi
  if ((LAB_IS_UP)); then
    echo "demo: tearing down the lab ($LAB_PREFIX)"
    "$LAB" down
  fi
  rm -rf -- "$TMP"
  if ((rc != 0)); then echo "demo: FAILED (exit $rc)" >&2; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

section "Installing build dependencies" "packaging/install-deps.sh installs what is missing."
run "$ROOT/packaging/install-deps.sh"

section "Building (RelWithDebInfo, Ninja) into $BUILD_DIR"
echo "\$ cmake -S $ROOT -B $BUILD_DIR -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo"
if ! cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$TMP/cmake.log" 2>&1; then
  cat "$TMP/cmake.log" >&2
  exit 1
fi
run ninja -C "$BUILD_DIR" vsgated vsgatectl  # the tests are built by tests/run_all.sh
for f in "$VSGATED" "$VSGATECTL"; do
  [[ -x "$f" ]] || { echo "demo: $f was not built" >&2; exit 1; }
done

section "Creating the lab (namespaces $LAB_PREFIX-client, $LAB_PREFIX-app, $LAB_PREFIX-server)" \
  "The app namespace holds vsgated; its veths veth0/veth1 become DPDK ports dpdk0/dpdk1 (AF_XDP)."
LAB_IS_UP=1
run "$LAB" up --rs 3
"$LAB" status

section "vsgated configuration ($CONF)"
"$LAB" config | tee "$CONF"
SOCK=$(sed -n 's/^control_socket *= *//p' "$CONF")
mkdir -p "$(dirname "$SOCK")"
ctl() { "$VSGATECTL" --socket "$SOCK" "$@"; }

section "Starting vsgated in $LAB_PREFIX-app" "log: $DAEMON_LOG"
run "$VSGATED" --check --config "$CONF"
ip netns exec "$LAB_PREFIX-app" "$VSGATED" --config "$CONF" >"$DAEMON_LOG" 2>&1 &
DAEMON_PID=$!
echo "vsgated pid $DAEMON_PID; waiting up to 30 s for the control socket $SOCK"
ready=0
for _ in $(seq 300); do
  if ctl version >/dev/null 2>&1; then ready=1; break; fi
  is_running "$DAEMON_PID" || break
  sleep 0.1
done
if ((!ready)); then
  echo "demo: vsgated did not become ready; its log:" >&2
  cat "$DAEMON_LOG" >&2
  exit 1
fi
run ctl version
section "Exception-path interfaces in the app namespace" \
  "vsgated created dpdk0.kni/dpdk1.kni (TAP PMD) and gave them the configured addresses."
run ip -n "$LAB_PREFIX-app" -br addr show

section "Ping the appliance (client -> 10.0.0.1)" \
  "Echo requests enter dpdk0, are punted to dpdk0.kni; the host stack's replies are injected back."
run ip netns exec "$LAB_PREFIX-client" ping -c 3 -i 0.3 10.0.0.1

section "Ping the server through the appliance (client -> 10.0.1.2)" \
  "First packets go through the host stack until the neighbour 10.0.1.2 is learned;" \
  "then the data plane forwards them itself (TTL decrement, incremental checksum)."
run ip netns exec "$LAB_PREFIX-client" ping -c 5 -i 0.3 10.0.1.2

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
  ip netns exec "$LAB_PREFIX-client" curl -s -m 5 http://10.0.0.100/ || echo "(request failed)"
done
run ctl -L -n
run ctl -L -n --stats
run ctl -L -n -c

section "SNMP: snmpd with the vsgate-snmp AgentX subagent" \
  "A private snmpd on 127.0.0.1 (AgentX socket in a temporary directory); vsgate-snmp reads" \
  "vsgated's control socket and serves VSGATE-MIB (docs/SNMP.md)."
SNMP_PORT=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$TMP/agentx" "$TMP/snmpd-state"
printf '%s\n' "master agentx" "agentXSocket $TMP/agentx/master" "dontLogTCPWrappersConnects yes" \
  "view vsgview included .1.3.6.1.4.1.8072.9999.9999" "rocommunity demo 127.0.0.1 -V vsgview" \
  >"$TMP/snmpd.conf"
snmpd -f -Lf "$TMP/snmpd.log" -C -c "$TMP/snmpd.conf" -m "" -I -smux \
  --persistentDir="$TMP/snmpd-state" "udp:127.0.0.1:$SNMP_PORT" &
SNMPD_PID=$!
"$VSGATE_SNMP" --agentx-socket "$TMP/agentx/master" --control-socket "$SOCK" \
  >"$TMP/vsgate-snmp.log" 2>&1 &
SUBAGENT_PID=$!
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
rows=""
for _ in $(seq 80); do
  snmpwalk "${SNMP[@]}" "$VS_TABLE" 2>/dev/null |
    grep -Eq ' = (INTEGER|Gauge32|Counter64|STRING|Hex-STRING|Unsigned32): ' && rows=yes && break
  sleep 0.25
done
echo "\$ snmpwalk ${SNMP[*]} $VS_TABLE"
snmpwalk "${SNMP[@]}" "$VS_TABLE"
if [[ -z "$rows" ]]; then
  echo "(no rows after 20 s; vsgate-snmp log:)"
  tail -n 20 "$TMP/vsgate-snmp.log"
fi
stop_child "$SUBAGENT_PID"
SUBAGENT_PID=""
stop_child "$SNMPD_PID"
SNMPD_PID=""

section "Stopping vsgated (SIGTERM)"
kill -TERM "$DAEMON_PID"
for _ in $(seq 100); do is_running "$DAEMON_PID" || break; sleep 0.1; done
if is_running "$DAEMON_PID"; then
  echo "demo: vsgated still running 10 s after SIGTERM" >&2
  exit 1
fi
daemon_rc=0
wait "$DAEMON_PID" || daemon_rc=$?
DAEMON_PID=""
echo "vsgated exited with status $daemon_rc; last lines of its log:"
tail -n 5 "$DAEMON_LOG"

section "Tearing down the lab"
"$LAB" down
LAB_IS_UP=0
echo
if ((daemon_rc != 0)); then
  echo "demo: vsgated exited with status $daemon_rc on SIGTERM" >&2
  exit 1
fi
echo "demo: done"
