#!/usr/bin/env bash
# Builds the vsgate appliance image in one command:
#   1. the .deb packages (cpack, target "deb" of the build directory),
#   2. a Debian bookworm rootfs with mmdebstrap plus the packages (a local file:// repository,
#      mounted into the chroot by mmdebstrap's file-mirror-automount hook), the rootfs/ overlay
#      and systemd-networkd enabled,
#   3. the kernel and initrd of that rootfs,
#   4. a bootable GPT disk with genimage (EFI system partition with systemd-boot, the kernel and
#      the initrd; ext4 root), raw and qcow2, and a rootfs tarball.
# Prints the sizes and the build time.
#
# Usage: packaging/build-image.sh [-B BUILD_DIR] [-o OUT_DIR] [--no-debs] [--rootfs-only]
#   -B BUILD_DIR   configured CMake build directory (default: build)
#   -o OUT_DIR     output directory (default: BUILD_DIR/image)
#   --no-debs      use the .debs already in BUILD_DIR/packages instead of running cpack
#   --rootfs-only  stop after the rootfs (directory and tarball): enough for systemd-nspawn
# Environment:
#   VSGATE_IMAGE_CACHE  apt download cache and rootfs cache (default: BUILD_DIR/image-cache);
#                       the rootfs is rebuilt only when an input changed (packages, overlay,
#                       this script), otherwise the cached one is reused
#   VSGATE_MIRROR       Debian mirror (default http://deb.debian.org/debian)
#   VSGATE_IMAGE_SIZE   disk size (default 1536M)
#   VSGATE_ROOT_PASSWORD  root password of the image (default: root is locked; log in by other
#                       means, e.g. a key added to the rootfs)
# Needs root, mmdebstrap, genimage, mtools, dosfstools, e2fsprogs, qemu-utils, systemd-boot-efi
# (all from packaging/install-deps.sh).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$ROOT/build
OUT=""
BUILD_DEBS=1
ROOTFS_ONLY=0
while (($#)); do
  case $1 in
    -B) BUILD=$2; shift 2 ;;
    -o) OUT=$2; shift 2 ;;
    --no-debs) BUILD_DEBS=0; shift ;;
    --rootfs-only) ROOTFS_ONLY=1; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-image: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
