#!/usr/bin/env bash
# Boots the appliance disk image (packaging/build-image.sh: GPT, OVMF + systemd-boot) under
# qemu-system-x86_64 -accel tcg with two extra virtio-net NICs whose host ends are TAP devices in
# two lab namespaces, and checks that the appliance brings up its data plane by itself:
#   vsgate-bind-nics binds both NICs (vfio-pci; q35 with intel-iommu), vsgated starts on
#   the PCI ports, dpdk0's exception path uses the TAP backend and dpdk1's virtio-user over
#   vhost-net; from each namespace a ping to the appliance's address succeeds through the DPDK
#   port and the exception path; snmpd answers a walk through the same path; vsgate-snmp's port
#   table shows the traffic when the package is in the image (SKIP otherwise); iperf3 and a ping
#   flood measure the exception-path throughput of both backends (printed as RESULT lines);
#   vsgate-bind-nics refuses the management NIC (DHCP address and default route, qemu user
#   network); finally systemctl stop vsgate is clean and stopping vsgate-bind-nics gives both
#   NICs back to virtio-pci.
# The test writes the guest's configuration into a copy of the disk (debugfs) and adds a
# test-only unit that reports the guest's state on a second serial port.
# Usage: qemu_test.sh IMAGE_DIR
# Environment: QEMU_TEST_KEEP=1 keeps the work directory; QEMU_MEM (MiB, default 2048).
set -euo pipefail
IMG=$(realpath "${1:?usage: $0 IMAGE_DIR}")
P=vsq$(printf '%04d' $(($$ % 10000)))   # namespaces, taps: short unique prefix
NS0=$P-h0 NS1=$P-h1
TAP0=${P}t0 TAP1=${P}t1
NET0=10.77.0 NET1=10.77.1      # dpdk0: 10.77.0.1 (guest) / .2 (host ns); dpdk1: 10.77.1.x
MEM=${QEMU_MEM:-2048}
PASSED=0 FAILED=0
pass() { echo "PASS: $*"; PASSED=$((PASSED + 1)); }
fail() { echo "FAIL: $*"; FAILED=$((FAILED + 1)); }
skip() { echo "SKIP: $*"; }
info() { echo "      $*"; }

((EUID == 0)) || { echo "FAIL: qemu_test needs root"; exit 1; }
for tool in qemu-system-x86_64 debugfs python3 ip ping; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool missing (packaging/install-deps.sh)"; exit 1; }
done
OVMF_CODE=/usr/share/OVMF/OVMF_CODE_4M.fd
OVMF_VARS=/usr/share/OVMF/OVMF_VARS_4M.fd
[[ -f $OVMF_CODE ]] || { echo "FAIL: $OVMF_CODE missing (package ovmf)"; exit 1; }
[[ -f $IMG/vsgate.img ]] || { echo "FAIL: no $IMG/vsgate.img (packaging/build-image.sh)"; exit 1; }
[[ -e /dev/net/tun ]] || { echo "SKIP: no /dev/net/tun: cannot give the guest NICs"; exit 0; }

