# hostprep — build, test, install, deps, demo, bench.
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
# Where systemd looks for system units (systemd.pc); override with UNITDIR=.
UNITDIR ?= $(or $(shell pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null),/lib/systemd/system)
SYSCONFDIR ?= /etc
# bash-completion's own directory (completions load on demand from there).
COMPLETIONSDIR ?= $(or $(shell pkg-config --variable=completionsdir bash-completion 2>/dev/null),$(PREFIX)/share/bash-completion/completions)
DESTDIR ?=

PKGS := inih libpci libudev libkmod libnl-3.0 libnl-genl-3.0 libnl-route-3.0 json-c
CC ?= cc
CFLAGS ?= -O2 -g
# Warnings are errors in development builds; a distribution build sets WERROR=0
# (a newer compiler's new warning must not break a package build).
WERROR ?= 1
WARN := -std=c11 -Wall -Wextra $(if $(filter 1,$(WERROR)),-Werror) -Wshadow -Wformat=2 -Wno-format-nonliteral \
	-Wstrict-prototypes
# _FORTIFY_SOURCE=3 (gcc 12) unless the caller's CPPFLAGS/CFLAGS choose a level (dpkg-buildflags do).
FORTIFY := $(if $(findstring _FORTIFY_SOURCE,$(CPPFLAGS) $(CFLAGS)),,-U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=3)
HARDEN := $(FORTIFY) -fstack-protector-strong -fstack-clash-protection -fPIE -fcf-protection
ifeq ($(SANITIZE),1)
  HARDEN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
  SANLDFLAGS := -fsanitize=address,undefined
endif
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# libkmod and libnl are dlopen()ed on first use (agent/libkmod-lazy.c,
# agent/libnl-lazy.c), not linked.
NL_PKGS := libnl-3.0 libnl-genl-3.0 libnl-route-3.0
PKG_LIBS = $(shell pkg-config --libs $(filter-out libkmod $(NL_PKGS),$(PKGS)) 2>/dev/null)
# The shim is in libhostprep.a: the other unit tests and the fuzz targets use it
# alone.  test-vdpa-nl builds and parses messages with libnl calls of its own,
# which the shim does not forward: it links libnl too, and keeps the shim's forwarders
# out of its dynamic symbol table (--exclude-libs), so that libnl's calls to
# itself stay inside libnl.  The forwarders' dlopen() finds the copy already
# loaded, and a handle's dlsym() never searches the executable: no loop.
NL_LIBS = $(shell pkg-config --libs $(NL_PKGS) 2>/dev/null)
ALL_CFLAGS = $(WARN) $(HARDEN) -D_GNU_SOURCE -Iagent -Imodules $(PKG_CFLAGS) $(CPPFLAGS) $(CFLAGS)
ALL_LDFLAGS = -pie -Wl,-z,relro,-z,now $(SANLDFLAGS) $(LDFLAGS)

