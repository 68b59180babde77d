# kmodpack — the two commands a new machine needs are `make demo` and `make test`.
# Both install the system packages they use first (apt-get or dnf).

PREFIX     ?= /usr/local
DESTDIR    ?=
BINDIR     ?= $(PREFIX)/bin
DATADIR    ?= $(PREFIX)/share/kmodpack
MANDIR     ?= $(PREFIX)/share/man/man1
MAN5DIR    ?= $(PREFIX)/share/man/man5
RPMCONFIGDIR ?= $(shell rpm --eval '%{_rpmconfigdir}' 2>/dev/null || echo /usr/lib/rpm)
CARGO      ?= cargo
TARGET_DIR ?= $(or $(CARGO_TARGET_DIR),target)
# Builds go through tests/support/cargo.sh: on Linux/glibc the binary is
# linked statically (rpm forks it once per packaged file; see the script),
# so it lands in target/<host triple>/release/.
CARGO_STATIC := CARGO=$(CARGO) bash tests/support/cargo.sh
BIN        := $(shell CARGO_TARGET_DIR=$(TARGET_DIR) bash tests/support/cargo.sh --bin-path)

.PHONY: all build toolchain system-deps demo-deps test demo bench fuzz install uninstall clean portable dist rpm corpus

all: build

# Says how to get Rust when there is none (instead of failing inside make).
toolchain:
	@CARGO=$(CARGO) bash tests/support/toolchain.sh

build: toolchain
	$(CARGO_STATIC) build --release --locked

# `make demo` installs only what the demo uses; `make test` the rest too.
demo-deps:
	@bash tests/support/system-deps.sh demo

system-deps:
	@bash tests/support/system-deps.sh test

test: toolchain system-deps
	bash tests/support/test.sh

# Every package of the DKMS corpus built by kmodpack and by DKMS, compared;
# prints the README's table (also in target/dkms-corpus.md). DKMS's results
# are cached per package version in the corpus cache.
corpus: toolchain system-deps
	bash tests/support/dkms-corpus.sh
	$(CARGO_STATIC) test --release --locked --test dkms_corpus -- --ignored --nocapture corpus_table

demo: toolchain demo-deps build
	bash tests/support/demo.sh

bench: toolchain system-deps build
	bash tests/support/bench.sh

# The portable binaries (static: no glibc needed at run time; EL7+, SLE 12+), the
# dist tarball and the kmodpack RPM built from it (tests/support/dist.sh).
portable: toolchain
	@bash tests/support/system-deps.sh dist
	bash tests/support/portable.sh

dist: portable
	bash tests/support/dist.sh tarball

rpm: dist
	bash tests/support/dist.sh rpm

fuzz:
	bash tests/support/fuzz.sh

clean:
	$(CARGO) clean

BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  ?= $(PREFIX)/share/zsh/site-functions
FISHCOMPDIR ?= $(PREFIX)/share/fish/vendor_completions.d
GEN         := $(TARGET_DIR)/generated

# Man pages and completions come from the clap definitions, so they never
# drift from --help.
$(GEN)/stamp: $(BIN)
	rm -rf $(GEN) && mkdir -p $(GEN)/man $(GEN)/completions
	$(BIN) generate man $(GEN)/man
	$(BIN) generate completions $(GEN)/completions
	touch $@

$(BIN):
	$(CARGO_STATIC) build --release --locked

install: $(BIN) $(GEN)/stamp
	install -D -m 0755 $(BIN) $(DESTDIR)$(BINDIR)/kmodpack
	install -d $(DESTDIR)$(DATADIR)/templates
	if [ -d templates ]; then cp -R templates/. $(DESTDIR)$(DATADIR)/templates/; fi
	install -d $(DESTDIR)$(MANDIR)
	install -m 0644 $(GEN)/man/*.1 $(DESTDIR)$(MANDIR)/
	install -D -m 0644 $(GEN)/man/kmodpack-description.5 $(DESTDIR)$(MAN5DIR)/kmodpack-description.5
	install -D -m 0644 $(GEN)/completions/kmodpack.bash $(DESTDIR)$(BASHCOMPDIR)/kmodpack
	install -D -m 0644 $(GEN)/completions/_kmodpack $(DESTDIR)$(ZSHCOMPDIR)/_kmodpack
	install -D -m 0644 $(GEN)/completions/kmodpack.fish $(DESTDIR)$(FISHCOMPDIR)/kmodpack.fish

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/kmodpack
	rm -rf $(DESTDIR)$(DATADIR)
	rm -f $(DESTDIR)$(MANDIR)/kmodpack.1 $(DESTDIR)$(MANDIR)/kmodpack-*.1 $(DESTDIR)$(MAN5DIR)/kmodpack-description.5
	rm -f $(DESTDIR)$(BASHCOMPDIR)/kmodpack $(DESTDIR)$(ZSHCOMPDIR)/_kmodpack $(DESTDIR)$(FISHCOMPDIR)/kmodpack.fish

# rpm integration of `kmodpack deps` (templates/rpm): the fileattrs class and
# the macros file go where rpm reads them (rpm's own config dir, not PREFIX;
# DESTDIR applies). Override RPMFILEATTRSDIR / RPMMACROSDIR for a staged tree.
RPMFILEATTRSDIR ?= $(RPMCONFIGDIR)/fileattrs
RPMMACROSDIR    ?= $(RPMCONFIGDIR)/macros.d

.PHONY: install-rpm-integration uninstall-rpm-integration
install: install-rpm-integration
uninstall: uninstall-rpm-integration

install-rpm-integration:
	install -d $(DESTDIR)$(RPMFILEATTRSDIR) $(DESTDIR)$(RPMMACROSDIR)
	sed 's|@KMODPACK@|$(BINDIR)/kmodpack|g' templates/rpm/kmodpack.attr > $(DESTDIR)$(RPMFILEATTRSDIR)/kmodpack.attr
	sed 's|@KMODPACK@|$(BINDIR)/kmodpack|g' templates/rpm/macros.kmodpack > $(DESTDIR)$(RPMMACROSDIR)/macros.kmodpack
	chmod 0644 $(DESTDIR)$(RPMFILEATTRSDIR)/kmodpack.attr $(DESTDIR)$(RPMMACROSDIR)/macros.kmodpack

uninstall-rpm-integration:
	rm -f $(DESTDIR)$(RPMFILEATTRSDIR)/kmodpack.attr $(DESTDIR)$(RPMMACROSDIR)/macros.kmodpack
