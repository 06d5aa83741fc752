#!/usr/bin/env bash
# End-to-end test of the vsgated load balancer in the network-namespace lab (tests/lab/lab.sh)
# with three real servers (rs1..3, HTTP on 80 answering "<name> <client ip:port>", UDP echo on
# 5353) and the DR router:
#   a. FULLNAT rr: 200 requests, exact round robin, the real servers see the local address
#   b. wrr 3:2:1: exactly 60/40/20 of 120 requests
#   c. NAT: the real servers see the client address
#   d. UDP FULLNAT: 30 datagrams echoed
#   e. service counters (lb.list stats) and the rate estimator (rises under load, decays after)
#   f. lb.real.del under load: no request fails
#   g. drops: VIP port without a service (lb_vip_no_service), TCP ACK without a connection
#      (lb_tcp_no_conn)
#   h. DR: replies bypass the appliance (through the lab's router)
#   i. TUNNEL: the real server receives IPIP 10.0.1.1 -> rs, inner packet unchanged (captured;
#      this kernel has no ipip module, so no reply is expected)
#   k. a SYN on a client port whose previous connection is in TIME_WAIT is scheduled anew (IPVS
#      conn_reuse_mode), also after that connection's real server was deleted
#   l. two FULLNAT services sharing a local address never use the same local port towards the
#      same real server at once
#   j. SIGTERM: clean exit
# Control requests are raw JSON lines on the control socket (docs/CONTROL_PROTOCOL.md).
#
# Usage: lb_test.sh VSGATED VSGATECTL [LAB_SH]
# Needs root (network namespaces). Prints PASS:/FAIL: per check, exits 1 if any check failed.
# Functions are called indirectly (check_$c, traps).
# shellcheck disable=SC2317,SC2207,SC2016
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
e2e_init lb_test vlb

need_root
need_netns
need_exec "$VSGATED" "$VSGATECTL" "$LAB"
need_tools python3 curl ping timeout
e2e_start

# svc_eval PROTO VIP PORT EXPR: EXPR over s = the service's lb.list entry
svc_eval() {
  req "{\"cmd\":\"lb.list\",\"args\":{$(svc "$1" "$2" "$3")}}" |
    json "(lambda s: $4)(d['services'][0])"
}

drop_count() {  # drop_count REASON: lcore.stats total.dropped.REASON
  req '{"cmd":"lcore.stats"}' | json "d['total']['dropped']['$1']"
}

port_stat() {  # port_stat PORT FIELD
  req "{\"cmd\":\"port.stats\",\"args\":{\"name\":\"$1\"}}" | json "d['ports'][0]['$2']"
}

# --- traffic from the client ---------------------------------------------------------------------
# Client ports. Every request of the test uses a client port of its own (curl --local-port, from
# 20000 up, below the ephemeral range): the kernel's ephemeral ports come back within the 120 s
# the balancer keeps a closed connection (TIME_WAIT), and the checks of the schedulers must not
# depend on that. Reuse of a client port is checked on its own (k).
NEXT_PORT=20000
PORT_BASE=0
alloc_ports() { PORT_BASE=$NEXT_PORT; NEXT_PORT=$((NEXT_PORT + $1)); }  # alloc_ports COUNT

