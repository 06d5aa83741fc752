#!/usr/bin/env bash
# vsgate network-namespace lab.
#
#   ${P}-client                         ${P}-app (vsgated)                 ${P}-sw (bridge br0)
#   eth0 10.0.0.2/24 <--veth--> veth0 = dpdk0 [dpdk0.kni 10.0.0.1/24]
#   gw 10.0.0.1                 veth1 = dpdk1 [dpdk1.kni 10.0.1.1/24] <--veth--> br0 port "app"
#                                                                                 |
#   ${P}-server  eth0 10.0.1.2/24,  gw 10.0.1.1  <--veth--> br0 port "server" ----+
#   ${P}-rsN     eth0 10.0.1.M/24,  gw 10.0.1.1  <--veth--> br0 port "rsN" -------+  (optional,
#                (M = 10 + N)                                                     |   N = 1..99)
#   ${P}-router  eth0 10.0.1.254/24              <--veth--> br0 port "router" ----+  (optional)
#                eth1 10.0.2.1/24 <--veth--> ${P}-client eth1 10.0.2.2/24
#
# The server side is a Linux bridge in ${P}-sw, so several hosts share 10.0.1.0/24 with the
# appliance's dpdk1. The app namespace's veths carry no addresses and no IPv6: net_af_xdp takes
# every frame off them and the kernel must never answer on them. The kernel side of the appliance
# is the exception-path interfaces (dpdk0.kni, dpdk1.kni) that vsgated creates at run time inside
# ${P}-app; they carry 10.0.0.1/24 and 10.0.1.1/24 (from the [port.*] addresses of the config).
#
# Real servers rs1..N (10.0.1.11, 10.0.1.12, ...) run, once started with rs-start, an HTTP server
# on port 80 whose body is "<name> <client ip>:<client port>\n" and a UDP echo on port 5353 that
# answers "<name> <client ip>:<client port>\n".
#
# The router (direct routing, DR) gives the real servers a way back to the client that bypasses
# the appliance: vip-on-lo puts a VIP on the real servers' loopback (arp_ignore=1,
# arp_announce=2) and routes what they send from the VIP through 10.0.1.254; the router hands it
# to the client's eth1 (the client has rp_filter 0, so it accepts replies from the VIP there).
#
# Usage: lab.sh up [--rs N] [--dr] | down | config | exec NS CMD... | ns NAME | status
#               | add-rs N | dr-up | rs-start | rs-stop | vip-on-lo VIP | vip-off-lo VIP
#   up         create the lab (tears down an existing lab with the same prefix first); --rs N
#              (or LAB_RS=N) adds real servers rs1..N, --dr (or LAB_DR=1) adds the router
#   down       remove everything with the prefix (servers, namespaces, leftover veths, run dirs);
#              never fails
#   config     print the vsgated config for this lab on stdout
#   exec       run CMD in namespace NS ("client", "app", "server", "rs1", ... or a full name)
#   ns         print the full namespace name for NAME (e.g. "app" -> vsglab-app)
#   status     list the lab's namespaces, their interfaces and the running real-server programs
#   add-rs N   add the missing real servers among rs1..N to a running lab (N <= 99)
#   dr-up      add the router and the client's eth1 to a running lab
#   rs-start   start the HTTP (80) and UDP echo (5353) servers in every rsN that has none running
#              (PIDs in /run/vsgate-$LAB_PREFIX/lab/; waits until they listen)
#   rs-stop    stop them
#   vip-on-lo  add VIP/32 to lo of every rsN, set arp_ignore=1/arp_announce=2 and, with the
#              router, route everything sent from VIP through 10.0.1.254 (source policy route)
#   vip-off-lo undo vip-on-lo for VIP
# Environment:
#   LAB_PREFIX   name prefix, 1..8 chars [a-z0-9] (default vsglab); tests pass a unique one
#   LAB_RUN_DIR  directory of the control socket (default /run/vsgate-$LAB_PREFIX)
#   LAB_RS       real servers created by 'up' (default 0)
#   LAB_DR       1 = 'up' also creates the router (default 0)
set -euo pipefail

