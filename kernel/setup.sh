#!/bin/bash
# scxlab setup: host packages, the pinned toolchain root and the sched_ext guest image.
#
# Both roots are built with mmdebstrap from Debian trixie (+ trixie-backports for the kernel)
# and cached under $SCXLAB_CACHE, keyed by a hash of their recipe (the package lists, the
# guest's PID 1, the required kernel options and the recipe version below). A rerun whose
# recipe did not change only checks the cache and rewrites build/setup.env, in seconds.
#
# Output: build/setup.env (paths the Makefile and runners use), and in the image folder:
# rootfs.ext4, vmlinuz, initrd.img, kconfig, versions.txt, vmlinux.h, debs/.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${SCXLAB_CACHE:-/var/cache/scxlab}
MIRROR=${SCXLAB_MIRROR:-http://deb.debian.org/debian}
# Bump when the build steps below change in a way the hashed files do not show.
TOOLS_RECIPE_VERSION=1
IMAGE_RECIPE_VERSION=1
HOST_PACKAGES="mmdebstrap e2fsprogs util-linux zstd python3-numpy python3-scipy python3-matplotlib python3-pytest python3-jsonschema"

# A folder being built; a setup that fails leaves none behind.
PENDING=
trap '[ -z "$PENDING" ] || rm -rf "$PENDING"' EXIT

say() { printf '[setup] %s\n' "$*" >&2; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (mmdebstrap, chroot and mkfs need it); try: sudo make setup"

packages_of() { sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$1" | tr -s ' \t\n' ',' | sed 's/,$//'; }
recipe_key() { { echo "$1"; shift; cat "$@"; } | sha256sum | cut -c1-16; }

install_host_packages() {
    local missing=()
    for p in $HOST_PACKAGES; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    say "installing host packages: ${missing[*]}"
    apt-get update -qq || die "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
        || die "could not install host packages: ${missing[*]}"
}

build_tools() {
    local dir=$1 tmp=$1.tmp
    PENDING=$tmp
    rm -rf "$tmp"; mkdir -p "$tmp"
    say "building the toolchain root (trixie; about a minute, more on a slow mirror) in $dir"
    mmdebstrap --quiet --variant=apt --components=main \
        --aptopt='APT::Install-Recommends "false"' \
        --include="$(packages_of "$REPO/kernel/tools.packages")" \
        --customize-hook='chroot "$1" dpkg-query -W -f="\${Package}\t\${Version}\n" > "$1/../versions.txt"' \
        trixie "$tmp/root" "deb $MIRROR trixie main" || die "mmdebstrap of the toolchain root failed"
    mv "$tmp" "$dir"
    PENDING=
}

build_image() {
    local dir=$1 tmp=$1.tmp
    PENDING=$tmp
    rm -rf "$tmp"; mkdir -p "$tmp/debs"
    say "building the guest image (trixie + backports kernel; about a minute) in $dir"
    mmdebstrap --quiet --variant=apt --components=main --skip=download/empty \
        --aptopt='APT::Install-Recommends "false"' \
        --include="$(packages_of "$REPO/kernel/image.packages")" \
        --customize-hook="install -m 0755 '$REPO/kernel/guest-init' \"\$1/sbin/scxlab-init\"" \
        --customize-hook='echo scxlab-guest > "$1/etc/hostname"; printf "127.0.0.1 localhost scxlab-guest\n" > "$1/etc/hosts"' \
        --customize-hook='chroot "$1" dpkg-query -W -f="\${Package}\t\${Version}\n" > "$1/../versions.txt"' \
        --customize-hook='mv "$1"/var/cache/apt/archives/*.deb "$1/../debs/"' \
        trixie "$tmp/root" "deb $MIRROR trixie main" "deb $MIRROR trixie-backports main" \
        || die "mmdebstrap of the guest image failed"

    local kver
    kver=$(ls "$tmp/root/lib/modules" | head -n1)
    [ -n "$kver" ] || die "the image has no kernel in /lib/modules"
    cp "$tmp/root/boot/vmlinuz-$kver" "$tmp/vmlinuz"
    cp "$tmp/root/boot/initrd.img-$kver" "$tmp/initrd.img" || die "no initrd was generated for $kver"
    cp "$tmp/root/boot/config-$kver" "$tmp/kconfig"
    echo "$kver" > "$tmp/kernel-release"
    check_kconfig "$tmp/kconfig" "$kver"
    make_vmlinux_h "$tmp"

    local size_mb
    size_mb=$(( $(du -sm "$tmp/root" | cut -f1) + 1024 ))
    mkfs.ext4 -q -L scxroot -d "$tmp/root" "$tmp/rootfs.ext4" "${size_mb}M" || die "mkfs.ext4 failed"
    rm -rf "$tmp/root"
    mv "$tmp" "$dir"
    PENDING=
}

check_kconfig() {
    local cfg=$1 kver=$2 missing=()
    while read -r want; do
        grep -qx "$want" "$cfg" || missing+=("$want")
    done < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$REPO/kernel/required-kconfig")
    [ ${#missing[@]} -eq 0 ] || die "kernel $kver lacks required options: ${missing[*]} (see kernel/required-kconfig); the mirror's linux-image-cloud-amd64 in trixie-backports may have changed"
    say "kernel $kver has every required option (${#missing[@]} missing)"
}

# vmlinux.h comes from the guest kernel's own BTF, never edited by hand: the zstd stream in
# the bzImage is the ELF vmlinux, and bpftool (from the toolchain root) dumps its BTF as C.
make_vmlinux_h() {
    local d=$1 off
    off=$(LC_ALL=C grep -m1 -obUaP '\x28\xb5\x2f\xfd' "$d/vmlinuz" | cut -d: -f1)
    [ -n "$off" ] || die "no zstd stream in $d/vmlinuz"
    tail -c +$((off + 1)) "$d/vmlinuz" | zstd -dcq 2>/dev/null > "$d/vmlinux" || true
    [ "$(head -c4 "$d/vmlinux" | od -An -tx1 | tr -d ' ')" = 7f454c46 ] || die "decompressed vmlinux is not ELF"
    SCXLAB_TOOLS_ROOT="$TOOLS_DIR/root" SCXLAB_CACHE="$CACHE" "$REPO/kernel/tools-exec" \
        bpftool btf dump file "$d/vmlinux" format c > "$d/vmlinux.h" \
        || die "bpftool could not dump the kernel's BTF"
    rm -f "$d/vmlinux"
}

main() {
    local t0=$SECONDS
    install_host_packages
    mkdir -p "$CACHE" "$REPO/build"
    # One setup at a time per cache: a second one (another clone, another shell) waits, then finds the
    # folders the first one built and reuses them.
    exec 9>"$CACHE/.setup.lock"
    if ! flock -n 9; then
        say "another make setup is using $CACHE; waiting for it"
        flock 9
    fi
    local tools_key image_key
    tools_key=$(recipe_key "tools-$TOOLS_RECIPE_VERSION" "$REPO/kernel/tools.packages")
    image_key=$(recipe_key "image-$IMAGE_RECIPE_VERSION" "$REPO/kernel/image.packages" \
        "$REPO/kernel/guest-init" "$REPO/kernel/required-kconfig")
    TOOLS_DIR=$CACHE/tools-$tools_key
    local image_dir=$CACHE/image-$image_key
    [ -d "$TOOLS_DIR" ] || build_tools "$TOOLS_DIR"
    [ -d "$image_dir" ] || build_image "$image_dir"
    for f in rootfs.ext4 vmlinuz initrd.img kconfig versions.txt vmlinux.h kernel-release; do
        [ -s "$image_dir/$f" ] || die "image cache $image_dir lacks $f; remove that folder and rerun make setup"
    done
    check_kconfig "$image_dir/kconfig" "$(cat "$image_dir/kernel-release")"
    # Only a setup that succeeded points build/setup.env at what it built.
    write_env "$TOOLS_DIR" "$image_dir"
    say "ready in $((SECONDS - t0)) s: tools $TOOLS_DIR, image $image_dir (kernel $(cat "$image_dir/kernel-release"))"
}

write_env() {
    cat > "$REPO/build/setup.env.tmp.$$" <<ENV
# Written by kernel/setup.sh; do not edit.
SCXLAB_CACHE=$CACHE
TOOLS_ROOT=$1/root
IMAGE_DIR=$2
ENV
    mv "$REPO/build/setup.env.tmp.$$" "$REPO/build/setup.env"
}

main "$@"