# curl_n URL COUNT OUT: COUNT sequential requests (a new connection each, from client ports
# PORT_BASE...), one line per request in OUT: "<curl exit code> <client port> <body>", the body
# being "<rs name> <address it saw>".
# (unquoted echo: the body's newline becomes a space; set -f: no globbing of what a server sent)
CURL_ONE='out=$(curl -s -m 5 --local-port $((base + i)) -w "/%{local_port}" "$url") && rc=0 || rc=$?
  echo $rc ${out##*/} ${out%/*}; i=$((i + 1))'
curl_n() {
  ip netns exec "$CLIENT_NS" bash -fc "url=\$1 base=\$3 i=0; while ((i < \$2)); do $CURL_ONE; done" \
    _ "$1" "$2" "$PORT_BASE" >"$3"
}

# curl_for URL SECONDS OUT: like curl_n, for SECONDS (at most 3000 requests).
curl_for() {
  ip netns exec "$CLIENT_NS" bash -fc "url=\$1 base=\$3 i=0 end=\$((SECONDS + \$2))
    while ((SECONDS < end && i < 3000)); do $CURL_ONE; done" _ "$1" "$2" "$PORT_BASE" >"$3"
}

# results OUT: "<requests> <failed> <name>=<count>..." of a curl_n/curl_for output file.
results() {
  python3 - "$1" <<'PY'
import collections, sys
lines = [l.split() for l in open(sys.argv[1]) if l.strip()]
failed = sum(1 for l in lines if l[0] != "0" or len(l) != 4)
names = collections.Counter(l[2] for l in lines if l[0] == "0" and len(l) == 4)
print(len(lines), failed, " ".join("%s=%d" % kv for kv in sorted(names.items())))
PY
}

# Packet capture without tcpdump: AF_PACKET on the given interfaces of a namespace, one line per
# IPv4 frame in OUT: "<ifname> <pkttype> <hex frame>" (pkttype 4 = sent by this host).
cat >"$TMP/sniff.py" <<'PY'
import select, signal, socket, sys
out = open(sys.argv[1], "w", buffering=1)
socks = {}
for ifname in sys.argv[2:]:
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
    s.bind((ifname, 3))
    socks[s] = ifname
stop = False
def on_term(*_):
    global stop
    stop = True
signal.signal(signal.SIGTERM, on_term)
print("ready", flush=True)
while not stop:
    ready, _, _ = select.select(list(socks), [], [], 0.1)
    for s in ready:
        data, addr = s.recvfrom(65535)
        if addr[1] == 0x0800:
            out.write("%s %d %s\n" % (addr[0], addr[2], data.hex()))
out.close()
PY
SNIFF_PID=""
sniff_start() {  # sniff_start NS OUT IFNAME...: background capture, SNIFF_PID
  local ns=$1 out=$2
  shift 2
  ip netns exec "$ns" python3 -u "$TMP/sniff.py" "$out" "$@" >"$out.ready" 2>&1 &
  SNIFF_PID=$!
  track "$SNIFF_PID"
  wait_for -i 0.05 -p "$SNIFF_PID" 5 grep -q ready "$out.ready" && return 0
  echo "capture in $ns on $* did not start: $(cat "$out.ready")"
  return 1
}
sniff_stop() {  # sniff_stop PID
  sleep 0.3  # let the last frames arrive
  stop_pid "$1"
}
# Decodes capture lines (shared by the DR and TUNNEL checks).
cat >"$TMP/pkt.py" <<'PY'
import socket, struct
def frames(path):
    for line in open(path):
        parts = line.split()
        if len(parts) == 3:
            yield parts[0], int(parts[1]), bytes.fromhex(parts[2])
def ip4(b):  # IPv4 header fields and payload of an IPv4 packet (bytes from the IP header)
    ihl = (b[0] & 15) * 4
    tot = struct.unpack("!H", b[2:4])[0]
    return {"ttl": b[8], "proto": b[9], "src": socket.inet_ntoa(b[12:16]),
            "dst": socket.inet_ntoa(b[16:20]), "hdr": b[:ihl], "l4": b[ihl:tot], "len": tot}
def l4ports(p):
    sport, dport = struct.unpack("!HH", p["l4"][:4])
    return sport, dport
def tcp_flags(p):
    return p["l4"][13]
PY

# --- lab and daemon --------------------------------------------------------------------------------
echo "== vsgate load-balancer e2e test: lab prefix $LAB_PREFIX, temp dir $TMP"
lab_up --rs 3 --dr || exit 1
RS1_NS=$("$LAB" ns rs1)
if ! "$LAB" rs-start; then
  echo "FAIL: lab.sh rs-start failed (real-server HTTP/UDP programs)"
  exit 1
fi

notify_start
daemon_start NOTIFY_SOCKET="$NOTIFY_SOCK"
if daemon_wait_ready 30; then
  pass "setup: vsgated ready (READY=1)"
elif daemon_alive; then
  fail "setup: no READY=1 from vsgated within 30 s"
else
  daemon_reap
  fail "setup: vsgated exited with status $DAEMON_RC before READY=1"
fi

# --- checks ------------------------------------------------------------------------------------
RS_IPS=(10.0.1.11 10.0.1.12 10.0.1.13)
VIP=10.0.0.100

check_lab() {
  local ip ok=1
  for ip in "${RS_IPS[@]}"; do
    if ! ip netns exec "$CLIENT_NS" ping -c 2 -i 0.2 -W 2 "$ip" >"$TMP/ping.txt" 2>&1; then
      ok=0
      fail "lab: client cannot ping real server $ip through the appliance:"
      indent <"$TMP/ping.txt"
    fi
  done
  if ((ok)); then pass "lab: client reaches rs1..3 (10.0.1.11..13) through the appliance"; fi
  if ip netns exec "$CLIENT_NS" ping -c 1 -W 2 10.0.2.1 >/dev/null 2>&1; then
    pass "lab: client reaches the DR router on eth1 (10.0.2.1)"
  else
    fail "lab: client cannot ping the DR router 10.0.2.1"
  fi
}

# a. FULLNAT round robin.
check_a() {
  local s i err
  s=$(svc tcp "$VIP" 80)
  err=$( {
    lb lb.service.add "$s,\"scheduler\":\"rr\"" &&
      lb lb.laddr.add "$s,\"laddr\":\"10.0.1.1\",\"port_name\":\"dpdk1\"" &&
      for i in "${RS_IPS[@]}"; do
        lb lb.real.add "$s,\"rip\":\"$i\",\"rport\":80,\"fwd\":\"fullnat\",\"weight\":1" || exit 1
      done
  } 2>&1) || { fail "a. configure FULLNAT service $VIP:80: $err"; return; }
  alloc_ports 200
  curl_n "http://$VIP:80/" 200 "$TMP/a.txt"
  local res
  res=$(python3 - "$TMP/a.txt" <<'PY'
import re, sys
lines = [l.split() for l in open(sys.argv[1]) if l.strip()]  # rc, client port, rs name, address
bad = [i for i, l in enumerate(lines) if l[0] != "0" or len(l) != 4 or not re.fullmatch(r"rs[123]", l[2])]
msgs = []
if len(lines) != 200 or bad:
    msgs.append("FAIL requests: %d lines, %d failed (first failures: %s)"
                % (len(lines), len(bad), ["#%d %s" % (i, " ".join(lines[i])) for i in bad[:5]]))
else:
    msgs.append("PASS all 200 requests succeeded")
names = [l[2] for l in lines if l[0] == "0" and len(l) == 4]
nxt = {"rs1": "rs2", "rs2": "rs3", "rs3": "rs1"}
breaks = [i for i in range(1, len(names)) if names[i] != nxt.get(names[i - 1])]
counts = {n: names.count(n) for n in ("rs1", "rs2", "rs3")}
if names and not breaks and not bad:
    msgs.append("PASS round robin in cyclic order rs1,rs2,rs3 (first %s; %s)" % (names[0], counts))
else:
    msgs.append("FAIL round robin order broken at %d place(s), first at #%s; sequence start %s; %s"
                % (len(breaks), breaks[:1], " ".join(names[:12]), counts))
clients = [l[3] for l in lines if l[0] == "0" and len(l) == 4]
wrong = [c for c in clients if c.split(":")[0] != "10.0.1.1" or not 1024 <= int(c.split(":")[1]) <= 32767]
if clients and not wrong:
    msgs.append("PASS every real server saw the local address 10.0.1.1 (ports %d..%d)"
                % (min(int(c.split(":")[1]) for c in clients), max(int(c.split(":")[1]) for c in clients)))
else:
    msgs.append("FAIL real servers saw other client addresses: %s" % wrong[:5])
print("\n".join(msgs))
PY
)
  local line
  while IFS= read -r line; do
    case "$line" in
      PASS*) pass "a. FULLNAT: ${line#PASS }" ;;
      *) fail "a. FULLNAT: ${line#FAIL }" ;;
    esac
  done <<<"$res"
  # e1. the service's counters after exactly 200 connections
  local st
  st=$(svc_eval tcp "$VIP" 80 "' '.join(str(s['stats'][k]) for k in ('conns', 'inpkts', 'outpkts', 'inbytes', 'outbytes'))") ||
    { fail "e. lb.list $VIP:80: $st"; return; }
  local c ipk op ib ob
  read -r c ipk op ib ob <<<"$st"
  info "lb.list $VIP:80 after a: conns $c inpkts $ipk outpkts $op inbytes $ib outbytes $ob"
  if ((c == 200)); then
    pass "e. stats: conns = 200 after 200 requests"
  else
    fail "e. stats: conns = $c after 200 requests (want 200)"
  fi
  if ((ipk >= 1000 && op >= 600 && ib > 0 && ob > 0)); then
    pass "e. stats: inpkts $ipk >= 1000 (5 per connection), outpkts $op >= 600 (3 per connection)"
  else
    fail "e. stats: inpkts $ipk (want >= 1000), outpkts $op (want >= 600), inbytes $ib, outbytes $ob"
  fi
  local reals
  reals=$(svc_eval tcp "$VIP" 80 "sum(r['stats']['conns'] for r in s['reals'])")
  if [[ "$reals" == 200 ]]; then
    pass "e. stats: per-real conns sum to 200"
  else
    fail "e. stats: per-real conns sum to $reals (want 200)"
  fi
  # e2. the worker's own view: connections created, local ports held (the 200 connections sit in
  # TIME_WAIT or CLOSE and keep their ports) out of one pool of 1024..32767.
  local w
  w=$(req '{"cmd":"lcore.stats"}' | json "' '.join(str(d['lcores'][0]['lb'][k]) for k in ('conns_created', 'conns', 'lport_used', 'lport_free', 'lport_misses'))") ||
    { fail "e. lcore.stats lb: $w"; return; }
  local created conns used free misses
  read -r created conns used free misses <<<"$w"
  if ((created >= 200 && used >= 1 && used <= conns && used + free == 31744 && misses == 0)); then
    pass "e. lcore.stats lb: created $created, table $conns, local ports used $used + free $free = 31744, misses 0"
  else
    fail "e. lcore.stats lb: created $created (want >= 200), table $conns, lport used $used free $free (want sum 31744), misses $misses"
  fi
}