TMP=$(mktemp -d /tmp/vsgate-qemu.XXXXXX)
QEMU_PID=""
cleanup() {
  local rc=$?
  set +e
  [[ -n $IPERF_PIDS ]] && kill $IPERF_PIDS 2>/dev/null
  if [[ -n $QEMU_PID ]] && kill -0 "$QEMU_PID" 2>/dev/null; then
    kill -TERM "$QEMU_PID"
    for _ in $(seq 50); do kill -0 "$QEMU_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$QEMU_PID" 2>/dev/null
    wait "$QEMU_PID" 2>/dev/null
  fi
  ip netns del "$NS0" 2>/dev/null
  ip netns del "$NS1" 2>/dev/null
  ip link del "$TAP0" 2>/dev/null
  ip link del "$TAP1" 2>/dev/null
  if ((FAILED > 0)); then
    echo "---- guest console (last 40 lines) ----"
    tail -n 40 "$TMP/console.log" 2>/dev/null | tr -d '\r'
    echo "---- guest report (last 60 lines) ----"
    tail -n 60 "$TMP/report.log" 2>/dev/null | tr -d '\r'
  fi
  if [[ ${QEMU_TEST_KEEP:-0} == 1 ]]; then echo "kept $TMP"; else rm -rf -- "$TMP"; fi
  exit "$rc"
}
IPERF_PIDS=""
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the disk: a copy with the test's configuration ----------------------------------------------
cp --sparse=always "$IMG/vsgate.img" "$TMP/disk.img"
cp "$OVMF_VARS" "$TMP/vars.fd"
# Offset of the root partition (the second GPT entry).
ROOT_OFF=$(python3 - "$TMP/disk.img" <<'PY'
import struct, sys
with open(sys.argv[1], "rb") as f:
    f.seek(512)
    hdr = f.read(92)
    assert hdr[:8] == b"EFI PART", "no GPT"
    entries_lba, n, size = struct.unpack_from("<QII", hdr, 72)
    f.seek(entries_lba * 512 + size)       # second entry
    e = f.read(size)
    print(struct.unpack_from("<Q", e, 32)[0] * 512)
PY
)
cat > "$TMP/vsgate.conf" <<EOF
; written by tests/image/qemu_test.sh
[global]
workers = 1
idle_sleep_us = 100
connections = 65536
[port.dpdk0]
device = 0000:00:04.0
kni = dpdk0.kni
kni_backend = tap
addresses = $NET0.1/24
[port.dpdk1]
device = 0000:00:05.0
kni = dpdk1.kni
kni_backend = virtio-user
addresses = $NET1.1/24
EOF
cat > "$TMP/appliance.conf" <<'EOF'
VSGATE_HUGEPAGES=384
VSGATE_NIC_DRIVER=vfio-pci
EOF
# Test-only reporter on the second serial port (ttyS1 -> $TMP/report.log): unit states, the
# drivers of the NICs, vsgatectl output; then iperf3 servers for the throughput measurement.
cat > "$TMP/report.sh" <<'EOF'
#!/bin/sh
exec > /dev/ttyS1 2>&1
i=0
while [ "$(systemctl is-active vsgate.service)" = activating ] && [ $i -lt 300 ]; do sleep 1; i=$((i + 1)); done
echo "@@ vsgate: $(systemctl is-active vsgate.service)"
for u in vsgate-hugepages vsgate-bind-nics vsgate vsgate-snmp snmpd; do
  echo "@@ unit $u $(systemctl is-active $u.service) $(systemctl show -P Result $u.service)"
done
for d in 0000:00:04.0 0000:00:05.0; do
  echo "@@ driver $d $(basename "$(readlink -f /sys/bus/pci/devices/$d/driver)")"
done
echo "@@ hugepages $(cat /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages)"
echo "@@ vhost-net $(ls -l /dev/vhost-net 2>&1)"
systemctl status --no-pager vsgate.service | sed 's/^/## /'
journalctl -b --no-pager -u vsgate-bind-nics -u vsgate-hugepages -o cat | sed 's/^/## /'
journalctl -b --no-pager -u vsgate -o cat | tail -n 40 | sed 's/^/## /'
vsgatectl port show | sed 's/^/## /'
ip -br addr | sed 's/^/## /'
# The management NIC (0000:00:03.0, DHCP from systemd-networkd): vsgate-bind-nics must refuse it.
i=0
while ! ip -4 route show default | grep -q . && [ $i -lt 60 ]; do sleep 1; i=$((i + 1)); done
echo "@@ mgmt $(ip -4 -o addr show scope global | awk '{print $2, $4}' | tr '\n' ' ')/ $(ip -4 route show default)"
printf '[port.mgmt]\ndevice = 0000:00:03.0\n' > /run/refuse.conf
VSGATE_CONFIG=/run/refuse.conf STATE_DIRECTORY=/run/refuse.state /usr/libexec/vsgate/vsgate-bind-nics bind 2>&1 | sed 's/^/@@ refuse: /'
echo "@@ refuse-driver $(basename "$(readlink -f /sys/bus/pci/devices/0000:00:03.0/driver)")"
iperf3 -s -D -B 10.77.0.1 -p 5201
iperf3 -s -D -B 10.77.1.1 -p 5202
echo "@@ iperf3 started"
# Stats until the host asks for the end (a UDP datagram "stop" to 10.77.0.1:7777), then a
# stop of vsgate and vsgate-bind-nics, which gives the NICs back to virtio-pci.
python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.77.0.1", 7777))
s.recv(64)
' &
waiter=$!
while kill -0 $waiter 2>/dev/null; do
  echo "@@ portstats $(vsgatectl --json port stats | tr -d '\n')"
  sleep 2
