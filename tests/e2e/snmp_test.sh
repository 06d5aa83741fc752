#!/usr/bin/env bash
# End-to-end test of vsgate-snmp with real processes: snmpd (AgentX master, foreground, on
# 127.0.0.1 at a free port, AgentX socket in a temporary directory), vsgated in the lab with a
# FULLNAT service over two real servers and HTTP traffic, and vsgate-snmp between them.
#   a. vsgate-snmp started before snmpd connects once snmpd is up
#   b. walks of vsgatePortTable, vsgateLcoreTable, vsgateVirtualServerTable and
#      vsgateRealServerTable (snmpwalk, snmptable, -M SHARED_MIBS:snmp -m VSGATE-MIB) agree with
#      `vsgatectl --json` taken around them (static columns equal, counters and gauges between
#      the readings before and after); the scalars agree with the daemon's status
#   c. indexes stay with their rows when a service is added in front of them
#   d. lb.zero (vsgatectl -Z) moves vsgateStatsDiscontinuityTime, counters read 0 again
#   e. snmpd restarted: values are back within 5 s
#   f. vsgated stopped: vsgateDaemonState is notReachable, the tables are empty, the daemon's
#      scalars are gone; started again: values return with a new discontinuity time
#   g. vsgate-snmp's log has no sanitizer report (run it from an ASan build to check the cache
#      handler's place in the handler chain), and SIGTERM stops it with status 0
#
# Usage: snmp_test.sh VSGATED VSGATECTL LAB_SH VSGATE_SNMP MIB_DIR SHARED_MIBS_DIR
# Needs root (network namespaces). Exit 0 all passed, 1 a check failed, 77 skipped (printed why).
# shellcheck disable=SC2317,SC2016
set -euo pipefail