# b. wrr 3:2:1
check_b() {
  local s err w i
  s=$(svc tcp "$VIP" 80)
  err=$( {
    lb lb.service.edit "$s,\"scheduler\":\"wrr\"" &&
      w=(3 2 1) && for i in 0 1 2; do
        lb lb.real.edit "$s,\"rip\":\"${RS_IPS[i]}\",\"rport\":80,\"weight\":${w[i]}" || exit 1
      done
  } 2>&1) || { fail "b. switch to wrr 3,2,1: $err"; return; }
  local got
  got=$(svc_eval tcp "$VIP" 80 "s['scheduler'] + ' ' + ','.join(str(r['weight']) for r in s['reals'])")
  info "service now: $got"
  alloc_ports 120
  curl_n "http://$VIP:80/" 120 "$TMP/b.txt"
  local n failed counts
  read -r n failed counts <<<"$(results "$TMP/b.txt")"
  if ((n == 120 && failed == 0)) && [[ "$counts" == "rs1=60 rs2=40 rs3=20" ]]; then
    pass "b. wrr 3,2,1: 120 requests split $counts"
  else
    fail "b. wrr 3,2,1: $n requests, $failed failed, split '$counts' (want rs1=60 rs2=40 rs3=20)"
    info "sequence: $(awk '{printf "%s ", $3}' "$TMP/b.txt" | cut -c1-200)"
  fi
}