done
systemctl stop vsgate.service
echo "@@ stop vsgate $(systemctl is-active vsgate.service) $(systemctl show -P Result vsgate.service) $(systemctl show -P ExecMainStatus vsgate.service)"
systemctl stop vsgate-bind-nics.service
for d in 0000:00:04.0 0000:00:05.0; do
  echo "@@ restored $d $(basename "$(readlink -f /sys/bus/pci/devices/$d/driver)") $(ls /sys/bus/pci/devices/$d/virtio*/net 2>/dev/null | tr '\n' ' ')"
done
journalctl -b --no-pager -u vsgate-bind-nics -o cat | tail -n 4 | sed 's/^/## /'
echo "@@ done"
EOF
cat > "$TMP/report.service" <<'EOF'
[Unit]
Description=vsgate image test reporter (test only)
After=vsgate.service snmpd.service
[Service]
ExecStart=/bin/sh /usr/local/sbin/vsgate-imagetest-report
[Install]
WantedBy=multi-user.target
EOF
# qemu's emulated intel-iommu has no interrupt remapping without KVM's split irqchip, and VFIO
# refuses such an IOMMU unless told otherwise (real appliance hardware has interrupt remapping).
echo 'options vfio_iommu_type1 allow_unsafe_interrupts=1' > "$TMP/modprobe.conf"
debugfs -w -f - "$TMP/disk.img?offset=$ROOT_OFF" >"$TMP/debugfs.log" 2>&1 <<EOF
rm /etc/vsgate/vsgate.conf
write $TMP/vsgate.conf /etc/vsgate/vsgate.conf
rm /etc/vsgate/appliance.conf
write $TMP/appliance.conf /etc/vsgate/appliance.conf
write $TMP/report.sh /usr/local/sbin/vsgate-imagetest-report
write $TMP/report.service /etc/systemd/system/vsgate-imagetest-report.service
write $TMP/modprobe.conf /etc/modprobe.d/vsgate-imagetest.conf
symlink /etc/systemd/system/multi-user.target.wants/vsgate-imagetest-report.service /etc/systemd/system/vsgate-imagetest-report.service
EOF
if debugfs -R "cat /etc/vsgate/vsgate.conf" "$TMP/disk.img?offset=$ROOT_OFF" 2>/dev/null | grep -q virtio-user; then
  pass "test configuration written into a copy of the disk (root partition at byte $ROOT_OFF)"
else
  cat "$TMP/debugfs.log"
  fail "debugfs could not write the configuration"
  exit 1
fi
# sysctl.d reserves 512 pages at boot; the test guest keeps 384 (768 MiB) of its RAM.
debugfs -w -R "rm /etc/sysctl.d/60-vsgate.conf" "$TMP/disk.img?offset=$ROOT_OFF" >/dev/null 2>&1
printf 'net.ipv4.ip_forward = 1\nvm.nr_hugepages = 384\n' > "$TMP/sysctl.conf"
debugfs -w -R "write $TMP/sysctl.conf /etc/sysctl.d/60-vsgate.conf" "$TMP/disk.img?offset=$ROOT_OFF" >/dev/null 2>&1

# --- lab: two namespaces holding the host ends of the guest's data-plane NICs -------------------
ip netns add "$NS0"
ip netns add "$NS1"
for t in "$TAP0" "$TAP1"; do ip tuntap add dev "$t" mode tap; done

# q35 with a virtual IOMMU: vfio-pci gives the EAL IOVA-as-VA, which virtio-user (the second
# exception-path backend) requires; the NICs translate their DMA through it (iommu_platform).
# shellcheck disable=SC2054  # the commas separate qemu suboptions, not array elements
QEMU_ARGS=(-machine q35 -accel tcg -cpu max -smp 2 -m "$MEM" -nodefaults -no-user-config
  -display none -device intel-iommu,intremap=off
  -drive "if=pflash,format=raw,readonly=on,file=$OVMF_CODE"
  -drive "if=pflash,format=raw,file=$TMP/vars.fd"
  -drive "file=$TMP/disk.img,format=raw,if=virtio"
  -netdev user,id=m -device "virtio-net-pci,netdev=m,addr=0x3,mac=52:54:00:77:ff:01"
  -netdev "tap,id=d0,ifname=$TAP0,script=no,downscript=no"
  -device "virtio-net-pci,netdev=d0,addr=0x4,mac=52:54:00:77:00:01,iommu_platform=on,disable-legacy=on"
  -netdev "tap,id=d1,ifname=$TAP1,script=no,downscript=no"
  -device "virtio-net-pci,netdev=d1,addr=0x5,mac=52:54:00:77:01:01,iommu_platform=on,disable-legacy=on"
  -serial "file:$TMP/console.log" -serial "file:$TMP/report.log")
