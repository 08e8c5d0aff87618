#!/bin/bash
# Boot the nested guest: QEMU (TCG, one host thread per vCPU) running vmbench as its kernel
# (see vmbench.c: a bare-metal CPU-bound loop per vCPU, no Linux inside). Its serial console
# is stamped with the outer clock by vmprogress into nested-console.log, the raw record every
# metric comes from. Returns once the nested guest reports progress (its boot is not
# measured, and happens before the policy is loaded, so under the fair class for every
# policy), or after WL_BOOT_WAIT seconds (the client then waits on).
# With WL_NEIGHBOURS > 0 a CPU hog (stress-ng) of that many processes runs beside QEMU in
# its own cgroup, started after the boot.
set -euo pipefail
prefix=/tmp/scxlab-vm
bin=$SCXLAB_WORKLOAD_DIR/bin
die() { echo "vm start: $*" >&2; exit 1; }
for n in VCPUS MEMORY_MB NEIGHBOURS PERIOD_MS BOOT_WAIT; do
    v=WL_$n
    [[ ${!v-} =~ ^[0-9]+$ ]] || die "param ${n,,} = '${!v-}' is not a non-negative integer (configs/workloads/vm*.ini)"
done
[ "$WL_VCPUS" -ge 1 ] && [ "$WL_VCPUS" -le 16 ] || die "param vcpus = $WL_VCPUS: vmbench runs 1 to 16 vCPUs"
[ "$WL_PERIOD_MS" -ge 10 ] && [ "$WL_PERIOD_MS" -le 10000 ] || die "param period_ms = $WL_PERIOD_MS: must be 10..10000"
[ -x "$bin/vmbench" ] && [ -x "$bin/vmprogress" ] && [ -x "$bin/kvmcheck" ] || die "helpers missing in $bin (run 'make build')"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 is not in the guest image (kernel/image.packages)"

rm -rf "$prefix"; mkdir -p "$prefix"
# The nested accelerator (param nested_accel, recorded in the manifest with the other params):
#   kvm  the vCPU threads run KVM_RUN on the guest's /dev/kvm (under TCG the outer QEMU emulates
#        AMD SVM, so kvm_amd loads; on a KVM host it needs nested virtualization). What a policy
#        schedules is then what it schedules on a real VM host.
#   tcg  QEMU's emulator inside the emulated guest: every nested instruction translated twice.
# tb-size: the translation cache, kept small because the outer guest has little memory.
case ${WL_NESTED_ACCEL:-} in
kvm)
    if [ ! -e /dev/kvm ]; then
        modprobe kvm_amd 2>/dev/null || modprobe kvm_intel 2>/dev/null || true
    fi
    verdict=$("$bin/kvmcheck") || die "nested_accel = kvm, but this guest's KVM cannot run the nested VM: \
${verdict#*: }. Use PARAMS=nested_accel=tcg, or give the guest nested virtualization"
    echo "nested accelerator: kvm ($verdict)"
    accel=(-accel kvm -cpu host) ;;
tcg)
    accel=(-accel "tcg,thread=multi,tb-size=32" -cpu max) ;;
*) die "param nested_accel = '${WL_NESTED_ACCEL:-}': choose kvm or tcg (configs/workloads/vm*.ini)" ;;
esac
# debug-threads: QEMU names its vCPU threads ("CPU n/TCG", "CPU n/KVM") only then; vmprogress
# finds them so.
qemu=(qemu-system-x86_64 -name "vmbench,debug-threads=on" -nodefaults -no-user-config -display none -no-reboot
      "${accel[@]}" -smp "$WL_VCPUS" -m "$WL_MEMORY_MB"
      -kernel "$bin/vmbench" -append "vmb.cpus=$WL_VCPUS vmb.period_ms=$WL_PERIOD_MS"
      -serial stdio -pidfile "$prefix/qemu.pid")
echo "${qemu[*]}" | tee "$SCXLAB_OUT/nested-qemu-command.txt"
log=$prefix/nested-console.log
setsid bash -c '"$@" < /dev/null 2>&1 | "$0" stamp' "$bin/vmprogress" "${qemu[@]}" > "$log" &
pipeline=$!

t0=$SECONDS
until grep -q ' VMB 0 ' "$log"; do
    if grep -q ' VMB error' "$log"; then
        cat "$log" >&2
        die "the nested guest failed to start"
    fi
    if ! kill -0 "$pipeline" 2>/dev/null; then
        tail -n 20 "$log" >&2
        die "the nested QEMU exited before its guest reported progress"
    fi
    if [ $((SECONDS - t0)) -ge "$WL_BOOT_WAIT" ]; then
        echo "nested guest still booting after $WL_BOOT_WAIT s; the client waits for it"
        break
    fi
    sleep 1
done
echo "nested guest reporting after $((SECONDS - t0)) s (QEMU pid $(cat "$prefix/qemu.pid"))"

if [ "$WL_NEIGHBOURS" -gt 0 ]; then
    cg=/sys/fs/cgroup/scxlab-vm-neighbour
    mkdir -p "$cg"
    setsid sh -c 'echo $$ > "$0/cgroup.procs" && exec stress-ng --cpu "$1" --cpu-method int64 --quiet' \
        "$cg" "$WL_NEIGHBOURS" > "$prefix/neighbour.log" 2>&1 &
    echo "noisy neighbour: stress-ng --cpu $WL_NEIGHBOURS in $cg"
fi