# c. NAT
check_c() {
  local vip=10.0.0.101 s err i
  s=$(svc tcp "$vip" 80)
  err=$( {
    lb lb.service.add "$s,\"scheduler\":\"rr\"" &&
      for i in "${RS_IPS[@]}"; do
        lb lb.real.add "$s,\"rip\":\"$i\",\"rport\":80,\"fwd\":\"nat\"" || exit 1
      done
  } 2>&1) || { fail "c. configure NAT service $vip:80: $err"; return; }
  alloc_ports 60
  curl_n "http://$vip:80/" 60 "$TMP/c.txt"
  local n failed counts
  read -r n failed counts <<<"$(results "$TMP/c.txt")"
  if ((n == 60 && failed == 0)); then
    pass "c. NAT: 60/60 requests to $vip:80 succeeded ($counts)"
  else
    fail "c. NAT: $n requests, $failed failed ($counts)"
    grep -v '^0 ' "$TMP/c.txt" | head -n 5 | indent
  fi
  local others
  others=$(awk '$1 == 0 { split($4, a, ":"); if (a[1] != "10.0.0.2") print $4 }' "$TMP/c.txt" | head -n 5)
  if [[ -z "$others" ]] && ((failed < n)); then
    pass "c. NAT: the real servers saw the client address 10.0.0.2"
  else
    fail "c. NAT: real servers saw other client addresses: ${others:-none (no request succeeded)}"
  fi
}

# d. UDP FULLNAT
check_d() {
  local s err i
  s=$(svc udp "$VIP" 5353)
  err=$( {
    lb lb.service.add "$s,\"scheduler\":\"rr\"" &&
      lb lb.laddr.add "$s,\"laddr\":\"10.0.1.1\",\"port_name\":\"dpdk1\"" &&
      for i in "${RS_IPS[@]}"; do
        lb lb.real.add "$s,\"rip\":\"$i\",\"rport\":5353,\"fwd\":\"fullnat\"" || exit 1
      done
  } 2>&1) || { fail "d. configure UDP service $VIP:5353: $err"; return; }
  local out
  alloc_ports 30
  out=$(ip netns exec "$CLIENT_NS" python3 - "$VIP" "$PORT_BASE" <<'PY'
import collections, re, socket, sys
ok, bad, names = 0, [], collections.Counter()
for i in range(30):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("", int(sys.argv[2]) + i))  # a new source port each time
    s.settimeout(2)
    s.sendto(b"ping %d" % i, (sys.argv[1], 5353))
    try:
        data, peer = s.recvfrom(65535)
    except socket.timeout:
        bad.append("#%d: no echo" % i)
        continue
    finally:
        s.close()
    text = data.decode(errors="replace").strip()
    m = re.fullmatch(r"(rs[123]) 10\.0\.1\.1:(\d+)", text)
    if peer != (sys.argv[1], 5353) or not m:
        bad.append("#%d: %r from %s" % (i, text, peer))
        continue
    ok += 1
    names[m.group(1)] += 1
print(ok, " ".join("%s=%d" % kv for kv in sorted(names.items())), "|", "; ".join(bad[:5]))
PY
)
  local n rest
  n=${out%% *}
  rest=${out#* }
  if [[ "$n" == 30 ]]; then
    pass "d. UDP FULLNAT: 30/30 datagrams to $VIP:5353 echoed from the VIP, real servers saw 10.0.1.1 (${rest%%|*})"
  else
    fail "d. UDP FULLNAT: $n/30 echoes ($rest)"
  fi
}

# e. rate estimator under sustained traffic, then decay.
check_e() {
  local start cps first_t="" first_cps=0 peak=0 t
  alloc_ports 3000
  curl_for "http://$VIP:80/" 6 "$TMP/e.txt" &
  local loop=$!
  track "$loop"
  start=$(date +%s%N)
  while is_running "$loop"; do
    cps=$(svc_eval tcp "$VIP" 80 "s['rates']['cps']") || cps=0
    t=$((($(date +%s%N) - start) / 1000000))  # ms since the traffic started
    if [[ -z "$first_t" ]] && ((cps > 0)); then
      first_t=$t
      first_cps=$cps
    fi
    if ((cps > peak)); then peak=$cps; fi
    sleep 0.5
  done
  wait "$loop" || true
  untrack "$loop"
  local n failed counts
  read -r n failed counts <<<"$(results "$TMP/e.txt")"
  info "traffic: $n requests in 6 s ($failed failed): $counts"
  if [[ -n "$first_t" ]] && ((first_t <= 6000)); then
    pass "e. rates: cps $first_cps after $((first_t / 1000)).$((first_t % 1000 / 100)) s of traffic (peak $peak)"
  else
    fail "e. rates: cps stayed 0 during 6 s of traffic ($n requests; first non-zero after ${first_t:-never} ms)"
    svc_eval tcp "$VIP" 80 "s['rates']" | indent
  fi
  local r0 r1
  r0=$(svc_eval tcp "$VIP" 80 "s['rates']['cps']")
  sleep 10
  r1=$(svc_eval tcp "$VIP" 80 "s['rates']['cps']")
  local pps
  pps=$(svc_eval tcp "$VIP" 80 "s['rates']['inpps']")
  if ((r0 > 0 && r1 < r0)); then
    pass "e. rates: cps decays after the traffic stopped ($r0 -> $r1 in 10 s; inpps now $pps)"
  else
    fail "e. rates: cps $r0 when the traffic stopped, $r1 10 s later (want lower)"
  fi
}