BUILD=$(realpath "$BUILD")
OUT=$(realpath -m "${OUT:-$BUILD/image}")
CACHE=$(realpath -m "${VSGATE_IMAGE_CACHE:-$BUILD/image-cache}")
MIRROR=${VSGATE_MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${VSGATE_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
DISK_SIZE=${VSGATE_IMAGE_SIZE:-1536M}
SUITE=bookworm
# Fixed identifiers: the kernel command line names the root partition by PARTUUID.
ROOT_PARTUUID=7c3a4d52-0f5e-4b8e-9a61-5e2a1d0c7a11
DISK_UUID=2f0b8c1e-6d3a-4a47-8f51-9b8a3c2d1e00
KERNEL_CMDLINE="root=PARTUUID=$ROOT_PARTUUID rw console=ttyS0,115200 intel_iommu=on iommu=pt systemd.show_status=auto"

# Packages of the image besides the minbase variant and ours.
PACKAGES=(systemd systemd-sysv udev dbus kmod iproute2 iputils-ping procps
  linux-image-amd64 initramfs-tools
  snmpd snmp dpdk driverctl iperf3
  librte-net-af-xdp23 librte-net-af-packet23 librte-net-ring23 librte-net-null23
  librte-net-ixgbe23 librte-net-i40e23 librte-net-ice23 librte-net-iavf23 librte-net-e1000-23
  librte-net-vmxnet3-23 librte-net-ena23)

log() { echo "build-image: $*"; }
die() { echo "build-image: $*" >&2; exit 1; }

((EUID == 0)) || die "needs root (mmdebstrap --mode=root, device nodes in the rootfs)"
for tool in mmdebstrap dpkg-scanpackages genimage mkfs.vfat mcopy mke2fs qemu-img zstd; do
  command -v "$tool" >/dev/null || die "$tool is missing; run packaging/install-deps.sh"
done
SD_BOOT=/usr/lib/systemd/boot/efi/systemd-bootx64.efi
[[ -f $SD_BOOT ]] || die "$SD_BOOT is missing (package systemd-boot-efi); run packaging/install-deps.sh"
[[ -f $BUILD/CMakeCache.txt ]] || die "$BUILD is not a configured build directory (cmake -S . -B build)"

START=$(date +%s)
mkdir -p "$OUT" "$CACHE/apt"
step_t=$START
step() {  # step NAME: prints the time of the previous step
  local now
  now=$(date +%s)
  log "$* (+$((now - step_t)) s)"
  step_t=$now
}

# --- 1. packages ------------------------------------------------------------------------------
if ((BUILD_DEBS)); then
  step "building the packages (cpack)"
  cmake --build "$BUILD" --target deb >/dev/null
fi
REPO=$OUT/repo
rm -rf "$REPO"
mkdir -p "$REPO"
shopt -s nullglob
debs=("$BUILD"/packages/vsgate_*.deb "$BUILD"/packages/vsgate-snmp_*.deb)
shopt -u nullglob
((${#debs[@]})) || die "no vsgate .deb in $BUILD/packages"
cp "${debs[@]}" "$REPO"/
(cd "$REPO" && dpkg-scanpackages --multiversion . /dev/null 2>/dev/null > Packages)
OUR_PACKAGES=(vsgate)
if compgen -G "$REPO/vsgate-snmp_*.deb" >/dev/null; then
  OUR_PACKAGES+=(vsgate-snmp)
else
  log "no vsgate-snmp package (the vsgate-snmp target is not built in this tree): image without the subagent"
fi
log "local packages: $(cd "$REPO" && ls -- *.deb | tr '\n' ' ')"

# --- 2. rootfs --------------------------------------------------------------------------------
RFS=$OUT/rootfs
# Everything that goes into the rootfs, hashed: unchanged inputs reuse the cached rootfs.
key=$({
  echo "$SUITE $MIRROR $SECURITY_MIRROR ${PACKAGES[*]} ${OUR_PACKAGES[*]}"
  sha256sum "$0" "$REPO"/*.deb
  (cd "$ROOT/rootfs" && find etc -print0 | sort -z | xargs -0 -I{} sh -c \
    'if [ -L "{}" ]; then echo "{} -> $(readlink "{}")"; elif [ -f "{}" ]; then sha256sum "{}"; else echo "{}"; fi')
} | sha256sum | cut -c1-16)
ROOTFS_TAR=$OUT/vsgate-rootfs.tar.zst
CACHED_TAR=$CACHE/rootfs-$key.tar.zst
if [[ -f $CACHED_TAR ]]; then
  step "rootfs inputs unchanged (key $key): reusing $CACHED_TAR"
  rm -rf "$RFS"
  mkdir -p "$RFS"
  tar --zstd -xpf "$CACHED_TAR" -C "$RFS" --numeric-owner
else
  step "mmdebstrap $SUITE (key $key; apt cache $CACHE/apt)"
  rm -rf "$RFS"
  include=$(IFS=,; echo "${PACKAGES[*]},${OUR_PACKAGES[*]}")
  mmdebstrap --mode=root --variant=minbase --format=directory \
    --include="$include" \
    --aptopt='APT::Install-Recommends "false"' \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-include=/usr/share/locale/locale.alias' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-include=/usr/share/doc/vsgate*' \
    --hook-dir=/usr/share/mmdebstrap/hooks/file-mirror-automount \
    --skip=download/empty \
    --setup-hook='mkdir -p "$1"/var/cache/apt/archives' \
    --setup-hook="sync-in $CACHE/apt /var/cache/apt/archives" \
    --customize-hook="sync-out /var/cache/apt/archives $CACHE/apt" \
    --customize-hook='rm -f "$1"/var/cache/apt/archives/*.deb' \
    --customize-hook="cp -a $ROOT/rootfs/etc/. \"\$1\"/etc/" \
    --customize-hook='chroot "$1" systemctl enable systemd-networkd.service' \
    --customize-hook='chroot "$1" systemctl disable systemd-networkd-wait-online.service' \
    --customize-hook=': > "$1"/etc/machine-id' \
    "$SUITE" "$RFS" \
    "deb $MIRROR $SUITE main" "deb $MIRROR $SUITE-updates main" \
    "deb $SECURITY_MIRROR $SUITE-security main" \
    "deb [trusted=yes] file://$REPO ./"
  # The local repository is only for the build: drop it from the image's sources.
  sed -i "\|file://$REPO|d" "$RFS"/etc/apt/sources.list
  step "rootfs done; caching it"
  rm -f "$CACHE"/rootfs-*.tar.zst
  tar --zstd -cpf "$CACHED_TAR.tmp" -C "$RFS" --numeric-owner .
  mv "$CACHED_TAR.tmp" "$CACHED_TAR"
fi
if [[ -n ${VSGATE_ROOT_PASSWORD:-} ]]; then
  # Not part of the cache key: the cached rootfs stays without it; the outputs get it.
  step "setting the root password (VSGATE_ROOT_PASSWORD)"
  echo "root:$VSGATE_ROOT_PASSWORD" | chroot "$RFS" chpasswd
  tar --zstd -cpf "$ROOTFS_TAR" -C "$RFS" --numeric-owner .
else
  cp "$CACHED_TAR" "$ROOTFS_TAR"
fi

# --- 3. kernel and initrd ---------------------------------------------------------------------
kernel=$(find "$RFS/boot" -maxdepth 1 -name 'vmlinuz-*' | sort -V | tail -n 1)
initrd=$(find "$RFS/boot" -maxdepth 1 -name 'initrd.img-*' | sort -V | tail -n 1)
[[ -n $kernel && -n $initrd ]] || die "no kernel/initrd in $RFS/boot"
cp "$kernel" "$OUT/vmlinuz"
cp "$initrd" "$OUT/initrd.img"
echo "$KERNEL_CMDLINE" > "$OUT/cmdline"

if ((ROOTFS_ONLY)); then
  step "rootfs only: done"
else
  # --- 4. disk image ----------------------------------------------------------------------------
  step "disk image (genimage)"
  GI=$OUT/genimage
  rm -rf "$GI"
  mkdir -p "$GI/input" "$GI/tmp" "$GI/out"
  cp "$SD_BOOT" "$GI/input/BOOTX64.EFI"
  cp "$OUT/vmlinuz" "$OUT/initrd.img" "$GI/input/"
  printf 'default vsgate.conf\ntimeout 0\nconsole-mode keep\n' > "$GI/input/loader.conf"
  printf 'title vsgate appliance\nlinux /vmlinuz\ninitrd /initrd.img\noptions %s\n' \
    "$KERNEL_CMDLINE" > "$GI/input/vsgate.conf"
  cat > "$GI/genimage.cfg" <<EOF
image esp.vfat {
  vfat {
    label = "ESP"
    file EFI/BOOT/BOOTX64.EFI { image = "BOOTX64.EFI" }
    file loader/loader.conf { image = "loader.conf" }
    file loader/entries/vsgate.conf { image = "vsgate.conf" }
    file vmlinuz { image = "vmlinuz" }
    file initrd.img { image = "initrd.img" }
  }
  size = 128M
}

image root.ext4 {
  ext4 {
    label = "vsgate-root"
    use-mke2fs = true
  }
  size = $(( $(numfmt --from=iec "$DISK_SIZE") / 1048576 - 130 ))M
}

image vsgate.img {
  hdimage {
    partition-table-type = "gpt"
    disk-uuid = "$DISK_UUID"
  }
  partition esp {
    image = "esp.vfat"
    partition-type-uuid = "U"
  }
  partition root {
    image = "root.ext4"
    partition-type-uuid = "4f68bce3-e8cd-4db1-96e7-fbcaf984b709"
    partition-uuid = "$ROOT_PARTUUID"
  }
}
EOF
  genimage --config "$GI/genimage.cfg" --rootpath "$RFS" --tmppath "$GI/tmp" \
    --inputpath "$GI/input" --outputpath "$GI/out" >"$GI/genimage.log" 2>&1 ||
    { tail -n 30 "$GI/genimage.log" >&2; die "genimage failed (log: $GI/genimage.log)"; }
  mv "$GI/out/vsgate.img" "$OUT/vsgate.img"
  rm -rf "$GI"
  step "qcow2"
  qemu-img convert -f raw -O qcow2 -c "$OUT/vsgate.img" "$OUT/vsgate.qcow2"
fi

END=$(date +%s)
log "done in $((END - START)) s; outputs in $OUT:"
for f in vsgate.img vsgate.qcow2 vsgate-rootfs.tar.zst vmlinuz initrd.img; do
  [[ -f $OUT/$f ]] || continue
  printf '  %-24s %8s (allocated %s)\n' "$f" "$(du -h --apparent-size "$OUT/$f" | cut -f1)" \
    "$(du -h "$OUT/$f" | cut -f1)"
done
printf '  %-24s %8s\n' "rootfs/" "$(du -sh "$RFS" | cut -f1)"
echo "build-image: time ${START}..${END} = $((END - START)) s" > "$OUT/build-time"