P=${LAB_PREFIX:-vsglab}
if [[ ! "$P" =~ ^[a-z0-9]{1,8}$ ]]; then
  # <= 8 chars keeps the temporary root-namespace veth names ("$P-h123") within IFNAMSIZ (15).
  echo "lab.sh: LAB_PREFIX must be 1..8 characters of [a-z0-9], got '$P'" >&2
  exit 2
fi
DEFAULT_RUN_DIR=/run/vsgate-$P
RUN_DIR=${LAB_RUN_DIR:-$DEFAULT_RUN_DIR}
STATE_DIR=$DEFAULT_RUN_DIR/lab   # real-server PIDs and logs
APP_NS=$P-app
SW_NS=$P-sw
CLIENT_NS=$P-client
ROUTER_NS=$P-router
RS_HTTP_PORT=80
RS_UDP_PORT=5353
DR_TABLE=100            # policy routing table of the real servers for replies from a VIP
ROUTER_ADDR=10.0.1.254

log() { echo "lab[$P]: $*" >&2; }

# Namespaces of this lab: every "$P-<role>" namespace.
lab_namespaces() {
  local name
  ip netns list 2>/dev/null | while read -r name _; do
    [[ "$name" == "$P-"* ]] && echo "$name"
  done
  return 0
}

ns_exists() { ip netns list 2>/dev/null | awk '{print $1}' | grep -qx -- "$1"; }

# Real-server namespaces ($P-rs1, $P-rs2, ...), in numeric order.
rs_namespaces() {
  local k
  for k in $(lab_namespaces | sed -n "s/^$P-rs\([0-9][0-9]*\)\$/\1/p" | sort -n); do
    echo "$P-rs$k"
  done
}

full_ns() {
  if [[ "$1" == "$P-"* ]]; then echo "$1"; else echo "$P-$1"; fi
}

# new_veth NS_A IF_A NS_B IF_B
#   A veth pair between two namespaces, created under unique temporary names in the root
#   namespace ("$P-hN"/"$P-aN", removed by 'down' if left behind), then moved and renamed.
new_veth() {
  local ns_a=$1 if_a=$2 ns_b=$3 if_b=$4 i=0
  while ip link show "$P-h$i" >/dev/null 2>&1 || ip link show "$P-a$i" >/dev/null 2>&1; do
    i=$((i + 1))
  done
  local tmp_a=$P-h$i tmp_b=$P-a$i
  ip link add "$tmp_a" type veth peer name "$tmp_b"
  ip link set "$tmp_a" netns "$ns_a"
  ip link set "$tmp_b" netns "$ns_b"
  ip -n "$ns_a" link set "$tmp_a" name "$if_a"
  ip -n "$ns_b" link set "$tmp_b" name "$if_b"
}

new_ns() {
  ip netns add "$1"
  ip -n "$1" link set lo up
}

# host_if NS IF ADDR/LEN: address and up. veth tx checksum offload leaves partial checksums
# that AF_XDP delivers raw, so the hosts compute full checksums.
host_if() {
  local ns=$1 ifname=$2 addr=$3
  ip -n "$ns" addr add "$addr" dev "$ifname"
  ip -n "$ns" link set "$ifname" up
  ip netns exec "$ns" ethtool -K "$ifname" tx off >/dev/null
}

# add_host NAME APP_IF ADDR/LEN GW
#   Creates namespace $P-NAME with eth0 = ADDR/LEN and a default route via GW, linked by a veth
#   pair to interface APP_IF in the app namespace (a DPDK port: up, no address, no IPv6).
#   GW "" = no route.
add_host() {
  local name=$1 app_if=$2 addr=$3 gw=$4
  local ns=$P-$name
  new_ns "$ns"
  new_veth "$ns" eth0 "$APP_NS" "$app_if"
  app_port_up "$app_if"
  host_if "$ns" eth0 "$addr"
  if [[ -n "$gw" ]]; then
    ip -n "$ns" route add default via "$gw"
  fi
  log "host $ns eth0 $addr gw ${gw:-none} <-> $APP_NS $app_if"
}