# f. delete a real server while requests are running.
check_f() {
  local s out=$TMP/f.txt lines=0
  s=$(svc tcp "$VIP" 80)
  alloc_ports 100
  curl_n "http://$VIP:80/" 100 "$out" &
  local loop=$!
  track "$loop"
  for _ in $(seq 600); do
    lines=$(grep -c . "$out" 2>/dev/null || true)
    ((lines >= 30)) && break
    is_running "$loop" || break
    sleep 0.02
  done
  local err="" at=$lines done_at
  err=$(lb lb.real.del "$s,\"rip\":\"10.0.1.12\",\"rport\":80" 2>&1) || true
  done_at=$(grep -c . "$out" 2>/dev/null || true)
  wait "$loop" || true
  untrack "$loop"
  [[ -z "$err" ]] || fail "f. lb.real.del rs2: $err"
  local n failed counts
  read -r n failed counts <<<"$(results "$out")"
  info "lb.real.del rs2 sent after $at of 100 requests, its reply came after $done_at; split $counts"
  if ((n == 100 && failed == 0)); then
    pass "f. real server deleted under load: 100/100 requests succeeded"
  else
    fail "f. real server deleted under load: $n requests, $failed failed (curl exit codes: $(awk '$1 != 0 {print "#" NR ": rc " $1}' "$out" | head -n 5 | tr '\n' ' '))"
  fi
  # Requests that began after the reply (the one running then may still have gone to rs2).
  local late
  late=$(awk -v from=$((done_at + 1)) 'NR > from && $3 == "rs2" {printf "#%d(client port %d) ", NR, $2}' "$out")
  if [[ -z "$late" ]]; then
    pass "f. no request begun after the lb.real.del reply went to rs2"
  else
    fail "f. requests begun after the lb.real.del reply went to rs2: $late"
    # Was the client port used before (a connection the balancer may still hold)?
    local port
    awk -v from=$((done_at + 1)) 'NR > from && $3 == "rs2" {print $2}' "$out" | while read -r port; do
      info "client port $port earlier: $(awk -v p="$port" '$2 == p {printf "%s:%d->%s ", FILENAME, FNR, $3}' \
        "$TMP"/a.txt "$TMP"/b.txt "$TMP"/e.txt "$out" | sed "s#$TMP/##g")"
    done
  fi
  local left
  left=$(svc_eval tcp "$VIP" 80 "' '.join(r['rip'] for r in s['reals'])")
  if [[ "$left" == "10.0.1.11 10.0.1.13" ]]; then
    pass "f. lb.list shows the remaining reals: $left"
  else
    fail "f. lb.list reals after deleting 10.0.1.12: $left"
  fi
}

# g. drops counted per reason.
check_g() {
  local before after rc=0
  before=$(drop_count lb_vip_no_service)
  ip netns exec "$CLIENT_NS" curl -s -m 3 "http://$VIP:81/" >/dev/null 2>&1 || rc=$?
  after=$(drop_count lb_vip_no_service)
  if ((rc != 0 && after > before)); then
    pass "g. curl $VIP:81 (no service) fails (exit $rc), lb_vip_no_service $before -> $after"
  else
    fail "g. curl $VIP:81 (no service): exit $rc, lb_vip_no_service $before -> $after"
  fi
  before=$(drop_count lb_tcp_no_conn)
  local sent
  sent=$(ip netns exec "$CLIENT_NS" python3 - "$VIP" <<'PY'
import socket, struct, sys
def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
src, dst = "10.0.0.2", sys.argv[1]
raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
n = 0
for i in range(5):
    # A bare ACK from a port outside the ephemeral range: no connection can exist for it.
    tcp = struct.pack("!HHIIBBHHH", 61000 + i, 80, 1000, 2000, 5 << 4, 0x10, 65535, 0, 0)
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
    raw.sendto(tcp, (dst, 0))
    n += 1
print(n)
PY
) || sent=0
  sleep 0.5
  after=$(drop_count lb_tcp_no_conn)
  if ((after - before >= sent && sent == 5)); then
    pass "g. $sent TCP ACKs without a connection: lb_tcp_no_conn $before -> $after"
  else
    fail "g. $sent TCP ACKs without a connection: lb_tcp_no_conn $before -> $after (want +5)"
  fi
}

