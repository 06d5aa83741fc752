#!/usr/bin/env bash
# End-to-end test of the vsgated foundation in a network-namespace lab (tests/lab/lab.sh):
# config check, systemd readiness, exception path (ping the appliance), neighbour mirror,
# port/lcore counters, transit forwarding, punt under flood, 5,600 routes in the data plane,
# SIGTERM shutdown, CLI errors.
#
# Usage: foundation_test.sh VSGATED VSGATECTL [LAB_SH]
# Needs root (network namespaces). Prints PASS:/FAIL: per check, exits 1 if any check failed.
# Functions are called indirectly (check_$c, traps); counters are space-separated integers.
# shellcheck disable=SC2317,SC2207
set -euo pipefail

if (($# < 2)); then
  echo "usage: $0 VSGATED VSGATECTL [LAB_SH]" >&2
  exit 2
fi
VSGATED=$(realpath -m "$1")
VSGATECTL=$(realpath -m "$2")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB=$(realpath -m "${3:-$HERE/../lab/lab.sh}")
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$HERE/lib.sh"
e2e_init foundation_test vsg

need_root
need_netns
need_exec "$VSGATED" "$VSGATECTL" "$LAB"
need_tools python3 ping timeout
e2e_start

PORT_EXPR='next(p for p in d["ports"] if p["name"] == "dpdk0")'
# Prints "ipackets opackets rx_packets punted injected forwarded punt_drops to_host_drops".
counters() {
  local ports lcores
  ports=$(ctl --json port stats) || return 1
  lcores=$(ctl --json lcore stats) || return 1
  local a b
  a=$(json "' '.join(str(${PORT_EXPR}[k]) for k in ('ipackets', 'opackets'))" <<<"$ports") || return 1
  b=$(json "' '.join([str(sum(l[k] for l in d['lcores'])) for k in
        ('rx_packets', 'punted', 'injected', 'forwarded', 'punt_drops')]
        + [str(d['exception_path']['to_host_drops'])])" <<<"$lcores") || return 1
  echo "$a $b"
}
NAMES=(ipackets opackets rx_packets punted injected forwarded punt_drops to_host_drops)

neigh_mac() {  # neigh_mac IP: the MAC vsgated lists for IP, empty if none
  ctl --json neigh show | json "next((n['mac'].lower() for n in d['neighbours'] if n['ip'] == '$1'), '')"
}
neigh_is() { [[ "$(neigh_mac "$1" 2>/dev/null)" == "$2" ]]; }  # neigh_is IP MAC
neigh_known() { [[ -n "$(neigh_mac "$1" 2>/dev/null)" ]]; }     # neigh_known IP

received() {  # received PING_OUTPUT_FILE: number of replies
  sed -n 's/.* \([0-9]\+\) received.*/\1/p' "$1" | tail -n 1
}

echo "== vsgate foundation e2e test: lab prefix $LAB_PREFIX, temp dir $TMP"
lab_up || exit 1
# This test drives the debug.* commands (g2, w): they exist only with debug_commands = yes.
sed -i 's/^\[global\]$/[global]\ndebug_commands = yes/' "$CONF"

# --- a. --check ---------------------------------------------------------------------------------
check_config() {  # check_config NAME EXPECTED_RC EXPECTED_TEXT FILE
  local name=$1 want_rc=$2 want=$3 file=$4 out rc=0
  out=$("$VSGATED" --check --config "$file" 2>&1) || rc=$?
  if [[ $rc -eq $want_rc ]] && grep -qF -- "$want" <<<"$out"; then
    pass "a. --check $name: exit $rc, output names '$want'"
  else
    fail "a. --check $name: exit $rc (want $want_rc), output must contain '$want':"
    indent <<<"$out"
  fi
}
check_config "lab config" 0 OK "$CONF"
sed 's/^workers = 1$/workers = 0/' "$CONF" >"$TMP/workers0.conf"
check_config "workers = 0" 1 global.workers "$TMP/workers0.conf"
sed 's/^\[global\]$/[global]\nbogus = 1/' "$CONF" >"$TMP/bogus.conf"
check_config "unknown key" 1 global.bogus "$TMP/bogus.conf"
sed 's#^addresses = 10.0.0.1/24$#addresses = 10.0.0.300/24#' "$CONF" >"$TMP/badaddr.conf"
check_config "bad address" 1 port.dpdk0.addresses "$TMP/badaddr.conf"
{ cat "$CONF"; printf '\n[frobnicate]\nspeed = 1\n'; } >"$TMP/section.conf"
check_config "unknown section" 1 frobnicate "$TMP/section.conf"

# --- b. start with NOTIFY_SOCKET, wait for READY=1 ---------------------------------------------
notify_start
# WATCHDOG_USEC as systemd sets it for WatchdogSec=1s: vsgated pings every 0.5 s while it is well.
daemon_start NOTIFY_SOCKET="$NOTIFY_SOCK" WATCHDOG_USEC=1000000
ready=0
if daemon_wait_ready 30; then ready=1; fi
if ((ready)); then
  sleep 0.2
  if grep -q '^STATUS=' "$NOTIFY_LOG"; then
    pass "b. READY=1 received from vsgated ($(grep -m1 '^STATUS=' "$NOTIFY_LOG"))"
  else
    fail "b. READY=1 received but no STATUS= line; notifications:"
    indent <"$NOTIFY_LOG"
  fi
elif daemon_alive; then
  fail "b. no READY=1 from vsgated within 30 s; notifications:"
  indent <"$NOTIFY_LOG"
else
  daemon_reap
  fail "b. vsgated exited with status $DAEMON_RC before READY=1"
fi
if ((ready)); then
  if v=$(ctl version 2>&1); then info "vsgatectl version: $v"; else fail "b. vsgatectl version: $v"; fi
fi

# --- c..g need a running daemon ---------------------------------------------------------------
check_c() {
  if ip netns exec "$CLIENT_NS" ping -c 3 -i 0.2 -W 2 10.0.0.1 >"$TMP/ping_c.txt" 2>&1; then
    pass "c. client pings the appliance 10.0.0.1 ($(received "$TMP/ping_c.txt")/3 replies)"
  else
    fail "c. client cannot ping 10.0.0.1:"
    indent <"$TMP/ping_c.txt"
  fi
}

check_d() {
  local want got=""
  want=$(ip netns exec "$CLIENT_NS" cat /sys/class/net/eth0/address)
  wait_for 10 neigh_is 10.0.0.2 "$want" || true
  got=$(neigh_mac 10.0.0.2 2>/dev/null) || got=""
  if [[ "$got" == "$want" ]]; then
    pass "d. neigh show lists 10.0.0.2 at $want"
  else
    fail "d. neigh show: 10.0.0.2 is '${got}', want $want:"
    ctl --json neigh show 2>&1 | indent
  fi
}

check_e() {
  local before after i ok=1 d
  before=($(counters)) || { fail "e. cannot read port/lcore stats"; return; }
  ip netns exec "$CLIENT_NS" ping -c 20 -i 0.05 -W 2 10.0.0.1 >"$TMP/ping_e.txt" 2>&1 || true
  sleep 0.5  # let the stats settle (replies injected on the worker)
  after=($(counters)) || { fail "e. cannot read port/lcore stats"; return; }
  info "ping: $(received "$TMP/ping_e.txt")/20 replies"
  for i in 0 1 2 3 4; do
    d=$((after[i] - before[i]))
    if ((d < 20)); then
      ok=0
      fail "e. ${NAMES[i]} grew by $d (< 20) during 20 pings to the appliance"
    else
      info "${NAMES[i]} +$d"
    fi
  done
  ((ok)) && pass "e. dpdk0 ipackets/opackets and lcore rx_packets/punted/injected grew by >= 20"
}

check_f() {
  local got="" before after d
  if ip netns exec "$CLIENT_NS" ping -c 5 -i 0.2 -W 2 10.0.1.2 >"$TMP/ping_f1.txt" 2>&1; then
    pass "f. client pings the server 10.0.1.2 ($(received "$TMP/ping_f1.txt")/5 replies)"
  else
    fail "f. client cannot ping the server 10.0.1.2:"
    indent <"$TMP/ping_f1.txt"
    return
  fi
  local want
  want=$(ip netns exec "$SERVER_NS" cat /sys/class/net/eth0/address)
  wait_for 10 neigh_known 10.0.1.2 || true
  got=$(neigh_mac 10.0.1.2 2>/dev/null) || got=""
  if [[ "$got" == "$want" ]]; then
    pass "f. neigh show lists 10.0.1.2 at $want"
  else
    fail "f. neigh show: 10.0.1.2 is '$got', want $want"
  fi
  before=($(counters)) || { fail "f. cannot read lcore stats"; return; }
  ip netns exec "$CLIENT_NS" ping -c 10 -i 0.1 -W 2 10.0.1.2 >"$TMP/ping_f2.txt" 2>&1 || true
  after=($(counters)) || { fail "f. cannot read lcore stats"; return; }
  d=$((after[5] - before[5]))
  if ((d >= 8)); then
    pass "f. data plane forwarded $d packets for 10 transit pings ($(received "$TMP/ping_f2.txt")/10 replies)"
  else
    fail "f. forwarded grew by $d (< 8) for 10 transit pings ($(received "$TMP/ping_f2.txt")/10 replies)"
  fi
}

check_g() {
  local before after n
  before=($(counters)) || { fail "g. cannot read lcore stats"; return; }
  ip netns exec "$CLIENT_NS" ping -f -w 10 10.0.0.1 >"$TMP/flood.txt" 2>&1 &
  local flood=$!
  track "$flood"
  sleep 1
  ip netns exec "$CLIENT_NS" ping -c 20 -i 0.05 -W 2 10.0.1.2 >"$TMP/ping_g.txt" 2>&1 || true
  n=$(received "$TMP/ping_g.txt")
  kill -INT "$flood" 2>/dev/null || true
  wait "$flood" 2>/dev/null || true
  untrack "$flood"
  info "flood: $(grep -E 'transmitted' "$TMP/flood.txt" || echo 'no summary')"
  if ((${n:-0} >= 18)); then
    pass "g. transit kept working under a flood to the appliance: ${n}/20 replies"
  else
    fail "g. transit under flood: ${n:-0}/20 replies (need >= 18)"
    indent <"$TMP/ping_g.txt"
  fi
  if after=($(counters)); then
    info "during flood: punted +$((after[3] - before[3])), punt_drops +$((after[6] - before[6])),"
    info "exception_path.to_host_drops +$((after[7] - before[7])) (0 drops is fine if the host kept up)"
  else
    fail "g. cannot read counters after the flood"
  fi
  if daemon_alive; then
    pass "g. vsgated still running after the flood"
  else
    fail "g. vsgated died during the flood"
  fi
}

# The host side stops reading (debug.pause_exception_path): a UDP flood to the appliance fills the
# punt ring, the overflow is counted as punt_drops, and transit forwarding goes on regardless.
check_g2() {
  local before after sent n reply
  before=($(counters)) || { fail "g2. cannot read lcore stats"; return; }
  reply=$(req '{"cmd":"debug.pause_exception_path","args":{"seconds":4}}')
  if ! grep -q '"ok":true' <<<"$reply"; then
    fail "g2. debug.pause_exception_path: $reply"
    return
  fi
  sent=$(ip netns exec "$CLIENT_NS" python3 - <<'PY'
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setblocking(False)
n, end = 0, time.time() + 1.0
while time.time() < end:
    try:
        s.sendto(b"x" * 64, ("10.0.0.1", 9))
        n += 1
    except BlockingIOError:
        time.sleep(0.0005)
print(n)
PY
)
  ip netns exec "$CLIENT_NS" ping -c 10 -i 0.1 -W 1 10.0.1.2 >"$TMP/ping_g2.txt" 2>&1 || true
  n=$(received "$TMP/ping_g2.txt")
  after=($(counters)) || { fail "g2. cannot read lcore stats"; return; }
  local drops=$((after[6] - before[6]))
  info "sent $sent UDP datagrams to 10.0.0.1 while the exception path was paused"
  if ((drops > 0 && sent > 2048)); then
    pass "g2. punt ring overflow counted: punt_drops +$drops"
  else
    fail "g2. punt_drops +$drops after $sent datagrams to a paused exception path"
  fi
  if ((${n:-0} >= 9)); then
    pass "g2. transit forwarded while the host side was stuck: ${n}/10 replies"
  else
    fail "g2. transit while the host side was stuck: ${n:-0}/10 replies"
  fi
  sleep 4
  if ip netns exec "$CLIENT_NS" ping -c 3 -i 0.2 -W 2 10.0.0.1 >/dev/null 2>&1; then
    pass "g2. exception path works again after the pause"
  else
    fail "g2. appliance does not answer after the pause"
  fi
}

# The watchdog is fed only while every worker loops: a stalled worker (debug.stall_worker) stops
# the WATCHDOG=1 pings, so systemd would restart the daemon; they resume when it loops again.
check_w() {
  local c1 c2 c3 c4 c5 reply
  pings() { grep -c '^WATCHDOG=1$' "$NOTIFY_LOG" || true; }
  c1=$(pings); sleep 1.5; c2=$(pings)
  if ((c2 > c1)); then
    pass "w. WATCHDOG=1 pings while the worker loops (+$((c2 - c1)) in 1.5 s)"
  else
    fail "w. no WATCHDOG=1 pings with WATCHDOG_USEC=1000000 ($c1 -> $c2)"
    return
  fi
  reply=$(req '{"cmd":"debug.stall_worker","args":{"worker":0,"seconds":3}}')
  grep -q '"ok":true' <<<"$reply" || { fail "w. debug.stall_worker: $reply"; return; }
  sleep 0.8; c3=$(pings); sleep 1.7; c4=$(pings)
  if ((c4 == c3)); then
    pass "w. no WATCHDOG=1 while worker 0 is stuck (systemd's watchdog would fire)"
  else
    fail "w. $((c4 - c3)) WATCHDOG=1 pings while worker 0 was stuck"
  fi
  sleep 2; c5=$(pings)
  if ((c5 > c4)); then
    pass "w. WATCHDOG=1 pings resume after the stall"
  else
    fail "w. WATCHDOG=1 pings did not resume after the stall"
  fi
  if grep -q 'stopped looping' "$DAEMON_LOG"; then
    pass "w. the stuck worker was logged"
  else
    fail "w. nothing in the daemon log about the stuck worker"
  fi
}

# Issue 10: more routes than the old fixed 4,096. 5,000 prefixes of mixed lengths (/16, /24 and
# /25../30, which need tbl8 groups) and 600 host routes go into dpdk1.kni's table with one
# `ip -batch`; the data plane must install them all (route show's `fib`: ok, installed = what
# the host has), say so on STATUS=, and keep forwarding: transit pings still go through, and
# a packet to one of the new prefixes is forwarded by the data plane towards 10.0.1.2.
fib_routes() {  # fib_routes: "STATE INSTALLED WANTED LISTED" of the data plane's route table
  ctl --json route show |
    json "' '.join(str(x) for x in (d['fib']['state'], d['fib']['installed'], d['fib']['wanted'], len(d['routes'])))"
}
fib_has() { local s; s=($(fib_routes 2>/dev/null)) && [[ "${s[0]}" == ok && "${s[1]}" -ge "$1" && "${s[1]}" == "${s[3]}" ]]; }
check_r() {
  local i len net t0 t1 state before after d n
  {
    for ((i = 0; i < 1000; i++)); do echo "route add $((20 + i / 256)).$((i % 256)).0.0/16 via 10.0.1.2 dev dpdk1.kni"; done
    for ((i = 0; i < 2600; i++)); do echo "route add 172.$((16 + i / 256)).$((i % 256)).0/24 via 10.0.1.2 dev dpdk1.kni"; done
    for ((i = 0; i < 1400; i++)); do
      len=$((25 + i % 6)); net="100.$((64 + i / 256)).$((i % 256)).0"
      echo "route add $net/$len via 10.0.1.2 dev dpdk1.kni"
    done
    for ((i = 0; i < 600; i++)); do echo "route add 172.16.$((i % 256)).$((5 + i / 256))/32 via 10.0.1.2 dev dpdk1.kni"; done
  } >"$TMP/routes.batch"
  # The data plane must list and install every IPv4 route the host has on the kni interfaces
  # (the lab's connected ones and these 5,600).
  t0=$(date +%s%N)
  if ! ip -n "$APP_NS" -batch "$TMP/routes.batch" >"$TMP/routes.out" 2>&1; then
    fail "r. ip -batch of 5,600 routes failed:"
    tail -n 5 "$TMP/routes.out" | indent
    return
  fi
  n=$(ip -n "$APP_NS" -4 route show table main | grep -c 'dev dpdk[01]\.kni')
  info "the host holds $n IPv4 routes on the kni interfaces"
  if wait_for -i 0.5 60 fib_has "$n"; then
    t1=$(date +%s%N)
    state=$(fib_routes)
    pass "r. data plane installed all $n routes in $(((t1 - t0) / 1000000)) ms (state/installed/wanted/listed: $state)"
  else
    fail "r. data plane route table after adding 5,600 routes: $(fib_routes 2>&1) (want ok $n)"
    ctl route show 2>&1 | tail -n 4 | indent
    return
  fi
  sleep 1.2  # one STATUS= period
  if grep '^STATUS=' "$NOTIFY_LOG" | tail -n 1 | grep -q "routes $n, neighbours"; then
    pass "r. STATUS= reports the routes: $(grep '^STATUS=' "$NOTIFY_LOG" | tail -n 1 | grep -o 'routes.*')"
  else
    fail "r. STATUS= does not say 'routes $n': $(grep '^STATUS=' "$NOTIFY_LOG" | tail -n 1)"
  fi
  if ip netns exec "$CLIENT_NS" ping -c 5 -i 0.2 -W 2 10.0.1.2 >"$TMP/ping_r.txt" 2>&1; then
    pass "r. transit still forwards with $n routes ($(received "$TMP/ping_r.txt")/5 replies)"
  else
    fail "r. transit to 10.0.1.2 with $n routes:"
    indent <"$TMP/ping_r.txt"
  fi
  # To a new /24 (and a /32 inside one) via 10.0.1.2, whose MAC is known: forwarded by the data
  # plane (nobody answers; the counter is the proof).
  before=($(counters)) || { fail "r. cannot read lcore stats"; return; }
  ip netns exec "$CLIENT_NS" ping -c 5 -i 0.1 -W 1 172.20.7.1 >/dev/null 2>&1 || true
  ip netns exec "$CLIENT_NS" ping -c 5 -i 0.1 -W 1 172.16.3.5 >/dev/null 2>&1 || true
  after=($(counters)) || { fail "r. cannot read lcore stats"; return; }
  d=$((after[5] - before[5]))
  if ((d >= 10)); then
    pass "r. the data plane forwarded $d packets to the new prefixes"
  else
    fail "r. forwarded grew by $d (< 10) for 10 pings to the new prefixes"
  fi
  if grep -q 'forwarding routes: build failed' "$DAEMON_LOG"; then
    fail "r. the daemon logged a failed route build:"
    grep 'build failed' "$DAEMON_LOG" | head -n 3 | indent
  else
    pass "r. no failed route build in the daemon log"
  fi
}

check_h() {
  local left pid=$DAEMON_PID
  if ! daemon_term 10; then
    fail "h. vsgated still running 10 s after SIGTERM"
    return
  fi
  if ((DAEMON_RC == 0)); then
    pass "h. vsgated exited with status 0 on SIGTERM"
  else
    fail "h. vsgated exited with status $DAEMON_RC on SIGTERM"
  fi
  left=$(ip -n "$APP_NS" -o link show 2>/dev/null | grep -oE 'dpdk[01]\.kni' || true)
  if [[ -z "$left" ]]; then
    pass "h. no kni interfaces left in $APP_NS"
  else
    fail "h. left behind in $APP_NS: $left"
  fi
  if kill -0 "$pid" 2>/dev/null; then
    fail "h. process $pid still exists"
  else
    pass "h. process $pid gone"
  fi
}

for c in c d e f g g2 w r h; do
  if daemon_alive; then
    "check_$c"
  else
    fail "$c. skipped: vsgated is not running"
  fi
done

# --- i. CLI against a missing socket -----------------------------------------------------------
out=$(timeout 10 "$VSGATECTL" --socket "$TMP/no-such.sock" version 2>&1) && rc=0 || rc=$?
lines=$(grep -c . <<<"$out" || true)
if ((rc != 0)) && ((lines == 1)) && grep -q "cannot connect" <<<"$out"; then
  pass "i. vsgatectl on a missing socket: exit $rc, '$out'"
else
  fail "i. vsgatectl on a missing socket: exit $rc, $lines lines, want one line with 'cannot connect':"
  indent <<<"$out"
fi

e2e_finish
