# Inner build: runs inside the toolchain root (kernel/tools-exec make -f build.mk), never on
# the host directly. Everything lands under build/. Policies and tests are found by folder:
# a new schedulers/<name>/ with <name>.bpf.c and <name>.c builds with no edit here.
include build/setup.env

B := build
CC := gcc
CLANG := clang
BPFTOOL := bpftool
CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror=implicit-function-declaration -Wno-unused-parameter \
          -D_GNU_SOURCE -Irunners/common -Ischedulers/include -Ischedulers/lib
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_x86 -I$(IMAGE_DIR) -Ischedulers/include -Wall \
          -Wno-missing-declarations -Wno-unused-function
LOADER_LIBS := -lbpf -lelf -lz -ljansson

COMMON_SRC := $(wildcard runners/common/*.c)
COMMON_OBJ := $(patsubst %.c,$(B)/%.o,$(COMMON_SRC))
LOADER_LIB_SRC := $(wildcard schedulers/lib/*.c)
LOADER_LIB_OBJ := $(patsubst %.c,$(B)/%.o,$(LOADER_LIB_SRC))

# a policy folder counts once it has both its BPF side and its loader
SCHED_DIRS := $(foreach d,$(filter-out lib include,$(notdir $(patsubst %/,%,$(wildcard schedulers/*/)))),\
	$(if $(and $(wildcard schedulers/$(d)/$(d).c),$(wildcard schedulers/$(d)/$(d).bpf.c)),$(d)))
POLICY_BINS := $(foreach p,$(SCHED_DIRS),$(B)/schedulers/$(p)/$(p))

# Workload helpers written in C (workloads/<name>/*.c), built static so that they also run in
# a nested guest's initramfs; the host runner ships build/workloads/<name>/ with the job.
WORKLOAD_SRC := $(wildcard workloads/*/*.c)
WORKLOAD_BINS := $(patsubst %.c,$(B)/%,$(WORKLOAD_SRC))

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(B)/tests/%,$(UNIT_SRC))

all: $(B)/runners/scxlab $(B)/runners/scxlab-guest $(POLICY_BINS) $(WORKLOAD_BINS) $(UNIT_BINS) $(B)/tools/pair-check \
	$(B)/kernel/initramfs.img
.PHONY: all unit-tests
.SECONDARY:

$(B)/%.o: %.c $(wildcard runners/*/*.h schedulers/lib/*.h schedulers/include/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

HOST_OBJ := $(patsubst %.c,$(B)/%.o,$(wildcard runners/host/*.c))
$(B)/runners/scxlab: $(HOST_OBJ) $(COMMON_OBJ)
	$(CC) $^ -o $@ -linih -ljansson -lm
# the guest agent: every runners/guest/*.c (and runners/common); never host code
GUEST_OBJ := $(patsubst %.c,$(B)/%.o,$(wildcard runners/guest/*.c))
$(B)/runners/scxlab-guest: $(GUEST_OBJ) $(COMMON_OBJ)
	$(CC) $^ -o $@ -linih -ljansson -lm

# BPF object -> libbpf skeleton -> loader linked with the shared loader library.
$(B)/schedulers/%.bpf.o: schedulers/%.bpf.c $(wildcard schedulers/include/*.h schedulers/*/*.h) $(IMAGE_DIR)/vmlinux.h
	@mkdir -p $(dir $@)
	$(CLANG) $(BPF_CFLAGS) -I$(dir $<) -c $< -o $@
$(B)/schedulers/%.skel.h: $(B)/schedulers/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $(notdir $*) > $@
define POLICY_RULE
$(B)/schedulers/$(1)/$(1).o: schedulers/$(1)/$(1).c $(B)/schedulers/$(1)/$(1).skel.h $(wildcard schedulers/lib/*.h schedulers/include/*.h schedulers/$(1)/*.h schedulers/$(1)/*.json)
	@mkdir -p $$(dir $$@)
	$(CC) $(CFLAGS) -I$(B)/schedulers/$(1) -Ischedulers/$(1) -c $$< -o $$@
$(B)/schedulers/$(1)/$(1): $(B)/schedulers/$(1)/$(1).o $(LOADER_LIB_OBJ)
	$(CC) $$^ -o $$@ $(LOADER_LIBS)
endef
$(foreach p,$(SCHED_DIRS),$(eval $(call POLICY_RULE,$(p))))

$(B)/workloads/%: workloads/%.c $(wildcard workloads/*/*.h)
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -Wall -Wextra -D_GNU_SOURCE -static $< -o $@ -lm
# the vm workload's KVM check is the host runner's probe (runners/common/kvmprobe.c), built alone
$(B)/workloads/vm/kvmcheck: workloads/vm/kvmcheck.c runners/common/kvmprobe.c runners/common/kvmprobe.h
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -Wall -Wextra -D_GNU_SOURCE -Irunners/common -static $(filter %.c,$^) -o $@

# scxlab's initramfs (kernel/initramfs/): its /init and the image's own virtio_blk module, the one
# driver the guest kernel needs to reach its root filesystem that is not built in. [vm] initrd =
# scxlab boots with it; the image's Debian initrd stays beside it for initrd = image.
# (/init includes the few runners/common headers it shares with the host: the snapshot flag,
# the console event it prints, the tar header check)
$(B)/kernel/initramfs/%: kernel/initramfs/%.c runners/common/protocol.h runners/common/snapshot.h runners/common/tarhdr.h
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -Wall -Wextra -D_GNU_SOURCE -Irunners/common -static $< -o $@
$(B)/kernel/virtio_blk.ko.xz: $(IMAGE_DIR)/rootfs.ext4 $(IMAGE_DIR)/kernel-release
	@mkdir -p $(dir $@)
	rm -f $@.tmp
	debugfs -R "dump /lib/modules/$$(cat $(IMAGE_DIR)/kernel-release)/kernel/drivers/block/virtio_blk.ko.xz $@.tmp" \
		$(IMAGE_DIR)/rootfs.ext4 2>/dev/null
	@test -s $@.tmp || { echo "the image $(IMAGE_DIR) has no virtio_blk.ko.xz for its kernel" >&2; exit 1; }
	mv $@.tmp $@
$(B)/kernel/initramfs.img: $(B)/kernel/initramfs/pack $(B)/kernel/initramfs/init $(B)/kernel/virtio_blk.ko.xz
	$(B)/kernel/initramfs/pack $@ $(B)/kernel/initramfs/init $(B)/kernel/virtio_blk.ko.xz

# pair's independent invariant check: reads a sched_switch trace and a task -> cgroup list
$(B)/tools/pair-check: tools/pair-check/pair-check.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -Wall -Wextra -D_GNU_SOURCE $< -o $@ -ljansson

# Unit tests (cmocka): each tests/unit/test_X.c links with the runner's common code and the
# loader library, so what they test is the code the runners run.
$(B)/tests/%: tests/unit/%.c $(COMMON_OBJ) $(LOADER_LIB_OBJ) $(wildcard schedulers/*/*.h tools/*/*.h workloads/*/*.h tests/unit/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(filter %.c %.o,$^) -o $@ -lcmocka -linih -ljansson -lm $(LOADER_LIBS)

# tests/unit/test_guest_*.c test the agent's own tables: they also link its modules but main.c
$(B)/tests/test_guest_%: tests/unit/test_guest_%.c $(filter-out %/main.o,$(GUEST_OBJ)) $(COMMON_OBJ) $(wildcard tests/unit/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Irunners/guest $(filter %.c %.o,$^) -o $@ -lcmocka -linih -ljansson -lm

unit-tests: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done
