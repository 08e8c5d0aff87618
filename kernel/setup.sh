#!/bin/bash
# scxlab setup: host packages, the toolchain root and the sched_ext guest image.
#
# Both roots are built with mmdebstrap from Debian trixie (+ trixie-backports for the kernel)
# and cached under $SCXLAB_CACHE, keyed by a hash of their recipe (the package lists, the exact
# versions in kernel/tools.lock and kernel/image.lock, the guest's PID 1, the required kernel
# options and the recipe version below). A rerun whose recipe did not change only checks the
# cache and rewrites build/setup.env, in seconds.
#
# Versions are locked where the mirror allows and recorded always: a root is built with the
# locked versions; when the mirror no longer serves one (it keeps only the current version of
# each package in a suite), the root is built with what it serves, setup says so, and the
# differences go to lock-deviations.txt beside it, which every result's manifest records.
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
HOST_PACKAGES="mmdebstrap e2fsprogs util-linux zstd python3-numpy python3-scipy python3-matplotlib python3-pytest python3-pytest-xdist python3-jsonschema"
# TARGET=host (make setup TARGET=host): what runs on this machine's own sched_ext kernel instead of the guest's:
# the workloads' programs ([workload] programs in configs/workloads/), perf for the perf-stat monitor, and the
# libraries the runner, the agent and the loaders (built in the trixie toolchain root) link. Perf is linux-perf
# on Debian and the kernel's linux-tools on Ubuntu.
HOST_TARGET_PACKAGES="nginx wrk apache2 rt-tests stress-ng jq libbpf1 libjansson4 libinih1 libelf1 zlib1g"
# EXECUTOR=slurm (make setup EXECUTOR=slurm): sweeps as SLURM job arrays need sbatch here, and a node runs slurmd
# and munged; only installed when asked (the daemons are configured by whoever runs the cluster, not here).
case ${EXECUTOR:-local} in
    local) ;;
    slurm) HOST_PACKAGES+=" slurm-wlm munge" ;;
    *) printf "setup: error: unknown EXECUTOR '%s'; choose from: local slurm\n" "$EXECUTOR" >&2; exit 2 ;;
esac

# A folder being built; a setup that fails leaves none behind.
PENDING=
trap '[ -z "$PENDING" ] || rm -rf "$PENDING"' EXIT

