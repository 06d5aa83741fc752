#!/usr/bin/env bash
# VSGATE-MIB lint: smilint -l 6 (with the base modules of SHARED_MIBS_DIR) must print nothing
# (smilint exits 0 even on errors), snmptranslate must load the module, LAST-UPDATED must be the
# newest REVISION, and the root OID must be the one the subagent serves (snmp/mib.h).
# Usage: mib_lint.sh MIB_FILE SHARED_MIBS_DIR MIB_H
# Exit 0 clean, 1 a problem (printed), 77 skipped (the base modules are not there).
set -uo pipefail
MIB=$1 SHARED=$2 MIB_H=$3
for m in SNMPv2-SMI SNMPv2-TC SNMPv2-CONF INET-ADDRESS-MIB HCNUM-TC NET-SNMP-MIB; do
  if [[ ! -f "$SHARED/$m.txt" ]]; then
    echo "SKIP: base MIB module $m not in $SHARED (Debian ships none)"
    exit 77
  fi
done
for tool in smilint snmptranslate; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool not installed (packaging/install-deps.sh)"; exit 1; }
done
failed=0
fail() { echo "FAIL: $*"; failed=1; }

# smilint must be able to complain here, or its silence below proves nothing.
tmp=$(mktemp -d)
trap 'rm -rf -- "$tmp"' EXIT
sed 's/^    SYNTAX      Counter64$/    SYNTAX      Counter65/' "$MIB" >"$tmp/VSGATE-MIB.txt"
if [[ -z "$(SMIPATH=$SHARED smilint -l 6 "$tmp/VSGATE-MIB.txt" 2>&1)" ]]; then
  fail "smilint prints nothing even for a broken copy of the MIB (cannot lint)"
fi

out=$(SMIPATH=$SHARED smilint -l 6 "$MIB" 2>&1)
if [[ -n "$out" ]]; then
  fail "smilint -l 6 $MIB:"
  echo "$out" | sed 's/^/  | /'
else
  echo "PASS: smilint -l 6 prints nothing"
fi

root=$(snmptranslate -M "$SHARED:$(dirname "$MIB")" -m VSGATE-MIB -On VSGATE-MIB::vsgateMIB 2>&1)
code_root=$(sed -n 's/.*kVsgateMibRoot\[\] = {\([0-9, ]*\)}.*/\1/p' "$MIB_H" | tr -d ' ' | tr ',' '.')
if [[ "$root" == ".1.3.6.1.4.1.8072.9999.9999."* && "$root" == ".$code_root" ]]; then
  echo "PASS: snmptranslate loads VSGATE-MIB; vsgateMIB = $root under netSnmpPlaypen, as snmp/mib.h"
else
  fail "vsgateMIB translates to '$root', snmp/mib.h serves '.$code_root'"
fi
col=$(snmptranslate -M "$SHARED:$(dirname "$MIB")" -m VSGATE-MIB -On \
  VSGATE-MIB::vsgateRealServerRateOutBPS64 2>&1)
[[ "$col" == "$root.1.5.1.25" ]] || fail "vsgateRealServerRateOutBPS64 is '$col', expected $root.1.5.1.25"

updated=$(sed -n 's/^ *LAST-UPDATED *"\([0-9]*Z\)".*/\1/p' "$MIB")
newest=$(sed -n 's/^ *REVISION *"\([0-9]*Z\)".*/\1/p' "$MIB" | sort | tail -n 1)
if [[ -n "$updated" && "$updated" == "$newest" ]]; then
  echo "PASS: LAST-UPDATED $updated is the newest REVISION"
else
  fail "LAST-UPDATED '$updated', newest REVISION '$newest'"
fi
n=$(grep -c 'netSnmpPlaypen [0-9]' "$MIB")
((n == 1)) || fail "the root under netSnmpPlaypen is assigned $n times (want once)"
exit "$failed"