t0=$(date +%s.%N)
qemu-system-x86_64 "${QEMU_ARGS[@]}" </dev/null >"$TMP/qemu.log" 2>&1 &
QEMU_PID=$!
# Once qemu holds the taps (the fdinfo of a tun fd names its interface, "iff:"), move them into
# the namespaces: qemu opens them by name in its own namespace.
for _ in $(seq 100); do
  held=$(cat /proc/"$QEMU_PID"/fdinfo/* 2>/dev/null | grep -c -E "^iff:[[:space:]]+($TAP0|$TAP1)\$" || true)
  ((held >= 2)) && break
  sleep 0.2
done
info "qemu holds $held of the 2 taps"
kill -0 "$QEMU_PID" 2>/dev/null || { cat "$TMP/qemu.log"; fail "qemu did not start"; exit 1; }
ip link set "$TAP0" netns "$NS0"
ip link set "$TAP1" netns "$NS1"
for i in 0 1; do
  ns=$P-h$i tap=${P}t$i net=10.77.$i
  ip -n "$ns" link set lo up
  ip netns exec "$ns" sysctl -q -w "net.ipv6.conf.$tap.disable_ipv6=1"
  ip -n "$ns" addr add "$net.2/24" dev "$tap"
  ip -n "$ns" link set "$tap" up
done

# --- boot ------------------------------------------------------------------------------------
wait_for() {  # wait_for SECONDS FILE PATTERN
  local end=$(($(date +%s) + $1))
  while (($(date +%s) < end)); do
    grep -qa -- "$3" "$2" 2>/dev/null && return 0
    kill -0 "$QEMU_PID" 2>/dev/null || return 1
    sleep 1
  done
  return 1
}
if wait_for 240 "$TMP/console.log" "login:"; then
  boot_s=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  pass "guest booted to the login prompt in $boot_s s (OVMF, systemd-boot, TCG)"
else
  boot_s="?"
  fail "guest did not reach the login prompt in 240 s"
fi
if wait_for 180 "$TMP/report.log" "@@ iperf3 started"; then
  pass "guest reporter ran"
else
  fail "no report from the guest"
  exit 1
fi
# The report so far, without carriage returns (a file: grep -m1 on a pipe would SIGPIPE tr).
rep() {
  tr -d '\r' < "$TMP/report.log" > "$TMP/report.txt"
  cat "$TMP/report.txt"
}
rep >/dev/null
for u in vsgate-hugepages vsgate-bind-nics vsgate snmpd; do
  line=$(grep -m1 "^@@ unit $u " "$TMP/report.txt" || true)
  if [[ $line == "@@ unit $u active success" ]]; then pass "guest: $u.service active"; else fail "guest: $line"; fi
done
for d in 0000:00:04.0 0000:00:05.0; do
  drv=$(sed -n "s/^@@ driver $d //p" "$TMP/report.txt" | head -n 1)
  if [[ $drv == vfio-pci ]]; then
    pass "guest: vsgate-bind-nics bound $d to vfio-pci"
  else
    fail "guest: $d driver '$drv'"
  fi
done
mgmt=$(sed -n 's/^@@ mgmt //p' "$TMP/report.txt" | head -n 1)
refuse=$(sed -n 's/^@@ refuse: //p' "$TMP/report.txt" | head -n 1)
rdrv=$(sed -n 's/^@@ refuse-driver //p' "$TMP/report.txt" | head -n 1)
if [[ $refuse == *"refusing to bind 0000:00:03.0"* && $rdrv == virtio-pci ]]; then
  pass "guest: vsgate-bind-nics refuses the management NIC ($mgmt): $refuse"
else
  fail "guest: management NIC not refused: '$refuse' (driver $rdrv; $mgmt)"
fi
grep -m1 '^@@ hugepages' "$TMP/report.txt" | sed 's/^@@ /      guest /' || true
grep '^## ' "$TMP/report.txt" | grep -E 'dpdk[01] |Status:|bound |exception path|kni ' |
  head -n 12 | sed 's/^## /      guest: /' || true

# --- ping through each port and exception path -------------------------------------------------
for i in 0 1; do
  backend=$([[ $i == 0 ]] && echo tap || echo virtio-user)
  if out=$(ip netns exec "$P-h$i" ping -c 3 -i 0.5 -W 5 "10.77.$i.1" 2>&1); then
    pass "ping 10.77.$i.1 from $P-h$i through dpdk$i and its $backend exception path: $(grep -o '[0-9.]*/[0-9.]*/[0-9.]*/[0-9.]* ms' <<<"$out")"
  else
    # ARP may need a moment while the guest finishes; retry once.
    sleep 3
    if out=$(ip netns exec "$P-h$i" ping -c 3 -i 0.5 -W 5 "10.77.$i.1" 2>&1); then
      pass "ping 10.77.$i.1 (second try) through dpdk$i ($backend)"
    else
      fail "ping 10.77.$i.1 through dpdk$i ($backend): $(tail -n 2 <<<"$out" | tr '\n' ' ')"
    fi
  fi
done

# --- SNMP through the data plane -----------------------------------------------------------------
if command -v snmpwalk >/dev/null; then
  if out=$(ip netns exec "$NS0" snmpwalk -v2c -c vsgate -t 3 -r 2 -On "$NET0.1" 1.3.6.1.2.1.1 2>&1) &&
    grep -q '^.1.3.6.1.2.1.1.1.0 = ' <<<"$out"; then
    pass "snmpwalk from $NS0 through dpdk0 and the exception path: $(grep -m1 '^.1.3.6.1.2.1.1.1.0 = ' <<<"$out" | cut -c1-90)"
  else
    fail "snmpwalk of the system group: $(head -n 2 <<<"$out")"
  fi
  if grep -q '^@@ unit vsgate-snmp active' "$TMP/report.txt"; then
    out=$(ip netns exec "$NS0" snmpwalk -v2c -c vsgate -t 3 -r 2 -On "$NET0.1" 1.3.6.1.4.1.8072.9999.9999 2>&1 || true)
    if grep -q '^\.1\.3\.6\.1\.4\.1\.8072\.9999\.9999\.' <<<"$out"; then
      pass "snmpwalk of VSGATE-MIB through vsgate-snmp: $(grep -c '^\.1' <<<"$out") objects"
      # vsgatePortTable carries the ethdev counters: after the pings, vsgatePortIPackets and
      # vsgatePortOPackets (columns 7 and 8) are non-zero for both data-plane ports.
      port_col() { grep -E "^\.1\.3\.6\.1\.4\.1\.8072\.9999\.9999\.4847\.1\.2\.1\.$1\.[0-9]+ = Counter64: " <<<"$out"; }
      ipk=$(port_col 7 || true)
      opk=$(port_col 8 || true)
      if (($(grep -c . <<<"$ipk") == 2 && $(grep -c . <<<"$opk") == 2)) &&
        ! printf '%s\n%s\n' "$ipk" "$opk" | grep -q 'Counter64: 0$'; then
        pass "vsgatePortTable shows the traffic: ipackets $(awk '{print $NF}' <<<"$ipk" | paste -sd/), opackets $(awk '{print $NF}' <<<"$opk" | paste -sd/)"
      else
        fail "vsgatePortTable: want non-zero ipackets/opackets for 2 ports, got: $(tr '\n' ' ' <<<"$ipk $opk")"
      fi
    else
      fail "snmpwalk of VSGATE-MIB: $(head -n 2 <<<"$out")"
    fi
  else
    skip "VSGATE-MIB port table: vsgate-snmp is not in the image (the vsgate-snmp target is not built in this tree)"
  fi
else
  fail "snmpwalk missing on the host (package snmp)"
fi

# --- exception-path throughput of both backends ----------------------------------------------------
if command -v iperf3 >/dev/null; then
  for i in 0 1; do
    backend=$([[ $i == 0 ]] && echo tap || echo virtio-user)
    port=$((5201 + i))
    out=$(ip netns exec "$P-h$i" timeout 30 iperf3 -c "10.77.$i.1" -p "$port" -t 5 -J 2>&1 || true)
    mbps=$(python3 -c '
import json, sys
d = json.loads(sys.stdin.read())
print("%.1f %.1f" % (d["end"]["sum_sent"]["bits_per_second"] / 1e6, d["end"]["sum_received"]["bits_per_second"] / 1e6))
' <<<"$out" 2>/dev/null || true)
    if [[ -n $mbps ]]; then
      pass "iperf3 TCP to the appliance through dpdk$i ($backend): sent/received $mbps Mbit/s"
      echo "RESULT backend=$backend iperf3_tcp_mbps=${mbps#* }"
    else
      fail "iperf3 through dpdk$i ($backend): $(head -c 200 <<<"$out")"
    fi
    out=$(ip netns exec "$P-h$i" ping -f -c 2000 -W 1 "10.77.$i.1" 2>&1 || true)
    loss=$(grep -o '[0-9.]*% packet loss' <<<"$out" || echo "?")
    rtt=$(grep -o '= [0-9./]* ms' <<<"$out" | head -n 1 || true)
    ipg=$(grep -o 'ipg/ewma [0-9./]* ms' <<<"$out" || true)
    pkt_time=$(grep -o 'time [0-9]*ms' <<<"$out" | grep -o '[0-9]*' || true)
    pps="?"
    [[ -n $pkt_time && $pkt_time -gt 0 ]] && pps=$((2000 * 1000 / pkt_time))
    info "ping -f -c 2000 through dpdk$i ($backend): $loss, rtt min/avg/max/mdev $rtt, $ipg, ~$pps echo/s"
    echo "RESULT backend=$backend ping_flood_loss=${loss%% *} ping_flood_rate=$pps rtt='$rtt'"
  done
else
  skip "throughput: iperf3 not installed on the host"
fi

# --- data-plane counters saw it -------------------------------------------------------------------
rep >/dev/null
stats=$(grep '^@@ portstats {' "$TMP/report.txt" | tail -n 1 | sed 's/^@@ portstats //' || true)
if [[ -n $stats ]] && python3 -c '
import json, sys
d = json.loads(sys.argv[1])
d = d.get("result", d)
ports = {p["name"]: p for p in d["ports"]}
ok = all(ports[n]["ipackets"] > 0 and ports[n]["opackets"] > 0 for n in ("dpdk0", "dpdk1"))
print(" ".join("%s: ipackets %d opackets %d" % (n, ports[n]["ipackets"], ports[n]["opackets"]) for n in ("dpdk0", "dpdk1")))
sys.exit(0 if ok else 1)
' "$stats" > "$TMP/stats.txt" 2>&1; then
  pass "vsgated port counters in the guest: $(cat "$TMP/stats.txt")"
else
  fail "port counters: $(cat "$TMP/stats.txt" 2>/dev/null) $(head -c 300 <<<"$stats")"
fi

# --- stop: vsgate stops cleanly, vsgate-bind-nics gives the NICs back ------------------------------
ip netns exec "$NS0" python3 -c '
import socket
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"stop", ("10.77.0.1", 7777))
'
if wait_for 90 "$TMP/report.log" "@@ done"; then
  rep >/dev/null
  st=$(sed -n 's/^@@ stop vsgate //p' "$TMP/report.txt")
  if [[ $st == "inactive success 0" ]]; then
    pass "guest: systemctl stop vsgate on PCI ports is clean ($st)"
  else
    fail "guest: systemctl stop vsgate: $st"
  fi
  for d in 0000:00:04.0 0000:00:05.0; do
    r=$(sed -n "s/^@@ restored $d //p" "$TMP/report.txt")
    if [[ $r == virtio-pci\ * && $r == *en* ]]; then
      pass "guest: systemctl stop vsgate-bind-nics gave $d back to virtio-pci (interface ${r#virtio-pci })"
    else
      fail "guest: $d after stop of vsgate-bind-nics: '$r'"
    fi
  done
else
  fail "guest did not finish the stop sequence"
fi

echo "qemu_test: $PASSED passed, $FAILED failed (boot $boot_s s)"
((FAILED == 0))