if (($# < 6)); then
  echo "usage: $0 VSGATED VSGATECTL LAB_SH VSGATE_SNMP MIB_DIR SHARED_MIBS_DIR" >&2
  exit 2
fi
VSGATED=$(realpath -m "$1")
VSGATECTL=$(realpath -m "$2")
LAB=$(realpath -m "$3")
VSGATE_SNMP=$(realpath -m "$4")
MIB_DIR=$(realpath -m "$5")
SHARED_MIBS=$(realpath -m "$6")

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$HERE/lib.sh"
e2e_init snmp_test vsn

need_root
need_netns
need_exec "$VSGATED" "$VSGATECTL" "$LAB" "$VSGATE_SNMP"
need_tools snmpd snmpwalk snmpget snmptable snmptranslate python3 curl
for m in SNMPv2-SMI SNMPv2-TC SNMPv2-CONF INET-ADDRESS-MIB HCNUM-TC NET-SNMP-MIB; do
  if [[ ! -f "$SHARED_MIBS/$m.txt" ]]; then
    skip "base MIB module $m not in $SHARED_MIBS (Debian ships none; see DESIGN.md)"
  fi
done
e2e_start
COMMUNITY=vsgtest$$

# --- helpers -------------------------------------------------------------------------------------
snmp() {  # snmp TOOL OPTIONS... OID: a net-snmp tool against our snmpd, VSGATE-MIB loaded
  local tool=$1 oid=${*: -1}
  shift
  set -- "${@:1:$#-1}"
  "$tool" -v2c -c "$COMMUNITY" -t 2 -r 1 -M "$SHARED_MIBS:$MIB_DIR" -m VSGATE-MIB "$@" \
    "127.0.0.1:$SNMP_PORT" "$oid"
}
walk() {  # "name.index = value" lines, without the end-of-view marker
  snmp snmpwalk -OQUsbet "VSGATE-MIB::$1" 2>&1 | grep -v "= No more variables left" || true
}
get() { snmp snmpget -OQUsbetv "VSGATE-MIB::$1" 2>&1 || true; }  # the value only

# Every reading the checker compares against: vsgatectl --json of each table plus the status.
json_reading() {  # json_reading FILE
  {
    echo "{\"port_show\": $(ctl --json port show),"
    echo " \"port_stats\": $(ctl --json port stats),"
    echo " \"lcore_stats\": $(ctl --json lcore stats),"
    echo " \"lb_list\": $(ctl --json -L -n),"
    echo " \"status\": $(req '{"cmd":"status"}')}"
  } >"$1"
}

start_daemon() {  # vsgated in the lab, answering on its control socket within 30 s
  # shellcheck disable=SC2119 # no extra environment
  daemon_start
  daemon_wait_ctl 30
}

SVC=$(svc tcp 10.0.0.100 80)
configure_service() {
  lb lb.service.add "$SVC,\"scheduler\":\"rr\"" &&
    lb lb.laddr.add "$SVC,\"laddr\":\"10.0.1.1\",\"port_name\":\"dpdk1\"" &&
    lb lb.real.add "$SVC,\"rip\":\"10.0.1.11\",\"rport\":80,\"weight\":2" &&
    lb lb.real.add "$SVC,\"rip\":\"10.0.1.12\",\"rport\":80,\"weight\":1"
}
# traffic N FIRST_PORT: N HTTP requests to the VIP from the client, from client ports FIRST_PORT..
# (a port of its own each: a reused one would meet its TIME_WAIT connection); prints how many
# succeeded.
traffic() {
  ip netns exec "$CLIENT_NS" bash -c 'ok=0; for ((i = 0; i < $1; i++)); do
      curl -s -m 3 --local-port $(($2 + i)) -o /dev/null http://10.0.0.100/ && ok=$((ok + 1)); done
    echo $ok' _ "$1" "$2"
}

state_is() { [[ "$(get vsgateDaemonState.0)" == "$1" ]]; }
vs_rows() { walk vsgateVirtualServerPort | grep -c '^vsgateVirtualServerPort\.' || true; }
has_vs_rows() { (($(vs_rows) > 0)); }

# --- the checker ---------------------------------------------------------------------------------
cat >"$TMP/check.py" <<'PY'
# check.py BEFORE.json AFTER.json WALK.txt: every value of the walk against the readings
import json, re, sys

before, after = (json.load(open(p)) for p in sys.argv[1:3])
walk = {}
for line in open(sys.argv[3]):
    m = re.match(r"^(\w+)\.([\d.]+) = (.*)$", line.rstrip("\n"))
    if m:
        walk[(m.group(1), m.group(2))] = m.group(3).strip().strip('"')
problems, checked = [], 0

def res(d, key):
    return d[key]["result"] if "result" in d[key] else d[key]

def hexbytes(v):  # "0A 00 00 64" or "10.0.0.100" (with a display hint) -> "10.0.0.100"
    parts = v.split()
    if len(parts) == 4 and all(re.fullmatch(r"[0-9A-Fa-f]{2}", p) for p in parts):
        return ".".join(str(int(p, 16)) for p in parts)
    return v

def mac(v):  # "2:0:0:0:0:1" -> "02:00:00:00:00:01"
    return ":".join("%02x" % int(p, 16) for p in v.split(":"))

def check(name, idx, kind, b, a=None):
    global checked
    v = walk.get((name, idx))
    if v is None:
        problems.append("%s.%s missing from the walk" % (name, idx))
        return
    checked += 1
    if kind == "eq":
        if str(v) != str(b):
            problems.append("%s.%s = %s, vsgatectl says %s" % (name, idx, v, b))
        return
    lo, hi = (b, a) if kind == "counter" else (min(b, a), max(b, a))
    if not (lo <= int(v) <= hi):
        problems.append("%s.%s = %s, vsgatectl says %s before and %s after" % (name, idx, v, b, a))

def both(path):  # (before, after) of a value reached by path from the top
    out = []
    for d in (before, after):
        x = d
        for p in path:
            x = x[p]
        out.append(x)
    return out

# ports (index = id + 1)
for side in (before, after):
    side["ports"] = {p["id"]: p for p in res(side, "port_show")["ports"]}
    side["pstats"] = {p["id"]: p for p in res(side, "port_stats")["ports"]}
for pid, p in before["ports"].items():
    i = str(pid + 1)
    check("vsgatePortName", i, "eq", p["name"])
    check("vsgatePortDriver", i, "eq", p["driver"])
    v = walk.get(("vsgatePortMacAddress", i))
    if v is None or mac(v) != p["mac"]:
        problems.append("vsgatePortMacAddress.%s = %s, vsgatectl says %s" % (i, v, p["mac"]))
    check("vsgatePortLinkStatus", i, "eq", 1 if p["link_up"] else 2)
    check("vsgatePortSpeed", i, "eq", p["speed_mbps"])
    for col, key in [("IPackets", "ipackets"), ("OPackets", "opackets"), ("IBytes", "ibytes"),
                     ("OBytes", "obytes"), ("IMissed", "imissed"), ("IErrors", "ierrors"),
                     ("OErrors", "oerrors"), ("RxNoMbuf", "rx_nombuf")]:
        b, a = before["pstats"][pid][key], after["pstats"][pid][key]
        check("vsgatePort" + col, i, "counter", b, a)
n_ports = len({k[1] for k in walk if k[0] == "vsgatePortName"})
if n_ports != len(before["ports"]):
    problems.append("%d port rows, vsgatectl shows %d ports" % (n_ports, len(before["ports"])))

# lcores (index = worker + 1)
lb_, la_ = (sorted(res(d, "lcore_stats")["lcores"], key=lambda l: l["worker"]) for d in (before, after))
for l, l2 in zip(lb_, la_):
    i = str(l["worker"] + 1)
    check("vsgateLcoreId", i, "eq", l["lcore"])
    for col, key in [("RxIterations", "rx_iterations"), ("RxPackets", "rx_packets"),
                     ("TxPackets", "tx_packets"), ("TxDrops", "tx_drops"), ("Punted", "punted"),
                     ("PuntDrops", "punt_drops"), ("Injected", "injected"),
                     ("InjectDrops", "inject_drops"), ("Forwarded", "forwarded"),
                     ("Drops", "dropped_total")]:
        check("vsgateLcore" + col, i, "counter", l[key], l2[key])
n_lcores = len({k[1] for k in walk if k[0] == "vsgateLcoreId"})
if n_lcores != len(lb_):
    problems.append("%d lcore rows, vsgatectl shows %d workers" % (n_lcores, len(lb_)))

# virtual and real servers: rows found by address and port (indexes are the subagent's)
def key_of(vs):
    return (vs["proto"], vs["vip"], vs["port"])
svc_rows = {}
for (name, idx), v in walk.items():
    if name == "vsgateVirtualServerAddress":
        proto = {"1": "tcp", "2": "udp"}[walk[("vsgateVirtualServerProtocol", idx)]]
        svc_rows[(proto, hexbytes(v), int(walk[("vsgateVirtualServerPort", idx)]))] = idx
sb = {key_of(s): s for s in res(before, "lb_list")["services"]}
sa = {key_of(s): s for s in res(after, "lb_list")["services"]}
if set(svc_rows) != set(sb):
    problems.append("virtual servers in the walk %s, vsgatectl %s" % (sorted(svc_rows), sorted(sb)))
stat_cols = [("StatsConns", "conns"), ("StatsInPkts", "inpkts"), ("StatsOutPkts", "outpkts"),
             ("StatsInBytes", "inbytes"), ("StatsOutBytes", "outbytes")]
rate_cols = [("RateCps", "cps"), ("RateInPPS", "inpps"), ("RateOutPPS", "outpps"),
             ("RateInBPS", "inbps"), ("RateOutBPS", "outbps")]
fwd = {"fullnat": 1, "nat": 2, "dr": 3, "tunnel": 4}
for k, idx in svc_rows.items():
    if k not in sb or k not in sa:
        continue
    s, s2 = sb[k], sa[k]
    p = "vsgateVirtualServer"
    check(p + "AddressType", idx, "eq", 1)
    check(p + "Scheduler", idx, "eq", s["scheduler"])
    check(p + "Persistence", idx, "eq", s["persistence"])
    check(p + "RealServers", idx, "eq", len(s["reals"]))
    for col, key in stat_cols:
        check(p + col, idx, "counter", s["stats"][key], s2["stats"][key])
    for col, key in rate_cols:
        check(p + col, idx, "gauge", s["rates"][key], s2["rates"][key])
        check(p + col + "64", idx, "gauge", s["rates"][key], s2["rates"][key])
    real_rows = {}
    for (name, ridx), v in walk.items():
        if name == "vsgateRealServerAddress" and ridx.split(".")[0] == idx:
            real_rows[(hexbytes(v), int(walk[("vsgateRealServerPort", ridx)]))] = ridx
    rb = {(r["rip"], r["rport"]): r for r in s["reals"]}
    ra = {(r["rip"], r["rport"]): r for r in s2["reals"]}
    if set(real_rows) != set(rb):
        problems.append("real servers of %s in the walk %s, vsgatectl %s" % (k, sorted(real_rows), sorted(rb)))
    for rk, ridx in real_rows.items():
        if rk not in rb or rk not in ra:
            continue
        r, r2 = rb[rk], ra[rk]
        p = "vsgateRealServer"
        check(p + "AddressType", ridx, "eq", 1)
        check(p + "ForwardingMode", ridx, "eq", fwd[r["fwd"]])
        check(p + "Weight", ridx, "eq", r["weight"])
        check(p + "UpperThreshold", ridx, "eq", r["upper"])
        check(p + "LowerThreshold", ridx, "eq", r["lower"])
        check(p + "ActiveConns", ridx, "gauge", r["active"], r2["active"])
        check(p + "InactiveConns", ridx, "gauge", r["inactive"], r2["inactive"])
        for col, key in stat_cols:
            check(p + col, ridx, "counter", r["stats"][key], r2["stats"][key])
        for col, key in rate_cols:
            check(p + col, ridx, "gauge", r["rates"][key], r2["rates"][key])
            check(p + col + "64", ridx, "gauge", r["rates"][key], r2["rates"][key])

# scalars
st, st2 = res(before, "status"), res(after, "status")
check("vsgateVersion", "0", "eq", st["version"])
check("vsgateDaemonState", "0", "eq", 1)
check("vsgateWorkers", "0", "eq", st["workers"])
up = walk.get(("vsgateUptime", "0"))
if up is None or not (st["uptime_ms"] // 10 - 300 <= int(up) <= st2["uptime_ms"] // 10 + 1):
    problems.append("vsgateUptime.0 = %s ticks, daemon uptime %d..%d ms" % (up, st["uptime_ms"], st2["uptime_ms"]))
tb = sum(s["stats"]["conns"] for s in sb.values())
ta = sum(s["stats"]["conns"] for s in sa.values())
check("vsgateTotalConns", "0", "counter", tb, ta)
cb = sum(r["active"] + r["inactive"] for s in sb.values() for r in s["reals"])
ca = sum(r["active"] + r["inactive"] for s in sa.values() for r in s["reals"])
check("vsgateCurrentConns", "0", "gauge", cb, ca)

for p in problems:
    print("MISMATCH " + p)
print("CHECKED %d values, %d mismatches" % (checked, len(problems)))
sys.exit(1 if problems else 0)
PY

# --- setup ---------------------------------------------------------------------------------------
echo "== vsgate-snmp e2e test: lab prefix $LAB_PREFIX, temp dir $TMP, subagent $VSGATE_SNMP"
if ! lab_up --rs 2 >"$TMP/lab.log" 2>&1 || ! "$LAB" rs-start >>"$TMP/lab.log" 2>&1; then
  echo "FAIL: lab setup"; cat "$TMP/lab.log"; exit 1
fi

ROOT_OID=$(snmptranslate -M "$SHARED_MIBS:$MIB_DIR" -m VSGATE-MIB -On VSGATE-MIB::vsgateMIB)
snmpd_prepare "$COMMUNITY" "$ROOT_OID" .1.3.6.1.2.1.1
info "snmpd on udp:127.0.0.1:$SNMP_PORT, AgentX $AGENTX, view $ROOT_OID"

if start_daemon; then
  pass "setup: vsgated answers on $SOCK"
else
  fail "setup: vsgated did not come up"; exit 1
fi
if err=$(configure_service 2>&1); then
  pass "setup: FULLNAT service 10.0.0.100:80 rr with rs1 (weight 2), rs2 (weight 1)"
else
  fail "setup: configure service: $err"; exit 1
fi
ok=$(traffic 30 21000)
if ((ok == 30)); then pass "setup: 30 HTTP requests through the VIP"; else fail "setup: only $ok/30 requests succeeded"; fi

# a. subagent first, snmpd later
subagent_start --cache-seconds 1 --log-level debug
sleep 2
if is_running "$SUB_PID"; then
  pass "a. vsgate-snmp keeps running while snmpd is not up yet"
else
  fail "a. vsgate-snmp exited without snmpd"; exit 1
fi
snmpd_start
if wait_for -i 0.25 10 state_is 1; then
  pass "a. snmpd started after the subagent: vsgateDaemonState running within ${WAITED}s"
else
  fail "a. no vsgateDaemonState running within 10 s of snmpd's start (got '$(get vsgateDaemonState.0)')"
fi
if (($(grep -c "handler chain cache_handler -> " "$SUB_LOG") == 4)); then
  pass "a. the cache handler heads the handler chain of all four tables"
else
  fail "a. handler chains not as expected: $(grep 'handler chain' "$SUB_LOG" | head -2)"
fi

# b. walks against vsgatectl --json
# check.py accepts a rate that lies between the vsgatectl readings before and after the walk,
# which holds while the rates move one way. Traffic shows in the samples of at most the next
# two estimator ticks (2 s each), where the rates rise; after those they only decay. A walk
# right after traffic could straddle the peak (seen under load: 0 before, 6 in the walk, 5
# after), so the walks that follow traffic start once the peak is past.
rates_past_peak() { sleep 4.2; }
compare_walks() {  # compare_walks LABEL
  json_reading "$TMP/before.json"
  sleep 2.2  # the subagent's snapshot and the tables' cache are newer than "before" now
  : >"$TMP/walk.txt"
  for t in vsgateGlobal vsgatePortTable vsgateLcoreTable vsgateVirtualServerTable vsgateRealServerTable; do
    walk "$t" >>"$TMP/walk.txt"
  done
  json_reading "$TMP/after.json"
  local out
  if out=$(python3 "$TMP/check.py" "$TMP/before.json" "$TMP/after.json" "$TMP/walk.txt" 2>&1); then
    pass "$1: $(tail -n 1 <<<"$out")"
  else
    fail "$1: walk disagrees with vsgatectl --json:"
    indent <<<"$out" | head -n 30
  fi
}
rates_past_peak
compare_walks "b. snmpwalk of the four tables and the scalars equals vsgatectl --json"
if snmp snmptable -Cb -Ci VSGATE-MIB::vsgateVirtualServerTable >"$TMP/table.txt" 2>&1 &&
    grep -qE "10\.0\.0\.100|0A 00 00 64" "$TMP/table.txt"; then
  pass "b. snmptable renders vsgateVirtualServerTable"
  indent <"$TMP/table.txt" | cut -c1-150 | head -n 6
else
  fail "b. snmptable vsgateVirtualServerTable: $(head -c 400 "$TMP/table.txt")"
fi
rs_rows=$(snmp snmptable -Cb -Ci -Cf , -CH VSGATE-MIB::vsgateRealServerTable 2>&1 | grep -c '^[0-9]' || true)
if ((rs_rows == 2)); then pass "b. snmptable vsgateRealServerTable: 2 rows"; else fail "b. snmptable vsgateRealServerTable: $rs_rows rows"; fi

# c. stable indexes: a service that sorts before the first one does not move it
vs_index_of() {  # vs_index_of A.B.C.D: index of the virtual server with that address
  local want=$1
  walk vsgateVirtualServerAddress | python3 -c '
import re, sys
want = sys.argv[1]
for line in sys.stdin:
    m = re.match(r"vsgateVirtualServerAddress\.(\d+) = \"?([^\"]*)\"?\s*$", line)
    if not m:
        continue
    v = m.group(2).split()
    addr = ".".join(str(int(x, 16)) for x in v) if len(v) == 4 else m.group(2)
    if addr == want:
        print(m.group(1))
' "$want"
}
idx_before=$(vs_index_of 10.0.0.100)
lb lb.service.add '"proto":"tcp","vip":"10.0.0.50","port":80,"scheduler":"wlc"' >/dev/null
lb lb.real.add '"proto":"tcp","vip":"10.0.0.50","port":80,"rip":"10.0.1.11","rport":80' >/dev/null
sleep 2.2
idx_after=$(vs_index_of 10.0.0.100)
new_idx=$(vs_index_of 10.0.0.50)
if [[ -n "$idx_before" && "$idx_before" == "$idx_after" && -n "$new_idx" && "$new_idx" != "$idx_before" ]]; then
  pass "c. 10.0.0.100:80 keeps index $idx_before after 10.0.0.50:80 was added (index $new_idx)"
else
  fail "c. indexes: 10.0.0.100:80 was '$idx_before', now '$idx_after'; 10.0.0.50:80 got '$new_idx'"
fi
compare_walks "c. two services: walk equals vsgatectl --json"

# d. counters reset: a new discontinuity time
stats_reset() { req '{"cmd":"status"}' | json "d['stats_reset_us']"; }
disc1=$(get vsgateStatsDiscontinuityTime.0)
reset1=$(stats_reset)
sleep 1.1
ctl -Z >/dev/null
reset2=$(stats_reset)
if ((reset2 > reset1)); then pass "d. status: stats_reset_us moved on lb.zero ($reset1 -> $reset2)"; else fail "d. status: stats_reset_us $reset1 -> $reset2 on lb.zero"; fi
sleep 2.2
disc2=$(get vsgateStatsDiscontinuityTime.0)
conns=$(walk vsgateVirtualServerStatsConns | sed -n 's/^vsgateVirtualServerStatsConns\.[0-9]* = //p' | sort -u | tr '\n' ' ')
if [[ "$disc2" =~ ^[0-9]+$ && "$disc1" =~ ^[0-9]+$ ]] && ((disc2 > disc1)) && [[ "$conns" == "0 " ]]; then
  pass "d. after -Z: vsgateStatsDiscontinuityTime $disc1 -> $disc2 ticks, StatsConns 0"
else
  fail "d. after -Z: discontinuity '$disc1' -> '$disc2', StatsConns '$conns'"
fi
ok=$(traffic 10 21100)
rates_past_peak
compare_walks "d. after -Z and 10 more requests ($ok ok): walk equals vsgatectl --json"

# e. snmpd restart
stop_pid "$SNMPD_PID"
SNMPD_PID=""
snmpd_start
if wait_for -i 0.25 5 has_vs_rows; then
  pass "e. snmpd restarted: vsgateVirtualServerTable back within ${WAITED}s"
else
  fail "e. snmpd restarted: no rows within 5 s"
fi
compare_walks "e. after the snmpd restart: walk equals vsgatectl --json"

# f. vsgated stopped and started again
disc_before=$(get vsgateStatsDiscontinuityTime.0)
stop_pid "$DAEMON_PID"
DAEMON_PID=""
if wait_for -i 0.25 5 state_is 2; then
  pass "f. vsgated stopped: vsgateDaemonState notReachable(2) within ${WAITED}s"
else
  fail "f. vsgated stopped: vsgateDaemonState is '$(get vsgateDaemonState.0)'"
fi
rows=0
for t in vsgatePortTable vsgateLcoreTable vsgateVirtualServerTable vsgateRealServerTable; do
  n=$(walk "$t" | grep -c '^vsgate' || true)
  rows=$((rows + n))
done
version=$(get vsgateVersion.0)
total=$(get vsgateTotalConns.0)
if ((rows == 0)) && [[ "$version" == *"No Such Instance"* && "$total" == *"No Such Instance"* ]]; then
  pass "f. vsgated stopped: the four tables are empty, vsgateVersion and vsgateTotalConns absent"
else
  fail "f. vsgated stopped: $rows rows, vsgateVersion '$version', vsgateTotalConns '$total'"
fi
if start_daemon && configure_service; then
  ok=$(traffic 10 21200)
  pass "f. vsgated started again, service configured, $ok/10 requests"
else
  fail "f. vsgated did not come back"
fi
if wait_for -i 0.25 5 has_vs_rows && state_is 1; then
  pass "f. values return within ${WAITED}s, vsgateDaemonState running"
else
  fail "f. no values after vsgated came back"
fi
disc_after=$(get vsgateStatsDiscontinuityTime.0)
if [[ "$disc_after" =~ ^[0-9]+$ && "$disc_before" =~ ^[0-9]+$ ]] && ((disc_after > disc_before)); then
  pass "f. new discontinuity time after the restart ($disc_before -> $disc_after ticks)"
else
  fail "f. discontinuity time '$disc_before' -> '$disc_after' across the daemon restart"
fi
rates_past_peak
compare_walks "f. after the vsgated restart: walk equals vsgatectl --json"

# g. clean exit, no sanitizer report
if is_running "$SUB_PID"; then pass "g. vsgate-snmp (pid $SUB_PID) survived all of it"; else fail "g. vsgate-snmp died"; fi
stop_pid "$SUB_PID"
SUB_PID=""
if [[ "$STOP_RC" == 0 ]]; then pass "g. SIGTERM: vsgate-snmp exited with status 0"; else fail "g. SIGTERM: vsgate-snmp exit status $STOP_RC"; fi
if grep -qE "AddressSanitizer|LeakSanitizer|runtime error:" "$SUB_LOG"; then
  fail "g. sanitizer report in the vsgate-snmp log:"
  grep -m 20 -A 12 -E "AddressSanitizer|LeakSanitizer|runtime error:" "$SUB_LOG" | indent
else
  pass "g. no sanitizer report in the vsgate-snmp log ($(grep -c . "$SUB_LOG") lines)"
fi

e2e_finish