# App side: a DPDK port. Disable IPv6 before bringing it up so no link-local address appears.
app_port_up() {
  ip netns exec "$APP_NS" sysctl -q -w "net.ipv6.conf.$1.disable_ipv6=1"
  ip -n "$APP_NS" link set "$1" up
}

# A port of the server-side bridge in $SW_NS: up, no address.
sw_port_up() {
  ip -n "$SW_NS" link set "$1" master br0
  ip -n "$SW_NS" link set "$1" up
  ip netns exec "$SW_NS" ethtool -K "$1" tx off >/dev/null
}

# add_bridged_host NAME ADDR/LEN GW: namespace $P-NAME, eth0 on the server bridge (port NAME).
add_bridged_host() {
  local name=$1 addr=$2 gw=$3
  local ns=$P-$name
  new_ns "$ns"
  new_veth "$ns" eth0 "$SW_NS" "$name"
  sw_port_up "$name"
  host_if "$ns" eth0 "$addr"
  if [[ -n "$gw" ]]; then
    ip -n "$ns" route add default via "$gw"
  fi
  log "host $ns eth0 $addr gw ${gw:-none} <-> $SW_NS br0"
}

# The server-side switch: a bridge whose first port is the appliance's dpdk1 (veth1).
lab_switch() {
  new_ns "$SW_NS"
  local s
  for s in net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1; do
    ip netns exec "$SW_NS" sysctl -q -w "$s"
  done
  ip -n "$SW_NS" link add br0 type bridge stp_state 0 forward_delay 0 mcast_snooping 0
  ip -n "$SW_NS" link set br0 up
  new_veth "$SW_NS" app "$APP_NS" veth1
  app_port_up veth1
  sw_port_up app
  log "switch $SW_NS br0 <-> $APP_NS veth1"
}

# add_rs K: real server rsK at 10.0.1.(10+K).
add_rs() {
  local k=$1
  if ns_exists "$P-rs$k"; then return 0; fi
  add_bridged_host "rs$k" "10.0.1.$((10 + k))/24" 10.0.1.1
}

# The DR return path: router on the bridge and on a second link to the client.
lab_router() {
  if ns_exists "$ROUTER_NS"; then return 0; fi
  add_bridged_host router "$ROUTER_ADDR/24" ""
  new_veth "$ROUTER_NS" eth1 "$CLIENT_NS" eth1
  host_if "$ROUTER_NS" eth1 10.0.2.1/24
  host_if "$CLIENT_NS" eth1 10.0.2.2/24
  ip -n "$ROUTER_NS" route add 10.0.0.0/24 via 10.0.2.2
  local s
  for s in net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0; do
    ip netns exec "$ROUTER_NS" sysctl -q -w "$s"
  done
  # Replies from a VIP (10.0.0.0/24, "on eth0") arrive on eth1: no reverse-path filter.
  for s in all default eth0 eth1; do
    ip netns exec "$CLIENT_NS" sysctl -q -w "net.ipv4.conf.$s.rp_filter=0"
  done
  log "router $ROUTER_NS eth0 $ROUTER_ADDR/24 (bridge), eth1 10.0.2.1/24 <-> $CLIENT_NS eth1 10.0.2.2/24"
}

# The lab's hosts. Each APP_IF becomes a [port.*] device in the config below.
lab_hosts() {
  add_host client veth0 10.0.0.2/24 10.0.0.1
  lab_switch
  add_bridged_host server 10.0.1.2/24 10.0.1.1
}