# h. DR: requests answered by the real servers through the router, not the appliance.
check_h() {
  local vip=10.0.0.102 s err i
  if ! "$LAB" vip-on-lo "$vip" >"$TMP/viplo.txt" 2>&1; then
    fail "h. lab.sh vip-on-lo $vip:"
    indent <"$TMP/viplo.txt"
    return
  fi
  s=$(svc tcp "$vip" 80)
  err=$( {
    lb lb.service.add "$s,\"scheduler\":\"rr\"" &&
      for i in "${RS_IPS[@]}"; do
        lb lb.real.add "$s,\"rip\":\"$i\",\"rport\":80,\"fwd\":\"dr\"" || exit 1
      done
  } 2>&1) || { fail "h. configure DR service $vip:80: $err"; return; }
  sniff_start "$CLIENT_NS" "$TMP/h.cap" eth0 eth1 || { fail "h. capture: cannot start"; return; }
  local cap=$SNIFF_PID
  local op0
  op0=$(port_stat dpdk0 opackets)
  alloc_ports 30
  curl_n "http://$vip:80/" 30 "$TMP/h.txt"
  local op1
  op1=$(port_stat dpdk0 opackets)
  sniff_stop "$cap"
  local n failed counts
  read -r n failed counts <<<"$(results "$TMP/h.txt")"
  if ((n == 30 && failed == 0)); then
    pass "h. DR: 30/30 requests to $vip:80 succeeded ($counts)"
  else
    fail "h. DR: $n requests, $failed failed ($counts)"
    grep -v '^0 ' "$TMP/h.txt" | head -n 5 | indent
  fi
  local others
  others=$(awk '$1 == 0 { split($4, a, ":"); if (a[1] != "10.0.0.2") print $4 }' "$TMP/h.txt" | head -n 5)
  [[ -z "$others" ]] || fail "h. DR: real servers saw other client addresses: $others"
  local c0 c1
  read -r c0 c1 < <(python3 - "$TMP/h.cap" "$vip" <<PY
import sys
sys.path.insert(0, "$TMP")
from pkt import frames, ip4, l4ports
c = {"eth0": 0, "eth1": 0}
for ifname, pkttype, f in frames(sys.argv[1]):
    if pkttype == 4:
        continue
    p = ip4(f[14:])
    if p["proto"] == 6 and p["src"] == sys.argv[2] and l4ports(p)[0] == 80:
        c[ifname] += 1
print(c["eth0"], c["eth1"])
PY
)
  local dop=$((op1 - op0))
  info "replies from $vip:80 seen by the client: eth0 (appliance) $c0, eth1 (router) $c1; dpdk0 opackets +$dop"
  if ((c1 >= 60 && c0 == 0 && dop < c1)); then
    pass "h. DR: replies bypass the appliance ($c1 via the router, 0 via dpdk0; dpdk0 opackets +$dop < $c1)"
  else
    fail "h. DR: replies via router $c1 (want >= 60), via the appliance $c0 (want 0), dpdk0 opackets +$dop (want < $c1)"
  fi
  local st
  st=$(svc_eval tcp "$vip" 80 "'%d %d %d' % (s['stats']['conns'], s['stats']['inpkts'], s['stats']['outpkts'])")
  local sc si so
  read -r sc si so <<<"$st"
  if ((sc == 30 && si >= 150 && so == 0)); then
    pass "h. DR: stats conns $sc, inpkts $si, outpkts $so (no reply went through the appliance)"
  else
    fail "h. DR: stats conns $sc (want 30), inpkts $si (want >= 150), outpkts $so (want 0)"
  fi
}