say() { printf '[setup] %s\n' "$*" >&2; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (mmdebstrap, chroot and mkfs need it); try: sudo make setup"

packages_of() { sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$1" | tr -s ' \t\n' ',' | sed 's/,$//'; }
# Lock lines: "package version [suite]".
lock_entries() { sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$1"; }
# The package list with every locked package at its locked version (pkg=version). A package
# locked with a suite (backports) is asked for as pkg/suite instead: apt then takes its
# dependencies from that suite too, which pkg=version does not; the version is checked after
# the build like every other.
pinned_packages_of() {
    local list=$1 lock=$2 p name ver suite out=()
    for p in $(sed -e 's/#.*//' "$list"); do
        name=${p%%/*}
        grep -q "^$name " <(lock_entries "$lock") || out+=("$p")
    done
    while read -r name ver suite; do
        if [ -n "$suite" ]; then out+=("$name/$suite"); else out+=("$name=$ver"); fi
    done < <(lock_entries "$lock")
    local IFS=,
    echo "${out[*]}"
}
# Lines "package: locked X, built Y" for each locked package the built root does not have at its
# locked version (versions.txt: package<TAB>version).
lock_deviations() {
    local lock=$1 versions=$2 name ver suite got
    while read -r name ver suite; do
        got=$(awk -F'\t' -v p="$name" '$1 == p {print $2}' "$versions")
        [ "$got" = "$ver" ] || echo "$name: locked $ver, built ${got:-(not installed)}"
    done < <(lock_entries "$lock")
}
# mmdebstrap into ROOT with the locked versions; if the mirror lacks one, again with the mirror's.
debstrap_locked() {
    local what=$1 list=$2 lock=$3 root=$4
    shift 4
    if mmdebstrap --include="$(pinned_packages_of "$list" "$lock")" "$@" "$root" "${SOURCES[@]}"; then
        return 0
    fi
    say "WARNING: the $what could not be built with the versions in $(basename "$lock") (the mirror may have moved on);"
    say "building it with the mirror's current versions; the differences are recorded in lock-deviations.txt"
    rm -rf "$root"
    mmdebstrap --include="$(packages_of "$list")" "$@" "$root" "${SOURCES[@]}"
}
recipe_key() { { echo "$1"; shift; cat "$@"; } | sha256sum | cut -c1-16; }

install_host_packages() {
    local missing=() wanted=$HOST_PACKAGES
    case ${TARGET:-vm} in vm | host) ;; *) die "TARGET=$TARGET: choose vm (the default) or host" ;; esac
    if [ "${TARGET:-vm}" = host ]; then
        wanted="$wanted $HOST_TARGET_PACKAGES"
        # shellcheck source=/dev/null
        case $(. /etc/os-release && echo "${ID:-}") in
            ubuntu) wanted="$wanted linux-tools-common linux-tools-$(uname -r)" ;;
            debian) wanted="$wanted linux-perf" ;;
            *) die "make setup TARGET=host installs packages on Debian and Ubuntu only; on this system install what README's TARGET=host section lists" ;;
        esac
    fi
    for p in $wanted; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    say "installing host packages: ${missing[*]}"
    # another apt (a second checkout's setup, unattended upgrades) may hold dpkg's lock: wait for it, as long
    # as an install may take, instead of failing at once with "Could not get lock"
    apt-get -o DPkg::Lock::Timeout=600 update -qq || die "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" \
        || die "could not install host packages: ${missing[*]}"
}

build_tools() {
    local dir=$1 tmp=$1.tmp
    PENDING=$tmp
    rm -rf "$tmp"; mkdir -p "$tmp"
    say "building the toolchain root (trixie; about a minute, more on a slow mirror) in $dir"
    SOURCES=("deb $MIRROR trixie main")
    debstrap_locked "toolchain root" "$REPO/kernel/tools.packages" "$REPO/kernel/tools.lock" "$tmp/root" \
        --quiet --variant=apt --components=main \
        --aptopt='APT::Install-Recommends "false"' \
        --customize-hook='chroot "$1" dpkg-query -W -f="\${Package}\t\${Version}\n" > "$1/../versions.txt"' \
        trixie || die "mmdebstrap of the toolchain root failed"
    lock_deviations "$REPO/kernel/tools.lock" "$tmp/versions.txt" > "$tmp/lock-deviations.txt"
    mv "$tmp" "$dir"
    PENDING=
}

build_image() {
    local dir=$1 tmp=$1.tmp
    PENDING=$tmp
    rm -rf "$tmp"; mkdir -p "$tmp/debs"
    say "building the guest image (trixie + backports kernel; about a minute) in $dir"
    SOURCES=("deb $MIRROR trixie main" "deb $MIRROR trixie-backports main")
    debstrap_locked "guest image" "$REPO/kernel/image.packages" "$REPO/kernel/image.lock" "$tmp/root" \
        --quiet --variant=apt --components=main --skip=download/empty \
        --aptopt='APT::Install-Recommends "false"' \
        --customize-hook="install -m 0755 '$REPO/kernel/guest-init' \"\$1/sbin/scxlab-init\"" \
        --customize-hook='echo scxlab-guest > "$1/etc/hostname"; printf "127.0.0.1 localhost scxlab-guest\n" > "$1/etc/hosts"' \
        --customize-hook='chroot "$1" dpkg-query -W -f="\${Package}\t\${Version}\n" > "$1/../versions.txt"' \
        --customize-hook='mv "$1"/var/cache/apt/archives/*.deb "$1/../debs/"' \
        trixie || die "mmdebstrap of the guest image failed"

    lock_deviations "$REPO/kernel/image.lock" "$tmp/versions.txt" > "$tmp/lock-deviations.txt"
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
    tools_key=$(recipe_key "tools-$TOOLS_RECIPE_VERSION" "$REPO/kernel/tools.packages" "$REPO/kernel/tools.lock")
    image_key=$(recipe_key "image-$IMAGE_RECIPE_VERSION" "$REPO/kernel/image.packages" "$REPO/kernel/image.lock" \
        "$REPO/kernel/guest-init" "$REPO/kernel/required-kconfig")
    TOOLS_DIR=$CACHE/tools-$tools_key
    local image_dir=$CACHE/image-$image_key
    [ -d "$TOOLS_DIR" ] || build_tools "$TOOLS_DIR"
    [ -d "$image_dir" ] || build_image "$image_dir"
    for f in rootfs.ext4 vmlinuz initrd.img kconfig versions.txt vmlinux.h kernel-release; do
        [ -s "$image_dir/$f" ] || die "image cache $image_dir lacks $f; remove that folder and rerun make setup"
    done
    check_kconfig "$image_dir/kconfig" "$(cat "$image_dir/kernel-release")"
    local f
    for f in "$TOOLS_DIR/lock-deviations.txt" "$image_dir/lock-deviations.txt"; do
        [ -s "$f" ] || continue
        say "WARNING: $(dirname "$f") differs from its lock (recorded in every result's manifest):"
        while read -r line; do say "  $line"; done < "$f"
    done
    local kscx_dir
    kscx_dir=$(kscx_step "$tools_key" "$image_dir")
    # Only a setup that succeeded points build/setup.env at what it built.
    write_env "$TOOLS_DIR" "$image_dir" "$kscx_dir"
    say "ready in $((SECONDS - t0)) s: tools $TOOLS_DIR, image $image_dir (kernel $(cat "$image_dir/kernel-release"))"
}

# The kernel's example schedulers (policies with loader = kscx:NAME), built by kernel/kscx-build.sh
# in the toolchain root from Debian's linux-source package of the guest kernel's version, cached as
# kscx-<that version>-<hash of the build script and the toolchain key>. Here, in setup, because it
# downloads from the mirror (a 167 MB package) and depends only on the image and toolchain, like the
# roots; `make build` stays offline and fast. A failure (the mirror no longer serves the guest
# kernel's version: refused, never built from another tree) does not fail setup: the other
# policies do not need them; it is reported, KSCX_DIR stays empty, those policies are refused with
# a message pointing here, and the next setup tries again. Prints the folder, or nothing.
kscx_step() {
    local tools_key=$1 image_dir=$2 ver key dir
    ver=$("$REPO/kernel/kscx-build.sh" guest-version "$image_dir") || true
    if [ -z "$ver" ]; then
        say "WARNING: cannot tell the guest kernel's package version from $image_dir/versions.txt;" \
            "the kernel's example schedulers (kscx:) are not available"
        return 0
    fi
    key=$(recipe_key "kscx-$tools_key" "$REPO/kernel/kscx-build.sh")
    dir=$CACHE/kscx-$ver-$key
    if [ ! -d "$dir" ]; then
        PENDING=$dir.tmp
        say "building the kernel's example schedulers from linux-source $ver (a few minutes) in $dir"
        if ! SCXLAB_TOOLS_ROOT="$TOOLS_DIR/root" SCXLAB_CACHE="$CACHE" "$REPO/kernel/tools-exec" \
            "$REPO/kernel/kscx-build.sh" build "$image_dir" "$dir" "$MIRROR" >&2; then
            PENDING=
            say "WARNING: the kernel's example schedulers are not available (see the kscx error above);" \
                "policies with loader = kscx:NAME will be refused; every other policy works"
            return 0
        fi
        PENDING=
    fi
    say "kernel example schedulers: $(cat "$dir/package"): $(awk '$2 == "built" {printf "%s ", $1}' "$dir/built.txt")"
    echo "$dir"
}

write_env() {
    cat > "$REPO/build/setup.env.tmp.$$" <<ENV
# Written by kernel/setup.sh; do not edit.
SCXLAB_CACHE=$CACHE
TOOLS_ROOT=$1/root
IMAGE_DIR=$2
KSCX_DIR=$3
ENV
    mv "$REPO/build/setup.env.tmp.$$" "$REPO/build/setup.env"
}

main "$@"
