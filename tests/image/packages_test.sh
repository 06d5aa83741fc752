#!/usr/bin/env bash
# Tests the .deb packages:
#   - cpack builds them; lintian reports no error (E:) for any of them;
#   - installed into a throwaway Debian bookworm chroot (mmdebstrap, dependencies from the
#     archive): files in place, units enabled, group vsgate created, conffiles registered,
#     nothing started;
#   - purge removes what the installation created: the file list and the group database after
#     install+purge equal those before the install.
# vsgate-snmp is tested when the vsgate-snmp target exists in the build (SKIP otherwise).
# Usage: packages_test.sh BUILD_DIR
# Environment: VSGATE_IMAGE_CACHE (apt cache shared with build-image.sh), VSGATE_MIRROR.
set -euo pipefail
BUILD=$(realpath "${1:?usage: $0 BUILD_DIR}")
CACHE=$(realpath -m "${VSGATE_IMAGE_CACHE:-$BUILD/image-cache}")
MIRROR=${VSGATE_MIRROR:-http://deb.debian.org/debian}

PASSED=0 FAILED=0
pass() { echo "PASS: $*"; PASSED=$((PASSED + 1)); }
fail() { echo "FAIL: $*"; FAILED=$((FAILED + 1)); }
skip() { echo "SKIP: $*"; }

((EUID == 0)) || { echo "FAIL: packages_test needs root (chroot)"; exit 1; }
for tool in cpack mmdebstrap lintian dpkg-deb dpkg-scanpackages; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool not installed (packaging/install-deps.sh)"; exit 1; }
done

TMP=$(mktemp -d /tmp/vsgate-pkg.XXXXXX)
CH=$TMP/chroot
cleanup() {
  local rc=$?
  set +e
  # Nothing may be mounted below the chroot when it is removed.
  for m in $(awk -v p="$CH/" 'index($2, p) == 1 {print $2}' /proc/mounts | sort -r); do umount -l "$m"; done
  rm -rf --one-file-system -- "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- build ------------------------------------------------------------------------------------
rm -rf "$BUILD/packages"
if cmake --build "$BUILD" --target deb >"$TMP/cpack.log" 2>&1; then
  pass "cpack built: $(cd "$BUILD/packages" && ls -- *.deb | tr '\n' ' ')"
else
  cat "$TMP/cpack.log"
  fail "cpack failed"
  exit 1
fi
DEB=$(ls "$BUILD"/packages/vsgate_*.deb)
SNMP_DEB=$(ls "$BUILD"/packages/vsgate-snmp_*.deb 2>/dev/null || true)
PKGS=(vsgate)
if [[ -n $SNMP_DEB ]]; then
  PKGS+=(vsgate-snmp)
else
  skip "vsgate-snmp package: the vsgate-snmp target is not built in this tree"
fi

# --- static checks ----------------------------------------------------------------------------
for d in "$DEB" $SNMP_DEB; do
  name=$(basename "$d")
  out=$(lintian --no-tag-display-limit "$d" 2>&1 || true)
  errors=$(grep '^E:' <<<"$out" || true)
  if [[ -z $errors ]]; then
    pass "lintian $name: no errors ($(grep -c '^W:' <<<"$out" || true) warnings)"
  else
    fail "lintian $name:"
    printf '      %s\n' "$errors"
  fi
  grep '^W:' <<<"$out" | sed 's/^/      /' || true
done
deps=$(dpkg-deb -f "$DEB" Depends)
if grep -q 'librte-ethdev' <<<"$deps" && grep -q 'libiniparser' <<<"$deps" && grep -q 'libsystemd0' <<<"$deps"; then
  pass "vsgate declares its runtime libraries: $deps"
else
  fail "vsgate Depends lacks runtime libraries: $deps"
fi
mkdir -p "$TMP/x"
dpkg-deb -x "$DEB" "$TMP/x"
for b in vsgated vsgatectl; do
  if [[ -x $TMP/x/usr/sbin/$b ]] && file "$TMP/x/usr/sbin/$b" | grep -q ', stripped'; then
    pass "$b is stripped"
  else
    fail "$b missing or not stripped: $(file "$TMP/x/usr/sbin/$b" 2>&1)"
  fi
done
rm -rf "$TMP/x"

# --- throwaway chroot -------------------------------------------------------------------------
REPO=$TMP/repo
mkdir -p "$REPO" "$CACHE/apt"
cp "$DEB" $SNMP_DEB "$REPO"/
(cd "$REPO" && dpkg-scanpackages . /dev/null 2>/dev/null > Packages)
echo "      creating a bookworm chroot with ${PKGS[*]} (mmdebstrap; apt cache $CACHE/apt)"
t0=$(date +%s)
if ! mmdebstrap --mode=root --variant=apt --format=directory --include="$(IFS=,; echo "${PKGS[*]}")" \
  --aptopt='APT::Install-Recommends "false"' \
  --hook-dir=/usr/share/mmdebstrap/hooks/file-mirror-automount \
  --skip=download/empty \
  --setup-hook='mkdir -p "$1"/var/cache/apt/archives' \
  --setup-hook="sync-in $CACHE/apt /var/cache/apt/archives" \
  --customize-hook="sync-out /var/cache/apt/archives $CACHE/apt" \
  --customize-hook='rm -f "$1"/var/cache/apt/archives/*.deb' \
  bookworm "$CH" "deb $MIRROR bookworm main" "deb [trusted=yes] file://$REPO ./" \
  >"$TMP/mmdebstrap.log" 2>&1; then
  tail -n 30 "$TMP/mmdebstrap.log"
  fail "mmdebstrap with ${PKGS[*]} failed"
  exit 1
fi
pass "installed ${PKGS[*]} with apt into a fresh bookworm chroot ($(($(date +%s) - t0)) s)"

check_installed() {  # check_installed WHEN
  local when=$1 f missing=() link
  for f in /usr/sbin/vsgated /usr/sbin/vsgatectl /lib/systemd/system/vsgate.service \
    /lib/systemd/system/vsgate-hugepages.service /lib/systemd/system/vsgate-bind-nics.service \
    /usr/libexec/vsgate/vsgate-hugepages /usr/libexec/vsgate/vsgate-bind-nics \
    /etc/vsgate/vsgate.conf /etc/vsgate/appliance.conf /usr/lib/sysusers.d/vsgate.conf \
    /usr/lib/tmpfiles.d/vsgate.conf /usr/share/doc/vsgate/copyright \
    /usr/share/doc/vsgate/changelog.Debian.gz; do
    [[ -e $CH$f ]] || missing+=("$f")
  done
  if [[ -n $SNMP_DEB ]]; then
    for f in /usr/sbin/vsgate-snmp /lib/systemd/system/vsgate-snmp.service \
      /usr/share/snmp/mibs/VSGATE-MIB.txt; do
      [[ -e $CH$f ]] || missing+=("$f")
    done
  fi
  if ((${#missing[@]} == 0)); then pass "$when: files in place"; else fail "$when: missing ${missing[*]}"; fi

  missing=()
  for link in multi-user.target.wants/vsgate.service multi-user.target.wants/vsgate-bind-nics.service \
    sysinit.target.wants/vsgate-hugepages.service; do
    [[ -L $CH/etc/systemd/system/$link ]] || missing+=("$link")
  done
  [[ -z $SNMP_DEB || -L $CH/etc/systemd/system/vsgate.service.wants/vsgate-snmp.service ]] ||
    missing+=(vsgate.service.wants/vsgate-snmp.service)
  if ((${#missing[@]} == 0)); then pass "$when: units enabled"; else fail "$when: not enabled: ${missing[*]}"; fi

  if chroot "$CH" getent group vsgate >/dev/null; then
    pass "$when: group vsgate created ($(chroot "$CH" getent group vsgate))"
  else
    fail "$when: no group vsgate"
  fi
  local conff
  conff=$(chroot "$CH" dpkg-query -W -f='${Conffiles}' vsgate)
  if grep -q '/etc/vsgate/vsgate.conf' <<<"$conff" && grep -q '/etc/vsgate/appliance.conf' <<<"$conff"; then
    pass "$when: conffiles registered:$(tr '\n' ' ' <<<"$conff")"
  else
    fail "$when: conffiles not registered: '$conff'"
  fi
  # Nothing of the chroot runs (units are enabled, never started, in a chroot).
  local pid running=()
  for pid in $(pgrep -x vsgated || true); do
    [[ $(readlink "/proc/$pid/root") == "$CH" ]] && running+=("$pid")
  done
  if ((${#running[@]} == 0)); then pass "$when: nothing started"; else fail "$when: vsgated running: ${running[*]}"; fi
}

# The state to compare: every path (but dpkg's and the logs' own bookkeeping) and the groups.
snapshot() {
  (cd "$CH" && find . -xdev \
    -path ./var/lib/dpkg -prune -o -path ./var/log -prune -o -path ./var/cache -prune -o \
    -path ./etc/group- -prune -o -path ./etc/gshadow- -prune -o -path ./etc/passwd- -prune -o \
    -path ./etc/shadow- -prune -o -path ./etc/ld.so.cache -prune -o -path ./tmp -prune -o \
    -path ./run -prune -o -print | sort)
  cat "$CH/etc/group" "$CH/etc/gshadow" "$CH/etc/passwd"
}

purge() {
  local rev=() i
  for ((i = ${#PKGS[@]} - 1; i >= 0; i--)); do rev+=("${PKGS[i]}"); done
  chroot "$CH" dpkg --purge "${rev[@]}" >"$TMP/purge.log" 2>&1
}

check_installed "apt install"
if purge; then pass "dpkg --purge ${PKGS[*]}"; else cat "$TMP/purge.log"; fail "dpkg --purge failed"; fi
snapshot > "$TMP/before"
left=$(cd "$CH" && find . -xdev -iname '*vsgate*' ! -path './var/lib/dpkg/*' ! -path './var/log/*' ! -path './var/cache/*' | tr '\n' ' ')
if [[ -z $left && ! -e $CH/run/dpdk ]]; then
  pass "after purge no path named *vsgate* is left"
else
  fail "after purge left: $left"
fi

# Second round from this clean state: dpkg -i, checks, purge, compare.
mkdir -p "$CH/tmp/debs"
cp "$DEB" $SNMP_DEB "$CH/tmp/debs/"
if chroot "$CH" sh -c 'dpkg -i /tmp/debs/*.deb' >"$TMP/install.log" 2>&1; then
  pass "dpkg -i ${PKGS[*]} again"
else
  cat "$TMP/install.log"
  fail "dpkg -i failed"
fi
rm -rf "$CH/tmp/debs"
check_installed "dpkg -i"
if purge; then pass "dpkg --purge again"; else cat "$TMP/purge.log"; fail "second dpkg --purge failed"; fi
snapshot > "$TMP/after"
if diff -u "$TMP/before" "$TMP/after" > "$TMP/diff"; then
  pass "purge leaves nothing: file list and group/passwd databases as before the install"
else
  fail "purge leaves traces:"
  sed -n '3,40p' "$TMP/diff" | sed 's/^/      /'
fi
if chroot "$CH" dpkg-query -W vsgate >/dev/null 2>&1 &&
  [[ $(chroot "$CH" dpkg-query -W -f='${db:Status-Status}' vsgate) != not-installed ]]; then
  fail "dpkg still knows vsgate after purge"
else
  pass "dpkg forgot vsgate"
fi

echo "packages_test: $PASSED passed, $FAILED failed"
((FAILED == 0))