# i. TUNNEL: IPIP to the real server, captured on rs1's eth0.
check_i() {
  local vip=10.0.0.103 s err
  s=$(svc tcp "$vip" 80)
  err=$( {
    lb lb.service.add "$s,\"scheduler\":\"rr\"" &&
      lb lb.real.add "$s,\"rip\":\"10.0.1.11\",\"rport\":80,\"fwd\":\"tunnel\""
  } 2>&1) || { fail "i. configure TUNNEL service $vip:80: $err"; return; }
  sniff_start "$RS1_NS" "$TMP/i_rs.cap" eth0 || { fail "i. capture in rs1: cannot start"; return; }
  local cap_rs=$SNIFF_PID
  sniff_start "$CLIENT_NS" "$TMP/i_cl.cap" eth0 || { fail "i. capture in client: cannot start"; return; }
  local cap_cl=$SNIFF_PID
  # One connection attempt: the SYN (and its retransmission) go into the tunnel; rs1 has no
  # ipip module, so it never answers.
  ip netns exec "$CLIENT_NS" python3 -c '
import socket, sys
s = socket.socket()
s.settimeout(1.5)
try:
    s.connect((sys.argv[1], 80))
except OSError:
    pass
' "$vip"
  sniff_stop "$cap_rs"
  sniff_stop "$cap_cl"
  local res
  res=$(python3 - "$TMP/i_rs.cap" "$TMP/i_cl.cap" "$vip" <<PY
import sys
sys.path.insert(0, "$TMP")
from pkt import frames, ip4, l4ports, tcp_flags
vip = sys.argv[3]
sent = []
for ifname, pkttype, f in frames(sys.argv[2]):
    p = ip4(f[14:])
    if pkttype == 4 and p["proto"] == 6 and p["dst"] == vip and l4ports(p)[1] == 80:
        sent.append(p)
tunnelled, other = [], 0
for ifname, pkttype, f in frames(sys.argv[1]):
    if pkttype == 4:
        continue
    o = ip4(f[14:])
    if o["proto"] == 4:
        tunnelled.append((o, ip4(o["l4"])))
    elif o["dst"] == vip:
        other += 1
if not sent:
    print("FAIL the client sent no SYN to %s:80 (capture on client eth0)" % vip)
    sys.exit()
if not tunnelled:
    print("FAIL rs1 received no IPIP packet (%d packets to %s:80 not encapsulated; client sent %d SYNs)"
          % (other, vip, len(sent)))
    sys.exit()
o, i = tunnelled[0]
syn = sent[0]
problems = []
if (o["src"], o["dst"]) != ("10.0.1.1", "10.0.1.11"):
    problems.append("outer %s -> %s (want 10.0.1.1 -> 10.0.1.11)" % (o["src"], o["dst"]))
if (i["src"], i["dst"], i["proto"]) != (syn["src"], syn["dst"], 6) or i["dst"] != vip:
    problems.append("inner %s -> %s proto %d (client sent %s -> %s)"
                    % (i["src"], i["dst"], i["proto"], syn["src"], syn["dst"]))
if i["proto"] == 6:
    if l4ports(i)[1] != 80 or tcp_flags(i) & 0x17 != 0x02:
        problems.append("inner TCP port %d flags %#x (want 80, SYN)" % (l4ports(i)[1], tcp_flags(i)))
    if i["l4"] != syn["l4"]:
        problems.append("inner TCP segment differs from the client's SYN")
if o["len"] != i["len"] + 20:
    problems.append("outer length %d, inner %d" % (o["len"], i["len"]))
if problems:
    print("FAIL " + "; ".join(problems))
else:
    print("PASS rs1 received %d IPIP packet(s) 10.0.1.1 -> 10.0.1.11 carrying %s:%d -> %s:80 SYN, "
          "TCP segment identical to the client's (inner TTL %d, sent %d)"
          % (len(tunnelled), i["src"], l4ports(i)[0], vip, i["ttl"], syn["ttl"]))
PY
)
  case "$res" in
    PASS*) pass "i. TUNNEL: ${res#PASS }" ;;
    *) fail "i. TUNNEL: ${res#FAIL }" ;;
  esac
}

# One HTTP request from 10.0.0.2:PORT to VIP:80, read to the end (the server closes first, so the
# client keeps no TIME_WAIT and may bind the port again at once). Prints the real server's name
# or "error:<exception>".
http_from_port() {  # http_from_port VIP PORT
  ip netns exec "$CLIENT_NS" python3 - "$1" "$2" <<'PY'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.0.0.2", int(sys.argv[2])))
s.settimeout(5)
try:
    s.connect((sys.argv[1], 80))
    s.sendall(b"GET / HTTP/1.0\r\n\r\n")
    data = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    print(data.split(b"\r\n\r\n", 1)[1].decode().split()[0])
except (OSError, IndexError) as e:
    print("error:%s" % type(e).__name__)
PY
}

# conn_of VIP PORT: state and real server of the balancer's connections from 10.0.0.2:PORT to VIP:80
conn_of() {
  req '{"cmd":"lb.conns"}' | json "' '.join(c['state'] + '->' + c['real'] for c in d['connections']
      if c['client'] == '10.0.0.2:$2' and c['vip'] == '$1:80') or 'none'"
}

# k. Client port reuse. A SYN that finds the connection of the same client address and port in
# TIME_WAIT starts a new connection and is scheduled anew, as IPVS does (conn_reuse_mode 1); so it
# never goes to a real server that was deleted meanwhile. (NAT: no local address involved.)
check_k() {
  local vip=10.0.0.104 s err i
  s=$(svc tcp "$vip" 80)
  err=$( {
    lb lb.service.add "$s,\"scheduler\":\"rr\"" &&
      for i in "${RS_IPS[@]}"; do
        lb lb.real.add "$s,\"rip\":\"$i\",\"rport\":80,\"fwd\":\"nat\"" || exit 1
      done
  } 2>&1) || { fail "k. configure NAT service $vip:80: $err"; return; }
  alloc_ports 1
  local port=$PORT_BASE names=() states=() n
  for i in 1 2 3; do
    n=$(http_from_port "$vip" "$port")
    names+=("$n")
    sleep 0.2
    states+=("$(conn_of "$vip" "$port")")
  done
  info "3 requests to $vip:80 from client port $port: ${names[*]}; balancer connection after each: ${states[*]}"
  local distinct
  distinct=$(printf '%s\n' "${names[@]}" | grep -cE '^rs[123]$' || true)
  if ((distinct == 3)) && [[ "$(printf '%s\n' "${names[@]}" | sort -u | wc -l)" == 3 ]]; then
    pass "k. a SYN reusing client port $port (old connection in TIME_WAIT) is scheduled anew: ${names[*]}"
  else
    fail "k. 3 connections from client port $port, each after the previous one closed (balancer: ${states[*]}), went to ${names[*]}: want rr to pick 3 different real servers (IPVS conn_reuse_mode reschedules a SYN that finds a TIME_WAIT connection)"
  fi
  # The real server of the last connection is deleted: the next SYN from the port must not reach it.
  local last=${names[2]} rip
  if [[ ! "$last" =~ ^rs([123])$ ]]; then
    fail "k. the last request from client port $port failed: '$last'"
    return
  fi
  rip=10.0.1.1${BASH_REMATCH[1]}
  if ! err=$(lb lb.real.del "$s,\"rip\":\"$rip\",\"rport\":80" 2>&1); then
    fail "k. lb.real.del $rip: $err"
    return
  fi
  n=$(http_from_port "$vip" "$port")
  if [[ "$n" =~ ^rs[123]$ && "$n" != "$last" ]]; then
    pass "k. after deleting $last ($rip), a new connection from client port $port went to $n"
  else
    fail "k. after deleting $last ($rip), a new connection from client port $port got '$n' (want one of the remaining real servers; the balancer then had: $(conn_of "$vip" "$port"))"
  fi
}

