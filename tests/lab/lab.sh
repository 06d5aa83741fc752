#!/usr/bin/env bash
# vsgate network-namespace lab.
#
#   ${P}-client                              ${P}-app (vsgated)                    ${P}-server
#   eth0 10.0.0.2/24  <--veth-->  veth0 = dpdk0 [dpdk0.kni 10.0.0.1/24]
#   gw 10.0.0.1                   veth1 = dpdk1 [dpdk1.kni 10.0.1.1/24]  <--veth-->  eth0 10.0.1.2/24
#                                                                                    gw 10.0.1.1
#
# The app namespace's veths carry no addresses and no IPv6: net_af_xdp takes every frame off them
# and the kernel must never answer on them. The kernel side of the appliance is the exception-path
# interfaces (dpdk0.kni, dpdk1.kni) that vsgated creates at run time inside ${P}-app; they carry
# 10.0.0.1/24 and 10.0.1.1/24 (from the [port.*] addresses of the config).
#
# Usage: lab.sh up | down | config | exec NS CMD... | ns NAME | status
#   up      create the lab (tears down an existing lab with the same prefix first)
#   down    remove everything with the prefix (namespaces, leftover veths, run dirs); never fails
#   config  print the vsgated config for this lab on stdout
#   exec    run CMD in namespace NS ("client", "app", "server" or a full name)
#   ns      print the full namespace name for NAME (e.g. "app" -> vsglab-app)
#   status  list the lab's namespaces and their interfaces
# Environment:
#   LAB_PREFIX   name prefix, 1..8 chars [a-z0-9] (default vsglab); tests pass a unique one
#   LAB_RUN_DIR  directory of the control socket (default /run/vsgate-$LAB_PREFIX)
set -euo pipefail

P=${LAB_PREFIX:-vsglab}
if [[ ! "$P" =~ ^[a-z0-9]{1,8}$ ]]; then
  # <= 8 chars keeps the temporary root-namespace veth names ("$P-h12") within IFNAMSIZ (15).
  echo "lab.sh: LAB_PREFIX must be 1..8 characters of [a-z0-9], got '$P'" >&2
  exit 2
fi
DEFAULT_RUN_DIR=/run/vsgate-$P
RUN_DIR=${LAB_RUN_DIR:-$DEFAULT_RUN_DIR}
APP_NS=$P-app

log() { echo "lab[$P]: $*" >&2; }

# Namespaces of this lab: every "$P-<role>" namespace.
lab_namespaces() {
  local name
  ip netns list 2>/dev/null | while read -r name _; do
    [[ "$name" == "$P-"* ]] && echo "$name"
  done
  return 0
}

full_ns() {
  if [[ "$1" == "$P-"* ]]; then echo "$1"; else echo "$P-$1"; fi
}

# add_host NAME APP_IF ADDR/LEN GW
#   Creates namespace $P-NAME with eth0 = ADDR/LEN and a default route via GW, linked by a veth
#   pair to interface APP_IF in the app namespace (a DPDK port: up, no address, no IPv6).
#   Add more hosts (e.g. real servers) by calling it again from lab_hosts below; GW "" = no route.
HOST_INDEX=0
add_host() {
  local name=$1 app_if=$2 addr=$3 gw=$4
  local ns=$P-$name
  local tmp_host=$P-h$HOST_INDEX tmp_app=$P-a$HOST_INDEX
  HOST_INDEX=$((HOST_INDEX + 1))

  ip netns add "$ns"
  ip -n "$ns" link set lo up

  # Unique names in the root namespace, then move and rename.
  ip link add "$tmp_host" type veth peer name "$tmp_app"
  ip link set "$tmp_host" netns "$ns"
  ip link set "$tmp_app" netns "$APP_NS"
  ip -n "$ns" link set "$tmp_host" name eth0
  ip -n "$APP_NS" link set "$tmp_app" name "$app_if"

  # App side: a DPDK port. Disable IPv6 before bringing it up so no link-local address appears.
  ip netns exec "$APP_NS" sysctl -q -w "net.ipv6.conf.$app_if.disable_ipv6=1"
  ip -n "$APP_NS" link set "$app_if" up

  # Host side. veth tx checksum offload leaves partial checksums that AF_XDP delivers raw.
  ip -n "$ns" addr add "$addr" dev eth0
  ip -n "$ns" link set eth0 up
  ip netns exec "$ns" ethtool -K eth0 tx off >/dev/null
  if [[ -n "$gw" ]]; then
    ip -n "$ns" route add default via "$gw"
  fi
  log "host $ns eth0 $addr gw ${gw:-none} <-> $APP_NS $app_if"
}

# The lab's hosts. Each APP_IF becomes a [port.*] device in the config below.
lab_hosts() {
  add_host client veth0 10.0.0.2/24 10.0.0.1
  add_host server veth1 10.0.1.2/24 10.0.1.1
}

lab_app() {
  ip netns add "$APP_NS"
  ip -n "$APP_NS" link set lo up
  local s
  for s in net.ipv4.ip_forward=1 \
           net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0; do
    ip netns exec "$APP_NS" sysctl -q -w "$s"
  done
}

lab_down() {
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

lab_up() {
  if [[ -n "$(lab_namespaces)" ]]; then
    log "lab exists, tearing it down first"
  fi
  lab_down  # also removes leftovers of an interrupted 'up'
  # On any failure, leave nothing half-built behind.
  trap 'rc=$?; if ((rc != 0)); then log "up failed, cleaning up"; lab_down; fi' EXIT
  lab_app
  lab_hosts
  mkdir -p "$RUN_DIR"
  trap - EXIT
  log "up: namespaces $(lab_namespaces | tr '\n' ' ')"
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
  local ns
  for ns in $(lab_namespaces); do
    echo "== $ns"
    ip -n "$ns" -br addr show
  done
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
  up) need_root up; lab_up ;;
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
  *)
    sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
    [[ "$cmd" == "-h" || "$cmd" == "--help" || "$cmd" == "help" ]] && exit 0
    exit 2
    ;;
esac
