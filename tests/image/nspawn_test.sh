#!/usr/bin/env bash
# Boots the appliance rootfs (packaging/build-image.sh) in systemd-nspawn and checks vsgate as
# an operator sees it through systemctl:
#   boot reaches running; vsgate-hugepages and vsgate-bind-nics succeed (read-only /sys, no
#   PCI); "systemctl start vsgate" returns only after READY (the control socket answers at
#   once); is-active; vsgatectl port show inside; the STATUS line in systemctl status; kill -9
#   leads to a restart; a stalled worker (debug.stall_worker) makes the watchdog fire and
#   systemd restart it; systemctl stop is clean; snmpd answers a walk, and vsgate-snmp serves
#   VSGATE-MIB when the package is in the image (SKIP otherwise).
# The container: systemd-nspawn -D COPY -b -M NAME --register=no --keep-unit --private-network
# --bind-ro=/sys/module (the EAL needs /sys/module, which nspawn leaves out with a private network),
# driven with nsenter -t <pid of its systemd> -a. vsgated runs on virtual devices (no PCI).
# Usage: nspawn_test.sh IMAGE_DIR       (IMAGE_DIR: output of build-image.sh, e.g. build/image)
set -euo pipefail
IMG=$(realpath "${1:?usage: $0 IMAGE_DIR}")
NAME=vsgn$$
PASSED=0 FAILED=0
pass() { echo "PASS: $*"; PASSED=$((PASSED + 1)); }
fail() { echo "FAIL: $*"; FAILED=$((FAILED + 1)); }
skip() { echo "SKIP: $*"; }
info() { echo "      $*"; }

((EUID == 0)) || { echo "FAIL: nspawn_test needs root"; exit 1; }
command -v systemd-nspawn >/dev/null || { echo "FAIL: systemd-nspawn missing (systemd-container)"; exit 1; }
[[ -f $IMG/vsgate-rootfs.tar.zst ]] || { echo "FAIL: no $IMG/vsgate-rootfs.tar.zst (packaging/build-image.sh)"; exit 1; }