lab_app() {
  new_ns "$APP_NS"
  local s
  for s in net.ipv4.ip_forward=1 \
           net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0; do
    ip netns exec "$APP_NS" sysctl -q -w "$s"
  done
}

# --- real-server programs -------------------------------------------------------------------
# One python3 process per real server: HTTP on RS_HTTP_PORT, UDP echo on RS_UDP_PORT.
RS_SERVER_PY='
import socket, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

name, http_port, udp_port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

class Handler(BaseHTTPRequestHandler):
    server_version = "vsgate-lab"
    def do_GET(self):
        body = ("%s %s:%d\n" % (name, self.client_address[0], self.client_address[1])).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
    do_HEAD = do_GET
    def log_message(self, fmt, *args):
        sys.stdout.write("http %s:%d %s\n" % (self.client_address[0], self.client_address[1],
                                              fmt % args))
        sys.stdout.flush()

class Server(ThreadingHTTPServer):
    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 256

httpd = Server(("0.0.0.0", http_port), Handler)
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
udp.bind(("0.0.0.0", udp_port))

def echo():
    while True:
        data, peer = udp.recvfrom(65535)
        udp.sendto(("%s %s:%d\n" % (name, peer[0], peer[1])).encode(), peer)

threading.Thread(target=echo, daemon=True).start()
print("ready %s http %d udp %d" % (name, http_port, udp_port), flush=True)
httpd.serve_forever()
'

pid_alive() {
  local state
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [[ -n "$state" && "$state" != Z ]]
}