# l. Two FULLNAT services share the local address 10.0.1.1 (as the TCP and UDP services above
# do): a local port must never be handed out twice towards the same real server while a
# connection holds it, or the real server's replies go to the wrong connection.
check_l() {
  local v1=10.0.0.105 v2=10.0.0.106 v err
  for v in $v1 $v2; do
    err=$( {
      lb lb.service.add "$(svc tcp "$v" 80),\"scheduler\":\"rr\"" &&
        lb lb.laddr.add "$(svc tcp "$v" 80),\"laddr\":\"10.0.1.1\",\"port_name\":\"dpdk1\"" &&
        lb lb.real.add "$(svc tcp "$v" 80),\"rip\":\"10.0.1.11\",\"rport\":80,\"fwd\":\"fullnat\""
    } 2>&1) || { fail "l. configure FULLNAT service $v:80 -> rs1: $err"; return; }
  done
  local n1 f1 n2 f2
  alloc_ports 10
  curl_n "http://$v1:80/" 10 "$TMP/l1.txt"
  alloc_ports 10
  curl_n "http://$v2:80/" 10 "$TMP/l2.txt"
  read -r n1 f1 _ <<<"$(results "$TMP/l1.txt")"
  read -r n2 f2 _ <<<"$(results "$TMP/l2.txt")"
  # Connections in the table with the same (real server, local address:port): the out tuple
  # RS:rport -> laddr:lport of both.
  local dups
  dups=$(req '{"cmd":"lb.conns"}' | python3 -c '
import collections, json, sys
conns = [c for c in json.load(sys.stdin)["result"]["connections"] if c["laddr"] and c["proto"] == "tcp"]
by = collections.defaultdict(list)
for c in conns:
    by[(c["real"], c["laddr"])].append(c)
dups = [v for v in by.values() if len(v) > 1]
print(len(dups), "; ".join(" & ".join("%s %s %s" % (c["vip"], c["client"], c["state"]) for c in v)
                            + " -> %s from %s" % (v[0]["real"], v[0]["laddr"]) for v in dups[:3]))
')
  info "$v1:80: $((n1 - f1))/$n1 requests succeeded; $v2:80: $((n2 - f2))/$n2"
  if ((n1 == 10 && f1 == 0 && n2 == 10 && f2 == 0)) && [[ "${dups%% *}" == 0 ]]; then
    pass "l. FULLNAT services sharing laddr 10.0.1.1: 20/20 requests, no local port held twice towards one real server"
  else
    fail "l. FULLNAT services sharing laddr 10.0.1.1: $v1 $((n1 - f1))/$n1 and $v2 $((n2 - f2))/$n2 requests succeeded; (real, laddr:lport) held by more than one connection: ${dups%% *} (e.g. ${dups#* })"
  fi
}

# j. SIGTERM
# m. The lab config has no debug_commands: the debug.* commands do not exist.
check_m() {
  local reply cmd
  for cmd in debug.stall_worker debug.pause_exception_path; do
    reply=$(req "{\"cmd\":\"$cmd\",\"args\":{\"seconds\":1}}")
    if grep -qF "\"error\":\"unknown command '$cmd'\"" <<<"$reply"; then
      pass "m. without debug_commands, $cmd is an unknown command"
    else
      fail "m. without debug_commands, $cmd must be unknown: $reply"
    fi
  done
}

check_j() {
  if ! daemon_term 10; then
    fail "j. vsgated still running 10 s after SIGTERM"
    return
  fi
  if ((DAEMON_RC == 0)); then
    pass "j. vsgated exited with status 0 on SIGTERM"
  else
    fail "j. vsgated exited with status $DAEMON_RC on SIGTERM"
  fi
  local left
  left=$(ip -n "$APP_NS" -o link show 2>/dev/null | grep -oE 'dpdk[01]\.kni' || true)
  if [[ -z "$left" ]]; then
    pass "j. no kni interfaces left in $APP_NS"
  else
    fail "j. left behind in $APP_NS: $left"
  fi
}

for c in lab a b c d e f g h i k l m j; do
  if daemon_alive; then
    # A command that fails inside a check must not end the test: the check reports what it saw.
    "check_$c" || fail "$c. check ended with status $?"
  else
    fail "$c. skipped: vsgated is not running"
  fi
done

e2e_finish