TMP=$(mktemp -d /tmp/vsgate-nspawn.XXXXXX)
RFS=$TMP/rootfs
NSPAWN_PID=""
CPID=""
cleanup() {
  local rc=$?
  set +e
  if [[ -n $NSPAWN_PID ]] && kill -0 "$NSPAWN_PID" 2>/dev/null; then
    # nspawn turns SIGTERM into an orderly shutdown of the container.
    kill -TERM "$NSPAWN_PID"
    for _ in $(seq 100); do kill -0 "$NSPAWN_PID" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$NSPAWN_PID" 2>/dev/null && kill -KILL "$NSPAWN_PID"
    wait "$NSPAWN_PID" 2>/dev/null
  fi
  if ((FAILED > 0)) && [[ -s $TMP/console.log ]]; then
    echo "---- container console (last 40 lines) ----"
    tail -n 40 "$TMP/console.log"
  fi
  for m in $(awk -v p="$RFS/" 'index($2, p) == 1 {print $2}' /proc/mounts | sort -r); do umount -l "$m"; done
  rm -rf --one-file-system -- "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$RFS"
tar --zstd -xpf "$IMG/vsgate-rootfs.tar.zst" -C "$RFS" --numeric-owner
# vsgated on virtual devices: a TAP port (the container has no PCI) with its exception path.
cat > "$RFS/etc/vsgate/vsgate.conf" <<'EOF'
[global]
log_level = info
workers = 1
idle_sleep_us = 100
connections = 65536
debug_commands = yes
[eal]
args = --no-pci --no-huge -m 256 --file-prefix=vsgate
[port.dpdk0]
device = net_tap0,iface=vsgport0
kni = dpdk0.kni
addresses = 192.0.2.1/24
EOF
HAVE_SNMP_PKG=0
[[ -x $RFS/usr/sbin/vsgate-snmp ]] && HAVE_SNMP_PKG=1

t0=$(date +%s.%N)
setsid systemd-nspawn -D "$RFS" -b -M "$NAME" --register=no --keep-unit --private-network \
  --bind-ro=/sys/module --console=pipe </dev/null >"$TMP/console.log" 2>&1 &
NSPAWN_PID=$!

# The container's systemd: a descendant of nspawn named systemd.
for _ in $(seq 100); do
  for p in $(pgrep -x systemd || true); do
    q=$p
    while [[ $q -gt 1 ]]; do
      [[ $q == "$NSPAWN_PID" ]] && { CPID=$p; break 2; }
      q=$(awk '{print $4}' "/proc/$q/stat" 2>/dev/null || echo 1)
    done
  done
  kill -0 "$NSPAWN_PID" 2>/dev/null || break
  sleep 0.1
done
if [[ -z $CPID ]]; then
  fail "no systemd in the container (nspawn exited?)"
  exit 1
fi
in_ct() { timeout "${T:-60}" nsenter -t "$CPID" -a "$@"; }
state=$(T=180 in_ct systemctl is-system-running --wait 2>/dev/null || true)
boot_s=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
if [[ $state == running || $state == degraded ]]; then
  pass "container $NAME booted: $state in $boot_s s (systemd pid $CPID)"
else
  fail "container did not finish booting: '$state'"
fi
if [[ $state == degraded ]]; then
  info "failed units: $(in_ct systemctl --failed --no-legend --plain | awk '{print $1}' | tr '\n' ' ')"
fi

for u in vsgate-hugepages.service vsgate-bind-nics.service; do
  r=$(in_ct systemctl show -P Result "$u")
  a=$(in_ct systemctl is-active "$u" || true)
  if [[ $a == active && $r == success ]]; then
    pass "$u: active ($(in_ct journalctl -b -u "$u" -o cat --no-pager | grep -v '^Start\|^Finish' | tail -n 1))"
  else
    fail "$u: $a/$r"
    in_ct journalctl -b -u "$u" --no-pager | tail -n 10
  fi
done
if [[ $(in_ct systemctl is-enabled dpdk.service 2>/dev/null || true) == masked ]]; then
  pass "Debian's dpdk.service is masked"
else
  fail "dpdk.service not masked"
fi
if in_ct getent group vsgate >/dev/null; then pass "group vsgate exists"; else fail "no group vsgate"; fi

# --- start: returns only after READY ------------------------------------------------------
# vsgate.service is enabled and was started at boot; stop it, then time a start.
in_ct systemctl stop vsgate.service
ts=$(date +%s.%N)
if T=200 in_ct systemctl start vsgate.service; then
  te=$(date +%s.%N)
  # Type=notify: start returns only after READY=1, sent once the ports are up and the control
  # socket listens, so vsgatectl answers at once, with no retry.
  if out=$(in_ct vsgatectl port show 2>&1); then
    pass "systemctl start vsgate returned after $(awk -v a="$ts" -v b="$te" 'BEGIN { printf "%.1f", b - a }') s and vsgatectl answered at once"
  else
    fail "systemctl start returned but vsgatectl failed: $out"
  fi
else
  fail "systemctl start vsgate failed"
  in_ct journalctl -b -u vsgate.service --no-pager | tail -n 30
fi
a=$(in_ct systemctl is-active vsgate.service || true)
[[ $a == active ]] && pass "systemctl is-active vsgate: active" || fail "systemctl is-active vsgate: $a"
if out=$(in_ct vsgatectl port show 2>&1) && grep -q dpdk0 <<<"$out"; then
  pass "vsgatectl port show inside the container:"
  sed 's/^/      /' <<<"$out"
else
  fail "vsgatectl port show: $out"
fi
st=$(in_ct systemctl status vsgate.service --no-pager 2>&1 || true)
if grep -q '^ *Status: "' <<<"$st"; then
  pass "systemctl status shows the STATUS line: $(grep -m1 '^ *Status:' <<<"$st" | sed 's/^ *//')"
else
  fail "no Status: line in systemctl status"
  sed 's/^/      /' <<<"$st"
fi
sock=$(in_ct stat -c '%a %G' /run/vsgate/control.sock 2>/dev/null || true)
[[ $sock == "660 vsgate" ]] && pass "control socket: mode 660, group vsgate" ||
  fail "control socket: '$sock' (want '660 vsgate')"
if in_ct ip link show dpdk0.kni >/dev/null 2>&1; then pass "exception-path interface dpdk0.kni exists"; else fail "no dpdk0.kni"; fi

# wait_restart OLD_PID NRESTARTS_BEFORE SECONDS: waits for a new main PID, active, more restarts.
wait_restart() {
  local old=$1 n0=$2 secs=$3 pid n a
  for _ in $(seq $((secs * 5))); do
    pid=$(in_ct systemctl show -P MainPID vsgate.service)
    n=$(in_ct systemctl show -P NRestarts vsgate.service)
    a=$(in_ct systemctl is-active vsgate.service || true)
    if [[ $a == active && $pid != 0 && $pid != "$old" && $n -gt $n0 ]]; then
      echo "$pid"
      return 0
    fi
    sleep 0.2
  done
  return 1
}

# --- kill -9: restart --------------------------------------------------------------------------
pid=$(in_ct systemctl show -P MainPID vsgate.service)
n0=$(in_ct systemctl show -P NRestarts vsgate.service)
in_ct kill -9 "$pid"
if new=$(wait_restart "$pid" "$n0" 60); then
  pass "kill -9 of vsgated (pid $pid): systemd restarted it (pid $new, NRestarts $((n0 + 1)))"
else
  fail "no restart after kill -9"
  in_ct journalctl -b -u vsgate.service --no-pager | tail -n 20
fi

# --- stalled worker: the watchdog fires ---------------------------------------------------------
pid=$(in_ct systemctl show -P MainPID vsgate.service)
n0=$(in_ct systemctl show -P NRestarts vsgate.service)
wd=$(in_ct systemctl show -P WatchdogUSec vsgate.service)
# The control socket seen from the host through the container's root.
reply=$(python3 - "/proc/$CPID/root/run/vsgate/control.sock" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
s.sendall(b'{"cmd":"debug.stall_worker","args":{"worker":0,"seconds":60}}\n')
buf = b""
while not buf.endswith(b"\n"):
    c = s.recv(65536)
    if not c:
        break
    buf += c
print(buf.decode().strip())
PY
) || reply="(no reply)"
info "debug.stall_worker: $reply (WatchdogSec $wd)"
tw=$(date +%s)
if new=$(wait_restart "$pid" "$n0" 60); then
  res=$(in_ct journalctl -b -u vsgate.service --no-pager | grep -m1 -i 'watchdog timeout' || true)
  if [[ -n $res ]]; then
    pass "stalled worker: watchdog fired after ~$(($(date +%s) - tw)) s and systemd restarted vsgated (pid $new): $(sed 's/.*vsgate.service: //' <<<"$res")"
  else
    fail "restarted (pid $new) but no 'Watchdog timeout' in the journal"
  fi
else
  fail "stalled worker: no watchdog restart within 60 s"
  in_ct journalctl -b -u vsgate.service --no-pager | tail -n 20
fi

# --- SNMP -----------------------------------------------------------------------------------
if [[ $(in_ct systemctl is-active snmpd.service || true) == active ]] &&
  out=$(in_ct snmpwalk -v2c -c vsgate -t 2 -r 2 -On 127.0.0.1 1.3.6.1.2.1.1 2>&1) && grep -q "^.1.3.6.1.2.1.1.1.0 = " <<<"$out"; then
  pass "snmpd answers a walk of the system group ($(grep -c . <<<"$out") objects)"
else
  fail "snmpd does not answer: $out"
fi
if ((HAVE_SNMP_PKG)); then
  sa=""
  for _ in $(seq 50); do
    sa=$(in_ct systemctl is-active vsgate-snmp.service || true)
    [[ $sa == active ]] && break
    sleep 0.2
  done
  if [[ $sa == active ]]; then pass "vsgate-snmp.service active"; else fail "vsgate-snmp.service: $sa"; fi
  out=""
  for _ in $(seq 20); do
    out=$(in_ct snmpwalk -v2c -c vsgate -t 2 -r 1 -On 127.0.0.1 1.3.6.1.4.1.8072.9999.9999 2>&1 || true)
    grep -q '^\.1\.3\.6\.1\.4\.1\.8072\.9999\.9999\.' <<<"$out" && break
    sleep 1
  done
  if grep -q '^\.1\.3\.6\.1\.4\.1\.8072\.9999\.9999\.' <<<"$out"; then
    pass "snmpwalk of VSGATE-MIB through vsgate-snmp: $(grep -c '^\.1' <<<"$out") objects"
    grep -i 'dpdk0' <<<"$out" | head -n 3 | sed 's/^/      /' || true
  else
    fail "snmpwalk of VSGATE-MIB: $(head -n 3 <<<"$out")"
    in_ct journalctl -b -u vsgate-snmp.service --no-pager | tail -n 10
  fi
else
  skip "vsgate-snmp: the package is not in the image (the vsgate-snmp target is not built in this tree)"
fi

# --- stop ---------------------------------------------------------------------------------
if in_ct systemctl stop vsgate.service; then
  r=$(in_ct systemctl show -P Result vsgate.service)
  s=$(in_ct systemctl show -P ExecMainStatus vsgate.service)
  a=$(in_ct systemctl is-active vsgate.service || true)
  if [[ $r == success && $s == 0 && $a == inactive ]] && ! in_ct ip link show dpdk0.kni >/dev/null 2>&1; then
    pass "systemctl stop vsgate: clean (Result=success, exit 0, inactive, dpdk0.kni gone)"
  else
    fail "systemctl stop vsgate: Result=$r ExecMainStatus=$s $a"
  fi
  if ((HAVE_SNMP_PKG)); then
    sa=$(in_ct systemctl is-active vsgate-snmp.service || true)
    [[ $sa != active ]] && pass "vsgate-snmp stopped with vsgate (BindsTo): $sa" || fail "vsgate-snmp still active"
  fi
else
  fail "systemctl stop vsgate failed"
fi

echo "nspawn_test: $PASSED passed, $FAILED failed (boot $boot_s s)"
((FAILED == 0))