rs_start() {
  mkdir -p "$STATE_DIR"
  local ns name pidf logf pid started=()
  for ns in $(rs_namespaces); do
    name=${ns#"$P-"}
    pidf=$STATE_DIR/$name.pid
    logf=$STATE_DIR/$name.log
    if [[ -s "$pidf" ]] && pid_alive "$(cat "$pidf")"; then
      continue
    fi
    : >"$logf"
    # ip netns exec execs the command: the PID is the python process itself.
    nohup ip netns exec "$ns" python3 -u -c "$RS_SERVER_PY" "$name" "$RS_HTTP_PORT" "$RS_UDP_PORT" \
      >>"$logf" 2>&1 </dev/null &
    pid=$!
    echo "$pid" >"$pidf"
    started+=("$name:$pid")
  done
  local entry ok
  for entry in "${started[@]}"; do
    name=${entry%%:*}
    pid=${entry#*:}
    ok=0
    for _ in $(seq 100); do
      if grep -q '^ready ' "$STATE_DIR/$name.log"; then ok=1; break; fi
      pid_alive "$pid" || break
      sleep 0.05
    done
    if ((!ok)); then
      log "real server $name (pid $pid) did not start:"
      sed 's/^/  | /' "$STATE_DIR/$name.log" >&2
      return 1
    fi
    log "real server $name: pid $pid, http :$RS_HTTP_PORT, udp echo :$RS_UDP_PORT"
  done
  if ((${#started[@]} == 0)); then log "rs-start: nothing to start"; fi
  return 0
}

rs_stop() {
  local pidf pid
  [[ -d "$STATE_DIR" ]] || return 0
  for pidf in "$STATE_DIR"/*.pid; do
    [[ -e "$pidf" ]] || continue
    pid=$(cat "$pidf" 2>/dev/null || true)
    # Only our real-server program (its script names itself vsgate-lab), not a reused PID.
    if [[ "$pid" =~ ^[0-9]+$ ]] && pid_alive "$pid" &&
       tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q vsgate-lab; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 50); do pid_alive "$pid" || break; sleep 0.05; done
      if pid_alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
      log "stopped $(basename "$pidf" .pid) (pid $pid)"
    fi
    rm -f -- "$pidf"
  done
  return 0
}

# --- DR: VIP on the real servers' loopback ---------------------------------------------------
valid_ipv4() {
  local IFS=. a
  [[ "$1" =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ ]] || return 1
  for a in $1; do ((a <= 255)) || return 1; done
}

vip_on_lo() {
  local vip=$1 ns s have_router=0
  ns_exists "$ROUTER_NS" && have_router=1
  for ns in $(rs_namespaces); do
    for s in net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 \
             net.ipv4.conf.eth0.arp_ignore=1 net.ipv4.conf.eth0.arp_announce=2 \
             net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.eth0.rp_filter=0 \
             net.ipv4.conf.lo.rp_filter=0; do
      ip netns exec "$ns" sysctl -q -w "$s"
    done
    ip -n "$ns" addr replace "$vip/32" dev lo
    if ((have_router)); then
      ip -n "$ns" route replace default via "$ROUTER_ADDR" dev eth0 table "$DR_TABLE"
      ip -n "$ns" rule del from "$vip/32" lookup "$DR_TABLE" 2>/dev/null || true
      ip -n "$ns" rule add from "$vip/32" lookup "$DR_TABLE" pref 1000
    fi
    if ((have_router)); then
      log "$ns: $vip/32 on lo, replies from it via $ROUTER_ADDR"
    else
      log "$ns: $vip/32 on lo (no router: replies from it via the default gateway)"
    fi
  done
}

vip_off_lo() {
  local vip=$1 ns
  for ns in $(rs_namespaces); do
    ip -n "$ns" addr del "$vip/32" dev lo 2>/dev/null || true
    while ip -n "$ns" rule del from "$vip/32" lookup "$DR_TABLE" 2>/dev/null; do :; done
    log "$ns: $vip/32 removed from lo"
  done
}

# --- up / down ---------------------------------------------------------------------------------
lab_down() {
  rs_stop
  local ns pids pid
  for ns in $(lab_namespaces); do
    # Processes left in the lab (a daemon whose starter died) would keep the namespace alive.
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    if [[ -n "$pids" ]]; then
      log "stopping processes left in $ns: $(echo "$pids" | tr '\n' ' ')"
      for pid in $pids; do kill -TERM "$pid" 2>/dev/null || true; done
      for _ in $(seq 50); do
        pids=$(ip netns pids "$ns" 2>/dev/null || true)
        [[ -z "$pids" ]] && break
        sleep 0.1
      done
      for pid in $pids; do kill -KILL "$pid" 2>/dev/null || true; done
    fi
    ip netns del "$ns" 2>/dev/null || log "could not delete namespace $ns"
  done
  # Temporary veths still in the root namespace after a failed 'up'.
  local link
  for link in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1); do
    if [[ "$link" =~ ^$P-[ha][0-9]+$ ]]; then
      ip link del "$link" 2>/dev/null || true
    fi
  done
  # Run-time directories named after the prefix (the default control-socket dir, DPDK's).
  rm -rf -- "$DEFAULT_RUN_DIR" "/run/dpdk/$P" 2>/dev/null || true
  if [[ -n "${LAB_RUN_DIR:-}" && -S "$LAB_RUN_DIR/control.sock" ]]; then
    rm -f -- "$LAB_RUN_DIR/control.sock" || true
  fi
  return 0
}

check_rs_count() {
  if [[ ! "$1" =~ ^[0-9]+$ ]] || (($1 > 99)); then
    echo "lab.sh: number of real servers must be 0..99, got '$1'" >&2
    exit 2
  fi
}

lab_up() {
  local nrs=${LAB_RS:-0} dr=${LAB_DR:-0}
  while (($# > 0)); do
    case "$1" in
      --rs) [[ $# -ge 2 ]] || { echo "lab.sh: --rs needs a number" >&2; exit 2; }
            nrs=$2; shift 2 ;;
      --dr) dr=1; shift ;;
      *) echo "lab.sh: up: unknown option '$1'" >&2; exit 2 ;;
    esac
  done
  check_rs_count "$nrs"
  if [[ -n "$(lab_namespaces)" ]]; then
    log "lab exists, tearing it down first"
  fi
  lab_down  # also removes leftovers of an interrupted 'up'
  # On any failure, leave nothing half-built behind.
  trap 'rc=$?; if ((rc != 0)); then log "up failed, cleaning up"; lab_down; fi' EXIT
  lab_app
  lab_hosts
  local k
  for ((k = 1; k <= nrs; k++)); do add_rs "$k"; done
  if [[ "$dr" == 1 ]]; then lab_router; fi
  mkdir -p "$RUN_DIR"
  trap - EXIT
  log "up: namespaces $(lab_namespaces | tr '\n' ' ')"
}

need_lab() {
  if ! ns_exists "$APP_NS" || ! ns_exists "$SW_NS" || ! ns_exists "$CLIENT_NS"; then
    echo "lab.sh: $1: the lab '$P' is not up (run 'lab.sh up' first)" >&2
    exit 1
  fi
}

lab_config() {
  cat <<EOF
[global]
log_level = info
control_socket = $RUN_DIR/control.sock
workers = 1
idle_sleep_us = 100

[eal]
args = --no-pci --no-huge -m 256 --file-prefix=$P

[port.dpdk0]
device = net_af_xdp0,iface=veth0
kni = dpdk0.kni
addresses = 10.0.0.1/24

[port.dpdk1]
device = net_af_xdp1,iface=veth1
kni = dpdk1.kni
addresses = 10.0.1.1/24
EOF
}

lab_status() {
  local ns pidf pid
  for ns in $(lab_namespaces); do
    echo "== $ns"
    ip -n "$ns" -br addr show
  done
  if [[ -d "$STATE_DIR" ]]; then
    for pidf in "$STATE_DIR"/*.pid; do
      [[ -e "$pidf" ]] || continue
      pid=$(cat "$pidf")
      if pid_alive "$pid"; then
        echo "real server $(basename "$pidf" .pid): pid $pid running"
      else
        echo "real server $(basename "$pidf" .pid): pid $pid not running"
      fi
    done
  fi
}

need_root() {
  if ((EUID != 0)); then
    echo "lab.sh: '$1' needs root (network namespaces)" >&2
    exit 1
  fi
}

cmd=${1:-}
shift || true
case "$cmd" in
  up) need_root up; lab_up "$@" ;;
  down) need_root down; lab_down ;;
  config) lab_config ;;
  ns)
    [[ $# -eq 1 ]] || { echo "usage: lab.sh ns NAME" >&2; exit 2; }
    full_ns "$1"
    ;;
  exec)
    [[ $# -ge 2 ]] || { echo "usage: lab.sh exec NS CMD..." >&2; exit 2; }
    need_root exec
    ns=$(full_ns "$1")
    shift
    exec ip netns exec "$ns" "$@"
    ;;
  status) lab_status ;;
  add-rs)
    [[ $# -eq 1 ]] || { echo "usage: lab.sh add-rs N" >&2; exit 2; }
    need_root add-rs
    check_rs_count "$1"
    need_lab add-rs
    for ((k = 1; k <= $1; k++)); do add_rs "$k"; done
    ;;
  dr-up) need_root dr-up; need_lab dr-up; lab_router ;;
  rs-start) need_root rs-start; need_lab rs-start; rs_start ;;
  rs-stop) need_root rs-stop; rs_stop ;;
  vip-on-lo | vip-off-lo)
    if [[ $# -ne 1 ]] || ! valid_ipv4 "$1"; then
      echo "usage: lab.sh $cmd VIP (an IPv4 address)" >&2
      exit 2
    fi
    need_root "$cmd"
    need_lab "$cmd"
    if [[ "$cmd" == vip-on-lo ]]; then vip_on_lo "$1"; else vip_off_lo "$1"; fi
    ;;
  *)
    sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
    [[ "$cmd" == "-h" || "$cmd" == "--help" || "$cmd" == "help" ]] && exit 0
    exit 2
    ;;
esac