BUILD := build$(if $(filter 1,$(SANITIZE)),-san)
CORE_SRC := $(filter-out agent/main.c,$(wildcard agent/*.c)) $(wildcard modules/*.c)
CORE_OBJ := $(CORE_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC := $(wildcard tests/unit/test-*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
KMODEL := $(BUILD)/tests/libkmodel.so

# libFuzzer targets (tests/fuzz/fuzz-NAME.c), built by clang with ASan+UBSan
# into build-fuzz/.  make fuzz runs each for FUZZ_SECONDS; make check for
# FUZZ_CHECK_SECONDS (tests/fuzz/run.sh prints executions per target).
FUZZ_CC ?= clang
FUZZ_BUILD := build-fuzz
FUZZ_SECONDS ?= 300
FUZZ_CHECK_SECONDS ?= 10
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS = -std=c11 -g -O1 $(FUZZ_SAN) -fsanitize=fuzzer-no-link -D_GNU_SOURCE -Iagent -Imodules -Itests/fuzz \
	$(PKG_CFLAGS)
FUZZ_OBJ := $(CORE_SRC:%.c=$(FUZZ_BUILD)/%.o)
FUZZ_BIN := $(patsubst tests/fuzz/%.c,$(FUZZ_BUILD)/%,$(wildcard tests/fuzz/fuzz-*.c))

# Debian packages that building and testing need (the VM suite's list is its own file).
DEB_DEPS := build-essential pkg-config libinih-dev libpci-dev libudev-dev libkmod-dev \
	libnl-3-dev libnl-genl-3-dev libnl-route-3-dev libjson-c-dev libcmocka-dev util-linux busybox-static jq time bc \
	strace clang libclang-rt-14-dev cppcheck clang-tidy valgrind \
	$(shell cat tests/vm/deps.txt 2>/dev/null) $(shell grep -v '^\#' tests/boot/deps.txt 2>/dev/null)
# PCI names in reports (libpci reads pci.ids); lspci cross-checks the fake PCI trees.
DEB_DEPS += pci.ids pciutils
# Man page lint (mandoc -T lint), bash completion (installed and driven by a test).
DEB_DEPS += mandoc bash-completion
# Root containment, fault and crash matrices, make bench: syscall tracing and
# injection; the trace checkers and the big-host generator are Debian-python scripts.
DEB_DEPS += strace python3
# The JSON contract (python3-jsonschema under /usr/bin/python3), the Ansible role
# (ansible-core runs it, ansible's ansible.posix.json callback reports it,
# ansible-lint checks it) and the Prometheus export (promtool).
DEB_DEPS += python3-jsonschema ansible-core ansible ansible-lint prometheus

.PHONY: FORCE all deps check check-unit check-scenario check-matrix check-ansible check-vm check-fuzz check-lint check-sanitize \
	check-valgrind check-boot fuzz lint demo bench install uninstall clean
all: hostprep

$(BUILD)/%.o: %.c $(wildcard agent/*.h agent/uapi/*.h modules/*.h) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/libhostprep.a: $(CORE_OBJ)
	ar rcs $@ $^

$(BUILD)/hostprep: $(BUILD)/agent/main.o $(BUILD)/libhostprep.a
	$(CC) -o $@ $^ $(ALL_LDFLAGS) $(PKG_LIBS)

# ./hostprep follows the last build, plain or SANITIZE=1.
hostprep: $(BUILD)/hostprep FORCE
	@cmp -s $< $@ || cp $< $@
FORCE:

$(BUILD)/tests/test-%: tests/unit/test-%.c $(BUILD)/libhostprep.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(ALL_LDFLAGS) $(PKG_LIBS) $(UNIT_LIBS) $(shell pkg-config --libs cmocka)
$(BUILD)/tests/test-vdpa-nl: UNIT_LIBS = -Wl,--exclude-libs,libhostprep.a $(NL_LIBS)

$(KMODEL): $(wildcard tests/fakehost/kmodel*.c tests/fakehost/kmodel.h)
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -Wall -Wextra $(if $(filter 1,$(WERROR)),-Werror) -D_GNU_SOURCE -O2 -fPIC -shared -o $@ \
		$(filter %.c,$^) -ldl

$(FUZZ_BUILD)/%.o: %.c $(wildcard agent/*.h agent/uapi/*.h modules/*.h) Makefile
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_BUILD)/libhostprep.a: $(FUZZ_OBJ)
	ar rcs $@ $^

$(FUZZ_BUILD)/fuzz-%: tests/fuzz/fuzz-%.c tests/fuzz/fuzz.h $(FUZZ_BUILD)/libhostprep.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_BUILD)/libhostprep.a $(PKG_LIBS)

# Installs what is missing (as root); a no-op when everything is there.
deps:
	@missing=$$(for p in $(DEB_DEPS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" != 0 ]; then echo "missing packages: $$missing (run make deps as root)"; exit 1; fi; \
		echo "installing: $$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

check: deps
	$(MAKE) check-all

# Everything: the plain build, the ASan+UBSan build (build-san) and the fuzz
# targets (build-fuzz) are made first, then tests/run-all.sh runs every part.
# valgrind 3.19 (Debian 12) lacks openat2: a test-only shim (tests/bench/valgrind-openat2.c).
VALGRIND_SHIM := $(BUILD)/tests/valgrind-openat2.so
$(VALGRIND_SHIM): tests/bench/valgrind-openat2.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -Wall -Wextra -Werror -O2 -fPIC -shared -o $@ $< -ldl

check-all: hostprep $(UNIT_BIN) $(KMODEL) $(FUZZ_BIN) $(VALGRIND_SHIM)
	$(MAKE) SANITIZE=1 build-san/hostprep $(UNIT_BIN:$(BUILD)/%=build-san/%) build-san/tests/libkmodel.so
	@tests/run-all.sh $(BUILD)

check-unit: hostprep $(UNIT_BIN)
	@tests/run-all.sh $(BUILD) unit

check-scenario: hostprep $(KMODEL)
	@tests/run-all.sh $(BUILD) scenario

# Fault and crash matrices (tests/fault/matrix.py): a bounded sample of the fault matrix and the
# whole crash matrix by default; FAULT_BUDGET=all for the whole fault matrix (~2,300 runs: about
# 20 minutes on two idle cores), FAULT_BUDGET=N / CRASH_BUDGET=N for N runs, MATRIX_SEED=N for
# another sample, MATRIX_JOBS=N parallel runs (default 2).
export FAULT_BUDGET CRASH_BUDGET MATRIX_SEED MATRIX_JOBS
check-matrix: hostprep $(KMODEL)
	@tests/run-all.sh $(BUILD) matrix

check-ansible: hostprep $(KMODEL)
	@tests/run-all.sh $(BUILD) ansible

check-vm: hostprep
	@tests/run-all.sh $(BUILD) vm

# Every fuzz target for FUZZ_SECONDS, from its seeds (tests/fuzz/seeds/NAME)
# and what earlier runs found (build-fuzz/corpus/NAME).
fuzz: deps
	$(MAKE) $(FUZZ_BIN)
	@tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

check-fuzz: $(FUZZ_BIN)
	@tests/run-all.sh $(BUILD) fuzz

# cppcheck + clang-tidy with the checked-in configuration (.clang-tidy, tests/lint/).
lint check-lint:
	@tests/run-all.sh $(BUILD) lint

check-sanitize:
	$(MAKE) SANITIZE=1 build-san/hostprep $(UNIT_BIN:$(BUILD)/%=build-san/%) build-san/tests/libkmodel.so
	@tests/run-all.sh $(BUILD) sanitize

# VALGRIND_EVERY=1: valgrind on every hostprep run of the scenarios (default: every 3rd).
check-valgrind: hostprep $(KMODEL) $(VALGRIND_SHIM)
	@tests/run-all.sh $(BUILD) valgrind
# The first-boot path under systemd (tests/boot): a Debian root booted under QEMU.
check-boot: hostprep
	@tests/run-all.sh $(BUILD) boot

demo: deps
	$(MAKE) hostprep $(KMODEL)
	@tests/demo.sh

bench: deps
	$(MAKE) hostprep $(KMODEL) $(VALGRIND_SHIM)
	@HOSTPREP=$(CURDIR)/$(BUILD)/hostprep KMODEL=$(CURDIR)/$(KMODEL) VALGRIND_SHIM=$(CURDIR)/$(VALGRIND_SHIM) tests/bench/run.sh

UNITS := $(wildcard units/*.service units/*.target)

install: hostprep
	install -D -m 0755 hostprep $(DESTDIR)$(SBINDIR)/hostprep
	install -d -m 0755 $(DESTDIR)$(UNITDIR)
	for u in $(UNITS); do sed 's|/usr/local/sbin/|$(SBINDIR)/|' $$u > $(DESTDIR)$(UNITDIR)/$$(basename $$u) && \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$$(basename $$u) || exit 1; done
	install -D -m 0644 agent/hostprep.8 $(DESTDIR)$(MANDIR)/man8/hostprep.8
	install -D -m 0644 agent/hostprep.ini.5 $(DESTDIR)$(MANDIR)/man5/hostprep.ini.5
	install -D -m 0644 agent/hostprep.bash-completion $(DESTDIR)$(COMPLETIONSDIR)/hostprep
	install -d -m 0755 $(DESTDIR)$(SYSCONFDIR)/hostprep
	for c in conf/*.ini; do install -D -m 0644 $$c $(DESTDIR)$(PREFIX)/share/hostprep/examples/$$(basename $$c); done
	install -D -m 0644 agent/hostprep.schema.json $(DESTDIR)$(PREFIX)/share/hostprep/hostprep.schema.json
	cd conf && find ansible -type f -exec install -D -m 0644 {} $(DESTDIR)$(PREFIX)/share/hostprep/examples/{} \;

# Removes what install put in place; the profile under $(SYSCONFDIR)/hostprep and the
# records under /var/lib/hostprep stay (they are the host's).  Disable the units first.
uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/hostprep
	for u in $(UNITS); do rm -f $(DESTDIR)$(UNITDIR)/$$(basename $$u); done
	rm -f $(DESTDIR)$(MANDIR)/man8/hostprep.8 $(DESTDIR)$(MANDIR)/man5/hostprep.ini.5
	rm -f $(DESTDIR)$(COMPLETIONSDIR)/hostprep
	rm -rf $(DESTDIR)$(PREFIX)/share/hostprep/examples
	rm -f $(DESTDIR)$(PREFIX)/share/hostprep/hostprep.schema.json
	-rmdir $(DESTDIR)$(PREFIX)/share/hostprep 2>/dev/null

clean:
	rm -rf build build-san build-fuzz hostprep
