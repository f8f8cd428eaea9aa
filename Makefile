# hostprep — build, test, install, deps, demo, bench.
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
UNITDIR ?= /lib/systemd/system
SYSCONFDIR ?= /etc
# bash-completion's own directory (completions load on demand from there).
COMPLETIONSDIR ?= $(or $(shell pkg-config --variable=completionsdir bash-completion 2>/dev/null),$(PREFIX)/share/bash-completion/completions)
DESTDIR ?=

PKGS := inih libpci libudev libkmod libnl-3.0 libnl-genl-3.0 json-c
CC ?= cc
CFLAGS ?= -O2 -g
WARN := -std=c11 -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-format-nonliteral -Wstrict-prototypes
HARDEN := -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fstack-clash-protection -fPIE -fcf-protection
ifeq ($(SANITIZE),1)
  HARDEN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
  SANLDFLAGS := -fsanitize=address,undefined
endif
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# libkmod is dlopen()ed on first use (agent/libkmod-lazy.c), not linked.
PKG_LIBS = $(shell pkg-config --libs $(filter-out libkmod,$(PKGS)) 2>/dev/null)
ALL_CFLAGS = $(WARN) $(HARDEN) -D_GNU_SOURCE -Iagent -Imodules $(PKG_CFLAGS) $(CFLAGS)
ALL_LDFLAGS = -pie -Wl,-z,relro,-z,now $(SANLDFLAGS) $(LDFLAGS)

BUILD := build$(if $(filter 1,$(SANITIZE)),-san)
CORE_SRC := $(filter-out agent/main.c,$(wildcard agent/*.c)) $(wildcard modules/*.c)
CORE_OBJ := $(CORE_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC := $(wildcard tests/unit/test-*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
KMODEL := $(BUILD)/tests/libkmodel.so

# Debian packages that building and testing need (the VM suite's list is its own file).
DEB_DEPS := build-essential pkg-config libinih-dev libpci-dev libudev-dev libkmod-dev \
	libnl-3-dev libnl-genl-3-dev libjson-c-dev libcmocka-dev util-linux busybox-static jq time bc \
	$(shell cat tests/vm/deps.txt 2>/dev/null)
# PCI names in reports (libpci reads pci.ids); lspci cross-checks the fake PCI trees.
DEB_DEPS += pci.ids pciutils
# Man page lint (mandoc -T lint), bash completion (installed and driven by a test).
DEB_DEPS += mandoc bash-completion
# make bench: system call counts, instruction counts, the big-host generator (add-nics.sh).
DEB_DEPS += strace valgrind python3

.PHONY: FORCE all deps check check-unit check-scenario check-vm demo bench install clean
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
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(ALL_LDFLAGS) $(PKG_LIBS) $(shell pkg-config --libs cmocka)

$(KMODEL): $(wildcard tests/fakehost/kmodel*.c tests/fakehost/kmodel.h)
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -O2 -fPIC -shared -o $@ $(filter %.c,$^) -ldl

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

check-all: hostprep $(UNIT_BIN) $(KMODEL)
	@tests/run-all.sh $(BUILD)

check-unit: hostprep $(UNIT_BIN)
	@tests/run-all.sh $(BUILD) unit

check-scenario: hostprep $(KMODEL)
	@tests/run-all.sh $(BUILD) scenario

check-vm: hostprep
	@tests/run-all.sh $(BUILD) vm

demo: deps
	$(MAKE) hostprep $(KMODEL)
	@tests/demo.sh

# Under callgrind only: valgrind 3.19 lacks openat2 (tests/bench/valgrind-openat2.c).
BENCH_SHIM := $(BUILD)/tests/valgrind-openat2.so
$(BENCH_SHIM): tests/bench/valgrind-openat2.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -Wall -Wextra -Werror -O2 -fPIC -shared -o $@ $< -ldl

bench: deps
	$(MAKE) hostprep $(KMODEL) $(BENCH_SHIM)
	@HOSTPREP=$(CURDIR)/$(BUILD)/hostprep KMODEL=$(CURDIR)/$(KMODEL) VALGRIND_SHIM=$(CURDIR)/$(BENCH_SHIM) tests/bench/run.sh

install: hostprep
	install -D -m 0755 hostprep $(DESTDIR)$(SBINDIR)/hostprep
	install -d -m 0755 $(DESTDIR)$(UNITDIR)
	for u in units/*; do sed 's|/usr/local/sbin/|$(SBINDIR)/|' $$u > $(DESTDIR)$(UNITDIR)/$$(basename $$u); done
	install -D -m 0644 agent/hostprep.8 $(DESTDIR)$(MANDIR)/man8/hostprep.8
	install -D -m 0644 agent/hostprep.ini.5 $(DESTDIR)$(MANDIR)/man5/hostprep.ini.5
	install -D -m 0644 agent/hostprep.bash-completion $(DESTDIR)$(COMPLETIONSDIR)/hostprep
	install -d -m 0755 $(DESTDIR)$(SYSCONFDIR)/hostprep
	for c in conf/*.ini; do install -D -m 0644 $$c $(DESTDIR)$(PREFIX)/share/hostprep/examples/$$(basename $$c); done

clean:
	rm -rf build build-san hostprep
