#!/usr/bin/env bash
# Verifies the systemd units as installed by the build (cmake --install into a scratch root):
#   - systemd-analyze --man=no --root=ROOT verify prints nothing for every unit (it exits 0 on
#     typos and unknown keys, so any output is a failure);
#   - the properties the appliance relies on are set (Type=notify, watchdog, dependencies, ...);
#   - the exposure score of systemd-analyze security stays at or below MAX_EXPOSURE;
#   - the helper scripts parse a config and accept an empty hugepage setting.
# Usage: units_test.sh BUILD_DIR
set -euo pipefail
BUILD=$(realpath "${1:?usage: $0 BUILD_DIR}")
MAX_EXPOSURE=${MAX_EXPOSURE:-4.0}
UNITS=(vsgate.service vsgate-hugepages.service vsgate-bind-nics.service vsgate-snmp.service)

PASSED=0 FAILED=0
pass() { echo "PASS: $*"; PASSED=$((PASSED + 1)); }
fail() { echo "FAIL: $*"; FAILED=$((FAILED + 1)); }

command -v systemd-analyze >/dev/null || { echo "FAIL: systemd-analyze not installed"; exit 1; }
ROOT=$(mktemp -d /tmp/vsgate-units.XXXXXX)
trap 'rm -rf -- "$ROOT"' EXIT

for comp in vsgate snmp; do
  DESTDIR=$ROOT cmake --install "$BUILD" --prefix /usr --component "$comp" >/dev/null
done
UNITDIR=$ROOT/lib/systemd/system
# The units' dependencies (sysinit.target, dev-hugepages.mount, snmpd.service, ...) come from
# this machine's systemd; ours are not overwritten.
cp -an /lib/systemd/system/. "$UNITDIR"/
if [[ ! -x $ROOT/usr/sbin/vsgate-snmp ]]; then
  echo "NOTE: vsgate-snmp is not built in this tree; vsgate-snmp.service is verified against a stub"
  printf '#!/bin/sh\nexit 0\n' > "$ROOT/usr/sbin/vsgate-snmp"
  chmod 755 "$ROOT/usr/sbin/vsgate-snmp"
fi
if [[ ! -e $UNITDIR/snmpd.service ]]; then
  echo "NOTE: snmpd is not installed here; a stub snmpd.service stands in"
  printf '[Unit]\nDescription=stub\n[Service]\nExecStart=/bin/true\n' > "$UNITDIR/snmpd.service"
fi

for u in "${UNITS[@]}"; do
  if [[ ! -f $UNITDIR/$u ]]; then fail "$u not installed"; continue; fi
  out=$(cd / && systemd-analyze --man=no --root="$ROOT" verify "$u" 2>&1) && rc=0 || rc=$?
  if [[ -z "$out" && $rc -eq 0 ]]; then
    pass "systemd-analyze verify $u: no output"
  else
    fail "systemd-analyze verify $u (exit $rc):"
    printf '      %s\n' "$out"
  fi
done

# expect UNIT KEY=VALUE...: each line must be present verbatim in the unit file.
expect() {
  local u=$1 line missing=()
  shift
  for line in "$@"; do grep -qxF -- "$line" "$UNITDIR/$u" || missing+=("$line"); done
  if ((${#missing[@]} == 0)); then pass "$u sets $*"; else fail "$u lacks: ${missing[*]}"; fi
}
expect vsgate.service Type=notify NotifyAccess=main WatchdogSec=10 Restart=on-failure \
  StartLimitBurst=5 LimitMEMLOCK=infinity 'RuntimeDirectory=vsgate' \
  Requires=vsgate-hugepages.service After=vsgate-hugepages.service \
  Wants=vsgate-bind-nics.service \
  'ExecStartPre=/usr/sbin/vsgated --check --config /etc/vsgate/vsgate.conf' \
  ProtectHome=yes ProtectSystem=strict PrivateTmp=yes
expect vsgate-hugepages.service Type=oneshot RemainAfterExit=yes DefaultDependencies=no \
  'After=dev-hugepages.mount systemd-sysctl.service'
expect vsgate-bind-nics.service Type=oneshot RemainAfterExit=yes \
  'ExecStop=/usr/libexec/vsgate/vsgate-bind-nics restore'
expect vsgate-snmp.service BindsTo=vsgate.service 'After=vsgate.service snmpd.service' \
  Wants=snmpd.service

score=$(cd / && systemd-analyze security --offline=yes --root="$ROOT" vsgate.service 2>/dev/null |
  sed -n 's/.*Overall exposure level for vsgate.service: \([0-9.]*\).*/\1/p')
if [[ -z "$score" ]]; then
  fail "no exposure score from systemd-analyze security --offline=yes"
elif awk -v s="$score" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(s <= m) }'; then
  pass "systemd-analyze security vsgate.service: exposure $score (<= $MAX_EXPOSURE)"
else
  fail "systemd-analyze security vsgate.service: exposure $score > $MAX_EXPOSURE"
fi
snmp_score=$(cd / && systemd-analyze security --offline=yes --root="$ROOT" vsgate-snmp.service 2>/dev/null |
  sed -n 's/.*Overall exposure level for vsgate-snmp.service: \([0-9.]*\).*/\1/p')
echo "      vsgate-snmp.service exposure: ${snmp_score:-?}"

# Helper scripts.
LIBEXEC=$ROOT/usr/libexec/vsgate
cat > "$ROOT/t.conf" <<'CONF'
[global]
workers = 1
[PORT.Upper]
Device = "0000:00:03.0,txq_inline_max=128" ; comment
[port.virtual]
device = net_tap0,iface=t0
[port.short]
 device=00:1F.7
;[port.commented]
;device = 0000:00:05.0
[service.web]
vip = 10.0.0.1
CONF
got=$(VSGATE_CONFIG=$ROOT/t.conf "$LIBEXEC/vsgate-bind-nics" list | tr '\n' ' ')
if [[ "$got" == "0000:00:03.0 0000:00:1f.7 " ]]; then
  pass "vsgate-bind-nics list: $got"
else
  fail "vsgate-bind-nics list: got '$got', want '0000:00:03.0 0000:00:1f.7 '"
fi
if out=$(VSGATE_CONFIG=$ROOT/t.conf VSGATE_NIC_DRIVER=e1000 "$LIBEXEC/vsgate-bind-nics" bind 2>&1); then
  fail "vsgate-bind-nics accepted driver e1000"
else
  pass "vsgate-bind-nics refuses an unknown driver: $out"
fi
if out=$(VSGATE_HUGEPAGES=0 "$LIBEXEC/vsgate-hugepages" 2>&1); then
  pass "vsgate-hugepages with 0 pages: $out"
else
  fail "vsgate-hugepages with 0 pages failed: $out"
fi

echo "units_test: $PASSED passed, $FAILED failed"
((FAILED == 0))
